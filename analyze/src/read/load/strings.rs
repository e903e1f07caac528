//! String columns turned into symbols and kinds.
//!
//! Within one Arrow array, equal views are equal strings: a short string (up to 12 bytes) is
//! inside its 16-byte view, a long one is named by its buffer and offset, which the
//! dictionary-decoded columns share between equal values. So a view is interned once per
//! array and then looked up as 16 bytes rather than hashed and compared as a string; and the
//! columns every row has (kind, service) are turned into symbols in one tight pass each, which
//! reads the column's views in order (a row-by-row pass over two dozen columns at once walks
//! more streams of memory than the processor prefetches, and waits on each).

use arrow_array::{Array, StringViewArray};
use quadtrace_schema::EventKind;

use crate::model::events::{EventLog, IdMap, Sym};

/// One slice of a string column.
pub(super) type StrArray = StringViewArray;

/// The longest string an Arrow view holds inline.
const INLINE_MAX: u32 = 12;

/// Interns one column's strings, remembering the last one: consecutive rows mostly repeat the
/// service and often the method and host, and a comparison is cheaper than a hash lookup. The
/// last string is compared where the log keeps it, so that a miss allocates nothing.
#[derive(Default)]
struct Interner {
    last: Option<Sym>,
    /// The symbol of each string view seen in the current slice.
    views: IdMap<u128, Sym>,
    /// The symbol of each string of up to 12 bytes seen in any slice: such a view holds the
    /// string itself, so it means the same in every slice (a slice of a busy recording brings
    /// thousands of short paths and addresses seen in the slices before).
    inline: IdMap<u128, Sym>,
    /// The last view looked up in the current slice and its symbol: consecutive rows repeat.
    last_view: Option<(u128, Sym)>,
}

impl Interner {
    fn get(&mut self, log: &mut EventLog, s: &str) -> Sym {
        if let Some(sym) = self.last {
            if log.str(sym) == s {
                return sym;
            }
        }
        let sym = log.intern(s);
        self.last = Some(sym);
        sym
    }

    /// The symbol of every row of a slice of `len` rows of a column that may have nulls, or
    /// be absent (a file older than the column), into `out`.
    fn each(
        &mut self,
        log: &mut EventLog,
        arr: Option<&StrArray>,
        len: usize,
        out: &mut Vec<Option<Sym>>,
    ) {
        out.clear();
        let Some(arr) = arr else {
            out.resize(len, None);
            return;
        };
        // Most of these columns are set on a few kinds of row only (the socket columns on one
        // row in thousands): mostly null, they are filled from the validity's set bits alone.
        if let Some(set) = sparse_rows(arr) {
            out.resize(arr.len(), None);
            let views = arr.views();
            for i in set {
                if let (Some(slot), Some(&view)) = (out.get_mut(i), views.get(i)) {
                    *slot = Some(self.view(log, view, || arr.value(i)));
                }
            }
            return;
        }
        out.reserve(arr.len());
        for (s, view) in arr.iter().zip(arr.views().iter()) {
            out.push(s.map(|s| self.view(log, *view, || s)));
        }
    }

    /// The symbol of the string `s` gives, whose view in the current slice is `view` (`s` is
    /// only called when the view is new to the slice).
    #[inline]
    fn view<'s>(&mut self, log: &mut EventLog, view: u128, s: impl FnOnce() -> &'s str) -> Sym {
        if let Some((seen, sym)) = self.last_view {
            if seen == view {
                return sym;
            }
        }
        // A view's low 32 bits are the string's length.
        let inline = view as u32 <= INLINE_MAX;
        let known = if inline {
            self.inline.get(&view)
        } else {
            self.views.get(&view)
        };
        let sym = match known.copied() {
            Some(sym) => sym,
            None => {
                let sym = self.get(log, s());
                if inline {
                    self.inline.insert(view, sym);
                } else {
                    self.views.insert(view, sym);
                }
                sym
            }
        };
        self.last_view = Some((view, sym));
        sym
    }

    /// The symbol of every row of `arr`, which has no nulls, into `out`.
    fn all(&mut self, log: &mut EventLog, arr: &StrArray, out: &mut Vec<Sym>) {
        out.clear();
        out.reserve(arr.len());
        for (i, &view) in arr.views().iter().enumerate() {
            out.push(self.view(log, view, || arr.value(i)));
        }
    }

    /// Views name bytes of one slice's buffers: forget them at the next slice.
    fn new_slice(&mut self) {
        self.views.clear();
        self.last_view = None;
    }
}

/// The rows of `arr` that are not null, when fewer than half are.
fn sparse_rows(arr: &StrArray) -> Option<impl Iterator<Item = usize> + '_> {
    let nulls = arr.nulls()?;
    (nulls.null_count() > nulls.len() / 2).then(|| nulls.valid_indices())
}

/// The kind of every row of `arr`, which has no nulls, into `out` (none: not a kind this build
/// knows). A recording has a handful of distinct kind views, so a short list beats a map.
fn kinds(arr: &StrArray, out: &mut Vec<Option<EventKind>>) {
    out.clear();
    out.reserve(arr.len());
    let mut known: Vec<(u128, Option<EventKind>)> = Vec::with_capacity(EventKind::ALL.len());
    for (i, &view) in arr.views().iter().enumerate() {
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

/// The string columns of one slice.
pub(super) struct StringCols<'a> {
    pub(super) kind: &'a StrArray,
    pub(super) service: &'a StrArray,
    pub(super) method: Option<&'a StrArray>,
    pub(super) host: Option<&'a StrArray>,
    pub(super) path: Option<&'a StrArray>,
    pub(super) listen: Option<&'a StrArray>,
    pub(super) route: Option<&'a StrArray>,
    pub(super) remote: Option<&'a StrArray>,
    pub(super) local: Option<&'a StrArray>,
}

/// The string columns of the current slice as kinds and symbols, row by row, with one
/// [`Interner`] per column.
#[derive(Default)]
pub(super) struct Strings {
    pub(super) kind: Vec<Option<EventKind>>,
    pub(super) service: Vec<Sym>,
    pub(super) method: Vec<Option<Sym>>,
    pub(super) host: Vec<Option<Sym>>,
    pub(super) path: Vec<Option<Sym>>,
    pub(super) listen: Vec<Option<Sym>>,
    pub(super) route: Vec<Option<Sym>>,
    pub(super) remote: Vec<Option<Sym>>,
    pub(super) local: Vec<Option<Sym>>,
    interners: [Interner; 8],
}

impl Strings {
    /// Reads the string columns of a slice of `len` rows, replacing the last slice's.
    pub(super) fn read(&mut self, log: &mut EventLog, cols: &StringCols<'_>, len: usize) {
        for interner in &mut self.interners {
            interner.new_slice();
        }
        let [service, method, host, path, listen, route, remote, local] = &mut self.interners;
        kinds(cols.kind, &mut self.kind);
        service.all(log, cols.service, &mut self.service);
        method.each(log, cols.method, len, &mut self.method);
        host.each(log, cols.host, len, &mut self.host);
        path.each(log, cols.path, len, &mut self.path);
        listen.each(log, cols.listen, len, &mut self.listen);
        route.each(log, cols.route, len, &mut self.route);
        remote.each(log, cols.remote, len, &mut self.remote);
        local.each(log, cols.local, len, &mut self.local);
    }
}
