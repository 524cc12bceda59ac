//! shoal: an embedded document and key/value database.
//!
//! Layers, bottom up: `engine` (ordered KV store on fjall), `codec` (byte
//! encodings), `py` (the PyO3 module `shoal._core`). Everything below `py`
//! is plain Rust, tested with `cargo test`.

pub mod codec;
pub mod collection;
pub mod engine;
pub mod error;
pub mod py;
pub mod query;

pub use error::{Error, Result};
