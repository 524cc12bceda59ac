//! Python objects <-> encoded keys, for each key codec.
//!
//! Dispatch is on the exact type first (str, int, bytes, tuple, float, None,
//! bool); subclasses go through a cold path and are stored as their base type.

use crate::codec::key::{KeyReader, KeyWriter, Token, MAX_DEPTH};
use crate::error::Error;
use crate::py::errors::invalid;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyString, PyTuple};

/// How a space's keys are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCodec {
    /// Order-preserving: None, bool, int, float, str, bytes, tuples.
    Any,
    /// Raw bytes, byte order.
    Bytes,
    /// UTF-8, code-point order.
    Str,
    /// Ints of any size, numeric order.
    Int,
}

impl KeyCodec {
    /// Parses a codec name.
    pub fn parse(name: &str) -> PyResult<Self> {
        Ok(match name {
            "any" => Self::Any,
            "bytes" => Self::Bytes,
            "str" => Self::Str,
            "int" => Self::Int,
            other => {
                return Err(invalid(format!(
                    "key codec must be \"any\", \"bytes\", \"str\" or \"int\", not {other:?}"
                )))
            }
        })
    }

    /// The codec's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Bytes => "bytes",
            Self::Str => "str",
            Self::Int => "int",
        }
    }

    /// Appends the encoding of `obj` to `buf`.
    #[inline]
    pub fn encode(self, obj: &Bound<'_, PyAny>, buf: &mut Vec<u8>) -> PyResult<()> {
        match self {
            Self::Bytes => {
                let b = obj.cast::<PyBytes>().map_err(|_| self.type_error(obj))?;
                buf.extend_from_slice(b.as_bytes());
                Ok(())
            }
            Self::Str => {
                let s = obj.cast::<PyString>().map_err(|_| self.type_error(obj))?;
                buf.extend_from_slice(s.to_cow()?.as_bytes());
                Ok(())
            }
            Self::Int => {
                if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
                    write_int(&mut KeyWriter::new(buf), obj)
                } else {
                    Err(self.type_error(obj))
                }
            }
            Self::Any => write_any(&mut KeyWriter::new(buf), obj, 0),
        }
    }

    /// Encodes `obj`, borrowing the caller's bytes for the `bytes` codec
    /// (no copy on the hot path of point reads and writes).
    #[inline]
    pub fn encode_cow<'a>(self, obj: &'a Bound<'_, PyAny>) -> PyResult<std::borrow::Cow<'a, [u8]>> {
        if self == Self::Bytes {
            if let Ok(b) = obj.cast::<PyBytes>() {
                return Ok(std::borrow::Cow::Borrowed(b.as_bytes()));
            }
        }
        self.encode_vec(obj).map(std::borrow::Cow::Owned)
    }

    /// Encodes `obj` into a fresh buffer.
    pub fn encode_vec(self, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
        let mut buf = Vec::with_capacity(32);
        self.encode(obj, &mut buf)?;
        Ok(buf)
    }

    /// The byte prefix shared by every key that "starts with" `obj`: a
    /// str/bytes prefix, or the leading elements of a tuple.
    pub fn encode_prefix(self, obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
        let mut buf = Vec::new();
        match self {
            Self::Bytes | Self::Str | Self::Int => self.encode(obj, &mut buf)?,
            Self::Any => {
                let mut w = KeyWriter::new(&mut buf);
                if let Ok(s) = obj.cast::<PyString>() {
                    w.str_prefix(&s.to_cow()?);
                } else if let Ok(b) = obj.cast::<PyBytes>() {
                    w.bytes_prefix(b.as_bytes());
                } else if let Ok(t) = obj.cast::<PyTuple>() {
                    w.begin_tuple();
                    for item in t.iter() {
                        write_any(&mut w, &item, 1)?;
                    }
                } else {
                    write_any(&mut w, obj, 0)?;
                }
            }
        }
        Ok(buf)
    }

    /// Builds the Python key from its encoding.
    #[inline]
    pub fn decode<'py>(self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Self::Bytes => Ok(PyBytes::new(py, data).into_any()),
            Self::Str => {
                let s = std::str::from_utf8(data)
                    .map_err(|_| Error::Decode("stored key is not valid UTF-8".into()))?;
                Ok(PyString::new(py, s).into_any())
            }
            Self::Any | Self::Int => {
                let mut r = KeyReader::new(data);
                let out = read_any(py, &mut r)?
                    .ok_or_else(|| Error::Decode("malformed key: empty".into()))?;
                if !r.at_end() {
                    return Err(Error::Decode("malformed key: trailing bytes".into()).into());
                }
                // The int codec only ever writes ints: anything else stored
                // under it is damage, not a value to hand back.
                if self == Self::Int && !out.is_exact_instance_of::<pyo3::types::PyInt>() {
                    return Err(Error::Decode(format!(
                        "malformed key: an int space holds a {} key",
                        out.get_type().name()?
                    ))
                    .into());
                }
                Ok(out)
            }
        }
    }

    fn type_error(self, obj: &Bound<'_, PyAny>) -> PyErr {
        let tn = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        let want = match self {
            Self::Bytes => "bytes",
            Self::Str => "str",
            Self::Int => "int",
            Self::Any => "None, bool, int, float, str, bytes or a tuple of those",
        };
        PyTypeError::new_err(format!(
            "keys of this space ({} codec) must be {want}, not {tn}",
            self.name()
        ))
    }
}

