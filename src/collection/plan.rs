//! The query planner: how a filter (and sort) reads a collection.
//!
//! 1. Equality or `$in` on every primary-key field: read those documents.
//! 2. Else the index serving the most conditions: equality/`$in` on a
//!    prefix of its fields, then at most one range (`$gt`... on scalars of
//!    one type) on the next field. Candidates are checked against the whole
//!    filter, so an index only has to never miss a match.
//! 3. Else, with a sort and a limit, an index whose order is the sort order.
//! 4. Else a scan of the collection in primary-key order.
//!
//! A plan is *covered* when its entries are exactly the matches (every
//! condition of the filter is one of its bounds): counting it reads entries
//! (or counters), never documents.

use super::index::{encode_atom, IndexDef, NULL_ATOM, TAG_DATETIME};
use crate::codec::doc::{is_nan, Value};
use crate::query::filter::{Cmp, Filter, Op};
use crate::query::shape::Sort;
use std::ops::Bound;
use std::sync::Arc;

/// Most point lookups one index plan makes (from `$in` lists multiplied
/// across fields); past it the plan keeps fewer fields.
const MAX_POINTS: usize = 10_000;

/// A range over the `values` part of index keys (after the id prefix):
/// `lo` inclusive, `hi` exclusive; `None` is open.
#[derive(Debug, Clone)]
pub struct ValueRange {
    /// Inclusive lower bound.
    pub lo: Option<Vec<u8>>,
    /// Exclusive upper bound.
    pub hi: Option<Vec<u8>>,
}

impl ValueRange {
    /// Absolute bounds under `prefix` (an index's entry or counter prefix).
    pub fn bounds(&self, prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        let join = |v: &[u8]| [prefix, v].concat();
        let lo = Bound::Included(join(self.lo.as_deref().unwrap_or_default()));
        let hi = match &self.hi {
            Some(h) => Bound::Excluded(join(h)),
            None => successor(prefix).map_or(Bound::Unbounded, Bound::Excluded),
        };
        (lo, hi)
    }
}

/// The smallest byte string above every string starting with `p`.
pub fn successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut s = p.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xFF {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

/// How a query reads through an index.
#[derive(Debug, Clone)]
pub struct IndexScan {
    /// The index.
    pub def: Arc<IndexDef>,
    /// Value ranges to read, in order.
    pub ranges: Vec<ValueRange>,
    /// The entries in `ranges` are exactly the matching documents.
    pub covered: bool,
    /// `Some(reverse)`: read in entry order, which is the sort order (on
    /// the index fields after the pinned ones, or, when every index field
    /// is pinned by equality, on the primary key).
    pub ordered: Option<bool>,
    /// Fields used with equality.
    pub eq_fields: usize,
    /// Whether the next field has a range.
    pub range_field: bool,
}

impl IndexScan {
    /// Whether counters give the exact count: covered, and every document
    /// has at most one entry in the ranges.
    pub fn counts_from_counters(&self) -> bool {
        self.covered
            && (!self.def.multikey()
                || (self.ranges.len() == 1
                    && !self.range_field
                    && self.eq_fields == self.def.paths.len()))
    }
}

/// A range of primary keys: equality on the first key fields, then
/// perhaps a range on the next one.
#[derive(Debug, Clone)]
pub struct KeyRange {
    /// Inclusive lower bound of the encoded keys.
    pub lo: Vec<u8>,
    /// Exclusive upper bound (`None`: open).
    pub hi: Option<Vec<u8>>,
    /// Read backwards (for a descending sort on the key).
    pub reverse: bool,
    /// The keys in the range are exactly the matches.
    pub covered: bool,
    /// Key fields used with equality.
    pub eq_fields: usize,
    /// Whether the next key field has a range.
    pub range_field: bool,
}

impl KeyRange {
    /// The bounds, for a scan.
    pub fn bounds(&self) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
        (
            Bound::Included(self.lo.clone()),
            self.hi.clone().map_or(Bound::Unbounded, Bound::Excluded),
        )
    }
}

