"""Where the wheel's files are read from: an unpacked tree or a stored zip."""

import errno
import hashlib
import os

from .util import HelperError, INFO_NAME, bad_zip, fs_path, show, stream_digest
from .wheelinfo import parse_wheel_info_bytes

NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)


class TreeReader(object):
    """The members of an unpacked wheel tree (a directory)."""

    def __init__(self, tree):
        self.path = tree
        self.paths = {}  # each member's path is wanted at least twice: its size, its bytes

    def full(self, name):
        path = self.paths.get(name)
        if path is None:
            path = self.paths[name] = os.path.join(self.path, fs_path(name))
        return path

    def label(self, name):
        return show(self.full(name))

    def size(self, name):
        return os.lstat(self.full(name)).st_size

    @staticmethod
    def _open_fd(path):
        """A descriptor of the member file at `path`, never through a symbolic link: the structure check
        refused links, and one swapped in since then is refused here rather than followed."""
        try:
            return os.open(path, os.O_RDONLY | os.O_CLOEXEC | NOFOLLOW)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise HelperError('%s: is a symbolic link (it took the file\'s place while being read)' % show(path))
            raise

    def open(self, name):
        return os.fdopen(self._open_fd(self.full(name)), 'rb')

    def read_small(self, name, size):
        """The bytes of a file of `size` (at most CHUNK) bytes, read to its end; its first size + 1
        if it grew. A plain descriptor: open() costs three more system calls per file."""
        path = self.full(name)
        fd = self._open_fd(path)
        try:
            return read_to_end(fd, size + 1)
        except OSError as e:  # os.read names no file (EISDIR: a directory took the file's place)
            raise OSError(e.errno, e.strerror, path)
        finally:
            os.close(fd)

    def digest(self, name, algorithm):
        with self.open(name) as f:
            return stream_digest(f, algorithm)


def read_to_end(fd, limit):
    """What is left to read from `fd`, up to `limit` bytes."""
    data = os.read(fd, limit)
    while data and len(data) < limit:
        more = os.read(fd, limit - len(data))
        if not more:
            break
        data += more
    return data


class StoredZip(object):
    """A wheel stored in a zip by reqset (the stored-zip layout): the wheel's
    members in their order, each uncompressed, then .reqset-wheel.json."""

    def __init__(self, path):
        import zipfile
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
        except bad_zip() as e:
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

    def read_small(self, name, size):
        """TreeReader.read_small for a member: read to its end (where zipfile checks its CRC)."""
        with self.open(name) as f:
            return f.read(size + 1)

    def digest(self, name, algorithm):
        try:
            with self.open(name) as f:
                return stream_digest(f, algorithm)
        except bad_zip() as e:
            raise HelperError('%s: damaged in the archive: %s' % (self.label(name), e))


def is_stored_zip(path):
    """A --tree/TREE argument names a stored zip when it is a regular file (a tree is a directory)."""
    return os.path.isfile(path)


class HashingReader(object):
    """Reads members through `reader` and keeps the sha256 and size of each one read to its end,
    so that RECORD is checked on the very bytes that were written elsewhere, in one pass."""

    def __init__(self, reader):
        self.reader = reader
        self.seen = {}

    def label(self, name):
        return self.reader.label(name)

    def size(self, name):
        # Once read, the size of the bytes read: RECORD's size is checked on them too.
        seen = self.seen.get(name)
        return seen[1] if seen is not None else self.reader.size(name)

    def open(self, name):
        return HashingFile(self.reader.open(name), name, self.seen)

    def read_small(self, name, size):
        data = self.reader.read_small(name, size)
        self.seen[name] = (hashlib.sha256(data).digest(), len(data))
        return data

    def digest(self, name, algorithm):
        if algorithm == 'sha256' and name in self.seen:
            return self.seen[name]
        return self.reader.digest(name, algorithm)

    def digests_of(self, names):
        """{name: [sha256 hex, size]} of those of `names` read to their end, for another process
        (JSON): a forked deflater's members are then checked on the bytes it deflated."""
        return dict((name, [self.seen[name][0].hex(), self.seen[name][1]]) for name in names if name in self.seen)

    def keep_digests(self, digests):
        """Takes in what another process's digests_of gave."""
        for name, (digest, size) in digests.items():
            self.seen[name] = (bytes.fromhex(digest), size)


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
