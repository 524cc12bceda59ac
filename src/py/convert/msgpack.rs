//! Python objects <-> MessagePack, written and read directly (no
//! intermediate tree), dispatching on the exact type.
//!
//! Supported: None, bool, int (any size), float, str, bytes (and
//! bytearray, read back as bytes), list and tuple (read back as list), dict
//! with scalar keys (str keys only in documents), and as extension types:
//!
//! | ext | type | payload |
//! |---|---|---|
//! | 1 | int beyond 64 bits | sign byte, big-endian magnitude |
//! | 2 | `datetime.datetime` | wall-clock µs since 1970-01-01 (i64 BE), then `0` (naive) or `1` and the UTC offset in µs (i64 BE) |
//! | 3 | `uuid.UUID` | 16 bytes |
//! | 4 | `decimal.Decimal` | `str(value)` |
//! | 5 | `re.Pattern` (filters only, never stored) | flags byte (i=1, m=2, s=4, x=8), pattern |
//!
//! Nesting is limited to [`MAX_DEPTH`] levels. Anything else is a
//! `TypeError` before anything is written.

use crate::codec::doc::{EXT_BIGINT, EXT_DATETIME, EXT_DECIMAL, EXT_REGEX, EXT_UUID};
use crate::error::Error;
use crate::py::errors::invalid;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple,
};
use rmp::encode as enc;
use rmp::Marker;

/// Deepest nesting of lists and dicts accepted.
pub const MAX_DEPTH: usize = 100;

/// What the writer accepts beyond plain values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mode {
    /// Documents: every dict key must be a str.
    pub str_keys: bool,
    /// Filters: compiled `re.Pattern` values are allowed.
    pub patterns: bool,
}

static DATETIME: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
static TIMEDELTA: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
static TIMEZONE: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
static DECIMAL: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();
static PATTERN: PyOnceLock<Py<pyo3::types::PyType>> = PyOnceLock::new();

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Appends the MessagePack encoding of `obj` to `buf`.
pub fn write(buf: &mut Vec<u8>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    write_value(buf, obj, 0, Mode::default())
}

/// Appends `obj` encoded with the rules of `mode`.
pub fn write_with(buf: &mut Vec<u8>, obj: &Bound<'_, PyAny>, mode: Mode) -> PyResult<()> {
    write_value(buf, obj, 0, mode)
}

fn write_value(
    buf: &mut Vec<u8>,
    obj: &Bound<'_, PyAny>,
    depth: usize,
    mode: Mode,
) -> PyResult<()> {
    // Writing into a Vec cannot fail, so rmp's io errors are unreachable.
    if obj.is_exact_instance_of::<PyString>() {
        write_str(buf, obj.cast::<PyString>()?)
    } else if obj.is_exact_instance_of::<PyInt>() {
        write_int(buf, obj)
    } else if obj.is_exact_instance_of::<PyFloat>() {
        let _ = enc::write_f64(buf, obj.cast::<PyFloat>()?.value());
        Ok(())
    } else if obj.is_exact_instance_of::<PyDict>() {
        write_dict(buf, obj.cast::<PyDict>()?, depth, mode)
    } else if obj.is_exact_instance_of::<PyList>() {
        let l = obj.cast::<PyList>()?;
        write_seq(buf, l.len(), l.iter(), depth, mode)
    } else if obj.is_none() {
        enc::write_nil(buf).ok();
        Ok(())
    } else if obj.is_exact_instance_of::<PyBool>() {
        let _ = enc::write_bool(buf, obj.is_truthy()?);
        Ok(())
    } else if obj.is_exact_instance_of::<PyBytes>() {
        write_bin(buf, obj.cast::<PyBytes>()?.as_bytes())
    } else if obj.is_exact_instance_of::<PyTuple>() {
        let t = obj.cast::<PyTuple>()?;
        write_seq(buf, t.len(), t.iter(), depth, mode)
    } else {
        write_value_cold(buf, obj, depth, mode)
    }
}

