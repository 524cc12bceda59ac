//! The ordered key/value engine: named spaces in one directory on fjall,
//! MVCC snapshots, optimistic transactions, owned cursors, durability
//! levels, directory lock, statistics, compaction and backup.
//! Plain Rust: nothing here knows about Python.

pub mod bounds;
pub mod catalog;
pub mod cursor;
pub mod durability;
pub mod manifest;
pub mod names;
pub mod occ;
pub mod owner;
pub mod reader;
pub mod resources;
pub mod store;
pub mod txn;

pub use cursor::{Cursor, RangeSpec, Source};
pub use durability::Durability;
pub use reader::{Read, SnapshotView, View};
pub use store::{BatchOp, Options, SpaceId, Store, MAX_KEY_SIZE, MAX_VALUE_SIZE};
pub use txn::{SnapshotHandle, Transaction};

#[cfg(test)]
mod tests;
