/// Everything that can go wrong in groundrec-sasrec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SasRecError {
    /// Reading or writing a file failed.
    #[error("i/o error: {0}")]
    Io(String),
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParam(String),
    /// An input line could not be parsed.
    #[error("line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// There is nothing to work on (no items, no training pairs, an empty history, ...).
    #[error("empty input: {0}")]
    EmptyInput(String),
    /// An item id that the model does not know.
    #[error("unknown item: {0}")]
    UnknownItem(String),
    /// Item features with the wrong shape or non-finite values.
    #[error("invalid item features: {0}")]
    Features(String),
    /// Training diverged (a non-finite loss).
    #[error("training diverged: {0}")]
    Diverged(String),
    /// A saved model could not be read: missing, truncated, corrupt or of another version.
    #[error("artifact {path}: {reason}")]
    Artifact {
        /// The file or folder.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(String),
}

impl From<tch::TchError> for SasRecError {
    fn from(e: tch::TchError) -> Self {
        SasRecError::Torch(e.to_string())
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = SasRecError> = std::result::Result<T, E>;
