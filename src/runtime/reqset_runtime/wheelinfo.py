""".reqset-wheel.json: the description of the original zip archive, written by
src/wheels (TypeScript) next to an unpacked wheel or as a stored zip's last
member. test/golden/reqset-wheel.json is the contract's example."""

import json
import os

from .util import (
    DEFLATED, FLAG_UTF8, HelperError, INFO_FORMAT, INFO_NAME, LIMIT16, LIMIT32, STORED, fs_path, show,
)


class Member(object):
    """One zip member as recorded in .reqset-wheel.json."""

    __slots__ = ('name', 'method', 'date_time', 'made_by', 'needed', 'flags',
                 'attr', 'internal_attr', 'extra', 'local_extra', 'comment')

    @property
    def is_dir(self):
        return self.name.endswith('/')

    def zip_name(self):
        """The name's bytes in the archive: UTF-8 if flagged, else CP437."""
        if not self.flags & FLAG_UTF8:
            try:
                return self.name.encode('cp437')
            except UnicodeEncodeError:
                pass
        return self.name.encode('utf-8')


class WheelInfo(object):
    __slots__ = ('filename', 'sha256', 'size', 'comment', 'members')


# Every key the writer (src/wheels/source.ts) may write; any other is a
# contract change this helper does not know, so it is refused.
INFO_KEYS = frozenset(('format', 'filename', 'sha256', 'size', 'comment', 'members'))
MEMBER_KEYS = frozenset(('name', 'method', 'time', 'madeBy', 'needed', 'flags', 'attr', 'internalAttr',
                         'extra', 'localExtra', 'comment'))


class Bad(Exception):
    """A problem of one field, placed (file, member) by whoever knows where the field is: the place
    is then built only for a problem, not for each of a wheel's 20,000 members."""


def check_keys(doc, known):
    unknown = doc.keys() - known
    if unknown:
        raise Bad('unknown key "%s" (written by a newer reqset?)' % sorted(unknown)[0])


def _field(doc, key, kind):
    try:
        value = doc[key]
    except KeyError:
        raise Bad('missing "%s"' % key)
    if type(value) is not kind:  # JSON's own types: so a bool is not an int
        raise Bad('"%s" must be %s' % (key, 'an integer' if kind is int else 'a ' + kind.__name__))
    return value


def _int(doc, key, high, default=None):
    if default is not None and key not in doc:
        return default
    value = _field(doc, key, int)
    if not 0 <= value <= high:
        raise Bad('"%s" is out of range: %d' % (key, value))
    return value


def _hex(doc, key, high):
    try:
        value = bytes.fromhex(_field(doc, key, str))
    except ValueError:
        raise Bad('"%s" is not hexadecimal' % key)
    if len(value) > high:
        raise Bad('"%s" is too long' % key)
    return value


def member_name_problem(name):
    """Why `name` cannot be a member's, or None."""
    path = '/' + (name[:-1] if name.endswith('/') else name) + '/'
    if (not name or '\x00' in name or name.startswith('/')
            or '//' in path or '/./' in path or '/../' in path):  # an empty, '.' or '..' part
        return 'unsafe member name %r' % name
    if name == INFO_NAME:
        return 'member name %r is reserved' % name
    return None


# The integer fields of a member after "method": (key, attribute, largest value, default if optional).
MEMBER_INTS = (('madeBy', 'made_by', LIMIT16, None), ('needed', 'needed', LIMIT16, None),
               ('flags', 'flags', LIMIT16, None), ('attr', 'attr', LIMIT32, None),
               ('internalAttr', 'internal_attr', LIMIT16, 0))
# Its hexadecimal fields, each at most LIMIT16 bytes: (key, attribute).
MEMBER_HEX = (('extra', 'extra'), ('localExtra', 'local_extra'), ('comment', 'comment'))
FLAG_ENCRYPTED = 0x0001
DOS_LIMITS = ((1980, 2107), (0, 15), (0, 31), (0, 31), (0, 63), (0, 63))


