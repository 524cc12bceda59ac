//! Collections: documents (MessagePack) stored in a `doc.<name>` space under
//! a primary key made of named top-level fields, encoded with the
//! order-preserving key codec (one field: its value; several: a tuple).
//! Queries are evaluated here, in Rust, on the encoded documents: only the
//! documents returned are ever turned into Python objects.

pub mod events;
pub mod index;
pub mod indexes;
pub mod maintain;
pub mod plan;
mod read;
mod write;

pub use write::Selection;

use crate::codec::doc::{self, Value};
use crate::codec::key::{Key, KeyWriter};
use crate::engine::catalog::SpaceConfig;
use crate::engine::{Read, SpaceId, Store, Transaction};
use crate::error::{Error, Result};
use crate::query::shape::{Projection, Sort};
use crate::query::Filter;
use indexes::Indexes;
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

/// How a collection call runs: on its own (committing at once) or inside
/// a transaction (reading its writes, writing at its commit), and the time
/// its time-to-live checks use.
#[derive(Clone, Copy)]
pub struct Ctx<'t> {
    /// The transaction, if any.
    pub tx: Option<&'t Arc<Transaction>>,
    /// Now, in epoch seconds (the caller's clock); without it nothing
    /// expires.
    pub now: Option<f64>,
}

impl Ctx<'static> {
    /// A call on its own, without time-to-live checks.
    pub const AUTO: Ctx<'static> = Ctx {
        tx: None,
        now: None,
    };
}

/// A time-to-live check: the field holding each document's expiry (epoch
/// seconds; 0, missing and non-numbers never expire) and the time now.
pub struct Ttl {
    path: Vec<String>,
    now: f64,
}

impl Ttl {
    /// Whether the encoded document has expired.
    pub fn expired(&self, raw: &[u8]) -> Result<bool> {
        let d = doc::parse(raw)?;
        let mut v = Some(&d);
        for p in &self.path {
            v = v.and_then(|x| x.field(p));
        }
        let at = match v {
            Some(Value::Int(i)) => *i as f64,
            Some(Value::Float(f)) => *f,
            Some(Value::BigInt(neg, _)) => {
                if *neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            Some(Value::Decimal(s)) => s.trim().parse::<f64>().unwrap_or(0.0),
            _ => 0.0,
        };
        Ok(at != 0.0 && at < self.now)
    }
}

/// What a query read, for `explain`.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Index entries read.
    pub keys_examined: usize,
    /// Documents read.
    pub docs_examined: usize,
    /// Documents returned (or counted).
    pub returned: usize,
}

