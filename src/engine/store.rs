//! `Store`: one directory of named spaces on a fjall database.
//!
//! Invariants:
//! - Every write runs inside [`Occ::commit`] (see `occ.rs`), so commits are
//!   totally ordered and transactions see every conflicting write.
//! - `state` is `None` once closed; every operation checks it under the read
//!   lock, and `close` takes the write lock, so no operation runs during
//!   close. Long-lived objects are in `resources` and are invalidated by
//!   `close`, which therefore releases the directory lock for real.
//! - Locks are taken in one order: `state`, then a resource's own mutex.
//!   Callers from Python never wait for the GIL while holding either.

use super::catalog::{self, SpaceConfig};
use super::durability::{Durability, GroupCommit};
use super::manifest::{Edges, Manifest};
use super::names;
use super::occ::{Occ, WriteSet};
use super::owner;
use super::reader::{nothing_between, SnapshotView, View};
use super::resources::{Registry, Resource};
use crate::error::{Error, Result};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode, Readable, Slice};
use parking_lot::{RwLock, RwLockReadGuard};
use std::any::Any;
use std::collections::HashMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Largest accepted key, in encoded bytes (fjall's own limit is 65,536).
pub const MAX_KEY_SIZE: usize = 65_535;
/// Tables a space may keep at a clean close before it is compacted.
const MAX_TABLES_AT_CLOSE: usize = 24;
/// Largest accepted value, in encoded bytes.
pub const MAX_VALUE_SIZE: usize = 256 * 1024 * 1024;

/// Bumped in a child process right after `fork()`. A store remembers the
/// value it was opened under; in a child it is unusable (its worker threads
/// did not survive the fork, and its files belong to the parent).
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Call in the child right after `fork()`: every store opened before it
/// reports itself closed, and closing or dropping it leaves the parent's
/// files alone.
pub fn note_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Index of an opened space inside its store.
pub type SpaceId = usize;

/// Options for [`Store::open`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Commit durability.
    pub durability: Durability,
    /// Block cache size in bytes.
    pub cache_size: u64,
    /// Memtable size per space in bytes.
    pub memtable_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            durability: Durability::Flush,
            cache_size: 16 * 1024 * 1024,
            memtable_size: 8 * 1024 * 1024,
        }
    }
}

/// One opened space.
pub struct Space {
    /// The user's name.
    pub name: String,
    /// Its catalog configuration.
    pub config: SpaceConfig,
    pub(crate) ks: Keyspace,
}

/// Live state of an open store.
pub struct Open {
    pub(crate) db: Database,
    meta: Keyspace,
    spaces: Vec<Option<Space>>,
    by_name: HashMap<String, SpaceId>,
}

impl Open {
    /// The space behind `id`, or an error if it was dropped.
    pub fn space(&self, id: SpaceId) -> Result<&Space> {
        self.spaces
            .get(id)
            .and_then(Option::as_ref)
            .ok_or_else(|| Error::NotFound("this space was dropped".into()))
    }
}

/// A write inside an atomic batch: `value: None` deletes.
pub struct BatchOp {
    /// Target space.
    pub space: SpaceId,
    /// Encoded key.
    pub key: Vec<u8>,
    /// Encoded value, or `None` to delete.
    pub value: Option<Vec<u8>>,
}

/// A store: a directory (or a temporary one) holding named spaces.
pub struct Store {
    path: PathBuf,
    temporary: bool,
    durability: Durability,
    generation: u64,
    state: RwLock<Option<Open>>,
    pub(crate) resources: Registry,
    group: GroupCommit,
    pub(crate) occ: Occ,
    /// Per-space state of the layers above (collection index definitions),
    /// shared by every handle of this store.
    attachments: parking_lot::Mutex<HashMap<SpaceId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}

fn space_options(opts: &Options) -> KeyspaceCreateOptions {
    use fjall::config::{HashRatioPolicy, RestartIntervalPolicy};
    KeyspaceCreateOptions::default()
        .max_memtable_size(opts.memtable_size)
        .manual_journal_persist(opts.durability == Durability::Memory)
        // A hash index inside data blocks: point reads skip the binary search.
        .data_block_hash_ratio_policy(HashRatioPolicy::all(0.75))
        .data_block_restart_interval_policy(RestartIntervalPolicy::all(4))
}

