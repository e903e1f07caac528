//! A guard around the Parquet decoder: a damaged file must give an error naming it, not a panic.
//!
//! polars trusts the bytes it decodes: a corrupt page header, a length or offset bent by a
//! flipped bit, panics inside it (an index out of bounds, a failed assertion), often on one of
//! its pool threads, from which the panic reaches the caller. [`catch`] turns such a panic into
//! the message it carried, and keeps the panic hook quiet while a guarded call runs, so that
//! `analyze` prints one line about the file rather than a backtrace about polars internals.
//! Panics outside a guarded call still reach the hook that was there before.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// Guarded calls running now, on any thread.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
static HOOK: Once = Once::new();

/// Runs `f`; a panic inside it comes back as `Err` with its message.
///
/// `f` only decodes into values it owns and that are dropped with the panic, so nothing it
/// leaves half-done is seen afterwards (hence `AssertUnwindSafe`).
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // While a decode is guarded, a panic on any thread is the decoder's (polars' pool
            // threads run nothing else for analyze), and it is reported as an error instead.
            if ACTIVE.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
    ACTIVE.fetch_add(1, Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    ACTIVE.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|payload| message(payload.as_ref()))
}

/// The text a panic was raised with, on one line.
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("the decoder stopped with no message");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch(|| 7), Ok(7));
        let index = 9;
        let err = catch(|| [1, 2, 3][index]).expect_err("out of bounds");
        assert!(err.contains("index out of bounds"), "{err}");
        let err = catch(|| panic!("bad\npage {}", 3)).expect_err("panics");
        assert_eq!(err, "bad page 3");
    }

    #[test]
    fn a_panic_on_another_thread_is_caught_where_it_is_joined() {
        let err = catch(|| std::thread::scope(|s| s.spawn(|| panic!("on a pool thread")).join()))
            .map(|joined| joined.map_err(|p| message(p.as_ref())));
        assert_eq!(err, Ok(Err("on a pool thread".to_owned())));
    }
}
