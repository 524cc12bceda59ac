//! Read views used by the layers above: [`View`] (the latest data, inside
//! [`Store::transact`], under the commit lock) and [`SnapshotView`] (one
//! point in time). Both implement [`Read`], so query planning and execution
//! are written once for queries and for read-modify-write updates.

use super::bounds::{check_bounds, empty_range, storable};
use super::store::{BatchOp, Open, SpaceId, Store};
use crate::error::Result;
use fjall::{Keyspace, Readable, Slice};
use std::collections::{BTreeMap, HashMap};
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

/// Whether `space` holds nothing between the smallest and the largest of
/// `keys` (inclusive), so none of them exists, live or expired: one range
/// probe instead of a read per key for a batch landing where nothing is
/// stored (a bulk load, increasing ids).
pub fn nothing_between<'k>(
    r: &dyn Read,
    space: SpaceId,
    keys: impl Iterator<Item = &'k Vec<u8>> + Clone,
) -> Result<bool> {
    let (Some(lo), Some(hi)) = (keys.clone().min(), keys.max()) else {
        return Ok(true);
    };
    let mut empty = true;
    r.scan(
        space,
        Bound::Included(lo.clone()),
        Bound::Included(hi.clone()),
        false,
        &mut |_, _| {
            empty = false;
            Ok(false)
        },
    )?;
    Ok(empty)
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
        check_bounds(&lo, &hi)?;
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
        if !storable(key) {
            return Ok(None);
        }
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
        check_bounds(&lo, &hi)?;
        if empty_range(&lo, &hi) {
            return Ok(());
        }
        let ks = self.ks(space)?;
        merge_visit(self.store, ks.range((lo, hi)), Vec::new(), reverse, visit)
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
        if !storable(key) {
            return Ok(None);
        }
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
        check_bounds(&lo, &hi)?;
        if empty_range(&lo, &hi) {
            return Ok(());
        }
        let ks = &self.open.space(space)?.ks;
        merge_visit(
            self.store,
            self.snap.range(ks, (lo, hi)),
            Vec::new(),
            reverse,
            visit,
        )
    }
}

/// Visits stored items (in scan order) merged with local writes (`None`
/// deletes) given in the same order; a local write hides the stored value
/// of its key.
pub(crate) fn merge_visit<I>(
    store: &Store,
    iter: I,
    local: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    reverse: bool,
    visit: &mut Visit<'_>,
) -> Result<()>
where
    I: DoubleEndedIterator<Item = fjall::Guard>,
{
    let mut stored: Box<dyn Iterator<Item = fjall::Guard>> = if reverse {
        Box::new(iter.rev())
    } else {
        Box::new(iter)
    };
    let first = |a: &[u8], b: &[u8]| if reverse { a > b } else { a < b };
    let mut local = local.into_iter().peekable();
    let pull = |s: &mut Box<dyn Iterator<Item = fjall::Guard>>| {
        s.next()
            .map(|g| g.into_inner())
            .transpose()
            .map_err(|e| store.fj(e))
    };
    let mut item = pull(&mut stored)?;
    loop {
        let take_local = match (&item, local.peek()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some((k, _)), Some((lk, _))) => !first(k, lk),
        };
        if take_local {
            let Some((lk, lv)) = local.next() else { break };
            if item
                .as_ref()
                .is_some_and(|(k, _)| k.as_ref() == lk.as_slice())
            {
                item = pull(&mut stored)?;
            }
            if let Some(v) = lv {
                if !visit(&lk, &v)? {
                    break;
                }
            }
            continue;
        }
        let Some((k, v)) = item else { break };
        if !visit(&k, &v)? {
            break;
        }
        item = pull(&mut stored)?;
    }
    Ok(())
}

/// The latest data with writes about to be committed on top.
pub struct Pending<'a> {
    base: &'a View<'a>,
    writes: HashMap<SpaceId, BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl<'a> Pending<'a> {
    /// Nothing pending yet over `base`.
    pub fn new(base: &'a View<'a>) -> Self {
        Self {
            base,
            writes: HashMap::new(),
        }
    }

    /// Adds writes (a later write of a key replaces an earlier one).
    pub fn add(&mut self, ops: Vec<BatchOp>) {
        for op in ops {
            self.writes
                .entry(op.space)
                .or_default()
                .insert(op.key, op.value);
        }
    }

    /// Every pending write, one per key.
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.writes
            .into_iter()
            .flat_map(|(space, w)| {
                w.into_iter()
                    .map(move |(key, value)| BatchOp { space, key, value })
            })
            .collect()
    }
}

impl Read for Pending<'_> {
    fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        match self.writes.get(&space).and_then(|w| w.get(key)) {
            Some(v) => Ok(v.as_deref().map(Slice::from)),
            None => self.base.get(space, key),
        }
    }

    fn scan(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
        check_bounds(&lo, &hi)?;
        if empty_range(&lo, &hi) {
            return Ok(());
        }
        let mut local: Vec<(Vec<u8>, Option<Vec<u8>>)> = match self.writes.get(&space) {
            Some(w) => w
                .range((lo.clone(), hi.clone()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            None => Vec::new(),
        };
        if reverse {
            local.reverse();
        }
        let ks = self.base.ks(space)?;
        merge_visit(self.base.store, ks.range((lo, hi)), local, reverse, visit)
    }
}
