//! Evaluates a [`Filter`] on a decoded document, with MongoDB's rules:
//! dotted paths traverse sub-documents and arrays; a condition matches if
//! any value reached by the path matches (array elements included); a
//! missing field equals `None`; comparisons only between values of the same
//! type class; negations (`$ne`, `$nin`, `$not`) are the complement.

use super::filter::{Cmp, Filter, Op};
use crate::codec::doc::{compare, equal, is_nan, Value};
use crate::codec::number::Limbs;
use std::cmp::Ordering;

/// Whether `doc` matches `filter`.
pub fn matches(filter: &Filter, doc: &Value<'_>) -> bool {
    match filter {
        Filter::And(parts) => parts.iter().all(|f| matches(f, doc)),
        Filter::Or(parts) => parts.iter().any(|f| matches(f, doc)),
        Filter::Nor(parts) => !parts.iter().any(|f| matches(f, doc)),
        Filter::Field(path, ops) => {
            let mut leaves = Vec::new();
            resolve(doc, &path.0, &mut leaves);
            ops.iter().all(|op| op_matches(op, &leaves, true))
        }
    }
}

/// A value reached by a path, or `None` where the path is missing.
pub(crate) type Leaf<'v, 'a> = Option<&'v Value<'a>>;

/// Collects what the path reaches: values, and `None` for each place where
/// it is missing (the whole document, or an array element without it).
pub(crate) fn resolve<'v, 'a>(value: &'v Value<'a>, path: &[String], out: &mut Vec<Leaf<'v, 'a>>) {
    let Some((head, rest)) = path.split_first() else {
        out.push(Some(value));
        return;
    };
    match value {
        Value::Map(_) => match value.field(head) {
            Some(child) => resolve(child, rest, out),
            None => out.push(None),
        },
        Value::Array(items) => {
            let before = out.len();
            if let Ok(i) = head.parse::<usize>() {
                if let Some(item) = items.get(i) {
                    resolve(item, rest, out);
                }
            }
            for item in items {
                if matches!(item, Value::Map(_)) {
                    resolve(item, path, out);
                }
            }
            if out.len() == before {
                out.push(None);
            }
        }
        _ => out.push(None),
    }
}

/// A leaf and, when `expand`, the elements of an array leaf.
fn candidates<'v, 'a>(leaf: &'v Value<'a>, expand: bool) -> impl Iterator<Item = &'v Value<'a>> {
    let elems: &'v [Value<'a>] = match leaf {
        Value::Array(items) if expand => items,
        _ => &[],
    };
    std::iter::once(leaf).chain(elems.iter())
}

fn present<'l, 'v, 'a>(leaves: &'l [Leaf<'v, 'a>]) -> impl Iterator<Item = &'v Value<'a>> + 'l {
    leaves.iter().filter_map(|l| *l)
}

fn eq_any(leaves: &[Leaf<'_, '_>], want: &Value<'_>, expand: bool) -> bool {
    if matches!(want, Value::Null) && leaves.iter().any(Option::is_none) {
        return true;
    }
    present(leaves).any(|leaf| candidates(leaf, expand).any(|c| equal(c, want)))
}

fn regex_any(leaves: &[Leaf<'_, '_>], re: &regex::Regex, expand: bool) -> bool {
    present(leaves)
        .any(|leaf| candidates(leaf, expand).any(|c| matches!(c, Value::Str(s) if re.is_match(s))))
}

fn cmp_ok(c: &Value<'_>, want: &Value<'_>, op: Cmp) -> bool {
    if c.type_rank() != want.type_rank() {
        return false;
    }
    // NaN is ordered below every number for sorting, but a range never
    // matches it (as in MongoDB): only NaN >= NaN and NaN <= NaN hold.
    if is_nan(c) || is_nan(want) {
        return is_nan(c) && is_nan(want) && matches!(op, Cmp::Gte | Cmp::Lte);
    }
    let o = compare(c, want);
    match op {
        Cmp::Gt => o == Ordering::Greater,
        Cmp::Gte => o != Ordering::Less,
        Cmp::Lt => o == Ordering::Less,
        Cmp::Lte => o != Ordering::Greater,
    }
}