/// One collection of one store.
pub struct Collection {
    /// The store.
    pub store: Arc<Store>,
    /// The collection's name.
    pub name: String,
    /// The documents' space.
    pub space: SpaceId,
    /// Primary-key field names.
    pub key_fields: Vec<String>,
    /// Index definitions and settings, shared with the collection's other
    /// handles.
    indexes: Arc<Indexes>,
    /// The store's change events.
    events: Arc<events::EventLog>,
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
        let indexes = store.attachment(space, || Indexes::load(store, name))?;
        Ok(Self {
            store: store.clone(),
            name: name.to_string(),
            space,
            key_fields,
            indexes,
            events: events::EventLog::of(store)?,
        })
    }

    /// Deletes collection `name` of `store`, its documents and its indexes;
    /// whether it existed.
    pub fn drop_named(store: &Store, name: &str) -> Result<bool> {
        let existed = store.drop_space(KIND, name)?;
        store.drop_space(indexes::KIND, name)?;
        Ok(existed)
    }

    /// Creates an index on `fields` (`(dotted path, 1 | -1)`) and fills it;
    /// returns its name. See [`Indexes::create`].
    pub fn create_index(
        &self,
        fields: Vec<(String, i8)>,
        unique: bool,
        sparse: bool,
        name: Option<String>,
    ) -> Result<String> {
        self.indexes.create(
            &self.store,
            &self.name,
            self.space,
            fields,
            unique,
            sparse,
            name,
        )
    }

    /// Whether the collection has a time-to-live field.
    pub fn has_ttl(&self) -> bool {
        self.indexes.has_ttl()
    }

    /// The time-to-live field (dotted path), if set.
    pub fn ttl_field(&self) -> Option<String> {
        self.indexes.ttl()
    }

    /// Sets (or with `None`, clears) the time-to-live field, stored with
    /// the collection.
    pub fn set_ttl_field(&self, field: Option<String>) -> Result<()> {
        self.indexes.set_ttl(&self.store, &self.name, field)
    }

    /// The time-to-live check of a call, if the collection has a TTL field
    /// and the call gives the time.
    pub fn ttl(&self, ctx: Ctx<'_>) -> Option<Ttl> {
        let now = ctx.now?;
        let field = self.indexes.ttl()?;
        Some(Ttl {
            path: field.split('.').map(str::to_string).collect(),
            now,
        })
    }

    /// Records (or, with `on = false`, stops recording) change events of
    /// this collection; see [`events::EventLog`].
    pub fn watch(&self, on: bool) {
        self.events.watch(self.space, on);
    }

    /// The store's change events.
    pub fn event_log(&self) -> &Arc<events::EventLog> {
        &self.events
    }

    /// Checks that every index holds exactly the entries and counters its
    /// documents give it (from one snapshot); returns the problems found,
    /// described, at most `limit` of them.
    pub fn check_indexes(&self, limit: usize) -> Result<Vec<String>> {
        use std::collections::{BTreeMap, BTreeSet};
        let st = self.indexes.state.read_recursive();
        let Some(idx_space) = st.space else {
            return Ok(Vec::new());
        };
        let mut problems = Vec::new();
        self.store.read_snapshot(|r| {
            for def in &st.defs {
                let mut entries = BTreeSet::new();
                let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
                r.scan(
                    self.space,
                    Bound::Unbounded,
                    Bound::Unbounded,
                    false,
                    &mut |k, v| {
                        for values in def.entries(&doc::parse(v)?)?.0 {
                            entries.insert(def.entry_key(&values, k));
                            *counts.entry(def.counter_key(&values)).or_default() += 1;
                        }
                        Ok(true)
                    },
                )?;
                let name = &def.spec.name;
                let mut check =
                    |prefix: [u8; 2], what: &str, want: &mut dyn FnMut(&[u8], &[u8]) -> bool| {
                        let hi = plan::successor(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
                        r.scan(
                            idx_space,
                            Bound::Included(prefix.to_vec()),
                            hi,
                            false,
                            &mut |k, v| {
                                if !want(k, v) && problems.len() < limit {
                                    problems.push(format!(
                                "index {name:?} of collection {:?} holds {what} its documents \
                                 do not give it (key {k:?})",
                                self.name
                            ));
                                }
                                Ok(true)
                            },
                        )
                    };
                check(def.prefix(), "an entry", &mut |k, _| entries.remove(k))?;
                check(def.counter_prefix(), "a wrong counter", &mut |k, v| {
                    counts.remove(k) == Some(maintain::read_count(v))
                })?;
                for what in [("entries", entries.len()), ("counters", counts.len())] {
                    if what.1 > 0 && problems.len() < limit {
                        problems.push(format!(
                            "index {name:?} of collection {:?} lacks {} {} its documents give it",
                            self.name, what.1, what.0
                        ));
                    }
                }
            }
            Ok(())
        })?;
        Ok(problems)
    }

    /// Drops an index; whether it existed.
    pub fn drop_index(&self, name: &str) -> Result<bool> {
        self.indexes.remove(&self.store, name)
    }

    /// The index definitions (with current flags).
    pub fn indexes(&self) -> Vec<index::IndexSpec> {
        let st = self.indexes.state.read_recursive();
        st.defs
            .iter()
            .map(|d| {
                let mut spec = d.spec.clone();
                spec.multikey = d.multikey();
                spec.approximate = d.approximate();
                spec.partial = d.partial();
                spec
            })
            .collect()
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
        check_document_size(&encoded)?;
        let value = doc::parse(&encoded)?;
        if !matches!(value, Value::Map(_)) {
            return Err(Error::Type("a document must be a dict".into()));
        }
        let key = self.key_of(&value)?;
        Ok((key, encoded))
    }

    /// [`prepare`](Self::prepare) for a caller that encoded the document
    /// itself (so it is a well-formed map) and its primary `key` from the
    /// same values; only the size limit is left to check.
    pub fn prepare_keyed(&self, key: Vec<u8>, encoded: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>)> {
        check_document_size(&encoded)?;
        Ok((key, encoded))
    }
}

