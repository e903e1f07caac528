//! Timers: a callback armed with `time.AfterFunc` runs on a goroutine that the runtime's timer
//! code spawns (`go f()` in `time.goFunc`), from whatever goroutine happened to run timers —
//! usually none at all (goid 0). Its parent says nothing; the goroutine that *armed* the timer
//! does. The recorder gives both ends the same word: `timer_arm.value` is the callback's
//! funcval, and `spawn.value` the new goroutine's, so a spawn whose value equals an armed
//! callback is that callback firing.

use std::collections::VecDeque;

use crate::model::events::{IdMap, ProcId};
use crate::rebuild::evidence::Carried;
use crate::rebuild::requests::RequestId;

/// How long an armed callback may wait for its spawn. Most `AfterFunc` timers (those behind
/// `context.WithTimeout`) are stopped and never fire; without a bound they would pile up and a
/// reused funcval address would match one of them long after. Request-scoped timeouts are
/// seconds to minutes.
pub const MAX_TIMER_DELAY_NS: i64 = 10 * 60 * 1_000_000_000;

/// Confidence factor of a match when exactly one armed callback had this funcval: a closure's
/// funcval is allocated per `AfterFunc` call, so the word names one arming.
pub const TIMER_UNIQUE: f64 = 0.9;

/// Confidence factor when several were armed (a top-level function's funcval is static and
/// shared by every arming). The earliest is taken, which is right when they share a duration.
pub const TIMER_AMBIGUOUS: f64 = 0.6;

#[derive(Debug, Clone, Copy)]
struct Arm {
    ts_ns: i64,
    /// What the arming goroutine worked for; `None` for nothing (and then the callback's
    /// goroutine works for nothing either).
    source: Option<Carried>,
}

/// Armings of one funcval, oldest first. One is the common case and costs no allocation.
#[derive(Debug)]
enum Armed {
    One(Arm),
    Many(VecDeque<Arm>),
}

/// A callback firing: what its arming goroutine carried, and how sure the match is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fired {
    /// What the arming goroutine worked for when it armed the timer.
    pub source: Option<Carried>,
    /// [`TIMER_UNIQUE`] or [`TIMER_AMBIGUOUS`].
    pub factor: f64,
}

/// Armed callbacks of every process, waiting for their spawn.
#[derive(Debug, Default)]
pub struct Timers {
    armed: IdMap<(ProcId, i64), Armed>,
    next_sweep_ns: i64,
    /// How many armings still waiting carry each request: a request such a timer may yet
    /// fire for must be kept ([`Timers::holds`]).
    held: IdMap<RequestId, u32>,
}

/// One arming fewer carries its request.
fn release(held: &mut IdMap<RequestId, u32>, arm: &Arm) {
    if let Some(r) = arm.source.map(|s| s.request) {
        if let Some(n) = held.get_mut(&r) {
            *n -= 1;
            if *n == 0 {
                held.remove(&r);
            }
        }
    }
}

impl Timers {
    /// No timers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `n` armed callbacks without growing.
    pub fn with_capacity(n: usize) -> Self {
        Timers {
            armed: IdMap::with_capacity_and_hasher(n, Default::default()),
            next_sweep_ns: 0,
            held: IdMap::default(),
        }
    }

    /// A `timer_arm` of callback `funcval` at `ts_ns` by a goroutine carrying `source`.
    pub fn arm(&mut self, proc: ProcId, funcval: i64, ts_ns: i64, source: Option<Carried>) {
        self.sweep(ts_ns);
        let arm = Arm { ts_ns, source };
        if let Some(r) = source.map(|s| s.request) {
            *self.held.entry(r).or_default() += 1;
        }
        match self.armed.get_mut(&(proc, funcval)) {
            None => {
                self.armed.insert((proc, funcval), Armed::One(arm));
            }
            Some(Armed::Many(arms)) => arms.push_back(arm),
            Some(slot @ Armed::One(_)) => {
                if let Armed::One(first) = *slot {
                    *slot = Armed::Many(VecDeque::from([first, arm]));
                }
            }
        }
    }

    /// A `spawn` at `ts_ns` whose new goroutine runs `funcval`: the earliest unexpired arming of
    /// it, consumed, if there is one.
    pub fn fire(&mut self, proc: ProcId, funcval: i64, ts_ns: i64) -> Option<Fired> {
        let cutoff = ts_ns.saturating_sub(MAX_TIMER_DELAY_NS);
        let slot = self.armed.get_mut(&(proc, funcval))?;
        let held = &mut self.held;
        let (arm, factor, now_empty) = match slot {
            Armed::One(arm) => {
                release(held, arm);
                (Some(*arm).filter(|a| a.ts_ns >= cutoff), TIMER_UNIQUE, true)
            }
            Armed::Many(arms) => {
                while let Some(old) = arms.front().filter(|a| a.ts_ns < cutoff) {
                    release(held, old);
                    arms.pop_front();
                }
                if let Some(next) = arms.front() {
                    release(held, next);
                }
                let factor = if arms.len() > 1 {
                    TIMER_AMBIGUOUS
                } else {
                    TIMER_UNIQUE
                };
                (arms.pop_front(), factor, arms.is_empty())
            }
        };
        if now_empty {
            self.armed.remove(&(proc, funcval));
        }
        arm.map(|arm| Fired {
            source: arm.source,
            factor,
        })
    }

