"""Small statistics in C on top of tinyvec's C API.

>>> mean_sq([3.0, 4.0])
12.5
>>> cosine([3.0, 4.0], [6.0, 8.0])
1.0
"""
from ._stats import TINYVEC_API_VERSION, built_with_tinyvec, cosine, mean_sq

__all__ = ["TINYVEC_API_VERSION", "built_with_tinyvec", "cosine", "mean_sq"]
