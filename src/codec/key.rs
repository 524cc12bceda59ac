//! Order-preserving encoding of dynamically typed keys.
//!
//! Invariant: for any two keys `a`, `b` of the supported types,
//! `a < b` in the order below exactly when `encode(a) < encode(b)` as bytes,
//! and `decode(encode(a)) == a` (numerically equal numbers share one encoding).
//!
//! Type order (MongoDB's, so document indexes can reuse this codec):
//! `None < numbers < str < tuple < bytes < False < True`.
//!
//! Layout, one tag byte per element:
//! - `None`: `05`.
//! - numbers, one class for ints and floats compared numerically:
//!   `10` NaN (below every number, as in MongoDB), `11` -inf, `12` negative,
//!   `13` zero (0, 0.0 and -0.0), `14` positive, `15` +inf. A finite nonzero
//!   magnitude is `[len][integer part, big-endian, no leading zeros][fraction]`,
//!   where `len` is one byte below `FF`, or `FF` and a big-endian `u32`, and
//!   the fraction is `00` for an integral value, else its binary expansion in
//!   7-bit groups, each stored as `group << 1 | more` (the last byte has its
//!   low bit clear). Negative numbers store the magnitude bytes inverted; the
//!   magnitude code is prefix-free and needs no escapes, so inversion simply
//!   reverses its order, also inside tuples.
//!   A float with an integral value encodes exactly as that int (and decodes
//!   as an int): `1.0` and `1` are the same key, as in a Python `dict`.
//! - `str` (`20`) and `bytes` (`50`): content with `00` escaped as `00 FF`,
//!   then a `00` terminator, so prefixes of the content are prefixes of the key.
//! - tuple (`40`): the elements, then `00` (below every tag).
//! - `False` `60`, `True` `61`.

use crate::error::{Error, Result};
use std::borrow::Cow;

const TAG_NONE: u8 = 0x05;
const TAG_NAN: u8 = 0x10;
const TAG_NEG_INF: u8 = 0x11;
const TAG_NEG: u8 = 0x12;
const TAG_ZERO: u8 = 0x13;
const TAG_POS: u8 = 0x14;
const TAG_POS_INF: u8 = 0x15;
const TAG_STR: u8 = 0x20;
const TAG_TUPLE: u8 = 0x40;
const TAG_BYTES: u8 = 0x50;
const TAG_FALSE: u8 = 0x60;
const TAG_TRUE: u8 = 0x61;
const END: u8 = 0x00;
const ESCAPE: u8 = 0xFF;

/// Deepest tuple nesting accepted by the encoder and decoder.
pub const MAX_DEPTH: usize = 64;

