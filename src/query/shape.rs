//! Result shaping: sort specifications and projections (MongoDB's rules).
//!
//! - Sort: fields with directions; a missing field sorts as `None`; an array
//!   sorts by its smallest element ascending and its largest descending;
//!   ties keep primary-key order; an empty list sorts as a missing field.
//! - Projection: `{field: 1, ...}` keeps only those fields (and `_id`,
//!   unless `"_id": 0`), `{field: 0, ...}` drops them; dotted paths reach
//!   into sub-documents (and through lists of them). Mixing inclusion and
//!   exclusion (other than `_id`) is an error.

use crate::codec::doc::{compare, Value};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::cmp::Ordering;

fn err(msg: impl Into<String>) -> Error {
    Error::Query(msg.into())
}

fn path_of(p: &str) -> Result<Vec<String>> {
    if p.is_empty() || p.split('.').any(str::is_empty) || p.starts_with('$') {
        return Err(err(format!("invalid field path {p:?}")));
    }
    Ok(p.split('.').map(str::to_string).collect())
}

/// A sort specification: (path, descending).
#[derive(Debug, Clone)]
pub struct Sort(pub Vec<(Vec<String>, bool)>);

impl Sort {
    /// From `[(field, 1 | -1), ...]` given as a decoded list of pairs.
    pub fn parse(spec: &Value<'_>) -> Result<Sort> {
        let Value::Array(items) = spec else {
            return Err(err("sort needs a list of (field, direction) pairs"));
        };
        if items.is_empty() {
            return Err(err("sort needs at least one field"));
        }
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            let (field, dir) = match item {
                Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
                _ => return Err(err("sort needs (field, direction) pairs")),
            };
            let Value::Str(f) = field else {
                return Err(err("sort fields must be str"));
            };
            let descending = match dir {
                Value::Int(1) => false,
                Value::Int(-1) => true,
                _ => return Err(err(format!("sort direction of {f:?} must be 1 or -1"))),
            };
            keys.push((path_of(f)?, descending));
        }
        Ok(Sort(keys))
    }

    fn key_of<'v, 'a>(
        doc: &'v Value<'a>,
        path: &[String],
        descending: bool,
    ) -> Option<&'v Value<'a>> {
        let mut cur = doc;
        for comp in path {
            cur = match cur {
                Value::Map(_) => cur.field(comp)?,
                Value::Array(items) => items.get(comp.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        match cur {
            Value::Array(items) if !items.is_empty() => {
                let pick = if descending {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
                items
                    .iter()
                    .reduce(|best, x| if compare(x, best) == pick { x } else { best })
            }
            // An empty list sorts with the missing values (MongoDB puts it
            // just below null).
            Value::Array(_) => None,
            other => Some(other),
        }
    }

    /// Orders two documents.
    pub fn compare(&self, a: &Value<'_>, b: &Value<'_>) -> Ordering {
        for (path, descending) in &self.0 {
            let (ka, kb) = (
                Self::key_of(a, path, *descending),
                Self::key_of(b, path, *descending),
            );
            let o = match (ka, kb) {
                (Some(x), Some(y)) => compare(x, y),
                (None, Some(y)) => compare(&Value::Null, y),
                (Some(x), None) => compare(x, &Value::Null),
                (None, None) => Ordering::Equal,
            };
            let o = if *descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

/// A projection.
#[derive(Debug, Clone)]
pub struct Projection {
    include: bool,
    paths: Vec<Vec<String>>,
    keep_id: bool,
}

impl Projection {
    /// From `{field: 1 | 0 | True | False, ...}`.
    pub fn parse(spec: &Value<'_>) -> Result<Projection> {
        let Value::Map(fields) = spec else {
            return Err(err("a projection must be a dict of field: 1 or 0"));
        };
        let mut include = None;
        let mut keep_id = true;
        let mut id_given = false;
        let mut paths = Vec::new();
        for (field, flag) in fields {
            let on = match flag {
                Value::Int(1) | Value::Bool(true) => true,
                Value::Int(0) | Value::Bool(false) => false,
                _ => return Err(err(format!("projection of {field:?} must be 1 or 0"))),
            };
            if field == "_id" {
                keep_id = on;
                id_given = true;
                continue;
            }
            match include {
                None => include = Some(on),
                Some(i) if i != on => {
                    return Err(err("a projection cannot mix inclusion and exclusion"))
                }
                _ => {}
            }
            paths.push(path_of(field)?);
        }
        Ok(Projection {
            // `{"_id": 1}` alone keeps only `_id`, as in MongoDB.
            include: include.unwrap_or(id_given && keep_id),
            paths,
            keep_id,
        })
    }

    /// The projected document.
    pub fn apply<'a>(&self, doc: &Value<'a>) -> Value<'a> {
        let mut out = if self.include {
            let mut kept = Value::Map(Vec::new());
            for p in &self.paths {
                include_path(doc, p, &mut kept);
            }
            kept
        } else {
            let mut d = doc.clone();
            for p in &self.paths {
                exclude_path(&mut d, p);
            }
            d
        };
        if let Value::Map(fields) = &mut out {
            fields.retain(|(k, _)| k != "_id");
            if self.keep_id {
                if let Some(id) = doc.field("_id") {
                    fields.insert(0, (Cow::Borrowed("_id"), id.clone()));
                }
            }
        }
        out
    }
}

/// Copies `path` of `src` into `dst` (same shape; lists of documents are
/// projected element by element).
fn include_path<'a>(src: &Value<'a>, path: &[String], dst: &mut Value<'a>) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    let (Value::Map(sfields), Value::Map(dfields)) = (src, &mut *dst) else {
        return;
    };
    let Some((name, child)) = sfields.iter().find(|(k, _)| k == head) else {
        return;
    };
    if rest.is_empty() {
        match dfields.iter_mut().find(|(k, _)| k == head) {
            Some((_, v)) => *v = child.clone(),
            None => dfields.push((name.clone(), child.clone())),
        }
        return;
    }
    let pos = match dfields.iter().position(|(k, _)| k == head) {
        Some(i) => i,
        None => {
            let empty = match child {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .filter(|i| matches!(i, Value::Map(_)))
                        .map(|_| Value::Map(Vec::new()))
                        .collect(),
                ),
                Value::Map(_) => Value::Map(Vec::new()),
                _ => return,
            };
            dfields.push((name.clone(), empty));
            dfields.len() - 1
        }
    };
    let slot = &mut dfields[pos].1;
    match (child, slot) {
        (Value::Map(_), slot @ Value::Map(_)) => include_path(child, rest, slot),
        (Value::Array(items), Value::Array(outs)) => {
            for (item, out) in items
                .iter()
                .filter(|i| matches!(i, Value::Map(_)))
                .zip(outs.iter_mut())
            {
                include_path(item, rest, out);
            }
        }
        _ => {}
    }
}

fn exclude_path(doc: &mut Value<'_>, path: &[String]) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    match doc {
        Value::Map(fields) => {
            if rest.is_empty() {
                fields.retain(|(k, _)| k != head);
            } else if let Some((_, child)) = fields.iter_mut().find(|(k, _)| k == head) {
                exclude_path(child, rest);
            }
        }
        Value::Array(items) => {
            for item in items {
                exclude_path(item, path);
            }
        }
        _ => {}
    }
}
