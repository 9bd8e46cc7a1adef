"""The ``an-example`` command: a short report that uses textfmt, tinyvec and tinystats.

Its first line is stable for tests, e.g. ``norm=5.0 cosine=1.0 mean_sq=12.5``.
"""
import sys

import textfmt
import tinystats
import tinyvec

DIST = "an_example_pypi_project"
DEPENDENCIES = ("textfmt", "tinyvec", "tinystats")


def installed_version(name):
    """The installed version of distribution ``name``, or "unknown"."""
    try:
        try:
            from importlib.metadata import version
        except ImportError:  # Python < 3.8
            from pkg_resources import get_distribution

            return get_distribution(name).version
        return version(name)
    except Exception:  # not installed as a distribution, or no pkg_resources
        return "unknown"


def report():
    a = [3.0, 4.0]
    b = [6.0, 8.0]
    figures = [
        ("norm", tinyvec.norm(a)),
        ("cosine", tinystats.cosine(a, b)),
        ("mean_sq", tinystats.mean_sq(a)),
    ]
    rows = [[name, installed_version(name)] for name in (DIST,) + DEPENDENCIES]
    return "\n".join(
        [
            textfmt.format_pairs(figures),
            "tinystats compiled against tinyvec %s" % tinystats.built_with_tinyvec,
            textfmt.format_table(rows, headers=["distribution", "version"]),
        ]
    )


def main(argv=None):
    """Entry point of the ``an-example`` console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        print("usage: an-example (no arguments)", file=sys.stderr)
        return 2
    print(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
