"""Stage 1 on Spark (`--engine spark`): one task per host, on the executors.

Enters: a SparkSession, the analyze binary, the host groups (groups.py), the output directory.
Leaves: a result per host (export_group.py), in host order, each naming the executor it ran on.

The binary travels with `SparkContext.addFile` (each executor fetches it once, into its
SparkFiles directory, executable) and this module's task code with `addPyFile`: the executors
need only Python 3, no pyarrow (unless a path is a URI), no Rust, no Python extension. The hosts
go out as an RDD of (host, paths) with one partition per host, so that every host is one task
that Spark schedules on a free core and retries on its own; the export's part names are the
host's and its files' (schema/EXPORT.md), so a retried or speculative task rewrites the same
files instead of adding rows twice. The output directory must be one every executor and the
driver see: a local path under local[N], shared storage (NFS, HDFS mounted) or object storage
(a URI) on a cluster.
"""

import os

import export_group


def run(spark, analyze, groups, out, command="export"):
    sc = spark.sparkContext
    sc.addFile(analyze)
    sc.addPyFile(export_group.__file__)
    binary = os.path.basename(analyze)
    items = [(host, [r.path for r in recs]) for host, recs in groups.items()]
    if not items:
        return []
    rdd = sc.parallelize(items, numSlices=len(items))
    task = export_group.spark_task
    results = rdd.map(lambda item: task(binary, out, command, item)).collect()
    return sorted(results, key=lambda r: r["host"])
