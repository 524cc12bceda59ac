//! `Transaction` (across spaces) and `TxKV` (one space through a
//! transaction) Python classes.

use super::cursor::PyCursor;
use super::kv::PyKV;
use super::space::{Reader, SpaceRef, View};
use super::store::PyStore;
use crate::engine::Transaction;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::PySlice;
use std::sync::Arc;

fn exit(py: Python<'_>, tx: &Arc<Transaction>, exc_type: &Bound<'_, PyAny>) -> PyResult<bool> {
    if exc_type.is_none() {
        if tx.is_active() {
            commit(py, tx)?;
        }
    } else {
        tx.rollback();
    }
    Ok(false)
}

/// Commits, then hands the committed changes to their listeners.
fn commit(py: Python<'_>, tx: &Arc<Transaction>) -> PyResult<()> {
    let t = tx.clone();
    py.detach(move || t.commit())?;
    super::events::deliver_for(py, tx.store())
}

fn same_store(tx: &Arc<Transaction>, kv: &PyKV) -> PyResult<()> {
    kv.check_usable_in(tx.store())
}

/// An optimistic read-write transaction across spaces.
#[pyclass(frozen, subclass, name = "Transaction", module = "shoal._core")]
pub struct PyTransaction {
    pub(crate) tx: Arc<Transaction>,
}

#[pymethods]
impl PyTransaction {
    #[new]
    fn new(store: &Bound<'_, PyStore>) -> PyResult<Self> {
        Ok(Self {
            tx: Transaction::begin(&store.get().store)?,
        })
    }

    /// Whether the transaction can still be used (not committed, rolled
    /// back or closed with its store).
    #[getter]
    fn active(&self) -> bool {
        self.tx.is_active()
    }

    /// `kv[key]` as this transaction sees it, or `default`.
    #[pyo3(signature = (kv, key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        kv: PyRef<'_, PyKV>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        same_store(&self.tx, &kv)?;
        let reader = Reader::Tx(self.tx.clone());
        View {
            sp: &kv.sp,
            reader: &reader,
        }
        .get(py, key, default)
    }

    /// Buffers `kv[key] = value`.
    fn put(
        &self,
        kv: PyRef<'_, PyKV>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        same_store(&self.tx, &kv)?;
        put(&self.tx, &kv.sp, key, value)
    }

    /// Buffers `del kv[key]` (`KeyError` if it does not exist).
    fn delete(&self, py: Python<'_>, kv: PyRef<'_, PyKV>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        same_store(&self.tx, &kv)?;
        delete(py, &self.tx, &kv.sp, key)
    }

    /// Commits every write atomically; `ConflictError` if something this
    /// transaction read was changed by a concurrent commit.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        commit(py, &self.tx)
    }

    /// Discards every buffered write. Idempotent.
    fn rollback(&self) {
        self.tx.rollback();
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
        exit(py, &self.tx, exc_type)
    }
}

fn put(
    tx: &Transaction,
    sp: &SpaceRef,
    key: &Bound<'_, PyAny>,
    value: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let k = sp.key.encode_vec(key)?;
    let v = sp.value.encode(value)?;
    Ok(tx.put(sp.space, &k, &v)?)
}

fn delete(
    py: Python<'_>,
    tx: &Arc<Transaction>,
    sp: &SpaceRef,
    key: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let k = sp.key.encode_vec(key)?;
    let t = tx.clone();
    let space = sp.space;
    match py.detach(move || t.take(space, &k))? {
        Some(_) => Ok(()),
        None => Err(PyKeyError::new_err((key.clone().unbind(),))),
    }
}

/// One space seen through a transaction.
#[pyclass(frozen, subclass, name = "TxKV", module = "shoal._core")]
pub struct PyTxKV {
    tx_obj: Py<PyTransaction>,
    kv_obj: Py<PyKV>,
    sp: SpaceRef,
    reader: Reader,
}

impl PyTxKV {
    fn tx(&self) -> &Arc<Transaction> {
        match &self.reader {
            Reader::Tx(t) => t,
            // Constructed only with a transaction reader.
            _ => unreachable!("TxKV without a transaction"),
        }
    }

    fn view(&self) -> View<'_> {
        View {
            sp: &self.sp,
            reader: &self.reader,
        }
    }
}

#[pymethods]
impl PyTxKV {
    #[new]
    fn new(tx: &Bound<'_, PyTransaction>, kv: &Bound<'_, PyKV>) -> PyResult<Self> {
        let t = tx.get().tx.clone();
        let k = kv.borrow();
        same_store(&t, &k)?;
        Ok(Self {
            tx_obj: tx.clone().unbind(),
            kv_obj: kv.clone().unbind(),
            sp: k.sp.clone(),
            reader: Reader::Tx(t),
        })
    }

    /// The transaction.
    #[getter]
    fn transaction(&self, py: Python<'_>) -> Py<PyTransaction> {
        self.tx_obj.clone_ref(py)
    }

    /// The space.
    #[getter]
    fn kv(&self, py: Python<'_>) -> Py<PyKV> {
        self.kv_obj.clone_ref(py)
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.view().getitem(py, key)
    }

    fn __setitem__(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        if key.is_instance_of::<PySlice>() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "slice assignment is not supported",
            ));
        }
        put(self.tx(), &self.sp, key, value)
    }

    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        super::kv::no_slice(key)?;
        delete(py, self.tx(), &self.sp, key)
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.view().contains(py, key)
    }

    /// Deletes `key` whether or not it exists, without reading it (a blind
    /// write: it never makes the transaction conflict).
    fn discard(&self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let k = self.sp.key.encode_vec(key)?;
        Ok(self.tx().discard(self.sp.space, &k)?)
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

    /// The value as this transaction sees it, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.view().get(py, key, default)
    }

    /// A cursor (see `KV.cursor`) that sees this transaction's writes made
    /// before it was opened; its range joins the transaction's read set.
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

    /// The first `(key, value)` pair, or `None`.
    fn first(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.view().edge(py, false)
    }

    /// The last `(key, value)` pair, or `None`.
    fn last(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.view().edge(py, true)
    }

    /// Commits the transaction (see `Transaction.commit`).
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        commit(py, self.tx())
    }

    /// Rolls the transaction back. Idempotent.
    fn rollback(&self) {
        self.tx().rollback();
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
        exit(py, self.tx(), exc_type)
    }
}
