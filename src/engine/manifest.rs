//! The clean-shutdown manifest: lets `open` tell a damaged store from an
//! intact one after a clean close.
//!
//! On close every memtable is flushed to checksummed tables (so the journal
//! holds nothing that matters), then `shoal.manifest` records, per space,
//! its first and last keys. On open, if the manifest exists, each space must
//! still show the same first and last keys: a space whose files were
//! deleted or replaced would otherwise come back silently empty or short.
//! The manifest is removed once checked, so a crash later (no clean close)
//! is never mistaken for damage.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name inside the store directory.
pub const FILE: &str = "shoal.manifest";

/// First and last key of one space (`None` when empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edges {
    /// Smallest key.
    pub first: Option<Vec<u8>>,
    /// Largest key.
    pub last: Option<Vec<u8>>,
}

/// The manifest: fjall keyspace name -> edges.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// Per keyspace.
    pub spaces: BTreeMap<String, Edges>,
}

fn path_of(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

impl Manifest {
    /// Writes the manifest atomically (temporary file, fsync, rename).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(format!("{FILE}.tmp"));
        let data = serde_json::to_vec(self).map_err(|e| Error::Storage(e.to_string()))?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path_of(dir))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Reads the manifest if the last close was clean.
    pub fn read(dir: &Path) -> Result<Option<Manifest>> {
        let path = path_of(dir);
        match std::fs::read(&path) {
            Ok(data) => serde_json::from_slice(&data)
                .map(Some)
                .map_err(|e| Error::Corruption {
                    path,
                    detail: format!("unreadable shutdown manifest: {e}"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the manifest (after it was checked).
    pub fn remove(dir: &Path) -> Result<()> {
        match std::fs::remove_file(path_of(dir)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
