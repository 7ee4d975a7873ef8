//! The fuzz targets on stable: every cargo-fuzz target's body runs here, with the
//! assertions it makes under libFuzzer, over the seed corpus (`fuzz/seeds`), the
//! corpus cargo-fuzz has grown (`fuzz/corpus/<target>`, when present) and inputs
//! generated from both.
//!
//! `FUZZ_INPUTS` sets how many generated inputs each target gets (default
//! 20,000), `FUZZ_SEED` the generator's seed (default fixed, decimal or `0x` hex),
//! so a run is repeated by its two numbers. An input that makes a target panic is
//! saved in `fuzz/artifacts/<target>/` and named in the failure.

use nexthop_core::wire::header::{HEADER_LEN, Header};
use nexthop_core::wire::update::Update;
use nexthop_core::wire::{Family, MessageType, Negotiated};
use nexthop_fuzz_bodies::corpus::{self, Input};
use nexthop_fuzz_bodies::mutation::{Mutator, messages};
use nexthop_fuzz_bodies::run::save_artifact;
use nexthop_fuzz_bodies::{TARGETS, Target};

const DEFAULT_INPUTS: u64 = 20_000;
const DEFAULT_SEED: u64 = 0x006e_6578_7468_6f70; // "nexthop"

/// A number from the environment: decimal, or hexadecimal after `0x`.
fn env_number(name: &str, default: u64) -> u64 {
    let Ok(text) = std::env::var(name) else {
        return default;
    };
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|e| panic!("{name}={text:?} is not a number: {e}"))
}

fn seeds() -> Vec<Input> {
    let seeds = corpus::seeds().expect("fuzz/seeds is part of the repository");
    assert!(seeds.len() >= 10, "fuzz/seeds holds {} files", seeds.len());
    seeds
}

/// Runs `target` on one input; on a panic saves the input and fails, naming both.
fn check(target: &Target, origin: &dyn Fn() -> String, input: &[u8]) {
    if let Err(panic) = target.run(input) {
        let saved = save_artifact(&corpus::fuzz_dir().join("artifacts"), target.name, input)
            .map_or_else(|e| format!("not saved: {e}"), |p| p.display().to_string());
        panic!(
            "fuzz target {} {panic} on {} ({} bytes, saved as {saved}): {input:02x?}",
            target.name,
            origin(),
            input.len(),
        );
    }
}

/// The target over the seeds, its corpus, and `FUZZ_INPUTS` generated inputs.
fn fuzz_on_stable(name: &str) {
    let target = TARGETS
        .iter()
        .find(|t| t.name == name)
        .expect("a target of that name");
    let inputs = env_number("FUZZ_INPUTS", DEFAULT_INPUTS);
    let seed = env_number("FUZZ_SEED", DEFAULT_SEED);
    let seeds = seeds();
    let corpus = corpus::corpus(name).expect("fuzz/corpus is readable");
    for input in seeds.iter().chain(&corpus) {
        check(target, &|| input.path.display().to_string(), &input.bytes);
    }
    // Mutations start from the seeds and from what cargo-fuzz found.
    let (n_seeds, n_corpus) = (seeds.len(), corpus.len());
    let pool: Vec<Vec<u8>> = seeds.into_iter().chain(corpus).map(|i| i.bytes).collect();
    for (n, input) in Mutator::new(&pool, seed).take(inputs as usize).enumerate() {
        check(
            target,
            &|| format!("generated input {n} of FUZZ_SEED={seed:#x}"),
            &input,
        );
    }
    println!(
        "fuzz target {name} on stable: {n_seeds} seeds, {n_corpus} corpus inputs, {inputs} \
         generated inputs (FUZZ_SEED={seed:#x}): no failure"
    );
}

#[test]
fn frame_and_parse_on_stable() {
    fuzz_on_stable("frame_and_parse");
}

#[test]
fn roundtrip_on_stable() {
    fuzz_on_stable("roundtrip");
}

/// The targets here are the ones cargo-fuzz builds: one `fuzz/fuzz_targets/*.rs`
/// and one `[[bin]]` in `fuzz/Cargo.toml` per body, each calling that body.
#[test]
fn every_cargo_fuzz_target_has_its_body_here() {
    let fuzz = corpus::fuzz_dir();
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut names: Vec<_> = TARGETS.iter().map(|t| format!("{}.rs", t.name)).collect();
    names.sort();
    assert_eq!(files, names);
    for target in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{}\"", target.name)),
            "fuzz/Cargo.toml has no [[bin]] {}",
            target.name
        );
        let source =
            std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{}.rs", target.name))).unwrap();
        assert!(
            source.contains(&format!("nexthop_fuzz_bodies::{}::fuzz(", target.name)),
            "fuzz/fuzz_targets/{}.rs does not call its body",
            target.name
        );
    }
}

/// Every seed but the README is whole BGP messages behind a session byte.
#[test]
fn every_seed_frames_into_whole_messages() {
    for seed in seeds() {
        if seed.path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let spans = messages(&seed.bytes);
        assert!(!spans.is_empty(), "{}", seed.path.display());
        assert_eq!(
            spans.last().map(|s| s.end),
            Some(seed.bytes.len()),
            "{} has bytes after its last whole message",
            seed.path.display()
        );
    }
}

/// The generator is worth running: most inputs are new, many still frame, and
/// they reach both the UPDATE parser's accepting and its refusing paths.
#[test]
fn generated_inputs_reach_the_parsers() {
    let seeds: Vec<Vec<u8>> = seeds().into_iter().map(|i| i.bytes).collect();
    let n = 10_000;
    let (mut new, mut framed, mut update_ok, mut update_err) = (0, 0, 0, 0);
    let mut types = std::collections::BTreeSet::new();
    for input in Mutator::new(&seeds, DEFAULT_SEED).take(n) {
        new += usize::from(!seeds.contains(&input));
        let spans = messages(&input);
        framed += usize::from(!spans.is_empty());
        let mut negotiated = Negotiated {
            four_octet_as: input.first().is_some_and(|b| b & 1 != 0),
            ..Negotiated::default()
        };
        if input.first().is_some_and(|b| b & 4 != 0) {
            negotiated.add_path_receive.insert(Family::IPV4_UNICAST);
        }
        for span in spans {
            let message = &input[span];
            let message_type = Header::new_unchecked(message).message_type();
            types.insert(u8::from(message_type));
            if message_type == MessageType::Update && message.len() > HEADER_LEN {
                match Update::parse(message, &negotiated) {
                    Ok(_) => update_ok += 1,
                    Err(_) => update_err += 1,
                }
            }
        }
    }
    println!("{new} new, {framed} framed, {update_ok} UPDATEs parsed, {update_err} refused");
    assert!(
        new > n * 9 / 10,
        "{new} of {n} inputs differ from every seed"
    );
    assert!(
        framed > n / 2,
        "{framed} of {n} inputs hold a whole message"
    );
    assert!(update_ok > n / 10, "{update_ok} UPDATEs parsed");
    assert!(update_err > n / 20, "{update_err} UPDATEs refused");
    assert_eq!(types.into_iter().collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
}
