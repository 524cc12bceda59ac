//! Document codec (MessagePack with shoal's extension types): parsing
//! arbitrary bytes never panics; whatever parses re-encodes to bytes that
//! parse to an equal value and encode identically; the total order agrees
//! with equality; arbitrary values round-trip.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use _core::codec::doc::{compare, encode, equal, parse, Value};
use shoal_fuzz::ArbValue;
use std::cmp::Ordering;

#[derive(Debug, Arbitrary)]
enum Input {
    Bytes(Vec<u8>),
    Value(ArbValue),
    Pair(ArbValue, ArbValue),
}

fn check(v: &Value<'_>) {
    let mut once = Vec::new();
    encode(v, &mut once);
    let Ok(back) = parse(&once) else {
        return; // deeper than the reader's limit: refused, not misread
    };
    let mut twice = Vec::new();
    encode(&back, &mut twice);
    let Ok(again) = parse(&twice) else {
        panic!("re-encoding of {back:?} does not parse");
    };
    let mut thrice = Vec::new();
    encode(&again, &mut thrice);
    assert_eq!(twice, thrice, "encoding not stable for {v:?}");
    assert_eq!(compare(&back, &back), Ordering::Equal, "{back:?} != itself");
    assert!(equal(&back, &again), "{back:?} changed by a round trip: {again:?}");
}

fuzz_target!(|input: Input| {
    match input {
        Input::Bytes(data) => {
            if let Ok(v) = parse(&data) {
                check(&v);
            }
        }
        Input::Value(ArbValue(v)) => check(&v),
        Input::Pair(ArbValue(a), ArbValue(b)) => {
            // Antisymmetry of the total order, and equality agreeing with it.
            let ab = compare(&a, &b);
            assert_eq!(ab, compare(&b, &a).reverse(), "{a:?} vs {b:?}");
            assert_eq!(equal(&a, &b), ab == Ordering::Equal, "{a:?} vs {b:?}");
        }
    }
});
