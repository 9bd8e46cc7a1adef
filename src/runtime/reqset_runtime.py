#!/usr/bin/env python3
"""reqset-runtime: the helper that reqset's package scriptlets call.

Shipped by the <reqset>-runtime package. A wheel package installs its wheel
unpacked under /opt/<reqset>/wheels/<wheel-stem>/ together with
.reqset-wheel.json, which describes the original zip archive; this helper
checks such a tree against the wheel's RECORD and rebuilds the .whl from it.
With the stored-zip layout the package holds /opt/<reqset>/wheels/<wheel-stem>.zip
instead: the wheel's members in their order, uncompressed, then
.reqset-wheel.json as the last member; wherever a TREE is taken, such a zip
is taken too.

Standard library only, and written for every target Python from 3.6 (el8) to
3.13: no dataclasses, no walrus, no typing generics at runtime.

Subcommands (each prints one JSON line on success):

  rebuild-wheel TREE OUTDIR     verify TREE (a directory or a stored zip), then
                                write OUTDIR/<filename> atomically and report
                                whether it is byte-identical to the original wheel
  verify TREE                   only the verification
  remove-wheel OUTDIR FILENAME  remove OUTDIR/FILENAME and leftover temporary
                                files of it; idempotent
  install-venv --venv PATH --tree DIR|ZIP... [--script NAME]... [--check-import M]...
               [--installer native|pip] [--wheelhouse DIR] [--[no-]compile] [--copy]
                                build the venv beside PATH from verified trees,
                                check it, swap it in atomically (see its --help)
  remove-venv --venv PATH       remove the venv and leftovers; idempotent
  check-venv --venv PATH [--check-import M]...
                                check an existing venv's requirements

Exit status: 0 success, 1 failure (verification, I/O), 2 usage.
Errors are one line on stderr: "reqset-runtime: error: ...".
"""

import argparse
import base64
import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

PROG = 'reqset-runtime'
INFO_NAME = '.reqset-wheel.json'
INFO_FORMAT = 1
RECORD_HASHES = ('sha256', 'sha384', 'sha512')
# Files of a .dist-info directory that RECORD cannot hash (itself, signatures).
UNHASHED_RECORD_FILES = ('RECORD', 'RECORD.jws', 'RECORD.p7s')
# zlib's default level: what zipfile, the `wheel` tool, pip and flit use.
DEFLATE_LEVEL = zlib.Z_DEFAULT_COMPRESSION
CHUNK = 1 << 20
MAX_PROBLEMS_SHOWN = 8

STORED = 0
DEFLATED = 8
FLAG_DATA_DESCRIPTOR = 0x0008
FLAG_UTF8 = 0x0800
LIMIT32 = 0xFFFFFFFF
LIMIT16 = 0xFFFF
ZIP64_EXTRA_ID = 0x0001
# A member this close to 4 GiB may deflate past it: give it a zip64 local header.
ZIP64_MARGIN = 1 << 24

EXIT_FAILURE = 1
EXIT_USAGE = 2


class HelperError(Exception):
    """A failure reported as one line on stderr."""

    exit_code = EXIT_FAILURE


class UsageError(HelperError):
    exit_code = EXIT_USAGE


# --------------------------------------------------------------------------
# Small utilities


def show(path):
    """A path (str or bytes) for a message."""
    if isinstance(path, bytes):
        return path.decode('utf-8', 'replace')
    return path


def fs_path(text):
    """The on-disk bytes of a path given as text (wheel member names are UTF-8)."""
    return text.encode('utf-8', 'surrogateescape')


def json_path(path_bytes):
    return path_bytes.decode('utf-8', 'surrogateescape')


def write_line(stream, text):
    """Write a line that survives any locale (Python 3.6 under LANG=C is ASCII)."""
    encoding = getattr(stream, 'encoding', None) or 'ascii'
    data = (text + '\n').encode(encoding, 'backslashreplace')
    buffer = getattr(stream, 'buffer', None)
    if buffer is not None:
        stream.flush()
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode(encoding))
        stream.flush()


def print_json(obj):
    write_line(sys.stdout, json.dumps(obj))


def fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def file_digest(path, algorithm):
    """(digest bytes, size) of a file, read in chunks."""
    with open(path, 'rb') as f:
        return stream_digest(f, algorithm)


def stream_digest(f, algorithm):
    """(digest bytes, size) of what is left to read in a binary file object."""
    h = hashlib.new(algorithm)
    size = 0
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            break
        h.update(chunk)
        size += len(chunk)
    return h.digest(), size


def record_b64(digest):
    return base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')


# --------------------------------------------------------------------------
# .reqset-wheel.json


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


def check_member_name(name, where):
    if not name or '\x00' in name or name.startswith('/'):
        raise HelperError('%s: unsafe member name %r' % (where, name))
    parts = name[:-1].split('/') if name.endswith('/') else name.split('/')
    for part in parts:
        if part in ('', '.', '..'):
            raise HelperError('%s: unsafe member name %r' % (where, name))
    if name == INFO_NAME:
        raise HelperError('%s: member name %r is reserved' % (where, name))


def parse_member(doc, where):
    if not isinstance(doc, dict):
        raise HelperError('%s: must be an object' % where)
    m = Member()
    m.name = _field(doc, 'name', str, where)
    where = '%s (%s)' % (where, m.name)
    check_keys(doc, MEMBER_KEYS, where)
    check_member_name(m.name, where)
    m.method = _int(doc, 'method', where, 0, LIMIT16)
    if m.method not in (STORED, DEFLATED):
        raise HelperError('%s: unsupported compression method %d' % (where, m.method))
    m.date_time = parse_date_time(_field(doc, 'time', list, where), where)
    m.made_by = _int(doc, 'madeBy', where, 0, LIMIT16)
    m.needed = _int(doc, 'needed', where, 0, LIMIT16)
    m.flags = _int(doc, 'flags', where, 0, LIMIT16)
    m.attr = _int(doc, 'attr', where, 0, LIMIT32)
    m.internal_attr = _int(doc, 'internalAttr', where, 0, LIMIT16, default=0)
    m.extra = _hex(doc, 'extra', where)
    m.local_extra = _hex(doc, 'localExtra', where)
    m.comment = _hex(doc, 'comment', where)
    for key, value in (('extra', m.extra), ('localExtra', m.local_extra), ('comment', m.comment)):
        if len(value) > LIMIT16:
            raise HelperError('%s: "%s" is too long' % (where, key))
    if m.flags & 0x0001:
        raise HelperError('%s: encrypted members are not supported' % where)
    return m


def parse_date_time(value, where):
    """Validate [year, month, day, hour, minute, second] as DOS date-time fields."""
    limits = ((1980, 2107), (0, 15), (0, 31), (0, 31), (0, 63), (0, 63))
    if len(value) != 6 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise HelperError('%s: "time" must be [year, month, day, hour, minute, second]' % where)
    for v, (low, high) in zip(value, limits):
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
        member = parse_member(raw, '%s: members[%d]' % (where, index))
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


# --------------------------------------------------------------------------
# Where the wheel's files are read from: an unpacked tree or a stored zip


class TreeReader(object):
    """The members of an unpacked wheel tree (a directory)."""

    def __init__(self, tree):
        self.path = tree

    def full(self, name):
        return os.path.join(self.path, fs_path(name))

    def label(self, name):
        return show(self.full(name))

    def size(self, name):
        return os.lstat(self.full(name)).st_size

    def open(self, name):
        return open(self.full(name), 'rb')

    def digest(self, name, algorithm):
        return file_digest(self.full(name), algorithm)


class StoredZip(object):
    """A wheel stored in a zip by reqset (the stored-zip layout): the wheel's
    members in their order, each uncompressed, then .reqset-wheel.json."""

    def __init__(self, path):
        self.path = path
        self.file = None
        try:
            self.file = open(path, 'rb')
            self.zf = zipfile.ZipFile(self.file)
        except zipfile.BadZipFile as e:
            self.close()
            raise HelperError('%s: not a zip archive: %s' % (show(path), e))
        except BaseException:
            self.close()
            raise
        entries = self.zf.infolist()
        if not entries or entries[-1].filename != INFO_NAME:
            self.close()
            raise HelperError('%s: its last member is not %s (not a stored wheel zip made by reqset)' % (
                show(path), INFO_NAME))
        self.entries = entries[:-1]
        self.infos = dict((e.filename, e) for e in self.entries)
        where = '%s:%s' % (show(path), INFO_NAME)
        try:
            raw = self.zf.read(entries[-1])
        except zipfile.BadZipFile as e:
            self.close()
            raise HelperError('%s: damaged: %s' % (where, e))
        self.info = parse_wheel_info_bytes(raw, where)
        self.info_bytes = raw

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def label(self, name):
        return '%s:%s' % (show(self.path), name)

    def size(self, name):
        return self.infos[name].file_size

    def open(self, name):
        return self.zf.open(self.infos[name])

    def digest(self, name, algorithm):
        try:
            with self.open(name) as f:
                return stream_digest(f, algorithm)
        except zipfile.BadZipFile as e:
            raise HelperError('%s: damaged in the archive: %s' % (self.label(name), e))


def is_stored_zip(path):
    """A --tree/TREE argument names a stored zip when it is a regular file (a tree is a directory)."""
    return os.path.isfile(path)


# --------------------------------------------------------------------------
# Verification: the tree against the member list and RECORD


class Problems(object):
    """Collects every mismatch so that one message names them all."""

    def __init__(self, tree):
        self.tree = tree
        self.items = []

    def add(self, path, what):
        self.items.append('%s: %s' % (show(path), what))

    def raise_if_any(self):
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS_SHOWN]
        more = len(self.items) - len(shown)
        text = '; '.join(shown) + ('; and %d more' % more if more else '')
        raise HelperError('%s does not match its wheel (%d problem%s): %s' % (
            show(self.tree), len(self.items), '' if len(self.items) == 1 else 's', text))


def scan_tree(tree, problems):
    """Relative paths (bytes, '/'-separated) of the regular files and directories under tree."""
    files, dirs = set(), set()
    pending = [b'']
    while pending:
        rel = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(tree, rel) if rel else tree))
        except FileNotFoundError:
            raise HelperError('%s: no such directory' % show(tree))
        for entry in entries:
            path = rel + entry.name
            if entry.is_symlink():
                problems.add(path, 'is a symbolic link (not from the wheel)')
            elif entry.is_dir():
                dirs.add(path)
                pending.append(path + b'/')
            elif entry.is_file():
                files.add(path)
            else:
                problems.add(path, 'is not a regular file (not from the wheel)')
    files.discard(fs_path(INFO_NAME))
    return files, dirs


def check_members_present(info, files, dirs, problems):
    """Every member file exists, and nothing else does."""
    expected = set()
    for m in info.members:
        if m.is_dir:
            path = fs_path(m.name[:-1])
            if path in files:
                problems.add(path, 'is a file, the wheel has a directory')
            continue
        path = fs_path(m.name)
        expected.add(path)
        if path not in files:
            problems.add(path, 'missing' + (' (a directory is in its place)' if path in dirs else ''))
    for path in sorted(files - expected):
        problems.add(path, 'not part of the wheel')
    return expected


