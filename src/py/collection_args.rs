//! Arguments of `Collection` methods, from Python to the engine: filters
//! (with callable predicates), sorts, projections, index fields, generated
//! ids; and results back (documents in bulk, `explain` reports).

use super::convert::msgpack::{self, Mode};
use crate::codec::doc;
use crate::error::Error;
use crate::query::shape::{Projection, Sort};
use crate::query::{self, Filter};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub(super) const DOCUMENT: Mode = Mode {
    str_keys: true,
    patterns: false,
};
pub(super) const FILTER: Mode = Mode {
    str_keys: true,
    patterns: true,
};

/// ObjectId-like ids: 4 bytes of seconds, 5 random bytes per process, a
/// 3-byte counter; 24 hex characters, increasing within a process.
pub(super) fn new_object_id() -> String {
    static PROCESS: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let random = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(u64::from(std::process::id()));
        h.finish()
    };
    let process = *PROCESS.get_or_init(|| {
        COUNTER.store((random() as u32) & 0x3F_FFFF, Ordering::Relaxed);
        random()
    });
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as u32;
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xFF_FFFF;
    format!("{secs:08x}{:010x}{count:06x}", process & 0xFF_FFFF_FFFF)
}

/// Encodes a Python filter (`None` = everything) into the query AST.
pub(super) fn parse_filter(filter: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Filter>> {
    let Some(f) = filter.filter(|f| !f.is_none()) else {
        return Ok(None);
    };
    if !f.is_instance_of::<PyDict>() {
        return Err(Error::Query("a filter must be a dict".into()).into());
    }
    let mut buf = Vec::new();
    msgpack::write_with(&mut buf, f, FILTER).map_err(|e| {
        Python::attach(|py| {
            // Values a filter cannot hold, and filters nested too deeply,
            // are query errors here.
            let bad_value = e.is_instance_of::<PyTypeError>(py)
                || super::errors::invalid_argument_type(py)
                    .is_ok_and(|t| e.is_instance(py, t.as_any()));
            if bad_value {
                PyErr::from(Error::Query(format!("unusable filter: {e}")))
            } else {
                e
            }
        })
    })?;
    let value = doc::parse(&buf)?;
    let parsed = query::parse(&value)?;
    Ok(Some(parsed))
}

/// A filter argument: the part evaluated in Rust, and a Python predicate
/// (a callable given as the filter, or as `"$where"` in a filter document)
/// applied to the documents the Rust part lets through.
pub(super) struct Query {
    pub(super) filter: Option<Filter>,
    pub(super) predicate: Option<Py<PyAny>>,
}

pub(super) fn parse_query(filter: Option<&Bound<'_, PyAny>>) -> PyResult<Query> {
    let Some(f) = filter.filter(|f| !f.is_none()) else {
        return Ok(Query {
            filter: None,
            predicate: None,
        });
    };
    if !f.is_instance_of::<PyDict>() && f.is_callable() {
        return Ok(Query {
            filter: None,
            predicate: Some(f.clone().unbind()),
        });
    }
    if let Ok(d) = f.cast::<PyDict>() {
        if let Some(w) = d.get_item("$where")? {
            if !w.is_callable() {
                return Err(
                    Error::Query("$where needs a callable taking the document".into()).into(),
                );
            }
            let rest = d.copy()?;
            rest.del_item("$where")?;
            return Ok(Query {
                filter: parse_filter(Some(rest.as_any()))?,
                predicate: Some(w.unbind()),
            });
        }
    }
    Ok(Query {
        filter: parse_filter(Some(f))?,
        predicate: None,
    })
}

/// Builds many documents with the cyclic garbage collector paused: the
/// documents are acyclic, and collections triggered by every few hundred
/// new dicts were more than half the cost of a large result.
pub(super) fn decode_all<'py>(
    py: Python<'py>,
    raw: &[fjall::Slice],
) -> PyResult<Bound<'py, PyList>> {
    static GC: pyo3::sync::PyOnceLock<Py<PyModule>> = pyo3::sync::PyOnceLock::new();
    let out = PyList::empty(py);
    let gc = if raw.len() > 256 {
        let gc = GC
            .get_or_try_init(py, || Ok::<_, PyErr>(py.import("gc")?.unbind()))?
            .bind(py);
        let was_enabled: bool = gc.call_method0("isenabled")?.extract()?;
        if was_enabled {
            gc.call_method0("disable")?;
            Some(gc)
        } else {
            None
        }
    } else {
        None
    };
    let mut keys = msgpack::KeyCache::default();
    let result = raw
        .iter()
        .try_for_each(|v| out.append(msgpack::read_cached(py, v, &mut keys)?));
    if let Some(gc) = gc {
        gc.call_method0("enable")?;
    }
    result.map(|()| out)
}

