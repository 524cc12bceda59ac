//! Update documents (`{"$set": {...}, "$inc": {...}, ...}` or a replacement
//! document), parsed once and applied to decoded documents.
//!
//! Operators: `$set`, `$unset`, `$inc`, `$mul`, `$min`, `$max`, `$rename`,
//! `$push` (with `$each`), `$pull`, `$addToSet` (with `$each`), `$pop`,
//! `$currentDate`. Paths are dotted; missing sub-documents are created;
//! numeric components index into lists. Errors (unknown operator, `$inc` on
//! a string, `$push` on a non-list, changing a primary-key field...) are
//! [`Error::Query`] and leave the document unchanged.

use super::eval::matches;
use super::filter::{self, Filter};
use crate::codec::doc::{compare, equal, Value};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::cmp::Ordering;

type Owned = Value<'static>;

/// One parsed update.
#[derive(Debug)]
pub enum Update {
    /// A whole new document (primary-key fields are kept).
    Replace(Owned),
    /// Operators, applied in order.
    Ops(Vec<(Kind, Vec<String>, Operand)>),
}

/// Update operator kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `$set`.
    Set,
    /// `$unset`.
    Unset,
    /// `$inc`.
    Inc,
    /// `$mul`.
    Mul,
    /// `$min`.
    Min,
    /// `$max`.
    Max,
    /// `$rename` (operand: the new path).
    Rename,
    /// `$push`.
    Push,
    /// `$addToSet`.
    AddToSet,
    /// `$pull`.
    Pull,
    /// `$pop`.
    Pop,
    /// `$currentDate`.
    CurrentDate,
}

/// What an operator applies.
#[derive(Debug)]
pub enum Operand {
    /// A value.
    Value(Owned),
    /// Several values (`$each`).
    Each(Vec<Owned>),
    /// A new path (`$rename`).
    Path(Vec<String>),
    /// `$pull`: operators on each element itself, as a filter on field "v"
    /// of a wrapper document.
    ElemCond(Box<Filter>),
    /// `$pull`: a filter on element documents.
    DocCond(Box<Filter>),
}

fn err(msg: impl Into<String>) -> Error {
    Error::Query(msg.into())
}

fn path_of(p: &str) -> Result<Vec<String>> {
    if p.is_empty() || p.split('.').any(|c| c.is_empty() || c.starts_with('$')) {
        return Err(err(format!("invalid update path {p:?}")));
    }
    Ok(p.split('.').map(str::to_string).collect())
}

/// Parses an update document.
pub fn parse(doc: &Value<'_>) -> Result<Update> {
    let Value::Map(fields) = doc else {
        return Err(err("an update must be a dict"));
    };
    if fields.is_empty() {
        return Err(err("an update must not be empty"));
    }
    let ops_count = fields.iter().filter(|(k, _)| k.starts_with('$')).count();
    if ops_count == 0 {
        return Ok(Update::Replace(doc.clone().into_owned()));
    }
    if ops_count != fields.len() {
        return Err(err("an update cannot mix $operators and plain fields"));
    }
    let mut ops = Vec::new();
    for (op, args) in fields {
        let kind = match op.as_ref() {
            "$set" => Kind::Set,
            "$unset" => Kind::Unset,
            "$inc" => Kind::Inc,
            "$mul" => Kind::Mul,
            "$min" => Kind::Min,
            "$max" => Kind::Max,
            "$rename" => Kind::Rename,
            "$push" => Kind::Push,
            "$addToSet" => Kind::AddToSet,
            "$pull" => Kind::Pull,
            "$pop" => Kind::Pop,
            "$currentDate" => Kind::CurrentDate,
            other => return Err(err(format!("unknown update operator {other}"))),
        };
        let Value::Map(targets) = args else {
            return Err(err(format!("{op} needs a dict of field: value")));
        };
        for (path, arg) in targets {
            let path = path_of(path)?;
            let operand = match kind {
                Kind::Inc | Kind::Mul => {
                    if !matches!(
                        arg,
                        Value::Int(_) | Value::BigInt(..) | Value::Float(_) | Value::Decimal(_)
                    ) {
                        return Err(err(format!("{op} needs numbers")));
                    }
                    Operand::Value(arg.clone().into_owned())
                }
                Kind::Rename => match arg {
                    Value::Str(s) => Operand::Path(path_of(s)?),
                    _ => return Err(err("$rename needs the new field name as a str")),
                },
                Kind::Push | Kind::AddToSet => match arg.field("$each") {
                    Some(Value::Array(items)) => {
                        Operand::Each(items.iter().map(|i| i.clone().into_owned()).collect())
                    }
                    Some(_) => return Err(err(format!("{op}: $each needs a list"))),
                    None => Operand::Value(arg.clone().into_owned()),
                },
                Kind::Pop => match arg {
                    Value::Int(1) | Value::Int(-1) => Operand::Value(arg.clone().into_owned()),
                    _ => return Err(err("$pop needs 1 (last) or -1 (first)")),
                },
                Kind::Pull => match arg {
                    Value::Map(f) if !f.is_empty() && f.iter().all(|(k, _)| k.starts_with('$')) => {
                        let wrapped = Value::Map(vec![(Cow::Borrowed("v"), arg.clone())]);
                        Operand::ElemCond(Box::new(filter::parse(&wrapped)?))
                    }
                    Value::Map(f) if !f.is_empty() => {
                        Operand::DocCond(Box::new(filter::parse(arg)?))
                    }
                    other => Operand::Value(other.clone().into_owned()),
                },
                Kind::CurrentDate => match arg {
                    Value::Bool(true) => Operand::Value(Value::Null),
                    Value::Map(_) if matches!(arg.field("$type"), Some(Value::Str(t)) if t == "date") => {
                        Operand::Value(Value::Null)
                    }
                    _ => return Err(err("$currentDate needs True or {\"$type\": \"date\"}")),
                },
                _ => Operand::Value(arg.clone().into_owned()),
            };
            ops.push((kind, path, operand));
        }
    }
    Ok(Update::Ops(ops))
}

