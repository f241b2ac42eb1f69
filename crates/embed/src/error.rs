use std::path::PathBuf;

/// Everything that can go wrong while loading a model or embedding text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbedError {
    /// A file the model folder needs is not there.
    #[error(
        "model file missing: {path} ({what}); run `scripts/setup` to fetch the bundled models"
    )]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
        /// What the file is for.
        what: &'static str,
    },
    /// A file exists but could not be read or parsed.
    #[error("cannot read {path}: {reason}")]
    BadFile {
        /// The offending file.
        path: PathBuf,
        /// Why it was rejected.
        reason: String,
    },
    /// The model's `config.json` names an architecture this crate cannot run.
    #[error("unsupported model_type {0:?} (supported: bert, xlm-roberta, roberta, distilbert)")]
    UnsupportedModel(String),
    /// The weights file does not fit the architecture described by `config.json`.
    #[error("weights in {path} do not match config.json: {reason}")]
    WeightMismatch {
        /// The weights file.
        path: PathBuf,
        /// Which tensor is missing or has the wrong shape.
        reason: String,
    },
    /// A setting out of range.
    #[error("invalid setting {param}: {reason}")]
    InvalidParam {
        /// The setting, as its setter is called.
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// Two things that must agree in size do not.
    #[error("dimension mismatch: expected {expected}, got {got}")]
    DimensionMismatch {
        /// The size that was required.
        expected: usize,
        /// The size that was given.
        got: usize,
    },
    /// An embedding holds NaN or an infinite value.
    #[error("non-finite value in embedding row {row}")]
    NonFinite {
        /// The first row (text) with a bad value.
        row: usize,
    },
    /// The tokenizer failed on an input.
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    /// The backend (libtorch or a user-supplied embedder) failed.
    #[error("backend error: {0}")]
    Backend(String),
}

impl EmbedError {
    pub(crate) fn param(param: &'static str, reason: impl Into<String>) -> Self {
        EmbedError::InvalidParam {
            param,
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = EmbedError> = std::result::Result<T, E>;
