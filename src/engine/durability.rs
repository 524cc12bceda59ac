//! Durability levels and the group commit that lets concurrent `"sync"`
//! commits share one fsync.

use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// When a commit is considered done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Returns after the data is on stable storage (fsync).
    Sync,
    /// Returns after the data is handed to the OS: survives a killed process.
    Flush,
    /// Nothing is guaranteed durable until `sync()` or `close()`.
    Memory,
}

impl Durability {
    /// Parses the user-facing name.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "sync" => Ok(Self::Sync),
            "flush" => Ok(Self::Flush),
            "memory" => Ok(Self::Memory),
            other => Err(Error::InvalidArgument(format!(
                "durability must be \"sync\", \"flush\" or \"memory\", not {other:?}"
            ))),
        }
    }

    /// The user-facing name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Flush => "flush",
            Self::Memory => "memory",
        }
    }
}

/// Group commit: each commit takes a ticket after its journal write reached
/// the OS; one fsync covers every ticket issued before it started.
#[derive(Default)]
pub struct GroupCommit {
    written: AtomicU64,
    synced: Mutex<u64>,
}

impl GroupCommit {
    /// Call after a commit's data was written (not yet synced); returns once
    /// it is on stable storage, running `fsync` only if no other thread's
    /// fsync already covered it.
    pub fn wait_durable(&self, fsync: impl FnOnce() -> Result<()>) -> Result<()> {
        let ticket = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        let mut synced = self.synced.lock();
        if *synced >= ticket {
            return Ok(());
        }
        // Every ticket up to `target` belongs to a write that completed
        // before this load, so the fsync below covers it.
        let target = self.written.load(Ordering::SeqCst);
        fsync()?;
        *synced = target;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn parse_names() {
        assert_eq!(Durability::parse("sync").unwrap(), Durability::Sync);
        assert!(Durability::parse("fast").is_err());
    }

    #[test]
    fn concurrent_commits_share_fsyncs() {
        let gc = Arc::new(GroupCommit::default());
        let fsyncs = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let gc = gc.clone();
                let fsyncs = fsyncs.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        gc.wait_durable(|| {
                            fsyncs.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_micros(200));
                            Ok(())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let n = fsyncs.load(Ordering::SeqCst);
        assert!(
            (1..1600).contains(&n),
            "{n} fsyncs for 1600 commits: none shared"
        );
    }
}
