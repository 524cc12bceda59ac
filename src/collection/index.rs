//! Secondary index definitions and the entries a document gives them.
//!
//! Indexes of collection `c` live in the space `idx.c`:
//! - `[0, 0] name` -> the definition (JSON [`IndexSpec`]);
//! - `[id] values pk` -> `pk` (an entry of a non-unique index), or
//!   `[id] values` -> `pk` (unique index: one document per value);
//! - `[id | 0x8000] values` -> number of documents with an entry of that
//!   value (big-endian u64), so that counting needs no scan.
//!
//! `values` concatenates one encoded *atom* per indexed field. Atoms are
//! what the query evaluator compares a condition with: the value at the
//! path, each element of an array there, and `None` where the path is
//! missing. They use the key codec (its type order is MongoDB's), plus a
//! datetime tag; dicts, nested lists and regexes have no atom (no scalar
//! condition can match them). An index stays correct for every document:
//! the planner only asks it for scalar conditions, and every candidate is
//! checked against the whole filter.

use crate::codec::doc::Value;
use crate::codec::key::KeyWriter;
use crate::error::{Error, Result};
use crate::query::eval::resolve;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Id prefix of definitions.
pub const DEFS: [u8; 2] = [0, 0];
/// Bit set in the id of counter keys.
const COUNTER_BIT: u16 = 0x8000;
/// Most indexes per collection (ids 1..=this).
pub const MAX_INDEXES: u16 = 64;
/// Most entries one document may give one index (lists in several fields
/// of a compound index multiply).
pub const MAX_ENTRIES_PER_DOCUMENT: usize = 10_000;
/// Tag of datetime atoms: after bool, as in MongoDB's type order.
pub const TAG_DATETIME: u8 = 0x70;

/// The stored form of a definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IndexSpec {
    /// Name (unique within the collection).
    pub name: String,
    /// Id: the entries' key prefix.
    pub id: u16,
    /// Dotted field paths with directions (1 or -1).
    pub fields: Vec<(String, i8)>,
    /// At most one document per value.
    pub unique: bool,
    /// Documents missing every indexed field get no entry.
    pub sparse: bool,
    /// Some document had a list at an indexed path.
    #[serde(default)]
    pub multikey: bool,
    /// Some atom's order is approximate (Decimals at float precision, UUIDs
    /// keyed like bytes): ranges are widened and counts not taken from the
    /// index.
    #[serde(default)]
    pub approximate: bool,
    /// Some document has no entry although the index is not sparse (its
    /// value is a dict, or an empty list): the index cannot list them all.
    #[serde(default)]
    pub partial: bool,
}

/// A live definition. The flags only ever go from false to true; writers set
/// them before their commit, readers read them after taking their
/// snapshot, so a reader never trusts a flag older than its data.
#[derive(Debug)]
pub struct IndexDef {
    /// The definition as created.
    pub spec: IndexSpec,
    /// Split paths of `spec.fields`.
    pub paths: Vec<Vec<String>>,
    multikey: AtomicBool,
    approximate: AtomicBool,
    partial: AtomicBool,
    /// The flags (as [`IndexDef::mask`]) the stored definition holds, as
    /// far as this process knows.
    stored: AtomicU8,
}

/// Properties of one document's entries that widen an index's flags.
#[derive(Debug, Default, Clone, Copy)]
pub struct Shape {
    /// A list at an indexed path.
    pub multikey: bool,
    /// An atom with approximate order.
    pub approximate: bool,
    /// A document without an entry (a value without an atom, an empty list).
    pub partial: bool,
    /// A value without an atom (a dict, a nested list).
    pub unindexable: bool,
}

impl IndexDef {
    /// A live definition from its stored form.
    pub fn new(spec: IndexSpec) -> Self {
        let paths = spec
            .fields
            .iter()
            .map(|(f, _)| f.split('.').map(str::to_string).collect())
            .collect();
        let stored =
            u8::from(spec.multikey) | u8::from(spec.approximate) << 1 | u8::from(spec.partial) << 2;
        Self {
            stored: AtomicU8::new(stored),
            multikey: AtomicBool::new(spec.multikey),
            approximate: AtomicBool::new(spec.approximate),
            partial: AtomicBool::new(spec.partial),
            paths,
            spec,
        }
    }

