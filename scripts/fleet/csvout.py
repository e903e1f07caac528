"""The quadruples as `analyze quads --format csv` writes them (analyze/src/report/output.rs).

Enters: the column names and rows of the roll-up's last statement. Leaves: the CSV text.

Byte for byte: the header `caller,caller_func,callee,callee_func,count,errors,p50_ms,p99_ms`;
a missing name is `none`; p50/p99 are nanoseconds as f64 divided by 1e6 (the SQL may give
`p50_ns`, an integer, which is divided here exactly as analyze does, or `p50_ms`), written as
Rust writes an f64 (the shortest digits that read back the same, never an exponent; `1`, not
`1.0`), empty when null; fields holding a comma, quote or line break quoted as RFC 4180 says;
rows by count descending, then the four names ascending with none first (byte order), as
analyze sorts them, whatever order the engine returned.
"""

from decimal import Decimal

NAMES = ("caller", "caller_func", "callee", "callee_func")
COLUMNS = NAMES + ("count", "errors", "p50_ms", "p99_ms")


def rust_f64(x):
    """Rust's `Display` of an f64: the shortest round-trip digits (Python's repr has the same
    digits), positional."""
    text = repr(float(x))
    if text in ("inf", "-inf", "nan"):
        return {"inf": "inf", "-inf": "-inf", "nan": "NaN"}[text]
    text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def field(s):
    if any(c in s for c in ',"\n\r'):
        return '"' + s.replace('"', '""') + '"'
    return s


def ms_of(row, names, which):
    """p50/p99 of a row in ms as analyze computes it, or None."""
    if f"{which}_ns" in names:
        ns = row[names.index(f"{which}_ns")]
        return None if ns is None else int(ns) / 1e6
    ms = row[names.index(f"{which}_ms")]
    return None if ms is None else float(ms)


def render(columns, rows):
    names = [c.lower() for c in columns]
    missing = [c for c in NAMES + ("count", "errors") if c not in names]
    for which in ("p50", "p99"):
        if f"{which}_ns" not in names and f"{which}_ms" not in names:
            missing.append(f"{which}_ns or {which}_ms")
    if missing:
        raise ValueError(f"the roll-up's result lacks the column(s) {', '.join(missing)} "
                         f"(it has {', '.join(columns) or 'none'})")
    quads = []
    for row in rows:
        key = tuple(row[names.index(c)] for c in NAMES)
        count = int(row[names.index("count")])
        errors = int(row[names.index("errors")])
        quads.append((key, count, errors, ms_of(row, names, "p50"), ms_of(row, names, "p99")))
    # None before any name, then names by their UTF-8 bytes (Rust's str order).
    quads.sort(key=lambda q: (-q[1], [(k is not None, (k or "").encode()) for k in q[0]]))
    lines = [",".join(COLUMNS)]
    for key, count, errors, p50, p99 in quads:
        cells = [k if k is not None else "none" for k in key]
        cells += [str(count), str(errors)]
        cells += ["" if v is None else rust_f64(v) for v in (p50, p99)]
        lines.append(",".join(field(c) for c in cells))
    return "\n".join(lines) + "\n"
