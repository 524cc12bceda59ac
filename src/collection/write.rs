//! Collection writes, with their index entries and change events, in one
//! atomic commit or inside a transaction.

use super::events::{Action, Change};
use super::maintain::IndexWriter;
use super::plan::Access;
use super::{describe_key, doc, Collection, Ctx, Find, Stats, Ttl, Value, MAX_DOCUMENT_SIZE};
use crate::engine::reader::nothing_between;
use crate::engine::{BatchOp, Read, SpaceId};
use crate::error::{Error, Result};
use crate::query::filter::{Cmp, Op, Path};
use crate::query::update::{self, Update};
use crate::query::{self, Filter};
use fjall::Slice;
use std::collections::HashSet;
use std::sync::Arc;

/// The document writes of one call, with what they do to the indexes and
/// the events they make.
pub(super) struct Changes<'a> {
    space: SpaceId,
    index: Option<IndexWriter<'a>>,
    ops: Vec<BatchOp>,
    events: Option<Vec<Change>>,
}

impl Changes<'_> {
    /// Writes `new` (or deletes, for `None`) over `old` under `key`.
    pub fn write(
        &mut self,
        action: Action,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<()> {
        if let Some(w) = &mut self.index {
            let old_value = old.map(doc::parse).transpose()?;
            let new_value = new.as_deref().map(doc::parse).transpose()?;
            w.change(key, old_value.as_ref(), new_value.as_ref())?;
        }
        if let Some(events) = &mut self.events {
            events.push(Change {
                space: self.space,
                action,
                key: key.to_vec(),
                old: old.map(<[u8]>::to_vec),
                new: new.clone(),
            });
        }
        self.ops.push(BatchOp {
            space: self.space,
            key: key.to_vec(),
            value: new,
        });
        Ok(())
    }

    /// The live document under `key` (read through `r`), and whether an
    /// expired one was there: that one is recorded as expired (its index
    /// entries go, an event is made) but not deleted, as the caller writes
    /// the key next (or deletes it).
    pub fn live(
        &mut self,
        r: &dyn Read,
        key: &[u8],
        ttl: Option<&Ttl>,
    ) -> Result<(Option<Slice>, bool)> {
        let old = r.get(self.space, key)?;
        if let (Some(o), Some(t)) = (&old, ttl) {
            if t.expired(o)? {
                self.write(Action::Expire, key, Some(o), None)?;
                self.ops.pop();
                return Ok((None, true));
            }
        }
        Ok((old, false))
    }

    /// Documents written so far.
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// The documents an update or delete applies to: those matching `filter`
/// (all when `None`), among `keys` (sorted encoded primary keys) if given.
#[derive(Clone, Copy, Default)]
pub struct Selection<'f> {
    /// The filter.
    pub filter: Option<&'f Filter>,
    /// The candidate keys, if already chosen (by a Python predicate).
    pub keys: Option<&'f [Vec<u8>]>,
}

/// The body of a write: reads through the reader, records its writes.
type Body<'f, R> = dyn FnOnce(&dyn Read, &mut Changes<'_>) -> Result<R> + 'f;

