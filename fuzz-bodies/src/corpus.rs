//! The fuzz targets' inputs on disk: the hand-made seeds in `fuzz/seeds` (part of
//! the repository, one BGP message of each type and a whole session, each led by
//! the session byte) and the inputs cargo-fuzz has added in `fuzz/corpus/<target>`
//! (kept between runs, not committed, so often absent).

use std::io;
use std::path::{Path, PathBuf};

/// One input file.
#[derive(Clone, Debug)]
pub struct Input {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The repository's `fuzz/` directory.
pub fn fuzz_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().unwrap_or(crate_dir).join("fuzz")
}

/// Every file of `fuzz/seeds`, in name order. A missing or unreadable directory is
/// an error: the seeds are part of the repository.
pub fn seeds() -> io::Result<Vec<Input>> {
    read_dir(&fuzz_dir().join("seeds"))
}

/// Every file of cargo-fuzz's corpus for `target`, in name order; none when
/// cargo-fuzz has not run here.
pub fn corpus(target: &str) -> io::Result<Vec<Input>> {
    let dir = fuzz_dir().join("corpus").join(target);
    match read_dir(&dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        other => other,
    }
}

/// The regular files directly in `dir`, in name order.
fn read_dir(dir: &Path) -> io::Result<Vec<Input>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            paths.push(entry.path());
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path)?;
            Ok(Input { path, bytes })
        })
        .collect()
}
