//! `Cursor`: a Python iterator over an engine cursor, fetched in batches
//! (raw bytes collected with the GIL released, Python objects built after).

use super::convert::{key::KeyCodec, value::ValueCodec};
use crate::engine::{self, cursor::Item};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::collections::VecDeque;
use std::sync::Arc;

/// What each iteration step yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Yield {
    /// `(key, value)` tuples.
    Items,
    /// Keys only.
    Keys,
    /// Values only.
    Values,
}

const FIRST_BATCH: usize = 64;
const MAX_BATCH: usize = 2048;

/// Raw items fetched ahead; Python objects are built one by one as they
/// are asked for, so fetching ahead costs no object that is never used.
struct Buffer {
    items: VecDeque<Item>,
    next_batch: usize,
    exhausted: bool,
}

/// An iterator over a range of a space, reading from one point in time.
#[pyclass(frozen, name = "Cursor", module = "shoal._core")]
pub struct PyCursor {
    inner: Arc<engine::Cursor>,
    key: KeyCodec,
    value: ValueCodec,
    mode: Yield,
    buf: Mutex<Buffer>,
}

impl PyCursor {
    /// Wraps an engine cursor.
    pub fn new(inner: Arc<engine::Cursor>, key: KeyCodec, value: ValueCodec, mode: Yield) -> Self {
        Self {
            inner,
            key,
            value,
            mode,
            buf: Mutex::new(Buffer {
                items: VecDeque::new(),
                next_batch: FIRST_BATCH,
                exhausted: false,
            }),
        }
    }

    fn build<'py>(&self, py: Python<'py>, item: &Item) -> PyResult<Bound<'py, PyAny>> {
        let (k, v) = item;
        Ok(match self.mode {
            Yield::Keys => self.key.decode(py, k)?,
            Yield::Values => self.value.decode(py, v.as_deref().unwrap_or_default())?,
            Yield::Items => {
                let key = self.key.decode(py, k)?;
                let val = self.value.decode(py, v.as_deref().unwrap_or_default())?;
                PyTuple::new(py, [key, val])?.into_any()
            }
        })
    }

    /// Fetches up to `n` raw items with the GIL released.
    fn fetch_raw(&self, py: Python<'_>, n: usize) -> PyResult<Vec<Item>> {
        let inner = self.inner.clone();
        Ok(py.detach(move || inner.next_batch(n))?)
    }
}

impl PyCursor {
    /// Advances over up to `n` items without building them; returns how
    /// many there were (used for counting).
    pub fn fetch_count(&self, py: Python<'_>, n: usize) -> PyResult<usize> {
        Ok(self.fetch_raw(py, n)?.len())
    }
}

#[pymethods]
impl PyCursor {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        if self.inner.is_closed() {
            return Err(crate::Error::Closed("cursor").into());
        }
        let n = {
            let mut buf = self.buf.lock();
            if let Some(item) = buf.items.pop_front() {
                drop(buf);
                return Ok(Some(self.build(py, &item)?.unbind()));
            }
            if buf.exhausted {
                return Ok(None);
            }
            let n = buf.next_batch;
            buf.next_batch = (n * 2).min(MAX_BATCH);
            n
        };
        // The buffer lock is not held here: never wait for the GIL while
        // holding it.
        let raw = self.fetch_raw(py, n)?;
        let mut buf = self.buf.lock();
        if raw.len() < n {
            buf.exhausted = true;
        }
        buf.items.extend(raw);
        let Some(item) = buf.items.pop_front() else {
            return Ok(None);
        };
        drop(buf);
        Ok(Some(self.build(py, &item)?.unbind()))
    }

    /// Up to `n` next items as a list (empty at the end).
    #[pyo3(signature = (n = 1000))]
    fn fetch(&self, py: Python<'_>, n: usize) -> PyResult<Vec<Py<PyAny>>> {
        if self.inner.is_closed() {
            return Err(crate::Error::Closed("cursor").into());
        }
        let mut raw: Vec<Item> = {
            let mut buf = self.buf.lock();
            let take = n.min(buf.items.len());
            buf.items.drain(..take).collect()
        };
        let want = n - raw.len();
        if want > 0 && !self.buf.lock().exhausted {
            let more = self.fetch_raw(py, want)?;
            if more.len() < want {
                self.buf.lock().exhausted = true;
            }
            raw.extend(more);
        }
        raw.iter()
            .map(|item| Ok(self.build(py, item)?.unbind()))
            .collect()
    }

    /// Repositions the cursor: forward, at the first key >= `key` (> when
    /// not `inclusive`); reverse, at the last key <= `key` (<). Never moves
    /// outside the bounds the cursor was opened with.
    #[pyo3(signature = (key, *, inclusive = true))]
    fn seek(&self, py: Python<'_>, key: &Bound<'_, PyAny>, inclusive: bool) -> PyResult<()> {
        let enc = self.key.encode_vec(key)?;
        let inner = self.inner.clone();
        py.detach(move || inner.seek(enc, inclusive))?;
        let mut buf = self.buf.lock();
        buf.items.clear();
        buf.exhausted = false;
        buf.next_batch = FIRST_BATCH;
        Ok(())
    }

    /// Releases the cursor's snapshot; further use raises `ClosedError`.
    fn close(&self) {
        self.inner.close();
        let mut buf = self.buf.lock();
        buf.items.clear();
        buf.exhausted = false;
    }

    /// Whether the cursor was closed (explicitly or by closing its store).
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        self.close();
        false
    }
}