    /// The definition's key in the index space.
    pub fn def_key(&self) -> Vec<u8> {
        let mut k = DEFS.to_vec();
        k.extend_from_slice(self.spec.name.as_bytes());
        k
    }

    /// The definition as stored now (current flags).
    pub fn encode(&self) -> Vec<u8> {
        let mut spec = self.spec.clone();
        spec.multikey = self.multikey();
        spec.approximate = self.approximate();
        spec.partial = self.partial();
        serde_json::to_vec(&spec).unwrap_or_default()
    }

    /// Whether some document had a list at an indexed path.
    pub fn multikey(&self) -> bool {
        self.multikey.load(Ordering::SeqCst)
    }

    /// Whether some atom's order is approximate.
    pub fn approximate(&self) -> bool {
        self.approximate.load(Ordering::SeqCst)
    }

    /// Whether some document has no entry although the index is not sparse.
    pub fn partial(&self) -> bool {
        self.partial.load(Ordering::SeqCst)
    }

    /// The flags as bits: multikey 1, approximate 2, partial 4.
    pub fn mask(&self) -> u8 {
        u8::from(self.multikey())
            | u8::from(self.approximate()) << 1
            | u8::from(self.partial()) << 2
    }

    /// Widens the flags to cover `shape` (before the commit that needs them).
    pub fn widen(&self, shape: Shape) {
        for (flag, on) in [
            (&self.multikey, shape.multikey),
            (&self.approximate, shape.approximate),
            (&self.partial, shape.partial),
        ] {
            if on {
                flag.store(true, Ordering::SeqCst);
            }
        }
    }

    /// Whether the stored definition lacks some flag; if so, records it as
    /// stored by the commit being prepared (under the commit lock).
    pub fn take_unstored(&self) -> bool {
        let now = self.mask();
        self.stored.swap(now, Ordering::SeqCst) != now
    }

    /// After a failed commit: the stored flags are unknown, so the next
    /// commit stores the definition again.
    pub fn forget_stored(&self) {
        self.stored.store(0, Ordering::SeqCst);
    }

    /// Prefix of this index's entries.
    pub fn prefix(&self) -> [u8; 2] {
        self.spec.id.to_be_bytes()
    }

    /// Prefix of this index's counters.
    pub fn counter_prefix(&self) -> [u8; 2] {
        (self.spec.id | COUNTER_BIT).to_be_bytes()
    }

    /// The entry key of `values` for the document `pk`.
    pub fn entry_key(&self, values: &[u8], pk: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(2 + values.len() + pk.len());
        k.extend_from_slice(&self.prefix());
        k.extend_from_slice(values);
        if !self.spec.unique {
            k.extend_from_slice(pk);
        }
        k
    }

    /// The counter key of `values`.
    pub fn counter_key(&self, values: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(2 + values.len());
        k.extend_from_slice(&self.counter_prefix());
        k.extend_from_slice(values);
        k
    }

