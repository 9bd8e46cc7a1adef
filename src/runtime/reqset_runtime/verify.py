"""Verification: the tree against the member list and RECORD."""

import csv
import io
import os

from .util import (
    STORED, HelperError, INFO_NAME, MAX_PROBLEMS_SHOWN, RECORD_HASHES, UNHASHED_RECORD_FILES, bad_zip, fs_path,
    record_b64, show,
)
from .readers import TreeReader


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
    except bad_zip() as e:
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


def check_tree_members(tree, info):
    """The structure of a tree, without reading its files: exactly the wheel's files, no symlinks.
    Returns (problems so far, files present, expected files) for check_record."""
    problems = Problems(tree)
    files, dirs = scan_tree(tree, problems)
    return problems, files, check_members_present(info, files, dirs, problems)


def verify_tree(tree, info, digests=None):
    """Raise HelperError naming every file that differs from the wheel; return the count checked.

    With `digests` (a dict), also collect the sha256 of every file RECORD
    hashes with sha256, so that an installer need not read them again.
    """
    problems, files, expected = check_tree_members(tree, info)
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
        if e.compress_type != STORED and not e.filename.endswith('/'):
            problems.add(fs_path(e.filename), 'is compressed (a stored wheel zip holds every member uncompressed)')
    files = set(fs_path(n) for n in names if not n.endswith('/'))
    expected = set(fs_path(m.name) for m in info.members if not m.is_dir)
    return problems, files, expected


def verify_stored_zip(stored, digests=None):
    """verify_tree for a stored zip: the members are the wheel's, in its order, and match RECORD."""
    problems, files, expected = check_stored_members(stored)
    problems.raise_if_any()
    return check_record(stored, stored.info, files, expected, problems, digests)


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
