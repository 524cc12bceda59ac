//! `KV`: an ordered key/value space with the dict protocol. The Python
//! subclass `shoal.KV` adds the `MutableMapping` mixins and views.

use super::convert::{key::KeyCodec, value::ValueCodec};
use super::cursor::PyCursor;
use super::errors::invalid;
use super::range;
use super::space::{closed_handle, Reader, SpaceRef, View};
use super::store::PyStore;
use crate::engine::catalog::SpaceConfig;
use crate::engine::BatchOp;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PySlice, PyTuple};
use std::ops::Bound as B;
use std::sync::atomic::{AtomicBool, Ordering};

const KIND: &str = "kv";

/// An ordered key/value space (see `shoal.KV`).
#[pyclass(frozen, subclass, weakref, name = "KV", module = "shoal._core")]
pub struct PyKV {
    pub(crate) sp: SpaceRef,
    store_obj: Py<PyStore>,
    closed: AtomicBool,
}

static LATEST: Reader = Reader::Latest;

impl PyKV {
    /// Raises `ClosedError` if this handle was closed.
    #[inline]
    pub fn check_open(&self) -> PyResult<()> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(closed_handle("this KV handle"));
        }
        Ok(())
    }

    /// Raises unless this handle is open and belongs to `store` (a
    /// transaction, snapshot or batch cannot use another store's space).
    pub fn check_usable_in(&self, store: &std::sync::Arc<crate::engine::Store>) -> PyResult<()> {
        if !std::sync::Arc::ptr_eq(store, &self.sp.store) {
            return Err(invalid("that space belongs to another store"));
        }
        self.check_open()
    }

    #[inline]
    fn view(&self) -> PyResult<View<'_>> {
        self.check_open()?;
        Ok(View {
            sp: &self.sp,
            reader: &LATEST,
        })
    }

    fn encode_pairs(&self, pairs: &Bound<'_, PyAny>, ops: &mut Vec<BatchOp>) -> PyResult<()> {
        let mut push = |k: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>| -> PyResult<()> {
            ops.push(BatchOp {
                space: self.sp.space,
                key: self.sp.key.encode_vec(k)?,
                value: Some(self.sp.value.encode(v)?.into_owned()),
            });
            Ok(())
        };
        if let Ok(d) = pairs.cast::<PyDict>() {
            for (k, v) in d.iter() {
                push(&k, &v)?;
            }
        } else if pairs.hasattr(pyo3::intern!(pairs.py(), "keys"))? {
            for k in pairs.call_method0("keys")?.try_iter()? {
                let k = k?;
                let v = pairs.get_item(&k)?;
                push(&k, &v)?;
            }
        } else {
            for item in pairs.try_iter()? {
                let item = item?;
                let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
                    item.extract().map_err(|_| {
                        pyo3::exceptions::PyTypeError::new_err(
                            "update() needs a mapping or an iterable of (key, value) pairs",
                        )
                    })?;
                push(&k, &v)?;
            }
        }
        Ok(())
    }

    fn write(&self, py: Python<'_>, ops: Vec<BatchOp>) -> PyResult<()> {
        let store = self.sp.store.clone();
        Ok(py.detach(move || store.write_batch(&ops))?)
    }
}

#[pymethods]
impl PyKV {
    #[new]
    #[pyo3(signature = (store, name, *, key = None, value = None))]
    fn new(
        py: Python<'_>,
        store: &Bound<'_, PyStore>,
        name: &str,
        key: Option<&str>,
        value: Option<&str>,
    ) -> PyResult<Self> {
        let key_codec = key.map(KeyCodec::parse).transpose()?;
        let value_codec = value.map(ValueCodec::parse).transpose()?;
        let engine_store = store.get().store.clone();
        let name_owned = name.to_string();
        let choose = move |stored: Option<&SpaceConfig>| -> crate::Result<SpaceConfig> {
            let mismatch = |what: &str, want: &str, have: &str| {
                crate::Error::InvalidArgument(format!(
                    "space {name_owned:?} is stored with {what}={have:?}, not {want:?}"
                ))
            };
            match stored {
                Some(cfg) => {
                    if let Some(k) = key_codec {
                        if k.name() != cfg.key {
                            return Err(mismatch("key", k.name(), &cfg.key));
                        }
                    }
                    match value_codec {
                        Some(v) if v.name() != cfg.value => {
                            return Err(mismatch("value", v.name(), &cfg.value))
                        }
                        None if cfg.value == "pickle" => {
                            return Err(crate::Error::InvalidArgument(format!(
                                "space {name_owned:?} stores pickled values; pass \
                                 value=\"pickle\" to read them (unpickling runs code, so \
                                 only do it for stores you trust)"
                            )))
                        }
                        _ => {}
                    }
                    Ok(cfg.clone())
                }
                None => Ok(SpaceConfig {
                    kind: KIND.into(),
                    key: key_codec.unwrap_or(KeyCodec::Any).name().into(),
                    value: value_codec.unwrap_or(ValueCodec::Msgpack).name().into(),
                }),
            }
        };
        let es = engine_store.clone();
        let n = name.to_string();
        let (id, cfg) = py.detach(move || es.open_space(KIND, &n, None, choose))?;
        Ok(Self {
            sp: SpaceRef {
                store: engine_store,
                space: id,
                name: name.to_string(),
                key: KeyCodec::parse(&cfg.key)?,
                value: ValueCodec::parse(&cfg.value)?,
            },
            store_obj: store.clone().unbind(),
            closed: AtomicBool::new(false),
        })
    }

