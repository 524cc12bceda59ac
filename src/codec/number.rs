//! Exact comparison of numbers of different kinds (ints of any size,
//! floats, Decimals), by converting each to an exact decimal
//! `digits × 10^exp`. Only used when a big int or a Decimal is involved;
//! ints and floats have faster exact paths in `doc.rs`.

use std::cmp::Ordering;

/// Little-endian base-2^32 unsigned big integer (just what is needed here).
#[derive(Clone, Debug, Default)]
pub struct Limbs(Vec<u32>);

impl Limbs {
    /// From a big-endian magnitude.
    pub fn from_be_bytes(bytes: &[u8]) -> Self {
        let mut limbs = Vec::with_capacity(bytes.len() / 4 + 1);
        for chunk in bytes.rchunks(4) {
            limbs.push(chunk.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)));
        }
        let mut l = Limbs(limbs);
        l.trim();
        l
    }

    fn from_u64(v: u64) -> Self {
        let mut l = Limbs(vec![v as u32, (v >> 32) as u32]);
        l.trim();
        l
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn shl(&mut self, bits: u64) {
        for _ in 0..bits / 32 {
            self.0.insert(0, 0);
        }
        let rem = (bits % 32) as u32;
        if rem > 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = (u64::from(*limb) << rem) | u64::from(carry);
                *limb = v as u32;
                carry = (v >> 32) as u32;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        self.trim();
    }

    /// Divides in place; returns the remainder.
    pub fn divmod_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 32) | u128::from(*limb);
            *limb = (cur / u128::from(d)) as u32;
            rem = cur % u128::from(d);
        }
        self.trim();
        rem as u64
    }

    fn to_digits(&self) -> Vec<u8> {
        let mut n = self.clone();
        let mut out = Vec::new();
        while !n.is_zero() {
            let mut r = n.divmod_small(1_000_000_000);
            for _ in 0..9 {
                out.push((r % 10) as u8);
                r /= 10;
            }
        }
        while out.last() == Some(&0) {
            out.pop();
        }
        out.reverse();
        out
    }
}

/// An exact number: `NaN`, `±inf`, or `±digits × 10^exp`.
#[derive(Debug, Clone)]
pub enum Exact {
    /// Not a number (below every number, equal to itself).
    NaN,
    /// ±infinity.
    Inf(bool),
    /// Sign, decimal digits without leading or trailing zeros (empty for
    /// zero), power of ten.
    Finite(bool, Vec<u8>, i64),
}

fn finite(neg: bool, mut digits: Vec<u8>, mut exp: i64) -> Exact {
    let lead = digits.iter().position(|d| *d != 0).unwrap_or(digits.len());
    digits.drain(..lead);
    while digits.last() == Some(&0) {
        digits.pop();
        exp += 1;
    }
    let neg = neg && !digits.is_empty();
    Exact::Finite(neg, digits, exp)
}

impl Exact {
    /// An int of any size.
    pub fn from_int(neg: bool, magnitude: &Limbs) -> Self {
        finite(neg, magnitude.to_digits(), 0)
    }

    /// An `i128`.
    pub fn from_i128(v: i128) -> Self {
        let digits = v
            .unsigned_abs()
            .to_string()
            .bytes()
            .map(|b| b - b'0')
            .collect();
        finite(v < 0, digits, 0)
    }

