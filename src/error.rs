//! The crate's one error type. Every fallible call below `src/py/` returns
//! [`Error`]; `src/py/errors.rs` maps each variant to one Python exception.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine and the codecs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store (or the handle, cursor, transaction or snapshot) was closed.
    #[error("{0} is closed")]
    Closed(&'static str),

    /// Another process (or another open handle in this process) holds the
    /// directory lock.
    #[error("store at {} is locked by {holder}", path.display())]
    Locked {
        /// The store directory.
        path: PathBuf,
        /// Who holds the lock ("process 1234", "this process", ...).
        holder: String,
    },

    /// An optimistic transaction lost a conflict with a concurrent commit.
    #[error("transaction conflict: a key this transaction read was changed by a concurrent commit; retry the transaction")]
    Conflict,

    /// Files on disk are damaged or not a shoal store.
    #[error("store at {path} is corrupted or unreadable: {detail}")]
    Corruption {
        /// The store directory or the file that failed.
        path: PathBuf,
        /// What was found.
        detail: String,
    },

    /// Stored bytes that cannot be decoded (key or value codec).
    #[error("cannot decode stored data: {0}")]
    Decode(String),

    /// Bad input from the caller: names, sizes, options, bounds.
    #[error("{0}")]
    InvalidArgument(String),

    /// A value of a type the chosen codec cannot store.
    #[error("{0}")]
    Type(String),

    /// A filter or update document that is not valid.
    #[error("invalid query: {0}")]
    Query(String),

    /// A primary key (or unique index value) that already exists.
    #[error("duplicate key: {0}")]
    Duplicate(String),

    /// A name that does not exist (space, collection).
    #[error("{0}")]
    NotFound(String),

    /// Operating-system I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// Any other storage-engine failure (poisoned journal, deleted keyspace...).
    #[error("storage error: {0}")]
    Storage(String),
}

/// Whether an I/O error means "no room" (full disk, quota, size limit).
fn out_of_space(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::StorageFull | K::QuotaExceeded | K::FileTooLarge
    )
}

impl Error {
    /// The store at `path` is locked; names the holder when it is known.
    pub fn locked(path: &std::path::Path) -> Self {
        Error::Locked {
            path: path.to_path_buf(),
            holder: crate::engine::owner::describe(path),
        }
    }

    /// Maps a fjall error, naming the store `path` when the data is damaged.
    pub fn from_fjall(err: fjall::Error, path: &std::path::Path) -> Self {
        use fjall::Error as F;
        match err {
            F::Locked => Error::locked(path),
            F::Io(e) => Error::Io(e),
            // Out of space or over a size limit is not damage: the data on
            // disk is intact, and the operation can be retried.
            F::Storage(fjall::LsmError::Io(e)) if out_of_space(&e) => Error::Io(e),
            F::JournalRecovery(_)
            | F::InvalidVersion(_)
            | F::Decompress(_)
            | F::InvalidTrailer
            | F::InvalidTag(_)
            | F::Unrecoverable
            | F::Storage(_) => Error::Corruption {
                path: path.to_path_buf(),
                detail: format!("{err:?}"),
            },
            other => Error::Storage(format!("{other:?}")),
        }
    }
}