    /// The space's name.
    #[getter]
    fn name(&self) -> &str {
        &self.sp.name
    }

    /// The store this space belongs to.
    #[getter]
    fn store(&self, py: Python<'_>) -> Py<PyStore> {
        self.store_obj.clone_ref(py)
    }

    /// The key codec name.
    #[getter]
    fn key_codec(&self) -> &'static str {
        self.sp.key.name()
    }

    /// The value codec name.
    #[getter]
    fn value_codec(&self) -> &'static str {
        self.sp.value.name()
    }

    /// Whether this handle (or its store) was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed) || self.sp.store.is_closed()
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.view()?.getitem(py, key)
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.check_open()?;
        if key.is_instance_of::<PySlice>() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "slice assignment is not supported; use update()",
            ));
        }
        let kbuf = self.sp.key.encode_cow(key)?;
        let v = self.sp.value.encode(value)?;
        let (store, space) = (&self.sp.store, self.sp.space);
        let v: &[u8] = &v;
        Ok(py.detach(|| store.put(space, &kbuf, v))?)
    }

    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_open()?;
        let store = self.sp.store.clone();
        let space = self.sp.space;
        if let Ok(slice) = key.cast::<PySlice>() {
            let spec = range::from_slice(self.sp.key, slice)?;
            py.detach(move || store.delete_range(space, spec.lo, spec.hi))?;
            return Ok(());
        }
        let enc = self.sp.key.encode_vec(key)?;
        match py.detach(move || store.take(space, &enc))? {
            Some(_) => Ok(()),
            None => Err(PyKeyError::new_err((key.clone().unbind(),))),
        }
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.view()?.contains(py, key)
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.view()?.len(py)
    }

    fn __iter__(&self) -> PyResult<PyCursor> {
        self.view()?.iter_keys(false)
    }

    fn __reversed__(&self) -> PyResult<PyCursor> {
        self.view()?.iter_keys(true)
    }

    /// `kv[key]` if present, else `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.view()?.get(py, key, default)
    }

    /// Values of many keys (read from one snapshot), `default` for missing.
    #[pyo3(signature = (keys, default = None))]
    fn get_many(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Vec<Py<PyAny>>> {
        self.check_open()?;
        let mut enc = Vec::new();
        for k in keys.try_iter()? {
            enc.push(self.sp.key.encode_vec(&k?)?);
        }
        let store = self.sp.store.clone();
        let space = self.sp.space;
        let raw = py.detach(move || store.get_many(space, &enc))?;
        let default = default.unwrap_or_else(|| py.None());
        raw.into_iter()
            .map(|v| match v {
                Some(v) => Ok(self.sp.value.decode(py, &v)?.unbind()),
                None => Ok(default.clone_ref(py)),
            })
            .collect()
    }

    /// Removes `key` and returns its value; `default` (if given) when
    /// missing, else `KeyError`. Atomic.
    #[pyo3(signature = (key, *default))]
    fn pop(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: &Bound<'_, PyTuple>,
    ) -> PyResult<Py<PyAny>> {
        self.check_open()?;
        if default.len() > 1 {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "pop expected at most 2 arguments",
            ));
        }
        let enc = self.sp.key.encode_vec(key)?;
        let store = self.sp.store.clone();
        let space = self.sp.space;
        match py.detach(move || store.take(space, &enc))? {
            Some(v) => Ok(self.sp.value.decode(py, &v)?.unbind()),
            None => match default.get_item(0) {
                Ok(d) => Ok(d.unbind()),
                Err(_) => Err(PyKeyError::new_err((key.clone().unbind(),))),
            },
        }
    }

    /// Removes and returns the first `(key, value)` pair; `KeyError` if empty.
    fn popitem(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.check_open()?;
        loop {
            let Some((k, _)) = self.sp.store.edge(self.sp.space, false)? else {
                return Err(PyKeyError::new_err("popitem(): the space is empty"));
            };
            let store = self.sp.store.clone();
            let space = self.sp.space;
            let kk = k.to_vec();
            // Another thread may take it first: then try the next one.
            if let Some(v) = py.detach(move || store.take(space, &kk))? {
                let key = self.sp.key.decode(py, &k)?;
                let val = self.sp.value.decode(py, &v)?;
                return Ok((key, val).into_pyobject(py)?.into_any().unbind());
            }
        }
    }

    /// `kv[key]` if present; otherwise stores `default` and returns it.
    /// Atomic.
    #[pyo3(signature = (key, default = None))]
    fn setdefault(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.check_open()?;
        let none = py.None().into_bound(py);
        let default = default.unwrap_or(&none);
        let enc = self.sp.key.encode_vec(key)?;
        let val = self.sp.value.encode(default)?.into_owned();
        let store = self.sp.store.clone();
        let space = self.sp.space;
        match py.detach(move || store.insert_if_absent(space, &enc, &val))? {
            Some(existing) => Ok(self.sp.value.decode(py, &existing)?.unbind()),
            None => Ok(default.clone().unbind()),
        }
    }

    /// Stores every pair of `other` (a mapping or pairs) and `kwargs` in one
    /// atomic batch; if any key or value is unsupported nothing is written.
    #[pyo3(signature = (other = None, /, **kwargs))]
    fn update(
        &self,
        py: Python<'_>,
        other: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.check_open()?;
        let mut ops = Vec::new();
        if let Some(o) = other {
            self.encode_pairs(o, &mut ops)?;
        }
        if let Some(kw) = kwargs {
            self.encode_pairs(kw.as_any(), &mut ops)?;
        }
        self.write(py, ops)
    }

    /// Deletes every key, atomically.
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.check_open()?;
        let store = self.sp.store.clone();
        let space = self.sp.space;
        py.detach(move || store.delete_range(space, B::Unbounded, B::Unbounded))?;
        Ok(())
    }

    /// Deletes `key` if present (no error if missing).
    fn discard(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_open()?;
        let enc = self.sp.key.encode_cow(key)?;
        let (store, space) = (&self.sp.store, self.sp.space);
        Ok(py.detach(|| store.discard(space, &enc))?)
    }

    /// Deletes every key in `keys` (missing ones are ignored), atomically.
    fn delete_many(&self, py: Python<'_>, keys: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_open()?;
        let mut ops = Vec::new();
        for k in keys.try_iter()? {
            ops.push(BatchOp {
                space: self.sp.space,
                key: self.sp.key.encode_vec(&k?)?,
                value: None,
            });
        }
        self.write(py, ops)
    }

    /// The first `(key, value)` pair, or `None` if empty.
    fn first(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.view()?.edge(py, false)
    }

    /// The last `(key, value)` pair, or `None` if empty.
    fn last(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.view()?.edge(py, true)
    }

    /// A cursor over keys in `[start, stop)` (bounds in key order; see
    /// `include_start`/`include_stop`), optionally only keys starting with
    /// `prefix`, descending when `reverse`, yielding `(key, value)`, keys
    /// (`values=False`) or values (`keys=False`).
    #[pyo3(signature = (start = None, stop = None, *, prefix = None, reverse = false,
                        include_start = true, include_stop = false, keys = true, values = true))]
    #[allow(clippy::too_many_arguments)]
    fn cursor(
        &self,
        start: Option<&Bound<'_, PyAny>>,
        stop: Option<&Bound<'_, PyAny>>,
        prefix: Option<&Bound<'_, PyAny>>,
        reverse: bool,
        include_start: bool,
        include_stop: bool,
        keys: bool,
        values: bool,
    ) -> PyResult<PyCursor> {
        self.view()?.cursor_from_args(
            start,
            stop,
            prefix,
            reverse,
            include_start,
            include_stop,
            keys,
            values,
        )
    }

    /// Exact number of keys in `[start, stop)`, or starting with `prefix`.
    #[pyo3(signature = (start = None, stop = None, *, prefix = None))]
    fn count(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        stop: Option<&Bound<'_, PyAny>>,
        prefix: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        self.check_open()?;
        let spec = range::from_args(self.sp.key, start, stop, prefix, false, true, false, true)?;
        let store = self.sp.store.clone();
        let space = self.sp.space;
        Ok(py.detach(move || store.count(space, spec.lo, spec.hi))?)
    }

    /// Writes everything to stable storage (fsync of the whole store).
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        self.check_open()?;
        let store = self.sp.store.clone();
        Ok(py.detach(move || store.sync())?)
    }

    /// Closes this handle (the store stays open). Idempotent.
    fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }
}

/// Rejects slice keys where only single keys make sense.
pub fn no_slice(key: &Bound<'_, PyAny>) -> PyResult<()> {
    if key.is_instance_of::<PySlice>() {
        return Err(invalid("slices are not supported here"));
    }
    Ok(())
}
