//! The bodies of nexthop-core's fuzz targets, written once: each is a function of
//! the input bytes that frames and parses BGP messages (RFC 4271 §4, errors as RFC
//! 4271 §6 and RFC 7606 say) and panics on a defect.
//!
//! Two callers run the same bodies. The cargo-fuzz targets in `fuzz/fuzz_targets/`
//! hand them libFuzzer's inputs (nightly toolchain). `tests/fuzz_targets.rs` hands
//! them, on stable, the seed corpus (`fuzz/seeds`), the corpus cargo-fuzz has grown
//! (`fuzz/corpus/<target>`, when present) and inputs generated from the seeds
//! ([`mutation`]), so the targets execute wherever the tests run.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod corpus;
pub mod frame_and_parse;
pub mod mutation;
pub mod roundtrip;
pub mod run;
mod session_byte;

/// One fuzz target: the name cargo-fuzz knows it by and its body.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The cargo-fuzz target's name (`fuzz/fuzz_targets/<name>.rs`).
    pub name: &'static str,
    /// The body: returns for any input, panics on a defect.
    pub fuzz: fn(&[u8]),
}

/// Every fuzz target, in the order `cargo fuzz list` prints them.
pub const TARGETS: [Target; 2] = [
    Target {
        name: "frame_and_parse",
        fuzz: frame_and_parse::fuzz,
    },
    Target {
        name: "roundtrip",
        fuzz: roundtrip::fuzz,
    },
];
