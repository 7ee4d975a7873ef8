//! cargo-fuzz target `frame_and_parse`: any bytes framed as a BGP stream and each
//! message parsed (RFC 4271 §4); the body is `nexthop_fuzz_bodies::frame_and_parse`,
//! which a stable test also runs over the corpus and generated inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| nexthop_fuzz_bodies::frame_and_parse::fuzz(data));