/// Appends encoded elements to a buffer. Callers write one element for a
/// scalar key, or `begin_tuple`, the elements, `end_tuple` for a tuple key.
pub struct KeyWriter<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> KeyWriter<'a> {
    /// Writes into `buf`, appending after anything already there.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf }
    }

    /// `None`.
    pub fn none(&mut self) {
        self.buf.push(TAG_NONE);
    }

    /// `True` / `False`.
    pub fn bool(&mut self, v: bool) {
        self.buf.push(if v { TAG_TRUE } else { TAG_FALSE });
    }

    /// An int that fits in an `i64`.
    pub fn i64(&mut self, v: i64) {
        let negative = v < 0;
        let mag = v.unsigned_abs().to_be_bytes();
        let first = mag.iter().position(|b| *b != 0).unwrap_or(mag.len());
        self.int_magnitude(negative, &mag[first..]);
    }

    /// An int of any size, given as sign and big-endian magnitude
    /// (leading zero bytes are ignored; an empty or all-zero magnitude is 0).
    pub fn int_magnitude(&mut self, negative: bool, mag: &[u8]) {
        let first = mag.iter().position(|b| *b != 0).unwrap_or(mag.len());
        let mag = &mag[first..];
        if mag.is_empty() {
            self.buf.push(TAG_ZERO);
            return;
        }
        self.number(negative, mag, &[]);
    }

    /// A float; integral values share the encoding of the equal int.
    pub fn f64(&mut self, v: f64) {
        if v.is_nan() {
            self.buf.push(TAG_NAN);
        } else if v == 0.0 {
            self.buf.push(TAG_ZERO);
        } else if v.is_infinite() {
            self.buf
                .push(if v > 0.0 { TAG_POS_INF } else { TAG_NEG_INF });
        } else {
            let (int_part, frac) = split_float(v.abs());
            self.number(v < 0.0, &int_part, &frac);
        }
    }

    /// A string (UTF-8 bytes in code-point order, which is Python's order).
    pub fn str(&mut self, v: &str) {
        self.buf.push(TAG_STR);
        escape_into(self.buf, v.as_bytes());
        self.buf.push(END);
    }

    /// A bytes value.
    pub fn bytes(&mut self, v: &[u8]) {
        self.buf.push(TAG_BYTES);
        escape_into(self.buf, v);
        self.buf.push(END);
    }

    /// Opens a tuple; follow with its elements and [`KeyWriter::end_tuple`].
    pub fn begin_tuple(&mut self) {
        self.buf.push(TAG_TUPLE);
    }

    /// Closes the innermost open tuple.
    pub fn end_tuple(&mut self) {
        self.buf.push(END);
    }

    /// Prefix of every `str` key that starts with `v`.
    pub fn str_prefix(&mut self, v: &str) {
        self.buf.push(TAG_STR);
        escape_into(self.buf, v.as_bytes());
    }

    /// Prefix of every `bytes` key that starts with `v`.
    pub fn bytes_prefix(&mut self, v: &[u8]) {
        self.buf.push(TAG_BYTES);
        escape_into(self.buf, v);
    }

    fn number(&mut self, negative: bool, int_part: &[u8], frac: &[u8]) {
        self.buf.push(if negative { TAG_NEG } else { TAG_POS });
        let start = self.buf.len();
        let len = int_part.len();
        if len < 0xFF {
            self.buf.push(len as u8);
        } else {
            self.buf.push(0xFF);
            // Keys are bounded far below 4 GiB, so the length fits a u32.
            self.buf.extend_from_slice(&(len as u32).to_be_bytes());
        }
        self.buf.extend_from_slice(int_part);
        if frac.is_empty() {
            self.buf.push(0);
        } else {
            self.buf.extend_from_slice(frac);
        }
        if negative {
            for b in &mut self.buf[start..] {
                *b = !*b;
            }
        }
    }
}

/// Splits a finite positive float into its integer part (big-endian bytes,
/// no leading zeros) and its encoded fraction (7-bit groups, see the module
/// docs; empty for an integral value). Both are exact: a float is a dyadic
/// rational.
fn split_float(v: f64) -> (Vec<u8>, Vec<u8>) {
    let int_f = v.trunc();
    let int_part = if int_f < 18_446_744_073_709_551_616.0 {
        let n = int_f as u64;
        let b = n.to_be_bytes();
        let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b[first..].to_vec()
    } else {
        // v = m * 2^e with e >= 11 here: the value is m shifted left e bits.
        let bits = v.to_bits();
        let exp = ((bits >> 52) & 0x7FF) as i64 - 1075;
        let mant = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        let shift = exp as usize;
        let wide = (mant as u128) << (shift % 8);
        let wb = wide.to_be_bytes();
        let first = wb.iter().position(|x| *x != 0).unwrap_or(wb.len());
        let mut out = wb[first..].to_vec();
        out.resize(out.len() + shift / 8, 0);
        out
    };
    let mut frac = v - int_f; // exact
    let mut frac_bytes = Vec::new();
    while frac != 0.0 {
        frac *= 128.0; // exact: scaling by a power of two
        let group = frac.trunc();
        frac -= group; // exact
        let more = u8::from(frac != 0.0);
        frac_bytes.push(((group as u8) << 1) | more);
    }
    (int_part, frac_bytes)
}

