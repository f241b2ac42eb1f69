/// Everything that can go wrong in groundrec-shuffle.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ShuffleError {
    /// A parameter is out of its range.
    #[error("invalid setting {param}: {reason}")]
    InvalidParam {
        /// The setting, as its setter is called.
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// A score is NaN or infinite.
    #[error("score of item {index} is not finite ({value})")]
    NonFiniteScore {
        /// Position of the item in the input.
        index: usize,
        /// The offending value.
        value: f64,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = ShuffleError> = std::result::Result<T, E>;
