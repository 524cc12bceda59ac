//! Owned, re-seekable cursors fetched in batches.
//!
//! A cursor keeps its read source (a snapshot, or a transaction) and its
//! bounds; the fjall iterator is rebuilt from them on every seek, so seeking
//! and continuing always see the same point in time.

use super::bounds::{empty_range, tighter};
use super::resources::Resource;
use super::store::{SpaceId, Store};
use super::txn::Transaction;
use crate::error::{Error, Result};
use fjall::{Readable, Slice};
use parking_lot::Mutex;
use std::ops::Bound;
use std::sync::Arc;

/// Where a cursor reads from.
#[derive(Clone)]
pub enum Source {
    /// A point-in-time snapshot.
    Snapshot(fjall::Snapshot),
    /// A transaction (sees its own writes; the range joins its read set).
    Tx(Arc<Transaction>),
}

/// Range and direction of a cursor.
#[derive(Clone, Debug)]
pub struct RangeSpec {
    /// Lower bound on encoded keys.
    pub lo: Bound<Vec<u8>>,
    /// Upper bound on encoded keys.
    pub hi: Bound<Vec<u8>>,
    /// Descending order.
    pub reverse: bool,
    /// Skip loading values.
    pub keys_only: bool,
}

struct State {
    source: Source,
    spec: RangeSpec,
    /// The bounds the cursor was opened with; seeks stay inside them.
    base: (Bound<Vec<u8>>, Bound<Vec<u8>>),
    iter: Option<fjall::Iter>,
}

/// A cursor over one space.
pub struct Cursor {
    store: Arc<Store>,
    space: SpaceId,
    state: Mutex<Option<State>>,
}

impl Resource for Cursor {
    fn invalidate(&self) {
        self.state.lock().take();
    }
}

/// One fetched item: key and (unless keys-only) value.
pub type Item = (Slice, Option<Slice>);

impl Cursor {
    /// Opens a cursor on `space` of `store`.
    pub fn open(store: &Arc<Store>, space: SpaceId, source: Source, spec: RangeSpec) -> Result<Arc<Cursor>> {
        store.with(|open| open.space(space).map(|_| ()))?;
        let c = Arc::new(Cursor {
            store: store.clone(),
            space,
            state: Mutex::new(Some(State {
                source,
                base: (spec.lo.clone(), spec.hi.clone()),
                spec,
                iter: None,
            })),
        });
        store.register(&c);
        Ok(c)
    }

    fn build_iter(&self, st: &State) -> Result<fjall::Iter> {
        let (lo, hi) = (st.spec.lo.clone(), st.spec.hi.clone());
        if empty_range(&lo, &hi) {
            // fjall panics on inverted ranges; an empty range yields nothing.
            let probe = vec![0u8];
            return self.store.with(|open| {
                let ks = &open.space(self.space)?.ks;
                let snap = open.db.read_tx();
                Ok(snap.range(ks, (Bound::Excluded(probe.clone()), Bound::Excluded(probe.clone()))))
            });
        }
        match &st.source {
            Source::Snapshot(snap) => self.store.with(|open| {
                let ks = &open.space(self.space)?.ks;
                Ok(snap.range(ks, (lo, hi)))
            }),
            Source::Tx(tx) => tx.range(self.space, lo, hi),
        }
    }

    /// Up to `n` next items; fewer (possibly none) at the end.
    pub fn next_batch(&self, n: usize) -> Result<Vec<Item>> {
        let _open = self.store.read()?;
        let mut guard = self.state.lock();
        let st = guard.as_mut().ok_or(Error::Closed("cursor"))?;
        if st.iter.is_none() {
            let it = self.build_iter(st)?;
            st.iter = Some(it);
        }
        let reverse = st.spec.reverse;
        let keys_only = st.spec.keys_only;
        let Some(iter) = st.iter.as_mut() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(n.min(4096));
        while out.len() < n {
            let next = if reverse { iter.next_back() } else { iter.next() };
            let Some(guard) = next else { break };
            if keys_only {
                out.push((guard.key().map_err(|e| self.store.fj(e))?, None));
            } else {
                let (k, v) = guard.into_inner().map_err(|e| self.store.fj(e))?;
                out.push((k, Some(v)));
            }
        }
        if let Some(last) = out.last() {
            // Remember the position so a rebuilt iterator resumes after it.
            let k = last.0.to_vec();
            if reverse {
                st.spec.hi = Bound::Excluded(k);
            } else {
                st.spec.lo = Bound::Excluded(k);
            }
        }
        Ok(out)
    }

    /// Moves the cursor to `key` (forward: first key >= `key`, or > when not
    /// `inclusive`; reverse: last key <= / <), staying within the original
    /// bounds' direction of travel.
    pub fn seek(&self, key: Vec<u8>, inclusive: bool) -> Result<()> {
        let _open = self.store.read()?;
        let mut guard = self.state.lock();
        let st = guard.as_mut().ok_or(Error::Closed("cursor"))?;
        let b = if inclusive {
            Bound::Included(key)
        } else {
            Bound::Excluded(key)
        };
        if st.spec.reverse {
            st.spec.hi = tighter(st.base.1.clone(), b, true);
            st.spec.lo = st.base.0.clone();
        } else {
            st.spec.lo = tighter(st.base.0.clone(), b, false);
            st.spec.hi = st.base.1.clone();
        }
        st.iter = None;
        Ok(())
    }

    /// Whether the cursor was closed or invalidated.
    pub fn is_closed(&self) -> bool {
        self.state.lock().is_none()
    }

    /// Releases the cursor's snapshot. Idempotent.
    pub fn close(&self) {
        self.state.lock().take();
    }
}