def find_record(info):
    """The member name of the wheel's *.dist-info/RECORD."""
    names = set(m.name for m in info.members)
    candidates = sorted(n for n in names
                        if n.count('/') == 1 and n.endswith('/RECORD') and n.split('/')[0].endswith('.dist-info'))
    if len(candidates) > 1:
        # Several: take the one named after the wheel (name-version.dist-info).
        prefix = '-'.join(info.filename.split('-')[:2]).lower()
        candidates = [c for c in candidates if c.split('/')[0][:-len('.dist-info')].lower() == prefix]
    if len(candidates) != 1:
        raise HelperError('%s: cannot find the wheel\'s *.dist-info/RECORD among its members' % info.filename)
    return candidates[0]


def read_record(tree, record_name):
    """RECORD rows as (path, hash, size) strings."""
    return read_record_from(TreeReader(tree), record_name)


def read_record_from(reader, record_name):
    where = reader.label(record_name)
    try:
        with reader.open(record_name) as f:
            text = f.read().decode('utf-8')
    except (FileNotFoundError, KeyError):
        raise HelperError('%s: missing' % where)
    except UnicodeDecodeError:
        raise HelperError('%s: not UTF-8' % where)
    except zipfile.BadZipFile as e:
        raise HelperError('%s: damaged in the archive: %s' % (where, e))
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline='')):
            if not row:
                continue
            if len(row) < 3:
                row = row + [''] * (3 - len(row))
            rows.append((row[0], row[1], row[2]))
    except csv.Error as e:
        raise HelperError('%s: not a valid RECORD: %s' % (where, e))
    return rows


def check_record_row(reader, row, problems, digests=None):
    """Check one RECORD row; with `digests`, keep {name: (urlsafe-b64 sha256, size)} of good files."""
    name, hash_value, size_text = row
    path = fs_path(name)
    algorithm, _, expected = hash_value.partition('=')
    if algorithm not in RECORD_HASHES or not expected:
        problems.add(path, 'RECORD has no usable hash for it (%r)' % hash_value)
        return
    if size_text:
        try:
            expected_size = int(size_text)
        except ValueError:
            problems.add(path, 'RECORD has a bad size %r' % size_text)
            return
        actual_size = reader.size(name)
        if actual_size != expected_size:
            problems.add(path, 'size %d, RECORD says %d' % (actual_size, expected_size))
            return
    digest, size = reader.digest(name, algorithm)
    if record_b64(digest) != expected.rstrip('='):
        problems.add(path, '%s does not match RECORD' % algorithm)
    elif digests is not None and algorithm == 'sha256':
        digests[name] = (record_b64(digest), size)


def verify_tree(tree, info, digests=None):
    """Raise HelperError naming every file that differs from the wheel; return the count checked.

    With `digests` (a dict), also collect the sha256 of every file RECORD
    hashes with sha256, so that an installer need not read them again.
    """
    problems = Problems(tree)
    files, dirs = scan_tree(tree, problems)
    expected = check_members_present(info, files, dirs, problems)
    return check_record(TreeReader(tree), info, files, expected, problems, digests)


def check_stored_members(stored):
    """The structure of a stored zip, without reading its data: exactly the wheel's members, in its
    order, uncompressed. Returns (problems so far, member files, expected files) for check_record."""
    info = stored.info
    problems = Problems(stored.path)
    names = [e.filename for e in stored.entries]
    wanted = [m.name for m in info.members]
    present, expected_all = set(names), set(wanted)
    counts = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    for name in sorted(n for n, c in counts.items() if c > 1):
        problems.add(fs_path(name), 'is in the archive more than once')
    for name in wanted:
        if name not in present:
            problems.add(fs_path(name), 'missing')
    for name in names:
        if name not in expected_all:
            problems.add(fs_path(name), 'not part of the wheel')
    if not problems.items and names != wanted:
        problems.add(stored.path, 'the members are not in the wheel\'s order')
    for e in stored.entries:
        if e.compress_type != zipfile.ZIP_STORED and not e.filename.endswith('/'):
            problems.add(fs_path(e.filename), 'is compressed (a stored wheel zip holds every member uncompressed)')
    files = set(fs_path(n) for n in names if not n.endswith('/'))
    expected = set(fs_path(m.name) for m in info.members if not m.is_dir)
    return problems, files, expected


def verify_stored_zip(stored, digests=None):
    """verify_tree for a stored zip: the members are the wheel's, in its order, and match RECORD."""
    problems, files, expected = check_stored_members(stored)
    problems.raise_if_any()
    return check_record(stored, stored.info, files, expected, problems, digests)


class HashingReader(object):
    """Reads members through `reader` and keeps the sha256 and size of each one read to its end,
    so that RECORD is checked on the very bytes that were written elsewhere, in one pass."""

    def __init__(self, reader):
        self.reader = reader
        self.seen = {}

    def label(self, name):
        return self.reader.label(name)

    def size(self, name):
        return self.reader.size(name)

    def open(self, name):
        return HashingFile(self.reader.open(name), name, self.seen)

    def digest(self, name, algorithm):
        if algorithm == 'sha256' and name in self.seen:
            return self.seen[name]
        return self.reader.digest(name, algorithm)


class HashingFile(object):
    def __init__(self, f, name, seen):
        self.f, self.name, self.seen = f, name, seen
        self.hash = hashlib.sha256()
        self.length = 0

    def read(self, n=-1):
        data = self.f.read(n)
        if data:
            self.hash.update(data)
            self.length += len(data)
        else:
            self.seen[self.name] = (self.hash.digest(), self.length)
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def check_record(reader, info, files, expected, problems, digests):
    """Every member file against RECORD; raise HelperError with every problem; return the count checked."""
    record_name = find_record(info)
    if fs_path(record_name) not in files:
        problems.raise_if_any()
    rows = read_record_from(reader, record_name)
    dist_info = record_name.split('/')[0]
    unhashed = set(dist_info + '/' + n for n in UNHASHED_RECORD_FILES)
    listed = set()
    checked = 0
    for row in rows:
        name = row[0]
        if name in listed:
            continue
        listed.add(name)
        if name in unhashed and not row[1]:
            continue
        path = fs_path(name)
        if path not in expected:
            if path not in files and not name.endswith('/'):
                problems.add(path, 'listed in RECORD but not in the wheel')
            continue
        if path not in files:
            continue  # already reported as missing
        check_record_row(reader, row, problems, digests)
        checked += 1
    for m in info.members:
        if not m.is_dir and m.name not in listed and m.name not in unhashed:
            problems.add(fs_path(m.name), 'not listed in RECORD')
    problems.raise_if_any()
    return checked


# --------------------------------------------------------------------------
# Writing the zip archive


def dos_date_time(date_time):
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def split_extra(data):
    """Extra field blocks as [id, payload] lists, or None if data is not well-formed."""
    blocks = []
    pos = 0
    while pos < len(data):
        if pos + 4 > len(data):
            return None
        block_id, length = struct.unpack_from('<HH', data, pos)
        if pos + 4 + length > len(data):
            return None
        blocks.append([block_id, data[pos + 4:pos + 4 + length]])
        pos += 4 + length
    return blocks


def join_extra(blocks):
    return b''.join(struct.pack('<HH', i, len(p)) + p for i, p in blocks)


def choose_zip64_fields(needed, length):
    """Which of (size, compressed size, offset, disk) a zip64 block of `length` bytes holds."""
    sizes = (8, 8, 8, 4)
    chosen = list(needed)
    total = sum(s for s, c in zip(sizes, chosen) if c)
    for i, s in enumerate(sizes):
        if not chosen[i] and total + s <= length:
            chosen[i] = True
            total += s
    return chosen


def apply_zip64(extra, values, needed, where):
    """Fill (or add) the zip64 extra block for values (size, csize, offset, disk).

    Returns the new extra and, per value, whether the header field must read
    0xFFFFFFFF because the value lives in the zip64 block.
    """
    blocks = split_extra(extra)
    index = None
    if blocks is not None:
        for i, block in enumerate(blocks):
            if block[0] == ZIP64_EXTRA_ID:
                index = i
                break
    if index is None:
        if not any(needed):
            return extra, [False] * 4
        if blocks is None:
            raise HelperError('%s: needs zip64 but its extra field is malformed' % where)
        blocks.append([ZIP64_EXTRA_ID, b''])
        index = len(blocks) - 1
    old = blocks[index][1]
    chosen = choose_zip64_fields(needed, len(old) if old else 0)
    payload = b''
    for value, use, fmt in zip(values, chosen, ('<Q', '<Q', '<Q', '<I')):
        if use:
            payload += struct.pack(fmt, value)
    blocks[index][1] = payload + old[len(payload):]
    return join_extra(blocks), chosen


class ZipWriter(object):
    """Writes members exactly as described, in order, to a seekable file."""

    def __init__(self, fileobj):
        self.f = fileobj
        self.central = []

    def _local_header(self, m, name, crc, csize, usize, zip64_local):
        extra = m.local_extra
        if zip64_local:
            extra, chosen = apply_zip64(extra, (usize, csize, 0, 0), (True, True, False, False), m.name)
            usize = LIMIT32 if chosen[0] else usize
            csize = LIMIT32 if chosen[1] else csize
        dostime, dosdate = dos_date_time(m.date_time)
        return struct.pack('<IHHHHHIIIHH', 0x04034b50, m.needed, m.flags, m.method, dostime, dosdate,
                           crc, csize, usize, len(name), len(extra)) + name + extra

    def add(self, m, reader):
        """Write member `m`; its bytes come from `reader` (TreeReader, StoredZip, HashingReader; None for a directory)."""
        offset = self.f.tell()
        name = m.zip_name()
        usize = 0 if m.is_dir else reader.size(m.name)
        blocks = split_extra(m.local_extra) or []
        zip64_local = any(b[0] == ZIP64_EXTRA_ID for b in blocks) or usize >= LIMIT32 - ZIP64_MARGIN
        descriptor = bool(m.flags & FLAG_DATA_DESCRIPTOR)
        self.f.write(self._local_header(m, name, 0, 0, 0, zip64_local))
        crc, csize, read = self._write_data(m, reader)
        if read != usize:
            raise HelperError('%s: changed while being read' % reader.label(m.name))
        if csize >= LIMIT32 and not zip64_local:
            raise HelperError('%s: too large for a non-zip64 entry' % m.name)
        if descriptor:
            fmt = '<IIQQ' if zip64_local else '<IIII'
            self.f.write(struct.pack(fmt, 0x08074b50, crc, csize, usize))
        else:
            end = self.f.tell()
            self.f.seek(offset)
            self.f.write(self._local_header(m, name, crc, csize, usize, zip64_local))
            self.f.seek(end)
        self.central.append((m, name, crc, csize, usize, offset))

    def _write_data(self, m, reader):
        if m.is_dir:
            if m.method == DEFLATED:
                data = self._compressor().flush()
                self.f.write(data)
                return 0, len(data), 0
            return 0, 0, 0
        compressor = self._compressor() if m.method == DEFLATED else None
        crc = 0
        csize = 0
        read = 0
        with reader.open(m.name) as f:
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    break
                read += len(chunk)
                crc = zlib.crc32(chunk, crc)
                if compressor is not None:
                    chunk = compressor.compress(chunk)
                self.f.write(chunk)
                csize += len(chunk)
        if compressor is not None:
            tail = compressor.flush()
            self.f.write(tail)
            csize += len(tail)
        return crc & LIMIT32, csize, read

    @staticmethod
    def _compressor():
        return zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)

    def _central_header(self, m, name, crc, csize, usize, offset):
        needed = (usize >= LIMIT32, csize >= LIMIT32, offset >= LIMIT32, False)
        extra, chosen = apply_zip64(m.extra, (usize, csize, offset, 0), needed, m.name)
        dostime, dosdate = dos_date_time(m.date_time)
        return struct.pack(
            '<IHHHHHHIIIHHHHHII', 0x02014b50, m.made_by, m.needed, m.flags, m.method, dostime, dosdate, crc,
            LIMIT32 if chosen[1] else csize, LIMIT32 if chosen[0] else usize,
            len(name), len(extra), len(m.comment), LIMIT16 if chosen[3] else 0, m.internal_attr, m.attr,
            LIMIT32 if chosen[2] else offset) + name + extra + m.comment

    def finish(self, comment):
        start = self.f.tell()
        for entry in self.central:
            self.f.write(self._central_header(*entry))
        end = self.f.tell()
        count, size = len(self.central), end - start
        if count >= LIMIT16 or size >= LIMIT32 or start >= LIMIT32:
            self.f.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, count, count, size, start))
            self.f.write(struct.pack('<IIQI', 0x07064b50, 0, end, 1))
        self.f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, min(count, LIMIT16), min(count, LIMIT16),
                                 min(size, LIMIT32), min(start, LIMIT32), len(comment)) + comment)