impl Store {
    /// Opens (creating if needed) the store at `path`, or a temporary store
    /// that leaves no files behind when `path` is `None`.
    pub fn open(path: Option<&Path>, opts: Options) -> Result<Arc<Store>> {
        let (path, temporary) = match path {
            Some(p) => {
                if p.exists() && !p.is_dir() {
                    return Err(Error::InvalidArgument(format!(
                        "{} exists and is not a directory",
                        p.display()
                    )));
                }
                (p.to_path_buf(), false)
            }
            None => {
                let dir = tempfile::Builder::new().prefix("shoal-").tempdir()?;
                (dir.keep(), true)
            }
        };
        let opened = std::panic::catch_unwind(|| Self::open_db(&path, temporary, &opts))
            .unwrap_or_else(|_| {
                Err(Error::Corruption {
                    path: path.clone(),
                    detail: "the storage engine failed while recovering".into(),
                })
            });
        let open = match opened {
            Ok(open) => open,
            Err(e) => {
                if temporary {
                    let _ = std::fs::remove_dir_all(&path);
                }
                return Err(e);
            }
        };
        Ok(Arc::new(Store {
            path,
            temporary,
            durability: opts.durability,
            generation: FORK_GENERATION.load(Ordering::SeqCst),
            state: RwLock::new(Some(open)),
            resources: Registry::default(),
            group: GroupCommit::default(),
            occ: Occ::default(),
            attachments: parking_lot::Mutex::new(HashMap::new()),
        }))
    }

