"""Stage 1 for one host: `analyze export FILE... -o DIR`, leaving out the files it cannot read.

Enters: the `analyze` binary, a host's name and its recordings (paths or URIs), the output
directory (a path, or a URI on object storage). Leaves: the host's five datasets in that
directory, and a result dict (the files left out with why, an error, CPU and wall seconds).

Runs where it is called: on the machine of `fleet.sh --engine duckdb`, or inside a Spark task
on an executor (stage1_spark.py ships this file with `addPyFile`). So it needs nothing but
Python's standard library and the binary, unless a path is a URI (then pyarrow's filesystems
copy the files in and the datasets out).

Why export first and look for the culprit only on failure: `analyze export` refuses a whole
group when one file of it is bad, but the footer check of groups.py already caught what a
footer shows (not Parquet, cut short, not a recording); what remains is rare (pages that do not
decode) and only decoding finds it, which is the export itself. So the common case costs one
export; on failure each file is exported alone into scratch space (what `analyze info`, which
reads only the footer and two columns, cannot vouch for), those that fail are left out with
analyze's own error, and the host is exported again without them. A group that fails while
each of its files passes alone is an error, not a skip: the files are fine, something else is
not (a full disk, a bug), and hiding it would lose a host silently.
"""

import os
import shutil
import stat
import subprocess
import tempfile
import time


def is_uri(path):
    return "://" in path


def run(argv, scratch):
    """Runs argv; returns (exit code, stderr text, CPU seconds of it and its threads, wall)."""
    fd, err_path = tempfile.mkstemp(dir=scratch, suffix=".err")
    started = time.monotonic()
    with os.fdopen(fd, "w+b") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err)
        # wait4, not wait: the child's own CPU time (user + system, every thread of it).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    os.unlink(err_path)
    return proc.returncode, text, usage.ru_utime + usage.ru_stime, time.monotonic() - started


def why(stderr, code):
    """analyze's error line (`error: ...`), else the last line it wrote, else the exit code."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    text = (errors or lines or [f"exit status {code}"])[-1]
    text = text.removeprefix("error: ")
    return text if len(text) <= 300 else text[:297] + "..."


def stage_in(paths, scratch):
    """Local paths for `paths`: URIs copied into scratch (analyze reads local files)."""
    local = []
    for i, path in enumerate(paths):
        if not is_uri(path):
            local.append(path)
            continue
        from pyarrow import fs

        dest = os.path.join(scratch, f"in-{i:05}-{os.path.basename(path.rstrip('/'))}")
        fs.copy_files(path, dest)
        local.append(dest)
    return local


def export_group(analyze, host, paths, out, command="export"):
    """Exports host's recordings `paths` into `out`; see the module doc. `command` other than
    "export" runs that analyze command on the files instead, without -o (a stand-in to test
    the plumbing with, e.g. "info")."""
    result = {"host": host, "files": list(paths), "skipped": [], "error": None,
              "cpu_s": 0.0, "wall_s": 0.0, "exports": 0, "stderr": ""}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="quadtrace-export-") as scratch:

        def attempt(files, dest):
            argv = [analyze, command, *files] + (["-o", dest] if command == "export" else [])
            code, text, cpu, _ = run(argv, scratch)
            result["cpu_s"] += cpu
            result["exports"] += 1
            return code, text

        try:
            local = stage_in(paths, scratch)
            dest = os.path.join(scratch, "out") if is_uri(out) else out
            code, text = attempt(local, dest)
            if code != 0:
                bad = []
                if len(local) == 1:
                    bad = [(paths[0], why(text, code))]
                else:
                    for path, lpath in zip(paths, local):
                        alone = tempfile.mkdtemp(dir=scratch)
                        c, t = attempt([lpath], alone)
                        shutil.rmtree(alone, ignore_errors=True)
                        if c != 0:
                            bad.append((path, why(t, c)))
                if not bad:
                    result["error"] = ("analyze export failed on the host's files together "
                                       f"although each passes alone: {why(text, code)}")
                    return result
                result["skipped"] = bad
                left_out = {p for p, _ in bad}
                keep = [lp for p, lp in zip(paths, local) if p not in left_out]
                result["files"] = [p for p in paths if p not in left_out]
                code, text = (attempt(keep, dest) if keep else (0, ""))
                if code != 0:
                    result["error"] = f"analyze export failed: {why(text, code)}"
                    return result
            result["stderr"] = text
            if is_uri(out) and os.path.isdir(dest):
                from pyarrow import fs

                fs.copy_files(dest, out.rstrip("/"))
        except OSError as e:  # the binary missing, scratch full, a copy failing
            result["error"] = f"{type(e).__name__}: {e}"
        finally:
            result["wall_s"] = time.monotonic() - started
    return result


def spark_task(binary, out, command, item):
    """A Spark task (stage1_spark.py): `item` is (host, paths); `binary` the name the analyze
    binary was shipped under with SparkContext.addFile."""
    from pyspark import SparkFiles

    host, paths = item
    analyze = SparkFiles.get(binary)
    if not os.access(analyze, os.X_OK):
        # Spark marks fetched files executable on Unix; should a file system have lost the bit,
        # a private copy gets it back.
        private = os.path.join(tempfile.mkdtemp(prefix="quadtrace-bin-"), binary)
        shutil.copy(analyze, private)
        os.chmod(private, os.stat(private).st_mode | stat.S_IXUSR)
        analyze = private
    result = export_group(analyze, host, paths, out, command)
    result["executor"] = os.uname().nodename
    return result
