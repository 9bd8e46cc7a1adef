"""Declares the package layout and the C extension; the metadata (and the
version) is in pyproject.toml."""
from setuptools import Extension, setup

setup(
    packages=["tinyvec"],
    # the public C header, for extensions built against tinyvec (get_include())
    package_data={"tinyvec": ["include/tinyvec/*.h"]},
    include_package_data=False,
    ext_modules=[
        Extension(
            "tinyvec._core",
            sources=["csrc/core.c"],
            include_dirs=["tinyvec/include"],
            depends=["tinyvec/include/tinyvec/tinyvec.h"],
        )
    ],
)
