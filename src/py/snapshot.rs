//! `Snapshot` (across spaces) and `SnapshotKV` (one space as of a
//! snapshot) Python classes.

use super::cursor::PyCursor;
use super::kv::PyKV;
use super::space::{Reader, SpaceRef, View};
use super::store::PyStore;
use crate::engine::SnapshotHandle;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::sync::Arc;

fn same_store(snap: &Arc<SnapshotHandle>, kv: &PyKV) -> PyResult<()> {
    kv.check_usable_in(snap.store())
}

/// A point-in-time read view across every space of a store.
#[pyclass(frozen, subclass, name = "Snapshot", module = "shoal._core")]
pub struct PySnapshot {
    pub(crate) snap: Arc<SnapshotHandle>,
}

#[pymethods]
impl PySnapshot {
    #[new]
    fn new(store: &Bound<'_, PyStore>) -> PyResult<Self> {
        Ok(Self {
            snap: SnapshotHandle::take(&store.get().store)?,
        })
    }

    /// Whether the snapshot was released.
    #[getter]
    fn closed(&self) -> bool {
        self.snap.fjall().is_err()
    }

    /// `kv[key]` as of the snapshot, or `default`.
    #[pyo3(signature = (kv, key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        kv: PyRef<'_, PyKV>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        same_store(&self.snap, &kv)?;
        let reader = Reader::Snapshot(self.snap.clone());
        View {
            sp: &kv.sp,
            reader: &reader,
        }
        .get(py, key, default)
    }

    /// Releases the snapshot (old versions can be reclaimed). Idempotent.
    fn close(&self) {
        self.snap.close();
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

/// One space as of a snapshot (read-only).
#[pyclass(frozen, subclass, name = "SnapshotKV", module = "shoal._core")]
pub struct PySnapshotKV {
    snap_obj: Py<PySnapshot>,
    kv_obj: Py<PyKV>,
    sp: SpaceRef,
    reader: Reader,
    snap: Arc<SnapshotHandle>,
}

impl PySnapshotKV {
    fn view(&self) -> View<'_> {
        View {
            sp: &self.sp,
            reader: &self.reader,
        }
    }
}

#[pymethods]
impl PySnapshotKV {
    #[new]
    fn new(snapshot: &Bound<'_, PySnapshot>, kv: &Bound<'_, PyKV>) -> PyResult<Self> {
        let s = snapshot.get().snap.clone();
        let k = kv.borrow();
        same_store(&s, &k)?;
        Ok(Self {
            snap_obj: snapshot.clone().unbind(),
            kv_obj: kv.clone().unbind(),
            sp: k.sp.clone(),
            reader: Reader::Snapshot(s.clone()),
            snap: s,
        })
    }

    /// The snapshot.
    #[getter]
    fn snapshot(&self, py: Python<'_>) -> Py<PySnapshot> {
        self.snap_obj.clone_ref(py)
    }

    /// The space.
    #[getter]
    fn kv(&self, py: Python<'_>) -> Py<PyKV> {
        self.kv_obj.clone_ref(py)
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.view().getitem(py, key)
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.view().contains(py, key)
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.view().len(py)
    }

    fn __iter__(&self) -> PyResult<PyCursor> {
        self.view().iter_keys(false)
    }

    fn __reversed__(&self) -> PyResult<PyCursor> {
        self.view().iter_keys(true)
    }

    /// The value as of the snapshot, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.view().get(py, key, default)
    }

    /// The first `(key, value)` pair, or `None`.
    fn first(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.view().edge(py, false)
    }

    /// The last `(key, value)` pair, or `None`.
    fn last(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.view().edge(py, true)
    }

    /// A cursor as of the snapshot (see `KV.cursor`).
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
        self.view().cursor_from_args(
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

    /// Releases the snapshot. Idempotent.
    fn close(&self) {
        self.snap.close();
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
