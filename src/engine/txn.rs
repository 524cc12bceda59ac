//! Optimistic transactions and snapshots held across Python calls.
//!
//! A [`Transaction`] reads from a snapshot taken at its start, buffers its
//! writes (so it reads its own writes), records what it read, and at commit
//! applies all writes as one atomic fjall batch, unless a commit since its
//! start wrote a key it read or a key inside a range it scanned: then
//! [`Error::Conflict`] and nothing is written (see `occ.rs`). Blind writes
//! never conflict (last writer wins). Once committed, rolled back or
//! invalidated by `Store::close`, every call reports it closed.

use super::occ::ReadSet;
use super::reader::{merge_visit, Pending, Read, View, Visit};
use super::resources::Resource;
use super::store::{check_sizes, BatchOp, SpaceId, Store};
use crate::error::{Error, Result};
use fjall::{Readable, Slice};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

/// Buffered writes of one space: `None` deletes.
pub type LocalWrites = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// Buffered writes in a range, in key order (what a cursor merges in).
pub type LocalRange = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// Work deferred to the commit: runs under the commit lock, on the latest
/// data, and returns more writes for the same batch (read-modify-write that
/// must not conflict, such as index counters). An error aborts the commit.
/// It reads the latest data with the writes of the finalizers before it.
pub type Finalizer = Box<dyn FnOnce(&dyn Read) -> Result<Vec<BatchOp>> + Send>;

struct TxState {
    start: u64,
    snap: fjall::Snapshot,
    reads: ReadSet,
    writes: HashMap<SpaceId, LocalWrites>,
    finalizers: Vec<Finalizer>,
    committed: Vec<Box<dyn FnOnce() + Send>>,
}

/// A read-write transaction with read-your-own-writes.
pub struct Transaction {
    store: Arc<Store>,
    state: Mutex<Option<TxState>>,
}