#[cold]
fn write_value_cold(
    buf: &mut Vec<u8>,
    obj: &Bound<'_, PyAny>,
    depth: usize,
    mode: Mode,
) -> PyResult<()> {
    if obj.is_instance_of::<PyBool>() {
        let _ = enc::write_bool(buf, obj.is_truthy()?);
        Ok(())
    } else if obj.is_instance_of::<PyInt>() {
        write_int(buf, obj)
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let _ = enc::write_f64(buf, f.value());
        Ok(())
    } else if let Ok(s) = obj.cast::<PyString>() {
        write_str(buf, s)
    } else if let Ok(b) = obj.cast::<PyBytes>() {
        write_bin(buf, b.as_bytes())
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        write_bin(buf, &b.to_vec())
    } else if let Ok(d) = obj.cast::<PyDict>() {
        write_dict(buf, d, depth, mode)
    } else if let Ok(l) = obj.cast::<PyList>() {
        write_seq(buf, l.len(), l.iter(), depth, mode)
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        write_seq(buf, t.len(), t.iter(), depth, mode)
    } else {
        write_extension(buf, obj, mode)
    }
}

fn ext(buf: &mut Vec<u8>, ty: i8, payload: &[u8]) -> PyResult<()> {
    let len = u32::try_from(payload.len()).map_err(|_| invalid("value too large"))?;
    let _ = enc::write_ext_meta(buf, len, ty);
    buf.extend_from_slice(payload);
    Ok(())
}

fn micros(delta: &Bound<'_, PyAny>) -> PyResult<i64> {
    let days: i64 = delta.getattr("days")?.extract()?;
    let secs: i64 = delta.getattr("seconds")?.extract()?;
    let us: i64 = delta.getattr("microseconds")?.extract()?;
    Ok((days * 86_400 + secs) * 1_000_000 + us)
}

fn epoch<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
    DATETIME
        .import(py, "datetime", "datetime")?
        .call1((1970, 1, 1))
}

/// datetime, UUID, Decimal (and re.Pattern in filters).
fn write_extension(buf: &mut Vec<u8>, obj: &Bound<'_, PyAny>, mode: Mode) -> PyResult<()> {
    let py = obj.py();
    if obj.is_instance(DATETIME.import(py, "datetime", "datetime")?)? {
        let offset = obj.call_method0("utcoffset")?;
        let wall = if offset.is_none() {
            obj.clone()
        } else {
            let kw = PyDict::new(py);
            kw.set_item("tzinfo", py.None())?;
            obj.call_method("replace", (), Some(&kw))?
        };
        let mut payload = micros(&wall.call_method1("__sub__", (epoch(py)?,))?)?
            .to_be_bytes()
            .to_vec();
        if offset.is_none() {
            payload.push(0);
        } else {
            payload.push(1);
            payload.extend_from_slice(&micros(&offset)?.to_be_bytes());
        }
        return ext(buf, EXT_DATETIME, &payload);
    }
    if obj.is_instance(UUID.import(py, "uuid", "UUID")?)? {
        let b = obj.getattr("bytes")?;
        return ext(buf, EXT_UUID, b.cast::<PyBytes>()?.as_bytes());
    }
    if obj.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        let text = obj.str()?;
        return ext(buf, EXT_DECIMAL, text.to_cow()?.as_bytes());
    }
    if mode.patterns && obj.is_instance(PATTERN.import(py, "re", "Pattern")?)? {
        let flags: i64 = obj.getattr("flags")?.extract()?;
        let pattern = obj.getattr("pattern")?;
        let pattern = pattern
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("only str regular expressions can be used"))?;
        // re.IGNORECASE=2, MULTILINE=8, DOTALL=16, VERBOSE=64
        let mut f = 0u8;
        for (bit, ours) in [(2, 1u8), (8, 2), (16, 4), (64, 8)] {
            if flags & bit != 0 {
                f |= ours;
            }
        }
        let mut payload = vec![f];
        payload.extend_from_slice(pattern.to_cow()?.as_bytes());
        return ext(buf, EXT_REGEX, &payload);
    }
    let what = if obj.is_instance(DATE.import(py, "datetime", "date")?)? {
        " (dates are not supported: store a datetime)"
    } else {
        ""
    };
    Err(PyTypeError::new_err(format!(
        "cannot store a value of type {}{what} (values are None, bool, int, float, str, \
         bytes, list, tuple, dict, datetime, UUID and Decimal)",
        type_name(obj)
    )))
}

