//! `DocumentCursor`: the documents of a query, streamed. A query that scans
//! the collection in key order reads it in batches from one snapshot (or
//! the transaction), evaluating the filter in Rust with the GIL released,
//! so memory stays bounded however large the collection; other plans
//! (index lookups, sorts) compute the matching documents' bytes at once.
//! Python objects are built only as documents are asked for.

use super::convert::msgpack;
use crate::codec::doc;
use crate::collection::Ttl;
use crate::engine::Cursor;
use crate::error::{Error, Result};
use crate::query::shape::Projection;
use crate::query::{self, Filter};
use fjall::Slice;
use parking_lot::Mutex;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use std::collections::VecDeque;
use std::sync::Arc;

/// Raw documents read per engine batch while scanning.
const SCAN_BATCH: usize = 1024;
/// Documents made ready per `__next__` refill.
const STEP: usize = 256;

/// What a scanning cursor checks (fixed for its life).
pub struct ScanSpec {
    /// The filter.
    pub filter: Option<Filter>,
    /// The time-to-live check.
    pub ttl: Option<Ttl>,
}

struct Scan {
    cursor: Arc<Cursor>,
    spec: Arc<ScanSpec>,
    skip: usize,
    left: Option<usize>,
}

struct State {
    scan: Option<Scan>,
    ready: VecDeque<Slice>,
    closed: bool,
}

/// A stream of documents (see the module docs).
#[pyclass(frozen, name = "DocumentCursor", module = "shoal._core")]
pub struct PyDocCursor {
    state: Mutex<State>,
    projection: Option<Projection>,
}

/// Reads scan batches until `want` documents match (or the end).
fn scan_some(
    cursor: &Cursor,
    spec: &ScanSpec,
    mut skip: usize,
    mut left: Option<usize>,
    want: usize,
) -> Result<(Vec<Slice>, usize, Option<usize>, bool)> {
    let mut out = Vec::new();
    loop {
        if left == Some(0) {
            return Ok((out, skip, left, true));
        }
        let batch = cursor.next_batch(SCAN_BATCH)?;
        let end = batch.len() < SCAN_BATCH;
        for (_, v) in batch {
            let Some(raw) = v else { continue };
            if let Some(t) = &spec.ttl {
                if t.expired(&raw)? {
                    continue;
                }
            }
            if let Some(f) = &spec.filter {
                if !query::matches(f, &doc::parse(&raw)?) {
                    continue;
                }
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if left == Some(0) {
                break;
            }
            left = left.map(|l| l - 1);
            out.push(raw);
        }
        if end || left == Some(0) {
            return Ok((out, skip, left, true));
        }
        if out.len() >= want {
            return Ok((out, skip, left, false));
        }
    }
}

impl PyDocCursor {
    /// A cursor scanning with `cursor`, keeping what `spec` accepts.
    pub fn scanning(
        cursor: Arc<Cursor>,
        spec: ScanSpec,
        skip: usize,
        limit: Option<usize>,
        projection: Option<Projection>,
    ) -> Self {
        Self {
            state: Mutex::new(State {
                scan: Some(Scan {
                    cursor,
                    spec: Arc::new(spec),
                    skip,
                    left: limit,
                }),
                ready: VecDeque::new(),
                closed: false,
            }),
            projection,
        }
    }

    /// A cursor over documents already found.
    pub fn ready(docs: Vec<Slice>, projection: Option<Projection>) -> Self {
        Self {
            state: Mutex::new(State {
                scan: None,
                ready: docs.into(),
                closed: false,
            }),
            projection,
        }
    }

    /// Up to `n` raw documents. Never waits for the lock while holding
    /// the GIL (a second thread using the cursor meanwhile is an error).
    fn take(&self, py: Python<'_>, n: usize) -> PyResult<Vec<Slice>> {
        let mut st = self
            .state
            .try_lock()
            .ok_or_else(|| PyRuntimeError::new_err("this cursor is in use by another thread"))?;
        if st.closed {
            return Err(Error::Closed("cursor").into());
        }
        if st.ready.len() < n {
            if let Some(scan) = st.scan.take() {
                let want = n - st.ready.len();
                let (cursor, spec) = (scan.cursor.clone(), scan.spec.clone());
                let (docs, skip, left, done) =
                    py.detach(|| scan_some(&cursor, &spec, scan.skip, scan.left, want))?;
                st.ready.extend(docs);
                if done {
                    scan.cursor.close();
                } else {
                    st.scan = Some(Scan { skip, left, ..scan });
                }
            }
        }
        let k = n.min(st.ready.len());
        Ok(st.ready.drain(..k).collect())
    }

    fn build<'py>(&self, py: Python<'py>, raw: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        match &self.projection {
            None => msgpack::read(py, raw),
            Some(p) => {
                let mut buf = Vec::with_capacity(raw.len());
                doc::encode(&p.apply(&doc::parse(raw)?), &mut buf);
                msgpack::read(py, &buf)
            }
        }
    }
}

#[pymethods]
impl PyDocCursor {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.take(py, 1)?.first() {
            Some(raw) => Ok(Some(self.build(py, raw)?)),
            None => Ok(None),
        }
    }

    /// Up to `n` more documents (fewer at the end).
    #[pyo3(signature = (n = 1000))]
    fn fetch<'py>(&self, py: Python<'py>, n: usize) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for raw in self.take(py, n)? {
            out.append(self.build(py, &raw)?)?;
        }
        Ok(out)
    }

    /// Every remaining document.
    fn to_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        loop {
            let batch = self.take(py, STEP * 16)?;
            if batch.is_empty() {
                return Ok(out);
            }
            for raw in &batch {
                out.append(self.build(py, raw)?)?;
            }
        }
    }

    /// Whether the cursor was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.state.try_lock().is_some_and(|st| st.closed)
    }

    /// Releases the snapshot and buffered documents. Idempotent.
    fn close(&self) -> PyResult<()> {
        let mut st = self
            .state
            .try_lock()
            .ok_or_else(|| PyRuntimeError::new_err("this cursor is in use by another thread"))?;
        if let Some(scan) = st.scan.take() {
            scan.cursor.close();
        }
        st.ready.clear();
        st.closed = true;
        Ok(())
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __exit__(
        &self,
        _t: &Bound<'_, PyAny>,
        _v: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        self.close()?;
        Ok(false)
    }
}
