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
    #[error("invalid setting {param}: {reason}")]
    InvalidParam {
        /// The setting, as its setter is called.
        param: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// An item id the fitted pipeline does not know.
    #[error("unknown item {0:?}")]
    UnknownItem(String),
    /// A filter value that names nothing in the catalogue (a category, language or cluster
    /// no item has).
    #[error("unknown {field} {value:?} in a filter")]
    UnknownFilter {
        /// `"category"`, `"language"` or `"cluster"`.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// A list length of zero.
    #[error("a list needs at least one item (n = 0)")]
    ZeroLength,
    /// The same item id twice in one batch of items.
    #[error("item {0:?} appears twice in one batch")]
    DuplicateItem(String),
    /// An item that cannot be used (empty id or title).
    #[error("item {id:?}: {reason}")]
    InvalidItem {
        /// The item's id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The embedder gave rows of the wrong width, or NaN / infinite values.
    #[error("embedder output: {0}")]
    EmbedderOutput(String),
    /// The embedder given at load time is not the one the pipeline was fitted with.
    #[error("embedder mismatch: {0}")]
    EmbedderMismatch(String),
    /// The pipeline was fitted with a custom embedder, which is not saved: this operation
    /// (adding or changing items) needs it, given again with
    /// [`FittedPipeline::load_with_embedder`](crate::FittedPipeline::load_with_embedder).
    #[error("this pipeline was fitted with a custom embedder ({0}); load it with load_with_embedder to add or change items")]
    EmbedderRequired(String),
    /// A saved pipeline that cannot be read: missing, truncated, altered or of another version.
    #[error("artifact {path}: {reason}")]
    Artifact {
        /// The file or folder.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A save that would destroy something that is not a groundrec pipeline.
    #[error("refusing to save to {path}: {reason}")]
    WouldOverwrite {
        /// The path given.
        path: PathBuf,
        /// What is there.
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

impl GroundrecError {
    pub(crate) fn param(param: &'static str, reason: impl Into<String>) -> Self {
        GroundrecError::InvalidParam {
            param,
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = GroundrecError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> GroundrecError {
    let path = path.into();
    move |source| GroundrecError::Io { path, source }
}
