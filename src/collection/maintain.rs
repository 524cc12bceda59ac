//! Keeps index entries and counters in step with document writes, inside
//! the same atomic commit ([`Store::transact`](crate::engine::Store::transact)),
//! and enforces unique indexes against the stored entries and the ones this
//! commit writes.

use super::index::{describe, IndexDef};
use crate::codec::doc::Value;
use crate::engine::{BatchOp, Read, SpaceId};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Collects the index writes of one commit.
pub struct IndexWriter<'a> {
    view: &'a dyn Read,
    space: SpaceId,
    defs: &'a [Arc<IndexDef>],
    /// Final write per entry key (`None` deletes): a key written twice in a
    /// commit (a unique value moving between documents) is written once.
    entries: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    counters: HashMap<Vec<u8>, i64>,
}

impl<'a> IndexWriter<'a> {
    /// A writer for the indexes `defs`, stored in `space`, reading through
    /// `view` (the latest data, or a transaction).
    pub fn new(view: &'a dyn Read, space: SpaceId, defs: &'a [Arc<IndexDef>]) -> Self {
        Self {
            view,
            space,
            defs,
            entries: BTreeMap::new(),
            counters: HashMap::new(),
        }
    }

    /// Records that document `pk` changes from `old` to `new` (`None`:
    /// absent). Fails, writing nothing, on a unique violation.
    pub fn change(
        &mut self,
        pk: &[u8],
        old: Option<&Value<'_>>,
        new: Option<&Value<'_>>,
    ) -> Result<()> {
        for def in self.defs {
            let before = match old {
                Some(d) => def.entries(d)?.0,
                None => Vec::new(),
            };
            let after = match new {
                Some(d) => {
                    let (values, shape) = def.entries(d)?;
                    def.widen(shape);
                    values
                }
                None => Vec::new(),
            };
            for values in before.iter().filter(|v| after.binary_search(v).is_err()) {
                self.entries.insert(def.entry_key(values, pk), None);
                *self.counters.entry(def.counter_key(values)).or_default() -= 1;
            }
            for values in after.iter().filter(|v| before.binary_search(v).is_err()) {
                let key = def.entry_key(values, pk);
                if def.spec.unique {
                    let holder = match self.entries.get(&key) {
                        Some(pending) => pending.clone(),
                        None => self.view.get(self.space, &key)?.map(|s| s.to_vec()),
                    };
                    if holder.is_some_and(|h| h != pk) {
                        return Err(self.duplicate(def, new));
                    }
                }
                self.entries.insert(key, Some(pk.to_vec()));
                *self.counters.entry(def.counter_key(values)).or_default() += 1;
            }
        }
        Ok(())
    }

    fn duplicate(&self, def: &IndexDef, doc: Option<&Value<'_>>) -> Error {
        let shown: Vec<String> = def
            .paths
            .iter()
            .zip(&def.spec.fields)
            .map(|(path, (name, _))| {
                let mut v = doc;
                for p in path {
                    v = v.and_then(|d| d.field(p));
                }
                format!("{name}={}", v.map_or_else(|| "None".into(), describe))
            })
            .collect();
        Error::Duplicate(format!(
            "unique index {:?} already holds {}",
            def.spec.name,
            shown.join(", ")
        ))
    }

    /// The writes to commit: entries, then counters and the definitions
    /// whose flags widened (see [`finish_counters`]). If the commit then
    /// fails, call [`IndexDef::forget_stored`] on the definitions.
    pub fn finish(self) -> Result<Vec<BatchOp>> {
        let (mut ops, counters) = self.split();
        let view = counters.view;
        ops.extend(counters.finish(view)?);
        Ok(ops)
    }

    /// The entry writes, and the counter updates left to do at commit.
    pub fn split(self) -> (Vec<BatchOp>, Counters<'a>) {
        let space = self.space;
        let ops = self
            .entries
            .into_iter()
            .map(|(key, value)| BatchOp { space, key, value })
            .collect();
        let counters = Counters {
            view: self.view,
            space,
            deltas: self.counters,
            defs: self.defs.to_vec(),
        };
        (ops, counters)
    }
}

/// Counter deltas and definitions to store: done under the commit lock on
/// the latest data (inside a transaction, when it commits), so concurrent
/// writers of one value never conflict over its counter.
pub struct Counters<'a> {
    view: &'a dyn Read,
    space: SpaceId,
    deltas: HashMap<Vec<u8>, i64>,
    defs: Vec<Arc<IndexDef>>,
}

impl Counters<'_> {
    /// An owned copy, to run later (see [`OwnedCounters`]).
    pub fn into_owned(self) -> OwnedCounters {
        OwnedCounters {
            space: self.space,
            deltas: self.deltas,
            defs: self.defs,
        }
    }

    fn finish(self, view: &dyn Read) -> Result<Vec<BatchOp>> {
        self.into_owned().finish(view)
    }
}

/// [`Counters`] without the borrowed view.
pub struct OwnedCounters {
    space: SpaceId,
    deltas: HashMap<Vec<u8>, i64>,
    defs: Vec<Arc<IndexDef>>,
}

impl OwnedCounters {
    /// Adds another operation's deltas.
    pub fn merge(&mut self, other: OwnedCounters) {
        for (k, d) in other.deltas {
            *self.deltas.entry(k).or_default() += d;
        }
    }

    /// The counter and definition writes, reading the counters in `view`.
    pub fn finish(self, view: &dyn Read) -> Result<Vec<BatchOp>> {
        let space = self.space;
        let mut ops = Vec::new();
        for (key, delta) in self.deltas {
            if delta == 0 {
                continue;
            }
            let now = match view.get(space, &key)? {
                Some(raw) => read_count(&raw),
                None => 0,
            };
            let next = (now as i64).saturating_add(delta).max(0) as u64;
            ops.push(BatchOp {
                space,
                key,
                value: (next > 0).then(|| next.to_be_bytes().to_vec()),
            });
        }
        for def in &self.defs {
            if def.take_unstored() {
                ops.push(BatchOp {
                    space,
                    key: def.def_key(),
                    value: Some(def.encode()),
                });
            }
        }
        Ok(ops)
    }
}

/// A stored counter.
pub fn read_count(raw: &[u8]) -> u64 {
    raw.try_into().map_or(0, u64::from_be_bytes)
}