fn escape_into(buf: &mut Vec<u8>, data: &[u8]) {
    // Fast path: most keys hold no zero byte.
    if !data.contains(&0) {
        buf.extend_from_slice(data);
        return;
    }
    for &b in data {
        buf.push(b);
        if b == 0 {
            buf.push(ESCAPE);
        }
    }
}

/// One decoded element, as the reader yields it.
#[derive(Debug, Clone, PartialEq)]
pub enum Token<'a> {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int: sign and big-endian magnitude without leading zeros
    /// (empty for zero).
    Int {
        /// Whether the value is below zero.
        negative: bool,
        /// Big-endian magnitude.
        magnitude: Cow<'a, [u8]>,
    },
    /// A float that is not an integral value (NaN, infinities, fractions).
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// A bytes value.
    Bytes(Cow<'a, [u8]>),
    /// Start of a tuple; elements follow until [`Token::TupleEnd`].
    TupleStart,
    /// End of the innermost tuple.
    TupleEnd,
}

/// Pull reader over an encoded key.
pub struct KeyReader<'a> {
    data: &'a [u8],
    pos: usize,
    depth: usize,
}

fn corrupt(what: &str) -> Error {
    Error::Decode(format!("malformed key: {what}"))
}

impl<'a> KeyReader<'a> {
    /// Reads `data` from its start.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            depth: 0,
        }
    }

    /// Whether every byte was consumed.
    pub fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or_else(|| corrupt("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    /// Reads escaped content up to its terminator.
    fn escaped(&mut self) -> Result<Cow<'a, [u8]>> {
        let rest = &self.data[self.pos..];
        // Fast path: no escapes -> borrow.
        if let Some(i) = rest.iter().position(|b| *b == END) {
            if rest.get(i + 1) != Some(&ESCAPE) {
                self.pos += i + 1;
                return Ok(Cow::Borrowed(&rest[..i]));
            }
        }
        let mut out = Vec::new();
        loop {
            let b = self.byte()?;
            if b == END {
                if self.data.get(self.pos) == Some(&ESCAPE) {
                    self.pos += 1;
                    out.push(0);
                    continue;
                }
                return Ok(Cow::Owned(out));
            }
            out.push(b);
        }
    }

    fn number(&mut self, negative: bool) -> Result<Token<'a>> {
        let inv = |b: u8| if negative { !b } else { b };
        let len_byte = inv(self.byte()?);
        let len = if len_byte < 0xFF {
            len_byte as usize
        } else {
            let mut l = [0u8; 4];
            for x in &mut l {
                *x = inv(self.byte()?);
            }
            u32::from_be_bytes(l) as usize
        };
        let raw = self
            .data
            .get(self.pos..self.pos + len)
            .ok_or_else(|| corrupt("truncated number"))?;
        self.pos += len;
        let int_part: Cow<'a, [u8]> = if negative {
            Cow::Owned(raw.iter().map(|b| !b).collect())
        } else {
            Cow::Borrowed(raw)
        };
        let first = inv(self.byte()?);
        if first == 0 {
            return Ok(Token::Int {
                negative,
                magnitude: int_part,
            });
        }
        if int_part.len() > 7 {
            return Err(corrupt("fraction on a number too large for a float"));
        }
        let mut int_val: u64 = 0;
        for b in int_part.iter() {
            int_val = (int_val << 8) | u64::from(*b);
        }
        // A float has at most 1074 fraction bits: 154 groups of 7.
        let mut groups = vec![first >> 1];
        let mut byte = first;
        while byte & 1 == 1 {
            if groups.len() >= 154 {
                return Err(corrupt("fraction longer than a float's"));
            }
            byte = inv(self.byte()?);
            groups.push(byte >> 1);
        }
        // Horner from the last group: every step is exact (each partial
        // value is a suffix of the float's bits, scaled up).
        let mut value = 0.0f64;
        for g in groups.iter().rev() {
            value = (value + f64::from(*g)) / 128.0;
        }
        let value = int_val as f64 + value;
        Ok(Token::Float(if negative { -value } else { value }))
    }

    /// Next element, or `None` when the data is exhausted.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>> {
        if self.at_end() {
            return Ok(None);
        }
        let tag = self.byte()?;
        let tok = match tag {
            TAG_NONE => Token::None,
            TAG_FALSE => Token::Bool(false),
            TAG_TRUE => Token::Bool(true),
            TAG_NAN => Token::Float(f64::NAN),
            TAG_NEG_INF => Token::Float(f64::NEG_INFINITY),
            TAG_POS_INF => Token::Float(f64::INFINITY),
            TAG_ZERO => Token::Int {
                negative: false,
                magnitude: Cow::Borrowed(&[]),
            },
            TAG_NEG => self.number(true)?,
            TAG_POS => self.number(false)?,
            TAG_STR => {
                let raw = self.escaped()?;
                Token::Str(match raw {
                    Cow::Borrowed(b) => {
                        Cow::Borrowed(std::str::from_utf8(b).map_err(|_| corrupt("invalid UTF-8"))?)
                    }
                    Cow::Owned(v) => {
                        Cow::Owned(String::from_utf8(v).map_err(|_| corrupt("invalid UTF-8"))?)
                    }
                })
            }
            TAG_BYTES => Token::Bytes(self.escaped()?),
            TAG_TUPLE => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(corrupt("tuples nested too deeply"));
                }
                Token::TupleStart
            }
            END if self.depth > 0 => {
                self.depth -= 1;
                Token::TupleEnd
            }
            other => return Err(corrupt(&format!("unknown tag {other:#04x}"))),
        };
        Ok(Some(tok))
    }
}

