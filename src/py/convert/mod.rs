//! Conversions between Python objects and stored bytes.

pub mod key;
pub mod msgpack;
pub mod value;
