//! Python objects <-> stored value bytes, for each value codec.

use super::msgpack;
use crate::error::Error;
use crate::py::errors::invalid;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyString};
use std::borrow::Cow;

/// How a space's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueCodec {
    /// MessagePack, written and read in Rust.
    Msgpack,
    /// Raw bytes.
    Bytes,
    /// UTF-8 text.
    Str,
    /// JSON text (Python's `json` module).
    Json,
    /// Pickle: only when asked for, since unpickling runs code.
    Pickle,
}

static JSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static PICKLE_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static PICKLE_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

impl ValueCodec {
    /// Parses a codec name.
    pub fn parse(name: &str) -> PyResult<Self> {
        Ok(match name {
            "msgpack" => Self::Msgpack,
            "bytes" => Self::Bytes,
            "str" => Self::Str,
            "json" => Self::Json,
            "pickle" => Self::Pickle,
            other => {
                return Err(invalid(format!(
                    "value codec must be \"msgpack\", \"bytes\", \"str\", \"json\" or \
                     \"pickle\", not {other:?}"
                )))
            }
        })
    }

    /// The codec's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Msgpack => "msgpack",
            Self::Bytes => "bytes",
            Self::Str => "str",
            Self::Json => "json",
            Self::Pickle => "pickle",
        }
    }

    /// Encodes `obj`; borrows the caller's buffer for the `bytes` codec.
    #[inline]
    pub fn encode<'a>(self, obj: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
        let py = obj.py();
        match self {
            Self::Bytes => match obj.cast::<PyBytes>() {
                Ok(b) => Ok(Cow::Borrowed(b.as_bytes())),
                Err(_) => Err(self.type_error(obj, "bytes")),
            },
            Self::Msgpack => {
                let mut buf = Vec::with_capacity(64);
                msgpack::write(&mut buf, obj)?;
                Ok(Cow::Owned(buf))
            }
            Self::Str => match obj.cast::<PyString>() {
                Ok(s) => Ok(Cow::Owned(s.to_cow()?.as_bytes().to_vec())),
                Err(_) => Err(self.type_error(obj, "str")),
            },
            Self::Json => {
                let dumps = JSON_DUMPS.import(py, "json", "dumps")?;
                let kwargs = pyo3::types::PyDict::new(py);
                kwargs.set_item("ensure_ascii", false)?;
                kwargs.set_item("separators", (",", ":"))?;
                let text = dumps.call((obj,), Some(&kwargs))?;
                let text = text.cast::<PyString>()?;
                Ok(Cow::Owned(text.to_cow()?.as_bytes().to_vec()))
            }
            Self::Pickle => {
                let dumps = PICKLE_DUMPS.import(py, "pickle", "dumps")?;
                let data = dumps.call1((obj,))?;
                Ok(Cow::Owned(data.cast::<PyBytes>()?.as_bytes().to_vec()))
            }
        }
    }

    /// Builds the Python value from stored bytes.
    #[inline]
    pub fn decode<'py>(self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Self::Bytes => Ok(PyBytes::new(py, data).into_any()),
            Self::Msgpack => msgpack::read(py, data),
            Self::Str => {
                let s = std::str::from_utf8(data)
                    .map_err(|_| Error::Decode("stored value is not valid UTF-8".into()))?;
                Ok(PyString::new(py, s).into_any())
            }
            Self::Json => {
                let s = std::str::from_utf8(data)
                    .map_err(|_| Error::Decode("stored JSON is not valid UTF-8".into()))?;
                let loads = JSON_LOADS.import(py, "json", "loads")?;
                loads
                    .call1((s,))
                    .map_err(|e| Error::Decode(format!("stored JSON does not parse: {e}")).into())
            }
            Self::Pickle => {
                let loads = PICKLE_LOADS.import(py, "pickle", "loads")?;
                loads.call1((PyBytes::new(py, data),))
            }
        }
    }

    fn type_error(self, obj: &Bound<'_, PyAny>, want: &str) -> PyErr {
        let tn = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        PyTypeError::new_err(format!(
            "values of this space ({} codec) must be {want}, not {tn}",
            self.name()
        ))
    }
}
