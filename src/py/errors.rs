//! Python exception classes and the one mapping from [`crate::Error`].

use crate::error::Error;
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

/// The base class, named `Error` as Python shows it (`shoal._core.Error`).
pub mod base {
    pyo3::create_exception!(
        shoal._core,
        Error,
        pyo3::exceptions::PyException,
        "Base class of every shoal error."
    );
}
pub use base::Error as ShoalError;
pyo3::create_exception!(
    shoal._core,
    ClosedError,
    ShoalError,
    "The store, handle, cursor, transaction or snapshot was closed."
);
pyo3::create_exception!(
    shoal._core,
    LockedError,
    ShoalError,
    "Another process (or another open store in this one) holds the directory."
);
pyo3::create_exception!(
    shoal._core,
    ConflictError,
    ShoalError,
    "An optimistic transaction conflicted with a concurrent commit; retry it."
);
pyo3::create_exception!(
    shoal._core,
    CorruptionError,
    ShoalError,
    "Files on disk are damaged, truncated or not a shoal store."
);
pyo3::create_exception!(
    shoal._core,
    StorageError,
    ShoalError,
    "An I/O or storage-engine failure."
);

/// Classes with two bases, built at module init: `InvalidArgumentError`
/// (`Error`, `ValueError`), `QueryError` (`Error`, `ValueError`) and
/// `DuplicateKeyError` (`Error`, `KeyError`).
static INVALID_ARGUMENT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static QUERY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DUPLICATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn two_bases<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyType>>,
    name: &str,
    second: Bound<'py, PyType>,
    doc: &str,
) -> PyResult<Bound<'py, PyType>> {
    let ty = cell.get_or_try_init(py, || -> PyResult<_> {
        let builtins = py.import("builtins")?;
        let bases = (py.get_type::<ShoalError>(), second);
        let ns = PyDict::new(py);
        ns.set_item("__doc__", doc)?;
        ns.set_item("__module__", "shoal._core")?;
        let cls = builtins.getattr("type")?.call1((name, bases, ns))?;
        Ok(cls.cast_into::<PyType>()?.unbind())
    })?;
    Ok(ty.bind(py).clone())
}

/// `InvalidArgumentError`.
pub fn invalid_argument_type(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    two_bases(
        py,
        &INVALID_ARGUMENT,
        "InvalidArgumentError",
        py.get_type::<PyValueError>(),
        "A bad name, size, option or bound.",
    )
}

/// `QueryError`.
pub fn query_error_type(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    two_bases(
        py,
        &QUERY,
        "QueryError",
        py.get_type::<PyValueError>(),
        "A filter or update document that is not valid (names the operator).",
    )
}

/// `DuplicateKeyError`.
pub fn duplicate_key_type(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    two_bases(
        py,
        &DUPLICATE,
        "DuplicateKeyError",
        py.get_type::<PyKeyError>(),
        "A document with this primary key (or unique index value) already exists.",
    )
}

fn raise(make: fn(Python<'_>) -> PyResult<Bound<'_, PyType>>, msg: String) -> PyErr {
    Python::attach(|py| match make(py) {
        Ok(ty) => PyErr::from_type(ty, (msg,)),
        Err(e) => e,
    })
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let msg = err.to_string();
        match err {
            Error::Closed(_) | Error::NotFound(_) => ClosedError::new_err(msg),
            Error::Locked { .. } => LockedError::new_err(msg),
            Error::Conflict => ConflictError::new_err(msg),
            Error::Corruption { .. } | Error::Decode(_) => CorruptionError::new_err(msg),
            Error::InvalidArgument(_) => raise(invalid_argument_type, msg),
            Error::Query(_) => raise(query_error_type, msg),
            Error::Duplicate(_) => raise(duplicate_key_type, msg),
            Error::Type(_) => PyTypeError::new_err(msg),
            Error::Io(_) | Error::Storage(_) => StorageError::new_err(msg),
        }
    }
}

/// Raises `InvalidArgumentError` from the Python layer.
pub fn invalid(msg: impl Into<String>) -> PyErr {
    raise(invalid_argument_type, msg.into())
}
