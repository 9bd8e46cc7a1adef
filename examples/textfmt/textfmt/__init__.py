"""Format numbers as ``key=value`` lines and aligned plain-text tables.

>>> print(format_pairs([("norm", 5.0), ("cosine", 1.0)]))
norm=5.0 cosine=1.0
>>> print(format_table([["a", 1.5], ["bb", 10.25]], headers=["name", "value"]))
name  value
----  -----
   a   1.50
  bb  10.25
"""

__all__ = ["format_number", "format_pairs", "format_table"]


def format_number(value, precision=None):
    """Format one value: floats with ``precision`` decimals (or repr-style when
    ``precision`` is None), everything else with ``str``."""
    if isinstance(value, float):
        if precision is None:
            return repr(value)
        return "%.*f" % (precision, value)
    return str(value)


def format_pairs(pairs, precision=None, sep=" "):
    """``[("a", 1.0), ("b", 2)]`` (or a mapping) -> ``"a=1.0 b=2"``."""
    if hasattr(pairs, "items"):
        pairs = pairs.items()
    return sep.join(
        "%s=%s" % (key, format_number(value, precision)) for key, value in pairs
    )


def format_table(rows, headers=None, precision=2):
    """Right-align every column of ``rows`` (a list of sequences); floats get
    ``precision`` decimals. An optional header row is underlined with dashes."""
    cells = [[format_number(v, precision) for v in row] for row in rows]
    if headers is not None:
        cells.insert(0, [str(h) for h in headers])
    if not cells:
        return ""
    ncols = max(len(row) for row in cells)
    for row in cells:
        row.extend([""] * (ncols - len(row)))
    widths = [max(len(row[i]) for row in cells) for i in range(ncols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in cells]
    if headers is not None:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)
