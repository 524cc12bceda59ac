//! Collection queries: planning, reading candidates (by key, through an
//! index, in index order, or by scan), evaluating the filter, sorting and
//! windowing, counting (from index counters or entries when covered).

use super::indexes::IndexState;
use super::maintain;
use super::plan::{self, Access, IndexScan};
use super::{doc, Collection, Ctx, Find, Stats, Ttl, Value};
use crate::engine::reader::Visit;
use crate::engine::{Read, SpaceId};
use crate::error::{Error, Result};
use crate::query::shape::Sort;
use crate::query::{self, Filter};
use fjall::Slice;
use std::ops::Bound;

/// A range of encoded primary keys and its direction: `(lo, hi, reverse)`.
pub type KeySpan = (Bound<Vec<u8>>, Bound<Vec<u8>>, bool);

impl Collection {
    /// Runs `f` on the data a call in `ctx` reads (a fresh snapshot, or the
    /// transaction) with the index definitions, which stay fixed meanwhile.
    pub(super) fn read<R>(
        &self,
        ctx: Ctx<'_>,
        f: impl FnOnce(&dyn Read, &IndexState) -> Result<R>,
    ) -> Result<R> {
        let st = self.indexes.state.read_recursive();
        match ctx.tx {
            None => self.store.read_snapshot(|r| f(r, &st)),
            Some(tx) => {
                self.check_tx(ctx)?;
                f(&**tx, &st)
            }
        }
    }

    /// The primary-key range to stream for this query, `(lo, hi, reverse)`,
    /// when its plan reads one range of keys (all of them, or those its
    /// conditions on the key allow) in the order `sort` asks for; `None`
    /// when it must go through an index or be sorted. Streaming reads the
    /// range in batches as the caller consumes it.
    pub fn stream_range(&self, filter: Option<&Filter>, sort: Option<&Sort>) -> Option<KeySpan> {
        let st = self.indexes.state.read_recursive();
        let q = Find {
            filter,
            sort,
            ..Find::default()
        };
        match self.plan(&st, &q) {
            Access::Scan if sort.is_none() => Some((Bound::Unbounded, Bound::Unbounded, false)),
            Access::KeyRange(kr) if plan::key_range_ordered(&kr, &self.key_fields, sort) => Some((
                Bound::Included(kr.lo),
                kr.hi.map_or(Bound::Unbounded, Bound::Excluded),
                kr.reverse,
            )),
            _ => None,
        }
    }

    /// The documents with these encoded keys (`None` where missing or
    /// expired), read from one snapshot or the transaction.
    pub fn get_many(&self, ctx: Ctx<'_>, keys: &[Vec<u8>]) -> Result<Vec<Option<Slice>>> {
        let ttl = self.ttl(ctx);
        let found = match ctx.tx {
            None => self.store.get_many(self.space, keys)?,
            Some(tx) => {
                self.check_tx(ctx)?;
                keys.iter()
                    .map(|k| tx.get(self.space, k))
                    .collect::<Result<Vec<_>>>()?
            }
        };
        found
            .into_iter()
            .map(|d| match (d, &ttl) {
                (Some(v), Some(t)) if t.expired(&v)? => Ok(None),
                (d, _) => Ok(d),
            })
            .collect()
    }

    /// The document with this encoded key.
    pub fn get(&self, ctx: Ctx<'_>, key: &[u8]) -> Result<Option<Slice>> {
        let found = match ctx.tx {
            None => self.store.get(self.space, key)?,
            Some(tx) => {
                self.check_tx(ctx)?;
                tx.get(self.space, key)?
            }
        };
        match (found, self.ttl(ctx)) {
            (Some(v), Some(t)) if t.expired(&v)? => Ok(None),
            (found, _) => Ok(found),
        }
    }

    /// Plans a query on the definitions in `st`. Call after taking the
    /// snapshot (or view) the plan runs on: index flags are read here.
    pub(super) fn plan(&self, st: &IndexState, q: &Find<'_>) -> Access {
        plan::choose(
            &self.key_fields,
            self.pinned_keys(q.filter),
            &st.defs,
            q.filter,
            q.sort,
            q.limit.map(|l| l.saturating_add(q.skip)),
        )
    }

