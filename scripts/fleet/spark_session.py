"""The SparkSession of `fleet.sh --engine spark`: the master asked for, UTC, quiet.

Enters: the master URL and a scratch directory. Leaves: a SparkSession whose Python workers are
this Python (a venv's, under local[N]; on a cluster the executors' own, set by the cluster).
"""

import os
import sys


def start(master, scratch):
    # The executors' Python is ours (under local[N]; a cluster's executors have their own).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName("quadtrace-fleet")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
               .config("spark.local.dir", os.path.join(scratch, "spark-local")))
    if master.startswith("local"):
        # A few MB of exports: Spark's default of 200 shuffle partitions is 200 tasks of nothing
        # each (adaptive execution coalesces them, but only after planning them).
        builder = builder.config("spark.sql.shuffle.partitions", str(4 * cores_of(master)))
    spark = builder.getOrCreate()
    # Spark's warnings from here on would mix with the skipped files' names on stderr. (The
    # JVM's few lines before this, "Setting default log level ...", come anyway.)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def cores_of(master):
    """local -> 1, local[4] -> 4, local[*] -> this machine's cores."""
    inner = master[len("local["):-1] if master.startswith("local[") else "1"
    inner = inner.split(",")[0]
    if inner == "*":
        return os.cpu_count() or 1
    return max(1, int(inner)) if inner.isdigit() else 1