def write_wheel(f, tree, info):
    write_wheel_from(f, TreeReader(tree), info)


def write_wheel_from(f, reader, info):
    """The .whl described by `info`, each member deflated (or stored) as in the original."""
    writer = ZipWriter(f)
    for m in info.members:
        writer.add(m, None if m.is_dir else reader)
    writer.finish(info.comment)


def extract_stored_zip(stored, reader, dest, mtime):
    """Unpack a stored zip, its members read through `reader`, into the new directory `dest` as
    reqset's build does (files 0644, or 0755 when the wheel marks them executable; directories
    0755; every time `mtime`), with its .reqset-wheel.json: `dest` is then a wheel tree."""
    os.mkdir(dest, 0o755)
    made = set([dest])
    for m in stored.info.members:
        target = join(dest, fs_path(m.name.rstrip('/')))
        directory = target if m.is_dir else os.path.dirname(target)
        if directory not in made:
            os.makedirs(directory, 0o755, exist_ok=True)
            made.add(directory)
        if m.is_dir:
            continue
        unix = (m.made_by >> 8) in (3, 19) and (m.attr >> 16) & 0o111
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        with os.fdopen(fd, 'wb') as out:
            with reader.open(m.name) as f:
                shutil.copyfileobj(f, out, CHUNK)
            os.fchmod(out.fileno(), 0o755 if unix else 0o644)
        os.utime(target, (mtime, mtime))
    write_new_file(join(dest, fs_path(INFO_NAME)), stored.info_bytes, 0o644)
    os.utime(join(dest, fs_path(INFO_NAME)), (mtime, mtime))
    for directory in sorted(made, reverse=True):
        os.utime(directory, (mtime, mtime))


