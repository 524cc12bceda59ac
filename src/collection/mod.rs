//! Collections: documents (MessagePack) stored in a `doc.<name>` space under
//! a primary key made of named top-level fields, encoded with the
//! order-preserving key codec (one field: its value; several: a tuple).
//! Queries are evaluated here, in Rust, on the encoded documents: only the
//! documents returned are ever turned into Python objects.

pub mod index;
pub mod indexes;
pub mod maintain;
pub mod plan;

use crate::codec::doc::{self, Value};
use crate::codec::key::{Key, KeyWriter};
use crate::engine::catalog::SpaceConfig;
use crate::engine::reader::Visit;
use crate::engine::{BatchOp, Read, SpaceId, Store, View};
use crate::error::{Error, Result};
use crate::query::shape::{Projection, Sort};
use crate::query::update::{self, Update};
use crate::query::{self, Filter};
use fjall::Slice;
use indexes::{IndexState, Indexes};
use maintain::IndexWriter;
use plan::{Access, IndexScan};
use std::collections::HashSet;
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
    /// Index definitions, shared with the collection's other handles.
    indexes: Arc<Indexes>,
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

    /// Runs `f` in one atomic commit that also writes the index changes it
    /// records in the [`IndexWriter`].
    fn write_indexed<R>(
        &self,
        st: &IndexState,
        f: impl FnOnce(&View<'_>, &mut IndexWriter<'_, '_>, &mut Vec<BatchOp>) -> Result<R>,
    ) -> Result<R> {
        let Some(idx_space) = st.space else {
            return Err(Error::Closed("index space"));
        };
        let out = self.store.transact(|view| {
            let mut w = IndexWriter::new(view, idx_space, &st.defs);
            let mut ops = Vec::new();
            let out = f(view, &mut w, &mut ops)?;
            ops.extend(w.finish()?);
            Ok((out, ops))
        });
        if out.is_err() {
            st.defs.iter().for_each(|d| d.forget_stored());
        }
        out
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
    /// the batch) or unique-index value writes nothing.
    pub fn insert_many(&self, docs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        let duplicate = |k: &[u8]| {
            Error::Duplicate(format!(
                "a document with key {} already exists",
                describe_key(k)
            ))
        };
        let st = self.indexes.state.read_recursive();
        if st.defs.is_empty() {
            return match self.store.insert_new(self.space, docs)? {
                None => Ok(()),
                Some(i) => Err(duplicate(&docs[i].0)),
            };
        }
        let space = self.space;
        self.write_indexed(&st, |view, w, ops| {
            let mut seen = HashSet::with_capacity(docs.len());
            for (k, v) in docs {
                if !seen.insert(k.as_slice()) || view.get(space, k)?.is_some() {
                    return Err(duplicate(k));
                }
                w.change(k, None, Some(&doc::parse(v)?))?;
                ops.push(BatchOp {
                    space,
                    key: k.clone(),
                    value: Some(v.clone()),
                });
            }
            Ok(())
        })
    }

    /// Writes `doc` under `key` if `replace_only` allows (an existing
    /// document, or always); returns whether a document existed.
    fn write_one(&self, key: &[u8], doc: Option<&[u8]>, only_existing: bool) -> Result<bool> {
        let st = self.indexes.state.read_recursive();
        if st.defs.is_empty() {
            return match (doc, only_existing) {
                (Some(d), false) => self.store.put(self.space, key, d).map(|()| true),
                (Some(d), true) => self.store.replace_existing(self.space, key, d),
                (None, _) => Ok(self.store.take(self.space, key)?.is_some()),
            };
        }
        let space = self.space;
        self.write_indexed(&st, |view, w, ops| {
            let old = view.get(space, key)?;
            if old.is_none() && (only_existing || doc.is_none()) {
                return Ok(false);
            }
            let old_value = old.as_deref().map(doc::parse).transpose()?;
            let new_value = doc.map(doc::parse).transpose()?;
            w.change(key, old_value.as_ref(), new_value.as_ref())?;
            ops.push(BatchOp {
                space,
                key: key.to_vec(),
                value: doc.map(<[u8]>::to_vec),
            });
            Ok(old.is_some())
        })
    }

    /// Inserts or replaces.
    pub fn put(&self, key: &[u8], doc: &[u8]) -> Result<()> {
        self.write_one(key, Some(doc), false).map(|_| ())
    }

    /// Replaces an existing document; `Ok(false)` (nothing written) if absent.
    pub fn replace(&self, key: &[u8], doc: &[u8]) -> Result<bool> {
        self.write_one(key, Some(doc), true)
    }

    /// The document with this encoded key.
    pub fn get(&self, key: &[u8]) -> Result<Option<Slice>> {
        self.store.get(self.space, key)
    }

    /// Deletes a document; whether it existed.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.write_one(key, None, false)
    }

    /// Plans a query on the definitions in `st`. Call after taking the
    /// snapshot (or view) the plan runs on: index flags are read here.
    fn plan(&self, st: &IndexState, q: &Find<'_>) -> Access {
        plan::choose(
            self.pinned_keys(q.filter),
            &st.defs,
            q.filter,
            q.sort,
            q.limit.map(|l| l.saturating_add(q.skip)),
        )
    }

    /// Visits the documents `access` yields, as `(key, document)`, until
    /// `visit` returns `false`: in key order, or in the index's order when
    /// the plan is ordered.
    fn visit(
        &self,
        r: &dyn Read,
        st: &IndexState,
        access: &Access,
        stats: &mut Stats,
        visit: &mut Visit<'_>,
    ) -> Result<()> {
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
        // run of them and emit it backwards.
        let mut run: Vec<Vec<u8>> = Vec::new();
        let mut run_value: Vec<u8> = Vec::new();
        for range in &scan.ranges {
            let (lo, hi) = range.bounds(&scan.def.prefix());
            r.scan(idx_space, lo, hi, reverse, &mut |k, pk| {
                stats.keys_examined += 1;
                if !reverse {
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
    pub fn find(&self, q: &Find<'_>) -> Result<Vec<Slice>> {
        Ok(self.find_explained(q)?.0)
    }

    /// [`Collection::find`], with the plan and what it read.
    pub fn find_explained(&self, q: &Find<'_>) -> Result<(Vec<Slice>, Access, Stats)> {
        let st = self.indexes.state.read_recursive();
        let mut stats = Stats::default();
        let (mut out, access) = self.store.read_snapshot(|r| {
            let access = self.plan(&st, q);
            let mut out: Vec<Slice> = Vec::new();
            if q.limit == Some(0) {
                return Ok((out, access));
            }
            let in_order =
                q.sort.is_none() || matches!(&access, Access::Index(s) if s.ordered.is_some());
            // In result order, skip and limit apply while reading.
            let mut skipped = 0usize;
            self.visit(r, &st, &access, &mut stats, &mut |_, v| {
                let matched = match q.filter {
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
    pub fn distinct(&self, path: &[String], filter: Option<&Filter>) -> Result<Vec<Vec<u8>>> {
        let mut values: Vec<Value<'static>> = Vec::new();
        let st = self.indexes.state.read_recursive();
        self.store.read_snapshot(|r| {
            let q = Find {
                filter,
                ..Find::default()
            };
            let access = self.plan(&st, &q);
            self.visit(r, &st, &access, &mut Stats::default(), &mut |_, v| {
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
            })
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

    /// Runs `change` on each matching document (in key order) under the
    /// commit lock, stopping after the first match unless `multi`, and
    /// commits all changes and their index entries atomically. `change`
    /// returns the new encoded document, or `None` to delete it. Returns
    /// (matched, changed).
    fn rewrite_matching(
        &self,
        filter: Option<&Filter>,
        multi: bool,
        mut change: impl FnMut(Value<'_>, &[u8]) -> Result<Option<Vec<u8>>>,
    ) -> Result<(usize, usize)> {
        let st = self.indexes.state.read_recursive();
        let space = self.space;
        let mut run = |view: &View<'_>, mut w: Option<&mut IndexWriter<'_, '_>>| {
            let q = Find {
                filter,
                ..Find::default()
            };
            let access = self.plan(&st, &q);
            let mut matched = 0usize;
            let mut ops = Vec::new();
            self.visit(view, &st, &access, &mut Stats::default(), &mut |k, raw| {
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
            Ok(((matched, ops.len()), ops))
        };
        if st.defs.is_empty() {
            return self.store.transact(|view| run(view, None));
        }
        self.write_indexed(&st, |view, w, ops| {
            let (counts, mut doc_ops) = run(view, Some(w))?;
            ops.append(&mut doc_ops);
            Ok(counts)
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
        Ok(self.count_explained(filter)?.0)
    }

    /// [`Collection::count`], with the plan and what it read. A covered
    /// index plan counts entries (or sums counters) without reading
    /// documents.
    pub fn count_explained(&self, filter: Option<&Filter>) -> Result<(usize, Access, Stats)> {
        let Some(f) = filter else {
            let n = self
                .store
                .count(self.space, Bound::Unbounded, Bound::Unbounded)?;
            let stats = Stats {
                docs_examined: n,
                returned: n,
                ..Stats::default()
            };
            return Ok((n, Access::Scan, stats));
        };
        let st = self.indexes.state.read_recursive();
        let mut stats = Stats::default();
        let (n, access) = self.store.read_snapshot(|r| {
            let q = Find {
                filter,
                ..Find::default()
            };
            let access = self.plan(&st, &q);
            if let (Access::Index(scan), Some(idx_space)) = (&access, st.space) {
                if scan.counts_from_counters() {
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
                if scan.covered {
                    let n = self.index_keys(r, idx_space, scan, &mut stats)?.len();
                    return Ok((n, access));
                }
            }
            let mut n = 0usize;
            self.visit(r, &st, &access, &mut stats, &mut |_, v| {
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
