//! cargo-fuzz target `roundtrip`: parse -> emit -> parse of the first message
//! (RFC 4271 §4); the body is `nexthop_fuzz_bodies::roundtrip`, which a stable test
//! also runs over the corpus and generated inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexthop_fuzz_bodies::roundtrip::fuzz(data));