def parse_member(doc):
    """The Member `doc` describes; Bad for the first thing wrong with it."""
    if type(doc) is not dict:
        raise Bad('must be an object')
    m = Member()
    m.name = _field(doc, 'name', str)
    check_keys(doc, MEMBER_KEYS)
    problem = member_name_problem(m.name)
    if problem:
        raise Bad(problem)
    m.method = _int(doc, 'method', LIMIT16)
    if m.method not in (STORED, DEFLATED):
        raise Bad('unsupported compression method %d' % m.method)
    m.date_time = parse_date_time(_field(doc, 'time', list))
    for key, attribute, high, default in MEMBER_INTS:
        setattr(m, attribute, _int(doc, key, high, default))
    for key, attribute in MEMBER_HEX:
        setattr(m, attribute, _hex(doc, key, LIMIT16))
    if m.flags & FLAG_ENCRYPTED:
        raise Bad('encrypted members are not supported')
    return m


def member_place(where, index, doc):
    """Where members[index] is, with its name once it has one."""
    name = doc.get('name') if type(doc) is dict else None
    return '%s: members[%d]%s' % (where, index, ' (%s)' % name if type(name) is str else '')


def parse_date_time(value):
    """Validate [year, month, day, hour, minute, second] as DOS date-time fields."""
    if len(value) != 6 or not all(type(v) is int for v in value):
        raise Bad('"time" must be [year, month, day, hour, minute, second]')
    for v, (low, high) in zip(value, DOS_LIMITS):
        if not low <= v <= high:
            raise Bad('"time" %r does not fit a DOS date-time' % (value,))
    return tuple(value)


def parse_wheel_info(doc, where):
    if not isinstance(doc, dict):
        raise HelperError('%s: must be a JSON object' % where)
    if doc.get('format') != INFO_FORMAT:
        raise HelperError('%s: unsupported format %r (this helper reads format %d)' % (where, doc.get('format'), INFO_FORMAT))
    info = WheelInfo()
    try:
        check_keys(doc, INFO_KEYS)
        info.filename = _field(doc, 'filename', str)
        check_filename(info.filename, where)
        info.sha256 = _field(doc, 'sha256', str).lower()
        if len(info.sha256) != 64 or any(c not in '0123456789abcdef' for c in info.sha256):
            raise Bad('"sha256" is not a hex SHA-256')
        info.size = _int(doc, 'size', 1 << 62)
        info.comment = _hex(doc, 'comment', LIMIT16)
        raw_members = _field(doc, 'members', list)
    except Bad as bad:
        raise HelperError('%s: %s' % (where, bad))
    info.members = parse_members(raw_members, where)
    return info


def parse_members(raw_members, where):
    members, seen = [], set()
    for index, raw in enumerate(raw_members):
        try:
            member = parse_member(raw)
        except Bad as bad:
            raise HelperError('%s: %s' % (member_place(where, index, raw), bad))
        if member.name in seen:
            raise HelperError('%s: duplicate member %r' % (where, member.name))
        seen.add(member.name)
        members.append(member)
    return members


def check_filename(filename, where):
    if (not filename.endswith('.whl') or '/' in filename or '\x00' in filename
            or filename.startswith('.')):
        raise HelperError('%s: bad wheel file name %r' % (where, filename))


def load_wheel_info(tree):
    path = os.path.join(tree, fs_path(INFO_NAME))
    where = show(path)
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except FileNotFoundError:
        raise HelperError('%s: not found (%s is not a wheel tree installed by reqset)' % (where, show(tree)))
    return parse_wheel_info_bytes(raw, where)


def parse_wheel_info_bytes(raw, where):
    try:
        doc = json.loads(raw.decode('utf-8'))
    except ValueError as e:
        raise HelperError('%s: not valid JSON: %s' % (where, e))
    return parse_wheel_info(doc, where)
