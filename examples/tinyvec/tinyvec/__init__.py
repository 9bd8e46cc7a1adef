"""Tiny vector maths implemented in C, with a C API for other extensions.

>>> norm([3.0, 4.0])
5.0
>>> dot([1.0, 2.0], [3.0, 4.0])
11.0
"""
import os

from ._core import API_VERSION, dot, norm

__all__ = ["API_VERSION", "dot", "get_include", "norm"]


def get_include():
    """The directory to add to ``include_dirs`` to ``#include <tinyvec/tinyvec.h>``."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