    /// Visits the live documents `access` yields (expired ones are
    /// skipped), as `(key, document)`, until `visit` returns `false`: in key
    /// order, or in the index's order when the plan is ordered.
    pub(super) fn visit(
        &self,
        r: &dyn Read,
        st: &IndexState,
        access: &Access,
        ttl: Option<&Ttl>,
        stats: &mut Stats,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
        let mut live = |k: &[u8], v: &[u8]| -> Result<bool> {
            if let Some(t) = ttl {
                if t.expired(v)? {
                    return Ok(true);
                }
            }
            visit(k, v)
        };
        let visit: &mut Visit<'_> = &mut live;
        let space = self.space;
        let fetch_all =
            |keys: &[Vec<u8>], stats: &mut Stats, visit: &mut Visit<'_>| -> Result<()> {
                for k in keys {
                    if let Some(v) = r.get(space, k)? {
                        stats.docs_examined += 1;
                        if !visit(k, &v)? {
                            break;
                        }
                    }
                }
                Ok(())
            };
        match access {
            Access::Scan => r.scan(
                space,
                Bound::Unbounded,
                Bound::Unbounded,
                false,
                &mut |k, v| {
                    stats.docs_examined += 1;
                    visit(k, v)
                },
            ),
            Access::Keys(keys) => fetch_all(keys, stats, visit),
            Access::KeyRange(kr) => {
                let (lo, hi) = kr.bounds();
                r.scan(space, lo, hi, kr.reverse, &mut |k, v| {
                    stats.docs_examined += 1;
                    visit(k, v)
                })
            }
            Access::Union(plans) => {
                let mut keys = Vec::new();
                for p in plans {
                    keys.extend(self.plan_keys(r, st, p, stats)?);
                }
                keys.sort_unstable();
                keys.dedup();
                fetch_all(&keys, stats, visit)
            }
            Access::Index(scan) => {
                let idx_space = st.space.ok_or(Error::Closed("index space"))?;
                match scan.ordered {
                    None => {
                        let keys = self.index_keys(r, idx_space, scan, stats)?;
                        fetch_all(&keys, stats, visit)
                    }
                    Some(reverse) => self.visit_ordered(r, idx_space, scan, reverse, stats, visit),
                }
            }
        }
    }

    /// The primary keys a branch of a union plan gives (unsorted).
    fn plan_keys(
        &self,
        r: &dyn Read,
        st: &IndexState,
        access: &Access,
        stats: &mut Stats,
    ) -> Result<Vec<Vec<u8>>> {
        Ok(match access {
            Access::Keys(keys) => keys.clone(),
            Access::KeyRange(kr) => {
                let (lo, hi) = kr.bounds();
                let mut keys = Vec::new();
                r.scan(self.space, lo, hi, false, &mut |k, _| {
                    stats.keys_examined += 1;
                    keys.push(k.to_vec());
                    Ok(true)
                })?;
                keys
            }
            Access::Index(scan) => {
                let idx_space = st.space.ok_or(Error::Closed("index space"))?;
                self.index_keys(r, idx_space, scan, stats)?
            }
            Access::Scan | Access::Union(_) => {
                return Err(Error::Storage("a union branch must use keys".into()))
            }
        })
    }

    /// The primary keys of the entries in the scan's ranges, sorted, each
    /// once.
    fn index_keys(
        &self,
        r: &dyn Read,
        idx_space: SpaceId,
        scan: &IndexScan,
        stats: &mut Stats,
    ) -> Result<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        for range in &scan.ranges {
            let (lo, hi) = range.bounds(&scan.def.prefix());
            r.scan(idx_space, lo, hi, false, &mut |_, pk| {
                stats.keys_examined += 1;
                keys.push(pk.to_vec());
                Ok(true)
            })?;
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    /// Visits documents in index order (reversed for a descending sort,
    /// with ties still in key order, as the in-memory sort leaves them).
    fn visit_ordered(
        &self,
        r: &dyn Read,
        idx_space: SpaceId,
        scan: &IndexScan,
        reverse: bool,
        stats: &mut Stats,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
        let space = self.space;
        let mut go_on = true;
        let mut emit = |pk: &[u8], stats: &mut Stats| -> Result<bool> {
            match r.get(space, pk)? {
                Some(v) => {
                    stats.docs_examined += 1;
                    visit(pk, &v)
                }
                None => Ok(true),
            }
        };
        // Reversed, equal values come in descending key order: hold each
        // run of them and emit it backwards. Unless every index field is
        // pinned: then the order asked for is the key order itself.
        let by_key = scan.eq_fields == scan.def.paths.len();
        let mut run: Vec<Vec<u8>> = Vec::new();
        let mut run_value: Vec<u8> = Vec::new();
        for range in &scan.ranges {
            let (lo, hi) = range.bounds(&scan.def.prefix());
            r.scan(idx_space, lo, hi, reverse, &mut |k, pk| {
                stats.keys_examined += 1;
                if !reverse || by_key {
                    go_on = emit(pk, stats)?;
                    return Ok(go_on);
                }
                let value = &k[..k.len() - if scan.def.spec.unique { 0 } else { pk.len() }];
                if value != run_value.as_slice() {
                    while let Some(p) = run.pop() {
                        if !emit(&p, stats)? {
                            go_on = false;
                            return Ok(false);
                        }
                    }
                    run_value = value.to_vec();
                }
                run.push(pk.to_vec());
                Ok(true)
            })?;
            while go_on {
                let Some(p) = run.pop() else { break };
                go_on = emit(&p, stats)?;
            }
            if !go_on {
                break;
            }
        }
        Ok(())
    }

    /// The matching encoded documents: in key order (or `sort` order),
    /// after skipping `skip`, at most `limit`, each projected if asked.
    pub fn find(&self, ctx: Ctx<'_>, q: &Find<'_>) -> Result<Vec<Slice>> {
        Ok(self.find_explained(ctx, q)?.0)
    }

    /// [`Collection::find`], with the plan and what it read.
    pub fn find_explained(
        &self,
        ctx: Ctx<'_>,
        q: &Find<'_>,
    ) -> Result<(Vec<Slice>, Access, Stats)> {
        let ttl = self.ttl(ctx);
        let mut stats = Stats::default();
        let (mut out, access) = self.read(ctx, |r, st| {
            let access = self.plan(st, q);
            let mut out: Vec<Slice> = Vec::new();
            if q.limit == Some(0) {
                return Ok((out, access));
            }
            let in_order = match &access {
                Access::Index(s) if s.ordered.is_some() => true,
                Access::KeyRange(kr) => plan::key_range_ordered(kr, &self.key_fields, q.sort),
                _ => q.sort.is_none(),
            };
            // In result order, skip and limit apply while reading.
            let mut skipped = 0usize;
            // A covered plan reads exactly the matches: no need to check them.
            let filter = q.filter.filter(|_| match &access {
                Access::Index(s) => !s.covered,
                Access::KeyRange(kr) => !kr.covered,
                _ => true,
            });
            self.visit(r, st, &access, ttl.as_ref(), &mut stats, &mut |_, v| {
                let matched = match filter {
                    None => true,
                    Some(f) => query::matches(f, &doc::parse(v)?),
                };
                if matched {
                    if in_order && skipped < q.skip {
                        skipped += 1;
                    } else {
                        out.push(Slice::from(v));
                    }
                }
                Ok(!in_order || q.limit.is_none_or(|l| out.len() < l))
            })?;
            if !in_order {
                if let Some(sort) = q.sort {
                    out = sorted_window(out, sort, q.skip, q.limit)?;
                }
            }
            Ok((out, access))
        })?;
        if let Some(p) = q.projection {
            out = out
                .iter()
                .map(|v| {
                    let mut buf = Vec::with_capacity(v.len());
                    doc::encode(&p.apply(&doc::parse(v)?), &mut buf);
                    Ok(Slice::from(buf))
                })
                .collect::<Result<Vec<_>>>()?;
        }
        stats.returned = out.len();
        Ok((out, access, stats))
    }

    /// The distinct values of `path` among matching documents (list values
    /// contribute their elements), in the total order, encoded.
    pub fn distinct(
        &self,
        ctx: Ctx<'_>,
        path: &[String],
        filter: Option<&Filter>,
    ) -> Result<Vec<Vec<u8>>> {
        let mut values: Vec<Value<'static>> = Vec::new();
        let ttl = self.ttl(ctx);
        self.read(ctx, |r, st| {
            let q = Find {
                filter,
                ..Find::default()
            };
            let access = self.plan(st, &q);
            self.visit(
                r,
                st,
                &access,
                ttl.as_ref(),
                &mut Stats::default(),
                &mut |_, v| {
                    let d = doc::parse(v)?;
                    if filter.is_none_or(|f| query::matches(f, &d)) {
                        let mut cur = Some(&d);
                        for comp in path {
                            cur = cur.and_then(|c| c.field(comp));
                        }
                        match cur {
                            Some(Value::Array(items)) => {
                                values.extend(items.iter().map(|i| i.clone().into_owned()))
                            }
                            Some(other) => values.push(other.clone().into_owned()),
                            None => {}
                        }
                    }
                    Ok(true)
                },
            )
        })?;
        values.sort_by(doc::compare);
        values.dedup_by(|a, b| {
            doc::compare(a, b) == std::cmp::Ordering::Equal && a.type_name() == b.type_name()
        });
        Ok(values
            .iter()
            .map(|v| {
                let mut buf = Vec::new();
                doc::encode(v, &mut buf);
                buf
            })
            .collect())
    }

    /// Number of matching documents.
    pub fn count(&self, ctx: Ctx<'_>, filter: Option<&Filter>) -> Result<usize> {
        Ok(self.count_explained(ctx, filter)?.0)
    }

    /// [`Collection::count`], with the plan and what it read. A covered
    /// index plan counts entries (or sums counters, outside transactions:
    /// a transaction's own changes reach the counters only at its commit)
    /// without reading documents.
    pub fn count_explained(
        &self,
        ctx: Ctx<'_>,
        filter: Option<&Filter>,
    ) -> Result<(usize, Access, Stats)> {
        let ttl = self.ttl(ctx);
        let f = match (filter, ctx) {
            (Some(f), _) => f,
            (None, _) if ctx.tx.is_some() || self.ttl(ctx).is_some() => &Filter::And(Vec::new()),
            (None, _) => {
                let n = self
                    .store
                    .count(self.space, Bound::Unbounded, Bound::Unbounded)?;
                let stats = Stats {
                    docs_examined: n,
                    returned: n,
                    ..Stats::default()
                };
                return Ok((n, Access::Scan, stats));
            }
        };
        let mut stats = Stats::default();
        let (n, access) = self.read(ctx, |r, st| {
            let q = Find {
                filter,
                ..Find::default()
            };
            let access = self.plan(st, &q);
            if let Access::KeyRange(kr) = &access {
                if kr.covered && ttl.is_none() {
                    let (lo, hi) = kr.bounds();
                    let mut n = 0usize;
                    r.scan(self.space, lo, hi, false, &mut |_, _| {
                        stats.keys_examined += 1;
                        n += 1;
                        Ok(true)
                    })?;
                    return Ok((n, access));
                }
            }
            if let (Access::Index(scan), Some(idx_space)) = (&access, st.space) {
                if scan.counts_from_counters() && ctx.tx.is_none() && ttl.is_none() {
                    let mut n = 0u64;
                    for range in &scan.ranges {
                        let (lo, hi) = range.bounds(&scan.def.counter_prefix());
                        r.scan(idx_space, lo, hi, false, &mut |_, v| {
                            stats.keys_examined += 1;
                            n += maintain::read_count(v);
                            Ok(true)
                        })?;
                    }
                    return Ok((usize::try_from(n).unwrap_or(usize::MAX), access));
                }
                if scan.covered && ttl.is_none() {
                    let n = self.index_keys(r, idx_space, scan, &mut stats)?.len();
                    return Ok((n, access));
                }
            }
            let mut n = 0usize;
            self.visit(r, st, &access, ttl.as_ref(), &mut stats, &mut |_, v| {
                if query::matches(f, &doc::parse(v)?) {
                    n += 1;
                }
                Ok(true)
            })?;
            Ok((n, access))
        })?;
        stats.returned = n;
        Ok((n, access, stats))
    }
}

/// Sorts `docs` (stable: ties keep their order) and keeps the window.
fn sorted_window(
    docs: Vec<Slice>,
    sort: &Sort,
    skip: usize,
    limit: Option<usize>,
) -> Result<Vec<Slice>> {
    let parsed = docs
        .iter()
        .map(|v| doc::parse(v))
        .collect::<Result<Vec<_>>>()?;
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by(|&i, &j| sort.compare(&parsed[i], &parsed[j]));
    let end = limit.map_or(order.len(), |l| skip.saturating_add(l).min(order.len()));
    Ok(order
        .get(skip.min(order.len())..end)
        .unwrap_or_default()
        .iter()
        .map(|&i| docs[i].clone())
        .collect())
}
