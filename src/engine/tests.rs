//! Engine tests without Python: store lifecycle, writes, transactions,
//! cursors, durability, backup.

use super::catalog::SpaceConfig;
use super::*;
use crate::error::Error;
use std::ops::Bound;
use std::sync::Arc;

fn cfg() -> SpaceConfig {
    SpaceConfig {
        kind: "kv".into(),
        key: "bytes".into(),
        value: "bytes".into(),
    }
}

fn open_at(path: &std::path::Path, durability: Durability) -> Arc<Store> {
    Store::open(
        Some(path),
        Options {
            durability,
            ..Options::default()
        },
    )
    .unwrap()
}

fn space(store: &Store, name: &str) -> SpaceId {
    store.open_space("kv", name, None, |_| Ok(cfg())).unwrap().0
}

fn all(store: &Arc<Store>, id: SpaceId, reverse: bool) -> Vec<(Vec<u8>, Vec<u8>)> {
    let spec = RangeSpec {
        lo: Bound::Unbounded,
        hi: Bound::Unbounded,
        reverse,
        keys_only: false,
    };
    let c = Cursor::open(store, id, Source::Snapshot(store.snapshot().unwrap()), spec).unwrap();
    c.next_batch(usize::MAX)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k.to_vec(), v.unwrap().to_vec()))
        .collect()
}

#[test]
fn put_get_delete_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    for durability in [Durability::Sync, Durability::Flush, Durability::Memory] {
        let path = dir.path().join(durability.name());
        let store = open_at(&path, durability);
        let id = space(&store, "main");
        store.put(id, b"a", b"1").unwrap();
        store.put(id, b"b", b"2").unwrap();
        assert_eq!(store.take(id, b"b").unwrap().as_deref(), Some(&b"2"[..]));
        assert_eq!(store.take(id, b"b").unwrap(), None);
        store.close().unwrap();
        assert!(matches!(store.get(id, b"a"), Err(Error::Closed(_))));

        let store = open_at(&path, durability);
        let id = space(&store, "main");
        assert_eq!(store.get(id, b"a").unwrap().as_deref(), Some(&b"1"[..]));
        assert_eq!(store.get(id, b"b").unwrap(), None);
        store.close().unwrap();
    }
}

#[test]
fn second_open_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_at(dir.path(), Durability::Flush);
    let err = Store::open(Some(dir.path()), Options::default()).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    store.close().unwrap();
    open_at(dir.path(), Durability::Flush).close().unwrap();
}

#[test]
fn temporary_store_leaves_nothing() {
    let store = Store::open(None, Options::default()).unwrap();
    let path = store.path().to_path_buf();
    let id = space(&store, "t");
    store.put(id, b"k", b"v").unwrap();
    assert!(path.exists());
    store.close().unwrap();
    assert!(!path.exists());
}

#[test]
fn batches_are_atomic_across_spaces() {
    let store = Store::open(None, Options::default()).unwrap();
    let (a, b) = (space(&store, "a"), space(&store, "b"));
    let ops = vec![
        BatchOp {
            space: a,
            key: b"x".to_vec(),
            value: Some(b"1".to_vec()),
        },
        BatchOp {
            space: b,
            key: b"y".to_vec(),
            value: Some(b"2".to_vec()),
        },
    ];
    store.write_batch(&ops).unwrap();
    assert!(store.contains(a, b"x").unwrap() && store.contains(b, b"y").unwrap());
    // An oversize key anywhere rejects the whole batch before writing.
    let bad = vec![
        BatchOp {
            space: a,
            key: b"z".to_vec(),
            value: Some(b"3".to_vec()),
        },
        BatchOp {
            space: a,
            key: vec![7; MAX_KEY_SIZE + 1],
            value: None,
        },
    ];
    assert!(matches!(
        store.write_batch(&bad),
        Err(Error::InvalidArgument(_))
    ));
    assert!(!store.contains(a, b"z").unwrap());
}

