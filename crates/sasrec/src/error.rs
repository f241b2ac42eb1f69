/// Everything that can go wrong in groundrec-sasrec.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SasRecError {
    /// Reading input failed.
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
}

/// Shorthand for results of this crate.
pub type Result<T, E = SasRecError> = std::result::Result<T, E>;
