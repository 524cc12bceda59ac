//! Validation of user-given space names, before they reach the file system
//! or the catalog.

use crate::error::{Error, Result};

/// Longest accepted space name, in bytes (fjall allows 255 for the whole
/// keyspace name, which also carries our `kind.` prefix).
pub const MAX_NAME_LEN: usize = 200;

/// Accepts 1..=200 characters from `[A-Za-z0-9_.-]`, not starting with `.`
/// or `_` (those are reserved for shoal's own spaces).
pub fn validate(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidArgument(
            "space name must not be empty".into(),
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::InvalidArgument(format!(
            "space name is {} bytes long; the limit is {MAX_NAME_LEN}",
            name.len()
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(Error::InvalidArgument(format!(
            "space name {name:?} contains {bad:?}; use letters, digits, '_', '-' and '.'"
        )));
    }
    if name.starts_with('.') || name.starts_with('_') {
        return Err(Error::InvalidArgument(format!(
            "space name {name:?} must not start with '.' or '_' (reserved)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_plain_names() {
        for n in ["a", "users", "x-1.v2", "A_b"] {
            validate(n).unwrap();
        }
    }

    #[test]
    fn rejects_paths_and_reserved() {
        for n in [
            "", "a/b", "..", "../x", "a\\b", "_meta", ".hidden", "sp ace", "é",
        ] {
            assert!(validate(n).is_err(), "{n:?}");
        }
        assert!(validate(&"x".repeat(201)).is_err());
    }
}
