//! Documents as stored (MessagePack, see `src/py/convert/msgpack.rs` for the
//! extension types) read into a borrowed [`Value`] tree for the query
//! evaluator and key extraction, and the one total order over values.
//!
//! Order (MongoDB's type order): null < numbers < str < object < array <
//! binary (bytes, UUID) < bool < datetime < regex. Numbers (ints of any
//! size, floats, Decimals) compare numerically; NaN is below every number
//! and equal to itself. Datetimes compare by instant (naive ones as UTC).

use super::number::{Exact, Limbs};
use crate::error::{Error, Result};
use std::borrow::Cow;
use std::cmp::Ordering;

/// Extension type: int beyond 64 bits.
pub const EXT_BIGINT: i8 = 1;
/// Extension type: datetime.
pub const EXT_DATETIME: i8 = 2;
/// Extension type: UUID.
pub const EXT_UUID: i8 = 3;
/// Extension type: Decimal (its `str`).
pub const EXT_DECIMAL: i8 = 4;
/// Extension type: compiled regular expression (filters only).
pub const EXT_REGEX: i8 = 5;

/// Deepest nesting read.
pub const MAX_DEPTH: usize = 101;

/// A decoded value, borrowing strings and bytes from the encoded document.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// None.
    Null,
    /// bool.
    Bool(bool),
    /// int within 64 bits.
    Int(i128),
    /// int beyond 64 bits: sign, big-endian magnitude.
    BigInt(bool, Cow<'a, [u8]>),
    /// float.
    Float(f64),
    /// Decimal, as its text.
    Decimal(Cow<'a, str>),
    /// str.
    Str(Cow<'a, str>),
    /// bytes.
    Bytes(Cow<'a, [u8]>),
    /// UUID (16 bytes).
    Uuid(Cow<'a, [u8]>),
    /// datetime: wall-clock µs since the epoch, UTC offset in µs if aware.
    DateTime(i64, Option<i64>),
    /// A compiled-pattern placeholder from a filter: flags, pattern.
    Regex(u8, Cow<'a, str>),
    /// list.
    Array(Vec<Value<'a>>),
    /// dict, in stored field order.
    Map(Vec<(Cow<'a, str>, Value<'a>)>),
}

fn bad(what: &str) -> Error {
    Error::Decode(format!("malformed document: {what}"))
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| bad("length"))?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| bad("truncated"))?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn uint(&mut self, n: usize) -> Result<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, b| (a << 8) | u64::from(*b)))
    }

    fn int(&mut self, n: usize) -> Result<i64> {
        let raw = self.uint(n)?;
        let shift = 64 - 8 * n as u32;
        Ok(((raw << shift) as i64) >> shift)
    }

    fn str(&mut self, n: usize) -> Result<Cow<'a, str>> {
        let raw = self.take(n)?;
        Ok(Cow::Borrowed(
            std::str::from_utf8(raw).map_err(|_| bad("utf-8"))?,
        ))
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>> {
        if depth > MAX_DEPTH {
            return Err(bad("nested too deeply"));
        }
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Value::Int(i128::from(m)),
            0xe0..=0xff => Value::Int(i128::from(m as i8)),
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xcc => Value::Int(i128::from(self.uint(1)?)),
            0xcd => Value::Int(i128::from(self.uint(2)?)),
            0xce => Value::Int(i128::from(self.uint(4)?)),
            0xcf => Value::Int(i128::from(self.uint(8)?)),
            0xd0 => Value::Int(i128::from(self.int(1)?)),
            0xd1 => Value::Int(i128::from(self.int(2)?)),
            0xd2 => Value::Int(i128::from(self.int(4)?)),
            0xd3 => Value::Int(i128::from(self.int(8)?)),
            0xca => Value::Float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Value::Float(f64::from_bits(self.uint(8)?)),
            0xa0..=0xbf => Value::Str(self.str(usize::from(m & 0x1f))?),
            0xd9..=0xdb => {
                let n = self.uint(1 << (m - 0xd9))? as usize;
                Value::Str(self.str(n)?)
            }
            0xc4..=0xc6 => {
                let n = self.uint(1 << (m - 0xc4))? as usize;
                Value::Bytes(Cow::Borrowed(self.take(n)?))
            }
            0x90..=0x9f => self.array(usize::from(m & 0x0f), depth)?,
            0xdc => {
                let n = self.uint(2)? as usize;
                self.array(n, depth)?
            }
            0xdd => {
                let n = self.uint(4)? as usize;
                self.array(n, depth)?
            }
            0x80..=0x8f => self.map(usize::from(m & 0x0f), depth)?,
            0xde => {
                let n = self.uint(2)? as usize;
                self.map(n, depth)?
            }
            0xdf => {
                let n = self.uint(4)? as usize;
                self.map(n, depth)?
            }
            0xd4..=0xd8 | 0xc7..=0xc9 => {
                let n = match m {
                    0xd4 => 1,
                    0xd5 => 2,
                    0xd6 => 4,
                    0xd7 => 8,
                    0xd8 => 16,
                    _ => self.uint(1 << (m - 0xc7))? as usize,
                };
                let ty = self.u8()? as i8;
                let body = self.take(n)?;
                ext(ty, body)?
            }
            _ => return Err(bad("reserved marker")),
        })
    }

    fn array(&mut self, n: usize, depth: usize) -> Result<Value<'a>> {
        if n > self.data.len() - self.pos {
            return Err(bad("array length"));
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value<'a>> {
        if n > self.data.len() - self.pos {
            return Err(bad("map length"));
        }
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            let key = match self.value(depth + 1)? {
                Value::Str(s) => s,
                // Non-str keys (allowed in KV values) are kept as text so a
                // filter can still address them. A list or dict key gets a
                // fixed text: its Debug text would hold the (escaped) text of
                // its own keys, doubling in size at each level of nesting.
                Value::Array(_) => Cow::Borrowed("<list key>"),
                Value::Map(_) => Cow::Borrowed("<dict key>"),
                other => Cow::Owned(format!("{other:?}")),
            };
            fields.push((key, self.value(depth + 1)?));
        }
        Ok(Value::Map(fields))
    }
}

