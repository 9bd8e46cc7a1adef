"""Declares the package layout and the C extension; the metadata (and the
version) is in pyproject.toml.

The extension is compiled against the C header of the tinyvec installed in the
build environment; the tinyvec version used is recorded in the module as
``tinystats.built_with_tinyvec``.
"""
from setuptools import Extension, setup

import tinyvec


def tinyvec_version():
    """The version of the tinyvec distribution compiled against, or "unknown"."""
    try:
        try:
            from importlib.metadata import version
        except ImportError:  # Python < 3.8
            from pkg_resources import get_distribution

            return get_distribution("tinyvec").version
        return version("tinyvec")
    except Exception:  # tinyvec importable but not installed as a distribution
        return "unknown"


setup(
    packages=["tinystats"],
    ext_modules=[
        Extension(
            "tinystats._stats",
            sources=["csrc/stats.c"],
            include_dirs=[tinyvec.get_include()],
            define_macros=[("TINYSTATS_TINYVEC_VERSION", '"%s"' % tinyvec_version())],
        )
    ],
)
