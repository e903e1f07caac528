//! Optional numbers in the room of the number: kept per request by the million, an
//! `Option<i64>` takes 16 bytes where 8 hold the value.

use std::fmt;

/// Defines `$name`, an `Option<$int>` in the room of an `$int`: `$int::MIN` stands for none.
/// A value of `$int::MIN` itself (no recorded time or status is; a damaged file might say so)
/// is kept as `$int::MIN + 1`.
macro_rules! packed_option {
    ($(#[$doc:meta])* $name:ident, $int:ty) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name($int);

        impl $name {
            /// None.
            pub const NONE: $name = $name(<$int>::MIN);

            /// `v`, packed.
            #[inline]
            pub fn new(v: Option<$int>) -> Self {
                match v {
                    Some(v) => $name(v.max(<$int>::MIN + 1)),
                    None => Self::NONE,
                }
            }

            /// The value, unpacked.
            #[inline]
            pub fn get(self) -> Option<$int> {
                (self.0 != <$int>::MIN).then_some(self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.get().fmt(f)
            }
        }
    };
}

packed_option!(
    /// An `Option<i64>` in 8 bytes (a time, ns).
    OptI64,
    i64
);

packed_option!(
    /// An `Option<i32>` in 4 bytes (a status).
    OptI32,
    i32
);

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
        assert_eq!(OptI32::new(Some(i32::MIN)).get(), Some(i32::MIN + 1));
        assert_eq!(format!("{:?}", OptI64::new(Some(5))), "Some(5)");
        assert_eq!(std::mem::size_of::<OptI64>(), 8);
        assert_eq!(std::mem::size_of::<OptI32>(), 4);
    }
}
