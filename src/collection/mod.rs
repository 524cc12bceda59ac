//! Collections: documents (MessagePack) stored in a `doc.<name>` space under
//! a primary key made of named top-level fields, encoded with the
//! order-preserving key codec (one field: its value; several: a tuple).
//! Queries are evaluated here, in Rust, on the encoded documents: only the
//! documents returned are ever turned into Python objects.

use crate::codec::doc::{self, Value};
use crate::codec::key::{Key, KeyWriter};
use crate::engine::catalog::SpaceConfig;
use crate::engine::{SpaceId, Store};
use crate::error::{Error, Result};
use crate::query::shape::{Projection, Sort};
use crate::query::update::{self, Update};
use crate::query::{self, Filter};
use fjall::Slice;
use std::ops::Bound;
use std::sync::Arc;

/// Space kind of collections in the catalog.
pub const KIND: &str = "doc";
/// Largest accepted encoded document.
pub const MAX_DOCUMENT_SIZE: usize = 16 * 1024 * 1024;

/// What `find` returns: filter, order, window and shape.
#[derive(Default)]
pub struct Find<'q> {
    /// Documents to match (`None`: all).
    pub filter: Option<&'q Filter>,
    /// Result order (`None`: primary-key order).
    pub sort: Option<&'q Sort>,
    /// Fields to keep or drop.
    pub projection: Option<&'q Projection>,
    /// Matches to skip.
    pub skip: usize,
    /// Most results.
    pub limit: Option<usize>,
}

/// One collection of one store.
pub struct Collection {
    /// The store.
    pub store: Arc<Store>,
    /// The documents' space.
    pub space: SpaceId,
    /// Primary-key field names.
    pub key_fields: Vec<String>,
}

fn key_config(fields: &[String]) -> String {
    serde_json::to_string(fields).unwrap_or_default()
}

impl Collection {
    /// Opens (creating on first use) collection `name`. `key_fields`:
    /// `None` uses the stored key (or `["_id"]` for a new collection).
    pub fn open(store: &Arc<Store>, name: &str, key_fields: Option<Vec<String>>) -> Result<Self> {
        if let Some(fields) = &key_fields {
            if fields.is_empty() || fields.iter().any(|f| f.is_empty() || f.contains('.')) {
                return Err(Error::InvalidArgument(
                    "key must name one or more top-level fields".into(),
                ));
            }
        }
        let wanted = key_fields.clone();
        let (space, cfg) = store.open_space(KIND, name, None, |stored| match stored {
            Some(cfg) => {
                if let Some(w) = &wanted {
                    if key_config(w) != cfg.key {
                        return Err(Error::InvalidArgument(format!(
                            "collection {name:?} is stored with key {}, not {}",
                            cfg.key,
                            key_config(w)
                        )));
                    }
                }
                Ok(cfg.clone())
            }
            None => Ok(SpaceConfig {
                kind: KIND.into(),
                key: key_config(&wanted.unwrap_or_else(|| vec!["_id".into()])),
                value: "msgpack".into(),
            }),
        })?;
        let key_fields = serde_json::from_str(&cfg.key).map_err(|e| Error::Corruption {
            path: store.path().to_path_buf(),
            detail: format!("bad key of collection {name:?}: {e}"),
        })?;
        Ok(Self {
            store: store.clone(),
            space,
            key_fields,
        })
    }

