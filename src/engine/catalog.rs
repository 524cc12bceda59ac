//! The `_meta` space: format version and the configuration of every space.
//!
//! Keys: `format` -> the format string; `space/<fjall name>` -> JSON
//! [`SpaceConfig`]. The catalog entry is written before the space is first
//! used, so a store never holds a space whose codecs are unknown.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Name of the catalog keyspace.
pub const META_SPACE: &str = "_meta";
/// Format written by this version.
pub const FORMAT: &str = "shoal/1";
const FORMAT_KEY: &[u8] = b"format";
const SPACE_PREFIX: &str = "space/";

/// What a space is and how its bytes are to be read. The engine stores it
/// and hands it back; the codec names are interpreted by the layer above.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceConfig {
    /// The kind of space (`"kv"` for key/value spaces).
    pub kind: String,
    /// Key codec name.
    pub key: String,
    /// Value codec name.
    pub value: String,
}

/// Catalog key of a space.
pub fn space_key(fjall_name: &str) -> Vec<u8> {
    format!("{SPACE_PREFIX}{fjall_name}").into_bytes()
}

/// The fjall name behind a catalog key, if it is one.
pub fn fjall_name_of(key: &[u8]) -> Option<&str> {
    std::str::from_utf8(key).ok()?.strip_prefix(SPACE_PREFIX)
}

/// The fjall keyspace name of a user space of `kind`.
pub fn fjall_name(kind: &str, name: &str) -> String {
    format!("{kind}.{name}")
}

/// Catalog key of the format record.
pub fn format_key() -> &'static [u8] {
    FORMAT_KEY
}

/// Checks the stored format record.
pub fn check_format(found: &[u8], path: &std::path::Path) -> Result<()> {
    if found == FORMAT.as_bytes() {
        Ok(())
    } else {
        Err(Error::Corruption {
            path: path.to_path_buf(),
            detail: format!(
                "unsupported format {:?} (this shoal reads {FORMAT:?})",
                String::from_utf8_lossy(found)
            ),
        })
    }
}

/// Encodes a config for storage.
pub fn encode(cfg: &SpaceConfig) -> Vec<u8> {
    // Serialising a struct of strings cannot fail.
    serde_json::to_vec(cfg).unwrap_or_default()
}

/// Decodes a stored config.
pub fn decode(raw: &[u8], path: &std::path::Path) -> Result<SpaceConfig> {
    serde_json::from_slice(raw).map_err(|e| Error::Corruption {
        path: path.to_path_buf(),
        detail: format!("bad catalog entry: {e}"),
    })
}
