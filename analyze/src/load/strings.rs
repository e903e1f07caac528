//! String columns turned into symbols and kinds.
//!
//! Within one Arrow array, equal views are equal strings: a short string (up to 12 bytes) is
//! inside its 16-byte view, a long one is named by its buffer and offset, which the
//! dictionary-decoded columns share between equal values. So a view is interned once per
//! array and then looked up as 16 bytes rather than hashed and compared as a string; and the
//! columns every row has (kind, service) are turned into symbols in one tight pass each, which
//! reads the column's views in order (a row-by-row pass over two dozen columns at once walks
//! more streams of memory than the processor prefetches, and waits on each).

use polars::prelude::*;
use quadtrace_schema::EventKind;

use crate::events::{EventLog, IdMap, Sym};

/// One chunk of a string column.
pub(super) type StrArray = <StringType as PolarsDataType>::Array;

/// Interns one column's strings, remembering the last one: consecutive rows mostly repeat the
/// service and often the method and host, and a comparison is cheaper than a hash lookup. The
/// last string is compared where the log keeps it, so that a miss allocates nothing.
#[derive(Default)]
pub(super) struct Interner {
    last: Option<Sym>,
    /// The symbol of each string view seen in the current chunk.
    views: IdMap<u128, Sym>,
}

impl Interner {
    pub(super) fn get(&mut self, log: &mut EventLog, s: &str) -> Sym {
        if let Some(sym) = self.last {
            if log.str(sym) == s {
                return sym;
            }
        }
        let sym = log.intern(s);
        self.last = Some(sym);
        sym
    }

    /// Row `i` of a string column chunk (none when null or absent).
    pub(super) fn col(
        &mut self,
        log: &mut EventLog,
        arr: Option<&StrArray>,
        i: usize,
    ) -> Option<Sym> {
        let arr = arr?;
        let s = arr.get(i)?;
        let Some(view) = arr.views().get(i).map(|v| v.as_u128()) else {
            return Some(self.get(log, s));
        };
        if let Some(&sym) = self.views.get(&view) {
            return Some(sym);
        }
        let sym = self.get(log, s);
        self.views.insert(view, sym);
        Some(sym)
    }

    /// The symbol of every row of `arr`, which has no nulls, into `out`.
    pub(super) fn all(&mut self, log: &mut EventLog, arr: &StrArray, out: &mut Vec<Sym>) {
        out.clear();
        out.reserve(arr.len());
        let mut last: Option<(u128, Sym)> = None;
        for (i, view) in arr.views().iter().enumerate() {
            let view = view.as_u128();
            let sym = match last {
                Some((seen, sym)) if seen == view => sym,
                _ => {
                    let sym = match self.views.get(&view) {
                        Some(&sym) => sym,
                        None => {
                            let sym = self.get(log, arr.value(i));
                            self.views.insert(view, sym);
                            sym
                        }
                    };
                    last = Some((view, sym));
                    sym
                }
            };
            out.push(sym);
        }
    }

    /// Views name bytes of one chunk's buffers: forget them at the next chunk.
    pub(super) fn new_chunk(&mut self) {
        self.views.clear();
    }
}

/// The kind of every row of `arr`, which has no nulls, into `out` (none: not a kind this build
/// knows). A recording has a handful of distinct kind views, so a short list beats a map.
pub(super) fn kinds(arr: &StrArray, out: &mut Vec<Option<EventKind>>) {
    out.clear();
    out.reserve(arr.len());
    let mut known: Vec<(u128, Option<EventKind>)> = Vec::with_capacity(EventKind::ALL.len());
    for (i, view) in arr.views().iter().enumerate() {
        let view = view.as_u128();
        let kind = match known.iter().find(|(v, _)| *v == view) {
            Some(&(_, kind)) => kind,
            None => {
                let kind = arr.value(i).parse::<EventKind>().ok();
                // A file of junk names is parsed row by row rather than searched through.
                if known.len() < 64 {
                    known.push((view, kind));
                }
                kind
            }
        };
        out.push(kind);
    }
}

/// One [`Interner`] per string column.
#[derive(Default)]
pub(super) struct Names {
    pub(super) service: Interner,
    pub(super) method: Interner,
    pub(super) host: Interner,
    pub(super) path: Interner,
    pub(super) listen: Interner,
    pub(super) route: Interner,
}

impl Names {
    pub(super) fn new_chunk(&mut self) {
        for n in [
            &mut self.service,
            &mut self.method,
            &mut self.host,
            &mut self.path,
            &mut self.listen,
            &mut self.route,
        ] {
            n.new_chunk();
        }
    }
}