def write_atomically(directory, name, fill):
    """Write directory/name via a temporary file in directory: fill(f), fsync, os.replace.

    Returns the sha256 hex digest and the size of what was written.
    """
    fd, tmp = tempfile.mkstemp(prefix=b'.' + name + b'.', suffix=b'.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'w+b') as f:
            os.fchmod(f.fileno(), 0o644)
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        digest, size = file_digest(tmp, 'sha256')
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(directory)
    return digest.hex(), size


def temp_files_of(directory, name):
    prefix, suffix = b'.' + name + b'.', b'.tmp'
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        return []
    return [e for e in entries if e.startswith(prefix) and e.endswith(suffix)]


INSTALL_VENV_HELP = """\
Create (or replace) the virtualenv PATH with the distributions of the given
unpacked wheel trees, for an application's endpoint package.

  1. Every tree is verified against its RECORD first: a damaged tree fails
     before anything changes. A --tree that is a stored wheel zip (the
     stored-zip layout) is verified the same way, then unpacked into a
     PATH.new-XXXX directory (removed at the end) and installed from there.
  2. A new venv is built beside PATH, in PATH.new-XXXX, with this interpreter
     (venv.EnvBuilder, symlinks, no pip unless --installer pip). Everything
     written in it (activate scripts, pyvenv.cfg, script headers, RECORD,
     .pyc file names) names PATH, never the staging directory.
  3. native installer: the wheel's files are hard-linked from the trees
     (copied across file systems), .data/ goes to its scheme directory,
     "#!python" scripts and console/gui entry points get launchers for
     PATH/bin/python, RECORD is rewritten, INSTALLER is "reqset".
     pip installer: pip install --no-index --no-deps --no-compile
     --find-links WHEELHOUSE name==version..., then the staging path is
     replaced by PATH in bin/* (and RECORD updated).
  4. --compile (default) byte-compiles in parallel with PATH as the file
     name recorded in each .pyc; a .pyc of the previous venv whose source is
     the same file (an unchanged tree) is reused.
  5. Checks: every Requires-Dist of every installed distribution is satisfied
     (markers evaluated for this Python), every --script exists, every
     --check-import module imports. Any failure removes the new venv and
     leaves the previous one untouched.
  6. The new venv replaces PATH with renameat2(RENAME_EXCHANGE) (two renames
     where the kernel or libc cannot), then the previous one is deleted.
     Leftovers PATH.new-*/PATH.old-* of an interrupted run are removed first.

Prints one JSON line on success; on failure one "reqset-runtime: error:" line
and exit status 1 (2 for usage errors)."""


# --------------------------------------------------------------------------
# PEP 440 versions and specifiers (just what a consistency check needs)


class Unsupported(ValueError):
    """A version, specifier or marker this small implementation does not evaluate."""


VERSION_RE = re.compile(r'''
    ^\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?:[-_.]?(?P<pre_l>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?:-(?P<post_implicit>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n>[0-9]+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$''', re.VERBOSE | re.IGNORECASE)

PRE_RANK = {'a': 0, 'alpha': 0, 'b': 1, 'beta': 1, 'c': 2, 'rc': 2, 'pre': 2, 'preview': 2}


class Version(object):
    __slots__ = ('text', 'epoch', 'release', 'pre', 'post', 'dev', 'local')

    def __init__(self, text):
        m = VERSION_RE.match(text)
        if not m:
            raise Unsupported('%r is not a PEP 440 version' % text)
        self.text = text
        self.epoch = int(m.group('epoch') or 0)
        release = [int(p) for p in m.group('release').split('.')]
        self.release = tuple(release)
        self.pre = None
        if m.group('pre_l'):
            self.pre = (PRE_RANK[m.group('pre_l').lower()], int(m.group('pre_n') or 0))
        self.post = None
        if m.group('post_implicit') is not None:
            self.post = int(m.group('post_implicit'))
        elif m.group('post_l'):
            self.post = int(m.group('post_n') or 0)
        self.dev = int(m.group('dev_n') or 0) if m.group('dev_l') else None
        local = m.group('local')
        self.local = tuple(re.split(r'[-_.]', local.lower())) if local else None

    @property
    def is_prerelease(self):
        return self.pre is not None or self.dev is not None

    def base(self):
        return (self.epoch, strip_zeros(self.release))

    def key(self, with_local=True):
        if self.pre is None and self.post is None and self.dev is not None:
            pre = (-1, 0)      # 1.0.dev1 sorts before 1.0a1
        elif self.pre is None:
            pre = (3, 0)       # a final release sorts after its pre-releases
        else:
            pre = self.pre
        post = (-1, 0) if self.post is None else (0, self.post)
        dev = (1, 0) if self.dev is None else (0, self.dev)
        if self.local is None or not with_local:
            local = ((-1, ''),)
        else:
            # numeric segments sort after alphanumeric ones
            local = tuple((1, int(p), '') if p.isdigit() else (0, 0, p) for p in self.local)
        return (self.epoch, strip_zeros(self.release), pre, post, dev, local)


def strip_zeros(release):
    release = list(release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return tuple(release)


def padded(release, length):
    return tuple(release[:length]) + (0,) * (length - len(release))


SPEC_CLAUSE_RE = re.compile(r'^\s*(~=|===|==|!=|<=|>=|<|>)\s*([^\s,;]+)\s*$')


def parse_specifier(text):
    """[(op, version text)] of a comma-separated specifier; Unsupported if malformed."""
    clauses = []
    if not text.strip():
        return clauses
    for part in text.split(','):
        m = SPEC_CLAUSE_RE.match(part)
        if not m:
            raise Unsupported('cannot read the specifier %r' % text.strip())
        clauses.append((m.group(1), m.group(2)))
    return clauses


def clause_matches(op, spec_text, candidate):
    """Does Version `candidate` satisfy `op spec_text`? Pre-releases are accepted, as pip check does."""
    if op == '===':
        return candidate.text.strip().lower() == spec_text.strip().lower()
    if op in ('==', '!=') and spec_text.endswith('.*'):
        prefix = Version(spec_text[:-2])
        if prefix.pre is not None or prefix.post is not None or prefix.dev is not None or prefix.local:
            raise Unsupported('prefix match %s%s' % (op, spec_text))
        n = len(prefix.release)
        same = candidate.epoch == prefix.epoch and padded(candidate.release, n) == prefix.release
        return same if op == '==' else not same
    spec = Version(spec_text)
    if op in ('==', '!='):
        same = candidate.key(with_local=spec.local is not None) == spec.key()
        return same if op == '==' else not same
    c, s = candidate.key(with_local=False), spec.key()
    if op == '>=':
        return c >= s
    if op == '<=':
        return c <= s
    if op == '>':
        if not c > s:
            return False
        # >1.0 admits neither 1.0.post1 (unless the specifier is itself a
        # post-release) nor a local version of the same release, like 1.0+x
        if spec.post is None and candidate.post is not None and candidate.base() == spec.base():
            return False
        return not (candidate.local is not None and candidate.base() == spec.base())
    if op == '<':
        if not c < s:
            return False
        # <2.0 does not admit 2.0rc1 unless the specifier is itself a pre-release
        return not (not spec.is_prerelease and candidate.is_prerelease and candidate.base() == spec.base())
    if op == '~=':
        if len(spec.release) < 2:
            raise Unsupported('~=%s needs at least two release segments' % spec_text)
        n = len(spec.release) - 1
        return c >= s and candidate.epoch == spec.epoch and padded(candidate.release, n) == spec.release[:n]
    raise Unsupported('operator %s' % op)


def specifier_matches(clauses, version_text):
    candidate = Version(version_text)
    return all(clause_matches(op, v, candidate) for op, v in clauses)


# --------------------------------------------------------------------------
# PEP 508 requirements and environment markers


def normalize_name(name):
    return re.sub(r'[-_.]+', '-', name).lower()


REQUIREMENT_RE = re.compile(r'^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*'
                            r'(?:\[(?P<extras>[^\]]*)\])?\s*(?P<rest>.*)$', re.DOTALL)


class Requirement(object):
    __slots__ = ('text', 'name', 'extras', 'specifier', 'url', 'marker')

    def __init__(self, text):
        self.text = text
        m = REQUIREMENT_RE.match(text)
        if not m:
            raise Unsupported('cannot read the requirement %r' % text)
        self.name = m.group('name')
        extras = m.group('extras') or ''
        self.extras = [e.strip() for e in extras.split(',') if e.strip()]
        rest = m.group('rest').strip()
        self.url = None
        self.marker = None
        self.specifier = ''
        if rest.startswith('@'):
            found = re.search(r'\s;', rest)
            self.url = (rest[1:found.start()] if found else rest[1:]).strip()
            if found:
                self.marker = rest[found.end():].strip()
        else:
            spec, sep, marker = rest.partition(';')
            spec = spec.strip()
            if spec.startswith('(') and spec.endswith(')'):
                spec = spec[1:-1].strip()
            self.specifier = spec
            if sep:
                self.marker = marker.strip()

    def short(self):
        """The requirement without its marker, for messages."""
        text = self.name
        if self.extras:
            text += '[%s]' % ','.join(self.extras)
        if self.url:
            return text + ' @ ' + self.url
        return text + self.specifier.replace(' ', '')


MARKER_TOKEN_RE = re.compile(r'''\s*(?:
      (?P<lparen>\()|(?P<rparen>\))
    | (?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b)
    | (?P<bool>and\b|or\b)
    | '(?P<sq>[^']*)'|"(?P<dq>[^"]*)"
    | (?P<var>[A-Za-z_][A-Za-z0-9_.]*)
    )''', re.VERBOSE)

MARKER_ALIASES = {
    'os.name': 'os_name', 'sys.platform': 'sys_platform', 'platform.version': 'platform_version',
    'platform.machine': 'platform_machine', 'platform.python_implementation': 'platform_python_implementation',
    'python_implementation': 'platform_python_implementation',
}


def marker_environment():
    """The PEP 508 marker variables of the running interpreter (the target's Python)."""
    import platform
    iv = sys.implementation.version
    impl_version = '%d.%d.%d' % (iv.major, iv.minor, iv.micro)
    if iv.releaselevel != 'final':
        impl_version += iv.releaselevel[0] + str(iv.serial)
    return {
        'implementation_name': sys.implementation.name,
        'implementation_version': impl_version,
        'os_name': os.name,
        'platform_machine': platform.machine(),
        'platform_python_implementation': platform.python_implementation(),
        'platform_release': platform.release(),
        'platform_system': platform.system(),
        'platform_version': platform.version(),
        'python_full_version': platform.python_version(),
        'python_version': '%d.%d' % sys.version_info[:2],
        'sys_platform': sys.platform,
    }


def tokenize_marker(text):
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = MARKER_TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise Unsupported('cannot read the marker %r' % text)
        pos = m.end()
        kind = m.lastgroup
        if kind in ('sq', 'dq'):
            tokens.append(('str', m.group(kind)))
        elif kind == 'op':
            tokens.append(('op', ' '.join(m.group('op').split())))
        elif kind == 'bool':
            tokens.append(('bool', m.group('bool')))
        elif kind == 'var':
            tokens.append(('var', m.group('var')))
        else:
            tokens.append((kind, None))
    return tokens


def evaluate_marker(text, env):
    """True or False; Unsupported for what cannot be evaluated."""
    tokens = tokenize_marker(text)
    pos = [0]

    def peek():
        return tokens[pos[0]] if pos[0] < len(tokens) else (None, None)

    def take():
        token = peek()
        pos[0] += 1
        return token

    def value():
        kind, v = take()
        if kind == 'str':
            return v, False
        if kind == 'var':
            name = MARKER_ALIASES.get(v, v)
            if name == 'extra':
                return env.get('extra', ''), True
            if name not in env:
                raise Unsupported('unknown marker variable %r' % v)
            return env[name], False
        raise Unsupported('cannot read the marker %r' % text)

    def atom():
        if peek()[0] == 'lparen':
            take()
            result = disjunction()
            if take()[0] != 'rparen':
                raise Unsupported('unbalanced parentheses in the marker %r' % text)
            return result
        lhs, lhs_extra = value()
        kind, op = take()
        if kind != 'op':
            raise Unsupported('cannot read the marker %r' % text)
        rhs, rhs_extra = value()
        if lhs_extra or rhs_extra:
            lhs, rhs = normalize_name(lhs), normalize_name(rhs)
        return compare_marker(lhs, op, rhs)

    def conjunction():
        result = atom()
        while peek() == ('bool', 'and'):
            take()
            right = atom()
            result = result and right
        return result

    def disjunction():
        result = conjunction()
        while peek() == ('bool', 'or'):
            take()
            right = conjunction()
            result = result or right
        return result

    result = disjunction()
    if pos[0] != len(tokens):
        raise Unsupported('cannot read the marker %r' % text)
    return result


def compare_marker(lhs, op, rhs):
    if op == 'in':
        return lhs in rhs
    if op == 'not in':
        return lhs not in rhs
    try:
        return clause_matches(op, rhs, Version(lhs))
    except Unsupported:
        pass
    if op == '==' or op == '===':
        return lhs == rhs
    if op == '!=':
        return lhs != rhs
    raise Unsupported('cannot compare %r %s %r' % (lhs, op, rhs))


# --------------------------------------------------------------------------
# Installed distributions and their consistency (a `pip check` of our own)


class InstalledDist(object):
    __slots__ = ('name', 'key', 'version', 'requires', 'requires_python', 'extras', 'path')


def read_metadata(path):
    """The headers of a METADATA file as an email.message.Message."""
    import email.parser
    import email.policy
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)


def header_text(value):
    return ' '.join(str(value).split()) if value is not None else None


def installed_dists(site_dirs):
    """{normalized name: InstalledDist} for every *.dist-info under the given directories."""
    dists = {}
    seen_dirs = set()
    for site in site_dirs:
        real = os.path.realpath(site)
        if real in seen_dirs or not os.path.isdir(site):
            continue
        seen_dirs.add(real)
        for entry in sorted(os.listdir(site)):
            if not entry.endswith(b'.dist-info'):
                continue
            meta_path = os.path.join(site, entry, b'METADATA')
            if not os.path.isfile(meta_path):
                continue
            msg = read_metadata(meta_path)
            d = InstalledDist()
            d.name = header_text(msg.get('Name')) or entry[:-len(b'.dist-info')].decode('utf-8', 'replace')
            d.key = normalize_name(d.name)
            d.version = header_text(msg.get('Version')) or ''
            d.requires = [header_text(r) for r in (msg.get_all('Requires-Dist') or [])]
            d.requires_python = header_text(msg.get('Requires-Python'))
            d.extras = set(normalize_name(header_text(e)) for e in (msg.get_all('Provides-Extra') or []))
            d.path = os.path.join(site, entry)
            if d.key in dists:
                raise HelperError('%s and %s are both installed in %s' % (
                    show(dists[d.key].path), show(d.path), show(site)))
            dists[d.key] = d
    return dists


def check_consistency(dists):
    """(problems, notes, number of requirements checked): every Requires-Dist satisfied.

    Markers are evaluated for this interpreter with extra == '' and, for a
    distribution required with extras, with each of those extras.
    """
    env = marker_environment()
    problems, notes = [], []
    checked = 0
    python_version = '%d.%d.%d' % sys.version_info[:3]
    pending = [(key, ()) for key in sorted(dists)]
    done = set()
    seen = set()
    while pending:
        key, extras = pending.pop(0)
        if (key, extras) in done:
            continue
        done.add((key, extras))
        d = dists[key]
        label = '%s %s' % (d.name, d.version)
        if not extras and d.requires_python:
            try:
                if not specifier_matches(parse_specifier(d.requires_python), python_version):
                    problems.append('%s requires Python %s, this is %s' % (label, d.requires_python, python_version))
            except Unsupported as e:
                notes.append('%s: Requires-Python not checked (%s)' % (label, e))
        for extra in extras:
            if extra not in d.extras:
                notes.append('%s has no extra %r' % (label, extra))
        for text in d.requires:
            try:
                req = Requirement(text)
                if (key, text) in seen:
                    continue
                if req.marker:
                    applies = False
                    for extra in extras or ('',):
                        env['extra'] = extra
                        if evaluate_marker(req.marker, env):
                            applies = True
                            break
                    if not applies:
                        continue
                elif extras:
                    continue  # unconditional requirements were checked without extras
            except Unsupported as e:
                notes.append('%s: requirement %r not checked (%s)' % (label, text, e))
                continue
            seen.add((key, text))
            checked += 1
            target = dists.get(normalize_name(req.name))
            if target is None:
                problems.append('%s requires %s, which is not installed' % (label, req.short()))
                continue
            if req.specifier:
                try:
                    ok = specifier_matches(parse_specifier(req.specifier), target.version)
                except Unsupported as e:
                    notes.append('%s: version of %s not checked (%s)' % (label, req.short(), e))
                    ok = True
                if not ok:
                    problems.append('%s requires %s, but %s %s is installed' % (
                        label, req.short(), target.name, target.version))
            if req.extras:
                pending.append((target.key, tuple(sorted(set(normalize_name(e) for e in req.extras)))))
    return problems, notes, checked


# --------------------------------------------------------------------------
# Virtualenvs: the layout, installing unpacked wheel trees, byte-compiling


# Why a hard link may be refused: another file system, protected_hardlinks,
# too many links, or a file system without links.
LINK_FALLBACK_ERRNOS = frozenset(e for e in (
    errno.EXDEV, errno.EPERM, errno.EACCES, errno.EMLINK, errno.ENOSYS,
    getattr(errno, 'ENOTSUP', None), getattr(errno, 'EOPNOTSUPP', None)) if e is not None)
# Files of a wheel's .dist-info that an installer does not copy: it writes its own.
INSTALLER_OWNED = ('RECORD', 'RECORD.jws', 'RECORD.p7s', 'INSTALLER')
INSTALLER_NAME = b'reqset\n'
# Longest "#!interpreter" line that every Linux kernel reads whole (4.x reads 127 bytes).
MAX_SHEBANG = 127
SCRIPT_SHEBANG_RE = re.compile(br'#!python[0-9.]*w?(?P<args>[ \t][^\r\n]*)?(?:\r?\n|$)')
IDENTIFIER_PATH = r'[^\W\d]\w*(?:\.[^\W\d]\w*)*'
ENTRY_POINT_RE = re.compile(r'^(?P<module>%s)[ \t]*:[ \t]*(?P<attr>%s)[ \t]*(?:\[[^\]\r\n]*\])?$'
                            % (IDENTIFIER_PATH, IDENTIFIER_PATH))
MODULE_RE = re.compile(r'^%s$' % IDENTIFIER_PATH)
SCRIPT_GROUPS = ('console_scripts', 'gui_scripts')
IMPORT_MARKER = '@@reqset-check-import@@'
CHILD_TIMEOUT = 1800
MAX_COMPILE_WORKERS = 8


def join(*parts):
    return os.path.join(*parts)


def write_new_file(path, data, mode):
    """Create `path` (it must not exist) with `data` and `mode`."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)
        os.fchmod(f.fileno(), mode)


def replace_file(path, data, mode):
    """Write `path` through a temporary file and a rename: a file that may be a hard link is never written in place."""
    tmp = path + b'.reqset-tmp'
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    write_new_file(tmp, data, mode)
    os.replace(tmp, path)


def copy_file(src, dest, mode):
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, 'wb') as out:
        with open(src, 'rb') as f:
            shutil.copyfileobj(f, out, CHUNK)
        os.fchmod(out.fileno(), mode)


def remove_tree(path):
    """Remove a directory tree (or a file or symlink) without following symlinks; quiet if gone."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


def one_line(text):
    return ' '.join(str(text).split())


def random_suffix():
    return base64.b32encode(os.urandom(5)).decode('ascii').lower().encode('ascii')


class Layout(object):
    """Where an installer puts each part of a wheel in the virtualenv rooted at `root` (bytes)."""

    def __init__(self, root):
        import sysconfig
        scheme = 'venv' if 'venv' in sysconfig.get_scheme_names() else 'posix_prefix'
        text = os.fsdecode(root)
        paths = sysconfig.get_paths(scheme, vars={'base': text, 'platbase': text,
                                                  'installed_base': text, 'installed_platbase': text})
        self.root = root
        self.purelib = os.fsencode(paths['purelib'])
        self.platlib = os.fsencode(paths['platlib'])
        self.scripts = os.fsencode(paths['scripts'])
        self.data = os.fsencode(paths['data'])
        self.include_site = join(root, b'include', b'site', ('python%d.%d' % sys.version_info[:2]).encode('ascii'))
        self.python = join(self.scripts, b'python')

    def site_dirs(self):
        return [self.purelib] if self.platlib == self.purelib else [self.purelib, self.platlib]

    def headers(self, dist_name):
        return join(self.include_site, fs_path(dist_name))


class Tree(object):
    """An unpacked wheel tree, verified, with what installing it needs."""

    __slots__ = ('path', 'info', 'digests', 'dist_info', 'data_dir', 'name', 'version', 'purelib', 'label',
                 'members', 'unpacked')


def load_tree(path_text):
    tree = Tree()
    tree.unpacked = False
    tree.path = os.fsencode(os.path.abspath(path_text))
    tree.info = load_wheel_info(tree.path)
    tree.digests = {}
    verify_tree(tree.path, tree.info, tree.digests)
    return describe_tree(tree)


def describe_tree(tree):
    """Fill in what installing a verified tree needs from its metadata."""
    tree.members = set(m.name for m in tree.info.members)
    tree.dist_info = find_record(tree.info).split('/')[0]
    tree.data_dir = tree.dist_info[:-len('.dist-info')] + '.data'
    meta_name = tree.dist_info + '/METADATA'
    if meta_name not in tree.members:
        raise HelperError('%s: %s is missing' % (show(tree.path), meta_name))
    msg = read_metadata(join(tree.path, fs_path(meta_name)))
    tree.name = header_text(msg.get('Name'))
    tree.version = header_text(msg.get('Version'))
    if not tree.name or not tree.version:
        raise HelperError('%s: METADATA has no Name or Version' % show(tree.path))
    tree.label = '%s %s' % (tree.name, tree.version)
    wheel_name = tree.dist_info + '/WHEEL'
    if wheel_name not in tree.members:
        raise HelperError('%s: %s is missing' % (show(tree.path), wheel_name))
    wheel = read_metadata(join(tree.path, fs_path(wheel_name)))
    wheel_version = header_text(wheel.get('Wheel-Version')) or ''
    if not re.match(r'^1(\.\d+)?$', wheel_version):
        raise HelperError('%s: Wheel-Version %r is not supported (1.x is)' % (show(tree.path), wheel_version))
    tree.purelib = (header_text(wheel.get('Root-Is-Purelib')) or 'false').lower() == 'true'
    return tree


def unpack_stored_zip(path, under):
    """Unpack a stored zip into a new tree below `under`, checking every file against RECORD on
    the bytes written (one pass); the Tree, ready to install.

    Files get the zip file's own mtime (the package's), so that a zip that did not change
    unpacks to files whose .pyc of the previous venv can be reused (see reusable_pyc)."""
    with StoredZip(path) as stored:
        problems, files, expected = check_stored_members(stored)
        problems.raise_if_any()
        dest = join(under, fs_path(stored.info.filename[:-len('.whl')]))
        if os.path.lexists(dest):
            raise HelperError('%s: its wheel %s is given twice' % (show(path), stored.info.filename))
        reader = HashingReader(stored)
        try:
            extract_stored_zip(stored, reader, dest, int(os.fstat(stored.file.fileno()).st_mtime))
        except zipfile.BadZipFile as e:
            raise HelperError('%s: damaged: %s' % (show(path), e))
        tree = Tree()
        tree.unpacked = True
        tree.path = dest
        tree.info = stored.info
        tree.digests = {}
        check_record(reader, stored.info, files, expected, problems, tree.digests)
    return describe_tree(tree)


def make_shebang(python, args=b''):
    """The first line(s) that run `python` (bytes); via /bin/sh when the path is too long for the kernel."""
    line = b'#!' + python + args
    if len(line) <= MAX_SHEBANG and not re.search(br'\s', python):
        return line + b'\n'
    if re.search(br'["$`\\\s]', python):
        raise HelperError('cannot write a script header for the interpreter %s' % show(python))
    # Lines 2-3 are a shell "exec" for /bin/sh and one string literal for Python.
    return b"#!/bin/sh\n'''exec' \"" + python + b'"' + args + b' "$0" "$@"\n' + b"' '''\n"


def rewrite_script(data, python):
    """A .data/scripts file with "#!python" pointed at `python`, or None if it has no such header."""
    m = SCRIPT_SHEBANG_RE.match(data)
    if not m:
        return None
    return make_shebang(python, (m.group('args') or b'').rstrip()) + data[m.end():]


def read_entry_points(tree):
    """[(group, script name, module, attribute)] of the tree's console_scripts and gui_scripts."""
    import configparser
    name = tree.dist_info + '/entry_points.txt'
    if name not in tree.members:
        return []
    path = join(tree.path, fs_path(name))
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    parser = configparser.ConfigParser(delimiters=('=',), interpolation=None, strict=False)
    parser.optionxform = str
    try:
        parser.read_string(text, source=show(path))
    except configparser.Error as e:
        raise HelperError('%s: %s' % (show(path), one_line(e)))
    found = []
    for group in SCRIPT_GROUPS:
        if not parser.has_section(group):
            continue
        for script, ref in parser.items(group):
            ref = ref.strip()
            m = ENTRY_POINT_RE.match(ref)
            if (not m or not script or script in ('.', '..')
                    or any(c in script for c in '/\x00\r\n')):
                raise HelperError('%s: [%s] %s = %s is not a valid script entry point' % (
                    show(path), group, script, ref))
            found.append((group, script, m.group('module'), m.group('attr')))
    return found


def launcher_script(python, group, script, module, attr):
    head = attr.split('.')[0]
    body = ('# -*- coding: utf-8 -*-\n'
            '# %s: %s = %s:%s (written by %s)\n'
            'import sys\n'
            'from %s import %s\n'
            'if __name__ == "__main__":\n'
            '    sys.exit(%s())\n') % (group, script, module, attr, PROG, module, head, attr)
    return make_shebang(python) + body.encode('utf-8')


class DistRecord(object):
    """What goes into one dist's RECORD: rows {path relative to `root`: (hash, size)} and its .py files."""

    __slots__ = ('label', 'dist_info', 'root', 'rows', 'py', 'by_content')

    def __init__(self, label, dist_info, root):
        self.label, self.dist_info, self.root = label, dist_info, root
        self.rows = {}
        self.py = []
        # Its files come from a tree unpacked for this run: a .pyc is reused by content, not inode.
        self.by_content = False

    def rel(self, path):
        return json_path(os.path.relpath(path, self.root))

    def add(self, path, digest):
        self.rows[self.rel(path)] = digest


class Installer(object):
    """Installs verified trees into a staging virtualenv whose final path is `final`."""

    def __init__(self, staging, final, layout, hardlinks):
        self.staging, self.final, self.layout = staging, final, layout
        self.hardlinks = hardlinks
        self.python = self.final_of(layout.python)
        self.linked = self.copied = self.written = 0
        self.owner = {}
        self.made_dirs = set()
        self.sites = [os.path.join(s, b'') for s in layout.site_dirs()]

    def final_of(self, path):
        if path != self.staging and not path.startswith(self.staging + b'/'):
            raise HelperError('internal error: %s is outside the staging directory' % show(path))
        return self.final + path[len(self.staging):]

    def claim(self, dest, label):
        other = self.owner.get(dest)
        if other is not None:
            raise HelperError('%s and %s both install %s' % (other, label, show(self.final_of(dest))))
        if os.path.lexists(dest):
            raise HelperError('%s would replace %s, which the virtualenv already has' % (
                label, show(self.final_of(dest))))
        self.owner[dest] = label
        parent = os.path.dirname(dest)
        if parent not in self.made_dirs:
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as e:
                raise HelperError('%s: cannot create %s: %s' % (label, show(self.final_of(parent)), e.strerror))
            self.made_dirs.add(parent)

    def place(self, src, dest, digest, mode=None):
        """Hard-link `src` at `dest` (or copy it, with `mode` if given); return its RECORD digest."""
        if self.hardlinks and mode is None:
            try:
                os.link(src, dest)
                self.linked += 1
                return digest or sha256_record(dest)
            except OSError as e:
                if e.errno not in LINK_FALLBACK_ERRNOS:
                    raise
        if mode is None:
            mode = stat.S_IMODE(os.stat(src).st_mode)
        copy_file(src, dest, mode)
        self.copied += 1
        return digest or sha256_record(dest)

    def write(self, dest, data, mode):
        write_new_file(dest, data, mode)
        self.written += 1
        return record_b64(hashlib.sha256(data).digest()), len(data)

    def install_tree(self, tree):
        layout = self.layout
        root = layout.purelib if tree.purelib else layout.platlib
        record = DistRecord(tree.label, join(root, fs_path(tree.dist_info)), root)
        record.by_content = tree.unpacked
        data_prefix = tree.data_dir + '/'
        owned = set(tree.dist_info + '/' + n for n in INSTALLER_OWNED)
        data_dirs = {'purelib': layout.purelib, 'platlib': layout.platlib, 'scripts': layout.scripts,
                     'data': layout.data, 'headers': layout.headers(tree.name)}
        for m in tree.info.members:
            if m.is_dir or m.name in owned:
                continue
            name = m.name
            src = join(tree.path, fs_path(name))
            digest = tree.digests.get(name)
            key = None
            if name.startswith(data_prefix):
                key, _, sub = name[len(data_prefix):].partition('/')
                if key not in data_dirs or not sub:
                    raise HelperError('%s: %s is not in a .data directory that installers know (%s)' % (
                        tree.label, name, ', '.join(sorted(data_dirs))))
                dest = join(data_dirs[key], fs_path(sub))
            else:
                dest = join(root, fs_path(name))
            self.claim(dest, tree.label)
            if key == 'scripts':
                digest = self.install_script(src, dest, digest)
            else:
                digest = self.place(src, dest, digest)
            record.add(dest, digest)
            if name.endswith('.py') and any(dest.startswith(s) for s in self.sites):
                record.py.append(dest)
        for group, script, module, attr in read_entry_points(tree):
            dest = join(layout.scripts, fs_path(script))
            self.claim(dest, tree.label)
            record.add(dest, self.write(dest, launcher_script(self.python, group, script, module, attr), 0o755))
        installer = join(record.dist_info, b'INSTALLER')
        self.claim(installer, tree.label)
        record.add(installer, self.write(installer, INSTALLER_NAME, 0o644))
        return record

    def install_script(self, src, dest, digest):
        with open(src, 'rb') as f:
            data = f.read()
        rewritten = rewrite_script(data, self.python)
        if rewritten is not None:
            return self.write(dest, rewritten, 0o755)
        # Not a "#!python" script: as it is, but executable (a link shares the tree's mode).
        executable = stat.S_IMODE(os.stat(src).st_mode) & 0o111 == 0o111
        return self.place(src, dest, digest, None if executable else 0o755)


def sha256_record(path):
    digest, size = file_digest(path, 'sha256')
    return record_b64(digest), size


def write_record(record):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    own = record.rel(join(record.dist_info, b'RECORD'))
    for rel in sorted(record.rows):
        if rel == own:
            continue
        digest = record.rows[rel]
        if digest is None:
            writer.writerow([rel, '', ''])
        else:
            writer.writerow([rel, 'sha256=' + digest[0], str(digest[1])])
    writer.writerow([own, '', ''])
    replace_file(join(record.dist_info, b'RECORD'), out.getvalue().encode('utf-8', 'surrogateescape'), 0o644)


# Byte-compiling -----------------------------------------------------------


def pyc_path(source):
    directory, name = os.path.split(source)
    tag = sys.implementation.cache_tag.encode('ascii')
    return join(directory, b'__pycache__', name[:-3] + b'.' + tag + b'.pyc')


def pyc_header(st):
    """A timestamp-based .pyc header for a source file with stat `st` (PEP 3147 / PEP 552 layout)."""
    import importlib.util
    fields = (int(st.st_mtime) & 0xFFFFFFFF, st.st_size & 0xFFFFFFFF)
    if sys.version_info >= (3, 7):
        return importlib.util.MAGIC_NUMBER + struct.pack('<III', 0, fields[0], fields[1])
    return importlib.util.MAGIC_NUMBER + struct.pack('<II', fields[0], fields[1])


def compile_one(source, cfile, dfile):
    import marshal
    st = os.stat(source)
    with open(source, 'rb') as f:
        text = f.read()
    code = compile(text, dfile, 'exec', dont_inherit=True)
    data = pyc_header(st) + marshal.dumps(code)
    write_new_file(cfile, data, 0o644)
    return record_b64(hashlib.sha256(data).digest()), len(data)


def compile_some(jobs, indices):
    """[(index, digest or None, error or None)] for jobs[i] = (source, cfile, dfile)."""
    import warnings
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # SyntaxWarnings of third-party code are not ours to print
        for i in indices:
            source, cfile, dfile = jobs[i]
            try:
                out.append((i, compile_one(source, cfile, dfile), None))
            except OSError:
                raise
            except Exception as e:
                out.append((i, None, '%s: %s' % (type(e).__name__, one_line(e))))
    return out


def compile_workers():
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_COMPILE_WORKERS))


