//! Optimistic concurrency control over fjall's plain (non-transactional)
//! database.
//!
//! Why not fjall's own `OptimisticTxDatabase`: its oracle rescans every
//! committed transaction since the last snapshot GC (up to 10,000) on each
//! commit, which made a single auto-commit put cost ~15 µs. Here:
//!
//! - every write (auto-commit put, batch, transaction commit) runs inside
//!   [`Occ::commit`], under one mutex, so commits are totally ordered by a
//!   stamp and read-modify-write helpers are atomic without retries;
//! - a transaction takes its snapshot under the same mutex ([`Occ::begin`]),
//!   so "commits after my snapshot" is exactly "stamp > my start";
//! - the log of committed write sets is kept only while a transaction is
//!   active, and trimmed to the oldest active start, so writes without
//!   concurrent transactions cost one uncontended lock;
//! - a transaction commits only if no write logged after its start touches
//!   a key it read or a range it scanned (backward validation: the
//!   committed history is serializable). Blind writes never conflict.

use super::store::SpaceId;
use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

/// Keys written by one commit.
pub type WriteSet = Vec<(SpaceId, Vec<u8>)>;

/// A scanned range of one space.
type ScannedRange = (SpaceId, Bound<Vec<u8>>, Bound<Vec<u8>>);

/// What a transaction read: single keys and scanned ranges.
#[derive(Default, Debug)]
pub struct ReadSet {
    points: HashSet<(SpaceId, Vec<u8>)>,
    ranges: Vec<ScannedRange>,
}

fn in_range(key: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    let above = match lo {
        Bound::Included(l) => key >= l.as_slice(),
        Bound::Excluded(l) => key > l.as_slice(),
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Included(h) => key <= h.as_slice(),
        Bound::Excluded(h) => key < h.as_slice(),
        Bound::Unbounded => true,
    };
    above && below
}

impl ReadSet {
    /// Records a point read.
    pub fn add_point(&mut self, space: SpaceId, key: &[u8]) {
        if !self.points.contains(&(space, key.to_vec())) {
            self.points.insert((space, key.to_vec()));
        }
    }

    /// Records a range scan.
    pub fn add_range(&mut self, space: SpaceId, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) {
        self.ranges.push((space, lo, hi));
    }

    /// Whether a committed write set touches anything read.
    pub fn conflicts_with(&self, writes: &WriteSet) -> bool {
        writes.iter().any(|(space, key)| {
            self.points.contains(&(*space, key.clone()))
                || self
                    .ranges
                    .iter()
                    .any(|(s, lo, hi)| s == space && in_range(key, lo, hi))
        })
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.ranges.is_empty()
    }
}

#[derive(Default)]
struct State {
    /// Number of commits so far; the next commit gets `stamp + 1`.
    stamp: u64,
    /// Start stamps of active transactions, with multiplicity.
    active: BTreeMap<u64, usize>,
    /// Write sets of commits newer than the oldest active start.
    log: VecDeque<(u64, Arc<WriteSet>)>,
}

/// The commit serialiser and conflict checker of one store.
#[derive(Default)]
pub struct Occ {
    state: Mutex<State>,
}

impl Occ {
    /// Registers a transaction; `snapshot` runs under the commit lock so the
    /// snapshot contains exactly the commits up to the returned start stamp.
    pub fn begin<R>(&self, snapshot: impl FnOnce() -> Result<R>) -> Result<(u64, R)> {
        let mut st = self.state.lock();
        let snap = snapshot()?;
        let start = st.stamp;
        *st.active.entry(start).or_insert(0) += 1;
        Ok((start, snap))
    }

    /// Unregisters a transaction that started at `start` (after commit,
    /// rollback or invalidation) and trims the log.
    pub fn end(&self, start: u64) {
        let mut st = self.state.lock();
        if let Some(n) = st.active.get_mut(&start) {
            *n -= 1;
            if *n == 0 {
                st.active.remove(&start);
            }
        }
        let keep_after = st.active.keys().next().copied();
        match keep_after {
            None => st.log.clear(),
            Some(oldest) => {
                while st.log.front().is_some_and(|(s, _)| *s <= oldest) {
                    st.log.pop_front();
                }
            }
        }
    }

