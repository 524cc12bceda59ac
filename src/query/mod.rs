//! The query layer: one filter AST ([`filter`]), parsed from MongoDB filter
//! documents, and its evaluator over decoded documents ([`eval`]).

pub mod eval;
pub mod filter;

pub use eval::matches;
pub use filter::{parse, Filter};
