//! Optional numbers in the room of the number: kept per request by the million, an
//! `Option<i64>` takes 16 bytes where 8 hold the value.

use std::fmt;

/// An `Option<i64>` in 8 bytes: `i64::MIN` stands for none. A value of `i64::MIN` itself (no
/// recorded time is; a damaged file might say so) is kept as `i64::MIN + 1`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptI64(i64);

impl OptI64 {
    /// None.
    pub const NONE: OptI64 = OptI64(i64::MIN);

    /// `v`, packed.
    #[inline]
    pub fn new(v: Option<i64>) -> Self {
        match v {
            Some(v) => OptI64(v.max(i64::MIN + 1)),
            None => Self::NONE,
        }
    }

    /// The value, unpacked.
    #[inline]
    pub fn get(self) -> Option<i64> {
        (self.0 != i64::MIN).then_some(self.0)
    }
}

impl fmt::Debug for OptI64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

/// An `Option<i32>` in 4 bytes: `i32::MIN` stands for none, a value of `i32::MIN` itself (no
/// status is) is kept as `i32::MIN + 1`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptI32(i32);

impl OptI32 {
    /// None.
    pub const NONE: OptI32 = OptI32(i32::MIN);

    /// `v`, packed.
    #[inline]
    pub fn new(v: Option<i32>) -> Self {
        match v {
            Some(v) => OptI32(v.max(i32::MIN + 1)),
            None => Self::NONE,
        }
    }

    /// The value, unpacked.
    #[inline]
    pub fn get(self) -> Option<i32> {
        (self.0 != i32::MIN).then_some(self.0)
    }
}

impl fmt::Debug for OptI32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_none_round_trip() {
        for v in [
            None,
            Some(0),
            Some(-1),
            Some(i64::MAX),
            Some(1_796_000_000_000_000_000),
        ] {
            assert_eq!(OptI64::new(v).get(), v);
        }
        assert_eq!(OptI64::new(Some(i64::MIN)).get(), Some(i64::MIN + 1));
        for v in [None, Some(0), Some(200), Some(-1), Some(i32::MAX)] {
            assert_eq!(OptI32::new(v).get(), v);
        }
        assert_eq!(std::mem::size_of::<OptI64>(), 8);
        assert_eq!(std::mem::size_of::<OptI32>(), 4);
    }
}