/// Navigates to the parent container of `path`, creating maps on the way
/// when `create`. Returns `None` when the path cannot exist.
fn parent_mut<'d>(
    doc: &'d mut Owned,
    path: &[String],
    create: bool,
) -> Result<Option<&'d mut Owned>> {
    let mut cur = doc;
    for comp in &path[..path.len() - 1] {
        let next: &mut Owned = match cur {
            Value::Map(fields) => {
                let pos = fields.iter().position(|(k, _)| k == comp);
                match pos {
                    Some(i) => &mut fields[i].1,
                    None if create => {
                        fields.push((Cow::Owned(comp.clone()), Value::Map(Vec::new())));
                        let last = fields.len() - 1;
                        &mut fields[last].1
                    }
                    None => return Ok(None),
                }
            }
            Value::Array(items) => match comp.parse::<usize>() {
                Ok(i) if i < items.len() => &mut items[i],
                Ok(i) if create => {
                    items.resize(i + 1, Value::Null);
                    items[i] = Value::Map(Vec::new());
                    &mut items[i]
                }
                _ => return Ok(None),
            },
            _ if create => {
                return Err(err(format!(
                    "cannot create field {comp:?} inside a value that is not a dict"
                )))
            }
            _ => return Ok(None),
        };
        cur = next;
    }
    Ok(Some(cur))
}

fn get_mut<'d>(container: &'d mut Owned, name: &str) -> Option<&'d mut Owned> {
    match container {
        Value::Map(fields) => fields.iter_mut().find(|(k, _)| k == name).map(|(_, v)| v),
        Value::Array(items) => name
            .parse::<usize>()
            .ok()
            .and_then(move |i| items.get_mut(i)),
        _ => None,
    }
}

fn set(doc: &mut Owned, path: &[String], value: Owned) -> Result<()> {
    let parent = parent_mut(doc, path, true)?.ok_or_else(|| err("path cannot be created"))?;
    let name = &path[path.len() - 1];
    match parent {
        Value::Map(fields) => match fields.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value,
            None => fields.push((Cow::Owned(name.clone()), value)),
        },
        Value::Array(items) => {
            let i: usize = name
                .parse()
                .map_err(|_| err(format!("cannot set field {name:?} of a list")))?;
            if i >= items.len() {
                items.resize(i + 1, Value::Null);
            }
            items[i] = value;
        }
        _ => {
            return Err(err(format!(
                "cannot set field {name:?} inside a non-dict value"
            )))
        }
    }
    Ok(())
}

fn take(doc: &mut Owned, path: &[String]) -> Result<Option<Owned>> {
    let Some(parent) = parent_mut(doc, path, false)? else {
        return Ok(None);
    };
    let name = &path[path.len() - 1];
    Ok(match parent {
        Value::Map(fields) => fields
            .iter()
            .position(|(k, _)| k == name)
            .map(|i| fields.remove(i).1),
        // Mongo sets unset list elements to null rather than shifting.
        Value::Array(items) => match name.parse::<usize>() {
            Ok(i) if i < items.len() => Some(std::mem::replace(&mut items[i], Value::Null)),
            _ => None,
        },
        _ => None,
    })
}

fn current(doc: &mut Owned, path: &[String]) -> Result<Option<Owned>> {
    let Some(parent) = parent_mut(doc, path, false)? else {
        return Ok(None);
    };
    Ok(get_mut(parent, &path[path.len() - 1]).map(|v| v.clone()))
}

fn arith(a: &Owned, b: &Owned, mul: bool) -> Result<Owned> {
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let r = if mul {
                x.checked_mul(*y)
            } else {
                x.checked_add(*y)
            };
            Value::Int(r.ok_or_else(|| err("integer overflow in $inc/$mul"))?)
        }
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => {
            let x = *x as f64;
            Value::Float(if mul { x * y } else { x + y })
        }
        (Value::Float(x), Value::Float(y)) => Value::Float(if mul { x * y } else { x + y }),
        _ => return Err(err("$inc/$mul apply to ints and floats only")),
    })
}

fn now() -> Owned {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    Value::DateTime(micros, Some(0))
}

