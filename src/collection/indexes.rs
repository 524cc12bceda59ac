//! The index definitions of one collection, shared by all its handles in
//! the process (attached to its document space), and their creation and
//! removal.
//!
//! Locking: writers hold `state` shared from before their commit until
//! after it, and readers while they take their snapshot; creating or
//! dropping an index holds it exclusively. So no write commits against an
//! index list that is about to change, and no reader pairs a snapshot with
//! definitions whose entries it does not hold.

use super::index::{self, check_fields, IndexDef, IndexSpec, DEFS, MAX_INDEXES};
use super::maintain::IndexWriter;
use crate::codec::doc;
use crate::engine::catalog::SpaceConfig;
use crate::engine::{BatchOp, Read, SpaceId, Store, View};
use crate::error::{Error, Result};
use fjall::Slice;
use parking_lot::RwLock;
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Space kind of index spaces in the catalog.
pub const KIND: &str = "idx";
/// Key of the time-to-live setting in the index space.
/// Where the time-to-live field is stored: id 0x7FFF, past every index id
/// (1..=MAX_INDEXES) and below every counter id, so no index's entries,
/// back-fill or drop ever touch it.
const TTL_KEY: &[u8] = b"\x7f\xffttl";
/// Where it was stored before: inside index 1's key range, so creating or
/// dropping that index lost it. Moved to [`TTL_KEY`] when a collection opens.
const OLD_TTL_KEY: &[u8] = b"\x00\x01ttl";

/// The definitions, and the space holding them (once an index exists).
#[derive(Default)]
pub struct IndexState {
    /// The `idx.<collection>` space.
    pub space: Option<SpaceId>,
    /// Live definitions, in id order.
    pub defs: Vec<Arc<IndexDef>>,
}

/// Shared per-collection index state.
#[derive(Default)]
pub struct Indexes {
    /// See the module docs for the locking rules.
    pub state: RwLock<IndexState>,
    /// The time-to-live field, if any.
    ttl: RwLock<Option<String>>,
    /// Bumped (under the commit lock) by every index creation or removal,
    /// so that a transaction whose entries were computed for other
    /// definitions cannot commit.
    generation: AtomicU64,
}

fn space_config() -> SpaceConfig {
    SpaceConfig {
        kind: KIND.into(),
        key: "raw".into(),
        value: "raw".into(),
    }
}

fn open_space(store: &Store, name: &str) -> Result<SpaceId> {
    Ok(store
        .open_space(KIND, name, None, |_| Ok(space_config()))?
        .0)
}

impl Indexes {
    /// The current definitions' generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether a time-to-live field is set.
    pub fn has_ttl(&self) -> bool {
        self.ttl.read().is_some()
    }

    /// The time-to-live field, if any.
    pub fn ttl(&self) -> Option<String> {
        self.ttl.read().clone()
    }