/// A key as a Rust value: used by tests, and wherever Rust code needs keys
/// without Python.
#[derive(Debug, Clone)]
pub enum Key {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int of any size: sign and big-endian magnitude.
    Int(bool, Vec<u8>),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A bytes value.
    Bytes(Vec<u8>),
    /// A tuple.
    Tuple(Vec<Key>),
}

impl Key {
    /// Appends the encoding of `self` to `buf`.
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        let mut w = KeyWriter::new(buf);
        self.write(&mut w);
    }

    /// The encoding of `self`.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.encode_into(&mut buf);
        buf
    }

    fn write(&self, w: &mut KeyWriter<'_>) {
        match self {
            Key::None => w.none(),
            Key::Bool(b) => w.bool(*b),
            Key::Int(neg, mag) => w.int_magnitude(*neg, mag),
            Key::Float(f) => w.f64(*f),
            Key::Str(s) => w.str(s),
            Key::Bytes(b) => w.bytes(b),
            Key::Tuple(items) => {
                w.begin_tuple();
                for k in items {
                    k.write(w);
                }
                w.end_tuple();
            }
        }
    }

    /// Decodes exactly one key filling all of `data`.
    pub fn decode(data: &[u8]) -> Result<Key> {
        let mut r = KeyReader::new(data);
        let key = Self::read(&mut r)?.ok_or_else(|| corrupt("empty key"))?;
        if !r.at_end() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(key)
    }

    /// Reads one element; `Ok(None)` means the end of the enclosing tuple.
    fn read(r: &mut KeyReader<'_>) -> Result<Option<Key>> {
        Ok(Some(match r.next_token()? {
            None => return Err(corrupt("truncated")),
            Some(Token::TupleEnd) => return Ok(None),
            Some(Token::None) => Key::None,
            Some(Token::Bool(b)) => Key::Bool(b),
            Some(Token::Int {
                negative,
                magnitude,
            }) => Key::Int(negative, magnitude.into_owned()),
            Some(Token::Float(f)) => Key::Float(f),
            Some(Token::Str(s)) => Key::Str(s.into_owned()),
            Some(Token::Bytes(b)) => Key::Bytes(b.into_owned()),
            Some(Token::TupleStart) => {
                let mut items = Vec::new();
                while let Some(k) = Self::read(r)? {
                    items.push(k);
                }
                Key::Tuple(items)
            }
        }))
    }
}

