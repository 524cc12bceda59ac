//! `shoal._core.Regex`: a Python `re` pattern matched in linear time by
//! Rust's `regex` (see `query::pyre` for which patterns are taken).

use crate::query::pyre::{self, Mode};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A compiled pattern: `search`, `match` and `fullmatch` answer as Python's
/// `re` would, in time linear in the text.
#[pyclass(frozen, name = "Regex", module = "shoal._core")]
pub struct PyRegex {
    pattern: String,
    flags: u32,
    search: regex::Regex,
    prefix: regex::Regex,
    full: regex::Regex,
}

#[pymethods]
impl PyRegex {
    /// Compiles `pattern` (Python `re` syntax; `flags` from `re`). Raises
    /// `ValueError` for a pattern whose meaning Rust's engine cannot keep
    /// (backreferences, lookaround, `re.VERBOSE`, ...): use `re` for those.
    #[new]
    #[pyo3(signature = (pattern, flags = 0))]
    fn new(pattern: &str, flags: u32) -> PyResult<Self> {
        let build = |mode| {
            pyre::compile(pattern, flags, mode).map_err(|e| {
                PyValueError::new_err(format!("pattern {pattern:?} needs Python's re: {}", e.0))
            })
        };
        Ok(Self {
            pattern: pattern.to_string(),
            flags,
            search: build(Mode::Search)?,
            prefix: build(Mode::Match)?,
            full: build(Mode::Full)?,
        })
    }

    /// The pattern, as given.
    #[getter]
    fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The `re` flags, as given.
    #[getter]
    fn flags(&self) -> u32 {
        self.flags
    }

    /// Whether the pattern matches anywhere in `text` (`re.search`).
    fn search(&self, text: &str) -> bool {
        self.search.is_match(text)
    }

    /// Whether the pattern matches at the start of `text` (`re.match`).
    #[pyo3(name = "match")]
    fn match_(&self, text: &str) -> bool {
        self.prefix.is_match(text)
    }

    /// Whether the pattern matches all of `text` (`re.fullmatch`).
    fn fullmatch(&self, text: &str) -> bool {
        self.full.is_match(text)
    }

    fn __repr__(&self) -> String {
        format!("Regex({:?}, {})", self.pattern, self.flags)
    }
}