/// How a query reads the collection.
#[derive(Debug, Clone)]
pub enum Access {
    /// Every document, in primary-key order.
    Scan,
    /// These encoded primary keys (sorted).
    Keys(Vec<Vec<u8>>),
    /// A range of primary keys, in key order (or reversed).
    KeyRange(KeyRange),
    /// The union of several plans (one per branch of an `$or`), read as
    /// the sorted keys they give.
    Union(Vec<Access>),
    /// Through an index.
    Index(IndexScan),
}

/// Conditions of the filter's top-level conjunction, by path.
struct Preds<'f> {
    fields: Vec<(&'f [String], Vec<&'f Op>)>,
    /// Conditions the index bounds cannot express ($or, $nor).
    other: bool,
    total: usize,
}

impl<'f> Preds<'f> {
    fn of(filter: Option<&'f Filter>) -> Self {
        let mut p = Preds {
            fields: Vec::new(),
            other: false,
            total: 0,
        };
        if let Some(f) = filter {
            p.add(f);
        }
        p
    }

    fn add(&mut self, f: &'f Filter) {
        match f {
            Filter::And(parts) => parts.iter().for_each(|p| self.add(p)),
            Filter::Field(path, ops) => {
                self.total += ops.len();
                let ops_iter = ops.iter();
                match self
                    .fields
                    .iter_mut()
                    .find(|(p, _)| *p == path.0.as_slice())
                {
                    Some((_, v)) => v.extend(ops_iter),
                    None => self.fields.push((&path.0, ops_iter.collect())),
                }
            }
            Filter::Or(_) | Filter::Nor(_) => self.other = true,
        }
    }

    /// The conditions of `rest` (the conjunction without its `$or`) and of
    /// one `$or` branch.
    fn branch(rest: &[&'f Filter], branch: &'f Filter) -> Self {
        let mut p = Preds::of(None);
        rest.iter().for_each(|f| p.add(f));
        p.add(branch);
        // The other branches are not bounds of this one.
        p.other = true;
        p
    }

    fn get(&self, path: &[String]) -> Option<&[&'f Op]> {
        self.fields
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, ops)| ops.as_slice())
    }
}

/// The atom of a condition's operand, and whether it is approximate.
fn atom(v: &Value<'_>) -> Option<(Vec<u8>, bool)> {
    let mut buf = Vec::new();
    let approximate = encode_atom(v, &mut buf)?;
    // No entry can hold a value this long: such a condition scans.
    (buf.len() <= MAX_ATOM).then_some((buf, approximate))
}

/// Longest operand atom a plan bounds with (room left for the index id, the
/// other fields and the primary key within the engine's key limit).
const MAX_ATOM: usize = 32 * 1024;

/// The atoms an equality-like condition matches, if it is one, and
/// whether any is approximate (then it matches more than the condition).
fn points(op: &Op) -> Option<(Vec<Vec<u8>>, bool)> {
    match op {
        Op::Eq(v) => atom(v).map(|(a, approximate)| (vec![a], approximate)),
        Op::In(vs, patterns) if patterns.is_empty() => {
            let mut approximate = false;
            let mut out = Vec::with_capacity(vs.len());
            for v in vs {
                let (a, ap) = atom(v)?;
                approximate |= ap;
                out.push(a);
            }
            out.sort();
            out.dedup();
            Some((out, approximate))
        }
        Op::Cmp(Value::Null, Cmp::Gte | Cmp::Lte) => Some((vec![vec![NULL_ATOM]], false)),
        _ => None,
    }
}

/// First and past-the-end tag of the atoms comparable with `v`; `None` for
/// values a range never uses.
fn class_of(v: &Value<'_>) -> Option<(u8, u8)> {
    if is_nan(v) {
        return None;
    }
    Some(match v {
        // From -inf: ranges never match NaN (below every number).
        Value::Int(_) | Value::BigInt(..) | Value::Float(_) | Value::Decimal(_) => (0x11, 0x16),
        Value::Str(_) => (0x20, 0x21),
        Value::Bytes(_) | Value::Uuid(_) => (0x50, 0x51),
        Value::Bool(_) => (0x60, 0x62),
        Value::DateTime(..) => (TAG_DATETIME, TAG_DATETIME + 1),
        _ => return None,
    })
}

