use std::path::PathBuf;

/// Everything that can go wrong while extracting keywords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeywordsError {
    /// The Korean dictionary folder is missing or incomplete.
    #[error("Korean dictionary not found at {path}: {reason}; run `scripts/setup` to build models/ko-dic")]
    MissingDictionary {
        /// The folder that was looked at.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// Morphological analysis failed.
    #[error("morphological analysis failed: {0}")]
    Analyzer(String),
    /// An option was set to a value that cannot work.
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
    /// The embedder failed.
    #[error(transparent)]
    Embed(#[from] groundrec_embed::EmbedError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = KeywordsError> = std::result::Result<T, E>;