/// Python-like text of a key, for error messages.
impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::None => write!(f, "None"),
            Key::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Key::Int(neg, mag) if mag.len() <= 16 => {
                let v = mag.iter().fold(0u128, |a, b| (a << 8) | u128::from(*b));
                write!(f, "{}{v}", if *neg && v != 0 { "-" } else { "" })
            }
            Key::Int(_, mag) => write!(f, "<int of {} bytes>", mag.len()),
            Key::Float(x) => write!(f, "{x:?}"),
            Key::Str(s) => write!(f, "{s:?}"),
            Key::Bytes(b) => write!(f, "b{:?}", String::from_utf8_lossy(b)),
            Key::Tuple(items) => {
                write!(f, "(")?;
                for (i, k) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k}")?;
                }
                write!(f, "{})", if items.len() == 1 { "," } else { "" })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(v: i64) -> Key {
        Key::Int(v < 0, v.unsigned_abs().to_be_bytes().to_vec())
    }

    #[test]
    fn golden_vectors() {
        assert_eq!(Key::None.encode(), vec![0x05]);
        assert_eq!(int(0).encode(), vec![0x13]);
        assert_eq!(int(1).encode(), vec![0x14, 0x01, 0x01, 0x00]);
        assert_eq!(int(-1).encode(), vec![0x12, !0x01, !0x01, !0x00]);
        // 1.5: fraction .1 in binary -> group 1000000, last -> 0x80
        assert_eq!(Key::Float(1.5).encode(), vec![0x14, 0x01, 0x01, 0x80]);
        assert_eq!(Key::Float(1.0).encode(), int(1).encode());
        assert_eq!(Key::Float(-0.0).encode(), int(0).encode());
        assert_eq!(
            Key::Str("a\0b".into()).encode(),
            vec![0x20, b'a', 0, 0xFF, b'b', 0]
        );
        assert_eq!(Key::Bool(true).encode(), vec![0x61]);
    }

    #[test]
    fn numeric_order_mixes_ints_and_floats() {
        let seq = [
            Key::Float(f64::NAN),
            Key::Float(f64::NEG_INFINITY),
            Key::Float(-1e300),
            int(-300),
            Key::Float(-2.5),
            int(-2),
            Key::Float(-1e-300),
            int(0),
            Key::Float(5e-324),
            Key::Float(0.5),
            int(1),
            Key::Float(1.000_000_1),
            int(2),
            int(i64::MAX),
            Key::Float(1e300),
            Key::Float(f64::INFINITY),
            Key::Str(String::new()),
        ];
        for w in seq.windows(2) {
            assert!(w[0].encode() < w[1].encode(), "{:?} < {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn big_float_matches_equal_int() {
        // 2^70 as a float and as an int
        let mut mag = vec![0x40];
        mag.extend_from_slice(&[0; 8]);
        assert_eq!(
            Key::Float(2f64.powi(70)).encode(),
            Key::Int(false, mag).encode()
        );
    }

    #[test]
    fn negative_numbers_inside_tuples_round_trip() {
        for k in [
            Key::Tuple(vec![int(-1)]),
            Key::Tuple(vec![Key::Float(-0.5), int(-256), Key::Str("x".into())]),
            Key::Tuple(vec![Key::Tuple(vec![int(-1)]), int(2)]),
        ] {
            let enc = k.encode();
            let back = Key::decode(&enc).unwrap();
            assert_eq!(back.encode(), enc, "{k:?}");
        }
        assert!(Key::Tuple(vec![int(-2)]).encode() < Key::Tuple(vec![int(-1)]).encode());
        assert!(Key::Tuple(vec![int(-1)]).encode() < Key::Tuple(vec![int(-1), Key::None]).encode());
    }

    #[test]
    fn truncated_input_is_an_error() {
        let enc = Key::Tuple(vec![Key::Str("abc".into()), int(7)]).encode();
        for cut in 1..enc.len() {
            assert!(Key::decode(&enc[..cut]).is_err(), "cut at {cut}");
        }
        assert!(Key::decode(&[0x99]).is_err());
    }
}
