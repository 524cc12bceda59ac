//! Who holds a store's directory lock, so a second opener is told which
//! process to look for instead of a bare "locked".
//!
//! fjall locks the directory itself; after a successful open shoal writes
//! its process id into `owner`. The file is advisory: it is only read after
//! the lock was refused (so its writer is the process holding the lock, or
//! one about to), and a missing or garbled file just gives a vaguer message.

use std::path::Path;

const OWNER_FILE: &str = "owner";

/// Records this process as the holder of the lock on `dir`. Failure (a full
/// disk, say) is ignored: the store works without it.
pub fn record(dir: &Path) {
    let _ = std::fs::write(dir.join(OWNER_FILE), format!("{}\n", std::process::id()));
}

/// Who holds the lock on `dir`, for an error message: "process 1234",
/// "this process", or "another process" when the owner file says nothing.
pub fn describe(dir: &Path) -> String {
    let pid = std::fs::read_to_string(dir.join(OWNER_FILE))
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    match pid {
        Some(pid) if pid == std::process::id() => {
            "this process (the store is already open here; close it first)".into()
        }
        Some(pid) => format!("process {pid}"),
        None => "another process".into(),
    }
}
