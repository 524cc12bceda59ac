//! Mongo filter parser and evaluator: any filter document either parses or
//! is refused with an error; a parsed filter evaluates on any document
//! without panicking, and `$nor: [f]` is the complement of `f`. Sort and
//! projection specs parse or are refused; projections apply.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use _core::codec::doc::Value;
use _core::query::filter::{self, Filter};
use _core::query::matches;
use _core::query::shape::{Projection, Sort};
use shoal_fuzz::{map, ArbValue};

#[derive(Debug)]
struct Input {
    filter: Value<'static>,
    docs: Vec<Value<'static>>,
    spec: ArbValue,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let filter = map(u)?;
        let n = u.int_in_range(1..=3)?;
        let mut docs = Vec::with_capacity(n);
        for _ in 0..n {
            docs.push(map(u)?);
        }
        Ok(Input { filter, docs, spec: ArbValue::arbitrary(u)? })
    }
}

fuzz_target!(|input: Input| {
    if let Ok(f) = filter::parse(&input.filter) {
        let negated = Filter::Nor(vec![f]);
        let Filter::Nor(parts) = &negated else { unreachable!() };
        for doc in &input.docs {
            let yes = matches(&parts[0], doc);
            assert_eq!(matches(&negated, doc), !yes);
        }
    }
    let _ = Sort::parse(&input.spec.0).map(|s| {
        for a in &input.docs {
            for b in &input.docs {
                let _ = s.compare(a, b);
            }
        }
    });
    if let Ok(p) = Projection::parse(&input.spec.0) {
        for doc in &input.docs {
            let _ = p.apply(doc);
        }
    }
});