    /// The distinct encoded `values` of a document's entries (sorted) and
    /// their shape. Fails for a unique index given a value it cannot
    /// compare, and past [`MAX_ENTRIES_PER_DOCUMENT`].
    pub fn entries(&self, doc: &Value<'_>) -> Result<(Vec<Vec<u8>>, Shape)> {
        let mut shape = Shape::default();
        let mut per_field: Vec<Vec<Vec<u8>>> = Vec::with_capacity(self.paths.len());
        let mut all_missing = true;
        for path in &self.paths {
            let mut leaves = Vec::new();
            resolve(doc, path, &mut leaves);
            let mut atoms = Vec::new();
            for leaf in leaves {
                match leaf {
                    None => atoms.push(vec![NULL_ATOM]),
                    Some(Value::Array(items)) => {
                        all_missing = false;
                        shape.multikey = true;
                        if items.is_empty() {
                            shape.partial = true;
                        }
                        for item in items {
                            push_atom(item, &mut atoms, &mut shape);
                        }
                    }
                    Some(v) => {
                        all_missing = false;
                        push_atom(v, &mut atoms, &mut shape);
                    }
                }
            }
            atoms.sort();
            atoms.dedup();
            per_field.push(atoms);
        }
        if self.spec.sparse && all_missing {
            return Ok((Vec::new(), Shape::default()));
        }
        if self.spec.unique && shape.unindexable {
            return Err(Error::InvalidArgument(format!(
                "unique index {:?} only holds None, numbers, str, bytes, UUID, bool and \
                 datetime values (and lists of them)",
                self.spec.name
            )));
        }
        // A field with no atom (an empty list, a dict) still gives the
        // document an entry, under a tag no condition bound reaches: a
        // compound index must find it through its other fields.
        for atoms in &mut per_field {
            if atoms.is_empty() {
                shape.partial = true;
                atoms.push(vec![NO_ATOM]);
            }
        }
        let mut out: Vec<Vec<u8>> = vec![Vec::new()];
        for atoms in &per_field {
            if out.len() * atoms.len() > MAX_ENTRIES_PER_DOCUMENT {
                return Err(Error::InvalidArgument(format!(
                    "a document gives index {:?} more than {MAX_ENTRIES_PER_DOCUMENT} \
                     entries (lists in several of its fields)",
                    self.spec.name
                )));
            }
            out = out
                .iter()
                .flat_map(|prefix| {
                    atoms.iter().map(move |a| {
                        let mut v = prefix.clone();
                        v.extend_from_slice(a);
                        v
                    })
                })
                .collect();
        }
        out.sort();
        out.dedup();
        Ok((out, shape))
    }
}

/// The atom of `None` (and of a missing field).
pub const NULL_ATOM: u8 = 0x05;
/// The stand-in atom of a field holding no atom (after every type tag).
pub const NO_ATOM: u8 = 0xF0;

fn push_atom(v: &Value<'_>, atoms: &mut Vec<Vec<u8>>, shape: &mut Shape) {
    let mut buf = Vec::new();
    match encode_atom(v, &mut buf) {
        Some(approximate) => {
            shape.approximate |= approximate;
            atoms.push(buf);
        }
        None => {
            shape.partial = true;
            shape.unindexable = true;
        }
    }
}

/// Appends the atom of a scalar; returns whether its order is approximate,
/// or `None` (nothing written) for values without an atom.
pub fn encode_atom(v: &Value<'_>, buf: &mut Vec<u8>) -> Option<bool> {
    let mut w = KeyWriter::new(buf);
    match v {
        Value::Null => w.none(),
        Value::Bool(b) => w.bool(*b),
        Value::Int(i) => w.int_magnitude(*i < 0, &i.unsigned_abs().to_be_bytes()),
        Value::BigInt(neg, mag) => w.int_magnitude(*neg, mag),
        Value::Float(f) => w.f64(*f),
        Value::Decimal(s) => {
            // Correctly rounded, hence monotonic: order is kept up to ties.
            w.f64(decimal_to_f64(s));
            return Some(true);
        }
        Value::Str(s) => w.str(s),
        Value::Bytes(b) => w.bytes(b),
        Value::Uuid(b) => {
            w.bytes(b);
            return Some(true);
        }
        Value::DateTime(wall, offset) => {
            let instant = i128::from(*wall) - i128::from(offset.unwrap_or(0));
            buf.push(TAG_DATETIME);
            buf.extend_from_slice(&((instant as u128) ^ (1u128 << 127)).to_be_bytes());
        }
        Value::Array(_) | Value::Map(_) | Value::Regex(..) => return None,
    }
    Some(false)
}

fn decimal_to_f64(s: &str) -> f64 {
    let t = s.trim().to_ascii_lowercase();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let v = match body {
        "nan" | "snan" => return f64::NAN,
        "inf" | "infinity" => f64::INFINITY,
        _ => body.parse::<f64>().unwrap_or(f64::NAN),
    };
    if neg {
        -v
    } else {
        v
    }
}

