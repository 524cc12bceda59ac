//! What `KV`, `TxKV` and `SnapshotKV` share: one space of a store, its
//! codecs, and where reads come from (latest data, a snapshot, or a
//! transaction).

use super::convert::{key::KeyCodec, value::ValueCodec};
use super::cursor::{PyCursor, Yield};
use super::range;
use crate::engine::{Cursor, RangeSpec, SnapshotHandle, Source, SpaceId, Store, Transaction};
use crate::error::Error;
use fjall::Slice;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::PySlice;
use std::ops::Bound as B;
use std::sync::Arc;

/// One opened space and its codecs.
#[derive(Clone)]
pub struct SpaceRef {
    /// The store.
    pub store: Arc<Store>,
    /// The space inside it.
    pub space: SpaceId,
    /// The space's user name.
    pub name: String,
    /// Key codec.
    pub key: KeyCodec,
    /// Value codec.
    pub value: ValueCodec,
}

/// Where reads come from.
#[derive(Clone)]
pub enum Reader {
    /// The latest committed data.
    Latest,
    /// A snapshot.
    Snapshot(Arc<SnapshotHandle>),
    /// A transaction (sees its own writes).
    Tx(Arc<Transaction>),
}

/// A space seen through a reader (borrowed from the Python object, so
/// building one per call costs nothing).
pub struct View<'a> {
    /// The space.
    pub sp: &'a SpaceRef,
    /// The read source.
    pub reader: &'a Reader,
}

impl View<'_> {
    /// Raw value of an encoded key.
    pub fn get_raw(&self, py: Python<'_>, key: &[u8]) -> PyResult<Option<Slice>> {
        let space = self.sp.space;
        Ok(match self.reader {
            Reader::Latest => self.sp.store.get(space, key)?,
            Reader::Snapshot(s) => s.get(space, key)?,
            Reader::Tx(t) => {
                let t = t.clone();
                let key = key.to_vec();
                py.detach(move || t.get(space, &key))?
            }
        })
    }

    /// `view[key]`, or a cursor for a slice.
    pub fn getitem(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(slice) = key.cast::<PySlice>() {
            let spec = range::from_slice(self.sp.key, slice)?;
            return Ok(self
                .cursor(spec, Yield::Items)?
                .into_pyobject(py)?
                .into_any()
                .unbind());
        }
        let enc = self.sp.key.encode_cow(key)?;
        match self.get_raw(py, &enc)? {
            Some(v) => Ok(self.sp.value.decode(py, &v)?.unbind()),
            None => Err(PyKeyError::new_err((key.clone().unbind(),))),
        }
    }

    /// `view.get(key, default)`.
    pub fn get(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        default: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let enc = self.sp.key.encode_cow(key)?;
        match self.get_raw(py, &enc)? {
            Some(v) => Ok(self.sp.value.decode(py, &v)?.unbind()),
            None => Ok(default.unwrap_or_else(|| py.None())),
        }
    }

    /// `key in view`.
    pub fn contains(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let enc = self.sp.key.encode_cow(key)?;
        let space = self.sp.space;
        Ok(match self.reader {
            Reader::Latest => self.sp.store.contains(space, &enc)?,
            Reader::Snapshot(s) => s.get(space, &enc)?.is_some(),
            Reader::Tx(t) => {
                let t = t.clone();
                py.detach(move || t.contains(space, &enc))?
            }
        })
    }

    fn source(&self) -> PyResult<Source> {
        Ok(match self.reader {
            Reader::Latest => Source::Snapshot(self.sp.store.snapshot()?),
            Reader::Snapshot(s) => Source::Snapshot(s.fjall()?),
            Reader::Tx(t) => Source::Tx(t.clone()),
        })
    }

    /// A cursor over `spec`.
    pub fn cursor(&self, mut spec: RangeSpec, mode: Yield) -> PyResult<PyCursor> {
        spec.keys_only = mode == Yield::Keys;
        let c = Cursor::open(&self.sp.store, self.sp.space, self.source()?, spec)?;
        Ok(PyCursor::new(c, self.sp.key, self.sp.value, mode))
    }

    /// `cursor(start, stop, ...)` from Python arguments.
    #[allow(clippy::too_many_arguments)]
    pub fn cursor_from_args(
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
        let mode = match (keys, values) {
            (true, true) => Yield::Items,
            (true, false) => Yield::Keys,
            (false, true) => Yield::Values,
            (false, false) => {
                return Err(super::errors::invalid(
                    "a cursor must yield keys, values or both",
                ))
            }
        };
        let spec = range::from_args(
            self.sp.key,
            start,
            stop,
            prefix,
            reverse,
            include_start,
            include_stop,
            !values,
        )?;
        self.cursor(spec, mode)
    }

    /// All keys in order (or reversed).
    pub fn iter_keys(&self, reverse: bool) -> PyResult<PyCursor> {
        let spec = RangeSpec {
            lo: B::Unbounded,
            hi: B::Unbounded,
            reverse,
            keys_only: true,
        };
        self.cursor(spec, Yield::Keys)
    }

    /// Exact number of keys (counts with the GIL released).
    pub fn len(&self, py: Python<'_>) -> PyResult<usize> {
        match self.reader {
            Reader::Latest => {
                let store = self.sp.store.clone();
                let space = self.sp.space;
                Ok(py.detach(move || store.count(space, B::Unbounded, B::Unbounded))?)
            }
            _ => {
                let cur = self.iter_keys(false)?;
                let mut n = 0usize;
                loop {
                    let batch = cur.fetch_count(py, 4096)?;
                    n += batch;
                    if batch < 4096 {
                        return Ok(n);
                    }
                }
            }
        }
    }

    /// First or last `(key, value)`, or `None`.
    pub fn edge(&self, py: Python<'_>, last: bool) -> PyResult<Option<Py<PyAny>>> {
        let item = match self.reader {
            Reader::Latest => self.sp.store.edge(self.sp.space, last)?,
            _ => {
                let spec = RangeSpec {
                    lo: B::Unbounded,
                    hi: B::Unbounded,
                    reverse: last,
                    keys_only: false,
                };
                let c = Cursor::open(&self.sp.store, self.sp.space, self.source()?, spec)?;
                let got = py.detach(move || c.next_batch(1))?;
                got.into_iter()
                    .next()
                    .map(|(k, v)| (k, v.unwrap_or_default()))
            }
        };
        match item {
            Some((k, v)) => {
                let key = self.sp.key.decode(py, &k)?;
                let val = self.sp.value.decode(py, &v)?;
                Ok(Some((key, val).into_pyobject(py)?.into_any().unbind()))
            }
            None => Ok(None),
        }
    }
}

/// Maps "closed" for handle-level checks.
pub fn closed_handle(what: &'static str) -> PyErr {
    Error::Closed(what).into()
}