#[test]
fn transactions_read_own_writes_and_detect_conflicts() {
    let store = Store::open(None, Options::default()).unwrap();
    let id = space(&store, "t");
    store.put(id, b"k", b"0").unwrap();

    let tx = Transaction::begin(&store).unwrap();
    assert_eq!(tx.get(id, b"k").unwrap().as_deref(), Some(&b"0"[..]));
    tx.put(id, b"k", b"tx").unwrap();
    tx.put(id, b"new", b"n").unwrap();
    assert_eq!(tx.get(id, b"k").unwrap().as_deref(), Some(&b"tx"[..]));
    // A concurrent auto-commit write to the key the transaction read.
    store.put(id, b"k", b"other").unwrap();
    assert!(matches!(tx.commit(), Err(Error::Conflict)));
    assert_eq!(store.get(id, b"k").unwrap().as_deref(), Some(&b"other"[..]));
    assert!(!store.contains(id, b"new").unwrap());
    assert!(matches!(tx.commit(), Err(Error::Closed(_))));

    // Blind writes never conflict: the last commit wins.
    let t1 = Transaction::begin(&store).unwrap();
    let t2 = Transaction::begin(&store).unwrap();
    t1.put(id, b"k", b"1").unwrap();
    t2.put(id, b"k", b"2").unwrap();
    t2.commit().unwrap();
    t1.commit().unwrap();
    assert_eq!(store.get(id, b"k").unwrap().as_deref(), Some(&b"1"[..]));
}

#[test]
fn scans_in_transactions_conflict_with_inserts_into_the_range() {
    let store = Store::open(None, Options::default()).unwrap();
    let id = space(&store, "t");
    store.put(id, b"a1", b"").unwrap();
    let tx = Transaction::begin(&store).unwrap();
    tx.put(id, b"a0", b"mine").unwrap();
    tx.discard(id, b"a1").unwrap();
    let spec = RangeSpec {
        lo: Bound::Included(b"a".to_vec()),
        hi: Bound::Excluded(b"b".to_vec()),
        reverse: false,
        keys_only: false,
    };
    let c = Cursor::open(&store, id, Source::Tx(tx.clone()), spec).unwrap();
    let seen: Vec<_> = c
        .next_batch(10)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k.to_vec())
        .collect();
    assert_eq!(seen, vec![b"a0".to_vec()]);
    store.put(id, b"a5", b"phantom").unwrap();
    assert!(matches!(tx.commit(), Err(Error::Conflict)));
}

#[test]
fn cursors_are_snapshots_and_reseek_within_bounds() {
    let store = Store::open(None, Options::default()).unwrap();
    let id = space(&store, "c");
    for i in 0u8..10 {
        store.put(id, &[b'k', b'0' + i], &[i]).unwrap();
    }
    let spec = RangeSpec {
        lo: Bound::Included(b"k2".to_vec()),
        hi: Bound::Excluded(b"k8".to_vec()),
        reverse: false,
        keys_only: true,
    };
    let c = Cursor::open(
        &store,
        id,
        Source::Snapshot(store.snapshot().unwrap()),
        spec,
    )
    .unwrap();
    store.put(id, b"k25", b"later").unwrap();
    let keys = |v: Vec<cursor::Item>| v.into_iter().map(|(k, _)| k.to_vec()).collect::<Vec<_>>();
    assert_eq!(
        keys(c.next_batch(2).unwrap()),
        vec![b"k2".to_vec(), b"k3".to_vec()]
    );
    c.seek(b"k0".to_vec(), true).unwrap(); // clamped to the lower bound
    assert_eq!(keys(c.next_batch(1).unwrap()), vec![b"k2".to_vec()]);
    c.seek(b"k6".to_vec(), false).unwrap();
    assert_eq!(keys(c.next_batch(10).unwrap()), vec![b"k7".to_vec()]);
    assert_eq!(all(&store, id, true).len(), 11);
    store.close().unwrap();
    assert!(matches!(c.next_batch(1), Err(Error::Closed(_))));
}