fn check_document_size(encoded: &[u8]) -> Result<()> {
    if encoded.len() > MAX_DOCUMENT_SIZE {
        return Err(Error::InvalidArgument(format!(
            "document is {} bytes encoded; the limit is {MAX_DOCUMENT_SIZE}",
            encoded.len()
        )));
    }
    Ok(())
}

/// Whether a value is stored in primary keys as itself (scalars; no
/// Decimal, UUID or datetime, which keys refuse).
pub(super) fn is_key_scalar(v: &Value<'_>) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{BatchOp, Options};

    fn doc_bytes(id: i64, g: i64) -> Vec<u8> {
        let v = Value::Map(vec![
            ("_id".into(), Value::Int(id.into())),
            ("g".into(), Value::Int(g.into())),
        ]);
        let mut buf = Vec::new();
        doc::encode(&v, &mut buf);
        buf
    }

    #[test]
    fn a_ttl_field_stored_under_the_old_key_is_moved_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(Some(dir.path()), Options::default()).unwrap();
            let coll = Collection::open(&store, "c", None).unwrap();
            coll.create_index(vec![("g".into(), 1)], false, false, None)
                .unwrap();
            let space = coll.indexes.state.read().space.unwrap();
            // As older versions stored it: inside index 1's key range.
            let op = BatchOp {
                space,
                key: b"\x00\x01ttl".to_vec(),
                value: Some(b"exp".to_vec()),
            };
            store.transact(|_| Ok(((), vec![op]))).unwrap();
            store.close().unwrap();
        }
        let store = Store::open(Some(dir.path()), Options::default()).unwrap();
        let coll = Collection::open(&store, "c", None).unwrap();
        assert_eq!(coll.indexes.ttl().as_deref(), Some("exp"));
        // Moved, not copied: index 1 holds no stray record any more.
        assert!(coll.check_indexes(10).unwrap().is_empty());
    }

    #[test]
    fn check_indexes_finds_missing_and_stray_entries() {
        let store = Store::open(None, Options::default()).unwrap();
        let coll = Collection::open(&store, "c", None).unwrap();
        coll.create_index(vec![("g".into(), 1)], false, false, None)
            .unwrap();
        let docs: Vec<_> = (0..10)
            .map(|i| coll.prepare(doc_bytes(i, i % 3)).unwrap())
            .collect();
        coll.insert_many(Ctx::AUTO, &docs).unwrap();
        assert!(coll.check_indexes(10).unwrap().is_empty());
        let idx_space = coll.indexes.state.read().space.unwrap();
        let def = coll.indexes.state.read().defs[0].clone();
        // A stray entry, and a document written behind the index's back.
        let stray = def.entry_key(&[0x05], b"nope");
        let (k, v) = coll.prepare(doc_bytes(99, 1)).unwrap();
        store
            .write_batch(&[
                BatchOp {
                    space: idx_space,
                    key: stray,
                    value: Some(b"nope".to_vec()),
                },
                BatchOp {
                    space: coll.space,
                    key: k,
                    value: Some(v),
                },
            ])
            .unwrap();
        let problems = coll.check_indexes(10).unwrap();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("lacks 1 entries")));
        assert_eq!(store.verify().unwrap().len(), 3);
    }
}