/// The document an upsert starts from: the filter's equality conditions
/// (`{"a": 1}`, `{"a": {"$eq": 1}}`, also inside `$and`).
pub fn seed_from_filter(filter: Option<&Filter>) -> Owned {
    let mut doc = Value::Map(Vec::new());
    fn walk(f: &Filter, doc: &mut Owned) {
        match f {
            Filter::And(parts) => parts.iter().for_each(|p| walk(p, doc)),
            Filter::Field(path, ops) => {
                for op in ops {
                    if let super::filter::Op::Eq(v) = op {
                        if !matches!(v, Value::Regex(..)) {
                            let _ = set(doc, &path.0, v.clone());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(f) = filter {
        walk(f, &mut doc);
    }
    doc
}

/// Applies `update` to `doc` in place. `key_fields` may not change.
pub fn apply(update: &Update, doc: &mut Owned, key_fields: &[String]) -> Result<()> {
    let before: Vec<Option<Owned>> = key_fields.iter().map(|f| doc.field(f).cloned()).collect();
    match update {
        Update::Replace(new) => {
            let mut new = new.clone();
            for (f, old) in key_fields.iter().zip(&before) {
                match (new.field(f), old) {
                    (None, Some(old)) => set(&mut new, std::slice::from_ref(f), old.clone())?,
                    (Some(n), Some(old)) if !equal(n, old) => {
                        return Err(err(format!(
                            "a replacement cannot change the key field {f:?}"
                        )))
                    }
                    _ => {}
                }
            }
            *doc = new;
        }
        Update::Ops(ops) => {
            for (kind, path, operand) in ops {
                apply_one(*kind, path, operand, doc)?;
            }
        }
    }
    for (f, old) in key_fields.iter().zip(&before) {
        let same = match (doc.field(f), old) {
            (Some(a), Some(b)) => equal(a, b) && a.type_rank() == b.type_rank(),
            (None, None) => true,
            _ => false,
        };
        if !same {
            return Err(err(format!("an update cannot change the key field {f:?}")));
        }
    }
    Ok(())
}

fn apply_one(kind: Kind, path: &[String], operand: &Operand, doc: &mut Owned) -> Result<()> {
    let value = |o: &Operand| match o {
        Operand::Value(v) => v.clone(),
        _ => Value::Null,
    };
    match kind {
        Kind::Set => set(doc, path, value(operand)),
        Kind::Unset => take(doc, path).map(|_| ()),
        Kind::Inc | Kind::Mul => {
            let by = value(operand);
            let cur = current(doc, path)?;
            let new = match cur {
                None if kind == Kind::Inc => by,
                None => match by {
                    Value::Float(_) => Value::Float(0.0),
                    _ => Value::Int(0),
                },
                Some(c) => arith(&c, &by, kind == Kind::Mul)?,
            };
            set(doc, path, new)
        }
        Kind::Min | Kind::Max => {
            let v = value(operand);
            let replace = match current(doc, path)? {
                None => true,
                Some(c) => {
                    let o = compare(&v, &c);
                    if kind == Kind::Min {
                        o == Ordering::Less
                    } else {
                        o == Ordering::Greater
                    }
                }
            };
            if replace {
                set(doc, path, v)?;
            }
            Ok(())
        }
        Kind::Rename => {
            let Operand::Path(to) = operand else {
                return Ok(());
            };
            if let Some(v) = take(doc, path)? {
                set(doc, to, v)?;
            }
            Ok(())
        }
        Kind::Push | Kind::AddToSet => {
            let items = match operand {
                Operand::Each(items) => items.clone(),
                other => vec![value(other)],
            };
            let mut list = match current(doc, path)? {
                None => Vec::new(),
                Some(Value::Array(l)) => l,
                Some(_) => return Err(err(format!("{kind:?} needs a list field"))),
            };
            for item in items {
                if kind == Kind::Push || !list.iter().any(|x| equal(x, &item)) {
                    list.push(item);
                }
            }
            set(doc, path, Value::Array(list))
        }
        Kind::Pull => {
            let list = match current(doc, path)? {
                None => return Ok(()),
                Some(Value::Array(l)) => l,
                Some(_) => return Err(err("$pull needs a list field")),
            };
            let kept: Vec<Owned> = list
                .into_iter()
                .filter(|item| match operand {
                    Operand::Value(v) => !equal(item, v),
                    Operand::DocCond(f) => !(matches!(item, Value::Map(_)) && matches(f, item)),
                    Operand::ElemCond(f) => {
                        let wrapped = Value::Map(vec![(Cow::Borrowed("v"), item.clone())]);
                        !matches(f, &wrapped)
                    }
                    _ => true,
                })
                .collect();
            set(doc, path, Value::Array(kept))
        }
        Kind::Pop => {
            let mut list = match current(doc, path)? {
                None => return Ok(()),
                Some(Value::Array(l)) => l,
                Some(_) => return Err(err("$pop needs a list field")),
            };
            if !list.is_empty() {
                if matches!(value(operand), Value::Int(1)) {
                    list.pop();
                } else {
                    list.remove(0);
                }
            }
            set(doc, path, Value::Array(list))
        }
        Kind::CurrentDate => set(doc, path, now()),
    }
}
