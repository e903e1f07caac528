#!/usr/bin/env python3
"""Runs the roll-up SQL of schema/sql/ on DuckDB and Spark SQL over export directories and
holds the quadruples to a CSV (what `analyze quads --format csv` printed).

Usage: scripts/fleet/sql_check.py [--engine duckdb|spark|both] [--edges]
                                  (--export DIR... --expect QUADS.CSV | --case SPEC...)

  --export DIR ... --expect F   one check: the exports in the DIRs (one or many hosts each)
                                against F
  --case EXPECT=DIR[,DIR...][=CALLS.CSV]
                                a check per SPEC; all run in one session per engine (a Spark
                                session costs 10-20 s to start). With CALLS.CSV (`analyze calls
                                --format csv` of the same recordings, pids unique across hosts),
                                also every call's link, call by call
  --quads                       print the quadruples (CSV) of each check instead of failing
  --edges                       also compare edges_per_minute.sql between the two engines

Exit status 0 when every check gives exactly the expected CSV on every engine (and, with
--edges, both engines give the same series); 1 otherwise, with a diff.

As a module: `views(engine, dirs)`, `run(engine, sql)`, `quads_csv(rows)` are what
scripts/fleet.sh may reuse. The SQL files are one SELECT each; SQL_ORDER says in which order
they become temporary views (schema/sql/README.md).
"""

import argparse
import difflib
import glob
import os
import sys

import csvout  # scripts/fleet/csvout.py: analyze's CSV cells, as fleet.sh prints them
import stage2  # scripts/fleet/stage2.py: the datasets' columns and empty views, as fleet.sh's

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SQL_DIR = os.path.join(REPO, "schema", "sql")
DATASETS = ["calls", "requests", "listeners", "addresses", "connects"]
# Each file defines the view named after it, from the datasets and the views before it.
SQL_ORDER = ["route_by_method", "route_by_path", "request_funcs", "cross_links", "dial_names",
             "named_calls"]

def sql(name):
    with open(os.path.join(SQL_DIR, name + ".sql"), encoding="utf-8") as f:
        return f.read()


def parquet_files(dirs, dataset):
    return sorted(f for d in dirs for f in glob.glob(os.path.join(d, dataset, "*", "*.parquet")))


class Duck:
    """DuckDB, in memory."""

    name = "duckdb"

    def __init__(self):
        import duckdb
        self.db = duckdb.connect()
        self.version = duckdb.__version__

    def dataset(self, name, files, columns):
        if files:
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            self.db.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet("
                            f"[{listed}], hive_partitioning = true, union_by_name = true)")
        else:
            self.db.execute(stage2.empty_view(name, columns))

    def view(self, name, select):
        self.db.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")

    def query(self, select):
        return [tuple(r) for r in self.db.execute(select).fetchall()]

    def close(self):
        self.db.close()


class Spark:
    """Spark SQL, local[2] unless SPARK_MASTER says; UTC."""

    name = "spark"

    def __init__(self):
        from pyspark.sql import SparkSession
        master = os.environ.get("SPARK_MASTER", "local[2]")
        self.spark = (SparkSession.builder.master(master).appName("quadtrace-sql-check")
                      .config("spark.sql.session.timeZone", "UTC")
                      .config("spark.sql.shuffle.partitions", "4")
                      .config("spark.ui.enabled", "false")
                      .config("spark.ui.showConsoleProgress", "false")
                      .config("spark.driver.memory", "2g")
                      .getOrCreate())
        self.spark.sparkContext.setLogLevel("ERROR")
        self.version = self.spark.version

    def dataset(self, name, files, columns):
        if files:
            # Each export directory is a Hive-partitioned table of its own.
            roots = sorted({os.path.dirname(os.path.dirname(f)) for f in files})
            frames = [self.spark.read.parquet(r) for r in roots]
            df = frames[0]
            for f in frames[1:]:
                df = df.unionByName(f, allowMissingColumns=True)
            df.createOrReplaceTempView(name)
        else:
            self.spark.sql(stage2.empty_view(name, columns, "TIMESTAMP_NTZ"))

    def view(self, name, select):
        self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW {name} AS {select}")

    def query(self, select):
        return [tuple(r) for r in self.spark.sql(select).collect()]

    def close(self):
        self.spark.stop()


def views(engine, dirs):
    """The five datasets of the exports in `dirs`, then the views of SQL_ORDER."""
    columns = stage2.export_columns(REPO)
    for d in DATASETS:
        engine.dataset(d, parquet_files(dirs, d), columns[d])
    for name in SQL_ORDER:
        engine.view(name, sql(name))


def quads_csv(rows):
    """The rows of quads.sql as `analyze quads --format csv` prints them."""
    out = [",".join(csvout.COLUMNS)]
    for caller, cf, callee, ef, count, errors, p50, p99 in rows:
        names = ["none" if s is None else s for s in (caller, cf, callee, ef)]
        cells = names + [str(count), str(errors)]
        cells += ["" if v is None else csvout.rust_f64(v) for v in (p50, p99)]
        out.append(",".join(csvout.field(c) for c in cells))
    return "\n".join(out) + "\n"


def edges_text(rows):
    return "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)


