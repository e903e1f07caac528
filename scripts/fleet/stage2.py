"""Stage 2: the SQL of schema/sql/ over the exported datasets, on DuckDB or Spark SQL.

Enters: the directory stage 1 wrote (a path, or a URI for Spark), the repository (for the SQL
and schema/EXPORT.md), the result wanted (`quads`). Leaves: its column names and rows.

The files run in the order schema/sql/README.md names them, each one statement: a query
becomes a temporary view named after its file (`route_by_path.sql`: `route_by_path`), which the
files after it use; a statement that is a CREATE already runs as it is; a trailing `;` is
dropped (Spark's parser refuses it). The result is then `SELECT * FROM` the view wanted. Under
them all are views named after the datasets: `calls`, `requests`, `listeners`, `addresses`,
`connects`, each with the `date` partition column. A
dataset no host wrote a file of (e.g. `connects` when no recording has socket events) is an
empty view with the columns and types of schema/EXPORT.md, so that the SQL needs no special
case for it.
"""

import glob
import os
import re

DATASETS = ("calls", "requests", "listeners", "addresses", "connects")
TYPES = {"string": "STRING", "int64": "BIGINT", "bool": "BOOLEAN", "double": "DOUBLE",
         "timestamp": "TIMESTAMP", "int32": "INT"}


def sql_files(repo):
    """schema/sql/*.sql in the order schema/sql/README.md names them (first mention). Should it
    not name them all, in an order where each file comes after the files whose views it uses
    (README order, then name, among those free to go)."""
    sql_dir = os.path.join(repo, "schema", "sql")
    present = sorted(os.path.basename(p) for p in glob.glob(os.path.join(sql_dir, "*.sql")))
    order = []
    readme = os.path.join(sql_dir, "README.md")
    if os.path.exists(readme):
        with open(readme, encoding="utf-8") as f:
            for name in re.findall(r"[\w.-]+\.sql\b", f.read()):
                name = os.path.basename(name)
                if name in present and name not in order:
                    order.append(name)
    if len(order) < len(present):
        order = by_dependency(sql_dir, present, order)
    return [os.path.join(sql_dir, n) for n in order]


def by_dependency(sql_dir, present, preferred):
    stems = {os.path.splitext(n)[0]: n for n in present}
    uses = {}
    for n in present:
        with open(os.path.join(sql_dir, n), encoding="utf-8") as f:
            code = re.sub(r"--[^\n]*", "", f.read())  # a comment may name any view
            words = set(re.findall(r"\w+", code))
        uses[n] = {stems[w] for w in words & stems.keys() if stems[w] != n}
    rank = {n: (preferred.index(n) if n in preferred else len(preferred), n) for n in present}
    order = []
    while len(order) < len(present):
        free = [n for n in present if n not in order and uses[n] <= set(order)]
        if not free:  # a cycle: leave the rest to fail where the engine says why
            free = [n for n in present if n not in order]
        order.append(min(free, key=rank.get))
    return order


def statement(path):
    """The file's statement, as one that makes its view when it is a query."""
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    if re.match(r"\s*create\b", code, re.I):
        return text
    name = os.path.splitext(os.path.basename(path))[0]
    return f"CREATE OR REPLACE TEMPORARY VIEW {name} AS\n{text}"


def export_columns(repo):
    """{dataset: [(column, SQL type)]} from schema/EXPORT.md's tables."""
    path = os.path.join(repo, "schema", "EXPORT.md")
    columns, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^### `(\w+)`", line)
            if m:
                current = m.group(1)
                columns[current] = []
                continue
            m = re.match(r"^\| `(\w+)` \| (\w+)", line)
            if m and current in DATASETS:
                columns[current].append((m.group(1), TYPES.get(m.group(2), "STRING")))
    return columns


def empty_view(name, cols):
    """A view with the dataset's columns and no rows; the same text runs on both engines."""
    fields = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in cols + [("date", "STRING")])
    return f"CREATE OR REPLACE TEMPORARY VIEW {name} AS SELECT {fields} LIMIT 0"


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def run_duckdb(out, statements, repo, want, threads=None):
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")
    schema = None
    for name in DATASETS:
        pattern = os.path.join(out, name, "*", "*.parquet")
        if glob.glob(pattern):
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({quote(pattern)}, "
                        "hive_partitioning = true)")
        else:
            schema = schema or export_columns(repo)
            con.execute(empty_view(name, schema[name]))
    for text in statements:
        con.execute(text)
    result = con.execute(f"SELECT * FROM {want}")
    return [d[0] for d in result.description], result.fetchall()


def spark_has_files(spark, path):
    """Whether `path` (a dataset directory, local or a Hadoop URI) holds any Parquet file."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(hpath):
        return False
    files = fs.listFiles(hpath, True)
    while files.hasNext():
        if files.next().getPath().getName().endswith(".parquet"):
            return True
    return False


def run_spark(spark, out, statements, repo, want):
    schema = None
    for name in DATASETS:
        path = out.rstrip("/") + "/" + name
        if spark_has_files(spark, path):
            spark.read.parquet(path).createOrReplaceTempView(name)
        else:
            schema = schema or export_columns(repo)
            spark.sql(empty_view(name, schema[name]))
    for text in statements:
        spark.sql(text)
    df = spark.sql(f"SELECT * FROM {want}")
    return df.columns, [tuple(r) for r in df.collect()]
