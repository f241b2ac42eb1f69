//! Shared by the tests that need the bundled models.

use std::path::PathBuf;

/// `models/<name>` (or `$GROUNDREC_MODELS/<name>`), failing with the setup command when absent.
pub fn model(name: &str) -> PathBuf {
    let dir = std::env::var_os("GROUNDREC_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
        .join(name);
    assert!(
        dir.join(".complete").is_file(),
        "{} is missing: run `scripts/setup` first",
        dir.display()
    );
    dir
}
