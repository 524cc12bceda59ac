//! Key codec: decoding arbitrary bytes never panics; a decoded key re-encodes
//! to bytes that decode to the same key; every key round-trips.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use _core::codec::key::{Key, KeyReader};
use shoal_fuzz::ArbKey;

#[derive(Debug, Arbitrary)]
enum Input {
    Bytes(Vec<u8>),
    Key(ArbKey),
}

/// Re-encoding a decoded key is stable (decode . encode is the identity on
/// encodings the decoder accepts, up to one normalisation).
fn check_roundtrip(key: &Key) {
    let once = key.encode();
    let back = Key::decode(&once).expect("an encoded key must decode");
    assert_eq!(back.encode(), once, "key {key:?} did not round-trip");
}

fuzz_target!(|input: Input| {
    match input {
        Input::Bytes(data) => {
            let mut reader = KeyReader::new(&data);
            // Tokens until the end or an error: never a panic or a loop.
            for _ in 0..=data.len() {
                match reader.next_token() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            if let Ok(key) = Key::decode(&data) {
                check_roundtrip(&key);
            }
        }
        Input::Key(ArbKey(key)) => check_roundtrip(&key),
    }
});