fn ext(ty: i8, body: &[u8]) -> Result<Value<'_>> {
    Ok(match ty {
        EXT_BIGINT => {
            let (sign, mag) = body.split_first().ok_or_else(|| bad("big int"))?;
            Value::BigInt(*sign == 1, Cow::Borrowed(mag))
        }
        EXT_DATETIME => {
            let word = |at: usize| -> Result<i64> {
                let b = body.get(at..at + 8).ok_or_else(|| bad("datetime"))?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Ok(i64::from_be_bytes(a))
            };
            let offset = match body.get(8) {
                Some(0) => None,
                Some(1) => Some(word(9)?),
                _ => return Err(bad("datetime")),
            };
            Value::DateTime(word(0)?, offset)
        }
        EXT_UUID if body.len() == 16 => Value::Uuid(Cow::Borrowed(body)),
        EXT_DECIMAL => Value::Decimal(Cow::Borrowed(
            std::str::from_utf8(body).map_err(|_| bad("decimal"))?,
        )),
        EXT_REGEX => {
            let (flags, pat) = body.split_first().ok_or_else(|| bad("regex"))?;
            Value::Regex(
                *flags,
                Cow::Borrowed(std::str::from_utf8(pat).map_err(|_| bad("regex"))?),
            )
        }
        other => return Err(bad(&format!("unknown extension type {other}"))),
    })
}

/// Appends the MessagePack encoding of `v` (the inverse of [`parse`]).
pub fn encode(v: &Value<'_>, buf: &mut Vec<u8>) {
    use rmp::encode as enc;
    // Writing into a Vec cannot fail.
    match v {
        Value::Null => {
            let _ = enc::write_nil(buf);
        }
        Value::Bool(b) => {
            let _ = enc::write_bool(buf, *b);
        }
        Value::Int(i) => {
            if let Ok(x) = i64::try_from(*i) {
                let _ = enc::write_sint(buf, x);
            } else if let Ok(x) = u64::try_from(*i) {
                let _ = enc::write_uint(buf, x);
            } else {
                let mag = i.unsigned_abs().to_be_bytes();
                let first = mag.iter().position(|b| *b != 0).unwrap_or(mag.len());
                let mut payload = vec![u8::from(*i < 0)];
                payload.extend_from_slice(&mag[first..]);
                ext_out(buf, EXT_BIGINT, &payload);
            }
        }
        Value::BigInt(neg, mag) => {
            let mut payload = vec![u8::from(*neg)];
            payload.extend_from_slice(mag);
            ext_out(buf, EXT_BIGINT, &payload);
        }
        Value::Float(f) => {
            let _ = enc::write_f64(buf, *f);
        }
        Value::Decimal(s) => ext_out(buf, EXT_DECIMAL, s.as_bytes()),
        Value::Str(s) => {
            let _ = enc::write_str(buf, s);
        }
        Value::Bytes(b) => {
            let _ = enc::write_bin(buf, b);
        }
        Value::Uuid(b) => ext_out(buf, EXT_UUID, b),
        Value::DateTime(wall, off) => {
            let mut payload = wall.to_be_bytes().to_vec();
            match off {
                None => payload.push(0),
                Some(o) => {
                    payload.push(1);
                    payload.extend_from_slice(&o.to_be_bytes());
                }
            }
            ext_out(buf, EXT_DATETIME, &payload);
        }
        Value::Regex(f, p) => {
            let mut payload = vec![*f];
            payload.extend_from_slice(p.as_bytes());
            ext_out(buf, EXT_REGEX, &payload);
        }
        Value::Array(items) => {
            let _ = enc::write_array_len(buf, items.len() as u32);
            for i in items {
                encode(i, buf);
            }
        }
        Value::Map(fields) => {
            let _ = enc::write_map_len(buf, fields.len() as u32);
            for (k, v) in fields {
                let _ = enc::write_str(buf, k);
                encode(v, buf);
            }
        }
    }
}