/// What one index can do for a filter and sort.
struct Candidate {
    scan: IndexScan,
    score: usize,
}

fn consider(
    def: &Arc<IndexDef>,
    key_fields: &[String],
    preds: &Preds<'_>,
    sort: Option<&Sort>,
) -> Candidate {
    let multikey = def.multikey();
    let mut approximate = def.approximate();
    let mut prefixes: Vec<Vec<u8>> = vec![Vec::new()];
    let mut consumed = 0usize;
    let mut eq_fields = 0usize;
    let mut range: Option<(Vec<u8>, Vec<u8>)> = None;
    for path in &def.paths {
        let Some(ops) = preds.get(path) else { break };
        let found = ops.iter().find_map(|op| points(op));
        // A sparse index lacks the documents missing its fields, which
        // `None` matches.
        if let Some((atoms, _)) = &found {
            if def.spec.sparse && atoms.iter().any(|a| a.as_slice() == [NULL_ATOM]) {
                break;
            }
        }
        if let Some((atoms, ap)) = found {
            approximate |= ap;
            if prefixes.len() * atoms.len().max(1) > MAX_POINTS {
                break;
            }
            prefixes = prefixes
                .iter()
                .flat_map(|p| atoms.iter().map(move |a| [p.as_slice(), a].concat()))
                .collect();
            consumed += 1;
            eq_fields += 1;
            continue;
        }
        let cmps: Vec<(&Value<'_>, Cmp)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Cmp(v, c) => class_of(v).map(|_| (v, *c)),
                _ => None,
            })
            .collect();
        let Some(&(first, _)) = cmps.first() else {
            break;
        };
        let class = class_of(first);
        let mut lo = vec![class.map_or(0, |c| c.0)];
        let mut hi = vec![class.map_or(0, |c| c.1)];
        // A list matches each bound through any element: bounds of one
        // field only intersect when no document holds a list there.
        let take = if multikey { 1 } else { cmps.len() };
        for &(v, c) in cmps.iter().filter(|(v, _)| class_of(v) == class).take(take) {
            let Some((a, ap)) = atom(v) else { continue };
            consumed += 1;
            approximate |= ap;
            // Approximate atoms may tie with the bound: keep the ties.
            let c = match (approximate, c) {
                (true, Cmp::Gt) => Cmp::Gte,
                (true, Cmp::Lt) => Cmp::Lte,
                (_, c) => c,
            };
            match c {
                Cmp::Gt => lo = lo.max(successor(&a).unwrap_or(a)),
                Cmp::Gte => lo = lo.max(a),
                Cmp::Lt => hi = hi.min(a),
                Cmp::Lte => hi = hi.min(successor(&a).unwrap_or(a)),
            }
        }
        range = Some((lo, hi));
        break;
    }
    let ranges: Vec<ValueRange> = prefixes
        .iter()
        .map(|p| match &range {
            Some((lo, hi)) => ValueRange {
                lo: Some([p.as_slice(), lo].concat()),
                hi: Some([p.as_slice(), hi].concat()),
            },
            None => ValueRange {
                lo: (!p.is_empty()).then(|| p.clone()),
                hi: if p.is_empty() { None } else { successor(p) },
            },
        })
        .collect();
    let covered = !preds.other && consumed == preds.total && !approximate;
    let ordered = sort.and_then(|s| {
        let k = eq_fields;
        let fits = prefixes.len() == 1
            && !multikey
            && !approximate
            && !def.partial()
            && !def.spec.sparse
            && def.paths.len() >= k + s.0.len()
            && s.0.iter().zip(&def.paths[k..]).all(|((p, _), q)| p == q)
            && s.0.iter().all(|(_, d)| *d == s.0[0].1);
        if fits {
            return Some(s.0[0].1);
        }
        // Every index field pinned by one equality: the entries share their
        // values and follow in primary-key order (entry keys end with it).
        let pinned = eq_fields == def.paths.len() && prefixes.len() == 1;
        if pinned {
            return key_sort_direction(key_fields, s);
        }
        None
    });
    let full_unique = def.spec.unique && eq_fields == def.paths.len();
    let score = 2 * eq_fields + usize::from(range.is_some()) + usize::from(full_unique);
    Candidate {
        scan: IndexScan {
            def: def.clone(),
            ranges,
            covered,
            ordered,
            eq_fields,
            range_field: range.is_some(),
        },
        score,
    }
}

