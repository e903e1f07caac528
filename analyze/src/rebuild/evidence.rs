//! The vocabulary of attribution: the kinds of evidence that tie a client call to a server
//! request, strongest first (see DESIGN.md), and how sure each one is.
//!
//! A goroutine passes what it works for on to what it starts: goroutines it spawns, values it
//! sends, timers it arms. That passed-on state is a [`Carried`]; a call's verdict is an
//! [`Attribution`]. Confidences multiply along such a chain: a worker that received a value from
//! a goroutine spawned by a handler is less certain than the handler's own call.

use crate::rebuild::requests::RequestId;

/// The kind of evidence behind an attribution, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Evidence {
    /// The call ran on the goroutine serving the request, while it was open.
    SameGoroutine,
    /// The calling goroutine descends through spawns (or a timer it armed) from a goroutine
    /// that worked for the request at the time.
    Spawned,
    /// The call's context, or one of its recorded ancestors, is the request's context.
    Context,
    /// The calling goroutine last received a value sent by a goroutine working for the request.
    Channel,
    /// Nothing links the call to a request: a background job, a ticker, a scrape loop.
    None,
}

impl Evidence {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::SameGoroutine => "same_goroutine",
            Evidence::Spawned => "spawned",
            Evidence::Context => "context",
            Evidence::Channel => "channel",
            Evidence::None => "none",
        }
    }
}

/// A call on the request's own goroutine is the request's by construction.
pub const SAME_GOROUTINE: f64 = 1.0;

/// Confidence of a direct child of the request's goroutine: only a goroutine that outlives its
/// request's purpose (a pool started on demand, within the age bound) makes it wrong.
pub const SPAWN_FIRST_LINK: f64 = 0.95;
/// Each further link leaves more room for such a goroutine in between.
pub const SPAWN_LINK_DECAY: f64 = 0.05;
/// However deep (within [`MAX_SPAWN_DEPTH`](crate::rebuild::lineage::MAX_SPAWN_DEPTH)), descent is
/// still better evidence than a context pointer seen only on the call.
pub const SPAWN_FLOOR: f64 = 0.5;

/// The confidence factor of `depth` spawn links (1 for none).
pub fn spawn_factor(depth: u8) -> f64 {
    if depth == 0 {
        return 1.0;
    }
    (SPAWN_FIRST_LINK - SPAWN_LINK_DECAY * f64::from(depth - 1)).max(SPAWN_FLOOR)
}

/// Why a client call belongs to a request, or that nothing says it does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attribution {
    /// The kind of evidence.
    pub evidence: Evidence,
    /// The request; `None` exactly when the evidence is [`Evidence::None`].
    pub request: Option<RequestId>,
    /// How sure, from 0 (no evidence) to 1 (certain), rounded to hundredths.
    pub confidence: f64,
}

impl Attribution {
    /// No evidence.
    pub const NONE: Attribution = Attribution {
        evidence: Evidence::None,
        request: None,
        confidence: 0.0,
    };

    /// An attribution to `request`.
    pub fn to(request: RequestId, evidence: Evidence, confidence: f64) -> Self {
        Attribution {
            evidence,
            request: Some(request),
            confidence: round2(confidence),
        }
    }

    /// The request the call is attributed to.
    pub fn request(&self) -> Option<RequestId> {
        self.request
    }

    /// The name of the evidence kind, for reports.
    pub fn evidence(&self) -> &'static str {
        self.evidence.as_str()
    }
}

/// Confidences are estimates; two decimals are all they honestly have, and rounding keeps
/// `--min-confidence 0.9` from failing on 0.8999999.
fn round2(x: f64) -> f64 {
    (x.clamp(0.0, 1.0) * 100.0).round() / 100.0
}

/// What a goroutine works for at some moment, as passed on to what it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Carried {
    /// The request.
    pub request: RequestId,
    /// How the goroutine came to work for it: [`Evidence::SameGoroutine`],
    /// [`Evidence::Spawned`] or [`Evidence::Channel`] (context is a property of one call, not
    /// of a goroutine, so it is never carried).
    pub evidence: Evidence,
    /// Confidence at the root of the spawn chain: 1 for the request's goroutine, the handoff's
    /// confidence for a worker, the arming goroutine's scaled by the timer match for a timer.
    pub root: f64,
    /// Spawn links between this goroutine and that root (0: it is the root).
    pub depth: u8,
}

impl Carried {
    /// The goroutine serving `request`.
    pub fn same_goroutine(request: RequestId) -> Self {
        Carried {
            request,
            evidence: Evidence::SameGoroutine,
            root: SAME_GOROUTINE,
            depth: 0,
        }
    }

    /// How sure this goroutine works for the request.
    pub fn confidence(&self) -> f64 {
        self.root * spawn_factor(self.depth)
    }

    /// The same, with the root's confidence scaled by `factor` (a weaker link at the root).
    pub fn scaled(self, factor: f64) -> Self {
        Carried {
            root: self.root * factor,
            ..self
        }
    }

    /// The verdict for a call made by this goroutine.
    pub fn attribution(&self) -> Attribution {
        Attribution::to(self.request, self.evidence, self.confidence())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::lineage::MAX_SPAWN_DEPTH;

    #[test]
    fn confidences_round_and_chains_multiply() {
        let r = RequestId(0);
        assert_eq!(Carried::same_goroutine(r).attribution().confidence, 1.0);
        let worker = Carried {
            request: r,
            evidence: Evidence::Channel,
            root: 0.9,
            depth: 0,
        };
        assert_eq!(worker.attribution().confidence, 0.9);
        let child = Carried {
            evidence: Evidence::Spawned,
            depth: 1,
            ..worker
        };
        assert_eq!(child.attribution().confidence, 0.86, "0.9 × 0.95 = 0.855");
        assert_eq!(child.scaled(0.5).attribution().confidence, 0.43);
        assert_eq!(Attribution::NONE.request(), None);
        assert_eq!(Attribution::NONE.evidence(), "none");
    }

    #[test]
    fn names_are_stable() {
        let names: Vec<&str> = [
            Evidence::SameGoroutine,
            Evidence::Spawned,
            Evidence::Context,
            Evidence::Channel,
            Evidence::None,
        ]
        .iter()
        .map(|e| e.as_str())
        .collect();
        assert_eq!(
            names,
            ["same_goroutine", "spawned", "context", "channel", "none"]
        );
    }

    #[test]
    fn confidence_falls_with_depth_to_a_floor() {
        assert_eq!(spawn_factor(0), 1.0);
        assert_eq!(spawn_factor(1), SPAWN_FIRST_LINK);
        assert!(spawn_factor(2) < spawn_factor(1));
        assert!(spawn_factor(MAX_SPAWN_DEPTH) >= SPAWN_FLOOR);
        assert_eq!(spawn_factor(u8::MAX), SPAWN_FLOOR);
    }
}
