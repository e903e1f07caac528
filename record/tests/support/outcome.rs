//! A recording read back through `analyze` as a user would (quadruples and calls), and the
//! checks the topology tests make on it. Checks are collected, not asserted one by one, so
//! that a failure shows every mismatch at once, with the quadruples got and expected, the
//! naming table and what `record` printed: enough to tell a naming bug from a linking bug
//! from a harness bug without rerunning.

use std::path::Path;
use std::process::Stdio;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::{analyze_cmd, analyze_json, start_record, stop_record};

/// What one recording came to.
pub struct Outcome {
    /// `analyze quads --format json`, quadruple and count only.
    pub quads: Value,
    /// `analyze calls --format json`, every field.
    pub calls: Value,
    /// Everything `record` wrote on stderr.
    pub stderr: String,
    /// Quadruples of processes the test does not own, left out (`record -a` sees the host).
    pub ignored: Vec<Value>,
}

/// `analyze calls --format json FILE`, parsed.
fn analyze_calls(file: &Path) -> Result<Value> {
    let o = analyze_cmd()
        .args(["calls", "--format", "json"])
        .arg(file)
        .output()
        .context("running analyze calls")?;
    if !o.status.success() {
        bail!(
            "analyze calls failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    serde_json::from_slice(&o.stdout).context("analyze calls' JSON")
}

/// Runs `record ARGS` (writing `out`) while `during` runs, stops it with Ctrl-C and reads the
/// recording back. Record is stopped whatever `during` did; its stderr goes with any error.
pub fn record_while(
    args: &[String],
    out: &Path,
    during: impl FnOnce() -> Result<()>,
) -> Result<Outcome> {
    let (rec, rx) = start_record(args, Stdio::null())?;
    let driven = during();
    let stopped = stop_record(rec, &rx);
    let stderr = match (driven, stopped) {
        (Ok(()), Ok(stderr)) => stderr,
        (Err(e), Ok(stderr)) => bail!("{e:#}\nrecord said:\n{stderr}"),
        (Ok(()), Err(e)) => bail!("{e:#}"),
        (Err(e), Err(stop)) => bail!("{e:#}\nand record: {stop:#}"),
    };
    let read = || -> Result<(Value, Value)> { Ok((analyze_json(out)?, analyze_calls(out)?)) };
    let (quads, calls) = read().with_context(|| format!("record said:\n{stderr}"))?;
    Ok(Outcome {
        quads,
        calls,
        stderr,
        ignored: Vec::new(),
    })
}

impl Outcome {
    /// Keeps the quadruples `ours` accepts and the calls made by `pids`; the rest is shown
    /// apart, in case the filter hid something that mattered.
    pub fn keep_only(&mut self, ours: impl Fn(&Value) -> bool, pids: &[u32]) {
        if let Some(quads) = self.quads.as_array_mut() {
            let (kept, ignored): (Vec<Value>, Vec<Value>) = quads.drain(..).partition(|q| ours(q));
            *quads = kept;
            self.ignored = ignored;
        }
        if let Some(calls) = self.calls.as_array_mut() {
            calls.retain(|c| {
                c["pid"]
                    .as_u64()
                    .is_some_and(|p| pids.contains(&(p as u32)))
            });
        }
    }

    /// The calls as an array (empty when analyze gave something else).
    pub fn calls(&self) -> &[Value] {
        self.calls.as_array().map_or(&[], Vec::as_slice)
    }
}

/// A quadruple as analyze's JSON has it: `None` for `none`.
pub fn quad(
    caller: Option<&str>,
    caller_func: Option<&str>,
    callee: Option<&str>,
    callee_func: Option<&str>,
    count: usize,
) -> Value {
    serde_json::json!({
        "caller": caller, "caller_func": caller_func,
        "callee": callee, "callee_func": callee_func, "count": count,
    })
}

/// One quadruple a line, aligned, sorted: how got and expected are shown side by side.
pub fn quads_table(quads: &Value) -> String {
    let cell = |v: &Value| match v {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut rows: Vec<Vec<String>> = quads
        .as_array()
        .into_iter()
        .flatten()
        .map(|q| {
            ["caller", "caller_func", "callee", "callee_func", "count"]
                .iter()
                .map(|k| cell(&q[*k]))
                .collect()
        })
        .collect();
    rows.sort();
    if rows.is_empty() {
        return "  (no quadruples)\n".to_string();
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("  [{}]\n", cells.join(", "))
        })
        .collect()
}

/// The quadruples sorted, so that two lists compare whatever order analyze printed them in.
fn sorted(quads: &Value) -> Vec<String> {
    let mut v: Vec<String> = quads
        .as_array()
        .into_iter()
        .flatten()
        .map(Value::to_string)
        .collect();
    v.sort();
    v
}

/// The checks of one test, collected; [`Checks::finish`] fails with all of them.
#[derive(Default)]
pub struct Checks {
    failures: Vec<String>,
}

impl Checks {
    pub fn new() -> Checks {
        Checks::default()
    }

    /// Records a failure unless `ok`.
    pub fn that(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(what());
        }
    }

    /// Exactly these quadruples with these counts, in any order.
    pub fn quads(&mut self, got: &Value, expected: &[Value]) {
        let expected = Value::Array(expected.to_vec());
        if sorted(got) != sorted(&expected) {
            self.failures.push(format!(
                "quadruples differ\n got:\n{}expected:\n{}",
                quads_table(got),
                quads_table(&expected)
            ));
        }
    }

    /// Every call is linked (`link` not null) to a request of the process `expected_pid(call)`
    /// says. Until `analyze calls` has the `link` fields, that is one failure saying so.
    pub fn calls_linked(&mut self, calls: &[Value], expected_pid: impl Fn(&Value) -> Option<u32>) {
        if calls.is_empty() {
            self.failures
                .push("analyze calls listed no call at all".to_string());
            return;
        }
        if calls.iter().all(|c| c.get("link").is_none()) {
            self.failures.push(format!(
                "analyze calls has no `link`/`linked_pid` fields (first call: {})",
                calls[0]
            ));
            return;
        }
        let wrong: Vec<String> = calls
            .iter()
            .filter_map(|c| {
                let want = expected_pid(c);
                let linked = c["link"].as_str().is_some();
                let pid = c["linked_pid"].as_u64().map(|p| p as u32);
                (!linked || pid != want).then(|| {
                    format!(
                        "  pid {} {} -> {}: link {}, linked_pid {}, expected linked_pid {}",
                        c["pid"],
                        c["caller_path"],
                        c["callee_addr"],
                        c["link"],
                        c["linked_pid"],
                        want.map_or("?".to_string(), |p| p.to_string())
                    )
                })
            })
            .collect();
        if !wrong.is_empty() {
            let shown = wrong.iter().take(5).cloned().collect::<Vec<_>>().join("\n");
            self.failures.push(format!(
                "{} of {} calls not linked to the expected request:\n{shown}",
                wrong.len(),
                calls.len()
            ));
        }
    }

    /// Panics with every failure, the naming table, the quadruples left out and record's
    /// stderr; prints the naming table either way (the closing note quotes it).
    pub fn finish(self, title: &str, outcome: &Outcome, naming: &str) {
        eprintln!("{title}: naming\n{naming}");
        if self.failures.is_empty() {
            eprintln!("{title}: ok\n{}", quads_table(&outcome.quads));
            return;
        }
        let ignored = if outcome.ignored.is_empty() {
            String::new()
        } else {
            format!(
                "\nquadruples of other processes, left out:\n{}",
                quads_table(&Value::Array(outcome.ignored.clone()))
            )
        };
        panic!(
            "{title}: {} check(s) failed\n\n{}\n\nnaming:\n{naming}{ignored}\nrecord said:\n{}",
            self.failures.len(),
            self.failures.join("\n\n"),
            outcome.stderr
        );
    }
}
