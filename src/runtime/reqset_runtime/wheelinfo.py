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


def check_keys(doc, known, where):
    unknown = sorted(set(doc) - known)
    if unknown:
        raise HelperError('%s: unknown key "%s" (written by a newer reqset?)' % (where, unknown[0]))


def _field(doc, key, kind, where):
    if key not in doc:
        raise HelperError('%s: missing "%s"' % (where, key))
    value = doc[key]
    if kind is int and isinstance(value, bool):
        value = None
    if not isinstance(value, kind):
        raise HelperError('%s: "%s" must be %s' % (where, key, 'an integer' if kind is int else 'a ' + kind.__name__))
    return value


def _int(doc, key, where, low, high, default=None):
    if default is not None and key not in doc:
        return default
    value = _field(doc, key, int, where)
    if not low <= value <= high:
        raise HelperError('%s: "%s" is out of range: %d' % (where, key, value))
    return value


def _hex(doc, key, where, default=None):
    if default is not None and key not in doc:
        return default
    value = _field(doc, key, str, where)
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise HelperError('%s: "%s" is not hexadecimal' % (where, key))


def member_name_problem(name):
    """Why `name` cannot be a member's (a format for (where, name)), or None."""
    path = '/' + (name[:-1] if name.endswith('/') else name) + '/'
    if (not name or '\x00' in name or name.startswith('/')
            or '//' in path or '/./' in path or '/../' in path):  # an empty, '.' or '..' part
        return '%s: unsafe member name %r'
    if name == INFO_NAME:
        return '%s: member name %r is reserved'
    return None


# The integer fields of a member after "method": (key, attribute, largest value, default if optional).
MEMBER_INTS = (('madeBy', 'made_by', LIMIT16, None), ('needed', 'needed', LIMIT16, None),
               ('flags', 'flags', LIMIT16, None), ('attr', 'attr', LIMIT32, None),
               ('internalAttr', 'internal_attr', LIMIT16, 0))
# Its hexadecimal fields, each at most LIMIT16 bytes: (key, attribute).
MEMBER_HEX = (('extra', 'extra'), ('localExtra', 'local_extra'), ('comment', 'comment'))
FLAG_ENCRYPTED = 0x0001
DOS_LIMITS = ((1980, 2107), (0, 15), (0, 31), (0, 31), (0, 63), (0, 63))


def parse_member(doc, where):
    if not isinstance(doc, dict):
        raise HelperError('%s: must be an object' % where)
    m = Member()
    m.name = _field(doc, 'name', str, where)
    where = '%s (%s)' % (where, m.name)
    check_keys(doc, MEMBER_KEYS, where)
    problem = member_name_problem(m.name)
    if problem:
        raise HelperError(problem % (where, m.name))
    m.method = _int(doc, 'method', where, 0, LIMIT16)
    if m.method not in (STORED, DEFLATED):
        raise HelperError('%s: unsupported compression method %d' % (where, m.method))
    m.date_time = parse_date_time(_field(doc, 'time', list, where), where)
    for key, attribute, high, default in MEMBER_INTS:
        setattr(m, attribute, _int(doc, key, where, 0, high, default))
    for key, attribute in MEMBER_HEX:
        setattr(m, attribute, _hex(doc, key, where))
    for key, attribute in MEMBER_HEX:
        if len(getattr(m, attribute)) > LIMIT16:
            raise HelperError('%s: "%s" is too long' % (where, key))
    if m.flags & FLAG_ENCRYPTED:
        raise HelperError('%s: encrypted members are not supported' % where)
    return m


def plain_member(doc):
    """parse_member's Member for a member with nothing to report, without its messages' cost (a wheel
    may have 20,000 members); None for anything parse_member might refuse, for it to say why."""
    if type(doc) is not dict or not doc.keys() <= MEMBER_KEYS:
        return None
    m = Member()
    try:
        m.name, m.method, time = doc['name'], doc['method'], doc['time']
        for key, attribute, high, default in MEMBER_INTS:
            value = doc[key] if default is None else doc.get(key, default)
            if type(value) is not int or not 0 <= value <= high:
                return None
            setattr(m, attribute, value)
        for key, attribute in MEMBER_HEX:
            value = bytes.fromhex(doc[key])  # TypeError unless a str
            if len(value) > LIMIT16:
                return None
            setattr(m, attribute, value)
    except (KeyError, TypeError, ValueError):
        return None
    if (type(m.name) is not str or member_name_problem(m.name) or type(m.method) is not int
            or m.method not in (STORED, DEFLATED) or type(time) is not list or len(time) != 6
            or m.flags & FLAG_ENCRYPTED):
        return None
    for value, (low, high) in zip(time, DOS_LIMITS):
        if type(value) is not int or not low <= value <= high:
            return None
    m.date_time = tuple(time)
    return m


def parse_date_time(value, where):
    """Validate [year, month, day, hour, minute, second] as DOS date-time fields."""
    if len(value) != 6 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise HelperError('%s: "time" must be [year, month, day, hour, minute, second]' % where)
    for v, (low, high) in zip(value, DOS_LIMITS):
        if not low <= v <= high:
            raise HelperError('%s: "time" %r does not fit a DOS date-time' % (where, value))
    return tuple(value)


def parse_wheel_info(doc, where):
    if not isinstance(doc, dict):
        raise HelperError('%s: must be a JSON object' % where)
    if doc.get('format') != INFO_FORMAT:
        raise HelperError('%s: unsupported format %r (this helper reads format %d)' % (where, doc.get('format'), INFO_FORMAT))
    check_keys(doc, INFO_KEYS, where)
    info = WheelInfo()
    info.filename = _field(doc, 'filename', str, where)
    check_filename(info.filename, where)
    info.sha256 = _field(doc, 'sha256', str, where).lower()
    if len(info.sha256) != 64 or any(c not in '0123456789abcdef' for c in info.sha256):
        raise HelperError('%s: "sha256" is not a hex SHA-256' % where)
    info.size = _int(doc, 'size', where, 0, 1 << 62)
    info.comment = _hex(doc, 'comment', where)
    if len(info.comment) > LIMIT16:
        raise HelperError('%s: "comment" is too long' % where)
    raw_members = _field(doc, 'members', list, where)
    info.members = []
    seen = set()
    for index, raw in enumerate(raw_members):
        member = plain_member(raw) or parse_member(raw, '%s: members[%d]' % (where, index))
        if member.name in seen:
            raise HelperError('%s: duplicate member %r' % (where, member.name))
        seen.add(member.name)
        info.members.append(member)
    return info


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
