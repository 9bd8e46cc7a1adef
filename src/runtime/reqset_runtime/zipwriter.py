"""Writing the zip archive: the original .whl again, byte for byte."""

import json
import os
import struct
import zlib

from .util import (
    CHUNK, DEFLATED, DEFLATE_LEVEL, FLAG_DATA_DESCRIPTOR, HelperError, INFO_NAME, LIMIT16, LIMIT32,
    ZIP64_EXTRA_ID, ZIP64_MARGIN, copy_stream, file_digest, fs_path, fsync_dir, join, random_suffix, show,
    usable_cpus, write_new_file,
)
from .readers import HashingReader, TreeReader


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
    if not extra and not any(needed):
        return extra, [False] * 4
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
        self.pos = fileobj.tell()  # kept here: a buffered file's tell() is a system call
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

    def _write(self, data):
        self.f.write(data)
        self.pos += len(data)

    def add(self, m, reader, usize, spooled=None):
        """Write member `m`, of `usize` bytes (0 for a directory); its bytes come from `reader` (TreeReader,
        StoredZip, HashingReader; None for a directory), or were deflated ahead (`spooled`: see deflate_ahead).

        Its local header goes before its data, with the sizes and CRC when they are known by then: a
        member of at most CHUNK bytes is read (and deflated) whole first, a spooled one was. Only a
        larger one is streamed after a provisional header, then rewritten in place."""
        name = m.zip_name()
        zip64_local = usize >= LIMIT32 - ZIP64_MARGIN or has_zip64_block(m.local_extra)
        if spooled:
            crc, csize, read = spooled[1:4]
            data = None
        elif usize <= CHUNK:
            crc, data, read = read_whole(m, reader, usize)
            csize = len(data)
        else:
            return self._add_streamed(m, name, zip64_local, reader, usize)
        self._check(m, reader, usize, read, csize, zip64_local)
        offset = self.pos
        if m.flags & FLAG_DATA_DESCRIPTOR:
            self._write(self._local_header(m, name, 0, 0, 0, zip64_local))
        else:
            self._write(self._local_header(m, name, crc, csize, usize, zip64_local))
        if data is None:
            self._copy_spooled(spooled)
        else:
            self._write(data)
        self._end_member(m, name, crc, csize, usize, offset, zip64_local)

    def _add_streamed(self, m, name, zip64_local, reader, usize):
        offset = self.pos
        header = self._local_header(m, name, 0, 0, 0, zip64_local)
        self.f.write(header)
        crc, csize, read = pump(reader, m.name, self.f, deflate_member(m))
        self.pos += len(header) + csize
        self._check(m, reader, usize, read, csize, zip64_local)
        if not m.flags & FLAG_DATA_DESCRIPTOR:
            self.f.seek(offset)
            self.f.write(self._local_header(m, name, crc, csize, usize, zip64_local))
            self.f.seek(self.pos)
        self._end_member(m, name, crc, csize, usize, offset, zip64_local)

    @staticmethod
    def _check(m, reader, usize, read, csize, zip64_local):
        if read != usize:
            raise HelperError('%s: changed while being read' % reader.label(m.name))
        if csize >= LIMIT32 and not zip64_local:
            raise HelperError('%s: too large for a non-zip64 entry' % m.name)

    def _end_member(self, m, name, crc, csize, usize, offset, zip64_local):
        """The data descriptor if the member has one; its central directory entry to come."""
        if m.flags & FLAG_DATA_DESCRIPTOR:
            self._write(struct.pack('<IIQQ' if zip64_local else '<IIII', 0x08074b50, crc, csize, usize))
        self.central.append((m, name, crc, csize, usize, offset))

    def _copy_spooled(self, spooled):
        spool, _, csize, _, offset = spooled
        spool.flush()
        end = offset + csize
        while offset < end:
            chunk = os.pread(spool.fileno(), min(CHUNK, end - offset), offset)
            if not chunk:
                raise HelperError('internal error: a deflated member is missing from its spool file')
            self._write(chunk)
            offset += len(chunk)

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
        start = self.pos
        self._write(b''.join(self._central_header(*entry) for entry in self.central))
        end = self.pos
        count, size = len(self.central), end - start
        if count >= LIMIT16 or size >= LIMIT32 or start >= LIMIT32:
            self._write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, count, count, size, start))
            self._write(struct.pack('<IIQI', 0x07064b50, 0, end, 1))
        self._write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, min(count, LIMIT16), min(count, LIMIT16),
                                min(size, LIMIT32), min(start, LIMIT32), len(comment)) + comment)


def has_zip64_block(extra):
    return bool(extra) and any(b[0] == ZIP64_EXTRA_ID for b in split_extra(extra) or [])


def deflate_member(m):
    """The compressor of a member as the original wheel has it: raw deflate, or None (stored)."""
    return zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15) if m.method == DEFLATED else None


def read_whole(m, reader, usize):
    """(crc, bytes to write, bytes read) of a member of at most CHUNK bytes (or a directory), read in one piece."""
    raw = reader.read_small(m.name, usize) if not m.is_dir else b''
    compressor = deflate_member(m)
    data = compressor.compress(raw) + compressor.flush() if compressor else raw
    return zlib.crc32(raw) & LIMIT32, data, len(raw)


