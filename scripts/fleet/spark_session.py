"""The SparkSession of `fleet.sh --engine spark`: the master asked for, in UTC, its JVM's
chatter in a log file.

Enters: the master URL and a scratch directory. Leaves: a SparkSession whose Python workers are
this Python (a venv's, under local[N]; on a cluster the executors' own, set by the cluster), and
the path of the JVM's log (its stderr and stdout: start-up notes and warnings that would
otherwise mix with the skipped files' names on stderr; main.py shows its end when Spark fails).
"""

import os
import sys


def start(master, scratch):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master.startswith("local"):
        # Nothing leaves the machine: no need to look for an interface (and warn about it).
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    conf = (SparkConf().setMaster(master).setAppName("quadtrace-fleet")
            .set("spark.sql.session.timeZone", "UTC")
            .set("spark.ui.enabled", "false")
            .set("spark.ui.showConsoleProgress", "false")
            .set("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse")))
    if master.startswith("local"):
        # A few MB of exports: Spark's default of 200 shuffle partitions is 200 tasks of nothing
        # each (adaptive execution coalesces them, but only after planning them).
        conf.set("spark.sql.shuffle.partitions", str(4 * cores_of(master)))
    log = os.path.join(scratch, "spark.log")
    with open(log, "ab") as f:
        # What `SparkSession.builder.getOrCreate()` does, but with the JVM's output to the log.
        gateway = launch_gateway(conf, popen_kwargs={"stdout": f, "stderr": f})
    sc = SparkContext(conf=conf, gateway=gateway)
    sc.setLogLevel("WARN")
    return SparkSession(sc), log


def cores_of(master):
    """local -> 1, local[4] -> 4, local[*] -> this machine's cores."""
    inner = master[len("local["):-1] if master.startswith("local[") else "1"
    inner = inner.split(",")[0]
    if inner == "*":
        return os.cpu_count() or 1
    return max(1, int(inner)) if inner.isdigit() else 1


def tail(log, lines=25):
    """The last lines of the JVM's log, for an error message."""
    try:
        with open(log, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""
