"""`scripts/fleet.sh quads`: the quadruples of many hosts' recordings, in two stages.

Run by scripts/fleet.sh (which installs what this needs and finds the analyze binary); see
docs/FLEET.md. Stage 1 reduces each host's recordings with `analyze export` (stage1_local.py
or stage1_spark.py), stage 2 rolls the exports up with schema/sql/ (stage2.py), and csvout.py
prints the result as `analyze quads --format csv` would.

Exit status: 0; 1 an error (nothing printed on stdout); 2 bad usage; 3 the quadruples were
printed but some recordings were skipped (each named on stderr with why).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import csvout
import groups as grouping
import spark_session
import stage2

SKIPPED = 3


def log(msg):
    print(f"fleet: {msg}", file=sys.stderr, flush=True)


def parse(argv):
    ap = argparse.ArgumentParser(prog="fleet.sh", description=__doc__.split("\n")[0])
    ap.add_argument("--analyze", required=True, help=argparse.SUPPRESS)
    ap.add_argument("--repo", required=True, help=argparse.SUPPRESS)
    sub = ap.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quads", help="the quadruples as `analyze quads --format csv`")
    q.add_argument("--engine", choices=("duckdb", "spark"), required=True)
    q.add_argument("--master", default="local[2]",
                   help="Spark master URL (default local[2]); --engine spark only")
    q.add_argument("--keep", metavar="DIR",
                   help="write the exports here (new or empty; kept afterwards), not to a "
                        "temporary directory; on a Spark cluster, shared storage or a URI")
    q.add_argument("--exported", metavar="DIR",
                   help="skip stage 1: roll up the exports already in DIR")
    q.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="exports at once with --engine duckdb (default: the cores)")
    q.add_argument("--stats", metavar="FILE", help="write the stages' figures here as JSON")
    q.add_argument("--stand-in", metavar="CMD", help=argparse.SUPPRESS)
    q.add_argument("recordings", nargs="*", metavar="RECORDING")
    args = ap.parse_args(argv)
    if args.exported and (args.recordings or args.keep):
        ap.error("--exported takes no recordings and no --keep")
    if not args.exported and not args.recordings:
        ap.error("no recordings given")
    if args.master != "local[2]" and args.engine != "spark":
        ap.error("--master is for --engine spark")
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    return args


def prepare_out(args, scratch):
    """The directory stage 1 writes into."""
    if args.exported:
        return args.exported
    if not args.keep:
        if args.engine == "spark" and not args.master.startswith("local"):
            sys.exit("fleet: on a Spark cluster, --keep DIR must name storage that the driver "
                     "and every executor see (a shared mount, hdfs://, s3a://)")
        return os.path.join(scratch, "export")
    if grouping.is_uri(args.keep):
        if args.engine == "duckdb":
            sys.exit("fleet: --engine duckdb writes the exports locally; --keep a local path")
        return args.keep
    if os.path.isdir(args.keep) and os.listdir(args.keep):
        # Exports of other hosts left there would be rolled up too.
        sys.exit(f"fleet: --keep {args.keep} is not empty")
    os.makedirs(args.keep, exist_ok=True)
    return os.path.abspath(args.keep)


def dataset_sizes(out):
    """{dataset: [files, rows, bytes]} of a local export directory."""
    import pyarrow.parquet as pq

    sizes = {}
    for name in stage2.DATASETS:
        files = rows = size = 0
        for root, _, names in os.walk(os.path.join(out, name)):
            for n in names:
                if n.endswith(".parquet"):
                    path = os.path.join(root, n)
                    files += 1
                    rows += pq.ParquetFile(path).metadata.num_rows
                    size += os.path.getsize(path)
        sizes[name] = [files, rows, size]
    return sizes


def main(argv):
    args = parse(argv)
    stats = {"engine": args.engine, "master": args.master if args.engine == "spark" else None}
    scratch = tempfile.mkdtemp(prefix="quadtrace-fleet-")
    spark = spark_log = None
    try:
        out = prepare_out(args, scratch)
        skipped, hosts = [], {}
        if not args.exported:
            started = time.monotonic()
            hosts, skipped = grouping.group(args.recordings)
            for path, why in skipped:
                log(f"skipped {path}: {why}")
            stats["group_s"] = time.monotonic() - started
            stats["hosts"] = len(hosts)
            stats["files"] = sum(len(r) for r in hosts.values())
            stats["events"] = sum(r.events for recs in hosts.values() for r in recs)
        if args.engine == "spark":
            started = time.monotonic()
            spark, spark_log = spark_session.start(args.master, scratch)
            stats["spark_start_s"] = time.monotonic() - started

        if not args.exported:
            started = time.monotonic()
            command = args.stand_in or "export"
            if args.engine == "spark":
                import stage1_spark

                results = stage1_spark.run(spark, args.analyze, hosts, out, command)
            else:
                import stage1_local

                results = stage1_local.run(args.analyze, hosts, out, command, args.jobs)
            stats["stage1_s"] = time.monotonic() - started
            stats["stage1_cpu_s"] = sum(r["cpu_s"] for r in results)
            stats["exports"] = sum(r["exports"] for r in results)
            stats["executors"] = sorted({r.get("executor", "") for r in results} - {""})
            failed = [r for r in results if r["error"]]
            for r in results:
                for path, why in r["skipped"]:
                    log(f"skipped {path}: {why}")
                    skipped.append((path, why))
            for r in failed:
                log(f"host {r['host'] or '(no name)'}: {r['error']}")
            if failed:
                return 1
            events_of = {rec.path: rec.events for recs in hosts.values() for rec in recs}
            stats["events_exported"] = sum(events_of[p] for r in results for p in r["files"])
            if args.stand_in:
                log(f"stand-in `analyze {command}` ran on {len(results)} host(s): " + ", ".join(
                    f"{r['host']}@{r.get('executor', 'local')}" for r in results))
                return SKIPPED if skipped else 0
            if not grouping.is_uri(out) and args.stats:
                stats["datasets"] = dataset_sizes(out)

        started = time.monotonic()
        statements = [stage2.statement(p) for p in stage2.sql_files(args.repo)]
        if not statements:
            log(f"no SQL in {os.path.join(args.repo, 'schema', 'sql')}")
            return 1
        if args.engine == "spark":
            columns, rows = stage2.run_spark(spark, out, statements, args.repo, "quads")
        else:
            columns, rows = stage2.run_duckdb(out, statements, args.repo, "quads")
        stats["stage2_s"] = time.monotonic() - started
        stats["quads"] = len(rows)
        try:
            text = csvout.render(columns, rows)
        except ValueError as e:
            log(str(e))
            return 1
        sys.stdout.write(text)
        sys.stdout.flush()
        stats["skipped"] = len(skipped)
        if skipped:
            log(f"{len(skipped)} recording(s) skipped; the quadruples are those of the rest "
                f"(exit status {SKIPPED})")
            return SKIPPED
        return 0
    except Exception:
        if spark_log:
            log(f"Spark's log ends:\n{spark_session.tail(spark_log)}")
        raise
    finally:
        if args.stats:
            with open(args.stats, "w", encoding="utf-8") as f:
                json.dump(stats, f, indent=1)
        if spark is not None:
            spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
