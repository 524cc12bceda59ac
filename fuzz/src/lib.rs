//! Structured inputs for the fuzz targets: arbitrary document values whose
//! map keys are biased towards what the query parsers look at (operators,
//! `_id`, dotted paths, array indexes), so the fuzzer reaches deep into the
//! filter and update parsers instead of failing at the first unknown key.

use arbitrary::{Arbitrary, Result, Unstructured};
use _core::codec::doc::Value;
use _core::codec::key::Key;
use std::borrow::Cow;

/// Deepest nesting generated: a little beyond both parsers' limits
/// (`MAX_DEPTH` 100/101) would need long inputs; 12 keeps runs fast while the
/// depth limits themselves are covered by the Python tests.
const MAX_NESTING: usize = 12;

/// Every operator name the filter, update, sort and projection parsers know,
/// plus near misses.
const KEYS: &[&str] = &[
    "$and", "$or", "$nor", "$not", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin",
    "$exists", "$regex", "$options", "$size", "$all", "$elemMatch", "$mod", "$type", "$where",
    "$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$push", "$addToSet", "$pull",
    "$pop", "$currentDate", "$each", "$foo", "$", "_id", "a", "b", "a.b", "a.0", "a.0.b", "0",
    "1", "b.c.d", "", ".", "a..b", "v", "date", "timestamp", "$type.x",
];

/// Strings used as values: type names for `$type`, regex flags and patterns.
const STRS: &[&str] = &[
    "string", "int", "long", "double", "number", "array", "object", "null", "bool", "date",
    "binData", "decimal", "regex", "i", "m", "s", "x", "imsx", "^a", "(a+)+$", "(", "[", "a", "",
    "é", "date", "timestamp", "\u{0}",
];

/// A document value built from fuzzer bytes.
#[derive(Debug)]
pub struct ArbValue(pub Value<'static>);

fn key(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(7, 8)? {
        Ok((*u.choose(KEYS)?).to_string())
    } else {
        String::arbitrary(u)
    }
}

fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value<'static>> {
    let leaf_only = depth >= MAX_NESTING || u.is_empty();
    let kinds = if leaf_only { 12 } else { 14 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Value::Null,
        1 => Value::Bool(bool::arbitrary(u)?),
        2 => Value::Int(i128::from(*u.choose(&[0i64, 1, -1, 2, 3, 7, i64::MAX, i64::MIN])?)),
        3 => Value::Int(i128::from(i64::arbitrary(u)?)),
        4 => Value::Int(i128::from(u64::arbitrary(u)?)),
        5 => {
            let mag: Vec<u8> = Vec::arbitrary(u)?;
            Value::BigInt(bool::arbitrary(u)?, Cow::Owned(mag))
        }
        6 => Value::Float(*u.choose(&[0.0, -0.0, 1.5, f64::NAN, f64::INFINITY, -f64::INFINITY])?),
        7 => Value::Float(f64::arbitrary(u)?),
        8 => Value::Str(Cow::Owned((*u.choose(STRS)?).to_string())),
        9 => Value::Str(Cow::Owned(String::arbitrary(u)?)),
        10 => match u.int_in_range(0..=3)? {
            0 => Value::Bytes(Cow::Owned(Vec::arbitrary(u)?)),
            1 => Value::Uuid(Cow::Owned(<[u8; 16]>::arbitrary(u)?.to_vec())),
            2 => Value::DateTime(i64::arbitrary(u)?, Option::<i64>::arbitrary(u)?),
            _ => Value::Decimal(Cow::Owned(
                (*u.choose(&["1.5", "-0", "NaN", "Infinity", "1E+400", "x", ""])?).to_string(),
            )),
        },
        11 => {
            let pattern = if bool::arbitrary(u)? {
                (*u.choose(STRS)?).to_string()
            } else {
                String::arbitrary(u)?
            };
            Value::Regex(u8::arbitrary(u)?, Cow::Owned(pattern))
        }
        12 => {
            let n = u.int_in_range(0..=4)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value(u, depth + 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let n = u.int_in_range(0..=4)?;
            let mut fields = Vec::with_capacity(n);
            for _ in 0..n {
                fields.push((Cow::Owned(key(u)?), value(u, depth + 1)?));
            }
            Value::Map(fields)
        }
    })
}

/// A map value (what filters, updates and documents are).
pub fn map(u: &mut Unstructured<'_>) -> Result<Value<'static>> {
    let n = u.int_in_range(0..=4)?;
    let mut fields = Vec::with_capacity(n);
    for _ in 0..n {
        fields.push((Cow::Owned(key(u)?), value(u, 1)?));
    }
    Ok(Value::Map(fields))
}

impl<'a> Arbitrary<'a> for ArbValue {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ArbValue(value(u, 0)?))
    }
}

/// A key built from fuzzer bytes (every variant, tuples nested a little).
#[derive(Debug)]
pub struct ArbKey(pub Key);

fn arb_key(u: &mut Unstructured<'_>, depth: usize) -> Result<Key> {
    let kinds = if depth >= MAX_NESTING || u.is_empty() { 6 } else { 7 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Key::None,
        1 => Key::Bool(bool::arbitrary(u)?),
        2 => {
            // Magnitudes as Python gives them: big-endian, no leading zero byte.
            let mut mag: Vec<u8> = Vec::arbitrary(u)?;
            let first = mag.iter().position(|b| *b != 0).unwrap_or(mag.len());
            mag.drain(..first);
            let negative = !mag.is_empty() && bool::arbitrary(u)?;
            Key::Int(negative, mag)
        }
        3 => Key::Float(f64::arbitrary(u)?),
        4 => Key::Str(String::arbitrary(u)?),
        5 => Key::Bytes(Vec::arbitrary(u)?),
        _ => {
            let n = u.int_in_range(0..=4)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(arb_key(u, depth + 1)?);
            }
            Key::Tuple(items)
        }
    })
}

impl<'a> Arbitrary<'a> for ArbKey {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(ArbKey(arb_key(u, 0)?))
    }
}

#[cfg(test)]
mod tests {
    use _core::codec::doc::{parse, Value};

    /// `n` maps nested through their *keys*: `{ {…{"\"": nil}…}: nil }`.
    fn nested_map_keys(n: usize) -> Vec<u8> {
        let mut doc = vec![0xa1, b'"']; // the str "\""
        for _ in 0..n {
            let mut outer = vec![0x81]; // a map of one entry ...
            outer.extend_from_slice(&doc); // ... whose key is the previous level
            outer.push(0xc0); // ... and whose value is nil
            doc = outer;
        }
        doc
    }

    /// Found by `doc_codec` (timeout): a non-str map key is kept as its
    /// `Debug` text (`src/codec/doc.rs`, `Reader::map`), which escapes the
    /// `Debug` text of the level below, so the key text doubles with every
    /// level: 20 levels (42 input bytes) gave a 1.5 MB key, 40 would have needed
    /// terabytes. Fixed: a list or dict key now decodes to a fixed text.
    #[test]
    fn non_str_map_keys_decode_in_linear_size() {
        let data = nested_map_keys(20);
        let Value::Map(fields) = parse(&data).expect("parses") else { panic!("not a map") };
        let key_len = fields[0].0.len();
        assert!(key_len < 100 * data.len(), "{} input bytes gave a {key_len}-byte key", data.len());
    }
}