impl Collection {
    /// Checks that a transaction belongs to this collection's store.
    pub(super) fn check_tx(&self, ctx: Ctx<'_>) -> Result<()> {
        match ctx.tx {
            Some(tx) if !Arc::ptr_eq(tx.store(), &self.store) => Err(Error::InvalidArgument(
                "this collection belongs to another store than the transaction".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Runs `body` and commits what it writes, with the index changes and
    /// events: atomically at once, or into the transaction (all or nothing
    /// per call), with the counters updated and the events queued when the
    /// transaction commits.
    fn write<R>(&self, ctx: Ctx<'_>, body: Box<Body<'_, R>>) -> Result<R> {
        self.check_tx(ctx)?;
        let st = self.indexes.state.read_recursive();
        let idx_space = st.space.filter(|_| !st.defs.is_empty());
        let log = self
            .events
            .is_watched(self.space)
            .then(|| self.events.clone());
        let record = log.is_some();
        let defs = st.defs.as_slice();
        let space = self.space;
        fn changes<'a>(
            space: SpaceId,
            r: &'a dyn Read,
            idx_space: Option<SpaceId>,
            defs: &'a [Arc<super::index::IndexDef>],
            record: bool,
        ) -> Changes<'a> {
            Changes {
                space,
                index: idx_space.map(|s| IndexWriter::new(r, s, defs)),
                ops: Vec::new(),
                events: record.then(Vec::new),
            }
        }
        let Some(tx) = ctx.tx else {
            let out = self.store.transact_then(
                |view| {
                    let mut ch = changes(space, view, idx_space, defs, record);
                    let out = body(view, &mut ch)?;
                    let mut ops = ch.ops;
                    if let Some(w) = ch.index {
                        ops.extend(w.finish()?);
                    }
                    Ok(((out, ch.events), ops))
                },
                |(_, events)| {
                    if let (Some(log), Some(events)) = (&log, events.take()) {
                        log.push(events);
                    }
                },
            );
            if out.is_err() {
                st.defs.iter().for_each(|d| d.forget_stored());
            }
            return out.map(|(r, _)| r);
        };
        let mut ch = changes(space, &**tx, idx_space, defs, record);
        let out = body(&**tx, &mut ch)?;
        let mut ops = ch.ops;
        let counters = ch.index.map(|w| {
            let (entries, counters) = w.split();
            ops.extend(entries);
            counters.into_owned()
        });
        for op in ops {
            match op.value {
                Some(v) => tx.put(op.space, &op.key, &v)?,
                None => tx.discard(op.space, &op.key)?,
            }
        }
        // The entries were computed for these definitions: a commit after
        // an index was created or dropped must not land.
        let generation = self.indexes.generation();
        let indexes = self.indexes.clone();
        tx.on_commit(Box::new(move |view| {
            if indexes.generation() != generation {
                return Err(Error::Conflict);
            }
            counters.map_or_else(|| Ok(Vec::new()), |c| c.finish(view))
        }))?;
        if let (Some(log), Some(events)) = (log, ch.events) {
            tx.on_committed(Box::new(move || log.push(events)))?;
        }
        Ok(out)
    }

    /// Whether a call can take the engine's direct paths: on its own, no
    /// index to maintain, no events to record, nothing that may expire.
    fn plain(&self, ctx: Ctx<'_>) -> bool {
        ctx.tx.is_none()
            && self.indexes.state.read_recursive().defs.is_empty()
            && !self.events.is_watched(self.space)
            && self.ttl(ctx).is_none()
    }

    /// Inserts documents atomically: any duplicate key (stored, or twice in
    /// the batch) or unique-index value writes nothing. An expired document
    /// under the same key is replaced.
    pub fn insert_many(&self, ctx: Ctx<'_>, docs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        let duplicate = |k: &[u8]| {
            Error::Duplicate(format!(
                "a document with key {} already exists",
                describe_key(k)
            ))
        };
        if self.plain(ctx) {
            return match self.store.insert_new(self.space, docs)? {
                None => Ok(()),
                Some(i) => Err(duplicate(&docs[i].0)),
            };
        }
        let ttl = self.ttl(ctx);
        let space = self.space;
        // Not in a transaction: the probed range would join its read set,
        // and a write anywhere in it would then conflict.
        let probe = ctx.tx.is_none() && docs.len() >= 8;
        self.write(
            ctx,
            Box::new(move |r, ch| {
                let mut seen = HashSet::with_capacity(docs.len());
                // One range probe instead of a read per document when the
                // batch lands where nothing is stored (a bulk load).
                let fresh = probe && nothing_between(r, space, docs.iter().map(|(k, _)| k))?;
                for (k, v) in docs {
                    if !seen.insert(k.as_slice()) {
                        return Err(duplicate(k));
                    }
                    if !fresh && ch.live(r, k, ttl.as_ref())?.0.is_some() {
                        return Err(duplicate(k));
                    }
                    ch.write(Action::Insert, k, None, Some(v.clone()))?;
                }
                Ok(())
            }),
        )
    }

    /// Writes `doc` (or deletes, for `None`) under `key`; with
    /// `only_existing`, only over an existing document. Returns whether a
    /// live document existed (an expired one is removed, as absent).
    fn write_one(
        &self,
        ctx: Ctx<'_>,
        key: &[u8],
        doc: Option<&[u8]>,
        only_existing: bool,
    ) -> Result<bool> {
        if self.plain(ctx) {
            return match (doc, only_existing) {
                (Some(d), false) => self.store.put(self.space, key, d).map(|()| true),
                (Some(d), true) => self.store.replace_existing(self.space, key, d),
                (None, _) => Ok(self.store.take(self.space, key)?.is_some()),
            };
        }
        let space = self.space;
        let ttl = self.ttl(ctx);
        self.write(
            ctx,
            Box::new(move |r, ch| {
                let (old, expired) = ch.live(r, key, ttl.as_ref())?;
                if expired && (doc.is_none() || only_existing) {
                    ch.ops.push(BatchOp {
                        space,
                        key: key.to_vec(),
                        value: None,
                    });
                    return Ok(false);
                }
                let Some(o) = &old else {
                    if only_existing || doc.is_none() {
                        return Ok(false);
                    }
                    ch.write(Action::Insert, key, None, doc.map(<[u8]>::to_vec))?;
                    return Ok(false);
                };
                let action = if doc.is_some() {
                    Action::Replace
                } else {
                    Action::Delete
                };
                ch.write(action, key, Some(o), doc.map(<[u8]>::to_vec))?;
                Ok(true)
            }),
        )
    }

    /// Inserts or replaces many documents in one atomic commit (the last
    /// of several with one key wins). Without indexes, events or a TTL to
    /// serve, nothing is read first.
    pub fn put_many(&self, ctx: Ctx<'_>, docs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        if self.plain(ctx) {
            let ops: Vec<BatchOp> = docs
                .iter()
                .map(|(k, v)| (k, v))
                .collect::<std::collections::BTreeMap<_, _>>()
                .into_iter()
                .map(|(k, v)| BatchOp {
                    space: self.space,
                    key: k.clone(),
                    value: Some(v.clone()),
                })
                .collect();
            return self.store.write_batch(&ops);
        }
        let ttl = self.ttl(ctx);
        self.write(
            ctx,
            Box::new(move |r, ch| {
                let last: std::collections::BTreeMap<&Vec<u8>, &Vec<u8>> =
                    docs.iter().map(|(k, v)| (k, v)).collect();
                for (k, v) in last {
                    let (old, _) = ch.live(r, k, ttl.as_ref())?;
                    let action = if old.is_some() {
                        Action::Replace
                    } else {
                        Action::Insert
                    };
                    ch.write(action, k, old.as_deref(), Some(v.clone()))?;
                }
                Ok(())
            }),
        )
    }