fn write_str(buf: &mut Vec<u8>, s: &Bound<'_, PyString>) -> PyResult<()> {
    let text = s.to_cow()?;
    let _ = enc::write_str(buf, &text);
    Ok(())
}

fn write_bin(buf: &mut Vec<u8>, b: &[u8]) -> PyResult<()> {
    if b.len() > u32::MAX as usize {
        return Err(invalid("bytes value larger than 4 GiB"));
    }
    let _ = enc::write_bin(buf, b);
    Ok(())
}

fn write_int(buf: &mut Vec<u8>, obj: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(v) = obj.extract::<i64>() {
        let _ = enc::write_sint(buf, v);
        return Ok(());
    }
    if let Ok(v) = obj.extract::<u64>() {
        let _ = enc::write_uint(buf, v);
        return Ok(());
    }
    let py = obj.py();
    let negative = obj.lt(0)?;
    let mag_obj = obj.call_method0("__abs__")?;
    let bits: usize = mag_obj.call_method0("bit_length")?.extract()?;
    let nbytes = bits.div_ceil(8);
    let mag = mag_obj.call_method1("to_bytes", (nbytes, pyo3::intern!(py, "big")))?;
    let mag = mag.cast::<PyBytes>()?.as_bytes();
    let len = u32::try_from(mag.len() + 1).map_err(|_| invalid("int too large to store"))?;
    let _ = enc::write_ext_meta(buf, len, EXT_BIGINT);
    buf.push(u8::from(negative));
    buf.extend_from_slice(mag);
    Ok(())
}

fn write_seq<'py>(
    buf: &mut Vec<u8>,
    len: usize,
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    depth: usize,
    mode: Mode,
) -> PyResult<()> {
    if depth >= MAX_DEPTH {
        return Err(invalid(format!(
            "values may nest at most {MAX_DEPTH} levels"
        )));
    }
    let _ = enc::write_array_len(buf, len as u32);
    for item in items {
        write_value(buf, &item, depth + 1, mode)?;
    }
    Ok(())
}

fn write_dict(buf: &mut Vec<u8>, d: &Bound<'_, PyDict>, depth: usize, mode: Mode) -> PyResult<()> {
    if depth >= MAX_DEPTH {
        return Err(invalid(format!(
            "values may nest at most {MAX_DEPTH} levels"
        )));
    }
    let _ = enc::write_map_len(buf, d.len() as u32);
    for (k, v) in d.iter() {
        // Only keys that read back as the same hashable type: a tuple key
        // would come back as an (unhashable) list.
        if mode.str_keys && !k.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(format!(
                "document keys must be str, not {}",
                type_name(&k)
            )));
        }
        let scalar = k.is_none()
            || k.is_instance_of::<PyString>()
            || k.is_instance_of::<PyInt>()
            || k.is_instance_of::<PyFloat>()
            || k.is_instance_of::<PyBytes>();
        if !scalar {
            return Err(PyTypeError::new_err(format!(
                "cannot store a dict key of type {} (msgpack dict keys are None, bool, \
                 int, float, str or bytes)",
                type_name(&k)
            )));
        }
        write_value(buf, &k, depth + 1, mode)?;
        write_value(buf, &v, depth + 1, mode)?;
    }
    Ok(())
}

/// Dict keys already built while decoding a batch of documents: documents
/// repeat a few field names, and a cached key is a reference count, not a
/// new string to decode and hash. Lives for one batch, with the GIL held.
#[derive(Default)]
pub struct KeyCache {
    keys: std::collections::HashMap<Box<[u8]>, Py<PyString>>,
}

/// Most keys one cache holds.
const KEY_CACHE_SIZE: usize = 1024;

impl KeyCache {
    /// The dict key `raw` (a short UTF-8 string), from the cache when seen.
    fn key<'py>(&mut self, py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        if let Some(k) = self.keys.get(raw) {
            return Ok(k.bind(py).clone().into_any());
        }
        let s = std::str::from_utf8(raw).map_err(|_| bad("invalid UTF-8"))?;
        let k = PyString::new(py, s);
        if self.keys.len() < KEY_CACHE_SIZE {
            self.keys.insert(raw.into(), k.clone().unbind());
        }
        Ok(k.into_any())
    }
}