    /// Sets or clears the time-to-live field, and stores it.
    pub fn set_ttl(&self, store: &Store, coll_name: &str, field: Option<String>) -> Result<()> {
        if let Some(f) = &field {
            check_fields(&[(f.clone(), 1)])?;
        }
        let mut st = self.state.write();
        let space = match st.space {
            Some(s) => s,
            None => open_space(store, coll_name)?,
        };
        st.space = Some(space);
        let value = field.as_ref().map(|f| f.as_bytes().to_vec());
        store.transact(|_| {
            Ok((
                (),
                vec![BatchOp {
                    space,
                    key: TTL_KEY.to_vec(),
                    value,
                }],
            ))
        })?;
        *self.ttl.write() = field;
        Ok(())
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Loads the definitions of collection `name` (if it has an index space).
    pub fn load(store: &Store, name: &str) -> Result<Self> {
        if store.space_config(KIND, name)?.is_none() {
            return Ok(Self::default());
        }
        let space = open_space(store, name)?;
        let mut defs = Vec::new();
        store.read_snapshot(|r| {
            r.scan(
                space,
                Bound::Included(DEFS.to_vec()),
                Bound::Excluded(vec![0, 1]),
                false,
                &mut |_, v| {
                    let spec: IndexSpec =
                        serde_json::from_slice(v).map_err(|e| Error::Corruption {
                            path: store.path().to_path_buf(),
                            detail: format!("bad index definition in collection {name:?}: {e}"),
                        })?;
                    defs.push(Arc::new(IndexDef::new(spec)));
                    Ok(true)
                },
            )
        })?;
        defs.sort_by_key(|d| d.spec.id);
        let ttl = load_ttl(store, space)?.map(|v| String::from_utf8_lossy(&v).into_owned());
        Ok(Self {
            state: RwLock::new(IndexState {
                space: Some(space),
                defs,
            }),
            ttl: RwLock::new(ttl),
            generation: AtomicU64::new(0),
        })
    }

    /// Creates an index and fills it from the documents, in one commit
    /// (writers wait meanwhile). Creating an index that exists with the same
    /// definition does nothing. Returns its name.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        &self,
        store: &Store,
        coll_name: &str,
        doc_space: SpaceId,
        fields: Vec<(String, i8)>,
        unique: bool,
        sparse: bool,
        name: Option<String>,
    ) -> Result<String> {
        check_fields(&fields)?;
        let name = name.unwrap_or_else(|| index::default_name(&fields));
        if name.is_empty() || name.len() > 1024 {
            return Err(Error::InvalidArgument(
                "an index name must be 1 to 1024 bytes".into(),
            ));
        }
        let mut st = self.state.write();
        for d in &st.defs {
            let same =
                d.spec.fields == fields && d.spec.unique == unique && d.spec.sparse == sparse;
            if d.spec.name == name {
                if same {
                    return Ok(name);
                }
                return Err(Error::InvalidArgument(format!(
                    "an index named {name:?} exists with another definition"
                )));
            }
            if same {
                return Err(Error::InvalidArgument(format!(
                    "index {:?} already has this definition",
                    d.spec.name
                )));
            }
        }
        let id = (1..=MAX_INDEXES)
            .find(|i| st.defs.iter().all(|d| d.spec.id != *i))
            .ok_or_else(|| {
                Error::InvalidArgument(format!("a collection holds at most {MAX_INDEXES} indexes"))
            })?;
        let space = match st.space {
            Some(s) => s,
            None => open_space(store, coll_name)?,
        };
        st.space = Some(space);
        let def = Arc::new(IndexDef::new(IndexSpec {
            name: name.clone(),
            id,
            fields,
            unique,
            sparse,
            multikey: false,
            approximate: false,
            partial: false,
        }));
        // Leftovers of an earlier index with this id (a crash while it was
        // dropped) must not count as entries of the new one.
        store.transact(|view| Ok(((), delete_all(view, space, &def)?)))?;
        let one = [def.clone()];
        let filled = store.transact(|view| {
            self.bump();
            let mut w = IndexWriter::new(view, space, &one);
            for item in view.range(doc_space, Bound::Unbounded, Bound::Unbounded)? {
                let (k, v) = item?;
                w.change(&k, None, Some(&doc::parse(&v)?))?;
            }
            let mut ops = w.finish()?;
            // The definition is written whatever its flags.
            ops.retain(|o| o.key != def.def_key());
            ops.push(BatchOp {
                space,
                key: def.def_key(),
                value: Some(def.encode()),
            });
            Ok(((), ops))
        });
        match filled {
            Ok(()) => {
                st.defs.push(def);
                st.defs.sort_by_key(|d| d.spec.id);
                Ok(name)
            }
            Err(e) => Err(e),
        }
    }

    /// Drops an index and its entries, in one commit. `Ok(false)` if there
    /// is no index of that name.
    pub fn remove(&self, store: &Store, name: &str) -> Result<bool> {
        let mut st = self.state.write();
        let Some(pos) = st.defs.iter().position(|d| d.spec.name == name) else {
            return Ok(false);
        };
        let (Some(space), def) = (st.space, st.defs[pos].clone()) else {
            return Ok(false);
        };
        store.transact(|view| {
            self.bump();
            let mut ops = delete_all(view, space, &def)?;
            ops.push(BatchOp {
                space,
                key: def.def_key(),
                value: None,
            });
            Ok(((), ops))
        })?;
        st.defs.remove(pos);
        Ok(true)
    }
}

/// Deletions of every entry and counter of an index.
fn delete_all(view: &View<'_>, space: SpaceId, def: &IndexDef) -> Result<Vec<BatchOp>> {
    let mut ops = Vec::new();
    for p in [def.prefix(), def.counter_prefix()] {
        let lo = Bound::Included(p.to_vec());
        let hi = super::plan::successor(&p).map_or(Bound::Unbounded, Bound::Excluded);
        for item in view.range(space, lo, hi)? {
            ops.push(BatchOp {
                space,
                key: item?.0.to_vec(),
                value: None,
            });
        }
    }
    Ok(ops)
}

/// The stored time-to-live field of index space `space`, moving a record
/// written under [`OLD_TTL_KEY`] to [`TTL_KEY`] first.
fn load_ttl(store: &Store, space: SpaceId) -> Result<Option<Slice>> {
    let (ttl, old) =
        store.read_snapshot(|r| Ok((r.get(space, TTL_KEY)?, r.get(space, OLD_TTL_KEY)?)))?;
    let Some(old) = old else {
        return Ok(ttl);
    };
    let mut ops = vec![BatchOp {
        space,
        key: OLD_TTL_KEY.to_vec(),
        value: None,
    }];
    if ttl.is_none() {
        ops.push(BatchOp {
            space,
            key: TTL_KEY.to_vec(),
            value: Some(old.to_vec()),
        });
    }
    store.transact(|_| Ok(((), ops)))?;
    Ok(ttl.or(Some(old)))
}
