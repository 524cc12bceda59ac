//! `Store` and `Batch` Python classes.

use super::kv::PyKV;
use crate::engine::{BatchOp, Durability, Options, Store};
use crate::error::Error;
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::path::PathBuf;
use std::sync::Arc;

/// A database directory holding named key/value spaces.
#[pyclass(frozen, subclass, name = "Store", module = "shoal._core")]
pub struct PyStore {
    pub(crate) store: Arc<Store>,
}

#[pymethods]
impl PyStore {
    #[new]
    #[pyo3(signature = (path = None, *, durability = "flush", cache_size = 16_777_216))]
    fn new(
        py: Python<'_>,
        path: Option<PathBuf>,
        durability: &str,
        cache_size: i64,
    ) -> PyResult<Self> {
        let cache_size = u64::try_from(cache_size)
            .map_err(|_| super::errors::invalid("cache_size must not be negative"))?;
        let opts = Options {
            durability: Durability::parse(durability)?,
            cache_size,
            ..Options::default()
        };
        let store = py.detach(move || Store::open(path.as_deref(), opts))?;
        Ok(Self { store })
    }

    /// The store directory (for a temporary store, removed on close).
    #[getter]
    fn path(&self) -> String {
        self.store.path().to_string_lossy().into_owned()
    }

    /// Whether the store is temporary.
    #[getter]
    fn temporary(&self) -> bool {
        self.store.temporary()
    }

    /// The durability level: "sync", "flush" or "memory".
    #[getter]
    fn durability(&self) -> &'static str {
        self.store.durability().name()
    }

    /// Whether the store was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.store.is_closed()
    }

    /// Names of the key/value spaces, sorted.
    fn spaces(&self) -> PyResult<Vec<String>> {
        Ok(self.store.list_spaces("kv")?)
    }

    /// Names of the document collections, sorted.
    fn collections(&self) -> PyResult<Vec<String>> {
        Ok(self.store.list_spaces(crate::collection::KIND)?)
    }

    /// Deletes collection `name` and its documents; whether it existed.
    fn drop_collection(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        let store = self.store.clone();
        let name = name.to_string();
        Ok(py.detach(move || crate::collection::Collection::drop_named(&store, &name))?)
    }

    /// Deletes the key/value space `name` and its data; returns whether it
    /// existed. Open handles to it raise `ClosedError` afterwards; open
    /// cursors, transactions and snapshots of the store are closed.
    fn drop_kv(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        let store = self.store.clone();
        let name = name.to_string();
        Ok(py.detach(move || store.drop_space("kv", &name))?)
    }

    /// A batch of writes committed atomically (as a context manager: on a
    /// normal exit; discarded if the block raises).
    fn batch(&self) -> PyResult<PyBatch> {
        if self.store.is_closed() {
            return Err(Error::Closed("store").into());
        }
        Ok(PyBatch {
            store: self.store.clone(),
            ops: Mutex::new(Some(Vec::new())),
        })
    }

    /// Writes everything to stable storage (fsync).
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        let store = self.store.clone();
        Ok(py.detach(move || store.sync())?)
    }

    /// Compacts every opened space fully (reclaims space of overwritten and
    /// deleted data).
    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        let store = self.store.clone();
        Ok(py.detach(move || store.compact())?)
    }

    /// Reads every block of every space (checking its checksum) from one
    /// snapshot and checks every collection's indexes against its
    /// documents. Returns `{"spaces": [(kind, name, items)], "problems":
    /// [text]}`; a damaged block raises `CorruptionError`.
    #[pyo3(signature = (*, limit = 100))]
    fn verify<'py>(&self, py: Python<'py>, limit: usize) -> PyResult<Bound<'py, PyDict>> {
        let store = self.store.clone();
        let (spaces, problems) = py.detach(move || -> crate::error::Result<_> {
            let spaces = store.verify()?;
            let mut problems = Vec::new();
            for (kind, name, _) in &spaces {
                if kind == crate::collection::KIND && problems.len() < limit {
                    let coll = crate::collection::Collection::open(&store, name, None)?;
                    problems.extend(coll.check_indexes(limit - problems.len())?);
                }
            }
            Ok((spaces, problems))
        })?;
        let out = PyDict::new(py);
        out.set_item("spaces", spaces)?;
        out.set_item("problems", problems)?;
        Ok(out)
    }

    /// Statistics: spaces (name, approximate items, disk bytes), disk and
    /// memory use.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let store = self.store.clone();
        let st = py.detach(move || store.stats())?;
        let out = PyDict::new(py);
        let spaces = PyList::empty(py);
        for s in &st.spaces {
            let d = PyDict::new(py);
            d.set_item("name", &s.name)?;
            d.set_item("kind", &s.kind)?;
            d.set_item("approximate_items", s.approximate_items)?;
            d.set_item("disk_bytes", s.disk_bytes)?;
            spaces.append(d)?;
        }
        out.set_item("path", self.path())?;
        out.set_item("durability", self.durability())?;
        out.set_item("spaces", spaces)?;
        out.set_item("disk_bytes", st.disk_bytes)?;
        out.set_item("journal_count", st.journal_count)?;
        out.set_item("write_buffer_bytes", st.write_buffer_bytes)?;
        out.set_item("cache_bytes", st.cache_bytes)?;
        Ok(out)
    }

    /// Copies a consistent snapshot of the whole store into `dest` (a new
    /// or empty directory), which can then be opened as a store.
    fn backup(&self, py: Python<'_>, dest: PathBuf) -> PyResult<()> {
        let store = self.store.clone();
        Ok(py.detach(move || store.backup(&dest))?)
    }

    /// Closes the store: flushes, releases the directory lock and
    /// invalidates every handle, cursor, transaction and snapshot.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let store = self.store.clone();
        Ok(py.detach(move || store.close())?)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}

/// Writes collected and committed atomically, across spaces.
#[pyclass(frozen, name = "Batch", module = "shoal._core")]
pub struct PyBatch {
    store: Arc<Store>,
    ops: Mutex<Option<Vec<BatchOp>>>,
}

impl PyBatch {
    fn push(
        &self,
        kv: &PyKV,
        key: &Bound<'_, PyAny>,
        value: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        kv.check_usable_in(&self.store)?;
        let key = kv.sp.key.encode_vec(key)?;
        let value = value
            .map(|v| kv.sp.value.encode(v).map(|c| c.into_owned()))
            .transpose()?;
        crate::engine::store::check_sizes(&key, value.as_deref())?;
        let mut ops = self.ops.lock();
        let ops = ops.as_mut().ok_or(Error::Closed("batch"))?;
        ops.push(BatchOp {
            space: kv.sp.space,
            key,
            value,
        });
        Ok(())
    }
}

#[pymethods]
impl PyBatch {
    /// Adds `kv[key] = value` to the batch.
    fn put(
        &self,
        kv: PyRef<'_, PyKV>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.push(&kv, key, Some(value))
    }

    /// Adds a delete of `key` (no error if it does not exist).
    fn delete(&self, kv: PyRef<'_, PyKV>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        self.push(&kv, key, None)
    }

    /// Applies every collected write in one atomic commit.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        let ops = self.ops.lock().take().ok_or(Error::Closed("batch"))?;
        let store = self.store.clone();
        Ok(py.detach(move || store.write_batch(&ops))?)
    }

    fn __len__(&self) -> usize {
        self.ops.lock().as_ref().map_or(0, Vec::len)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (exc_type, _exc, _tb))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        if exc_type.is_none() {
            if self.ops.lock().is_some() {
                self.commit(py)?;
            }
        } else {
            self.ops.lock().take();
        }
        Ok(false)
    }
}
