//! Running a fuzz target without libFuzzer: one input at a time, a panic caught
//! and returned with its message, and a failing input saved where cargo-fuzz keeps
//! its artifacts (`fuzz/artifacts/<target>/`), so that
//! `cargo +nightly fuzz run <target> <file>` replays it.

use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::Target;

/// A target panicked on an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panic {
    /// The panic's message, or a note that it carried none.
    pub message: String,
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panicked: {}", self.message)
    }
}

impl std::error::Error for Panic {}

impl Target {
    /// Runs the body on `input`; `Err` when it panicked.
    pub fn run(&self, input: &[u8]) -> Result<(), Panic> {
        catch_unwind(AssertUnwindSafe(|| (self.fuzz)(input))).map_err(|payload| {
            let message = if let Some(s) = payload.downcast_ref::<&str>() {
                (*s).to_owned()
            } else if let Some(s) = payload.downcast_ref::<String>() {
                s.clone()
            } else {
                "(a panic without a message)".to_owned()
            };
            Panic { message }
        })
    }
}

/// Saves `input` as `<dir>/<target>/crash-stable-<hash>` (the hash of its bytes,
/// so the same input is saved once) and returns the file's path.
pub fn save_artifact(dir: &Path, target: &str, input: &[u8]) -> io::Result<PathBuf> {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("crash-stable-{:016x}", fnv1a(input)));
    std::fs::write(&path, input)?;
    Ok(path)
}

/// The 64-bit FNV-1a hash: a stable name for an input's bytes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics_on_0x42(input: &[u8]) {
        assert!(
            !input.contains(&0x42),
            "found 0x42 in {} bytes",
            input.len()
        );
    }

    const PICKY: Target = Target {
        name: "picky",
        fuzz: panics_on_0x42,
    };

    #[test]
    fn a_panic_is_returned_with_its_message() {
        assert_eq!(PICKY.run(&[1, 2, 3]), Ok(()));
        assert_eq!(
            PICKY.run(&[1, 0x42]),
            Err(Panic {
                message: "found 0x42 in 2 bytes".into()
            })
        );
    }

    #[test]
    fn a_failing_input_is_saved_once_under_its_target() {
        let dir = std::env::temp_dir().join(format!("fuzz-bodies-run-{}", std::process::id()));
        let first = save_artifact(&dir, "picky", &[1, 0x42]).unwrap();
        let again = save_artifact(&dir, "picky", &[1, 0x42]).unwrap();
        let other = save_artifact(&dir, "picky", &[0x42]).unwrap();
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert!(first.starts_with(dir.join("picky")));
        assert_eq!(std::fs::read(&first).unwrap(), [1, 0x42]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
