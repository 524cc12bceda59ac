//! Change listeners: Python callables per collection, called with
//! `shoal.ChangeEvent` tuples for the changes the engine queued (see
//! `collection::events`), in commit order, after the commit.
//!
//! Delivery runs in whichever thread finds events queued after a call; one
//! thread delivers at a time (a flag, not a lock, so a listener may write to
//! the store: its own events are delivered after the current ones). A
//! listener that raises does not stop the others, nor undo anything: its
//! exception goes to `sys.unraisablehook`.

use super::convert::key::KeyCodec;
use super::convert::msgpack;
use crate::collection::events::{Change, EventLog};
use crate::engine::{SpaceId, Store};
use parking_lot::Mutex;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The attachment slot of the listeners (no space has this id).
const SLOT: SpaceId = SpaceId::MAX - 1;

/// A collection's name and its listeners.
type Watchers = (String, Vec<Py<PyAny>>);

/// The listeners of one store's collections.
#[derive(Default)]
pub struct Listeners {
    by_space: Mutex<HashMap<SpaceId, Watchers>>,
    busy: AtomicBool,
}

impl Listeners {
    /// The store's listeners.
    pub fn of(store: &Store) -> PyResult<Arc<Listeners>> {
        Ok(store.attachment(SLOT, || Ok(Listeners::default()))?)
    }

    /// Adds a listener of collection `name` (space `space`).
    pub fn add(&self, space: SpaceId, name: &str, listener: Py<PyAny>) {
        self.by_space
            .lock()
            .entry(space)
            .or_insert_with(|| (name.to_string(), Vec::new()))
            .1
            .push(listener);
    }

    /// Removes one registration of `listener` (compared with `==`); whether
    /// there was one.
    pub fn remove(&self, py: Python<'_>, space: SpaceId, listener: &Bound<'_, PyAny>) -> bool {
        let mut map = self.by_space.lock();
        let Some((_, list)) = map.get_mut(&space) else {
            return false;
        };
        let found = list
            .iter()
            .position(|l| l.bind(py).eq(listener).unwrap_or(false));
        if let Some(i) = found {
            list.remove(i);
        }
        found.is_some()
    }

    fn targets(&self, py: Python<'_>, space: SpaceId) -> Option<Watchers> {
        let map = self.by_space.lock();
        let (name, list) = map.get(&space)?;
        (!list.is_empty()).then(|| (name.clone(), list.iter().map(|l| l.clone_ref(py)).collect()))
    }
}

fn event<'py>(py: Python<'py>, collection: &str, ch: &Change) -> PyResult<Bound<'py, PyAny>> {
    static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let class = CLASS.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("shoal")?.getattr("ChangeEvent")?.unbind())
    })?;
    let doc = |d: &Option<Vec<u8>>| -> PyResult<Py<PyAny>> {
        match d {
            Some(raw) => Ok(msgpack::read(py, raw)?.unbind()),
            None => Ok(py.None()),
        }
    };
    class.bind(py).call1((
        collection,
        ch.action.name(),
        KeyCodec::Any.decode(py, &ch.key)?,
        doc(&ch.old)?,
        doc(&ch.new)?,
    ))
}

/// Delivers every queued change of `store` to its listeners (see the
/// module docs).
pub fn deliver(py: Python<'_>, store: &Store, log: &EventLog) -> PyResult<()> {
    if log.is_empty() {
        return Ok(());
    }
    let listeners = Listeners::of(store)?;
    if listeners.busy.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    loop {
        let batch = log.drain();
        if batch.is_empty() {
            listeners.busy.store(false, Ordering::SeqCst);
            // Queued after the drain, by a thread that saw us busy?
            if log.is_empty() || listeners.busy.swap(true, Ordering::SeqCst) {
                return Ok(());
            }
            continue;
        }
        for ch in &batch {
            let Some((name, targets)) = listeners.targets(py, ch.space) else {
                continue;
            };
            let ev = match event(py, &name, ch) {
                Ok(ev) => ev,
                Err(e) => {
                    e.write_unraisable(py, None);
                    continue;
                }
            };
            for t in targets {
                if let Err(e) = t.call1(py, (ev.clone(),)) {
                    e.write_unraisable(py, Some(t.bind(py)));
                }
            }
        }
    }
}

/// Delivers the queued changes of `store`, if it has an event log.
pub fn deliver_for(py: Python<'_>, store: &Store) -> PyResult<()> {
    match EventLog::of(store) {
        Ok(log) => deliver(py, store, &log),
        Err(_) => Ok(()),
    }
}
