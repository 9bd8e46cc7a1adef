"""Where the wheel's files are read from: an unpacked tree or a stored zip."""

import os

from .util import HelperError, INFO_NAME, bad_zip, file_digest, fs_path, show, stream_digest
from .wheelinfo import parse_wheel_info_bytes


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

    def digest(self, name, algorithm):
        try:
            with self.open(name) as f:
                return stream_digest(f, algorithm)
        except bad_zip() as e:
            raise HelperError('%s: damaged in the archive: %s' % (self.label(name), e))


def is_stored_zip(path):
    """A --tree/TREE argument names a stored zip when it is a regular file (a tree is a directory)."""
    return os.path.isfile(path)