fn ext_out(buf: &mut Vec<u8>, ty: i8, payload: &[u8]) {
    let _ = rmp::encode::write_ext_meta(buf, payload.len() as u32, ty);
    buf.extend_from_slice(payload);
}

/// Reads one encoded document or value.
pub fn parse(data: &[u8]) -> Result<Value<'_>> {
    let mut r = Reader { data, pos: 0 };
    let v = r.value(0)?;
    if r.pos != data.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(v)
}

impl<'a> Value<'a> {
    /// A copy that owns all its data.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Int(i),
            Value::BigInt(n, m) => Value::BigInt(n, Cow::Owned(m.into_owned())),
            Value::Float(f) => Value::Float(f),
            Value::Decimal(s) => Value::Decimal(Cow::Owned(s.into_owned())),
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Bytes(b) => Value::Bytes(Cow::Owned(b.into_owned())),
            Value::Uuid(b) => Value::Uuid(Cow::Owned(b.into_owned())),
            Value::DateTime(w, o) => Value::DateTime(w, o),
            Value::Regex(f, p) => Value::Regex(f, Cow::Owned(p.into_owned())),
            Value::Array(items) => Value::Array(items.into_iter().map(Value::into_owned).collect()),
            Value::Map(fields) => Value::Map(
                fields
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// Field `name` of a map.
    pub fn field(&self, name: &str) -> Option<&Value<'a>> {
        match self {
            Value::Map(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Rank of the value's type in the total order.
    pub fn type_rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Int(_) | Value::BigInt(..) | Value::Float(_) | Value::Decimal(_) => 1,
            Value::Str(_) => 2,
            Value::Map(_) => 3,
            Value::Array(_) => 4,
            Value::Bytes(_) | Value::Uuid(_) => 5,
            Value::Bool(_) => 6,
            Value::DateTime(..) => 7,
            Value::Regex(..) => 8,
        }
    }

    /// MongoDB-style type name (for `$type`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(..) => "int",
            Value::Float(_) => "double",
            Value::Decimal(_) => "decimal",
            Value::Str(_) => "string",
            Value::Bytes(_) | Value::Uuid(_) => "binData",
            Value::DateTime(..) => "date",
            Value::Regex(..) => "regex",
            Value::Array(_) => "array",
            Value::Map(_) => "object",
        }
    }

    fn instant(&self) -> Option<i128> {
        match self {
            Value::DateTime(wall, off) => Some(i128::from(*wall) - i128::from(off.unwrap_or(0))),
            _ => None,
        }
    }
}

enum Num {
    Int(i128),
    Float(f64),
    /// A big int or a Decimal: compared exactly through `number::Exact`.
    Other,
}

fn num(v: &Value<'_>) -> Option<Num> {
    match v {
        Value::Int(i) => Some(Num::Int(*i)),
        Value::Float(f) => Some(Num::Float(*f)),
        Value::BigInt(..) | Value::Decimal(_) => Some(Num::Other),
        _ => None,
    }
}

/// The exact form of a number value (`None` for non-numbers).
pub fn exact(v: &Value<'_>) -> Option<Exact> {
    Some(match v {
        Value::Int(i) => Exact::from_i128(*i),
        Value::Float(f) => Exact::from_f64(*f),
        Value::BigInt(neg, mag) => Exact::from_int(*neg, &Limbs::from_be_bytes(mag)),
        Value::Decimal(s) => Exact::from_decimal_str(s).unwrap_or(Exact::NaN),
        _ => return None,
    })
}

/// Whether a value is a NaN float or Decimal.
pub fn is_nan(v: &Value<'_>) -> bool {
    match v {
        Value::Float(f) => f.is_nan(),
        Value::Decimal(_) => exact(v).is_some_and(|e| e.is_nan()),
        _ => false,
    }
}

fn cmp_int_float(i: i128, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Greater;
    }
    if f >= 1.7e38 {
        return Ordering::Less;
    }
    if f <= -1.7e38 {
        return Ordering::Greater;
    }
    let t = f.trunc();
    match i.cmp(&(t as i128)) {
        Ordering::Equal if f > t => Ordering::Less,
        Ordering::Equal if f < t => Ordering::Greater,
        o => o,
    }
}

