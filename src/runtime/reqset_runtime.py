#!/usr/bin/env python3
"""reqset-runtime: the helper that reqset's package scriptlets call.

Shipped by the <reqset>-runtime package. A wheel package installs its wheel
unpacked under /opt/<reqset>/wheels/<wheel-stem>/ together with
.reqset-wheel.json, which describes the original zip archive; this helper
checks such a tree against the wheel's RECORD and rebuilds the .whl from it.

Standard library only, and written for every target Python from 3.6 (el8) to
3.13: no dataclasses, no walrus, no typing generics at runtime.

Subcommands (each prints one JSON line on success):

  rebuild-wheel TREE OUTDIR     verify TREE, then write OUTDIR/<filename>
                                atomically and report whether it is
                                byte-identical to the original wheel
  verify TREE                   only the verification
  remove-wheel OUTDIR FILENAME  remove OUTDIR/FILENAME and leftover temporary
                                files of it; idempotent

Exit status: 0 success, 1 failure (verification, I/O), 2 usage.
Errors are one line on stderr: "reqset-runtime: error: ...".
"""

import argparse
import base64
import csv
import hashlib
import io
import json
import os
import struct
import sys
import tempfile
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
    h = hashlib.new(algorithm)
    size = 0
    with open(path, 'rb') as f:
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
    try:
        doc = json.loads(raw.decode('utf-8'))
    except ValueError as e:
        raise HelperError('%s: not valid JSON: %s' % (where, e))
    return parse_wheel_info(doc, where)


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
    path = os.path.join(tree, fs_path(record_name))
    try:
        with open(path, 'rb') as f:
            text = f.read().decode('utf-8')
    except FileNotFoundError:
        raise HelperError('%s: missing' % show(path))
    except UnicodeDecodeError:
        raise HelperError('%s: not UTF-8' % show(path))
    rows = []
    try:
        for row in csv.reader(io.StringIO(text, newline='')):
            if not row:
                continue
            if len(row) < 3:
                row = row + [''] * (3 - len(row))
            rows.append((row[0], row[1], row[2]))
    except csv.Error as e:
        raise HelperError('%s: not a valid RECORD: %s' % (show(path), e))
    return rows


def check_record_row(tree, row, problems, digests=None):
    """Check one RECORD row; with `digests`, keep {name: (urlsafe-b64 sha256, size)} of good files."""
    name, hash_value, size_text = row
    path = fs_path(name)
    full = os.path.join(tree, path)
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
        actual_size = os.lstat(full).st_size
        if actual_size != expected_size:
            problems.add(path, 'size %d, RECORD says %d' % (actual_size, expected_size))
            return
    digest, size = file_digest(full, algorithm)
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
    record_name = find_record(info)
    if fs_path(record_name) not in files:
        problems.raise_if_any()
    rows = read_record(tree, record_name)
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
        check_record_row(tree, row, problems, digests)
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

    def add(self, m, source):
        offset = self.f.tell()
        name = m.zip_name()
        usize = 0 if m.is_dir else os.lstat(source).st_size
        blocks = split_extra(m.local_extra) or []
        zip64_local = any(b[0] == ZIP64_EXTRA_ID for b in blocks) or usize >= LIMIT32 - ZIP64_MARGIN
        descriptor = bool(m.flags & FLAG_DATA_DESCRIPTOR)
        self.f.write(self._local_header(m, name, 0, 0, 0, zip64_local))
        crc, csize, read = self._write_data(m, source)
        if read != usize:
            raise HelperError('%s: changed while being read' % show(source))
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

    def _write_data(self, m, source):
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
        with open(source, 'rb') as f:
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
    writer = ZipWriter(f)
    for m in info.members:
        source = None if m.is_dir else os.path.join(tree, fs_path(m.name))
        writer.add(m, source)
    writer.finish(info.comment)


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


# --------------------------------------------------------------------------
# Subcommands


def cmd_verify(args):
    tree = os.fsencode(args.tree)
    info = load_wheel_info(tree)
    checked = verify_tree(tree, info)
    print_json({'tree': json_path(tree), 'filename': info.filename, 'checked': checked})


def cmd_rebuild_wheel(args):
    tree, outdir = os.fsencode(args.tree), os.fsencode(args.outdir)
    info = load_wheel_info(tree)
    verify_tree(tree, info)
    os.makedirs(outdir, exist_ok=True)
    name = fs_path(info.filename)
    sha256, size = write_atomically(outdir, name, lambda f: write_wheel(f, tree, info))
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
    p = subparsers.add_parser('rebuild-wheel', help='verify an unpacked wheel tree and rebuild its .whl')
    p.add_argument('tree', metavar='TREE', help='the unpacked wheel (holds %s)' % INFO_NAME)
    p.add_argument('outdir', metavar='OUTDIR', help='directory to write the .whl into')
    p.set_defaults(func=cmd_rebuild_wheel)

    p = subparsers.add_parser('verify', help='check an unpacked wheel tree against its RECORD')
    p.add_argument('tree', metavar='TREE')
    p.set_defaults(func=cmd_verify)

    p = subparsers.add_parser('remove-wheel', help='remove a rebuilt .whl (idempotent)')
    p.add_argument('outdir', metavar='OUTDIR')
    p.add_argument('filename', metavar='FILENAME')
    p.set_defaults(func=cmd_remove_wheel)


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
