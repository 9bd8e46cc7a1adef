"""The subcommands and main(): one JSON line on success, one error line on failure."""

import argparse
import json
import os
import sys

from .util import (
    EXIT_FAILURE, HelperError, INFO_NAME, PROG, UsageError, bad_zip, fs_path, fsync_dir, json_path, print_json,
    show, write_line,
)
from .wheelinfo import check_filename, load_wheel_info
from .readers import HashingReader, StoredZip, TreeReader, is_stored_zip
from .verify import (
    check_record, check_stored_members, check_tree_members, verify_stored_zip, verify_tree,
)
from .zipwriter import temp_files_of, write_atomically, write_wheel, write_wheel_from


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


def rebuild_wheel(tree, outdir):
    """Verifies TREE (an unpacked wheel, or its stored zip) and writes its .whl into OUTDIR (bytes
    paths); returns the result line."""
    if not is_stored_zip(tree):
        info = load_wheel_info(tree)
        checked = check_tree_members(tree, info)
        reader = HashingReader(TreeReader(tree))
        (sha256, size), name = write_checked_wheel(tree, outdir, info, reader, checked,
                                                   lambda f: write_wheel(f, tree, info, reader))
    else:
        with StoredZip(tree) as stored:
            info = stored.info
            reader = HashingReader(stored)
            (sha256, size), name = write_checked_wheel(tree, outdir, info, reader, check_stored_members(stored),
                                                       lambda f: write_wheel_from(f, reader, info))
    return {'path': json_path(os.path.join(outdir, name)), 'sha256': sha256, 'size': size,
            'identical': sha256 == info.sha256}


def write_checked_wheel(tree, outdir, info, reader, checked, write):
    """The .whl written by write(f) and checked against RECORD in one pass (RECORD on the bytes just
    deflated, read through the HashingReader `reader`); the structure `checked` (problems, files,
    expected) first. On any problem the temporary file goes and OUTDIR keeps what it had; directories
    made for OUTDIR go too: a failed rebuild writes nothing. Returns ((sha256, size), file name)."""
    problems, files, expected = checked
    problems.raise_if_any()

    def fill(f):
        write(f)
        check_record(reader, info, files, expected, problems, None)

    missing, parent = [], os.path.abspath(outdir)
    while not os.path.isdir(parent) and parent not in missing:
        missing.append(parent)
        parent = os.path.dirname(parent)
    os.makedirs(outdir, exist_ok=True)
    name = fs_path(info.filename)
    try:
        return write_atomically(outdir, name, fill), name
    except BaseException as e:
        for directory in missing:
            try:
                os.rmdir(directory)
            except OSError:
                break
        if isinstance(e, bad_zip()):
            raise HelperError('%s: damaged: %s' % (show(tree), e))
        raise


def cmd_rebuild_wheel(args):
    print_json(rebuild_wheel(os.fsencode(args.tree), os.fsencode(args.outdir)))


def cmd_rebuild_wheels(args):
    """rebuild-wheel for many trees in one process: the build checks every wheel package, and a
    Python start-up with this helper's imports costs more than checking a small wheel. One JSON
    request per stdin line, one answer line each, in order, until EOF; a failed check is an
    answer ({"error": ...}), not the end."""
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line.decode('utf-8'))
            result = rebuild_wheel(fs_path(request['tree']), fs_path(request['outdir']))
        except Exception as e:
            result = {'error': error_message(e)[0]}
        print_json(result)


def venv_command(name):
    """A venv_swap subcommand, imported when it runs: rebuild-wheel, which every wheel package's
    post-install runs, starts without loading the venv modules."""
    def command(args):
        from . import venv_swap
        return getattr(venv_swap, name)(args)
    return command


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

    p = subparsers.add_parser(
        'rebuild-wheels', help='rebuild-wheel for each stdin line {"tree": TREE, "outdir": OUTDIR}, '
                               'one JSON answer line each (the build\'s check of many wheels)')
    p.set_defaults(func=cmd_rebuild_wheels)

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
    p.set_defaults(func=venv_command('cmd_install_venv'))

    p = subparsers.add_parser('remove-venv', help='remove a virtualenv and leftovers of failed runs (idempotent)')
    p.add_argument('--venv', required=True, metavar='PATH', help='absolute path of the virtualenv')
    p.set_defaults(func=venv_command('cmd_remove_venv'))

    p = subparsers.add_parser('check-venv', help='check that every requirement in a virtualenv is satisfied')
    p.add_argument('--venv', required=True, metavar='PATH', help='absolute path of the virtualenv')
    p.add_argument('--check-import', action='append', default=[], metavar='MODULE',
                   help='also import MODULE with the venv\'s python (repeatable)')
    p.set_defaults(func=venv_command('cmd_check_venv'))


def build_parser():
    parser = Parser(prog=PROG, description='Helper for the scriptlets of reqset packages.')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND', parser_class=Parser)
    subparsers.required = True
    add_commands(subparsers)
    return parser


def error_message(e):
    """The one line and the exit status a failure ends with."""
    if isinstance(e, HelperError):
        return '%s: error: %s' % (PROG, e), e.exit_code
    if isinstance(e, OSError):
        where = ': %s' % show(e.filename) if e.filename else ''
        return '%s: error: %s%s' % (PROG, e.strerror or e, where), EXIT_FAILURE
    # a bug: still one line, with the exception's type
    return '%s: error: internal error: %s: %s' % (PROG, type(e).__name__, e), EXIT_FAILURE


def main(argv=None):
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
        return 0
    except KeyboardInterrupt:
        write_line(sys.stderr, '%s: error: interrupted' % PROG)
        return 130
    except Exception as e:
        message, exit_code = error_message(e)
        write_line(sys.stderr, message)
        return exit_code
