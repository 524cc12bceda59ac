//! The PyO3 module `shoal._core`: conversions and thin wrappers over the
//! engine. No storage logic lives here.

pub mod collection;
mod collection_args;
pub mod convert;
pub mod cursor;
pub mod doc_cursor;
pub mod errors;
pub mod events;
pub mod kv;
pub mod range;
pub mod regex;
pub mod snapshot;
pub mod space;
pub mod store;
pub mod txn;

use convert::key::KeyCodec;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Encodes `key` with a key codec (order-preserving for "any" and "int").
#[pyfunction]
#[pyo3(signature = (key, codec = "any"))]
fn encode_key<'py>(
    py: Python<'py>,
    key: &Bound<'py, PyAny>,
    codec: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let buf = KeyCodec::parse(codec)?.encode_vec(key)?;
    Ok(PyBytes::new(py, &buf))
}

/// Decodes bytes produced by `encode_key`.
#[pyfunction]
#[pyo3(signature = (data, codec = "any"))]
fn decode_key<'py>(py: Python<'py>, data: &[u8], codec: &str) -> PyResult<Bound<'py, PyAny>> {
    KeyCodec::parse(codec)?.decode(py, data)
}

/// Marks every store opened before `fork()` unusable in the child (called
/// through `os.register_at_fork` by the `shoal` package).
#[pyfunction]
fn _after_fork_in_child() {
    crate::engine::store::note_fork_in_child();
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_KEY_SIZE", crate::engine::MAX_KEY_SIZE)?;
    m.add("MAX_VALUE_SIZE", crate::engine::MAX_VALUE_SIZE)?;
    m.add("Error", py.get_type::<errors::ShoalError>())?;
    m.add("ClosedError", py.get_type::<errors::ClosedError>())?;
    m.add("LockedError", py.get_type::<errors::LockedError>())?;
    m.add("ConflictError", py.get_type::<errors::ConflictError>())?;
    m.add("CorruptionError", py.get_type::<errors::CorruptionError>())?;
    m.add("StorageError", py.get_type::<errors::StorageError>())?;
    m.add("InvalidArgumentError", errors::invalid_argument_type(py)?)?;
    m.add("QueryError", errors::query_error_type(py)?)?;
    m.add("DuplicateKeyError", errors::duplicate_key_type(py)?)?;
    m.add_class::<store::PyStore>()?;
    m.add_class::<store::PyBatch>()?;
    m.add_class::<kv::PyKV>()?;
    m.add_class::<collection::PyCollection>()?;
    m.add_class::<cursor::PyCursor>()?;
    m.add_class::<doc_cursor::PyDocCursor>()?;
    m.add_class::<txn::PyTransaction>()?;
    m.add_class::<txn::PyTxKV>()?;
    m.add_class::<snapshot::PySnapshot>()?;
    m.add_class::<snapshot::PySnapshotKV>()?;
    m.add_class::<regex::PyRegex>()?;
    m.add_function(wrap_pyfunction!(encode_key, m)?)?;
    m.add_function(wrap_pyfunction!(decode_key, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    Ok(())
}