/// Key tag of tuples (see `codec::key`): compound keys start with it.
const TAG_TUPLE: u8 = 0x40;

/// The primary-key range a filter pins: equality on a prefix of the key
/// fields, then perhaps a range on the next one; with its score (ranked
/// with the indexes', a notch above: it reads no index entries).
fn key_range(
    key_fields: &[String],
    preds: &Preds<'_>,
    sort: Option<&Sort>,
) -> Option<(KeyRange, usize)> {
    let compound = key_fields.len() > 1;
    let mut prefix: Vec<u8> = if compound {
        vec![TAG_TUPLE]
    } else {
        Vec::new()
    };
    let mut consumed = 0usize;
    let mut eq_fields = 0usize;
    let mut range: Option<(Vec<u8>, Vec<u8>)> = None;
    for field in key_fields {
        let path = [field.clone()];
        let Some(ops) = preds.get(&path) else { break };
        if let Some(v) = ops.iter().find_map(|op| match op {
            Op::Eq(v) if super::is_key_scalar(v) => Some(v),
            _ => None,
        }) {
            let (a, _) = atom(v)?;
            prefix.extend_from_slice(&a);
            consumed += 1;
            eq_fields += 1;
            continue;
        }
        let cmps: Vec<(&Value<'_>, Cmp)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Cmp(v, c) if super::is_key_scalar(v) => class_of(v).map(|_| (v, *c)),
                _ => None,
            })
            .collect();
        let Some(&(first, _)) = cmps.first() else {
            break;
        };
        let class = class_of(first)?;
        let (mut lo, mut hi) = (vec![class.0], vec![class.1]);
        for &(v, c) in cmps.iter().filter(|(v, _)| class_of(v) == Some(class)) {
            let (a, _) = atom(v)?;
            consumed += 1;
            match c {
                Cmp::Gt => lo = lo.max(successor(&a).unwrap_or(a)),
                Cmp::Gte => lo = lo.max(a),
                Cmp::Lt => hi = hi.min(a),
                Cmp::Lte => hi = hi.min(successor(&a).unwrap_or(a)),
            }
        }
        range = Some((lo, hi));
        break;
    }
    if eq_fields == 0 && range.is_none() {
        // No condition on the key but a sort on it: the whole key range,
        // read in the sort's direction, needs no sorting and stops at a
        // limit. Score 0: any index with a condition is preferred.
        let reverse = sort.and_then(|s| key_sort_direction(key_fields, s))?;
        return Some((
            KeyRange {
                hi: compound.then(|| successor(&prefix)).flatten(),
                lo: prefix,
                reverse,
                covered: !preds.other && preds.total == 0,
                eq_fields: 0,
                range_field: false,
            },
            0,
        ));
    }
    // Equality on every key field is a point lookup (`pinned_keys`), unless
    // a value is one keys refuse; a compound prefix ends with the tuple's end.
    let has_range = range.is_some();
    let (lo, hi) = match range {
        Some((lo, hi)) => (
            [prefix.as_slice(), &lo].concat(),
            Some([prefix.as_slice(), &hi].concat()),
        ),
        None => (prefix.clone(), successor(&prefix)),
    };
    // In key order; reversed for a descending sort on the next key fields.
    let reverse = sort.and_then(|s| key_sort_direction(&key_fields[eq_fields..], s));
    let score = 2 * eq_fields + usize::from(has_range) + 1;
    Some((
        KeyRange {
            lo,
            hi,
            reverse: reverse.unwrap_or(false),
            covered: !preds.other && consumed == preds.total,
            eq_fields,
            range_field: has_range,
        },
        score,
    ))
}

/// Whether a key-range plan gives the sort order.
pub fn key_range_ordered(kr: &KeyRange, key_fields: &[String], sort: Option<&Sort>) -> bool {
    sort.is_none_or(|s| key_sort_direction(&key_fields[kr.eq_fields..], s) == Some(kr.reverse))
}

