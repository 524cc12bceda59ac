//! Optimistic transactions and snapshots held across Python calls.
//!
//! A [`Transaction`] wraps fjall's `OptimisticWriteTx` (owned, `Send`) in a
//! mutex; once committed, rolled back or invalidated by `Store::close` the
//! slot is empty and every call reports it closed. Reads inside the
//! transaction record their keys and ranges, so a concurrent commit that
//! changed them makes `commit` fail with [`Error::Conflict`]; blind writes
//! never conflict (last writer wins).

use super::resources::Resource;
use super::store::{check_sizes, SpaceId, Store};
use crate::error::{Error, Result};
use fjall::{OptimisticWriteTx, Readable, Slice};
use parking_lot::Mutex;
use std::ops::Bound;
use std::sync::Arc;

/// A read-write transaction with read-your-own-writes.
pub struct Transaction {
    store: Arc<Store>,
    tx: Mutex<Option<OptimisticWriteTx>>,
}

impl Resource for Transaction {
    fn invalidate(&self) {
        self.tx.lock().take();
    }
}

impl Transaction {
    /// Starts a transaction on `store`.
    pub fn begin(store: &Arc<Store>) -> Result<Arc<Transaction>> {
        let tx = store.begin()?;
        let t = Arc::new(Transaction {
            store: store.clone(),
            tx: Mutex::new(Some(tx)),
        });
        store.register(&t);
        Ok(t)
    }

    /// The store this transaction belongs to.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Whether the transaction can still be used.
    pub fn is_active(&self) -> bool {
        self.tx.lock().is_some()
    }

    fn with_tx<R>(
        &self,
        space: SpaceId,
        f: impl FnOnce(&mut OptimisticWriteTx, &fjall::OptimisticTxKeyspace) -> Result<R>,
    ) -> Result<R> {
        self.store.with(|open| {
            let ks = &open.space(space)?.ks;
            let mut guard = self.tx.lock();
            let tx = guard.as_mut().ok_or(Error::Closed("transaction"))?;
            f(tx, ks)
        })
    }

    /// Reads `key`, seeing this transaction's own writes.
    pub fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        self.with_tx(space, |tx, ks| tx.get(ks, key).map_err(|e| self.store.fj(e)))
    }

    /// Whether `key` exists, seeing this transaction's own writes.
    pub fn contains(&self, space: SpaceId, key: &[u8]) -> Result<bool> {
        self.with_tx(space, |tx, ks| {
            tx.contains_key(ks, key).map_err(|e| self.store.fj(e))
        })
    }

    /// Buffers a write.
    pub fn put(&self, space: SpaceId, key: &[u8], value: &[u8]) -> Result<()> {
        check_sizes(key, Some(value))?;
        self.with_tx(space, |tx, ks| {
            tx.insert(ks, key, value);
            Ok(())
        })
    }

    /// Buffers a blind delete.
    pub fn discard(&self, space: SpaceId, key: &[u8]) -> Result<()> {
        check_sizes(key, None)?;
        self.with_tx(space, |tx, ks| {
            tx.remove(ks, key);
            Ok(())
        })
    }

    /// Deletes `key`, returning its previous value (recorded as a read).
    pub fn take(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        check_sizes(key, None)?;
        self.with_tx(space, |tx, ks| tx.take(ks, key).map_err(|e| self.store.fj(e)))
    }

    /// An owned iterator over a range, seeing writes made so far.
    pub fn range(&self, space: SpaceId, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> Result<fjall::Iter> {
        self.with_tx(space, |tx, ks| Ok(tx.range(ks, (lo, hi))))
    }

    /// Commits; [`Error::Conflict`] if a read key or range was changed by a
    /// concurrent commit. The transaction is finished either way.
    pub fn commit(&self) -> Result<()> {
        self.store.with(|open| {
            let tx = self.tx.lock().take().ok_or(Error::Closed("transaction"))?;
            self.store.commit_tx(&open.db, tx)
        })
    }

    /// Discards every buffered write. Idempotent.
    pub fn rollback(&self) {
        if let Some(tx) = self.tx.lock().take() {
            tx.rollback();
        }
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
