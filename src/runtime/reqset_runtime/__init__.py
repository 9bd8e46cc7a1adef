"""reqset-runtime: the helper that reqset's package scriptlets call.

Shipped by the <reqset>-runtime package. A wheel package installs its wheel
unpacked under /opt/<reqset>/wheels/<wheel-stem>/ together with
.reqset-wheel.json, which describes the original zip archive; this helper
checks such a tree against the wheel's RECORD and rebuilds the .whl from it.
With the stored-zip layout the package holds /opt/<reqset>/wheels/<wheel-stem>.zip
instead: the wheel's members in their order, uncompressed, then
.reqset-wheel.json as the last member; wherever a TREE is taken, such a zip
is taken too.

Standard library only, and written for every target Python from 3.6 (el8) to
3.13: no dataclasses, no walrus, no typing generics at runtime.

Subcommands (each prints one JSON line on success):

  rebuild-wheel TREE OUTDIR     verify TREE (a directory or a stored zip), then
                                write OUTDIR/<filename> atomically and report
                                whether it is byte-identical to the original wheel
  verify TREE                   only the verification
  remove-wheel OUTDIR FILENAME  remove OUTDIR/FILENAME and leftover temporary
                                files of it; idempotent
  install-venv --venv PATH --tree DIR|ZIP... [--script NAME]... [--check-import M]...
               [--installer native|pip] [--wheelhouse DIR] [--[no-]compile] [--copy]
                                build the venv beside PATH from verified trees,
                                check it, swap it in atomically (see its --help)
  remove-venv --venv PATH       remove the venv and leftovers; idempotent
  check-venv --venv PATH [--check-import M]...
                                check an existing venv's requirements

Exit status: 0 success, 1 failure (verification, I/O), 2 usage.
Errors are one line on stderr: "reqset-runtime: error: ...".
"""