# Every call's link (on its host or across), keyed as `analyze calls` prints it: over several
# hosts, analyze moves each host's times by its boot time's distance from the earliest host's
# (`quadtrace.boot_wall_ns`, which is wall_ns - ts_ns of any of the host's rows with both), so
# its ts_ns are each host's own plus that move. (A host whose export has no such row, only
# listeners held all along and addresses, moves the others in analyze but not here.)
LINKS = """
WITH boots AS (
  SELECT host, min(wall_ns - ts_ns) AS boot FROM (
    SELECT host, ts_ns, wall_ns FROM calls
    UNION ALL SELECT host, ts_ns, wall_ns FROM requests
    UNION ALL SELECT host, ts_ns, wall_ns FROM connects
    UNION ALL SELECT host, from_ns, from_wall_ns FROM listeners
    UNION ALL SELECT host, to_ns, to_wall_ns FROM listeners) t
  WHERE wall_ns IS NOT NULL
  GROUP BY host
),
moves AS (
  SELECT host, boot - (SELECT min(boot) FROM boots) AS move_ns FROM boots
),
links AS (
  SELECT c.host, c.pid, c.goid, c.ts_ns, coalesce(c.link_pid, x.r_pid) AS l_pid,
    coalesce(c.link_goid, x.r_goid) AS l_goid, coalesce(c.link_ts_ns, x.r_ts_ns) AS l_ts_ns,
    CASE WHEN c.link_pid IS NOT NULL THEN c.host ELSE x.r_host END AS l_host
  FROM calls c
  LEFT JOIN cross_links x
    ON x.host = c.host AND x.pid = c.pid AND x.goid = c.goid AND x.ts_ns = c.ts_ns
)
SELECT l.pid, l.goid, l.ts_ns + coalesce(m.move_ns, 0), l.l_pid, l.l_goid,
  l.l_ts_ns + coalesce(n.move_ns, 0)
FROM links l
LEFT JOIN moves m ON m.host = l.host
LEFT JOIN moves n ON n.host = l.l_host
"""


def check_links(engine, calls_csv):
    """Whether every call is linked (on its host or across) to the request analyze linked it
    to; prints how many differ."""
    import csv
    number = lambda v: None if v in ("", "-") else int(v)
    want = {}
    with open(calls_csv, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            key = (int(r["pid"]), int(r["goid"]), int(r["ts_ns"]))
            want[key] = tuple(number(r[k]) for k in ("linked_pid", "linked_goid", "linked_ts_ns"))
    got = {tuple(r[:3]): tuple(None if v is None else int(v) for v in r[3:])
           for r in engine.query(LINKS)}
    differ = [k for k in set(want) | set(got) if want.get(k) != got.get(k, (None,) * 3)]
    linked = sum(1 for v in want.values() if v[0] is not None)
    if differ:
        print(f"FAIL {engine.name}: {len(differ)} of {len(want)} calls linked otherwise than in "
              f"{calls_csv}, e.g. {sorted(differ)[:3]}")
    else:
        print(f"ok   {engine.name}: the {linked} links of {calls_csv}")
    return not differ


def run_cases(engine, cases, edges, show):
    """Runs every (expect, dirs, calls) case on `engine`; returns (failures, edge texts)."""
    failures, series = 0, []
    for expect, dirs, calls in cases:
        views(engine, dirs)
        if calls and not check_links(engine, calls):
            failures += 1
        got = quads_csv(engine.query(sql("quads")))
        if show:
            sys.stdout.write(got)
        elif expect is not None:
            with open(expect, encoding="utf-8") as f:
                want = f.read()
            if got != want:
                failures += 1
                print(f"FAIL {engine.name}: {expect} ({' '.join(dirs)})")
                sys.stdout.writelines(difflib.unified_diff(
                    want.splitlines(True), got.splitlines(True), "analyze", engine.name))
            else:
                print(f"ok   {engine.name}: {expect} ({len(got.splitlines()) - 1} quadruples)")
        series.append(edges_text(engine.query(sql("edges_per_minute"))) if edges else None)
    return failures, series


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engine", choices=["duckdb", "spark", "both"], default="both")
    ap.add_argument("--export", nargs="+", default=[])
    ap.add_argument("--expect")
    ap.add_argument("--case", action="append", default=[])
    ap.add_argument("--edges", action="store_true")
    ap.add_argument("--quads", action="store_true")
    a = ap.parse_args()
    cases = []
    if a.export:
        cases.append((a.expect, a.export, None))
    for spec in a.case:
        expect, dirs, calls = (spec.split("=") + [None])[:3]
        cases.append((expect, dirs.split(","), calls))
    if not cases:
        ap.error("nothing to check: give --export/--expect or --case")
    engines = {"duckdb": [Duck], "spark": [Spark], "both": [Duck, Spark]}[a.engine]
    failures, results = 0, []
    for make in engines:
        engine = make()
        print(f"{engine.name} {engine.version}")
        try:
            f, series = run_cases(engine, cases, a.edges, a.quads)
        finally:
            engine.close()
        failures += f
        results.append((engine.name, series))
    if a.edges and len(results) == 2:
        for (expect, dirs, _), one, other in zip(cases, results[0][1], results[1][1]):
            if one != other:
                failures += 1
                print(f"FAIL edges_per_minute differ between engines: {' '.join(dirs)}")
                sys.stdout.writelines(difflib.unified_diff(
                    one.splitlines(True), other.splitlines(True), "duckdb", "spark"))
            else:
                print(f"ok   edges_per_minute alike on both ({len(one.splitlines())} rows)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
