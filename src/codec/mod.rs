//! Byte codecs that do not need Python: the order-preserving key encoding.
//! (Conversions from Python objects live in `src/py/convert/`.)

pub mod doc;
pub mod key;
pub mod number;