    /// Drops armings that can no longer match, once per [`MAX_TIMER_DELAY_NS`] of recording,
    /// so that memory follows the timers in flight rather than every timer ever armed.
    fn sweep(&mut self, now_ns: i64) {
        if now_ns < self.next_sweep_ns {
            return;
        }
        let cutoff = now_ns.saturating_sub(MAX_TIMER_DELAY_NS);
        let held = &mut self.held;
        let mut keep = |a: &Arm| {
            let kept = a.ts_ns >= cutoff;
            if !kept {
                release(held, a);
            }
            kept
        };
        self.armed.retain(|_, slot| match slot {
            Armed::One(arm) => keep(arm),
            Armed::Many(arms) => {
                arms.retain(|a| keep(a));
                !arms.is_empty()
            }
        });
        self.next_sweep_ns = now_ns.saturating_add(MAX_TIMER_DELAY_NS);
    }

    /// Whether an arming still waiting carries `request`.
    pub fn holds(&self, request: RequestId) -> bool {
        self.held.contains_key(&request)
    }

    /// Armings still waiting (for tests and memory checks).
    pub fn pending(&self) -> usize {
        self.armed
            .values()
            .map(|slot| match slot {
                Armed::One(_) => 1,
                Armed::Many(arms) => arms.len(),
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::EventLog;

    fn proc() -> ProcId {
        EventLog::new().process("h", 1)
    }

    fn from(r: u32) -> Option<Carried> {
        Some(Carried::same_goroutine(RequestId(r)))
    }

    #[test]
    fn each_arming_fires_once() {
        let mut log = EventLog::new();
        let (p, other) = (log.process("h", 1), log.process("h", 2));
        let mut t = Timers::new();
        t.arm(p, 0xf1, 10, from(1));
        assert_eq!(t.fire(p, 0xf2, 20), None, "another callback");
        let fired = t.fire(p, 0xf1, 20);
        assert_eq!(fired.map(|f| f.factor), Some(TIMER_UNIQUE));
        assert_eq!(fired.and_then(|f| f.source), from(1));
        assert_eq!(t.fire(p, 0xf1, 30), None, "already fired");
        assert!(!t.holds(RequestId(1)), "fired: nothing holds it");
        t.arm(p, 0xf1, 40, from(2));
        assert!(t.holds(RequestId(2)));
        assert_eq!(t.fire(other, 0xf1, 50), None, "another process");
        t.sweep(40 + MAX_TIMER_DELAY_NS + 1);
        assert!(!t.holds(RequestId(2)), "expired: nothing holds it");
    }

    #[test]
    fn a_shared_funcval_fires_in_arming_order_with_less_confidence() {
        let p = proc();
        let mut t = Timers::new();
        t.arm(p, 0xf1, 10, from(1));
        t.arm(p, 0xf1, 11, None);
        let first = t.fire(p, 0xf1, 20);
        assert_eq!(first.map(|f| f.factor), Some(TIMER_AMBIGUOUS));
        assert_eq!(first.and_then(|f| f.source), from(1));
        let second = t.fire(p, 0xf1, 21);
        assert_eq!(
            second.map(|f| (f.source, f.factor)),
            Some((None, TIMER_UNIQUE))
        );
        assert_eq!(t.pending(), 0);
    }

    #[test]
    fn armings_expire() {
        let p = proc();
        let mut t = Timers::new();
        t.arm(p, 0xf1, 0, from(1));
        assert_eq!(t.fire(p, 0xf1, MAX_TIMER_DELAY_NS + 1), None);
        t.arm(p, 0xf2, 0, from(1));
        t.arm(p, 0xf2, 5, from(2));
        let fired = t.fire(p, 0xf2, MAX_TIMER_DELAY_NS + 1);
        assert_eq!(
            fired.and_then(|f| f.source),
            from(2),
            "the expired one is skipped"
        );
        // A sweep forgets timers that were stopped and never fired.
        t.arm(p, 0xf3, 10, from(3));
        t.arm(p, 0xf4, 3 * MAX_TIMER_DELAY_NS, from(4));
        assert_eq!(t.pending(), 1);
    }
}
