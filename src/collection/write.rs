//! Collection writes, with their index entries, in one atomic commit or
//! inside a transaction.

use super::maintain::IndexWriter;
use super::{describe_key, doc, Collection, Ctx, Find, Stats, Value, MAX_DOCUMENT_SIZE};
use crate::engine::{BatchOp, Read};
use crate::error::{Error, Result};
use crate::query::update::{self, Update};
use crate::query::{self, Filter};
use std::collections::HashSet;
use std::sync::Arc;

/// The body of a write: reads through `r`, records index changes in the
/// writer (when the collection has indexes), and pushes document writes.
type Body<'f, R> =
    dyn FnOnce(&dyn Read, Option<&mut IndexWriter<'_>>, &mut Vec<BatchOp>) -> Result<R> + 'f;

impl Collection {
    /// Checks that a transaction belongs to this collection's store.
    pub(super) fn check_tx(&self, ctx: Ctx<'_>) -> Result<()> {
        match ctx {
            Ctx::Tx(tx) if !Arc::ptr_eq(tx.store(), &self.store) => Err(Error::InvalidArgument(
                "this collection belongs to another store than the transaction".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Runs `body` and commits what it writes, with the index changes:
    /// atomically at once, or into the transaction (all or nothing per
    /// call), with the counters updated when the transaction commits.
    fn write<R>(&self, ctx: Ctx<'_>, body: Box<Body<'_, R>>) -> Result<R> {
        self.check_tx(ctx)?;
        let st = self.indexes.state.read_recursive();
        let idx_space = st.space;
        match ctx {
            Ctx::Auto if st.defs.is_empty() => self.store.transact(|view| {
                let mut ops = Vec::new();
                let out = body(view, None, &mut ops)?;
                Ok((out, ops))
            }),
            Ctx::Auto => {
                let space = idx_space.ok_or(Error::Closed("index space"))?;
                let out = self.store.transact(|view| {
                    let mut w = IndexWriter::new(view, space, &st.defs);
                    let mut ops = Vec::new();
                    let out = body(view, Some(&mut w), &mut ops)?;
                    ops.extend(w.finish()?);
                    Ok((out, ops))
                });
                if out.is_err() {
                    st.defs.iter().for_each(|d| d.forget_stored());
                }
                out
            }
            Ctx::Tx(tx) => {
                let mut ops = Vec::new();
                let (out, counters) = match idx_space {
                    Some(space) if !st.defs.is_empty() => {
                        let mut w = IndexWriter::new(&**tx, space, &st.defs);
                        let out = body(&**tx, Some(&mut w), &mut ops)?;
                        let (entries, counters) = w.split();
                        ops.extend(entries);
                        (out, Some(counters.into_owned()))
                    }
                    _ => (body(&**tx, None, &mut ops)?, None),
                };
                for op in ops {
                    match op.value {
                        Some(v) => tx.put(op.space, &op.key, &v)?,
                        None => tx.discard(op.space, &op.key)?,
                    }
                }
                // The entries were computed for these definitions: a commit
                // after an index was created or dropped must not land.
                let generation = self.indexes.generation();
                let indexes = self.indexes.clone();
                tx.on_commit(Box::new(move |view| {
                    if indexes.generation() != generation {
                        return Err(Error::Conflict);
                    }
                    counters.map_or_else(|| Ok(Vec::new()), |c| c.finish(view))
                }))?;
                Ok(out)
            }
        }
    }

    /// Inserts documents atomically: any duplicate key (stored, or twice in
    /// the batch) or unique-index value writes nothing.
    pub fn insert_many(&self, ctx: Ctx<'_>, docs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        let duplicate = |k: &[u8]| {
            Error::Duplicate(format!(
                "a document with key {} already exists",
                describe_key(k)
            ))
        };
        if matches!(ctx, Ctx::Auto) && self.has_no_index() {
            return match self.store.insert_new(self.space, docs)? {
                None => Ok(()),
                Some(i) => Err(duplicate(&docs[i].0)),
            };
        }
        let space = self.space;
        self.write(
            ctx,
            Box::new(move |r, mut w, ops| {
                let mut seen = HashSet::with_capacity(docs.len());
                for (k, v) in docs {
                    if !seen.insert(k.as_slice()) || r.get(space, k)?.is_some() {
                        return Err(duplicate(k));
                    }
                    if let Some(w) = w.as_deref_mut() {
                        w.change(k, None, Some(&doc::parse(v)?))?;
                    }
                    ops.push(BatchOp {
                        space,
                        key: k.clone(),
                        value: Some(v.clone()),
                    });
                }
                Ok(())
            }),
        )
    }

    /// Writes `doc` (or deletes, for `None`) under `key`; with
    /// `only_existing`, only over an existing document. Returns whether a
    /// document existed.
    fn write_one(
        &self,
        ctx: Ctx<'_>,
        key: &[u8],
        doc: Option<&[u8]>,
        only_existing: bool,
    ) -> Result<bool> {
        if matches!(ctx, Ctx::Auto) && self.has_no_index() {
            return match (doc, only_existing) {
                (Some(d), false) => self.store.put(self.space, key, d).map(|()| true),
                (Some(d), true) => self.store.replace_existing(self.space, key, d),
                (None, _) => Ok(self.store.take(self.space, key)?.is_some()),
            };
        }
        let space = self.space;
        self.write(
            ctx,
            Box::new(move |r, w, ops| {
                let old = r.get(space, key)?;
                if old.is_none() && (only_existing || doc.is_none()) {
                    return Ok(false);
                }
                if let Some(w) = w {
                    let old_value = old.as_deref().map(doc::parse).transpose()?;
                    let new_value = doc.map(doc::parse).transpose()?;
                    w.change(key, old_value.as_ref(), new_value.as_ref())?;
                }
                ops.push(BatchOp {
                    space,
                    key: key.to_vec(),
                    value: doc.map(<[u8]>::to_vec),
                });
                Ok(old.is_some())
            }),
        )
    }

    fn has_no_index(&self) -> bool {
        self.indexes.state.read_recursive().defs.is_empty()
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

    /// Runs `change` on each matching document (in key order), stopping
    /// after the first match unless `multi`, and commits all changes and
    /// their index entries atomically. `change` returns the new encoded
    /// document, or `None` to delete it. Returns (matched, changed).
    fn rewrite_matching(
        &self,
        ctx: Ctx<'_>,
        filter: Option<&Filter>,
        multi: bool,
        mut change: impl FnMut(Value<'_>, &[u8]) -> Result<Option<Vec<u8>>>,
    ) -> Result<(usize, usize)> {
        let space = self.space;
        self.write(
            ctx,
            Box::new(move |r, mut w, ops| {
                let st = self.indexes.state.read_recursive();
                let q = Find {
                    filter,
                    ..Find::default()
                };
                let access = self.plan(&st, &q);
                let mut matched = 0usize;
                self.visit(r, &st, &access, &mut Stats::default(), &mut |k, raw| {
                    let value = doc::parse(raw)?;
                    if filter.is_some_and(|f| !query::matches(f, &value)) {
                        return Ok(true);
                    }
                    matched += 1;
                    let new = change(value, raw)?;
                    if new.as_deref() == Some(raw) {
                        return Ok(multi);
                    }
                    if let Some(w) = w.as_deref_mut() {
                        let new_value = new.as_deref().map(doc::parse).transpose()?;
                        // Parsed again: `change` consumed the first parse.
                        w.change(k, Some(&doc::parse(raw)?), new_value.as_ref())?;
                    }
                    ops.push(BatchOp {
                        space,
                        key: k.to_vec(),
                        value: new,
                    });
                    Ok(multi)
                })?;
                Ok((matched, ops.len()))
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
        filter: Option<&Filter>,
        update: &Update,
        multi: bool,
        upsert: bool,
        default_id: Option<Value<'static>>,
    ) -> Result<(usize, usize, Option<Vec<u8>>)> {
        let key_fields = &self.key_fields;
        let (matched, modified) = self.rewrite_matching(ctx, filter, multi, |value, raw| {
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
    pub fn delete_where(
        &self,
        ctx: Ctx<'_>,
        filter: Option<&Filter>,
        multi: bool,
    ) -> Result<usize> {
        Ok(self
            .rewrite_matching(ctx, filter, multi, |_, _| Ok(None))?
            .1)
    }
}