fn in_any(
    leaves: &[Leaf<'_, '_>],
    values: &[Value<'_>],
    patterns: &[regex::Regex],
    expand: bool,
) -> bool {
    values.iter().any(|v| eq_any(leaves, v, expand))
        || patterns.iter().any(|re| regex_any(leaves, re, expand))
}

/// `x % d` with the sign of `x` (truncated, as MongoDB), for ints of any
/// size and floats (truncated first); `None` for other values.
fn remainder(v: &Value<'_>, d: i64) -> Option<i128> {
    let d128 = i128::from(d);
    match v {
        Value::Int(i) => Some(i % d128),
        Value::Float(f) if f.is_finite() && f.abs() < 1.0e38 => Some((f.trunc() as i128) % d128),
        Value::BigInt(neg, mag) => {
            let r = i128::from(Limbs::from_be_bytes(mag).divmod_small(d.unsigned_abs()));
            Some(if *neg { -r } else { r })
        }
        _ => None,
    }
}

/// `expand`: whether array leaves also stand for their elements (false
/// inside `$elemMatch`, which already applies to one element).
fn op_matches(op: &Op, leaves: &[Leaf<'_, '_>], expand: bool) -> bool {
    match op {
        Op::Eq(v) => eq_any(leaves, v, expand),
        Op::Ne(v) => !eq_any(leaves, v, expand),
        Op::Cmp(v, c) => {
            if matches!(v, Value::Null)
                && matches!(c, Cmp::Gte | Cmp::Lte)
                && leaves.iter().any(Option::is_none)
            {
                return true;
            }
            present(leaves).any(|leaf| candidates(leaf, expand).any(|x| cmp_ok(x, v, *c)))
        }
        Op::In(values, patterns) => in_any(leaves, values, patterns, expand),
        Op::Nin(values, patterns) => !in_any(leaves, values, patterns, expand),
        Op::Exists(want) => present(leaves).next().is_some() == *want,
        Op::Regex(re) => regex_any(leaves, re, expand),
        Op::Size(n) => {
            present(leaves).any(|l| matches!(l, Value::Array(items) if items.len() == *n))
        }
        Op::All(values) => !values.is_empty() && values.iter().all(|v| eq_any(leaves, v, expand)),
        Op::ElemOps(ops) => present(leaves).any(|l| match l {
            Value::Array(items) => items.iter().any(|item| {
                let one = [Some(item)];
                ops.iter().all(|op| op_matches(op, &one, false))
            }),
            _ => false,
        }),
        Op::ElemFilter(f) => present(leaves).any(|l| match l {
            Value::Array(items) => items
                .iter()
                .any(|item| matches!(item, Value::Map(_)) && matches(f, item)),
            _ => false,
        }),
        Op::Mod(d, r) => present(leaves).any(|leaf| {
            candidates(leaf, expand).any(|c| remainder(c, *d).is_some_and(|x| x == i128::from(*r)))
        }),
        Op::Type(names) => present(leaves)
            .any(|leaf| candidates(leaf, expand).any(|c| names.contains(&c.type_name()))),
        Op::Not(ops) => !ops.iter().all(|op| op_matches(op, leaves, expand)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::filter::parse;
    use std::borrow::Cow;

    fn map(fields: Vec<(&str, Value<'static>)>) -> Value<'static> {
        Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.to_string()), v))
                .collect(),
        )
    }

    fn s(x: &str) -> Value<'static> {
        Value::Str(Cow::Owned(x.to_string()))
    }

    #[test]
    fn implicit_equality_arrays_and_missing() {
        let doc = map(vec![
            ("a", Value::Int(1)),
            ("tags", Value::Array(vec![s("x"), s("y")])),
            ("n", map(vec![("b", Value::Float(2.0))])),
        ]);
        let m = |f: Value<'static>| matches(&parse(&f).unwrap(), &doc);
        assert!(m(map(vec![("a", Value::Float(1.0))])));
        assert!(m(map(vec![("tags", s("y"))])));
        assert!(m(map(vec![("n.b", Value::Int(2))])));
        assert!(m(map(vec![("missing", Value::Null)])));
        assert!(!m(map(vec![("a", Value::Bool(true))])));
        assert!(m(map(vec![(
            "a",
            map(vec![("$gt", Value::Int(0)), ("$lt", Value::Int(2))])
        )])));
        assert!(!m(map(vec![("a", map(vec![("$gt", s("0"))]))])));
        assert!(m(map(vec![("missing", map(vec![("$ne", Value::Int(1))]))])));
        assert!(m(map(vec![("tags", map(vec![("$size", Value::Int(2))]))])));
    }

    #[test]
    fn bad_operators_are_errors() {
        for f in [
            map(vec![("a", map(vec![("$bogus", Value::Int(1))]))]),
            map(vec![("a", map(vec![("$in", Value::Int(1))]))]),
            map(vec![(
                "a",
                map(vec![(
                    "$mod",
                    Value::Array(vec![Value::Int(0), Value::Int(1)]),
                )]),
            )]),
            map(vec![("$or", Value::Array(vec![]))]),
            map(vec![("a", map(vec![("$regex", s("(?=x)"))]))]),
        ] {
            assert!(parse(&f).is_err(), "{f:?}");
        }
    }
}
