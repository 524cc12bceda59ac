//! Owned, re-seekable cursors fetched in batches.
//!
//! A cursor keeps its read source (a snapshot, plus a transaction's buffered
//! writes when opened in one) and its bounds; the fjall iterator is rebuilt
//! from them on every seek, so seeking and continuing always see the same
//! point in time.

use super::bounds::{empty_range, tighter};
use super::resources::Resource;
use super::store::{SpaceId, Store};
use super::txn::{LocalRange, Transaction};
use crate::error::{Error, Result};
use fjall::{Readable, Slice};
use parking_lot::Mutex;
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

/// Where a cursor reads from.
#[derive(Clone)]
pub enum Source {
    /// A point-in-time snapshot.
    Snapshot(fjall::Snapshot),
    /// A transaction: its snapshot merged with its writes made so far; the
    /// cursor's range joins its read set.
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

/// One fetched item: key and (unless keys-only) value.
pub type Item = (Slice, Option<Slice>);

/// A snapshot iterator merged with buffered writes (which win on equal
/// keys; a buffered `None` hides the key).
struct Merged {
    iter: fjall::Iter,
    pending: Option<Item>,
    local: VecDeque<(Vec<u8>, Option<Vec<u8>>)>,
    reverse: bool,
    keys_only: bool,
}

impl Merged {
    fn pull(&mut self) -> fjall::Result<Option<Item>> {
        let next = if self.reverse {
            self.iter.next_back()
        } else {
            self.iter.next()
        };
        Ok(match next {
            None => None,
            Some(g) if self.keys_only => Some((g.key()?, None)),
            Some(g) => {
                let (k, v) = g.into_inner()?;
                Some((k, Some(v)))
            }
        })
    }

    fn next_item(&mut self) -> fjall::Result<Option<Item>> {
        loop {
            if self.pending.is_none() {
                self.pending = self.pull()?;
            }
            let local_front = if self.reverse {
                self.local.back()
            } else {
                self.local.front()
            };
            let order = match (&self.pending, local_front) {
                (None, None) => return Ok(None),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some((k, _)), Some((lk, _))) => {
                    let o = k.as_ref().cmp(lk.as_slice());
                    if self.reverse {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if order == Ordering::Less {
                return Ok(self.pending.take());
            }
            if order == Ordering::Equal {
                self.pending = None;
            }
            let local = if self.reverse {
                self.local.pop_back()
            } else {
                self.local.pop_front()
            };
            if let Some((k, Some(v))) = local {
                let v = (!self.keys_only).then(|| Slice::from(v));
                return Ok(Some((Slice::from(k), v)));
            }
        }
    }
}

/// Resolved read source.
enum Resolved {
    Snapshot(fjall::Snapshot),
    Merged(fjall::Snapshot, Arc<LocalRange>),
}

struct State {
    source: Resolved,
    spec: RangeSpec,
    /// The bounds the cursor was opened with; seeks stay inside them.
    base: (Bound<Vec<u8>>, Bound<Vec<u8>>),
    iter: Option<Merged>,
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

fn in_bounds(k: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    (match lo {
        Bound::Included(l) => k >= l.as_slice(),
        Bound::Excluded(l) => k > l.as_slice(),
        Bound::Unbounded => true,
    }) && (match hi {
        Bound::Included(h) => k <= h.as_slice(),
        Bound::Excluded(h) => k < h.as_slice(),
        Bound::Unbounded => true,
    })
}

impl Cursor {
    /// Opens a cursor on `space` of `store`.
    pub fn open(
        store: &Arc<Store>,
        space: SpaceId,
        source: Source,
        spec: RangeSpec,
    ) -> Result<Arc<Cursor>> {
        store.with(|open| open.space(space).map(|_| ()))?;
        super::bounds::check_bounds(&spec.lo, &spec.hi)?;
        let source = match source {
            Source::Snapshot(s) => Resolved::Snapshot(s),
            Source::Tx(tx) => {
                let (snap, local) = tx.range(space, spec.lo.clone(), spec.hi.clone())?;
                Resolved::Merged(snap, Arc::new(local))
            }
        };
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

    fn build_iter(&self, st: &State) -> Result<Merged> {
        let (lo, hi) = (st.spec.lo.clone(), st.spec.hi.clone());
        let (snap, local) = match &st.source {
            Resolved::Snapshot(s) => (s, None),
            Resolved::Merged(s, l) => (s, Some(l)),
        };
        let empty = empty_range(&lo, &hi);
        let local: VecDeque<_> = match local {
            Some(l) if !empty => l
                .iter()
                .filter(|(k, _)| in_bounds(k, &lo, &hi))
                .cloned()
                .collect(),
            _ => VecDeque::new(),
        };
        let iter = self.store.with(|open| {
            let ks = &open.space(self.space)?.ks;
            if empty {
                // fjall rejects inverted ranges; this one yields nothing.
                let probe = vec![0u8];
                return Ok(snap.range(ks, (Bound::Excluded(probe.clone()), Bound::Excluded(probe))));
            }
            Ok(snap.range(ks, (lo, hi)))
        })?;
        Ok(Merged {
            iter,
            pending: None,
            local,
            reverse: st.spec.reverse,
            keys_only: st.spec.keys_only,
        })
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
        let Some(iter) = st.iter.as_mut() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(n.min(4096));
        while out.len() < n {
            match iter.next_item().map_err(|e| self.store.fj(e))? {
                Some(item) => out.push(item),
                None => break,
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
    /// `inclusive`; reverse: last key <= / <), never outside the bounds it
    /// was opened with.
    pub fn seek(&self, key: Vec<u8>, inclusive: bool) -> Result<()> {
        if !super::bounds::storable(&key) {
            return Err(Error::InvalidArgument(format!(
                "cannot seek to a key of {} bytes (the largest key is {})",
                key.len(),
                super::store::MAX_KEY_SIZE
            )));
        }
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