    /// A process killed while fjall was creating a new store leaves its lock
    /// file, an empty `keyspaces` folder and empty journals, but no `version`
    /// file (or an empty one); fjall then refuses the directory forever. Nothing can have been
    /// written yet, so those leftovers (and only them) are removed. A store
    /// that really lost its `version` file has data in `keyspaces` or in a
    /// journal, and is reported as damaged by the open that follows.
    fn remove_incomplete_creation(path: &Path) -> Result<()> {
        if !path.is_dir() {
            return Ok(());
        }
        // fjall creates the version file empty, then writes its header: a
        // kill in between leaves an empty one, and nothing else.
        let version = path.join("version");
        let empty_version = match std::fs::metadata(&version) {
            Ok(m) if m.len() > 0 => return Ok(()),
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(e.into()),
        };
        let keyspaces = path.join("keyspaces");
        let keyspaces_empty = match std::fs::read_dir(&keyspaces) {
            Ok(mut it) => it.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(e.into()),
        };
        let mut journals = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".jnl") {
                if entry.metadata()?.len() > 0 && !journal_is_blank(&entry.path())? {
                    return Ok(());
                }
                journals.push(entry.path());
            }
        }
        let lock_path = path.join("lock");
        if !keyspaces_empty || (journals.is_empty() && !lock_path.exists()) {
            return Ok(());
        }
        // Hold the lock while cleaning, so a concurrent creator is not disturbed.
        let lock = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)?;
        if lock.try_lock().is_err() {
            return Err(Error::locked(path));
        }
        for j in journals {
            std::fs::remove_file(j)?;
        }
        if empty_version {
            std::fs::remove_file(&version)?;
        }
        if keyspaces.exists() {
            std::fs::remove_dir(&keyspaces)?;
        }
        std::fs::remove_file(&lock_path)?;
        drop(lock);
        Ok(())
    }

    fn open_db(path: &Path, temporary: bool, opts: &Options) -> Result<Open> {
        let fj = |e| Error::from_fjall(e, path);
        if !temporary {
            Self::remove_incomplete_creation(path)?;
        }
        let db = Database::builder(path)
            .cache_size(opts.cache_size)
            .manual_journal_persist(opts.durability == Durability::Memory)
            .temporary(temporary)
            .open()
            .map_err(|e| match e {
                // fjall found some of its files but not its version file.
                fjall::Error::Io(io) if io.kind() == std::io::ErrorKind::AlreadyExists => {
                    Error::Corruption {
                        path: path.to_path_buf(),
                        detail: format!("store files are missing ({io})"),
                    }
                }
                other => fj(other),
            })?;
        let meta = db
            .keyspace(catalog::META_SPACE, || space_options(opts))
            .map_err(fj)?;
        match meta.get(catalog::format_key()).map_err(fj)? {
            Some(found) => catalog::check_format(&found, path)?,
            None => {
                let others = db
                    .list_keyspace_names()
                    .iter()
                    .filter(|n| n.as_ref() != catalog::META_SPACE)
                    .count();
                if others > 0 {
                    return Err(Error::Corruption {
                        path: path.to_path_buf(),
                        detail: "the catalog's format record is missing".into(),
                    });
                }
                meta.insert(catalog::format_key(), catalog::FORMAT.as_bytes())
                    .map_err(fj)?;
                db.persist(PersistMode::SyncAll).map_err(fj)?;
            }
        }
        if !temporary {
            Self::check_manifest(&db, path)?;
            owner::record(path);
        }
        Ok(Open {
            db,
            meta,
            spaces: Vec::new(),
            by_name: HashMap::new(),
        })
    }

    fn edges(ks: &Keyspace, path: &Path) -> Result<Edges> {
        let key = |g: Option<fjall::Guard>| -> Result<Option<Vec<u8>>> {
            g.map(|g| g.key().map(|k| k.to_vec()))
                .transpose()
                .map_err(|e| Error::from_fjall(e, path))
        };
        Ok(Edges {
            first: key(ks.first_key_value())?,
            last: key(ks.last_key_value())?,
        })
    }

    /// After a clean close, every space must look as it did then.
    fn check_manifest(db: &Database, path: &Path) -> Result<()> {
        let Some(manifest) = Manifest::read(path)? else {
            return Ok(());
        };
        for (name, expected) in &manifest.spaces {
            let damaged = |detail: String| Error::Corruption {
                path: path.to_path_buf(),
                detail: format!("space {name:?}: {detail}; its files are missing or damaged"),
            };
            if !db.keyspace_exists(name) {
                return Err(damaged("not found".into()));
            }
            let ks = db
                .keyspace(name, KeyspaceCreateOptions::default)
                .map_err(|e| Error::from_fjall(e, path))?;
            let found = Self::edges(&ks, path)?;
            if found != *expected {
                return Err(damaged(
                    "its first or last key differs from the last clean shutdown".into(),
                ));
            }
        }
        Manifest::remove(path)
    }

    /// Flushes every space to tables and records the shutdown manifest.
    fn clean_shutdown(&self, open: &Open) -> Result<()> {
        if !self.path.join("version").exists() {
            // The directory was removed or emptied under the open store:
            // there is nothing left to protect.
            return Ok(());
        }
        let mut names: Vec<String> = vec![catalog::META_SPACE.to_string()];
        for item in open.meta.prefix(b"space/") {
            let key = item.key().map_err(|e| self.fj(e))?;
            if let Some(n) = catalog::fjall_name_of(&key) {
                names.push(n.to_string());
            }
        }
        let mut manifest = Manifest::default();
        for name in names {
            let ks = open
                .db
                .keyspace(&name, KeyspaceCreateOptions::default)
                .map_err(|e| self.fj(e))?;
            flush_memtable(&ks).map_err(|e| self.fj(e))?;
            // Each session's flush adds a table, and compaction only runs
            // after writes: a store opened and closed often would pile up
            // tables (and slow every read) without this.
            if ks.table_count() > MAX_TABLES_AT_CLOSE {
                ks.major_compact().map_err(|e| self.fj(e))?;
            }
            manifest.spaces.insert(name, Self::edges(&ks, &self.path)?);
        }
        open.db
            .persist(PersistMode::SyncAll)
            .map_err(|e| self.fj(e))?;
        manifest.write(&self.path)
    }

    /// The store directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory is removed on close.
    pub fn temporary(&self) -> bool {
        self.temporary
    }

    /// The durability level commits use.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.forked() || self.state.read_recursive().is_none()
    }

    pub(crate) fn fj(&self, e: fjall::Error) -> Error {
        Error::from_fjall(e, &self.path)
    }

    /// Read access to the live state. Recursive, so a caller holding the
    /// GIL never queues behind a waiting `close` (which never needs the GIL).
    pub fn read(&self) -> Result<RwLockReadGuard<'_, Option<Open>>> {
        if self.forked() {
            return Err(Error::Closed(
                "store (it was opened before fork(); open it again in this process)",
            ));
        }
        let guard = self.state.read_recursive();
        if guard.is_none() {
            return Err(Error::Closed("store"));
        }
        Ok(guard)
    }

    /// Whether this is a child process forked after the store was opened.
    fn forked(&self) -> bool {
        self.generation != FORK_GENERATION.load(Ordering::Relaxed)
    }

    /// Runs `f` on the live state.
    pub fn with<R>(&self, f: impl FnOnce(&Open) -> Result<R>) -> Result<R> {
        let guard = self.read()?;
        match guard.as_ref() {
            Some(open) => f(open),
            None => Err(Error::Closed("store")),
        }
    }

    /// The configuration of space `name` of `kind`, if it exists.
    pub fn space_config(&self, kind: &str, name: &str) -> Result<Option<SpaceConfig>> {
        names::validate(name)?;
        self.with(|open| {
            let key = catalog::space_key(&catalog::fjall_name(kind, name));
            match open.meta.get(key).map_err(|e| self.fj(e))? {
                Some(raw) => Ok(Some(catalog::decode(&raw, &self.path)?)),
                None => Ok(None),
            }
        })
    }

    /// Opens space `name` of `kind`, creating it if needed. `choose` gets
    /// the stored configuration (if any) and returns the one to use; it runs
    /// under the store's write lock, so two threads cannot create a space
    /// with different configurations.
    pub fn open_space(
        &self,
        kind: &str,
        name: &str,
        opts_memtable: Option<u64>,
        choose: impl FnOnce(Option<&SpaceConfig>) -> Result<SpaceConfig>,
    ) -> Result<(SpaceId, SpaceConfig)> {
        names::validate(name)?;
        let fjall_name = catalog::fjall_name(kind, name);
        let mut guard = self.state.write();
        let open = guard.as_mut().ok_or(Error::Closed("store"))?;
        if let Some(&id) = open.by_name.get(&fjall_name) {
            let cfg = open.space(id)?.config.clone();
            let chosen = choose(Some(&cfg))?;
            if chosen != cfg {
                return Err(Error::InvalidArgument(format!(
                    "space {name:?} is stored with key={:?}, value={:?}",
                    cfg.key, cfg.value
                )));
            }
            return Ok((id, cfg));
        }
        let ckey = catalog::space_key(&fjall_name);
        let stored = match open.meta.get(&ckey).map_err(|e| self.fj(e))? {
            Some(raw) => Some(catalog::decode(&raw, &self.path)?),
            None => None,
        };
        let cfg = choose(stored.as_ref())?;
        if let Some(stored) = &stored {
            if *stored != cfg {
                return Err(Error::InvalidArgument(format!(
                    "space {name:?} is stored with key={:?}, value={:?}",
                    stored.key, stored.value
                )));
            }
        }
        let memtable = opts_memtable.unwrap_or(Options::default().memtable_size);
        let durability = self.durability;
        let ks = open
            .db
            .keyspace(&fjall_name, || {
                space_options(&Options {
                    durability,
                    memtable_size: memtable,
                    ..Options::default()
                })
            })
            .map_err(|e| self.fj(e))?;
        if stored.is_none() {
            let meta = &open.meta;
            self.commit(&open.db, None, |_| {
                meta.insert(ckey, catalog::encode(&cfg))
                    .map_err(|e| self.fj(e))?;
                Ok(((), None))
            })?;
        }
        let id = open.spaces.len();
        open.spaces.push(Some(Space {
            name: name.to_string(),
            config: cfg.clone(),
            ks,
        }));
        open.by_name.insert(fjall_name, id);
        Ok((id, cfg))
    }

    /// Deletes space `name` of `kind` and all its data. Handles to it report
    /// that it was dropped. Returns whether it existed.
    pub fn drop_space(&self, kind: &str, name: &str) -> Result<bool> {
        names::validate(name)?;
        let fjall_name = catalog::fjall_name(kind, name);
        let mut guard = self.state.write();
        let open = guard.as_mut().ok_or(Error::Closed("store"))?;
        let ckey = catalog::space_key(&fjall_name);
        if open.meta.get(&ckey).map_err(|e| self.fj(e))?.is_none() {
            return Ok(false);
        }
        // Cursors and transactions may hold the keyspace; drop them first.
        self.resources.invalidate_all();
        let ks = match open.by_name.remove(&fjall_name) {
            Some(id) => {
                self.attachments.lock().remove(&id);
                open.spaces[id].take().map(|s| s.ks)
            }
            None => None,
        };
        let ks = match ks {
            Some(ks) => ks,
            None => open
                .db
                .keyspace(&fjall_name, KeyspaceCreateOptions::default)
                .map_err(|e| self.fj(e))?,
        };
        let meta = &open.meta;
        self.commit(&open.db, None, |_| {
            meta.remove(ckey).map_err(|e| self.fj(e))?;
            Ok(((), None))
        })?;
        open.db.delete_keyspace(ks).map_err(|e| self.fj(e))?;
        Ok(true)
    }

    /// Names of the spaces of `kind`, sorted.
    pub fn list_spaces(&self, kind: &str) -> Result<Vec<String>> {
        self.with(|open| {
            let prefix = format!("{kind}.");
            let mut out = Vec::new();
            for item in open.meta.prefix(b"space/") {
                let key = item.key().map_err(|e| self.fj(e))?;
                if let Some(name) = catalog::fjall_name_of(&key) {
                    if let Some(user) = name.strip_prefix(&prefix) {
                        out.push(user.to_string());
                    }
                }
            }
            Ok(out)
        })
    }

    /// Runs one commit (see [`Occ::commit`]) and then waits for the
    /// store's durability level.
    pub(crate) fn commit<R>(
        &self,
        db: &Database,
        validate: Option<(u64, &super::occ::ReadSet)>,
        apply: impl FnOnce(bool) -> Result<(R, Option<WriteSet>)>,
    ) -> Result<R> {
        let out = self.occ.commit(validate, apply)?;
        if self.durability == Durability::Sync {
            self.group
                .wait_durable(|| db.persist(PersistMode::SyncAll).map_err(|e| self.fj(e)))?;
        }
        Ok(out)
    }

    /// Value of `key` in `space`.
    pub fn get(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        if !super::bounds::storable(key) {
            return Ok(None);
        }
        self.with(|open| open.space(space)?.ks.get(key).map_err(|e| self.fj(e)))
    }

    /// Whether `key` is in `space`.
    pub fn contains(&self, space: SpaceId, key: &[u8]) -> Result<bool> {
        if !super::bounds::storable(key) {
            return Ok(false);
        }
        self.with(|open| {
            open.space(space)?
                .ks
                .contains_key(key)
                .map_err(|e| self.fj(e))
        })
    }

    /// Values of many keys, read from one snapshot.
    pub fn get_many(&self, space: SpaceId, keys: &[Vec<u8>]) -> Result<Vec<Option<Slice>>> {
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            let snap = open.db.snapshot();
            keys.iter()
                .map(|k| {
                    if !super::bounds::storable(k) {
                        return Ok(None);
                    }
                    snap.get(ks, k).map_err(|e| self.fj(e))
                })
                .collect()
        })
    }

    /// Sets `key` to `value` (a blind write).
    pub fn put(&self, space: SpaceId, key: &[u8], value: &[u8]) -> Result<()> {
        check_sizes(key, Some(value))?;
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            self.commit(&open.db, None, |record| {
                ks.insert(key, value).map_err(|e| self.fj(e))?;
                Ok(((), record.then(|| vec![(space, key.to_vec())])))
            })
        })
    }

    /// Deletes `key` whether or not it exists (blind).
    pub fn discard(&self, space: SpaceId, key: &[u8]) -> Result<()> {
        check_sizes(key, None)?;
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            self.commit(&open.db, None, |record| {
                ks.remove(key).map_err(|e| self.fj(e))?;
                Ok(((), record.then(|| vec![(space, key.to_vec())])))
            })
        })
    }

    /// Removes `key` and returns its previous value, atomically.
    pub fn take(&self, space: SpaceId, key: &[u8]) -> Result<Option<Slice>> {
        check_sizes(key, None)?;
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            self.commit(&open.db, None, |record| {
                let old = ks.get(key).map_err(|e| self.fj(e))?;
                if old.is_none() {
                    return Ok((None, None));
                }
                ks.remove(key).map_err(|e| self.fj(e))?;
                Ok((old, record.then(|| vec![(space, key.to_vec())])))
            })
        })
    }

    /// Inserts `value` unless `key` exists; returns the value now stored
    /// (`None` when `value` was inserted). Atomic.
    pub fn insert_if_absent(
        &self,
        space: SpaceId,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<Slice>> {
        check_sizes(key, Some(value))?;
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            self.commit(&open.db, None, |record| {
                if let Some(existing) = ks.get(key).map_err(|e| self.fj(e))? {
                    return Ok((Some(existing), None));
                }
                ks.insert(key, value).map_err(|e| self.fj(e))?;
                Ok((None, record.then(|| vec![(space, key.to_vec())])))
            })
        })
    }

    /// Inserts every `(key, value)` in one atomic commit if none of the keys
    /// exists (in the space or twice in `items`); otherwise writes nothing
    /// and returns the index of the first offending item.
    pub fn insert_new(
        &self,
        space: SpaceId,
        items: &[(Vec<u8>, Vec<u8>)],
    ) -> Result<Option<usize>> {
        for (k, v) in items {
            check_sizes(k, Some(v))?;
        }
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            self.commit(&open.db, None, |record| {
                let mut seen = std::collections::HashSet::with_capacity(items.len());
                // Bulk loads into an empty space, or past its last key, are
                // the common case: one range probe then proves no key exists.
                let fresh = items.len() >= 8
                    && nothing_between(
                        &View::new(self, open),
                        space,
                        items.iter().map(|(k, _)| k),
                    )?;
                for (i, (k, _)) in items.iter().enumerate() {
                    if !seen.insert(k.as_slice())
                        || (!fresh && ks.contains_key(k).map_err(|e| self.fj(e))?)
                    {
                        return Ok((Some(i), None));
                    }
                }
                let mut batch = open.db.batch();
                for (k, v) in items {
                    batch.insert(ks, k.as_slice(), v.as_slice());
                }
                batch.commit().map_err(|e| self.fj(e))?;
                let ws = record.then(|| items.iter().map(|(k, _)| (space, k.clone())).collect());
                Ok((None, ws))
            })
        })
    }

    /// Replaces the value of an existing `key`; returns whether it existed
    /// (nothing is written when it did not). Atomic.
    pub fn replace_existing(&self, space: SpaceId, key: &[u8], value: &[u8]) -> Result<bool> {
        check_sizes(key, Some(value))?;
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            self.commit(&open.db, None, |record| {
                if !ks.contains_key(key).map_err(|e| self.fj(e))? {
                    return Ok((false, None));
                }
                ks.insert(key, value).map_err(|e| self.fj(e))?;
                Ok((true, record.then(|| vec![(space, key.to_vec())])))
            })
        })
    }

    /// Runs `plan` under the commit lock with a view of the latest data, and
    /// commits the writes it returns in one atomic batch (across spaces).
    /// No other write can interleave between its reads and its writes, so
    /// read-modify-write logic (documents and their index entries, unique
    /// checks) is atomic without retries. If `plan` fails nothing is written.
    pub fn transact<R>(
        &self,
        plan: impl FnOnce(&View<'_>) -> Result<(R, Vec<BatchOp>)>,
    ) -> Result<R> {
        self.transact_then(plan, |_| {})
    }

    /// [`Store::transact`], then `committed` right after the batch is
    /// written, still under the commit lock (so in commit order).
    pub fn transact_then<R>(
        &self,
        plan: impl FnOnce(&View<'_>) -> Result<(R, Vec<BatchOp>)>,
        committed: impl FnOnce(&mut R),
    ) -> Result<R> {
        self.with(|open| {
            self.commit(&open.db, None, |record| {
                let view = View::new(self, open);
                let (mut out, ops) = plan(&view)?;
                for op in &ops {
                    check_sizes(&op.key, op.value.as_deref())?;
                }
                if !ops.is_empty() {
                    let mut batch = open.db.batch();
                    for op in &ops {
                        let ks = &open.space(op.space)?.ks;
                        match &op.value {
                            Some(v) => batch.insert(ks, op.key.as_slice(), v.as_slice()),
                            None => batch.remove(ks, op.key.as_slice()),
                        }
                    }
                    batch.commit().map_err(|e| self.fj(e))?;
                }
                committed(&mut out);
                let ws = record.then(|| ops.into_iter().map(|o| (o.space, o.key)).collect());
                Ok((out, ws))
            })
        })
    }

    /// Applies every op in one atomic commit (all or nothing, across spaces).
    pub fn write_batch(&self, ops: &[BatchOp]) -> Result<()> {
        for op in ops {
            check_sizes(&op.key, op.value.as_deref())?;
        }
        if ops.is_empty() {
            return Ok(());
        }
        self.with(|open| {
            let mut batch = open.db.batch();
            for op in ops {
                let ks = &open.space(op.space)?.ks;
                match &op.value {
                    Some(v) => batch.insert(ks, op.key.as_slice(), v.as_slice()),
                    None => batch.remove(ks, op.key.as_slice()),
                }
            }
            self.commit(&open.db, None, |record| {
                batch.commit().map_err(|e| self.fj(e))?;
                Ok((
                    (),
                    record.then(|| ops.iter().map(|o| (o.space, o.key.clone())).collect()),
                ))
            })
        })
    }

    /// Deletes every key of `space` within the bounds, atomically; returns
    /// how many were deleted.
    pub fn delete_range(
        &self,
        space: SpaceId,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
    ) -> Result<usize> {
        super::bounds::check_bounds(&lo, &hi)?;
        if super::bounds::empty_range(&lo, &hi) {
            return Ok(0);
        }
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            self.commit(&open.db, None, |record| {
                let mut batch = open.db.batch();
                let mut keys = Vec::new();
                for item in ks.range((lo, hi)) {
                    let k = item.key().map_err(|e| self.fj(e))?;
                    batch.remove(ks, k.clone());
                    keys.push(k);
                }
                let n = keys.len();
                batch.commit().map_err(|e| self.fj(e))?;
                let ws = record.then(|| keys.into_iter().map(|k| (space, k.to_vec())).collect());
                Ok((n, ws))
            })
        })
    }

    /// Exact number of keys in `space` within the bounds (scans keys only).
    pub fn count(&self, space: SpaceId, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> Result<usize> {
        super::bounds::check_bounds(&lo, &hi)?;
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            if super::bounds::empty_range(&lo, &hi) {
                return Ok(0);
            }
            let snap = open.db.snapshot();
            let mut n = 0usize;
            for item in snap.range(ks, (lo, hi)) {
                item.key().map_err(|e| self.fj(e))?;
                n += 1;
            }
            Ok(n)
        })
    }

    /// First (or with `last`, last) item of `space`.
    pub fn edge(&self, space: SpaceId, last: bool) -> Result<Option<(Slice, Slice)>> {
        self.with(|open| {
            let ks = &open.space(space)?.ks;
            let guard = if last {
                ks.last_key_value()
            } else {
                ks.first_key_value()
            };
            match guard {
                Some(g) => Ok(Some(g.into_inner().map_err(|e| self.fj(e))?)),
                None => Ok(None),
            }
        })
    }

    /// Approximate item count of `space` (O(1); drifts under updates).
    pub fn approximate_len(&self, space: SpaceId) -> Result<usize> {
        self.with(|open| Ok(open.space(space)?.ks.approximate_len()))
    }

    /// Runs `f` on a point-in-time view of every space.
    pub fn read_snapshot<R>(&self, f: impl FnOnce(&SnapshotView<'_>) -> Result<R>) -> Result<R> {
        self.with(|open| f(&SnapshotView::new(self, open, open.db.snapshot())))
    }

    /// The state attached to `space` by a layer above (created by `init` on
    /// first use). Dropping the space detaches it.
    pub fn attachment<T: Any + Send + Sync>(
        &self,
        space: SpaceId,
        init: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        let mut map = self.attachments.lock();
        if let Some(found) = map.get(&space) {
            return Arc::clone(found)
                .downcast::<T>()
                .map_err(|_| Error::InvalidArgument("space attached to another layer".into()));
        }
        let made = Arc::new(init()?);
        map.insert(space, made.clone());
        Ok(made)
    }

    /// A point-in-time read view across all spaces.
    pub fn snapshot(&self) -> Result<fjall::Snapshot> {
        self.with(|open| Ok(open.db.snapshot()))
    }

    /// Writes everything buffered to stable storage.
    pub fn sync(&self) -> Result<()> {
        self.with(|open| {
            open.db
                .persist(PersistMode::SyncAll)
                .map_err(|e| self.fj(e))
        })
    }

    /// Major-compacts every opened space and the catalog.
    pub fn compact(&self) -> Result<()> {
        self.with(|open| {
            for space in open.spaces.iter().flatten() {
                space.ks.major_compact().map_err(|e| self.fj(e))?;
            }
            open.meta.major_compact().map_err(|e| self.fj(e))
        })
    }

    /// Statistics: per opened space `(name, approximate items, disk bytes)`,
    /// and store-wide disk bytes, journal bytes, write-buffer bytes, cache
    /// bytes.
    pub fn stats(&self) -> Result<Stats> {
        self.with(|open| {
            let spaces = open
                .spaces
                .iter()
                .flatten()
                .map(|s| SpaceStats {
                    name: s.name.clone(),
                    kind: s.config.kind.clone(),
                    approximate_items: s.ks.approximate_len() as u64,
                    disk_bytes: s.ks.disk_space(),
                })
                .collect();
            Ok(Stats {
                spaces,
                disk_bytes: open.db.disk_space().map_err(|e| self.fj(e))?,
                journal_count: open.db.journal_count() as u64,
                write_buffer_bytes: open.db.write_buffer_size(),
                cache_bytes: open.db.cache_size(),
            })
        })
    }

    /// Reads every item of the catalog and of every space it lists, from
    /// one snapshot, so every block on disk is read and its checksum
    /// checked. Returns each space's (kind, name, items). A damaged block is
    /// an error naming the store; a space the catalog lists but the engine
    /// lacks is [`Error::Corruption`].
    pub fn verify(&self) -> Result<Vec<(String, String, u64)>> {
        self.with(|open| {
            let snap = open.db.snapshot();
            let count = |ks: &Keyspace| -> Result<u64> {
                let mut n = 0u64;
                for g in snap.iter(ks) {
                    g.into_inner().map_err(|e| self.fj(e))?;
                    n += 1;
                }
                Ok(n)
            };
            let mut out = vec![(
                String::new(),
                catalog::META_SPACE.to_string(),
                count(&open.meta)?,
            )];
            let mut names = Vec::new();
            for item in snap.prefix(&open.meta, b"space/") {
                let (k, _) = item.into_inner().map_err(|e| self.fj(e))?;
                if let Some(n) = catalog::fjall_name_of(&k) {
                    names.push(n.to_string());
                }
            }
            for name in names {
                if !open.db.keyspace_exists(&name) {
                    return Err(Error::Corruption {
                        path: self.path.clone(),
                        detail: format!("space {name:?} is in the catalog but has no data files"),
                    });
                }
                let ks = open
                    .db
                    .keyspace(&name, KeyspaceCreateOptions::default)
                    .map_err(|e| self.fj(e))?;
                let (kind, user) = name.split_once('.').unwrap_or(("", &name));
                out.push((kind.to_string(), user.to_string(), count(&ks)?));
            }
            Ok(out)
        })
    }

    /// Copies a consistent snapshot of every space (and the catalog) into a
    /// new store at `dest`, which must not exist or be an empty directory.
    pub fn backup(&self, dest: &Path) -> Result<()> {
        if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
            return Err(Error::InvalidArgument(format!(
                "backup destination {} is not empty",
                dest.display()
            )));
        }
        self.with(|open| {
            let snap = open.db.snapshot();
            let target = Database::builder(dest)
                .manual_journal_persist(true)
                .open()
                .map_err(|e| Error::from_fjall(e, dest))?;
            let tf = |e| Error::from_fjall(e, dest);
            let mut names: Vec<String> = vec![catalog::META_SPACE.to_string()];
            for item in snap.prefix(&open.meta, b"space/") {
                let key = item.key().map_err(|e| self.fj(e))?;
                if let Some(n) = catalog::fjall_name_of(&key) {
                    names.push(n.to_string());
                }
            }
            for name in names {
                let src = if name == catalog::META_SPACE {
                    open.meta.clone()
                } else {
                    open.db
                        .keyspace(&name, KeyspaceCreateOptions::default)
                        .map_err(|e| self.fj(e))?
                };
                let dst = target
                    .keyspace(&name, KeyspaceCreateOptions::default)
                    .map_err(tf)?;
                let mut batch = target.batch();
                for item in snap.iter(&src) {
                    let (k, v) = item.into_inner().map_err(|e| self.fj(e))?;
                    batch.insert(&dst, k, v);
                    if batch.len() >= 10_000 {
                        std::mem::replace(&mut batch, target.batch())
                            .commit()
                            .map_err(tf)?;
                    }
                }
                batch.commit().map_err(tf)?;
            }
            target.persist(PersistMode::SyncAll).map_err(tf)?;
            Ok(())
        })
    }

    /// Closes the store: invalidates cursors, transactions and snapshots,
    /// writes everything to stable storage, releases the directory lock and
    /// (for temporary stores) removes the directory. Idempotent.
    pub fn close(&self) -> Result<()> {
        let mut guard = self.state.write();
        let Some(open) = guard.take() else {
            return Ok(());
        };
        if self.forked() {
            // The parent owns the files and the worker threads are gone:
            // running fjall's shutdown here would wait for threads that do
            // not exist and write into the parent's files.
            std::mem::forget(open);
            return Ok(());
        }
        self.resources.invalidate_all();
        let persisted = if self.temporary {
            Ok(())
        } else {
            open.db
                .persist(PersistMode::SyncAll)
                .map_err(|e| self.fj(e))
                .and_then(|()| self.clean_shutdown(&open))
        };
        drop(open);
        drop(guard);
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.path);
        }
        persisted
    }

    /// Tracks a resource so `close` can invalidate it.
    pub fn register<R: Resource + 'static>(&self, res: &Arc<R>) {
        self.resources.register(res);
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Longest wait for a memtable flush at close.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Writes the active memtable of `ks` to a table and waits (bounded) for
/// it. fjall's own `rotate_memtable_and_wait` waits forever if the flush
/// cannot complete (say, the directory was removed under an open store).
fn flush_memtable(ks: &Keyspace) -> fjall::Result<()> {
    ks.rotate_memtable()?;
    let start = std::time::Instant::now();
    while ks.sealed_memtable_count() > 0 {
        if start.elapsed() > FLUSH_TIMEOUT {
            return Err(fjall::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "flushing memtables at close did not complete",
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    Ok(())
}

/// Whether a journal file holds only zero bytes (preallocated, never
/// written).
fn journal_is_blank(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(true);
        }
        if buf[..n].iter().any(|b| *b != 0) {
            return Ok(false);
        }
    }
}

/// Rejects keys and values over the documented limits, and empty keys.
pub fn check_sizes(key: &[u8], value: Option<&[u8]>) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidArgument("keys must not be empty".into()));
    }
    if key.len() > MAX_KEY_SIZE {
        return Err(Error::InvalidArgument(format!(
            "key is {} bytes encoded; the limit is {MAX_KEY_SIZE}",
            key.len()
        )));
    }
    if let Some(v) = value {
        if v.len() > MAX_VALUE_SIZE {
            return Err(Error::InvalidArgument(format!(
                "value is {} bytes encoded; the limit is {MAX_VALUE_SIZE}",
                v.len()
            )));
        }
    }
    Ok(())
}

/// Per-space statistics.
#[derive(Debug, Clone)]
pub struct SpaceStats {
    /// User name.
    pub name: String,
    /// Space kind.
    pub kind: String,
    /// O(1) item estimate.
    pub approximate_items: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
}

/// Store-wide statistics.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Opened spaces.
    pub spaces: Vec<SpaceStats>,
    /// Bytes on disk, all files.
    pub disk_bytes: u64,
    /// Journal files.
    pub journal_count: u64,
    /// Bytes held in memtables.
    pub write_buffer_bytes: u64,
    /// Bytes held in the block cache.
    pub cache_bytes: u64,
}
