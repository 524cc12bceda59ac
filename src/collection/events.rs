//! Change events: every committed write to a watched collection is queued,
//! under the commit lock (so in commit order), with the document before and
//! after. The Python layer drains the queue after each call and hands the
//! events to the listeners, outside the commit: a listener cannot undo a
//! write, and never runs while a lock of the engine is held.

use crate::engine::{SpaceId, Store};
use crate::error::Result;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new document.
    Insert,
    /// A document written over by `put` or `replace`.
    Replace,
    /// A document changed by `update`.
    Update,
    /// A deleted document.
    Delete,
    /// A document removed because its time to live passed.
    Expire,
}

impl Action {
    /// Its name, as the Python events carry it.
    pub fn name(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Replace => "replace",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Expire => "expire",
        }
    }
}

/// One committed change of one document.
#[derive(Debug, Clone)]
pub struct Change {
    /// The collection's document space.
    pub space: SpaceId,
    /// What happened.
    pub action: Action,
    /// Encoded primary key.
    pub key: Vec<u8>,
    /// The document before (encoded), if it existed.
    pub old: Option<Vec<u8>>,
    /// The document after (encoded), if it exists.
    pub new: Option<Vec<u8>>,
}

/// The per-store queue of committed changes, and which collections are
/// watched (writes to others record nothing).
#[derive(Default)]
pub struct EventLog {
    queue: Mutex<VecDeque<Change>>,
    watched: Mutex<HashMap<SpaceId, usize>>,
}

/// The attachment slot of the event log (no space has this id).
const SLOT: SpaceId = SpaceId::MAX;

impl EventLog {
    /// The store's event log.
    pub fn of(store: &Store) -> Result<Arc<EventLog>> {
        store.attachment(SLOT, || Ok(EventLog::default()))
    }

    /// Whether writes to `space` record events.
    pub fn is_watched(&self, space: SpaceId) -> bool {
        self.watched.lock().get(&space).is_some_and(|n| *n > 0)
    }

    /// One more (or, with `on = false`, one fewer) listener of `space`.
    pub fn watch(&self, space: SpaceId, on: bool) {
        let mut w = self.watched.lock();
        let n = w.entry(space).or_default();
        *n = if on { *n + 1 } else { n.saturating_sub(1) };
    }

    /// Queues committed changes (call under the commit lock).
    pub fn push(&self, changes: Vec<Change>) {
        self.queue.lock().extend(changes);
    }

    /// Whether no change is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    /// Takes every queued change, oldest first.
    pub fn drain(&self) -> Vec<Change> {
        self.queue.lock().drain(..).collect()
    }
}
