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
    /// A setting out of range.
    #[error("invalid setting {param}: {reason}")]
    InvalidParam {
        /// The setting, as its setter is called.
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The embedder failed.
    #[error(transparent)]
    Embed(#[from] groundrec_embed::EmbedError),
}

impl KeywordsError {
    pub(crate) fn param(param: &'static str, reason: impl Into<String>) -> Self {
        KeywordsError::InvalidParam {
            param,
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = KeywordsError> = std::result::Result<T, E>;
