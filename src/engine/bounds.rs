//! Helpers on key-range bounds over encoded keys.

use super::store::MAX_KEY_SIZE;
use crate::error::{Error, Result};
use std::ops::Bound;

/// Whether a key could be stored (no longer than the engine's limit): a
/// longer one is absent, and must not reach the engine, which panics on it.
pub fn storable(key: &[u8]) -> bool {
    key.len() <= MAX_KEY_SIZE
}

/// Refuses range bounds longer than any key.
pub fn check_bounds(lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> Result<()> {
    for b in [lo, hi] {
        if let Bound::Included(k) | Bound::Excluded(k) = b {
            if !storable(k) {
                return Err(Error::InvalidArgument(format!(
                    "a range bound of {} bytes is longer than the largest key ({MAX_KEY_SIZE})",
                    k.len()
                )));
            }
        }
    }
    Ok(())
}

/// Whether the bounds admit no key at all.
pub fn empty_range(lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b))
        | (Bound::Excluded(a), Bound::Excluded(b)) => a >= b,
        _ => false,
    }
}

/// The narrower of two lower bounds (`upper == false`) or upper bounds.
pub fn tighter(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>, upper: bool) -> Bound<Vec<u8>> {
    use std::cmp::Ordering;
    let key = |x: &Bound<Vec<u8>>| match x {
        Bound::Included(k) | Bound::Excluded(k) => Some(k.clone()),
        Bound::Unbounded => None,
    };
    match (key(&a), key(&b)) {
        (None, _) => b,
        (_, None) => a,
        (Some(ka), Some(kb)) => match ka.cmp(&kb) {
            Ordering::Equal => {
                if matches!(a, Bound::Excluded(_)) {
                    a
                } else {
                    b
                }
            }
            Ordering::Less => {
                if upper {
                    a
                } else {
                    b
                }
            }
            Ordering::Greater => {
                if upper {
                    b
                } else {
                    a
                }
            }
        },
    }
}

/// The `[lo, hi)` bounds of every key starting with `prefix`.
pub fn prefix_range(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let lo = Bound::Included(prefix.to_vec());
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return (lo, Bound::Excluded(end));
        }
    }
    (lo, Bound::Unbounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges() {
        assert_eq!(
            prefix_range(b"ab"),
            (
                Bound::Included(b"ab".to_vec()),
                Bound::Excluded(b"ac".to_vec())
            )
        );
        assert_eq!(
            prefix_range(&[1, 0xFF]),
            (Bound::Included(vec![1, 0xFF]), Bound::Excluded(vec![2]))
        );
        assert_eq!(prefix_range(&[0xFF]).1, Bound::Unbounded);
    }

    #[test]
    fn tighter_picks_the_narrower_bound() {
        let inc = |k: &[u8]| Bound::Included(k.to_vec());
        let exc = |k: &[u8]| Bound::Excluded(k.to_vec());
        assert_eq!(tighter(inc(b"a"), inc(b"b"), false), inc(b"b"));
        assert_eq!(tighter(inc(b"a"), inc(b"b"), true), inc(b"a"));
        assert_eq!(tighter(inc(b"a"), exc(b"a"), false), exc(b"a"));
        assert_eq!(tighter(Bound::Unbounded, exc(b"a"), true), exc(b"a"));
        assert!(empty_range(&inc(b"b"), &exc(b"b")));
        assert!(!empty_range(&inc(b"b"), &inc(b"b")));
    }
}
