//! Mongo update parser and applier: any update document parses or is
//! refused; a parsed update applied to any document either fails (the
//! callers in `src/collection/write.rs` then drop the working copy, which
//! `apply` may have changed half-way) or gives a document that encodes and
//! parses back equal, with `_id` unchanged. Upsert seeding from a filter
//! never panics.
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use _core::codec::doc::{encode, equal, parse, Value};
use _core::query::{filter, update};
use shoal_fuzz::map;

#[derive(Debug)]
struct Input {
    update: Value<'static>,
    doc: Value<'static>,
    filter: Value<'static>,
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Input { update: map(u)?, doc: map(u)?, filter: map(u)? })
    }
}

fuzz_target!(|input: Input| {
    if let Ok(f) = filter::parse(&input.filter) {
        let _ = update::seed_from_filter(Some(&f));
    }
    let Ok(up) = update::parse(&input.update) else {
        return;
    };
    let key = vec!["_id".to_string()];
    let mut doc = input.doc.clone();
    match update::apply(&up, &mut doc, &key) {
        Err(_) => {}
        Ok(()) => {
            match (doc.field("_id"), input.doc.field("_id")) {
                (Some(a), Some(b)) => assert!(equal(a, b), "_id changed"),
                (None, Some(_)) => panic!("_id removed"),
                _ => {}
            }
            let mut buf = Vec::new();
            encode(&doc, &mut buf);
            if let Ok(back) = parse(&buf) {
                assert!(equal(&back, &doc), "updated document does not round-trip");
            }
        }
    }
});