    /// Inserts or replaces.
    pub fn put(&self, ctx: Ctx<'_>, key: &[u8], doc: &[u8]) -> Result<()> {
        self.write_one(ctx, key, Some(doc), false).map(|_| ())
    }

    /// Replaces an existing document; `Ok(false)` (nothing written) if absent.
    pub fn replace(&self, ctx: Ctx<'_>, key: &[u8], doc: &[u8]) -> Result<bool> {
        self.write_one(ctx, key, Some(doc), true)
    }

    /// Deletes a document; whether it existed.
    pub fn delete(&self, ctx: Ctx<'_>, key: &[u8]) -> Result<bool> {
        self.write_one(ctx, key, None, false)
    }

    /// Runs `change` on each matching live document (in key order),
    /// stopping after the first match unless `multi`, and commits all
    /// changes, their index entries and events atomically. `change` returns
    /// the new encoded document, or `None` to delete it. Returns (matched,
    /// changed).
    fn rewrite_matching(
        &self,
        ctx: Ctx<'_>,
        sel: Selection<'_>,
        multi: bool,
        action: Action,
        mut change: impl FnMut(Value<'_>, &[u8]) -> Result<Option<Vec<u8>>>,
    ) -> Result<(usize, usize)> {
        let ttl = self.ttl(ctx);
        self.write(
            ctx,
            Box::new(move |r, ch| {
                let filter = sel.filter;
                let st = self.indexes.state.read_recursive();
                let q = Find {
                    filter,
                    ..Find::default()
                };
                let access = match sel.keys {
                    Some(keys) => Access::Keys(keys.to_vec()),
                    None => self.plan(&st, &q),
                };
                let mut matched = 0usize;
                let mut stats = Stats::default();
                self.visit(r, &st, &access, ttl.as_ref(), &mut stats, &mut |k, raw| {
                    let value = doc::parse(raw)?;
                    if filter.is_some_and(|f| !query::matches(f, &value)) {
                        return Ok(true);
                    }
                    matched += 1;
                    let new = change(value, raw)?;
                    if new.as_deref() != Some(raw) {
                        ch.write(action, k, Some(raw), new)?;
                    }
                    Ok(multi)
                })?;
                Ok((matched, ch.len()))
            }),
        )
    }

    /// Applies `update` to the first (or, with `multi`, every) matching
    /// document, atomically; with `upsert` and no match, inserts the
    /// filter's equality fields updated by `update`. Returns (matched,
    /// modified, encoded key of the upserted document).
    pub fn update(
        &self,
        ctx: Ctx<'_>,
        sel: Selection<'_>,
        update: &Update,
        multi: bool,
        upsert: bool,
        default_id: Option<Value<'static>>,
    ) -> Result<(usize, usize, Option<Vec<u8>>)> {
        let key_fields = &self.key_fields;
        let filter = sel.filter;
        let (matched, modified) =
            self.rewrite_matching(ctx, sel, multi, Action::Update, |value, raw| {
                let mut owned = value.into_owned();
                update::apply(update, &mut owned, key_fields)?;
                let mut buf = Vec::with_capacity(raw.len() + 16);
                doc::encode(&owned, &mut buf);
                if buf.len() > MAX_DOCUMENT_SIZE {
                    return Err(Error::InvalidArgument(format!(
                        "updated document is {} bytes; the limit is {MAX_DOCUMENT_SIZE}",
                        buf.len()
                    )));
                }
                Ok(Some(buf))
            })?;
        if matched > 0 {
            return Ok((matched, modified, None));
        }
        if !upsert {
            return Ok((0, 0, None));
        }
        let mut base = update::seed_from_filter(filter);
        // A replacement takes the place of the seed; keys come from either.
        let seed_keys: Vec<(String, Value<'static>)> = self
            .key_fields
            .iter()
            .filter_map(|f| base.field(f).map(|v| (f.clone(), v.clone())))
            .collect();
        if let Update::Replace(new) = update {
            base = new.clone();
            if let Value::Map(fields) = &mut base {
                for (f, v) in seed_keys {
                    if !fields.iter().any(|(k, _)| *k == f) {
                        fields.push((std::borrow::Cow::Owned(f), v));
                    }
                }
            }
        } else {
            // Operators may set key fields of the new document freely.
            update::apply(update, &mut base, &[])?;
        }
        if let (Some(id), Value::Map(fields)) = (default_id, &mut base) {
            if !fields.iter().any(|(k, _)| k == "_id") {
                fields.insert(0, (std::borrow::Cow::Borrowed("_id"), id));
            }
        }
        let mut buf = Vec::new();
        doc::encode(&base, &mut buf);
        let (key, data) = self.prepare(buf)?;
        self.insert_many(ctx, &[(key.clone(), data)])?;
        Ok((0, 0, Some(key)))
    }

    /// Deletes the matching documents (all, or the first one); how many.
    pub fn delete_where(&self, ctx: Ctx<'_>, sel: Selection<'_>, multi: bool) -> Result<usize> {
        Ok(self
            .rewrite_matching(ctx, sel, multi, Action::Delete, |_, _| Ok(None))?
            .1)
    }

    /// Removes the documents whose time to live has passed at `ctx.now`
    /// (with their index entries, as `expire` events); how many. Reads
    /// already hide them: this reclaims their space.
    pub fn expire(&self, ctx: Ctx<'_>) -> Result<usize> {
        let Some(ttl) = self.ttl(ctx) else {
            return Ok(0);
        };
        // Expiries are numbers below now: an index on the field finds them.
        let candidates = Filter::Field(
            Path(ttl.path.clone()),
            vec![Op::Cmp(Value::Float(ttl.now), Cmp::Lt)],
        );
        self.write(
            ctx,
            Box::new(move |r, ch| {
                let st = self.indexes.state.read_recursive();
                let q = Find {
                    filter: Some(&candidates),
                    ..Find::default()
                };
                let access = self.plan(&st, &q);
                self.visit(
                    r,
                    &st,
                    &access,
                    None,
                    &mut Stats::default(),
                    &mut |k, raw| {
                        if ttl.expired(raw)? {
                            ch.write(Action::Expire, k, Some(raw), None)?;
                        }
                        Ok(true)
                    },
                )?;
                Ok(ch.len())
            }),
        )
    }
}
