/// Everything that can go wrong in groundrec-kmeans.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KMeansError {
    /// The data has no rows.
    #[error("the data has no rows")]
    EmptyInput,
    /// The data has no columns.
    #[error("the data has no columns")]
    NoColumns,
    /// A value is NaN or infinite.
    #[error("row {row} holds a NaN or infinite value")]
    NonFinite {
        /// The first row with a bad value.
        row: usize,
    },
    /// A row so large that squared distances overflow the float type (scale the data down).
    #[error("row {row} is too large: squared distances overflow the float type; scale the data")]
    TooLarge {
        /// The first row that is too large.
        row: usize,
    },
    /// k is zero.
    #[error("k must be at least 1")]
    ZeroK,
    /// More clusters than rows.
    #[error("k = {k} is larger than the number of rows n = {n}")]
    KGreaterThanN {
        /// Requested clusters.
        k: usize,
        /// Rows in the data.
        n: usize,
    },
    /// Widths that must agree do not.
    #[error("dimension mismatch: expected {expected} columns, got {got}")]
    DimensionMismatch {
        /// Columns required.
        expected: usize,
        /// Columns given.
        got: usize,
    },
    /// A setting out of range.
    #[error("invalid setting {param}: {reason}")]
    InvalidParam {
        /// The setting, as its setter is called.
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

impl KMeansError {
    pub(crate) fn param(param: &'static str, reason: impl Into<String>) -> Self {
        KMeansError::InvalidParam {
            param,
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = KMeansError> = std::result::Result<T, E>;
