//! The filter AST and its parser from a MongoDB filter document (given as
//! a decoded [`Value`]). Every malformed piece is an [`Error::Query`] naming
//! the operator: a filter never silently matches nothing or everything.

use crate::codec::doc::Value;
use crate::error::{Error, Result};
use regex::Regex;

/// Deepest nesting of logical operators and `$elemMatch`.
pub const MAX_DEPTH: usize = 100;

/// One component of a dotted path.
#[derive(Debug, Clone)]
pub struct Path(pub Vec<String>);

/// A whole filter.
#[derive(Debug)]
pub enum Filter {
    /// All of these.
    And(Vec<Filter>),
    /// Any of these.
    Or(Vec<Filter>),
    /// None of these.
    Nor(Vec<Filter>),
    /// Conditions on the value(s) at a path.
    Field(Path, Vec<Op>),
}

/// A condition on the value(s) at a path.
#[derive(Debug)]
pub enum Op {
    /// Implicit or `$eq`.
    Eq(Value<'static>),
    /// `$ne`.
    Ne(Value<'static>),
    /// `$gt`, `$gte`, `$lt`, `$lte`: the wanted orderings.
    Cmp(Value<'static>, Cmp),
    /// `$in`: values and patterns.
    In(Vec<Value<'static>>, Vec<Regex>),
    /// `$nin`.
    Nin(Vec<Value<'static>>, Vec<Regex>),
    /// `$exists`.
    Exists(bool),
    /// `$regex`.
    Regex(Regex),
    /// `$size`.
    Size(usize),
    /// `$all`.
    All(Vec<Value<'static>>),
    /// `$elemMatch` with operators on the element itself.
    ElemOps(Vec<Op>),
    /// `$elemMatch` with a filter on element documents.
    ElemFilter(Box<Filter>),
    /// `$mod`.
    Mod(i64, i64),
    /// `$type`: accepted type names.
    Type(Vec<&'static str>),
    /// `$not`.
    Not(Vec<Op>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `$gt`.
    Gt,
    /// `$gte`.
    Gte,
    /// `$lt`.
    Lt,
    /// `$lte`.
    Lte,
}

fn err(msg: impl Into<String>) -> Error {
    Error::Query(msg.into())
}

/// Parses a filter document (`None` / empty map matches everything).
pub fn parse(doc: &Value<'_>) -> Result<Filter> {
    parse_doc(doc, 0)
}

fn parse_doc(doc: &Value<'_>, depth: usize) -> Result<Filter> {
    if depth > MAX_DEPTH {
        return Err(err(format!("filter nested deeper than {MAX_DEPTH} levels")));
    }
    let Value::Map(fields) = doc else {
        return Err(err("a filter must be a dict"));
    };
    let mut parts = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        parts.push(match key.as_ref() {
            "$and" | "$or" | "$nor" => {
                let Value::Array(items) = value else {
                    return Err(err(format!("{key} needs a non-empty list of filters")));
                };
                if items.is_empty() {
                    return Err(err(format!("{key} needs a non-empty list of filters")));
                }
                let subs = items
                    .iter()
                    .map(|i| match i {
                        Value::Map(_) => parse_doc(i, depth + 1),
                        _ => Err(err(format!("{key} needs a list of dicts"))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                match key.as_ref() {
                    "$and" => Filter::And(subs),
                    "$or" => Filter::Or(subs),
                    _ => Filter::Nor(subs),
                }
            }
            k if k.starts_with('$') => {
                return Err(err(format!("unknown top-level operator {k}")));
            }
            path => Filter::Field(parse_path(path)?, parse_condition(value, depth)?),
        });
    }
    Ok(if parts.len() == 1 {
        parts.pop().unwrap_or(Filter::And(Vec::new()))
    } else {
        Filter::And(parts)
    })
}

fn parse_path(path: &str) -> Result<Path> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(err(format!("invalid field path {path:?}")));
    }
    Ok(Path(path.split('.').map(str::to_string).collect()))
}

fn is_operator_doc(v: &Value<'_>) -> bool {
    matches!(v, Value::Map(f) if !f.is_empty() && f.iter().all(|(k, _)| k.starts_with('$')))
}

/// The condition on one field: an operator document, a pattern, or a value
/// for implicit equality.
fn parse_condition(value: &Value<'_>, depth: usize) -> Result<Vec<Op>> {
    match value {
        Value::Regex(flags, pattern) => Ok(vec![Op::Regex(compile(pattern, *flags, "$regex")?)]),
        v if is_operator_doc(v) => parse_ops(v, depth),
        Value::Map(fields) if fields.iter().any(|(k, _)| k.starts_with('$')) => {
            Err(err("a condition cannot mix $operators and plain fields"))
        }
        v => Ok(vec![Op::Eq(v.clone().into_owned())]),
    }
}

fn flags_of(options: &str) -> Result<u8> {
    let mut f = 0u8;
    for c in options.chars() {
        f |= match c {
            'i' => 1,
            'm' => 2,
            's' => 4,
            'x' => 8,
            other => return Err(err(format!("$options: unknown flag {other:?}"))),
        };
    }
    Ok(f)
}

fn compile(pattern: &str, flags: u8, op: &str) -> Result<Regex> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(flags & 1 != 0)
        .multi_line(flags & 2 != 0)
        .dot_matches_new_line(flags & 4 != 0)
        .ignore_whitespace(flags & 8 != 0)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| {
            err(format!(
                "{op}: cannot use pattern {pattern:?} (linear-time engine: no look-around \
                 or backreferences): {e}"
            ))
        })
}

fn values_and_patterns(v: &Value<'_>, op: &str) -> Result<(Vec<Value<'static>>, Vec<Regex>)> {
    let Value::Array(items) = v else {
        return Err(err(format!("{op} needs a list")));
    };
    let mut values = Vec::new();
    let mut patterns = Vec::new();
    for i in items {
        match i {
            Value::Regex(f, p) => patterns.push(compile(p, *f, op)?),
            Value::Map(f) if f.iter().any(|(k, _)| k.starts_with('$')) => {
                return Err(err(format!("{op} cannot contain $operators")))
            }
            other => values.push(other.clone().into_owned()),
        }
    }
    Ok((values, patterns))
}

fn as_int(v: &Value<'_>) -> Option<i64> {
    match v {
        Value::Int(i) => i64::try_from(*i).ok(),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Some(*f as i64),
        _ => None,
    }
}

const TYPE_NAMES: &[(&str, &[&str])] = &[
    ("null", &["null"]),
    ("bool", &["bool"]),
    ("int", &["int"]),
    ("long", &["int"]),
    ("double", &["double"]),
    ("decimal", &["decimal"]),
    ("number", &["int", "double", "decimal"]),
    ("string", &["string"]),
    ("object", &["object"]),
    ("array", &["array"]),
    ("binData", &["binData"]),
    ("date", &["date"]),
    ("regex", &["regex"]),
];

fn type_names(v: &Value<'_>) -> Result<Vec<&'static str>> {
    let one = |v: &Value<'_>| -> Result<&'static [&'static str]> {
        match v {
            Value::Str(s) => TYPE_NAMES
                .iter()
                .find(|(n, _)| *n == s.as_ref())
                .map(|(_, names)| *names)
                .ok_or_else(|| err(format!("$type: unknown type {s:?}"))),
            _ => Err(err("$type needs a type name or a list of them")),
        }
    };
    match v {
        Value::Array(items) if !items.is_empty() => {
            let mut out = Vec::new();
            for i in items {
                out.extend_from_slice(one(i)?);
            }
            Ok(out)
        }
        other => Ok(one(other)?.to_vec()),
    }
}

fn parse_ops(doc: &Value<'_>, depth: usize) -> Result<Vec<Op>> {
    let Value::Map(fields) = doc else {
        return Err(err("expected an operator dict"));
    };
    let options = match doc.field("$options") {
        Some(Value::Str(s)) => Some(flags_of(s)?),
        Some(_) => return Err(err("$options needs a str")),
        None => None,
    };
    let mut ops = Vec::with_capacity(fields.len());
    for (key, v) in fields {
        let op = match key.as_ref() {
            "$eq" => Op::Eq(v.clone().into_owned()),
            "$ne" => Op::Ne(v.clone().into_owned()),
            "$gt" => Op::Cmp(v.clone().into_owned(), Cmp::Gt),
            "$gte" => Op::Cmp(v.clone().into_owned(), Cmp::Gte),
            "$lt" => Op::Cmp(v.clone().into_owned(), Cmp::Lt),
            "$lte" => Op::Cmp(v.clone().into_owned(), Cmp::Lte),
            "$in" => {
                let (vals, pats) = values_and_patterns(v, "$in")?;
                Op::In(vals, pats)
            }
            "$nin" => {
                let (vals, pats) = values_and_patterns(v, "$nin")?;
                Op::Nin(vals, pats)
            }
            "$exists" => match v {
                Value::Bool(b) => Op::Exists(*b),
                _ => return Err(err("$exists needs True or False")),
            },
            "$regex" => match v {
                Value::Str(p) => Op::Regex(compile(p, options.unwrap_or(0), "$regex")?),
                Value::Regex(f, p) => Op::Regex(compile(p, f | options.unwrap_or(0), "$regex")?),
                _ => return Err(err("$regex needs a str or a compiled pattern")),
            },
            "$options" => {
                if doc.field("$regex").is_none() {
                    return Err(err("$options needs $regex"));
                }
                continue;
            }
            "$size" => match as_int(v) {
                Some(n) if n >= 0 => Op::Size(n as usize),
                _ => return Err(err("$size needs a non-negative int")),
            },
            "$all" => match v {
                Value::Array(items) => {
                    Op::All(items.iter().map(|i| i.clone().into_owned()).collect())
                }
                _ => return Err(err("$all needs a list")),
            },
            "$elemMatch" => {
                if depth >= MAX_DEPTH {
                    return Err(err(format!("filter nested deeper than {MAX_DEPTH} levels")));
                }
                match v {
                    m if is_operator_doc(m) => Op::ElemOps(parse_ops(m, depth + 1)?),
                    Value::Map(_) => Op::ElemFilter(Box::new(parse_doc(v, depth + 1)?)),
                    _ => return Err(err("$elemMatch needs a dict")),
                }
            }
            "$mod" => match v {
                Value::Array(items) if items.len() == 2 => {
                    match (as_int(&items[0]), as_int(&items[1])) {
                        (Some(0), _) => return Err(err("$mod: divisor must not be zero")),
                        (Some(d), Some(r)) => Op::Mod(d, r),
                        _ => return Err(err("$mod needs [divisor, remainder] as ints")),
                    }
                }
                _ => return Err(err("$mod needs [divisor, remainder]")),
            },
            "$type" => Op::Type(type_names(v)?),
            "$not" => {
                if depth >= MAX_DEPTH {
                    return Err(err(format!("filter nested deeper than {MAX_DEPTH} levels")));
                }
                match v {
                    Value::Regex(f, p) => Op::Not(vec![Op::Regex(compile(p, *f, "$not")?)]),
                    m if is_operator_doc(m) => Op::Not(parse_ops(m, depth + 1)?),
                    _ => return Err(err("$not needs an operator dict or a pattern")),
                }
            }
            other => return Err(err(format!("unknown operator {other}"))),
        };
        ops.push(op);
    }
    Ok(ops)
}
