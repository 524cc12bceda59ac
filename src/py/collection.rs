//! `Collection`: documents under a primary key, queried with MongoDB filter
//! documents evaluated in Rust.

use super::collection_args::{
    check_key_value, decode_all, explain_dict, new_object_id, parse_filter, parse_index_fields,
    parse_projection, parse_query, parse_sort, Query, DOCUMENT,
};
use super::convert::key::KeyCodec;
use super::convert::msgpack;
use super::convert::value::ValueCodec;
use super::cursor::{PyCursor, Yield};
use super::doc_cursor::{PyDocCursor, ScanSpec};
use super::store::PyStore;
use super::txn::PyTransaction;
use crate::codec::doc;
use crate::collection::{Collection, Ctx, Find, Selection};
use crate::engine::{Cursor, RangeSpec, Source};
use crate::error::Error;
use crate::query::shape::{Projection, Sort};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::ops::Bound as B;
use std::sync::Arc;

/// A bulk write of encoded `(key, document)` pairs (`insert_many`, `put_many`).
type ManyWrite = fn(&Collection, Ctx<'_>, &[(Vec<u8>, Vec<u8>)]) -> crate::error::Result<()>;

/// A collection of documents (see `shoal.Collection`).
#[pyclass(frozen, subclass, name = "Collection", module = "shoal._core")]
pub struct PyCollection {
    coll: Collection,
    name: String,
    store_obj: Py<PyStore>,
    /// Set for a collection seen through a transaction.
    tx: Option<Py<PyTransaction>>,
}

impl PyCollection {
    /// Index and collection changes commit at once: they are not part of
    /// transactions.
    fn not_in_transaction(&self, what: &str) -> PyResult<()> {
        if self.tx.is_some() {
            return Err(Error::InvalidArgument(format!(
                "{what}() cannot run inside a transaction; call it on the collection itself"
            ))
            .into());
        }
        Ok(())
    }

    /// How a call runs: in the bound transaction, if any, and with the
    /// time from Python's `time.time()` when the collection has a TTL field
    /// (so that a test freezing that clock freezes expiry too).
    /// The documents matching the Rust part of `q` (in key order, or by
    /// `sort`) that `predicate` accepts, after `skip`, at most `limit`: the
    /// stored bytes and the document given to the predicate.
    fn accepted<'py>(
        &self,
        py: Python<'py>,
        q: &Query,
        predicate: &Bound<'py, PyAny>,
        sort: Option<&Sort>,
        skip: usize,
        limit: Option<usize>,
    ) -> PyResult<Vec<(fjall::Slice, Bound<'py, PyAny>)>> {
        let find = Find {
            filter: q.filter.as_ref(),
            sort,
            ..Find::default()
        };
        let coll = &self.coll;
        let ctx = self.ctx();
        let raw = py.detach(|| coll.find(ctx, &find))?;
        let mut out = Vec::new();
        let mut skipped = 0usize;
        for v in raw {
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            let d = msgpack::read(py, &v)?;
            if predicate.call1((d.clone(),))?.is_truthy()? {
                if skipped < skip {
                    skipped += 1;
                } else {
                    out.push((v, d));
                }
            }
        }
        Ok(out)
    }

    /// The sorted primary keys of the documents `q` selects (the first
    /// only, unless `multi`), when it has a predicate.
    fn accepted_keys(
        &self,
        py: Python<'_>,
        q: &Query,
        multi: bool,
    ) -> PyResult<Option<Vec<Vec<u8>>>> {
        let Some(pred) = &q.predicate else {
            return Ok(None);
        };
        let limit = (!multi).then_some(1);
        let mut keys = Vec::new();
        for (raw, _) in self.accepted(py, q, pred.bind(py), None, 0, limit)? {
            keys.push(self.coll.key_of(&doc::parse(&raw)?)?);
        }
        keys.sort();
        Ok(Some(keys))
    }

    /// A document as returned: decoded, or projected from its bytes.
    fn shaped<'py>(
        py: Python<'py>,
        raw: &[u8],
        decoded: Bound<'py, PyAny>,
        projection: Option<&Projection>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let Some(p) = projection else {
            return Ok(decoded);
        };
        let mut buf = Vec::with_capacity(raw.len());
        doc::encode(&p.apply(&doc::parse(raw)?), &mut buf);
        msgpack::read(py, &buf)
    }

    fn delete_selected(
        &self,
        py: Python<'_>,
        filter: Option<&Bound<'_, PyAny>>,
        multi: bool,
    ) -> PyResult<usize> {
        let query = parse_query(filter)?;
        let keys = self.accepted_keys(py, &query, multi)?;
        let sel = Selection {
            filter: query.filter.as_ref(),
            keys: keys.as_deref(),
        };
        let coll = &self.coll;
        let ctx = self.ctx();
        self.delivered(py, py.detach(|| coll.delete_where(ctx, sel, multi))?)
    }

    /// Encodes `docs`, writes them in one call of `write`, and returns their
    /// keys.
    fn write_many<'py>(
        &self,
        py: Python<'py>,
        docs: &Bound<'py, PyAny>,
        write: ManyWrite,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut items = Vec::new();
        for d in docs.try_iter()? {
            items.push(self.encode(py, &d?)?);
        }
        let coll = &self.coll;
        let ctx = self.ctx();
        py.detach(|| write(coll, ctx, &items))?;
        self.delivered(py, ())?;
        let keys = PyList::empty(py);
        for (k, _) in &items {
            keys.append(self.decode_key(py, k)?)?;
        }
        Ok(keys)
    }

    /// After a write on its own: hands its changes to their listeners (in
    /// a transaction, the commit does).
    fn delivered<T>(&self, py: Python<'_>, out: T) -> PyResult<T> {
        if self.tx.is_none() {
            super::events::deliver(py, &self.coll.store, self.coll.event_log())?;
        }
        Ok(out)
    }

    fn ctx(&self) -> Ctx<'_> {
        let now = if self.coll.has_ttl() {
            Python::attach(|py| -> PyResult<f64> {
                py.import(pyo3::intern!(py, "time"))?
                    .call_method0(pyo3::intern!(py, "time"))?
                    .extract()
            })
            .ok()
        } else {
            None
        };
        Ctx {
            tx: self.tx.as_ref().map(|t| &t.get().tx),
            now,
        }
    }

    /// Encodes a document; with key `("_id",)` a missing `_id` is generated
    /// (into a copy: the caller's dict is not changed).
    fn encode(&self, py: Python<'_>, doc: &Bound<'_, PyAny>) -> PyResult<(Vec<u8>, Vec<u8>)> {
        let Ok(d) = doc.cast::<PyDict>() else {
            return Err(PyTypeError::new_err("a document must be a dict"));
        };
        let mut buf = Vec::with_capacity(128);
        if self.coll.key_fields.len() == 1
            && self.coll.key_fields[0] == "_id"
            && !d.contains(pyo3::intern!(py, "_id"))?
        {
            let copy = PyDict::new(py);
            copy.set_item("_id", new_object_id())?;
            copy.update(d.as_mapping())?;
            msgpack::write_with(&mut buf, copy.as_any(), DOCUMENT)?;
            return Ok(self.coll.prepare(buf)?);
        }
        msgpack::write_with(&mut buf, doc, DOCUMENT)?;
        match self.key_from_dict(d)? {
            Some(key) => Ok(self.coll.prepare_keyed(key, buf)?),
            // A key field is missing: the slow path names it.
            None => Ok(self.coll.prepare(buf)?),
        }
    }

    /// The primary key of document `d`, encoded straight from its Python
    /// values (the same bytes `Collection::key_of` derives from the encoded
    /// document, without decoding it again); `None` if a key field is
    /// missing.
    fn key_from_dict(&self, d: &Bound<'_, PyDict>) -> PyResult<Option<Vec<u8>>> {
        let fields = &self.coll.key_fields;
        let mut key = Vec::with_capacity(32);
        let mut w = crate::codec::key::KeyWriter::new(&mut key);
        if fields.len() > 1 {
            w.begin_tuple();
        }
        for field in fields.iter() {
            let Some(v) = d.get_item(field)? else {
                return Ok(None);
            };
            check_key_value(field, &v)?;
            super::convert::key::write_any_part(&mut w, &v)?;
        }
        if fields.len() > 1 {
            w.end_tuple();
        }
        Ok(Some(key))
    }

    fn key_arg(&self, key: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
        if self.coll.key_fields.len() > 1 {
            let t = key.cast::<PyTuple>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "this collection's key is {} fields: pass a tuple",
                    self.coll.key_fields.len()
                ))
            })?;
            if t.len() != self.coll.key_fields.len() {
                return Err(PyTypeError::new_err(format!(
                    "this collection's key is {} fields, got {}",
                    self.coll.key_fields.len(),
                    t.len()
                )));
            }
        }
        KeyCodec::Any.encode_vec(key)
    }

    fn decode_key<'py>(&self, py: Python<'py>, key: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        KeyCodec::Any.decode(py, key)
    }
}

