use std::path::PathBuf;

/// Everything that can go wrong in the groundrec pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GroundrecError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Input data that cannot be used at all (no items, no events, no usable rows).
    #[error("invalid data: {0}")]
    Data(String),
    /// A setting out of range.
    #[error("invalid setting: {0}")]
    InvalidParam(String),
    /// An item id the fitted pipeline does not know.
    #[error("unknown item {0:?}")]
    UnknownItem(String),
    /// A saved pipeline that cannot be read: missing, truncated, altered or of another version.
    #[error("artifact {path}: {reason}")]
    Artifact {
        /// The file or folder.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// From the embedding step.
    #[error(transparent)]
    Embed(#[from] groundrec_embed::EmbedError),
    /// From the keyword step.
    #[error(transparent)]
    Keywords(#[from] groundrec_keywords::KeywordsError),
    /// From the clustering step.
    #[error(transparent)]
    KMeans(#[from] groundrec_kmeans::KMeansError),
    /// From the recommender.
    #[error(transparent)]
    SasRec(#[from] groundrec_sasrec::SasRecError),
    /// From the fair re-ranking.
    #[error(transparent)]
    Shuffle(#[from] groundrec_shuffle::ShuffleError),
}

/// Shorthand for results of this crate.
pub type Result<T, E = GroundrecError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> GroundrecError {
    let path = path.into();
    move |source| GroundrecError::Io { path, source }
}
