"""Virtualenvs: the layout, installing unpacked wheel trees into one."""

import csv
import errno
import hashlib
import io
import os
import re
import stat
import sys

from .util import (
    HelperError, PROG, bad_zip, copy_file, file_digest, fs_path, join, json_path, one_line, record_b64,
    replace_file, show, write_new_file,
)
from .wheelinfo import load_wheel_info
from .readers import HashingReader, StoredZip
from .verify import check_record, check_stored_members, find_record, verify_tree
from .zipwriter import extract_stored_zip
from .consistency import header_text, read_metadata


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
        except bad_zip() as e:
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