def compile_all(jobs, workers):
    """Compile every job, in `workers` forked processes when it is worth it; results in job order.

    Plain fork and pipes rather than multiprocessing: it needs no /dev/shm,
    which a chroot of `rpm --root` or debootstrap may lack.
    """
    results = [None] * len(jobs)
    sizes = []
    for i, job in enumerate(jobs):
        try:
            sizes.append((os.stat(job[0]).st_size, i))
        except OSError:
            sizes.append((0, i))
    total = sum(s for s, _ in sizes)
    workers = min(workers, max(1, len(jobs) // 32), max(1, total // (256 * 1024)))
    bins = [[] for _ in range(workers)]
    loads = [0] * workers
    for size, i in sorted(sizes, reverse=True):
        k = loads.index(min(loads))
        bins[k].append(i)
        loads[k] += size + 2048
    children = []
    for part in bins[1:]:
        try:
            r, w = os.pipe()
            pid = os.fork()
        except OSError:
            bins[0].extend(part)
            continue
        if pid == 0:  # the child: compile its part, report on the pipe, never return
            status = 1
            try:
                os.close(r)
                payload = json.dumps([[i, d, e] for i, d, e in compile_some(jobs, part)]).encode('ascii')
                with os.fdopen(w, 'wb') as f:
                    f.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(w)
        children.append((pid, r, part))
    for i, digest, error in compile_some(jobs, bins[0]):
        results[i] = (digest, error)
    for pid, r, part in children:
        with os.fdopen(r, 'rb') as f:
            payload = f.read()
        _, status = os.waitpid(pid, 0)
        if status == 0:
            for i, digest, error in json.loads(payload.decode('ascii')):
                results[i] = (tuple(digest) if digest else None, error)
    missing = [i for i, r in enumerate(results) if r is None]
    for i in missing:  # a worker died: do its part here
        try:
            os.unlink(jobs[i][1])
        except FileNotFoundError:
            pass
    for i, digest, error in compile_some(jobs, missing):
        results[i] = (digest, error)
    return results


def same_bytes(a, b):
    with open(a, 'rb') as fa:
        with open(b, 'rb') as fb:
            while True:
                x, y = fa.read(CHUNK), fb.read(CHUNK)
                if x != y:
                    return False
                if not x:
                    return True


def reusable_pyc(source, old_source, old_cfile, by_content=False):
    """True if the old venv's .pyc was compiled from this very file (same inode) and is current.

    With `by_content` (the source was unpacked from a stored zip for this run) a file
    with the same size, mtime and bytes counts as the same file."""
    try:
        st, old = os.stat(source), os.stat(old_source)
        if (st.st_dev, st.st_ino) != (old.st_dev, old.st_ino):
            if not by_content or st.st_size != old.st_size or int(st.st_mtime) != int(old.st_mtime):
                return False
            if not same_bytes(source, old_source):
                return False
        if not stat.S_ISREG(os.lstat(old_cfile).st_mode):
            return False
        header = pyc_header(st)
        with open(old_cfile, 'rb') as f:
            return f.read(len(header)) == header
    except OSError:
        return False


def byte_compile(records, installer, old_exists, notes):
    """Compile every record's .py files with their final path as co_filename; add the .pyc to RECORD.

    A .pyc of the previous venv is hard-linked instead when its source is the
    same inode (an unchanged tree): upgrades compile only what changed.
    """
    jobs, owners, reused = [], [], 0
    for record in records:
        for source in record.py:
            cfile = pyc_path(source)
            directory = os.path.dirname(cfile)
            if directory not in installer.made_dirs:
                os.makedirs(directory, exist_ok=True)
                installer.made_dirs.add(directory)
            if old_exists:
                old_cfile = installer.final_of(cfile)
                if reusable_pyc(source, installer.final_of(source), old_cfile, record.by_content):
                    try:
                        os.link(old_cfile, cfile)
                        record.add(cfile, sha256_record(cfile))
                        reused += 1
                        continue
                    except OSError as e:
                        if e.errno not in LINK_FALLBACK_ERRNOS:
                            raise
            jobs.append((source, cfile, os.fsdecode(installer.final_of(source))))
            owners.append(record)
    failed = []
    for (source, cfile, dfile), record, (digest, error) in zip(jobs, owners, compile_all(jobs, compile_workers())):
        if digest is not None:
            record.add(cfile, digest)
        else:
            failed.append('%s (%s)' % (dfile, error))
    if failed:
        notes.append('%d file%s not byte-compiled (Python imports them without a .pyc): %s%s' % (
            len(failed), '' if len(failed) == 1 else 's', '; '.join(failed[:3]),
            '; ...' if len(failed) > 3 else ''))
    return len(jobs) - len(failed), reused, len(failed)


# Creating, checking and swapping the virtualenv ------------------------------


def create_venv(staging, final, with_pip):
    """venv.EnvBuilder into `staging`, with every path it writes (activate scripts, pyvenv.cfg) naming `final`."""
    import types
    import venv
    staging_text, final_text = os.fsdecode(staging), os.fsdecode(final)

    class StagedEnvBuilder(venv.EnvBuilder):
        def ensure_directories(self, env_dir):
            context = super(StagedEnvBuilder, self).ensure_directories(env_dir)
            # The prompt comes from the directory name: the final one, not "venv.new-xxxx".
            staged_name, final_name = context.env_name, os.path.basename(final_text)
            context.env_name = final_name
            if self.prompt is None:
                context.prompt = context.prompt.replace(staged_name, final_name)
            return context

        def replace_variables(self, text, context):
            # 3.6 substitutes plain strings, 3.13 may also quote them: let the
            # base class do it, with the final paths in a copy of the context.
            moved = types.SimpleNamespace(**vars(context))
            moved.env_dir = final_text
            moved.env_exe = final_text + context.env_exe[len(staging_text):]
            return super(StagedEnvBuilder, self).replace_variables(text, moved)

    builder = StagedEnvBuilder(with_pip=with_pip, symlinks=True)
    try:
        builder.create(staging_text)
    except subprocess.CalledProcessError as e:
        raise HelperError('creating the virtualenv failed: %s exited with %s' % (
            ' '.join(str(a) for a in e.cmd[:4]), e.returncode))
    # Python >= 3.11 records "command = python -m venv <dir>" in pyvenv.cfg.
    cfg = join(staging, b'pyvenv.cfg')
    with open(cfg, 'rb') as f:
        data = f.read()
    if staging in data:
        replace_file(cfg, data.replace(staging, final), 0o644)


def run_child(argv, what, cwd=None):
    """Run a command quietly; HelperError with its last line of output when it fails."""
    try:
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 cwd=cwd)
    except OSError as e:
        raise HelperError('%s: cannot run %s: %s' % (what, show(argv[0]), e.strerror))
    try:
        out, err = child.communicate(timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise HelperError('%s: timed out after %d s' % (what, CHILD_TIMEOUT))
    return child.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace')


def last_line(*texts):
    for text in texts:
        lines = [l.strip() for l in text.splitlines() if l.strip()]
        if lines:
            return lines[-1]
    return 'no output'


def install_with_pip(trees, staging, layout, wheelhouse, parent, base):
    """`pip install --no-index --no-deps` of the trees' wheels into the staging venv; their DistRecords.

    Requirements are given as name==version with --find-links, not as file
    paths: pip then records no direct_url.json pointing at a file.
    """
    temp = None
    try:
        if wheelhouse is None:
            temp = tempfile.mkdtemp(prefix=base + b'.new-', dir=parent)
            for tree in trees:
                write_atomically(temp, fs_path(tree.info.filename),
                                 lambda f, tree=tree: write_wheel(f, tree.path, tree.info))
            links = temp
        else:
            links = os.fsencode(os.path.abspath(wheelhouse))
        argv = [layout.python, b'-I', b'-B', b'-m', b'pip', b'--isolated', b'--disable-pip-version-check',
                b'install', b'--no-index', b'--no-deps', b'--no-compile', b'--no-warn-script-location',
                b'--find-links', links] + [('%s==%s' % (t.name, t.version)).encode('utf-8') for t in trees]
        code, out, err = run_child(argv, 'pip install', cwd='/')
        if code != 0:
            raise HelperError('pip install failed (exit %d): %s' % (code, last_line(err, out)))
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def adopt_pip_venv(installer):
    """After pip: point bin/* at the final path, drop .pyc with staging paths, and read every RECORD."""
    layout, staging, final = installer.layout, installer.staging, installer.final
    changed = {}
    for entry in os.scandir(layout.scripts):
        if not entry.is_file(follow_symlinks=False):
            continue
        with open(entry.path, 'rb') as f:
            data = f.read()
        if staging in data:
            data = data.replace(staging, final)
            replace_file(entry.path, data, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode))
            changed[entry.path] = (record_b64(hashlib.sha256(data).digest()), len(data))
    records = []
    for site in layout.site_dirs():
        for top, dirs, _ in os.walk(site):
            if b'__pycache__' in dirs:
                shutil.rmtree(join(top, b'__pycache__'))  # compiled by ensurepip with the staging path
                dirs.remove(b'__pycache__')
        for entry in sorted(os.listdir(site)):
            record_path = join(site, entry, b'RECORD')
            if not entry.endswith(b'.dist-info') or not os.path.isfile(record_path):
                continue
            record = DistRecord(entry.decode('utf-8', 'replace'), join(site, entry), site)
            for name, hash_value, size in read_record(join(site, entry), 'RECORD'):
                path = os.path.normpath(join(site, fs_path(name)))
                if path.endswith(b'.pyc') and b'/__pycache__/' in path:
                    continue
                if path in changed:
                    digest = changed[path]
                elif hash_value.startswith('sha256='):
                    digest = (hash_value[len('sha256='):], int(size) if size.isdigit() else '')
                elif hash_value:
                    digest = sha256_record(path) if os.path.isfile(path) else None
                else:
                    digest = None
                record.rows[record.rel(path)] = digest
                if path.endswith(b'.py') and path.startswith(join(site, b'')) and os.path.isfile(path):
                    record.py.append(path)
            records.append(record)
    return records


def check_scripts(layout, installer, scripts):
    for name in scripts:
        path = join(layout.scripts, fs_path(name))
        if not os.path.isfile(path) or not os.access(path, os.X_OK):
            raise HelperError('no tree provides the script %s (%s would be missing)' % (
                name, show(installer.final_of(path))))


def check_imports(python, modules, what):
    """Import each module with the venv's python (-I: no environment, no user site; -B: no .pyc)."""
    if not modules:
        return
    script = ('import importlib, json, sys\n'
              'results = []\n'
              'for name in sys.argv[1:]:\n'
              '    try:\n'
              '        importlib.import_module(name)\n'
              '        results.append([name, None])\n'
              '    except BaseException as e:\n'
              '        results.append([name, "%s: %s" % (type(e).__name__, " ".join(str(e).split())[:300])])\n'
              'sys.stdout.flush()\n'
              'sys.stdout.write("\\n' + IMPORT_MARKER + '" + json.dumps(results) + "\\n")\n')
    code, out, err = run_child([python, b'-I', b'-B', b'-c', script] + list(modules), 'check-import', cwd='/')
    results = None
    for line in out.splitlines():
        if line.startswith(IMPORT_MARKER):
            results = json.loads(line[len(IMPORT_MARKER):])
    if results is None:
        raise HelperError('check-import: %s exited with %d before reporting: %s' % (what, code, last_line(err, out)))
    failed = ['import %s raised %s' % (name, error) for name, error in results if error is not None]
    if failed:
        raise HelperError('check-import failed: %s' % '; '.join(failed))


def check_no_staging_path(installer, records):
    """The staging path must not survive in anything written as text (a guard against regressions)."""
    layout, staging = installer.layout, installer.staging
    candidates = [join(staging, b'pyvenv.cfg')]
    candidates.extend(e.path for e in os.scandir(layout.scripts) if e.is_file(follow_symlinks=False))
    for record in records:
        candidates.extend(e.path for e in os.scandir(record.dist_info) if e.is_file(follow_symlinks=False))
    for site in layout.site_dirs():
        candidates.extend(join(site, n) for n in os.listdir(site) if n.endswith(b'.pth'))
    for path in candidates:
        with open(path, 'rb') as f:
            if staging in f.read():
                raise HelperError('internal error: %s still names the staging directory' % show(
                    installer.final_of(path)))


def existing_venv(final, action='replace'):
    """'none', 'empty' or 'venv'; HelperError for anything that must not be replaced (or removed)."""
    try:
        st = os.lstat(final)
    except FileNotFoundError:
        return 'none'
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise HelperError('%s exists and is not a directory; refusing to %s it' % (show(final), action))
    if os.path.isfile(join(final, b'pyvenv.cfg')) or os.path.lexists(join(final, b'bin', b'python')):
        return 'venv'
    if not os.listdir(final):
        return 'empty'
    raise HelperError('%s exists and is not a virtualenv (no pyvenv.cfg); refusing to %s it' % (show(final), action))


class DirLock(object):
    """flock() on a directory: one install-venv/remove-venv at a time per parent directory."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def __enter__(self):
        import fcntl
        self.fd = os.open(self.path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | os.O_CLOEXEC)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def leftover_pattern(base):
    return re.compile(re.escape(base) + br'\.(?:new|old)-[A-Za-z0-9_]+$')


def remove_leftovers(parent, base):
    """Remove <venv>.new-* and <venv>.old-* left by a crashed run; return how many."""
    pattern = leftover_pattern(base)
    count = 0
    for name in os.listdir(parent):
        if pattern.match(name):
            remove_tree(join(parent, name))
            count += 1
    return count


def exchange_paths(a, b):
    """renameat2(RENAME_EXCHANGE): swap two paths atomically. False if the system cannot."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2  # glibc >= 2.28
    except (ImportError, OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, a, at_fdcwd, b, rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, getattr(errno, 'ENOTSUP', errno.EINVAL),
               getattr(errno, 'EOPNOTSUPP', errno.EINVAL)):
        return False
    raise OSError(err, os.strerror(err), show(b))


def swap_into_place(staging, final, kind, parent, base):
    """Put the staging venv at `final`; the old one (if any) is removed. Returns how it was done."""
    if kind == 'none':
        os.rename(staging, final)
        fsync_dir(parent)
        return 'rename'
    old = join(parent, base + b'.old-' + random_suffix())
    if exchange_paths(staging, final):
        how = 'exchange'
        os.rename(staging, old)  # the previous venv, now at the staging path
    else:
        how = 'rename-twice'
        os.rename(final, old)
        try:
            os.rename(staging, final)
        except BaseException:
            os.rename(old, final)
            raise
    fsync_dir(parent)
    try:
        remove_tree(old)
    except OSError:
        pass  # removed on the next run, as a leftover
    return how


def venv_path_arg(text, what='--venv'):
    if not text or not os.path.isabs(text):
        raise UsageError('%s must be an absolute path, got %r' % (what, text))
    path = os.fsencode(os.path.normpath(text))
    if len([p for p in path.split(b'/') if p]) < 2:
        raise UsageError('%s %s is too close to / for a virtualenv' % (what, text))
    return path


def build_venv(args, trees, staging, final, kind, parent, base, timings):
    """Everything between an empty staging directory and a checked venv ready to swap in."""
    notes = []
    clock = time.time()
    create_venv(staging, final, args.installer == 'pip')
    layout = Layout(staging)
    installer = Installer(staging, final, layout, hardlinks=not args.copy)
    timings['venv'] = time.time() - clock

    clock = time.time()
    if args.installer == 'pip':
        install_with_pip(trees, staging, layout, args.wheelhouse, parent, base)
        records = adopt_pip_venv(installer)
    else:
        records = [installer.install_tree(tree) for tree in trees]
    timings['install'] = time.time() - clock

    clock = time.time()
    compiled = reused = failed = 0
    if args.compile:
        compiled, reused, failed = byte_compile(records, installer, kind == 'venv', notes)
    for record in records:
        write_record(record)
    timings['compile'] = time.time() - clock

    clock = time.time()
    check_scripts(layout, installer, args.script)
    dists = installed_dists(layout.site_dirs())
    problems, check_notes, checked = check_consistency(dists)
    notes.extend(check_notes)
    if problems:
        raise HelperError('the new virtualenv would be inconsistent: %s' % '; '.join(problems))
    check_imports(layout.python, args.check_import, 'the new virtualenv\'s python')
    check_no_staging_path(installer, records)
    timings['check'] = time.time() - clock
    return {
        'installer': args.installer,
        'dists': ['%s==%s' % (d.name, d.version) for _, d in sorted(dists.items())],
        'files': sum(len(r.rows) for r in records),
        'linked': installer.linked,
        'copied': installer.copied,
        'written': installer.written,
        'compiled': compiled,
        'reused_pyc': reused,
        'not_compiled': failed,
        'requirements_checked': checked,
        'imports_checked': list(args.check_import),
        'notes': notes,
    }


def cmd_install_venv(args):
    started = time.time()
    final = venv_path_arg(args.venv)
    for module in args.check_import:
        if not MODULE_RE.match(module):
            raise UsageError('--check-import %r is not a module name' % module)
    for script in args.script:
        if not script or '/' in script or script in ('.', '..'):
            raise UsageError('--script %r is not a script name' % script)
    timings = {}
    clock = time.time()
    # Every tree and stored zip is verified before anything changes; a stored zip is
    # checked against RECORD as it is unpacked beside the venv, once the lock is held.
    sources = []
    for text in args.tree:
        path = os.fsencode(os.path.abspath(text))
        if is_stored_zip(path):
            with StoredZip(path) as stored:
                check_stored_members(stored)[0].raise_if_any()  # its bytes: while it is unpacked
                sources.append((path, stored.info.filename, None))
        else:
            tree = load_tree(text)
            sources.append((tree.path, tree.info.filename, tree))
    if args.installer == 'pip' and args.wheelhouse:
        links = os.fsencode(os.path.abspath(args.wheelhouse))
        missing = [f for _, f, _ in sources if not os.path.isfile(join(links, fs_path(f)))]
        if missing:
            raise HelperError('%s lacks %s (the wheel packages\' post-install writes them)' % (
                show(links), ', '.join(missing)))
    timings['verify'] = time.time() - clock

    os.umask(0o022)
    parent, base = os.path.split(final)
    os.makedirs(parent, exist_ok=True)
    with DirLock(parent):
        leftovers = remove_leftovers(parent, base)
        # Named like a staging venv: a crash leaves nothing the next run does not remove.
        unpacked = None
        try:
            clock = time.time()
            trees = []
            for path, _, tree in sources:
                if tree is None:
                    if unpacked is None:
                        unpacked = tempfile.mkdtemp(prefix=base + b'.new-', dir=parent)
                        os.chmod(unpacked, 0o755)
                    tree = unpack_stored_zip(path, unpacked)
                trees.append((path, tree))
            seen = {}
            for path, tree in trees:
                key = normalize_name(tree.name)
                if key in seen:
                    raise HelperError('two trees install %s: %s and %s' % (tree.name, show(seen[key]), show(path)))
                seen[key] = path
            trees = [tree for _, tree in trees]
            if unpacked is not None:
                timings['unpack'] = time.time() - clock
            kind = existing_venv(final)
            staging = tempfile.mkdtemp(prefix=base + b'.new-', dir=parent)
            try:
                os.chmod(staging, 0o755)
                result = build_venv(args, trees, staging, final, kind, parent, base, timings)
            except BaseException:
                remove_tree(staging)
                raise
            clock = time.time()
            try:
                how = swap_into_place(staging, final, kind, parent, base)
            except BaseException:
                # Whatever is left at the staging path (the new venv, or the old one
                # after an exchange) is not in use.
                shutil.rmtree(staging, ignore_errors=True)
                raise
            timings['swap'] = time.time() - clock
        finally:
            if unpacked is not None:
                remove_tree(unpacked)
    out = {'venv': json_path(final), 'python': '%d.%d.%d' % sys.version_info[:3]}
    out.update(result)
    out.update({'replaced': kind == 'venv', 'swap': how, 'leftovers_removed': leftovers,
                'seconds': dict((k, round(v, 3)) for k, v in timings.items())})
    out['seconds']['total'] = round(time.time() - started, 3)
    print_json(out)


def cmd_remove_venv(args):
    final = venv_path_arg(args.venv)
    parent, base = os.path.split(final)
    removed, leftovers = False, 0
    if os.path.isdir(parent):
        with DirLock(parent):
            leftovers = remove_leftovers(parent, base)
            kind = existing_venv(final, 'remove')
            if kind != 'none':
                doomed = join(parent, base + b'.old-' + random_suffix())
                os.rename(final, doomed)  # the venv disappears at once, then is deleted
                fsync_dir(parent)
                remove_tree(doomed)
                removed = True
    print_json({'venv': json_path(final), 'removed': removed, 'leftovers_removed': leftovers})


def cmd_check_venv(args):
    final = venv_path_arg(args.venv)
    if existing_venv(final) != 'venv':
        raise HelperError('%s is not a virtualenv' % show(final))
    for module in args.check_import:
        if not MODULE_RE.match(module):
            raise UsageError('--check-import %r is not a module name' % module)
    layout = Layout(final)
    dists = installed_dists(layout.site_dirs())
    problems, notes, checked = check_consistency(dists)
    if problems:
        raise HelperError('%s is inconsistent: %s' % (show(final), '; '.join(problems)))
    check_imports(layout.python, args.check_import, show(layout.python))
    print_json({'venv': json_path(final), 'dists': ['%s==%s' % (d.name, d.version) for _, d in sorted(dists.items())],
                'requirements_checked': checked, 'imports_checked': list(args.check_import), 'notes': notes})


# --------------------------------------------------------------------------
# Subcommands


def cmd_verify(args):
    tree = os.fsencode(args.tree)
    if is_stored_zip(tree):
        with StoredZip(tree) as stored:
            info = stored.info
            checked = verify_stored_zip(stored)
    else:
        info = load_wheel_info(tree)
        checked = verify_tree(tree, info)
    print_json({'tree': json_path(tree), 'filename': info.filename, 'checked': checked})


def cmd_rebuild_wheel(args):
    tree, outdir = os.fsencode(args.tree), os.fsencode(args.outdir)
    if not is_stored_zip(tree):
        info = load_wheel_info(tree)
        verify_tree(tree, info)
        os.makedirs(outdir, exist_ok=True)
        name = fs_path(info.filename)
        sha256, size = write_atomically(outdir, name, lambda f: write_wheel(f, tree, info))
    else:
        with StoredZip(tree) as stored:
            info = stored.info
            problems, files, expected = check_stored_members(stored)
            problems.raise_if_any()
            reader = HashingReader(stored)

            def fill(f):
                # Written and checked in one pass: RECORD on the bytes just deflated; on a
                # mismatch the temporary file goes and OUTDIR keeps what it had.
                write_wheel_from(f, reader, info)
                check_record(reader, info, files, expected, problems, None)

            # Directories made here go again on failure: a failed rebuild writes nothing.
            missing, parent = [], os.path.abspath(outdir)
            while not os.path.isdir(parent) and parent not in missing:
                missing.append(parent)
                parent = os.path.dirname(parent)
            os.makedirs(outdir, exist_ok=True)
            name = fs_path(info.filename)
            try:
                sha256, size = write_atomically(outdir, name, fill)
            except BaseException as e:
                for directory in missing:
                    try:
                        os.rmdir(directory)
                    except OSError:
                        break
                if isinstance(e, zipfile.BadZipFile):
                    raise HelperError('%s: damaged: %s' % (show(tree), e))
                raise
    print_json({'path': json_path(os.path.join(outdir, name)), 'sha256': sha256, 'size': size,
                'identical': sha256 == info.sha256})


def cmd_remove_wheel(args):
    outdir = os.fsencode(args.outdir)
    check_filename(args.filename, 'remove-wheel')
    name = fs_path(args.filename)
    path = os.path.join(outdir, name)
    removed = False
    try:
        os.unlink(path)
        removed = True
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        raise HelperError('%s: is a directory' % show(path))
    for leftover in temp_files_of(outdir, name):
        try:
            os.unlink(os.path.join(outdir, leftover))
        except FileNotFoundError:
            pass
    if removed:
        fsync_dir(outdir)
    print_json({'path': json_path(path), 'removed': removed})


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 through main()."""

    def error(self, message):
        raise UsageError('%s (see %s --help)' % (message, self.prog))


def add_commands(subparsers):
    """Register subcommands; each sets `func`. New subcommands go here."""
    p = subparsers.add_parser('rebuild-wheel', help='verify an unpacked wheel tree (or stored zip) and rebuild its .whl')
    p.add_argument('tree', metavar='TREE', help='the unpacked wheel (holds %s), or its stored zip' % INFO_NAME)
    p.add_argument('outdir', metavar='OUTDIR', help='directory to write the .whl into')
    p.set_defaults(func=cmd_rebuild_wheel)

    p = subparsers.add_parser('verify', help='check an unpacked wheel tree (or stored zip) against its RECORD')
    p.add_argument('tree', metavar='TREE')
    p.set_defaults(func=cmd_verify)

    p = subparsers.add_parser('remove-wheel', help='remove a rebuilt .whl (idempotent)')
    p.add_argument('outdir', metavar='OUTDIR')
    p.add_argument('filename', metavar='FILENAME')
    p.set_defaults(func=cmd_remove_wheel)

    p = subparsers.add_parser(
        'install-venv', help='create or replace a virtualenv from unpacked wheel trees, atomically',
        formatter_class=argparse.RawDescriptionHelpFormatter, description=INSTALL_VENV_HELP)
    p.add_argument('--venv', required=True, metavar='PATH', help='absolute path of the virtualenv')
    p.add_argument('--tree', required=True, action='append', default=[], metavar='DIR|ZIP',
                   help='an unpacked wheel tree, or a stored wheel zip (unpacked beside the venv '
                        'while installing); repeat for each distribution of the closure')
    p.add_argument('--script', action='append', default=[], metavar='NAME',
                   help='fail unless <venv>/bin/NAME exists after the install (repeatable)')
    p.add_argument('--check-import', action='append', default=[], metavar='MODULE',
                   help='import MODULE with the new venv\'s python before it is swapped in (repeatable)')
    p.add_argument('--installer', choices=('native', 'pip'), default='native',
                   help='native (default): link the trees\' files into place; pip: a venv with pip, '
                        'then pip install --no-index --no-deps')
    p.add_argument('--wheelhouse', metavar='DIR',
                   help='with --installer pip: where the trees\' .whl files are (default: rebuilt from '
                        'the trees into a temporary directory); the native installer does not need it')
    p.add_argument('--compile', dest='compile', action='store_true', default=True,
                   help='byte-compile the installed .py files (default)')
    p.add_argument('--no-compile', dest='compile', action='store_false', help='do not byte-compile')
    p.add_argument('--copy', action='store_true',
                   help='copy the trees\' files instead of hard-linking them')
    p.set_defaults(func=cmd_install_venv)

    p = subparsers.add_parser('remove-venv', help='remove a virtualenv and leftovers of failed runs (idempotent)')
    p.add_argument('--venv', required=True, metavar='PATH', help='absolute path of the virtualenv')
    p.set_defaults(func=cmd_remove_venv)

    p = subparsers.add_parser('check-venv', help='check that every requirement in a virtualenv is satisfied')
    p.add_argument('--venv', required=True, metavar='PATH', help='absolute path of the virtualenv')
    p.add_argument('--check-import', action='append', default=[], metavar='MODULE',
                   help='also import MODULE with the venv\'s python (repeatable)')
    p.set_defaults(func=cmd_check_venv)


def build_parser():
    parser = Parser(prog=PROG, description='Helper for the scriptlets of reqset packages.')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND', parser_class=Parser)
    subparsers.required = True
    add_commands(subparsers)
    return parser


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
        return 0
    except HelperError as e:
        write_line(sys.stderr, '%s: error: %s' % (PROG, e))
        return e.exit_code
    except OSError as e:
        where = ': %s' % show(e.filename) if e.filename else ''
        write_line(sys.stderr, '%s: error: %s%s' % (PROG, e.strerror or e, where))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        write_line(sys.stderr, '%s: error: interrupted' % PROG)
        return 130
    except Exception as e:  # a bug: still one line, with the exception's type
        write_line(sys.stderr, '%s: error: internal error: %s: %s' % (PROG, type(e).__name__, e))
        return EXIT_FAILURE


if __name__ == '__main__':
    sys.exit(main())
