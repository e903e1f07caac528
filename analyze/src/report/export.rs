//! `analyze export`: one host's recordings reduced to the flat datasets of `schema/EXPORT.md`
//! (calls, requests, listeners, addresses, connects), for fleet roll-ups in SQL on Spark or
//! DuckDB (`schema/sql/`).
//!
//! The export reads the recordings twice, as `analyze calls` does: the first pass learns the
//! names (strings, processes, listeners); the second hands every call, request and connection
//! over as the reconstruction lets it go ([`handover`]), and a thread of its own writes them
//! ([`rows`], [`table`]), so memory follows what is live, not the recording's length. What
//! counts as made for a request, and which request a call caused, is decided exactly as
//! `analyze quads` decides; what only the whole fleet can tell (routes, callees named by
//! address or linked across hosts) is left to the SQL, with the columns it needs.

pub(crate) mod handover;
pub(crate) mod rows;
pub(crate) mod table;

use std::path::{Path, PathBuf};

use quadtrace_schema::export::{Dataset, ADDRESSES, CALLS, CONNECTS, LISTENERS, REQUESTS};

use self::handover::Item;
use self::rows::{ListenText, Names, When};
use self::table::{Table, Value, WriteError};
use crate::model::events::EventLog;
use crate::rebuild::sockets::Sockets;
use crate::report::callee::{namespace_addrs, ListenerRow};

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Rows per dataset, in `schema/EXPORT.md`'s order.
    pub rows: Vec<(&'static str, u64)>,
    /// The files written.
    pub files: Vec<PathBuf>,
}

/// The datasets being written, and what names their rows.
pub(crate) struct Export<'a> {
    names: Names<'a>,
    calls: Table,
    requests: Table,
    listeners: Table,
    addresses: Table,
    connects: Table,
    /// The earliest date of a row so far: where listeners and addresses go.
    first_date: Option<String>,
}

impl<'a> Export<'a> {
    /// Writing under `dir`, each file named `file`, rows named from `log` and `sockets`.
    pub(crate) fn new(dir: &Path, file: &str, log: &'a EventLog, sockets: &'a Sockets) -> Self {
        let table = |d: &'static Dataset| Table::new(dir, d, file);
        Export {
            names: Names { log, sockets },
            calls: table(&CALLS),
            requests: table(&REQUESTS),
            listeners: table(&LISTENERS),
            addresses: table(&ADDRESSES),
            connects: table(&CONNECTS),
            first_date: None,
        }
    }

    /// Writes one item handed over.
    pub(crate) fn item(&mut self, item: &Item) -> Result<(), WriteError> {
        let names = &self.names;
        let (table, when, row): (&mut Table, When, Vec<Value<'_>>) = match item {
            Item::Call {
                call,
                request,
                linked,
            } => {
                let when = names.when(call.proc, call.ts_ns);
                let dial = names.dial(call);
                let row = names.call(call, request.as_ref(), *linked, &when, dial.as_ref());
                return push(&mut self.calls, &mut self.first_date, &when, &row);
            }
            Item::Request { request, called } => {
                let when = names.when(request.proc, request.start_ns);
                let row = names.request(request, *called, &when);
                (&mut self.requests, when, row)
            }
            Item::Connect {
                proc,
                ts_ns,
                socket,
            } => {
                let when = names.when(*proc, *ts_ns);
                let Some(row) = names.connect(*proc, *ts_ns, socket, &when) else {
                    return Ok(());
                };
                (&mut self.connects, when, row)
            }
        };
        push(table, &mut self.first_date, &when, &row)
    }

    /// Writes the listeners and the namespaces' addresses, then completes every file. On a
    /// failure, every file begun is removed.
    pub(crate) fn finish(mut self, listeners: &[ListenerRow]) -> Result<ExportSummary, WriteError> {
        let done = self.write_places(listeners).and_then(|()| self.complete());
        if done.is_err() {
            self.abandon();
        }
        done
    }

    fn write_places(&mut self, listeners: &[ListenerRow]) -> Result<(), WriteError> {
        // The date the first row went to; without rows, the date the recordings began.
        let date = self
            .first_date
            .clone()
            .unwrap_or_else(|| When::of(self.names.log.first_wall_start()).date);
        for row in listeners {
            let Some(place) = ListenText::of(&row.addr) else {
                continue;
            };
            let values = self.names.listener(row, &place);
            self.listeners.push(&date, &values)?;
        }
        let mut seen = std::collections::BTreeSet::new();
        for (host, netns, addrs) in namespace_addrs(self.names.log) {
            for ip in addrs {
                let ip = ip.to_string();
                if seen.insert((host, netns, ip.clone())) {
                    let row = [
                        Value::Str(Some(host)),
                        Value::I64(Some(netns)),
                        Value::Str(Some(&ip)),
                    ];
                    self.addresses.push(&date, &row)?;
                }
            }
        }
        Ok(())
    }

    fn complete(&mut self) -> Result<ExportSummary, WriteError> {
        let mut summary = ExportSummary::default();
        for t in self.tables() {
            summary.rows.push((t.name(), t.rows));
            summary.files.extend(t.finish()?);
        }
        Ok(summary)
    }

    fn tables(&mut self) -> [&mut Table; 5] {
        [
            &mut self.calls,
            &mut self.requests,
            &mut self.listeners,
            &mut self.addresses,
            &mut self.connects,
        ]
    }

    /// Removes every file begun (after a failure elsewhere).
    pub(crate) fn abandon(mut self) {
        for t in self.tables() {
            t.abandon();
        }
    }
}

/// Adds `row` to `table` in `when`'s partition, noting the earliest date.
fn push(
    table: &mut Table,
    first_date: &mut Option<String>,
    when: &When,
    row: &[Value<'_>],
) -> Result<(), WriteError> {
    if first_date.as_ref().is_none_or(|d| when.date < *d) && when.wall_ns.is_some() {
        *first_date = Some(when.date.clone());
    }
    table.push(&when.date, row)
}

/// The name every file of an export of `paths` gets: the first host's name (letters, digits,
/// `.`, `_` and `-` kept) and a hash of the files' names, so that exports of several hosts, or
/// of several sets of one host's files, can share a directory, and exporting the same files
/// again replaces its own files.
pub fn part_name(paths: &[PathBuf], log: &EventLog) -> String {
    let host: String = log
        .processes()
        .first()
        .map_or("", |p| p.hostname.as_str())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let host = if host.is_empty() {
        "host".to_owned()
    } else {
        host
    };
    // FNV-1a over the file names: stable across builds and platforms (std's hasher is not
    // promised to be), which a re-export must be to replace its own files.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for p in paths {
        let name = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        for b in name.to_string_lossy().bytes().chain([0]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{host}-{hash:016x}.parquet")
}
