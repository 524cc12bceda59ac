//! Python exception classes and the one mapping from [`crate::Error`].

use crate::error::Error;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    _core,
    ShoalError,
    PyException,
    "Base class of every shoal error."
);
pyo3::create_exception!(
    _core,
    ClosedError,
    ShoalError,
    "The store, handle, cursor, transaction or snapshot was closed."
);
pyo3::create_exception!(
    _core,
    LockedError,
    ShoalError,
    "Another process (or another open store in this one) holds the directory."
);
pyo3::create_exception!(
    _core,
    ConflictError,
    ShoalError,
    "An optimistic transaction conflicted with a concurrent commit; retry it."
);
pyo3::create_exception!(
    _core,
    CorruptionError,
    ShoalError,
    "Files on disk are damaged, truncated or not a shoal store."
);
pyo3::create_exception!(
    _core,
    StorageError,
    ShoalError,
    "An I/O or storage-engine failure."
);

/// `InvalidArgumentError(Error, ValueError)`: built at module init because
/// it has two bases.
pub static INVALID_ARGUMENT: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> =
    pyo3::sync::PyOnceLock::new();

/// Creates the classes that need more than one base.
pub fn init(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyType>> {
    let ty = INVALID_ARGUMENT.get_or_try_init(py, || -> PyResult<_> {
        let builtins = py.import("builtins")?;
        let bases = (py.get_type::<ShoalError>(), py.get_type::<PyValueError>());
        let ns = pyo3::types::PyDict::new(py);
        ns.set_item("__doc__", "A bad name, size, option or bound.")?;
        ns.set_item("__module__", "shoal._core")?;
        let cls = builtins
            .getattr("type")?
            .call1(("InvalidArgumentError", bases, ns))?;
        Ok(cls.cast_into::<pyo3::types::PyType>()?.unbind())
    })?;
    Ok(ty.bind(py).clone())
}

fn invalid_argument(msg: String) -> PyErr {
    Python::attach(|py| match init(py) {
        Ok(ty) => PyErr::from_type(ty, msg),
        Err(e) => e,
    })
}

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        let msg = err.to_string();
        match err {
            Error::Closed(_) | Error::NotFound(_) => ClosedError::new_err(msg),
            Error::Locked(_) => LockedError::new_err(msg),
            Error::Conflict => ConflictError::new_err(msg),
            Error::Corruption { .. } | Error::Decode(_) => CorruptionError::new_err(msg),
            Error::InvalidArgument(_) => invalid_argument(msg),
            Error::Type(_) => PyTypeError::new_err(msg),
            Error::Io(_) | Error::Storage(_) => StorageError::new_err(msg),
        }
    }
}

/// Raises `InvalidArgumentError` from the Python layer.
pub fn invalid(msg: impl Into<String>) -> PyErr {
    invalid_argument(msg.into())
}
