"""The zipapp's entry point: `python3 reqset_runtime.pyz COMMAND ...`."""
import sys


class ZipSourceFinder(object):
    """Imports reqset_runtime's modules from the zipapp compiling each one once.

    zipimport compiles a module's source twice (in get_filename, then in
    get_code; CPython 3.6 to 3.13 at least) and can cache no .pyc in a zip:
    half of what every scriptlet's start-up spent compiling this helper. Only
    for this package; anything else imports as usual."""

    PACKAGE = 'reqset_runtime'

    def __init__(self, archive, zipped):
        self.archive, self.zipped = archive, zipped

    def find_spec(self, fullname, path=None, target=None):
        from importlib.machinery import ModuleSpec
        if fullname != self.PACKAGE and not fullname.startswith(self.PACKAGE + '.'):
            return None
        base = fullname.replace('.', '/')
        for name, is_package in ((base + '/__init__.py', True), (base + '.py', False)):
            try:
                source = self.zipped.get_data(name)
            except OSError:
                continue
            origin = self.archive + '/' + name
            spec = ModuleSpec(fullname, SourceLoader(source, origin), origin=origin, is_package=is_package)
            spec.has_location = True
            if is_package:
                spec.submodule_search_locations = [self.archive + '/' + base]
            return spec
        return None


class SourceLoader(object):
    def __init__(self, source, origin):
        self.source, self.origin = source, origin

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(compile(self.source, self.origin, 'exec', dont_inherit=True), module.__dict__)


def install_finder():
    zipped = globals().get('__loader__')
    archive = getattr(zipped, 'archive', None)
    if archive is not None and hasattr(zipped, 'get_data'):  # run from the zipapp, not from a source directory
        sys.meta_path.insert(0, ZipSourceFinder(archive, zipped))


install_finder()

from reqset_runtime.cli import main  # noqa: E402 (after the finder, which imports it)

sys.exit(main())