#[test]
fn backup_is_a_consistent_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_at(&dir.path().join("src"), Durability::Flush);
    let id = space(&store, "b");
    for i in 0u32..1000 {
        store.put(id, &i.to_be_bytes(), b"v").unwrap();
    }
    let dest = dir.path().join("copy");
    store.backup(&dest).unwrap();
    assert!(matches!(
        store.backup(&dest),
        Err(Error::InvalidArgument(_))
    ));
    let copy = open_at(&dest, Durability::Flush);
    let cid = space(&copy, "b");
    assert_eq!(all(&copy, cid, false), all(&store, id, false));
}

#[test]
fn invalid_names_and_sizes() {
    let store = Store::open(None, Options::default()).unwrap();
    for bad in ["", "../x", "a/b", "_meta"] {
        assert!(store.open_space("kv", bad, None, |_| Ok(cfg())).is_err());
    }
    let id = space(&store, "ok");
    assert!(matches!(
        store.put(id, b"", b"v"),
        Err(Error::InvalidArgument(_))
    ));
    let big = vec![0u8; MAX_KEY_SIZE + 1];
    assert!(matches!(
        store.put(id, &big, b"v"),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_creation_cut_short_is_cleaned_up_but_a_damaged_store_is_not() {
    let dir = tempfile::tempdir().unwrap();
    // What fjall leaves when killed before writing its version file.
    let cut = dir.path().join("cut");
    std::fs::create_dir_all(cut.join("keyspaces")).unwrap();
    std::fs::write(cut.join("lock"), b"").unwrap();
    std::fs::write(cut.join("0.jnl"), vec![0u8; 4096]).unwrap();
    let store = open_at(&cut, Durability::Sync);
    let id = space(&store, "s");
    store.put(id, b"k", b"v").unwrap();
    store.close().unwrap();

    // A real store whose version file was deleted is damaged, not new.
    std::fs::remove_file(cut.join("version")).unwrap();
    let err = Store::open(Some(&cut), Options::default()).unwrap_err();
    assert!(matches!(err, Error::Corruption { .. }), "{err:?}");
}

#[test]
fn closing_a_store_whose_directory_was_removed_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone");
    let store = open_at(&path, Durability::Flush);
    let id = space(&store, "s");
    store.put(id, b"k", b"v").unwrap();
    std::fs::remove_dir_all(&path).unwrap();
    let start = std::time::Instant::now();
    let _ = store.close();
    assert!(start.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn transact_reads_and_writes_atomically_across_spaces() {
    let store = Store::open(None, Options::default()).unwrap();
    let (a, b) = (space(&store, "a"), space(&store, "b"));
    store.put(a, b"counter", &1u64.to_be_bytes()).unwrap();
    let seen = store
        .transact(|view| {
            let cur = view.get(a, b"counter")?.unwrap();
            let n = u64::from_be_bytes(cur.as_ref().try_into().unwrap());
            let ops = vec![
                BatchOp {
                    space: a,
                    key: b"counter".to_vec(),
                    value: Some((n + 1).to_be_bytes().to_vec()),
                },
                BatchOp {
                    space: b,
                    key: b"log".to_vec(),
                    value: Some(b"bumped".to_vec()),
                },
            ];
            Ok((n, ops))
        })
        .unwrap();
    assert_eq!(seen, 1);
    assert_eq!(
        store.get(a, b"counter").unwrap().unwrap().as_ref(),
        &2u64.to_be_bytes()
    );
    assert!(store.contains(b, b"log").unwrap());
    // A failing plan writes nothing.
    let res: crate::Result<()> = store.transact(|_| Err(Error::Query("no".into())));
    assert!(res.is_err());
    let n = store
        .transact(|view| {
            Ok((
                view.range(a, Bound::Unbounded, Bound::Unbounded)?.count(),
                vec![],
            ))
        })
        .unwrap();
    assert_eq!(n, 1);
}