def pump(reader, name, out, compressor):
    """Copy member `name` from `reader` to `out` through `compressor` (or as it is);
    (crc, bytes written, bytes read)."""
    crc = csize = read = 0
    with reader.open(name) as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            read += len(chunk)
            crc = zlib.crc32(chunk, crc)
            if compressor is not None:
                chunk = compressor.compress(chunk)
            out.write(chunk)
            csize += len(chunk)
    if compressor is not None:
        tail = compressor.flush()
        out.write(tail)
        csize += len(tail)
    return crc & LIMIT32, csize, read


# Below this many bytes to deflate, a second process costs more than it saves.
PARALLEL_DEFLATE_MIN = 4 * 1024 * 1024


def spool_members(reader, members, sizes, indices, spool):
    """Deflate members[i] (of sizes[i] bytes) for each i into `spool`: [[i, crc, csize, read, offset]]."""
    done = []
    offset = spool.tell()
    for i in indices:
        m = members[i]
        if sizes[i] <= CHUNK:
            crc, data, read = read_whole(m, reader, sizes[i])
            spool.write(data)
            csize = len(data)
        else:
            crc, csize, read = pump(reader, m.name, spool, deflate_member(m))
        done.append([i, crc, csize, read, offset])
        offset += csize
    spool.flush()
    return done


def deflate_ahead(reader, members, sizes, workers):
    """{member index: (spool file, crc, csize, read, offset)}: the deflated members of a large tree
    (members[i] of sizes[i] bytes), half of them (by size) deflated in a forked worker while this
    process deflates the other half: the rebuild in a wheel package's post-install is then not
    bound to one CPU. {} when it is not worth it; a member the worker did not deliver is deflated
    in order as usual.

    Plain fork and pipes, as for byte-compiling: a chroot may have no /dev/shm."""
    files = [(sizes[i], i) for i, m in enumerate(members) if not m.is_dir and m.method == DEFLATED]
    if workers < 2 or sum(size for size, _ in files) < PARALLEL_DEFLATE_MIN:
        return {}
    bins, loads = ([], []), [0, 0]
    for size, i in sorted(files, reverse=True):
        k = 0 if loads[0] <= loads[1] else 1
        bins[k].append(i)
        loads[k] += size
    import tempfile  # here: rebuild-wheel of a small tree starts without it (and shutil)
    try:
        ours, theirs = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        r, w = os.pipe()
        pid = os.fork()
    except OSError:
        return {}
    if pid == 0:  # the worker: deflate its half into its spool, report on the pipe, never return
        status = 1
        try:
            os.close(r)
            rows = spool_members(reader, members, sizes, sorted(bins[1]), theirs)
            seen = reader.digests_of([members[i].name for i in bins[1]]) if isinstance(reader, HashingReader) else {}
            payload = json.dumps({'rows': rows, 'seen': seen}).encode('ascii')
            with os.fdopen(w, 'wb') as f:
                f.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(w)
    try:
        done = [(ours, row) for row in spool_members(reader, members, sizes, sorted(bins[0]), ours)]
    finally:
        with os.fdopen(r, 'rb') as f:
            payload = f.read()
        _, status = os.waitpid(pid, 0)
    if status == 0:
        delivered = json.loads(payload.decode('ascii'))
        done.extend((theirs, row) for row in delivered['rows'])
        if isinstance(reader, HashingReader):
            reader.keep_digests(delivered['seen'])
    return dict((row[0], (spool,) + tuple(row[1:])) for spool, row in done)


def write_wheel(f, tree, info, reader=None):
    """The .whl of an unpacked tree, read through `reader` (default: a TreeReader of it), its large
    members deflated by two processes where there are two CPUs."""
    reader = reader or TreeReader(tree)
    sizes = member_sizes(reader, info)
    ahead = deflate_ahead(reader, info.members, sizes, usable_cpus())
    try:
        write_members(f, reader, info, sizes, ahead)
    finally:
        for spool in set(s[0] for s in ahead.values()):
            spool.close()


def write_wheel_from(f, reader, info):
    """The .whl described by `info`, each member deflated (or stored) as in the original."""
    write_members(f, reader, info, member_sizes(reader, info), {})


def member_sizes(reader, info):
    """The size of each member file, 0 for a directory: taken once, before it is read."""
    return [0 if m.is_dir else reader.size(m.name) for m in info.members]


def write_members(f, reader, info, sizes, ahead):
    writer = ZipWriter(f)
    for i, m in enumerate(info.members):
        writer.add(m, None if m.is_dir else reader, sizes[i], ahead.get(i))
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
                copy_stream(f, out)
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
    fd, tmp = make_temp_file(directory, name)
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


def make_temp_file(directory, name):
    """A new empty file directory/.<name>.<random>.tmp, mode 0600 (tempfile.mkstemp's, without
    importing tempfile, shutil and random into every scriptlet's start-up): (fd, path)."""
    for _ in range(100):
        tmp = os.path.join(directory, b'.' + name + b'.' + random_suffix() + b'.tmp')
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue
    raise HelperError('%s: cannot make a temporary file beside it' % show(os.path.join(directory, name)))


def temp_files_of(directory, name):
    prefix, suffix = b'.' + name + b'.', b'.tmp'
    try:
        entries = os.listdir(directory)
    except FileNotFoundError:
        return []
    return [e for e in entries if e.startswith(prefix) and e.endswith(suffix)]