/// Reads MessagePack bytes back into Python objects, sharing `cache`'s dict
/// keys (use one cache for a batch of documents).
pub fn read_cached<'py>(
    py: Python<'py>,
    data: &[u8],
    cache: &mut KeyCache,
) -> PyResult<Bound<'py, PyAny>> {
    let mut r = Reader {
        data,
        pos: 0,
        keys: Some(cache),
    };
    let v = r.value(py, 0)?;
    if r.pos != data.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(v)
}

/// Reads MessagePack bytes back into Python objects.
pub fn read<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let mut r = Reader {
        data,
        pos: 0,
        keys: None,
    };
    let v = r.value(py, 0)?;
    if r.pos != data.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(v)
}

fn bad(what: &str) -> PyErr {
    Error::Decode(format!("malformed msgpack value: {what}")).into()
}

struct Reader<'a, 'c> {
    data: &'a [u8],
    pos: usize,
    keys: Option<&'c mut KeyCache>,
}

impl<'a> Reader<'a, '_> {
    fn take(&mut self, n: usize) -> PyResult<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or_else(|| bad("length overflow"))?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| bad("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> PyResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> PyResult<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn len_of(&mut self, bytes: usize) -> PyResult<usize> {
        Ok(match bytes {
            1 => usize::from(self.u8()?),
            2 => usize::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    fn value<'py>(&mut self, py: Python<'py>, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH + 1 {
            return Err(bad("nested too deeply"));
        }
        let marker = Marker::from_u8(self.u8()?);
        Ok(match marker {
            Marker::Null => py.None().into_bound(py),
            Marker::True => PyBool::new(py, true).to_owned().into_any(),
            Marker::False => PyBool::new(py, false).to_owned().into_any(),
            Marker::FixPos(v) => v.into_pyobject(py)?.into_any(),
            Marker::FixNeg(v) => v.into_pyobject(py)?.into_any(),
            Marker::U8 => self.u8()?.into_pyobject(py)?.into_any(),
            Marker::U16 => u16::from_be_bytes(self.be()?).into_pyobject(py)?.into_any(),
            Marker::U32 => u32::from_be_bytes(self.be()?).into_pyobject(py)?.into_any(),
            Marker::U64 => u64::from_be_bytes(self.be()?).into_pyobject(py)?.into_any(),
            Marker::I8 => i8::from_be_bytes(self.be()?).into_pyobject(py)?.into_any(),
            Marker::I16 => i16::from_be_bytes(self.be()?).into_pyobject(py)?.into_any(),
            Marker::I32 => i32::from_be_bytes(self.be()?).into_pyobject(py)?.into_any(),
            Marker::I64 => i64::from_be_bytes(self.be()?).into_pyobject(py)?.into_any(),
            Marker::F32 => PyFloat::new(py, f64::from(f32::from_be_bytes(self.be()?))).into_any(),
            Marker::F64 => PyFloat::new(py, f64::from_be_bytes(self.be()?)).into_any(),
            Marker::FixStr(n) => self.str(py, usize::from(n))?,
            Marker::Str8 => {
                let n = self.len_of(1)?;
                self.str(py, n)?
            }
            Marker::Str16 => {
                let n = self.len_of(2)?;
                self.str(py, n)?
            }
            Marker::Str32 => {
                let n = self.len_of(4)?;
                self.str(py, n)?
            }
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
                let w = match marker {
                    Marker::Bin8 => 1,
                    Marker::Bin16 => 2,
                    _ => 4,
                };
                let n = self.len_of(w)?;
                PyBytes::new(py, self.take(n)?).into_any()
            }
            Marker::FixArray(n) => self.array(py, usize::from(n), depth)?,
            Marker::Array16 => {
                let n = self.len_of(2)?;
                self.array(py, n, depth)?
            }
            Marker::Array32 => {
                let n = self.len_of(4)?;
                self.array(py, n, depth)?
            }
            Marker::FixMap(n) => self.map(py, usize::from(n), depth)?,
            Marker::Map16 => {
                let n = self.len_of(2)?;
                self.map(py, n, depth)?
            }
            Marker::Map32 => {
                let n = self.len_of(4)?;
                self.map(py, n, depth)?
            }
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16
            | Marker::Ext8
            | Marker::Ext16
            | Marker::Ext32 => {
                let n = match marker {
                    Marker::FixExt1 => 1,
                    Marker::FixExt2 => 2,
                    Marker::FixExt4 => 4,
                    Marker::FixExt8 => 8,
                    Marker::FixExt16 => 16,
                    Marker::Ext8 => self.len_of(1)?,
                    Marker::Ext16 => self.len_of(2)?,
                    _ => self.len_of(4)?,
                };
                let ty = self.u8()? as i8;
                let body = self.take(n)?;
                self.ext(py, ty, body)?
            }
            Marker::Reserved => return Err(bad("reserved marker")),
        })
    }

    fn str<'py>(&mut self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyAny>> {
        let raw = self.take(n)?;
        self.str_of(py, raw)
    }

    fn str_of<'py>(&self, py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        let s = std::str::from_utf8(raw).map_err(|_| bad("invalid UTF-8"))?;
        Ok(PyString::new(py, s).into_any())
    }

    fn array<'py>(
        &mut self,
        py: Python<'py>,
        n: usize,
        depth: usize,
    ) -> PyResult<Bound<'py, PyAny>> {
        if n > self.data.len() - self.pos {
            return Err(bad("array longer than the data"));
        }
        let list = PyList::empty(py);
        for _ in 0..n {
            list.append(self.value(py, depth + 1)?)?;
        }
        Ok(list.into_any())
    }

    fn map<'py>(&mut self, py: Python<'py>, n: usize, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        if n > self.data.len() - self.pos {
            return Err(bad("map longer than the data"));
        }
        let dict = PyDict::new(py);
        for _ in 0..n {
            let short_str = self
                .data
                .get(self.pos)
                .filter(|m| (0xa0..=0xbf).contains(*m) && self.keys.is_some())
                .copied();
            let k = match short_str {
                Some(m) => {
                    self.pos += 1;
                    let raw = self.take(usize::from(m & 0x1f))?;
                    match self.keys.as_deref_mut() {
                        Some(cache) => cache.key(py, raw)?,
                        None => self.str_of(py, raw)?,
                    }
                }
                None => self.value(py, depth + 1)?,
            };
            let v = self.value(py, depth + 1)?;
            dict.set_item(k, v)?;
        }
        Ok(dict.into_any())
    }

    fn ext<'py>(&mut self, py: Python<'py>, ty: i8, body: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        match ty {
            EXT_BIGINT => {
                let (sign, mag) = body.split_first().ok_or_else(|| bad("empty big int"))?;
                let v = py.get_type::<PyInt>().call_method1(
                    pyo3::intern!(py, "from_bytes"),
                    (PyBytes::new(py, mag), pyo3::intern!(py, "big")),
                )?;
                if *sign == 1 {
                    v.neg()
                } else {
                    Ok(v)
                }
            }
            EXT_DATETIME => {
                if body.len() != 9 && body.len() != 17 {
                    return Err(bad("datetime"));
                }
                let mut w = [0u8; 8];
                w.copy_from_slice(&body[..8]);
                let wall = i64::from_be_bytes(w);
                let td = TIMEDELTA.import(py, "datetime", "timedelta")?;
                let kw = PyDict::new(py);
                kw.set_item("microseconds", wall)?;
                let dt = epoch(py)?.call_method1("__add__", (td.call((), Some(&kw))?,))?;
                if body[8] == 0 {
                    return Ok(dt);
                }
                w.copy_from_slice(&body[9..17]);
                let kw = PyDict::new(py);
                kw.set_item("microseconds", i64::from_be_bytes(w))?;
                let tz = TIMEZONE
                    .import(py, "datetime", "timezone")?
                    .call1((td.call((), Some(&kw))?,))?;
                let kw = PyDict::new(py);
                kw.set_item("tzinfo", tz)?;
                dt.call_method("replace", (), Some(&kw))
            }
            EXT_UUID => {
                let kw = PyDict::new(py);
                kw.set_item("bytes", PyBytes::new(py, body))?;
                UUID.import(py, "uuid", "UUID")?.call((), Some(&kw))
            }
            EXT_DECIMAL => {
                let text = std::str::from_utf8(body).map_err(|_| bad("decimal"))?;
                DECIMAL.import(py, "decimal", "Decimal")?.call1((text,))
            }
            other => Err(bad(&format!("unknown extension type {other}"))),
        }
    }
}
