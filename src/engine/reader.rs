//! Read views used by the layers above: [`View`] (the latest data, inside
//! [`Store::transact`], under the commit lock) and [`SnapshotView`] (one
//! point in time). Both implement [`Read`], so query planning and execution
//! are written once for queries and for read-modify-write updates.

use super::bounds::empty_range;
use super::store::{Open, SpaceId, Store};
use crate::error::Result;
use fjall::{Keyspace, Readable, Slice};
use std::ops::Bound;

/// A visitor of `(key, value)` items; returns whether to go on.
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> Result<bool> + 'a;

/// Point and range reads over the spaces of one store.
pub trait Read {
    /// Value of `key` in `space`.
    fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>>;

    /// Visits the items of `space` within the bounds, in key order (or
    /// reversed), until `visit` returns `false`.
    fn scan(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<()>;
}

fn visit_all<I>(store: &Store, iter: I, reverse: bool, visit: &mut Visit<'_>) -> Result<()>
where
    I: DoubleEndedIterator<Item = fjall::Guard>,
{
    let mut step = |g: fjall::Guard| -> Result<bool> {
        let (k, v) = g.into_inner().map_err(|e| store.fj(e))?;
        visit(&k, &v)
    };
    if reverse {
        for g in iter.rev() {
            if !step(g)? {
                break;
            }
        }
    } else {
        for g in iter {
            if !step(g)? {
                break;
            }
        }
    }
    Ok(())
}

/// Latest-data reads inside [`Store::transact`].
pub struct View<'a> {
    store: &'a Store,
    open: &'a Open,
}

impl<'a> View<'a> {
    pub(crate) fn new(store: &'a Store, open: &'a Open) -> Self {
        Self { store, open }
    }

    fn ks(&self, space: SpaceId) -> Result<&Keyspace> {
        Ok(&self.open.space(space)?.ks)
    }

    /// Items of `space` within the bounds, in key order.
    pub fn range(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
    ) -> Result<impl Iterator<Item = Result<(Slice, Slice)>> + '_> {
        let ks = self.ks(space)?;
        let iter = if empty_range(&lo, &hi) {
            let probe = vec![0u8];
            ks.range((Bound::Excluded(probe.clone()), Bound::Excluded(probe)))
        } else {
            ks.range((lo, hi))
        };
        Ok(iter.map(|g| g.into_inner().map_err(|e| self.store.fj(e))))
    }
}

impl Read for View<'_> {
    fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        self.ks(space)?.get(key).map_err(|e| self.store.fj(e))
    }

    fn scan(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
        if empty_range(&lo, &hi) {
            return Ok(());
        }
        let ks = self.ks(space)?;
        visit_all(self.store, ks.range((lo, hi)), reverse, visit)
    }
}

/// Reads from one point in time.
pub struct SnapshotView<'a> {
    store: &'a Store,
    open: &'a Open,
    snap: fjall::Snapshot,
}

impl<'a> SnapshotView<'a> {
    pub(crate) fn new(store: &'a Store, open: &'a Open, snap: fjall::Snapshot) -> Self {
        Self { store, open, snap }
    }
}

impl Read for SnapshotView<'_> {
    fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        let ks = &self.open.space(space)?.ks;
        self.snap.get(ks, key).map_err(|e| self.store.fj(e))
    }

    fn scan(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
        if empty_range(&lo, &hi) {
            return Ok(());
        }
        let ks = &self.open.space(space)?.ks;
        visit_all(self.store, self.snap.range(ks, (lo, hi)), reverse, visit)
    }
}
