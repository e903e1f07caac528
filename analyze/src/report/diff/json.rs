//! Compared quadruples as JSON: an array of objects with null for "none", as `analyze quads`
//! writes them, and null for the side a quadruple is missing from.

use serde::Serialize;

use super::compare::{Compared, Status};
use super::figures::Figures;
use crate::report::output;
use crate::report::quads::ns_to_ms;

/// One row, keys in this order.
#[derive(Serialize)]
struct Row<'a> {
    caller: &'a str,
    caller_func: Option<&'a str>,
    callee: Option<&'a str>,
    callee_func: Option<&'a str>,
    status: Status,
    before: Option<Numbers>,
    after: Option<Numbers>,
    /// What moved, as the CSV's `changed` names it, so that JSON tells no less.
    changed: Vec<&'static str>,
}

/// One side's figures, in the units of `analyze quads`.
#[derive(Serialize)]
struct Numbers {
    count: u64,
    errors: u64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
}

impl From<&Figures> for Numbers {
    fn from(f: &Figures) -> Self {
        Numbers {
            count: f.count,
            errors: f.errors,
            p50_ms: f.p50_ns.map(ns_to_ms),
            p99_ms: f.p99_ns.map(ns_to_ms),
        }
    }
}

pub(super) fn render(rows: &[Compared]) -> String {
    let rows: Vec<Row<'_>> = rows
        .iter()
        .map(|r| Row {
            caller: &r.caller,
            caller_func: r.caller_func.as_deref(),
            callee: r.callee.as_deref(),
            callee_func: r.callee_func.as_deref(),
            status: r.status,
            before: r.before.as_ref().map(Numbers::from),
            after: r.after.as_ref().map(Numbers::from),
            changed: r.changed.names(),
        })
        .collect();
    output::json(&rows)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::fixture::{self, DECODED, IMG, LINES, RED, SCRIPT};
    use super::*;

    fn parsed(rows: &[Compared]) -> Vec<Value> {
        let out = render(rows);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    }

    fn find(rows: &[Value], callee_func: Value) -> &Value {
        let row = rows.iter().find(|r| r["callee_func"] == callee_func);
        row.unwrap_or_else(|| panic!("no row for {callee_func}"))
    }

    #[test]
    fn rows_have_their_keys_and_nulls() {
        let compared = fixture::compared();
        let rows = parsed(&compared);
        assert_eq!(rows.len(), compared.len());
        let keys = [
            "caller",
            "caller_func",
            "callee",
            "callee_func",
            "status",
            "before",
            "after",
            "changed",
        ];
        // Sorted: the key order depends on serde_json's features.
        let keys_of = |v: &Value| {
            let mut keys: Vec<String> = v
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort_unstable();
            keys
        };
        let sorted = |keys: &[&str]| {
            let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            keys.sort_unstable();
            keys
        };
        for row in &rows {
            assert_eq!(keys_of(row), sorted(&keys), "{row}");
            for side in [&row["before"], &row["after"]] {
                if !side.is_null() {
                    let figures = ["count", "errors", "p50_ms", "p99_ms"];
                    assert_eq!(keys_of(side), sorted(&figures), "{row}");
                }
            }
        }
        assert_eq!(
            find(&rows, json!("POST /charge")),
            &json!({
                "caller": "front", "caller_func": "/checkout", "callee": "payments",
                "callee_func": "POST /charge", "status": "added", "before": null,
                "after": {"count": 240, "errors": 2, "p50_ms": 12.5, "p99_ms": 50.0},
                "changed": [],
            })
        );
        let removed = find(&rows, json!("/charge"));
        assert_eq!(removed["status"], "removed");
        assert_eq!(removed["after"], Value::Null);
        assert_eq!(removed["before"]["count"], 600);
        let doubled = find(&rows, json!("/items"));
        assert_eq!(doubled["status"], "changed");
        assert_eq!(doubled["changed"], json!(["rate"]));
        let none = find(&rows, Value::Null);
        assert_eq!(none["callee"], Value::Null);
        assert_eq!(none["status"], "unchanged");
        assert_eq!(none["before"]["p99_ms"], 35.0);
        assert_eq!(none["after"]["p99_ms"], Value::Null);
        assert_eq!(none["after"]["p50_ms"], Value::Null);
    }

    #[test]
    fn statuses_are_written_by_name() {
        for status in [
            Status::Added,
            Status::Removed,
            Status::Changed,
            Status::Unchanged,
        ] {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(json!(status.name()))
            );
        }
    }

    #[test]
    fn hostile_names_come_back_unchanged() {
        let out = render(&fixture::hostile());
        assert!(!out.contains('\x1b'), "raw escape in {out}");
        let rows = parsed(&fixture::hostile());
        let names: Vec<[&Value; 4]> = rows
            .iter()
            .map(|r| {
                [
                    &r["caller"],
                    &r["caller_func"],
                    &r["callee"],
                    &r["callee_func"],
                ]
            })
            .collect();
        assert_eq!(
            names,
            [
                [&json!(SCRIPT), &json!(IMG), &json!(RED), &json!(LINES)],
                [&json!(IMG), &json!(RED), &Value::Null, &Value::Null],
                [&json!(SCRIPT), &Value::Null, &json!(LINES), &json!(DECODED)],
            ]
        );
        let statuses: Vec<&Value> = rows.iter().map(|r| &r["status"]).collect();
        assert_eq!(
            statuses,
            [&json!("changed"), &json!("added"), &json!("removed")]
        );
    }
}