impl Resource for Transaction {
    fn invalidate(&self) {
        self.finish();
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Transaction {
    /// Starts a transaction on `store`.
    pub fn begin(store: &Arc<Store>) -> Result<Arc<Transaction>> {
        let (start, snap) = store.occ.begin(|| store.snapshot())?;
        let t = Arc::new(Transaction {
            store: store.clone(),
            state: Mutex::new(Some(TxState {
                start,
                snap,
                reads: ReadSet::default(),
                writes: HashMap::new(),
                finalizers: Vec::new(),
                committed: Vec::new(),
            })),
        });
        store.register(&t);
        Ok(t)
    }

    /// Ends the transaction without writing. Idempotent.
    fn finish(&self) {
        if let Some(st) = self.state.lock().take() {
            self.store.occ.end(st.start);
        }
    }

    /// The store this transaction belongs to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Whether the transaction can still be used.
    pub fn is_active(&self) -> bool {
        self.state.lock().is_some()
    }

    fn with_state<R>(
        &self,
        space: SpaceId,
        f: impl FnOnce(&mut TxState, &fjall::Keyspace) -> Result<R>,
    ) -> Result<R> {
        self.store.with(|open| {
            let ks = &open.space(space)?.ks;
            let mut guard = self.state.lock();
            let st = guard.as_mut().ok_or(Error::Closed("transaction"))?;
            f(st, ks)
        })
    }

    fn read(
        &self,
        st: &mut TxState,
        ks: &fjall::Keyspace,
        space: SpaceId,
        key: &[u8],
    ) -> Result<Option<Slice>> {
        if let Some(local) = st.writes.get(&space).and_then(|w| w.get(key)) {
            return Ok(local.as_deref().map(Slice::from));
        }
        if !super::bounds::storable(key) {
            return Ok(None);
        }
        st.reads.add_point(space, key);
        st.snap.get(ks, key).map_err(|e| self.store.fj(e))
    }

    /// Reads `key`, seeing this transaction's own writes.
    pub fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        self.with_state(space, |st, ks| self.read(st, ks, space, key))
    }

    /// Whether `key` exists, seeing this transaction's own writes.
    pub fn contains(&self, space: SpaceId, key: &[u8]) -> Result<bool> {
        Ok(self.get(space, key)?.is_some())
    }

    /// Buffers a write.
    pub fn put(&self, space: SpaceId, key: &[u8], value: &[u8]) -> Result<()> {
        check_sizes(key, Some(value))?;
        self.with_state(space, |st, _| {
            st.writes
                .entry(space)
                .or_default()
                .insert(key.to_vec(), Some(value.to_vec()));
            Ok(())
        })
    }

    /// Buffers a blind delete.
    pub fn discard(&self, space: SpaceId, key: &[u8]) -> Result<()> {
        check_sizes(key, None)?;
        self.with_state(space, |st, _| {
            st.writes
                .entry(space)
                .or_default()
                .insert(key.to_vec(), None);
            Ok(())
        })
    }

    /// Deletes `key`, returning its previous value (recorded as a read).
    pub fn take(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        check_sizes(key, None)?;
        self.with_state(space, |st, ks| {
            let old = self.read(st, ks, space, key)?;
            if old.is_some() {
                st.writes
                    .entry(space)
                    .or_default()
                    .insert(key.to_vec(), None);
            }
            Ok(old)
        })
    }

    /// For a cursor: the transaction's snapshot and its buffered writes
    /// within the bounds. The range joins the read set.
    pub fn range(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
    ) -> Result<(fjall::Snapshot, LocalRange)> {
        super::bounds::check_bounds(&lo, &hi)?;
        self.with_state(space, |st, _| {
            let local = match st.writes.get(&space) {
                Some(w) if !super::bounds::empty_range(&lo, &hi) => w
                    .range((lo.clone(), hi.clone()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                _ => Vec::new(),
            };
            st.reads.add_range(space, lo, hi);
            Ok((st.snap.clone(), local))
        })
    }

    /// Adds work to run at commit (see [`Finalizer`]).
    pub fn on_commit(&self, f: Finalizer) -> Result<()> {
        let mut guard = self.state.lock();
        let st = guard.as_mut().ok_or(Error::Closed("transaction"))?;
        st.finalizers.push(f);
        Ok(())
    }

    /// Adds work to run right after the commit's batch is written, under
    /// the commit lock (so in commit order); not run if the commit fails.
    pub fn on_committed(&self, f: Box<dyn FnOnce() + Send>) -> Result<()> {
        let mut guard = self.state.lock();
        let st = guard.as_mut().ok_or(Error::Closed("transaction"))?;
        st.committed.push(f);
        Ok(())
    }

    /// Commits; [`Error::Conflict`] if a read key or range was changed by a
    /// concurrent commit. The transaction is finished either way.
    pub fn commit(&self) -> Result<()> {
        self.store.with(|open| {
            let mut st = self
                .state
                .lock()
                .take()
                .ok_or(Error::Closed("transaction"))?;
            let finalizers = std::mem::take(&mut st.finalizers);
            let committed = std::mem::take(&mut st.committed);
            let result = if st.writes.values().all(BTreeMap::is_empty) && finalizers.is_empty() {
                Ok(())
            } else {
                let mut batch = open.db.batch();
                for (space, writes) in &st.writes {
                    let ks = &open.space(*space)?.ks;
                    for (k, v) in writes {
                        match v {
                            Some(v) => batch.insert(ks, k.as_slice(), v.as_slice()),
                            None => batch.remove(ks, k.as_slice()),
                        }
                    }
                }
                self.store
                    .commit(&open.db, Some((st.start, &st.reads)), |record| {
                        let view = View::new(&self.store, open);
                        let mut pending = Pending::new(&view);
                        for f in finalizers {
                            let ops = f(&pending)?;
                            pending.add(ops);
                        }
                        let more = pending.into_ops();
                        for op in &more {
                            check_sizes(&op.key, op.value.as_deref())?;
                            let ks = &open.space(op.space)?.ks;
                            match &op.value {
                                Some(v) => batch.insert(ks, op.key.as_slice(), v.as_slice()),
                                None => batch.remove(ks, op.key.as_slice()),
                            }
                        }
                        batch.commit().map_err(|e| self.store.fj(e))?;
                        committed.into_iter().for_each(|f| f());
                        let ws = record.then(|| {
                            st.writes
                                .iter()
                                .flat_map(|(s, w)| w.keys().map(move |k| (*s, k.clone())))
                                .chain(more.into_iter().map(|o| (o.space, o.key)))
                                .collect()
                        });
                        Ok(((), ws))
                    })
            };
            self.store.occ.end(st.start);
            result
        })
    }

    /// Discards every buffered write. Idempotent.
    pub fn rollback(&self) {
        self.finish();
    }
}

impl Read for Transaction {
    fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        Transaction::get(self, space, key)
    }

    /// The snapshot merged with this transaction's writes; the range joins
    /// the read set.
    fn scan(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
        if super::bounds::empty_range(&lo, &hi) {
            return Ok(());
        }
        let (snap, mut local) = self.range(space, lo.clone(), hi.clone())?;
        if reverse {
            local.reverse();
        }
        // No lock is held while visiting: `visit` may read this transaction.
        self.store.with(|open| {
            let ks = &open.space(space)?.ks;
            merge_visit(&self.store, snap.range(ks, (lo, hi)), local, reverse, visit)
        })
    }
}

/// A point-in-time read view across all spaces of a store.
pub struct SnapshotHandle {
    store: Arc<Store>,
    snap: Mutex<Option<fjall::Snapshot>>,
}

impl Resource for SnapshotHandle {
    fn invalidate(&self) {
        self.snap.lock().take();
    }
}

impl SnapshotHandle {
    /// Takes a snapshot of `store` now.
    pub fn take(store: &Arc<Store>) -> Result<Arc<SnapshotHandle>> {
        let snap = store.snapshot()?;
        let s = Arc::new(SnapshotHandle {
            store: store.clone(),
            snap: Mutex::new(Some(snap)),
        });
        store.register(&s);
        Ok(s)
    }

    /// The store this snapshot belongs to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// A clone of the fjall snapshot (for cursors).
    pub fn fjall(&self) -> Result<fjall::Snapshot> {
        self.snap.lock().clone().ok_or(Error::Closed("snapshot"))
    }

    /// Value of `key` as of the snapshot.
    pub fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        if !super::bounds::storable(key) {
            return Ok(None);
        }
        self.store.with(|open| {
            let ks = &open.space(space)?.ks;
            let guard = self.snap.lock();
            let snap = guard.as_ref().ok_or(Error::Closed("snapshot"))?;
            snap.get(ks, key).map_err(|e| self.store.fj(e))
        })
    }

    /// Releases the snapshot (old versions can then be dropped). Idempotent.
    pub fn close(&self) {
        self.snap.lock().take();
    }
}
