use std::path::PathBuf;

/// Everything that can go wrong in groundrec-sasrec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SasRecError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An input line could not be read or parsed.
    #[error("line {line}: {reason}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// A setting is out of range.
    #[error("invalid setting {param}: {reason}")]
    InvalidParam {
        /// The setting's name, as its setter is called.
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// A list length outside `1..=max`.
    #[error("list length must be in 1..={max}, got {k}")]
    ListLength {
        /// The length asked for.
        k: usize,
        /// The most items that can be listed.
        max: usize,
    },
    /// There is nothing to work on (no items, no training pairs, an empty history, ...).
    #[error("empty input: {0}")]
    EmptyInput(String),
    /// An item id or index that the model does not know.
    #[error("unknown item: {0}")]
    UnknownItem(String),
    /// An item id given twice where ids must be unique.
    #[error("duplicate item id {0:?}")]
    DuplicateItem(String),
    /// Item features with the wrong shape or non-finite values.
    #[error("invalid item features: {0}")]
    Features(String),
    /// Training diverged (a non-finite loss).
    #[error("training diverged: {0}")]
    Diverged(String),
    /// A saved model could not be read: missing, truncated, corrupt or of another version.
    #[error("artifact {path}: {reason}")]
    Artifact {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(String),
}

impl SasRecError {
    pub(crate) fn param(param: &'static str, reason: impl Into<String>) -> Self {
        SasRecError::InvalidParam {
            param,
            reason: reason.into(),
        }
    }
}

/// libtorch's errors as this crate's (kept private: tch types do not cross the crate boundary).
pub(crate) fn torch(e: tch::TchError) -> SasRecError {
    SasRecError::Torch(e.to_string())
}

/// Shorthand for results of this crate.
pub type Result<T, E = SasRecError> = std::result::Result<T, E>;