/// `sort`: a field name, a dict `{field: 1 | -1}` or pairs `[(field, dir)]`.
pub(super) fn parse_sort(sort: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Sort>> {
    let Some(s) = sort.filter(|s| !s.is_none()) else {
        return Ok(None);
    };
    let py = s.py();
    let pairs = PyList::empty(py);
    if s.is_instance_of::<PyString>() {
        pairs.append((s, 1))?;
    } else if let Ok(d) = s.cast::<PyDict>() {
        for (k, v) in d.iter() {
            pairs.append((k, v))?;
        }
    } else {
        for item in s.try_iter()? {
            pairs.append(item?)?;
        }
    }
    let mut buf = Vec::new();
    msgpack::write_with(&mut buf, pairs.as_any(), FILTER)
        .map_err(|e| PyErr::from(Error::Query(format!("unusable sort: {e}"))))?;
    Ok(Some(Sort::parse(&doc::parse(&buf)?)?))
}

/// `projection`: a dict `{field: 1 | 0}` or a list of fields to keep.
pub(super) fn parse_projection(
    projection: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Projection>> {
    let Some(p) = projection.filter(|p| !p.is_none()) else {
        return Ok(None);
    };
    let py = p.py();
    let spec = if p.is_instance_of::<PyDict>() {
        p.clone()
    } else {
        let d = PyDict::new(py);
        for field in p.try_iter()? {
            d.set_item(field?, 1)?;
        }
        d.into_any()
    };
    let mut buf = Vec::new();
    msgpack::write_with(&mut buf, &spec, FILTER)
        .map_err(|e| PyErr::from(Error::Query(format!("unusable projection: {e}"))))?;
    Ok(Some(Projection::parse(&doc::parse(&buf)?)?))
}

/// Index fields: `"a.b"`, `["a", "b"]`, `[("a", 1), ("b", -1)]` or
/// `{"a": 1, "b": -1}`.
pub(super) fn parse_index_fields(fields: &Bound<'_, PyAny>) -> PyResult<Vec<(String, i8)>> {
    let bad = || {
        PyTypeError::new_err(
            "index fields must be a field name, a list of names, a list of (name, 1 | -1) pairs \
         or a dict {name: 1 | -1}",
        )
    };
    let one = |item: &Bound<'_, PyAny>| -> PyResult<(String, i8)> {
        if let Ok(s) = item.cast::<PyString>() {
            return Ok((s.to_cow()?.into_owned(), 1));
        }
        let t = item.cast::<PyTuple>().map_err(|_| bad())?;
        if t.len() != 2 {
            return Err(bad());
        }
        let name = t
            .get_item(0)?
            .cast::<PyString>()
            .map_err(|_| bad())?
            .to_cow()?
            .into_owned();
        let dir: i64 = t.get_item(1)?.extract().map_err(|_| bad())?;
        Ok((name, i8::try_from(dir).unwrap_or(0)))
    };
    if fields.is_instance_of::<PyString>() {
        return Ok(vec![one(fields)?]);
    }
    if let Ok(d) = fields.cast::<PyDict>() {
        return d
            .iter()
            .map(|(k, v)| one(&PyTuple::new(fields.py(), [k, v])?.into_any()))
            .collect();
    }
    fields
        .try_iter()
        .map_err(|_| bad())?
        .map(|i| one(&i?))
        .collect()
}

/// `explain()`'s dict for a plan and what it read.
pub(super) fn explain_dict<'py>(
    py: Python<'py>,
    access: &crate::collection::plan::Access,
    stats: &crate::collection::Stats,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::collection::plan::Access;
    let d = PyDict::new(py);
    match access {
        Access::Scan => {
            d.set_item("access", "scan")?;
            d.set_item("index", py.None())?;
        }
        Access::Keys(keys) => {
            d.set_item("access", "primary_key")?;
            d.set_item("index", py.None())?;
            d.set_item("keys", keys.len())?;
        }
        Access::Union(plans) => {
            d.set_item("access", "union")?;
            d.set_item("index", py.None())?;
            let branches = PyList::empty(py);
            for p in plans {
                branches.append(match p {
                    Access::Index(scan) => scan.def.spec.name.clone(),
                    Access::KeyRange(_) => "key_range".to_string(),
                    Access::Keys(_) => "primary_key".to_string(),
                    Access::Scan | Access::Union(_) => "scan".to_string(),
                })?;
            }
            d.set_item("branches", branches)?;
        }
        Access::KeyRange(kr) => {
            d.set_item("access", "key_range")?;
            d.set_item("index", py.None())?;
            d.set_item("equality_fields", kr.eq_fields)?;
            d.set_item("range_field", kr.range_field)?;
            d.set_item("covered", kr.covered)?;
            d.set_item("reverse", kr.reverse)?;
        }
        Access::Index(scan) => {
            d.set_item("access", "index")?;
            d.set_item("index", &scan.def.spec.name)?;
            d.set_item("ranges", scan.ranges.len())?;
            d.set_item("equality_fields", scan.eq_fields)?;
            d.set_item("range_field", scan.range_field)?;
            d.set_item("covered", scan.covered)?;
            d.set_item("ordered", scan.ordered.is_some())?;
        }
    }
    d.set_item("keys_examined", stats.keys_examined)?;
    d.set_item("docs_examined", stats.docs_examined)?;
    d.set_item("returned", stats.returned)?;
    Ok(d)
}

/// Key fields must be scalars or tuples of them; a list (stored the same
/// way as a tuple) is refused, as a dict refuses it as a key.
pub(super) fn check_key_value(field: &str, v: &Bound<'_, PyAny>) -> PyResult<()> {
    use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt};
    if v.is_none()
        || v.is_instance_of::<PyBool>()
        || v.is_instance_of::<PyInt>()
        || v.is_instance_of::<PyFloat>()
        || v.is_instance_of::<PyString>()
        || v.is_instance_of::<PyBytes>()
    {
        return Ok(());
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return t.iter().try_for_each(|item| check_key_value(field, &item));
    }
    Err(PyTypeError::new_err(format!(
        "primary-key field {field:?} must be None, bool, int, float, str, bytes or a tuple \
         of those, not {}",
        v.get_type().name()?
    )))
}
