"""Recordings grouped by host, from their Parquet footers alone.

Enters: the paths (or URIs: s3://, gs://, hdfs://, file://) given to `fleet.sh`. Leaves: one
group per `quadtrace.hostname` (a rotated sequence of one host, or several recordings of it: one
`analyze export` each), the events each file holds, and the files that could not be read, with
why. Only the footer is read (a few KB per file, whatever its size): a file that is not Parquet,
is cut short (its footer is at the end) or is Parquet without quadtrace's metadata is caught
here. A file whose footer is sound but whose pages are not is caught by the export itself
(export_group.py).
"""

import os

# The recording's metadata keys (schema/README.md).
SCHEMA_VERSION = b"quadtrace.schema_version"
HOSTNAME = b"quadtrace.hostname"


def is_uri(path):
    """s3://bucket/key and the like (not a local path)."""
    return "://" in path


def open_footer(path):
    """The Parquet metadata of `path` (local or a URI pyarrow's filesystems know)."""
    import pyarrow.parquet as pq

    if is_uri(path):
        from pyarrow import fs

        filesystem, inner = fs.FileSystem.from_uri(path)
        with filesystem.open_input_file(inner) as f:
            return pq.ParquetFile(f).metadata
    return pq.ParquetFile(path).metadata


class Recording:
    """One readable recording: its path, host and events (rows)."""

    def __init__(self, path, host, events, segment):
        self.path, self.host, self.events, self.segment = path, host, events, segment


def inspect(path):
    """A Recording, or raises ValueError saying why `path` is not one."""
    try:
        meta = open_footer(path)
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except (OSError, ValueError) as e:  # pyarrow.ArrowInvalid is a ValueError
        raise ValueError(f"not readable as Parquet ({one_line(e)})") from None
    kv = meta.metadata or {}
    if SCHEMA_VERSION not in kv:
        raise ValueError("Parquet, but not a quadtrace recording (no quadtrace.schema_version)")
    # analyze takes a recording without a host name as host "" (and so does the export).
    host = kv.get(HOSTNAME, b"").decode("utf-8", "replace")
    segment = kv.get(b"quadtrace.segment", b"0").decode()
    return Recording(path, host, meta.num_rows, int(segment) if segment.isdigit() else 0)


def one_line(e):
    text = " ".join(str(e).split())
    return text if len(text) <= 200 else text[:197] + "..."


def group(paths):
    """(groups, skipped): groups maps each host to its Recordings (by segment, then path),
    in host order; skipped lists (path, why) of the files that cannot be read, in the order
    given. A path given twice counts once."""
    groups, skipped, seen = {}, [], set()
    for path in paths:
        key = path if is_uri(path) else os.path.realpath(path)
        if key in seen:
            continue
        seen.add(key)
        try:
            rec = inspect(path)
        except ValueError as e:
            skipped.append((path, str(e)))
            continue
        groups.setdefault(rec.host, []).append(rec)
    for recs in groups.values():
        recs.sort(key=lambda r: (r.segment, r.path))
    return dict(sorted(groups.items())), skipped