/// Parses and checks index fields: `(path, direction)` pairs.
pub fn check_fields(fields: &[(String, i8)]) -> Result<()> {
    if fields.is_empty() {
        return Err(Error::InvalidArgument(
            "an index needs at least one field".into(),
        ));
    }
    for (i, (f, dir)) in fields.iter().enumerate() {
        if f.is_empty() || f.split('.').any(str::is_empty) || f.starts_with('$') {
            return Err(Error::InvalidArgument(format!("invalid index field {f:?}")));
        }
        if *dir != 1 && *dir != -1 {
            return Err(Error::InvalidArgument(format!(
                "direction of index field {f:?} must be 1 or -1"
            )));
        }
        if fields[..i].iter().any(|(g, _)| g == f) {
            return Err(Error::InvalidArgument(format!(
                "index field {f:?} is given twice"
            )));
        }
    }
    Ok(())
}

/// MongoDB's default name: `field_dir` joined by `_`.
pub fn default_name(fields: &[(String, i8)]) -> String {
    fields
        .iter()
        .map(|(f, d)| format!("{f}_{d}"))
        .collect::<Vec<_>>()
        .join("_")
}

/// Short Python-like text of a value, for messages.
pub fn describe(v: &Value<'_>) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Decimal(s) => format!("Decimal('{s}')"),
        Value::Str(s) => format!("{s:?}"),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
        other => format!("<{}>", other.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn spec(fields: &[&str], unique: bool, sparse: bool) -> IndexDef {
        IndexDef::new(IndexSpec {
            name: "i".into(),
            id: 1,
            fields: fields.iter().map(|f| (f.to_string(), 1)).collect(),
            unique,
            sparse,
            multikey: false,
            approximate: false,
            partial: false,
        })
    }

    fn doc(fields: Vec<(&str, Value<'static>)>) -> Value<'static> {
        Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.to_string()), v))
                .collect(),
        )
    }

    #[test]
    fn lists_give_one_entry_per_distinct_element() {
        let d = doc(vec![(
            "tags",
            Value::Array(vec![Value::Int(2), Value::Float(2.0), Value::Int(1)]),
        )]);
        let (entries, shape) = spec(&["tags"], false, false).entries(&d).unwrap();
        assert_eq!(entries.len(), 2);
        assert!(shape.multikey && !shape.partial);
    }

    #[test]
    fn missing_fields_are_null_unless_sparse() {
        let d = doc(vec![("a", Value::Int(1))]);
        let (entries, _) = spec(&["b"], false, false).entries(&d).unwrap();
        assert_eq!(entries, vec![vec![NULL_ATOM]]);
        let (entries, _) = spec(&["b"], false, true).entries(&d).unwrap();
        assert!(entries.is_empty());
    }

    #[test]
    fn atoms_follow_the_type_order() {
        let vals = [
            Value::Null,
            Value::Float(-1.5),
            Value::Int(3),
            Value::Str(Cow::Borrowed("a")),
            Value::Bytes(Cow::Borrowed(b"a")),
            Value::Bool(false),
            Value::Bool(true),
            Value::DateTime(-5, None),
            Value::DateTime(5, Some(1)),
        ];
        let enc: Vec<Vec<u8>> = vals
            .iter()
            .map(|v| {
                let mut b = Vec::new();
                encode_atom(v, &mut b).unwrap();
                b
            })
            .collect();
        assert!(enc.windows(2).all(|w| w[0] < w[1]), "{enc:?}");
    }

    #[test]
    fn unique_indexes_refuse_dicts_and_compound_lists_multiply() {
        let d = doc(vec![("a", doc(vec![("x", Value::Int(1))]))]);
        assert!(spec(&["a"], true, false).entries(&d).is_err());
        let d = doc(vec![("a", Value::Array(vec![]))]);
        assert_eq!(
            spec(&["a"], true, false).entries(&d).unwrap().0,
            vec![vec![NO_ATOM]]
        );
        // A compound index still lists a document whose second field has
        // no atom.
        let d = doc(vec![("a", Value::Int(1)), ("b", Value::Array(vec![]))]);
        assert_eq!(
            spec(&["a", "b"], false, false).entries(&d).unwrap().0.len(),
            1
        );
        let d = doc(vec![
            ("a", Value::Array(vec![Value::Int(1), Value::Int(2)])),
            ("b", Value::Array(vec![Value::Int(3), Value::Int(4)])),
        ]);
        let (entries, _) = spec(&["a", "b"], false, false).entries(&d).unwrap();
        assert_eq!(entries.len(), 4);
    }
}