    /// The encoded primary keys a filter pins down through equality (or
    /// `$in`) on every primary-key field, sorted and deduplicated; `None`
    /// when it does not (then a query scans). Only the candidates are read;
    /// the whole filter is still evaluated on each.
    pub fn pinned_keys(&self, filter: Option<&Filter>) -> Option<Vec<Vec<u8>>> {
        use crate::query::filter::Op;
        let f = filter?;
        let parts: Vec<&Filter> = match f {
            Filter::And(parts) => parts.iter().collect(),
            other => vec![other],
        };
        let mut per_field: Vec<Vec<&Value<'static>>> = Vec::new();
        for field in &self.key_fields {
            let mut choices: Option<Vec<&Value<'static>>> = None;
            for part in &parts {
                let Filter::Field(path, ops) = part else {
                    continue;
                };
                if path.0.len() != 1 || path.0[0] != *field {
                    continue;
                }
                for op in ops {
                    let vals: Vec<&Value<'static>> = match op {
                        Op::Eq(v) => vec![v],
                        Op::In(vs, pats) if pats.is_empty() => vs.iter().collect(),
                        _ => continue,
                    };
                    choices = Some(vals);
                }
            }
            // Only scalars map one to one onto keys (a list would also match
            // documents whose key field contains it).
            let vals = choices?;
            if vals.iter().any(|v| !is_key_scalar(v)) {
                return None;
            }
            per_field.push(vals);
        }
        if self.key_fields.len() > 1 && per_field.iter().any(|v| v.len() != 1) {
            return None;
        }
        let mut keys = Vec::new();
        if self.key_fields.len() == 1 {
            for v in &per_field[0] {
                let mut buf = Vec::new();
                write_key_value(&mut KeyWriter::new(&mut buf), v, &self.key_fields[0]).ok()?;
                keys.push(buf);
            }
        } else {
            let mut buf = Vec::new();
            let mut w = KeyWriter::new(&mut buf);
            w.begin_tuple();
            for (v, field) in per_field.iter().zip(&self.key_fields) {
                write_key_value(&mut w, v[0], field).ok()?;
            }
            w.end_tuple();
            keys.push(buf);
        }
        keys.sort();
        keys.dedup();
        Some(keys)
    }

    /// The encoded primary key of an encoded document.
    pub fn key_of(&self, doc: &Value<'_>) -> Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(32);
        let mut w = KeyWriter::new(&mut buf);
        let several = self.key_fields.len() > 1;
        if several {
            w.begin_tuple();
        }
        for field in &self.key_fields {
            let v = doc.field(field).ok_or_else(|| {
                Error::InvalidArgument(format!("the document has no primary-key field {field:?}"))
            })?;
            write_key_value(&mut w, v, field)?;
        }
        if several {
            w.end_tuple();
        }
        Ok(buf)
    }

    /// Checks an encoded document and returns `(key, document)`.
    pub fn prepare(&self, encoded: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>)> {
        if encoded.len() > MAX_DOCUMENT_SIZE {
            return Err(Error::InvalidArgument(format!(
                "document is {} bytes encoded; the limit is {MAX_DOCUMENT_SIZE}",
                encoded.len()
            )));
        }
        let value = doc::parse(&encoded)?;
        if !matches!(value, Value::Map(_)) {
            return Err(Error::Type("a document must be a dict".into()));
        }
        let key = self.key_of(&value)?;
        Ok((key, encoded))
    }

    /// Inserts documents atomically: any duplicate key (stored, or twice in
    /// the batch) writes nothing.
    pub fn insert_many(&self, docs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        match self.store.insert_new(self.space, docs)? {
            None => Ok(()),
            Some(i) => Err(Error::Duplicate(format!(
                "a document with key {} already exists",
                describe_key(&docs[i].0)
            ))),
        }
    }

    /// Inserts or replaces.
    pub fn put(&self, key: &[u8], doc: &[u8]) -> Result<()> {
        self.store.put(self.space, key, doc)
    }

    /// Replaces an existing document; `Ok(false)` (nothing written) if absent.
    pub fn replace(&self, key: &[u8], doc: &[u8]) -> Result<bool> {
        self.store.replace_existing(self.space, key, doc)
    }

    /// The document with this encoded key.
    pub fn get(&self, key: &[u8]) -> Result<Option<Slice>> {
        self.store.get(self.space, key)
    }

    /// Deletes a document; whether it existed.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        Ok(self.store.take(self.space, key)?.is_some())
    }

    /// The matching encoded documents: in key order (or `sort` order),
    /// after skipping `skip`, at most `limit`, each projected if asked.
    pub fn find(&self, q: &Find<'_>) -> Result<Vec<Slice>> {
        let mut out: Vec<Slice> = Vec::new();
        if q.limit == Some(0) {
            return Ok(out);
        }
        // Without a sort, skip and limit apply while scanning.
        let stop_early = q.sort.is_none();
        let mut skipped = 0usize;
        self.candidates(q.filter, |v| {
            let matched = match q.filter {
                None => true,
                Some(f) => query::matches(f, &doc::parse(v)?),
            };
            if matched {
                if stop_early && skipped < q.skip {
                    skipped += 1;
                } else {
                    out.push(v.clone());
                }
            }
            Ok(!stop_early || q.limit.is_none_or(|l| out.len() < l))
        })?;
        if let Some(sort) = q.sort {
            let parsed = out
                .iter()
                .map(|v| doc::parse(v))
                .collect::<Result<Vec<_>>>()?;
            let mut order: Vec<usize> = (0..out.len()).collect();
            // Stable: ties keep primary-key order.
            order.sort_by(|&i, &j| sort.compare(&parsed[i], &parsed[j]));
            let end = q
                .limit
                .map_or(order.len(), |l| (q.skip + l).min(order.len()));
            let picked: Vec<Slice> = order
                .get(q.skip.min(order.len())..end)
                .unwrap_or_default()
                .iter()
                .map(|&i| out[i].clone())
                .collect();
            out = picked;
        }
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
        Ok(out)
    }

    /// The distinct values of `path` among matching documents (list values
    /// contribute their elements), in the total order, encoded.
    pub fn distinct(&self, path: &[String], filter: Option<&Filter>) -> Result<Vec<Vec<u8>>> {
        let mut values: Vec<Value<'static>> = Vec::new();
        self.scan(|v| {
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

    /// Runs `change` on each matching document (pinned keys, or every
    /// document in key order) under the commit lock, stopping after the
    /// first match unless `multi`, and commits all changes atomically.
    /// `change` returns the new encoded document, or `None` to delete it.
    /// Returns (matched, changed).
    fn rewrite_matching(
        &self,
        filter: Option<&Filter>,
        multi: bool,
        mut change: impl FnMut(Value<'_>, &[u8]) -> Result<Option<Vec<u8>>>,
    ) -> Result<(usize, usize)> {
        let pinned = self.pinned_keys(filter);
        let space = self.space;
        self.store.transact(|view| {
            let mut matched = 0usize;
            let mut ops = Vec::new();
            let mut visit = |k: &[u8], raw: &[u8]| -> Result<bool> {
                let value = doc::parse(raw)?;
                if filter.is_some_and(|f| !query::matches(f, &value)) {
                    return Ok(true);
                }
                matched += 1;
                match change(value, raw)? {
                    Some(new) if new.as_slice() == raw => {}
                    new => ops.push(crate::engine::BatchOp {
                        space,
                        key: k.to_vec(),
                        value: new,
                    }),
                }
                Ok(multi)
            };
            match &pinned {
                Some(keys) => {
                    for k in keys {
                        if let Some(raw) = view.get(space, k)? {
                            if !visit(k, &raw)? {
                                break;
                            }
                        }
                    }
                }
                None => {
                    for item in view.range(space, Bound::Unbounded, Bound::Unbounded)? {
                        let (k, raw) = item?;
                        if !visit(&k, &raw)? {
                            break;
                        }
                    }
                }
            }
            let changed = ops.len();
            Ok(((matched, changed), ops))
        })
    }

    /// Applies `update` to the first (or, with `multi`, every) matching
    /// document, atomically; with `upsert` and no match, inserts the
    /// filter's equality fields updated by `update`. Returns (matched,
    /// modified, encoded key of the upserted document).
    pub fn update(
        &self,
        filter: Option<&Filter>,
        update: &Update,
        multi: bool,
        upsert: bool,
        default_id: Option<Value<'static>>,
    ) -> Result<(usize, usize, Option<Vec<u8>>)> {
        let key_fields = &self.key_fields;
        let (matched, modified) = self.rewrite_matching(filter, multi, |value, raw| {
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
        self.insert_many(&[(key.clone(), data)])?;
        Ok((0, 0, Some(key)))
    }

    /// Deletes the matching documents (all, or the first one); how many.
    pub fn delete_where(&self, filter: Option<&Filter>, multi: bool) -> Result<usize> {
        Ok(self.rewrite_matching(filter, multi, |_, _| Ok(None))?.1)
    }

    /// Number of matching documents.
    pub fn count(&self, filter: Option<&Filter>) -> Result<usize> {
        let Some(f) = filter else {
            return self
                .store
                .count(self.space, Bound::Unbounded, Bound::Unbounded);
        };
        let mut n = 0usize;
        self.scan(|v| {
            if query::matches(f, &doc::parse(v)?) {
                n += 1;
            }
            Ok(true)
        })?;
        Ok(n)
    }

    /// Visits the documents a filter can match, in key order, from one
    /// snapshot: the pinned keys' documents, or all of them.
    fn candidates(
        &self,
        filter: Option<&Filter>,
        mut visit: impl FnMut(&Slice) -> Result<bool>,
    ) -> Result<()> {
        let Some(keys) = self.pinned_keys(filter) else {
            return self.scan(visit);
        };
        let docs = self.store.get_many(self.space, &keys)?;
        for v in docs.iter().flatten() {
            if !visit(v)? {
                break;
            }
        }
        Ok(())
    }

    /// Visits every encoded document in key order, from one snapshot, until
    /// `visit` returns `false`.
    fn scan(&self, mut visit: impl FnMut(&Slice) -> Result<bool>) -> Result<()> {
        let snapshot = self.store.snapshot()?;
        let spec = crate::engine::RangeSpec {
            lo: Bound::Unbounded,
            hi: Bound::Unbounded,
            reverse: false,
            keys_only: false,
        };
        let cursor = crate::engine::Cursor::open(
            &self.store,
            self.space,
            crate::engine::Source::Snapshot(snapshot),
            spec,
        )?;
        loop {
            let batch = cursor.next_batch(1024)?;
            let done = batch.len() < 1024;
            for (_, v) in &batch {
                if !visit(v.as_ref().unwrap_or(&Slice::from(&b""[..])))? {
                    cursor.close();
                    return Ok(());
                }
            }
            if done {
                cursor.close();
                return Ok(());
            }
        }
    }
}

fn is_key_scalar(v: &Value<'_>) -> bool {
    matches!(
        v,
        Value::Null
            | Value::Bool(_)
            | Value::Int(_)
            | Value::BigInt(..)
            | Value::Float(_)
            | Value::Str(_)
            | Value::Bytes(_)
    )
}

fn write_key_value(w: &mut KeyWriter<'_>, v: &Value<'_>, field: &str) -> Result<()> {
    match v {
        Value::Null => w.none(),
        Value::Bool(b) => w.bool(*b),
        Value::Int(i) => w.int_magnitude(*i < 0, &i.unsigned_abs().to_be_bytes()),
        Value::BigInt(neg, mag) => w.int_magnitude(*neg, mag),
        Value::Float(f) => w.f64(*f),
        Value::Str(s) => w.str(s),
        Value::Bytes(b) => w.bytes(b),
        // Tuples (stored as lists) key as tuples, like the KV "any" codec.
        Value::Array(items) => {
            w.begin_tuple();
            for item in items {
                write_key_value(w, item, field)?;
            }
            w.end_tuple();
        }
        other => {
            return Err(Error::Type(format!(
                "primary-key field {field:?} must be None, bool, int, float, str, bytes \
                 or a tuple of those, not {}",
                other.type_name()
            )))
        }
    }
    Ok(())
}

/// Python-like text of an encoded key, for messages.
pub fn describe_key(key: &[u8]) -> String {
    Key::decode(key).map_or_else(|_| format!("{key:?}"), |k| k.to_string())
}