    /// A float, exactly (floats are dyadic rationals).
    pub fn from_f64(f: f64) -> Self {
        if f.is_nan() {
            return Exact::NaN;
        }
        if f.is_infinite() {
            return Exact::Inf(f < 0.0);
        }
        let bits = f.to_bits();
        let neg = bits >> 63 == 1;
        let exp_bits = ((bits >> 52) & 0x7FF) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, exp) = if exp_bits == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp_bits - 1075)
        };
        let mut n = Limbs::from_u64(mant);
        if exp >= 0 {
            n.shl(exp as u64);
            finite(neg, n.to_digits(), 0)
        } else {
            // m × 2^e = m × 5^-e × 10^e
            for _ in 0..-exp {
                n.mul_small(5);
            }
            finite(neg, n.to_digits(), exp)
        }
    }

    /// A Python `Decimal`'s `str()`; `None` if it does not parse.
    pub fn from_decimal_str(s: &str) -> Option<Self> {
        let s = s.trim();
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let lower = body.to_ascii_lowercase();
        if lower == "nan" || lower == "snan" {
            return Some(Exact::NaN);
        }
        if lower == "infinity" || lower == "inf" {
            return Some(Exact::Inf(neg));
        }
        let (mantissa, exp) = match lower.split_once('e') {
            Some((m, e)) => (m.to_string(), e.parse::<i64>().ok()?),
            None => (lower.clone(), 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let mut digits = Vec::with_capacity(int_part.len() + frac_part.len());
        for c in int_part.chars().chain(frac_part.chars()) {
            digits.push(c.to_digit(10)? as u8);
        }
        Some(finite(neg, digits, exp - frac_part.len() as i64))
    }

    fn magnitude_cmp(d1: &[u8], e1: i64, d2: &[u8], e2: i64) -> Ordering {
        match (d1.is_empty(), d2.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        // Compare the position of the leading digit, then digit by digit.
        let top1 = e1 + d1.len() as i64;
        let top2 = e2 + d2.len() as i64;
        top1.cmp(&top2).then_with(|| {
            for i in 0..d1.len().max(d2.len()) {
                let a = d1.get(i).copied().unwrap_or(0);
                let b = d2.get(i).copied().unwrap_or(0);
                if a != b {
                    return a.cmp(&b);
                }
            }
            Ordering::Equal
        })
    }

    /// Numeric order; NaN below everything and equal to itself.
    pub fn compare(&self, other: &Exact) -> Ordering {
        use Exact::*;
        match (self, other) {
            (NaN, NaN) => Ordering::Equal,
            (NaN, _) => Ordering::Less,
            (_, NaN) => Ordering::Greater,
            (Inf(a), Inf(b)) => b.cmp(a),
            (Inf(neg), _) => {
                if *neg {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (_, Inf(neg)) => {
                if *neg {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Finite(n1, d1, e1), Finite(n2, d2, e2)) => match (n1, n2) {
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (neg, _) => {
                    let o = Self::magnitude_cmp(d1, *e1, d2, *e2);
                    if *neg {
                        o.reverse()
                    } else {
                        o
                    }
                }
            },
        }
    }

    /// Whether this is NaN.
    pub fn is_nan(&self) -> bool {
        matches!(self, Exact::NaN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Exact {
        Exact::from_decimal_str(s).unwrap()
    }

    #[test]
    fn exact_comparisons() {
        assert_eq!(dec("0.1").compare(&Exact::from_f64(0.1)), Ordering::Less);
        assert_eq!(dec("1.0").compare(&Exact::from_i128(1)), Ordering::Equal);
        assert_eq!(
            dec("-2.5E+3").compare(&Exact::from_f64(-2500.0)),
            Ordering::Equal
        );
        assert_eq!(Exact::from_f64(0.5).compare(&dec("0.5")), Ordering::Equal);
        let two_200 = {
            let mut l = Limbs::from_u64(1);
            l.shl(200);
            l
        };
        let big = Exact::from_int(false, &two_200);
        assert_eq!(
            big.compare(&Exact::from_f64(2f64.powi(200))),
            Ordering::Equal
        );
        assert_eq!(
            big.compare(&Exact::from_f64(1.6069380442589903e60)),
            Ordering::Equal
        );
        let plus_one = dec("1606938044258990275541962092341162602522202993782792835301377");
        assert_eq!(
            plus_one.compare(&Exact::from_f64(2f64.powi(200))),
            Ordering::Greater
        );
        assert_eq!(Exact::NaN.compare(&Exact::from_i128(-5)), Ordering::Less);
        assert_eq!(
            Exact::from_f64(5e-324).compare(&Exact::from_i128(0)),
            Ordering::Greater
        );
    }

    #[test]
    fn divmod() {
        let mut l = Limbs::from_be_bytes(&[1, 0, 0, 0, 0, 0, 0, 0, 1]); // 2^64 + 1
        assert_eq!(l.divmod_small(3), 2);
    }
}