#[pymethods]
impl PyCollection {
    #[new]
    #[pyo3(signature = (store, name, *, key = None, transaction = None))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyStore>,
        name: &str,
        key: Option<&Bound<'_, PyAny>>,
        transaction: Option<Bound<'_, PyTransaction>>,
    ) -> PyResult<Self> {
        if let Some(t) = &transaction {
            if !Arc::ptr_eq(t.get().tx.store(), &store.get().store) {
                return Err(Error::InvalidArgument(
                    "the transaction belongs to another store".into(),
                )
                .into());
            }
        }
        let fields: Option<Vec<String>> = match key {
            None => None,
            Some(k) if k.is_instance_of::<PyString>() => Some(vec![k.extract()?]),
            Some(k) => Some(
                k.try_iter()?
                    .map(|f| f?.extract::<String>())
                    .collect::<PyResult<Vec<_>>>()
                    .map_err(|_| {
                        PyTypeError::new_err("key must be a field name or a tuple of them")
                    })?,
            ),
        };
        let es = store.get().store.clone();
        let n = name.to_string();
        let coll = py.detach(move || Collection::open(&es, &n, fields))?;
        Ok(Self {
            coll,
            name: name.to_string(),
            store_obj: store.clone().unbind(),
            tx: transaction.map(Bound::unbind),
        })
    }

    /// The transaction this collection is seen through, or `None`.
    #[getter]
    fn transaction(&self, py: Python<'_>) -> Option<Py<PyTransaction>> {
        self.tx.as_ref().map(|t| t.clone_ref(py))
    }

    /// The collection's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The primary-key field names.
    #[getter]
    fn key<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.coll.key_fields)
    }

    /// The store.
    #[getter]
    fn store(&self, py: Python<'_>) -> Py<PyStore> {
        self.store_obj.clone_ref(py)
    }

    /// Inserts a new document and returns its key; `DuplicateKeyError` if
    /// the key exists (nothing written).
    fn insert<'py>(&self, py: Python<'py>, doc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let item = self.encode(py, doc)?;
        let key = item.0.clone();
        let items = vec![item];
        let coll = &self.coll;
        let ctx = self.ctx();
        py.detach(|| coll.insert_many(ctx, &items))?;
        self.delivered(py, ())?;
        self.decode_key(py, &key)
    }

    /// Inserts documents atomically (all or none); returns their keys.
    fn insert_many<'py>(
        &self,
        py: Python<'py>,
        docs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.write_many(py, docs, Collection::insert_many)
    }

    /// Inserts or replaces documents in one atomic commit (a later document
    /// with the same key wins); returns their keys.
    fn put_many<'py>(
        &self,
        py: Python<'py>,
        docs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.write_many(py, docs, Collection::put_many)
    }

    /// Inserts or replaces a document; returns its key.
    fn put<'py>(&self, py: Python<'py>, doc: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let (key, data) = self.encode(py, doc)?;
        let coll = &self.coll;
        let ctx = self.ctx();
        py.detach(|| coll.put(ctx, &key, &data))?;
        self.delivered(py, ())?;
        self.decode_key(py, &key)
    }

    /// Replaces an existing document (`KeyError` if there is none).
    fn replace<'py>(
        &self,
        py: Python<'py>,
        doc: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (key, data) = self.encode(py, doc)?;
        let coll = &self.coll;
        let ctx = self.ctx();
        if !self.delivered(py, py.detach(|| coll.replace(ctx, &key, &data))?)? {
            return Err(PyKeyError::new_err((self.decode_key(py, &key)?.unbind(),)));
        }
        self.decode_key(py, &key)
    }

    /// The document with this key, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let k = self.key_arg(key)?;
        match self.coll.get(self.ctx(), &k)? {
            Some(v) => Ok(msgpack::read(py, &v)?.unbind()),
            None => Ok(default.unwrap_or_else(|| py.None())),
        }
    }

    /// The documents with these keys (`default` for the missing ones), in
    /// order, read from one snapshot (or the transaction) in one call.
    #[pyo3(signature = (keys, default = None))]
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        keys: &Bound<'py, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut encoded = Vec::new();
        for k in keys.try_iter()? {
            encoded.push(self.key_arg(&k?)?);
        }
        let coll = &self.coll;
        let ctx = self.ctx();
        let docs = py.detach(|| coll.get_many(ctx, &encoded))?;
        let default = default.unwrap_or_else(|| py.None());
        let out = PyList::empty(py);
        for d in docs {
            match d {
                Some(v) => out.append(msgpack::read(py, &v)?)?,
                None => out.append(default.bind(py))?,
            }
        }
        Ok(out)
    }

    /// Deletes the document with this key; whether it existed.
    fn delete(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let k = self.key_arg(key)?;
        let coll = &self.coll;
        let ctx = self.ctx();
        self.delivered(py, py.detach(|| coll.delete(ctx, &k))?)
    }

    fn __contains__(&self, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let k = self.key_arg(key)?;
        Ok(self.coll.get(self.ctx(), &k)?.is_some())
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let coll = &self.coll;
        let ctx = self.ctx();
        Ok(py.detach(|| coll.count(ctx, None))?)
    }

    /// Documents in primary-key order (streamed; with a TTL field, the
    /// live ones, read at once).
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if self.coll.has_ttl() {
            let coll = &self.coll;
            let ctx = self.ctx();
            let raw = py.detach(|| coll.find(ctx, &Find::default()))?;
            return Ok(decode_all(py, &raw)?.try_iter()?.into_any());
        }
        let store = &self.coll.store;
        let source = match &self.tx {
            Some(t) => Source::Tx(t.get().tx.clone()),
            None => Source::Snapshot(store.snapshot()?),
        };
        let spec = RangeSpec {
            lo: B::Unbounded,
            hi: B::Unbounded,
            reverse: false,
            keys_only: false,
        };
        let c = Cursor::open(store, self.coll.space, source, spec)?;
        let cursor = PyCursor::new(c, KeyCodec::Any, ValueCodec::Msgpack, Yield::Values);
        Ok(Bound::new(py, cursor)?.into_any())
    }

    /// Matching documents: in primary-key order or by `sort`, after
    /// `skip`, at most `limit`, shaped by `projection`. `filter` is a
    /// MongoDB filter document, a callable taking the document, or a filter
    /// document with a callable under `"$where"` (applied to what the rest
    /// lets through).
    #[pyo3(signature = (filter = None, *, projection = None, sort = None, skip = 0, limit = None))]
    fn find<'py>(
        &self,
        py: Python<'py>,
        filter: Option<&Bound<'py, PyAny>>,
        projection: Option<&Bound<'py, PyAny>>,
        sort: Option<&Bound<'py, PyAny>>,
        skip: usize,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let query = parse_query(filter)?;
        let s = parse_sort(sort)?;
        let p = parse_projection(projection)?;
        if let Some(pred) = &query.predicate {
            let out = PyList::empty(py);
            for (raw, d) in self.accepted(py, &query, pred.bind(py), s.as_ref(), skip, limit)? {
                out.append(Self::shaped(py, &raw, d, p.as_ref())?)?;
            }
            return Ok(out);
        }
        let q = Find {
            filter: query.filter.as_ref(),
            sort: s.as_ref(),
            projection: p.as_ref(),
            skip,
            limit,
        };
        let coll = &self.coll;
        let ctx = self.ctx();
        let raw = py.detach(|| coll.find(ctx, &q))?;
        decode_all(py, &raw)
    }

    /// The matching documents as a `DocumentCursor`, streamed: a query that
    /// scans reads the collection in batches (bounded memory); others find
    /// the matches first. Same arguments as `find` (a callable filter is
    /// not accepted here).
    #[pyo3(signature = (filter = None, *, projection = None, sort = None, skip = 0, limit = None))]
    fn cursor(
        &self,
        py: Python<'_>,
        filter: Option<&Bound<'_, PyAny>>,
        projection: Option<&Bound<'_, PyAny>>,
        sort: Option<&Bound<'_, PyAny>>,
        skip: usize,
        limit: Option<usize>,
    ) -> PyResult<PyDocCursor> {
        let query = parse_query(filter)?;
        if query.predicate.is_some() {
            return Err(Error::Query(
                "cursor() takes a filter document; use find() for a callable filter".into(),
            )
            .into());
        }
        let s = parse_sort(sort)?;
        let p = parse_projection(projection)?;
        let coll = &self.coll;
        let ctx = self.ctx();
        if let Some((lo, hi, reverse)) = coll.stream_range(query.filter.as_ref(), s.as_ref()) {
            let store = &coll.store;
            let source = match &self.tx {
                Some(t) => Source::Tx(t.get().tx.clone()),
                None => Source::Snapshot(store.snapshot()?),
            };
            let spec = RangeSpec {
                lo,
                hi,
                reverse,
                keys_only: false,
            };
            let c = Cursor::open(store, coll.space, source, spec)?;
            let scan = ScanSpec {
                filter: query.filter,
                ttl: coll.ttl(ctx),
            };
            return Ok(PyDocCursor::scanning(c, scan, skip, limit, p));
        }
        let q = Find {
            filter: query.filter.as_ref(),
            sort: s.as_ref(),
            projection: None,
            skip,
            limit,
        };
        let raw = py.detach(|| coll.find(ctx, &q))?;
        Ok(PyDocCursor::ready(raw, p))
    }

    /// The first matching document (by `sort`, if given), or `None`.
    #[pyo3(signature = (filter = None, *, projection = None, sort = None))]
    fn find_one(
        &self,
        py: Python<'_>,
        filter: Option<&Bound<'_, PyAny>>,
        projection: Option<&Bound<'_, PyAny>>,
        sort: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let query = parse_query(filter)?;
        let s = parse_sort(sort)?;
        let p = parse_projection(projection)?;
        if let Some(pred) = &query.predicate {
            let first = self.accepted(py, &query, pred.bind(py), s.as_ref(), 0, Some(1))?;
            return match first.into_iter().next() {
                Some((raw, d)) => Ok(Self::shaped(py, &raw, d, p.as_ref())?.unbind()),
                None => Ok(py.None()),
            };
        }
        let q = Find {
            filter: query.filter.as_ref(),
            sort: s.as_ref(),
            projection: p.as_ref(),
            skip: 0,
            limit: Some(1),
        };
        let coll = &self.coll;
        let ctx = self.ctx();
        let raw = py.detach(|| coll.find(ctx, &q))?;
        match raw.first() {
            Some(v) => Ok(msgpack::read(py, v)?.unbind()),
            None => Ok(py.None()),
        }
    }

    /// The distinct values of `field` (dotted) among matching documents;
    /// list values contribute their elements. In the total order.
    #[pyo3(signature = (field, filter = None))]
    fn distinct<'py>(
        &self,
        py: Python<'py>,
        field: &str,
        filter: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        if field.is_empty() || field.split('.').any(str::is_empty) {
            return Err(Error::Query(format!("invalid field path {field:?}")).into());
        }
        let path: Vec<String> = field.split('.').map(str::to_string).collect();
        let query = parse_query(filter)?;
        if query.predicate.is_some() {
            return Err(Error::Query(
                "distinct() takes a filter document; a callable filter is not supported here"
                    .into(),
            )
            .into());
        }
        let f = query.filter;
        let coll = &self.coll;
        let ctx = self.ctx();
        let raw = py.detach(|| coll.distinct(ctx, &path, f.as_ref()))?;
        let out = PyList::empty(py);
        for v in &raw {
            out.append(msgpack::read(py, v)?)?;
        }
        Ok(out)
    }

    /// Applies `update` (operators such as `$set`/`$inc`, or a replacement
    /// document) to the first matching document, or every one with
    /// `multi`, atomically; with `upsert` and no match, inserts a new one.
    /// Returns `(matched, modified, upserted_key_or_None)`.
    #[pyo3(signature = (filter, update, *, multi = false, upsert = false))]
    fn update<'py>(
        &self,
        py: Python<'py>,
        filter: Option<&Bound<'py, PyAny>>,
        update: &Bound<'py, PyAny>,
        multi: bool,
        upsert: bool,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let query = parse_query(filter)?;
        if !update.is_instance_of::<PyDict>() {
            return Err(Error::Query("an update must be a dict".into()).into());
        }
        let mut buf = Vec::new();
        msgpack::write_with(&mut buf, update, DOCUMENT)?;
        let parsed = crate::query::update::parse(&doc::parse(&buf)?)?;
        let default_id = (upsert && self.coll.key_fields == ["_id"])
            .then(|| doc::Value::Str(new_object_id().into()));
        let keys = self.accepted_keys(py, &query, multi)?;
        let sel = Selection {
            filter: query.filter.as_ref(),
            keys: keys.as_deref(),
        };
        let coll = &self.coll;
        let ctx = self.ctx();
        let (matched, modified, upserted) = self.delivered(
            py,
            py.detach(|| coll.update(ctx, sel, &parsed, multi, upsert, default_id))?,
        )?;
        let key = match upserted {
            Some(k) => self.decode_key(py, &k)?,
            None => py.None().into_bound(py),
        };
        PyTuple::new(
            py,
            [
                matched.into_pyobject(py)?.into_any(),
                modified.into_pyobject(py)?.into_any(),
                key,
            ],
        )
    }

    /// Deletes every matching document (all of them when `filter` is
    /// `None`), atomically; returns how many.
    #[pyo3(signature = (filter = None))]
    fn delete_many(&self, py: Python<'_>, filter: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        self.delete_selected(py, filter, true)
    }

    /// Deletes the first matching document; whether there was one.
    #[pyo3(signature = (filter = None))]
    fn delete_one(&self, py: Python<'_>, filter: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
        Ok(self.delete_selected(py, filter, false)? > 0)
    }

    /// Number of matching documents.
    #[pyo3(signature = (filter = None))]
    fn count(&self, py: Python<'_>, filter: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
        let query = parse_query(filter)?;
        if let Some(pred) = &query.predicate {
            return Ok(self
                .accepted(py, &query, pred.bind(py), None, 0, None)?
                .len());
        }
        let coll = &self.coll;
        let ctx = self.ctx();
        Ok(py.detach(|| coll.count(ctx, query.filter.as_ref()))?)
    }

    /// Creates an index (and fills it from the documents, atomically);
    /// returns its name. Creating an existing index again does nothing.
    #[pyo3(signature = (fields, *, unique = false, sparse = false, name = None))]
    fn create_index(
        &self,
        py: Python<'_>,
        fields: &Bound<'_, PyAny>,
        unique: bool,
        sparse: bool,
        name: Option<String>,
    ) -> PyResult<String> {
        self.not_in_transaction("create_index")?;
        let fields = parse_index_fields(fields)?;
        let coll = &self.coll;
        Ok(py.detach(|| coll.create_index(fields, unique, sparse, name))?)
    }

    /// Drops an index and its entries; `KeyError` if there is none of that name.
    fn drop_index(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        self.not_in_transaction("drop_index")?;
        let coll = &self.coll;
        if !py.detach(|| coll.drop_index(name))? {
            return Err(PyKeyError::new_err(format!("no index named {name:?}")));
        }
        Ok(())
    }

    /// The indexes: one dict each (name, fields, unique, sparse, multikey).
    fn indexes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for spec in self.coll.indexes() {
            let d = PyDict::new(py);
            d.set_item("name", &spec.name)?;
            let fields = PyList::empty(py);
            for (f, dir) in &spec.fields {
                fields.append((f, *dir))?;
            }
            d.set_item("fields", fields)?;
            d.set_item("unique", spec.unique)?;
            d.set_item("sparse", spec.sparse)?;
            d.set_item("multikey", spec.multikey)?;
            out.append(d)?;
        }
        Ok(out)
    }

    /// How `find` (or, with `count=True`, `count`) runs this query, and
    /// what it read: runs the query and returns a dict with `access`
    /// (`"scan"`, `"primary_key"` or `"index"`), `index` (its name or
    /// `None`), `keys_examined`, `docs_examined` and `returned`.
    #[pyo3(signature = (filter = None, *, sort = None, skip = 0, limit = None, count = false))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        filter: Option<&Bound<'py, PyAny>>,
        sort: Option<&Bound<'py, PyAny>>,
        skip: usize,
        limit: Option<usize>,
        count: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let f = parse_filter(filter)?;
        let s = parse_sort(sort)?;
        let coll = &self.coll;
        let ctx = self.ctx();
        let (access, stats) = if count {
            let (_, a, st) = py.detach(|| coll.count_explained(ctx, f.as_ref()))?;
            (a, st)
        } else {
            let q = Find {
                filter: f.as_ref(),
                sort: s.as_ref(),
                projection: None,
                skip,
                limit,
            };
            let (_, a, st) = py.detach(|| coll.find_explained(ctx, &q))?;
            (a, st)
        };
        explain_dict(py, &access, &stats)
    }

    /// Calls `listener(event)` after every committed change of this
    /// collection (by any handle, or a transaction), in commit order, with
    /// a `shoal.ChangeEvent(collection, action, key, old, new)`; `action` is
    /// "insert", "replace", "update", "delete" or "expire". A listener that
    /// raises cannot undo the write: its exception goes to
    /// `sys.unraisablehook`.
    fn watch(&self, listener: Bound<'_, PyAny>) -> PyResult<()> {
        if !listener.is_callable() {
            return Err(PyTypeError::new_err("a listener must be callable"));
        }
        super::events::Listeners::of(&self.coll.store)?.add(
            self.coll.space,
            &self.name,
            listener.unbind(),
        );
        self.coll.watch(true);
        Ok(())
    }

    /// Stops calling `listener`; whether it was registered.
    fn unwatch(&self, py: Python<'_>, listener: &Bound<'_, PyAny>) -> PyResult<bool> {
        let removed =
            super::events::Listeners::of(&self.coll.store)?.remove(py, self.coll.space, listener);
        if removed {
            self.coll.watch(false);
        }
        Ok(removed)
    }

    /// The field holding each document's expiry time (epoch seconds), or
    /// `None`. Documents whose expiry is a nonzero number below
    /// `time.time()` are never returned, counted or matched.
    #[getter]
    fn ttl(&self) -> Option<String> {
        self.coll.ttl_field()
    }

    /// Sets (or, with `None`, clears) the expiry field; stored with the
    /// collection.
    fn set_ttl(&self, py: Python<'_>, field: Option<String>) -> PyResult<()> {
        self.not_in_transaction("set_ttl")?;
        let coll = &self.coll;
        Ok(py.detach(|| coll.set_ttl_field(field))?)
    }

    /// Deletes the expired documents (reads already hide them), with
    /// "expire" events; returns how many.
    fn expire(&self, py: Python<'_>) -> PyResult<usize> {
        let coll = &self.coll;
        let ctx = self.ctx();
        self.delivered(py, py.detach(|| coll.expire(ctx))?)
    }

    /// Deletes the collection: its documents and indexes. Whether it existed.
    fn drop(&self, py: Python<'_>) -> PyResult<bool> {
        self.not_in_transaction("drop")?;
        let store = self.coll.store.clone();
        let name = self.name.clone();
        Ok(py.detach(move || Collection::drop_named(&store, &name))?)
    }
}
