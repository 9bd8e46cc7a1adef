"""Building a venv beside the old one, checking it, swapping it in atomically."""

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

from .util import (
    HelperError, UsageError, fs_path, fsync_dir, join, json_path, print_json, random_suffix, record_b64,
    remove_tree, replace_file, show,
)
from .readers import StoredZip, is_stored_zip
from .verify import check_stored_members, read_record
from .zipwriter import write_atomically, write_wheel
from .pep508 import normalize_name
from .consistency import check_consistency, installed_dists
from .venv_install import (
    CHILD_TIMEOUT, DistRecord, IMPORT_MARKER, Installer, Layout, MODULE_RE, load_tree, sha256_record,
    unpack_stored_zip, write_record,
)
from .venv_compile import byte_compile


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


def check_install_args(args):
    for module in args.check_import:
        if not MODULE_RE.match(module):
            raise UsageError('--check-import %r is not a module name' % module)
    for script in args.script:
        if not script or '/' in script or script in ('.', '..'):
            raise UsageError('--script %r is not a script name' % script)


def verified_sources(args):
    """[(path, wheel file name, its tree, or None for a stored zip)] of every --tree, each verified
    before anything changes; a stored zip's bytes are checked against RECORD as it is unpacked
    beside the venv, once the lock is held."""
    sources = []
    for text in args.tree:
        path = os.fsencode(os.path.abspath(text))
        if is_stored_zip(path):
            with StoredZip(path) as stored:
                check_stored_members(stored)[0].raise_if_any()
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
    return sources


def source_trees(sources, parent, base):
    """(the trees of `sources`, the directory beside the venv their stored zips were unpacked in, or
    None): named like a staging venv, so that a crash leaves nothing the next run does not remove;
    the caller removes it. Two trees of one distribution are refused."""
    unpacked, trees, seen = None, [], {}
    try:
        for path, _, tree in sources:
            if tree is None:
                if unpacked is None:
                    unpacked = tempfile.mkdtemp(prefix=base + b'.new-', dir=parent)
                    os.chmod(unpacked, 0o755)
                tree = unpack_stored_zip(path, unpacked)
            key = normalize_name(tree.name)
            if key in seen:
                raise HelperError('two trees install %s: %s and %s' % (tree.name, show(seen[key]), show(path)))
            seen[key] = path
            trees.append(tree)
    except BaseException:
        if unpacked is not None:
            remove_tree(unpacked)
        raise
    return trees, unpacked


def cmd_install_venv(args):
    started = time.time()
    final = venv_path_arg(args.venv)
    check_install_args(args)
    timings = {}
    clock = time.time()
    sources = verified_sources(args)
    timings['verify'] = time.time() - clock

    os.umask(0o022)
    parent, base = os.path.split(final)
    os.makedirs(parent, exist_ok=True)
    with DirLock(parent):
        leftovers = remove_leftovers(parent, base)
        clock = time.time()
        trees, unpacked = source_trees(sources, parent, base)
        try:
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