fn cmp_float(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn cmp_num(a: Num, b: Num, va: &Value<'_>, vb: &Value<'_>) -> Ordering {
    use Num::*;
    match (a, b) {
        (Int(x), Int(y)) => x.cmp(&y),
        (Int(x), Float(y)) => cmp_int_float(x, y),
        (Float(x), Int(y)) => cmp_int_float(y, x).reverse(),
        (Float(x), Float(y)) => cmp_float(x, y),
        _ => match (exact(va), exact(vb)) {
            (Some(x), Some(y)) => x.compare(&y),
            _ => Ordering::Equal,
        },
    }
}

/// The total order over values (see the module docs).
pub fn compare(a: &Value<'_>, b: &Value<'_>) -> Ordering {
    let (ra, rb) = (a.type_rank(), b.type_rank());
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        // Binary: by content as Python orders bytes (and as the key codec
        // does), then bytes before UUID.
        (Value::Bytes(x) | Value::Uuid(x), Value::Bytes(y) | Value::Uuid(y)) => {
            let subtype = |v: &Value<'_>| u8::from(matches!(v, Value::Uuid(_)));
            x.cmp(y).then(subtype(a).cmp(&subtype(b)))
        }
        (Value::DateTime(..), Value::DateTime(..)) => a.instant().cmp(&b.instant()),
        (Value::Regex(f1, p1), Value::Regex(f2, p2)) => p1.cmp(p2).then(f1.cmp(f2)),
        (Value::Array(x), Value::Array(y)) => {
            for (i, j) in x.iter().zip(y) {
                let o = compare(i, j);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(x), Value::Map(y)) => {
            for ((k1, v1), (k2, v2)) in x.iter().zip(y) {
                let o = compare(v1, v2).then_with(|| k1.cmp(k2));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => cmp_num(x, y, a, b),
            _ => Ordering::Equal,
        },
    }
}

/// Equality under the total order (1 == 1.0; True != 1; NaN == NaN).
pub fn equal(a: &Value<'_>, b: &Value<'_>) -> bool {
    compare(a, b) == Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_across_types() {
        assert!(equal(&Value::Int(1), &Value::Float(1.0)));
        assert_eq!(compare(&Value::Int(1), &Value::Float(1.5)), Ordering::Less);
        assert_eq!(
            compare(&Value::Float(f64::NAN), &Value::Int(-5)),
            Ordering::Less
        );
        assert!(equal(&Value::Float(f64::NAN), &Value::Float(f64::NAN)));
        let big = Value::BigInt(false, Cow::Borrowed(&[1, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert_eq!(
            compare(&Value::Int(i128::from(u64::MAX)), &big),
            Ordering::Less
        );
        assert!(!equal(&Value::Bool(true), &Value::Int(1)));
    }

    #[test]
    fn type_order() {
        let seq = [
            Value::Null,
            Value::Int(5),
            Value::Str("a".into()),
            Value::Map(vec![]),
            Value::Array(vec![]),
            Value::Bytes(Cow::Borrowed(b"")),
            Value::Bool(false),
            Value::DateTime(0, None),
        ];
        for w in seq.windows(2) {
            assert_eq!(compare(&w[0], &w[1]), Ordering::Less, "{w:?}");
        }
    }

    #[test]
    fn parses_msgpack() {
        // {"a": [1, -2, "x"], "b": None}
        let data = [
            0x82, 0xa1, b'a', 0x93, 0x01, 0xfe, 0xa1, b'x', 0xa1, b'b', 0xc0,
        ];
        let v = parse(&data).unwrap();
        let a = v.field("a").unwrap();
        assert!(matches!(a, Value::Array(items) if items.len() == 3));
        assert!(matches!(v.field("b"), Some(Value::Null)));
        assert!(parse(&data[..5]).is_err());
    }

    #[test]
    fn nested_map_keys_decode_in_linear_size() {
        // Found by the doc_codec fuzz target: {{{...{"\"": nil}...: nil}: nil}
        // 20 levels deep in key position used to decode to a 1.5 MB key.
        let mut data = vec![0x81; 20];
        data.extend_from_slice(&[0xa1, b'"']);
        data.extend_from_slice(&[0xc0; 20]);
        let Value::Map(fields) = parse(&data).unwrap() else {
            panic!("not a map")
        };
        assert_eq!(fields[0].0, "<dict key>");
        // A scalar key keeps its text.
        let Value::Map(fields) = parse(&[0x81, 0x07, 0xc0]).unwrap() else {
            panic!("not a map")
        };
        assert_eq!(fields[0].0, "Int(7)");
    }
}
