"""Byte-compiling a venv in forked workers, reusing the previous venv's .pyc."""

import hashlib
import json
import os
import stat
import struct
import sys

from .util import CHUNK, join, one_line, record_b64, usable_cpus, write_new_file
from .venv_install import LINK_FALLBACK_ERRNOS, MAX_COMPILE_WORKERS, sha256_record


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
    return max(1, min(usable_cpus(), MAX_COMPILE_WORKERS))


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