    /// Runs one commit under the lock. With `validate = Some((start, reads))`
    /// it first fails with [`Error::Conflict`] if a commit after `start`
    /// wrote something in `reads`. `apply(record)` performs the writes and,
    /// when `record` is true, returns the keys it wrote.
    pub fn commit<R>(
        &self,
        validate: Option<(u64, &ReadSet)>,
        apply: impl FnOnce(bool) -> Result<(R, Option<WriteSet>)>,
    ) -> Result<R> {
        let mut st = self.state.lock();
        if let Some((start, reads)) = validate {
            if !reads.is_empty()
                && st
                    .log
                    .iter()
                    .filter(|(s, _)| *s > start)
                    .any(|(_, ws)| reads.conflicts_with(ws))
            {
                return Err(Error::Conflict);
            }
        }
        let record = !st.active.is_empty();
        let (out, writes) = apply(record)?;
        st.stamp += 1;
        if record {
            if let Some(ws) = writes {
                let stamp = st.stamp;
                st.log.push_back((stamp, Arc::new(ws)));
            }
        }
        Ok(out)
    }

    /// Log length (for tests and statistics).
    pub fn log_len(&self) -> usize {
        self.state.lock().log.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(keys: &[&[u8]]) -> WriteSet {
        keys.iter().map(|k| (0, k.to_vec())).collect()
    }

    #[test]
    fn read_then_concurrent_write_conflicts() {
        let occ = Occ::default();
        let (start, ()) = occ.begin(|| Ok(())).unwrap();
        occ.commit(None, |rec| Ok(((), rec.then(|| ws(&[b"k"])))))
            .unwrap();
        let mut reads = ReadSet::default();
        reads.add_point(0, b"k");
        let res = occ.commit(Some((start, &reads)), |_| Ok(((), None)));
        assert!(matches!(res, Err(Error::Conflict)));
        occ.end(start);
        assert_eq!(occ.log_len(), 0);
    }

    #[test]
    fn ranges_and_blind_writes() {
        let occ = Occ::default();
        let (start, ()) = occ.begin(|| Ok(())).unwrap();
        occ.commit(None, |rec| Ok(((), rec.then(|| ws(&[b"m"])))))
            .unwrap();
        let blind = ReadSet::default();
        assert!(occ
            .commit(Some((start, &blind)), |_| Ok(((), None)))
            .is_ok());
        let mut reads = ReadSet::default();
        reads.add_range(
            0,
            Bound::Included(b"a".to_vec()),
            Bound::Excluded(b"n".to_vec()),
        );
        assert!(occ
            .commit(Some((start, &reads)), |_| Ok(((), None)))
            .is_err());
        let mut other = ReadSet::default();
        other.add_range(0, Bound::Excluded(b"m".to_vec()), Bound::Unbounded);
        other.add_point(1, b"m");
        assert!(occ
            .commit(Some((start, &other)), |_| Ok(((), None)))
            .is_ok());
        occ.end(start);
    }

    #[test]
    fn writes_before_start_do_not_conflict_and_log_is_trimmed() {
        let occ = Occ::default();
        let (old, ()) = occ.begin(|| Ok(())).unwrap();
        occ.commit(None, |rec| Ok(((), rec.then(|| ws(&[b"k"])))))
            .unwrap();
        let (start, ()) = occ.begin(|| Ok(())).unwrap();
        let mut reads = ReadSet::default();
        reads.add_point(0, b"k");
        assert!(occ
            .commit(Some((start, &reads)), |_| Ok(((), None)))
            .is_ok());
        assert_eq!(occ.log_len(), 1);
        occ.end(old);
        assert_eq!(occ.log_len(), 0);
        occ.end(start);
    }
}
