"""Constants, errors and small utilities shared by every module."""

import base64
import hashlib
import json
import os
import stat
import sys
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


def join(*parts):
    return os.path.join(*parts)


def usable_cpus():
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
            copy_stream(f, out)
        os.fchmod(out.fileno(), mode)


def copy_stream(f, out):
    """shutil.copyfileobj, without importing shutil (and bz2, lzma) into every scriptlet's start-up."""
    while True:
        chunk = f.read(CHUNK)
        if not chunk:
            break
        out.write(chunk)


def remove_tree(path):
    """Remove a directory tree (or a file or symlink) without following symlinks; quiet if gone."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        import shutil
        shutil.rmtree(path)
    else:
        os.unlink(path)


def bad_zip():
    """The exception a damaged zip raises, for an `except` clause: () until zipfile is imported,
    which every scriptlet's start-up would pay (it imports shutil, bz2 and lzma) and which
    rebuild-wheel of a tree never needs."""
    zipfile = sys.modules.get('zipfile')
    return (zipfile.BadZipFile,) if zipfile is not None else ()


def one_line(text):
    return ' '.join(str(text).split())


def random_suffix():
    return base64.b32encode(os.urandom(5)).decode('ascii').lower().encode('ascii')