/// Whether `sort` is on the leading fields of `rest` (key fields after the
/// equality ones), all in one direction: then `Some(descending)`.
fn key_sort_direction(rest: &[String], s: &Sort) -> Option<bool> {
    let fits = !s.0.is_empty()
        && s.0.len() <= rest.len()
        && s.0
            .iter()
            .zip(rest)
            .all(|((p, _), f)| p.len() == 1 && p[0] == *f)
        && s.0.iter().all(|(_, d)| *d == s.0[0].1);
    fits.then_some(s.0[0].1)
}

/// Chooses how to read. `pinned`: the primary keys the filter pins, if any.
/// Index flags are read here: call after taking the snapshot the plan runs on.
pub fn choose(
    key_fields: &[String],
    pinned: Option<Vec<Vec<u8>>>,
    defs: &[Arc<IndexDef>],
    filter: Option<&Filter>,
    sort: Option<&Sort>,
    limit: Option<usize>,
) -> Access {
    if let Some(keys) = pinned {
        return Access::Keys(keys);
    }
    let preds = Preds::of(filter);
    let access = choose_for(key_fields, defs, &preds, sort, limit);
    // A plan that only gives the order (a scan, or the whole key range read
    // in sort order) reads every document: an `$or` of indexed branches
    // reads fewer.
    let order_only = match &access {
        Access::Scan => true,
        Access::KeyRange(kr) => kr.eq_fields == 0 && !kr.range_field,
        _ => false,
    };
    if !order_only {
        return access;
    }
    union_of_branches(key_fields, defs, filter).unwrap_or(access)
}

/// The best plan for these conditions (see the module docs).
fn choose_for(
    key_fields: &[String],
    defs: &[Arc<IndexDef>],
    preds: &Preds<'_>,
    sort: Option<&Sort>,
    limit: Option<usize>,
) -> Access {
    let by_key = key_range(key_fields, preds, sort);
    let mut best: Option<Candidate> = None;
    let mut order_only: Option<Candidate> = None;
    for def in defs {
        let c = consider(def, key_fields, preds, sort);
        if c.score == 0 {
            if c.scan.ordered.is_some() && order_only.is_none() {
                order_only = Some(c);
            }
            continue;
        }
        let rank = |c: &Candidate| {
            (
                c.score,
                c.scan.ordered.is_some(),
                std::cmp::Reverse(c.scan.def.paths.len()),
            )
        };
        if best.as_ref().is_none_or(|b| rank(&c) > rank(b)) {
            best = Some(c);
        }
    }
    if let Some((kr, score)) = by_key {
        if best.as_ref().is_none_or(|b| score >= b.score) {
            return Access::KeyRange(kr);
        }
    }
    match (best, order_only) {
        (Some(b), _) => Access::Index(b.scan),
        // Reading in sort order pays off when a limit stops it early.
        (None, Some(o)) if limit.is_some() => Access::Index(o.scan),
        _ => Access::Scan,
    }
}

/// For a filter holding an `$or` (at the top, or in its top conjunction):
/// one plan per branch (each with the rest of the conjunction), if every
/// branch has one better than a scan.
fn union_of_branches(
    key_fields: &[String],
    defs: &[Arc<IndexDef>],
    filter: Option<&Filter>,
) -> Option<Access> {
    let parts: Vec<&Filter> = match filter? {
        Filter::And(parts) => parts.iter().collect(),
        f => vec![f],
    };
    let at = parts.iter().position(|f| matches!(f, Filter::Or(_)))?;
    let Filter::Or(branches) = parts[at] else {
        return None;
    };
    let rest: Vec<&Filter> = parts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at)
        .map(|(_, f)| *f)
        .collect();
    let mut plans = Vec::with_capacity(branches.len());
    for b in branches {
        let preds = Preds::branch(&rest, b);
        match choose_for(key_fields, defs, &preds, None, None) {
            Access::Scan => return None,
            Access::Index(mut scan) => {
                // Entries in key order are what a union needs.
                scan.ordered = None;
                plans.push(Access::Index(scan));
            }
            other => plans.push(other),
        }
    }
    Some(Access::Union(plans))
}
