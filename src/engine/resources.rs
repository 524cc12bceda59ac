//! Registry of long-lived objects (cursors, transactions, snapshots) that
//! hold engine state. `Store::close` invalidates them all, so no fjall
//! handle outlives the store and the directory lock is really released.

use parking_lot::Mutex;
use std::sync::{Arc, Weak};

/// Something that holds engine state and can drop it on demand.
pub trait Resource: Send + Sync {
    /// Drops the engine state; later use reports "closed".
    fn invalidate(&self);
}

/// Weak references to every live resource of one store.
#[derive(Default)]
pub struct Registry {
    items: Mutex<Items>,
}

#[derive(Default)]
struct Items {
    live: Vec<Weak<dyn Resource>>,
    prune_at: usize,
}

impl Registry {
    /// Tracks `res` until it is dropped or invalidated.
    pub fn register<R: Resource + 'static>(&self, res: &Arc<R>) {
        let weak: Weak<dyn Resource> = Arc::downgrade(res) as Weak<dyn Resource>;
        let mut items = self.items.lock();
        if items.live.len() >= items.prune_at {
            items.live.retain(|w| w.strong_count() > 0);
            items.prune_at = (items.live.len() * 2).max(64);
        }
        items.live.push(weak);
    }

    /// Invalidates every live resource and forgets them all.
    pub fn invalidate_all(&self) {
        let live = std::mem::take(&mut self.items.lock().live);
        for weak in live {
            if let Some(res) = weak.upgrade() {
                res.invalidate();
            }
        }
    }
}