fn write_int(w: &mut KeyWriter<'_>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(v) = obj.extract::<i64>() {
        w.i64(v);
        return Ok(());
    }
    // Big int: sign and big-endian magnitude via int.to_bytes.
    let py = obj.py();
    let negative = obj.lt(0)?;
    let mag_obj = obj.call_method0("__abs__")?;
    let bits: usize = mag_obj.call_method0("bit_length")?.extract()?;
    let nbytes = bits.div_ceil(8);
    if nbytes > crate::engine::MAX_KEY_SIZE {
        return Err(invalid(format!(
            "int key of {bits} bits is larger than the key size limit"
        )));
    }
    let mag = mag_obj.call_method1("to_bytes", (nbytes, pyo3::intern!(py, "big")))?;
    let mag = mag.cast::<PyBytes>()?;
    w.int_magnitude(negative, mag.as_bytes());
    Ok(())
}

/// Appends `obj` to a key being written with the `"any"` codec: the bytes
/// a document's primary-key field gets, computed from the Python value
/// instead of from the encoded document.
pub fn write_any_part(w: &mut KeyWriter<'_>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    write_any(w, obj, 0)
}

fn write_any(w: &mut KeyWriter<'_>, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
    if obj.is_exact_instance_of::<PyString>() {
        // SAFETY-free: the cast cannot fail after the exact check.
        let s = obj.cast::<PyString>()?;
        w.str(&s.to_cow()?);
    } else if obj.is_exact_instance_of::<PyInt>() {
        write_int(w, obj)?;
    } else if obj.is_exact_instance_of::<PyBytes>() {
        w.bytes(obj.cast::<PyBytes>()?.as_bytes());
    } else if obj.is_exact_instance_of::<PyTuple>() {
        write_tuple(w, obj.cast::<PyTuple>()?, depth)?;
    } else if obj.is_exact_instance_of::<PyFloat>() {
        w.f64(obj.cast::<PyFloat>()?.value());
    } else if obj.is_none() {
        w.none();
    } else if obj.is_exact_instance_of::<PyBool>() {
        w.bool(obj.is_truthy()?);
    } else {
        write_any_cold(w, obj, depth)?;
    }
    Ok(())
}

#[cold]
fn write_any_cold(w: &mut KeyWriter<'_>, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
    if obj.is_instance_of::<PyBool>() {
        w.bool(obj.is_truthy()?);
    } else if obj.is_instance_of::<PyInt>() {
        write_int(w, obj)?;
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        w.f64(f.value());
    } else if let Ok(s) = obj.cast::<PyString>() {
        w.str(&s.to_cow()?);
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        w.bytes(b.as_bytes());
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        write_tuple(w, t, depth)?;
    } else {
        return Err(KeyCodec::Any.type_error(obj));
    }
    Ok(())
}

fn write_tuple(w: &mut KeyWriter<'_>, t: &Bound<'_, PyTuple>, depth: usize) -> PyResult<()> {
    if depth >= MAX_DEPTH {
        return Err(invalid(format!(
            "key tuples may nest at most {MAX_DEPTH} levels"
        )));
    }
    w.begin_tuple();
    for item in t.iter() {
        write_any(w, &item, depth + 1)?;
    }
    w.end_tuple();
    Ok(())
}

fn int_from_magnitude<'py>(
    py: Python<'py>,
    negative: bool,
    mag: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    if mag.len() <= 8 {
        let mut v: u64 = 0;
        for b in mag {
            v = (v << 8) | u64::from(*b);
        }
        let v = i128::from(v);
        return Ok((if negative { -v } else { v })
            .into_pyobject(py)?
            .into_any());
    }
    let int_type = py.get_type::<PyInt>();
    let v = int_type.call_method1(
        pyo3::intern!(py, "from_bytes"),
        (PyBytes::new(py, mag), pyo3::intern!(py, "big")),
    )?;
    if negative {
        v.neg()
    } else {
        Ok(v)
    }
}

/// Reads one element; `Ok(None)` at the end of the enclosing tuple.
fn read_any<'py>(py: Python<'py>, r: &mut KeyReader<'_>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let tok = r
        .next_token()?
        .ok_or_else(|| Error::Decode("malformed key: truncated".into()))?;
    Ok(Some(match tok {
        Token::TupleEnd => return Ok(None),
        Token::None => py.None().into_bound(py),
        Token::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        Token::Int {
            negative,
            magnitude,
        } => int_from_magnitude(py, negative, &magnitude)?,
        Token::Float(f) => PyFloat::new(py, f).into_any(),
        Token::Str(s) => PyString::new(py, &s).into_any(),
        Token::Bytes(b) => PyBytes::new(py, &b).into_any(),
        Token::TupleStart => {
            let mut items = Vec::new();
            while let Some(item) = read_any(py, r)? {
                items.push(item);
            }
            PyTuple::new(py, items)?.into_any()
        }
    }))
}
