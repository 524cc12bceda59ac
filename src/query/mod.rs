//! The query layer: one filter AST ([`filter`]), parsed from MongoDB filter
//! documents, its evaluator over decoded documents ([`eval`]), and update
//! documents ([`update`]).

pub mod eval;
pub mod filter;
pub mod pyre;
pub mod shape;
pub mod update;

pub use eval::matches;
pub use filter::{parse, Filter};
