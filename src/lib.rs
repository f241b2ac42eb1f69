//! groundrec: content personalisation from the ground up.
//!
//! A catalogue with text metadata and a log of user events go in; personalised, fairly spread
//! recommendations come out. This facade re-exports the focused crates that do each step:
//!
//! | step | crate | re-exported as |
//! | --- | --- | --- |
//! | keyphrases from item text | `groundrec-keywords` | [`keywords`] |
//! | sentence embeddings | `groundrec-embed` | [`embed`] |
//! | clustering item embeddings | `groundrec-kmeans` | [`kmeans`] |
//! | sequential recommendation | `groundrec-sasrec` | [`sasrec`] |
//! | fair shuffling and re-ranking | `groundrec-shuffle` | [`shuffle`] |
//!
//! # Example
//!
//! ```
//! use groundrec::embed::{cosine_similarity, Embedder, HashingEmbedder};
//!
//! # fn main() -> Result<(), groundrec::embed::EmbedError> {
//! let e = HashingEmbedder::new(128)?;
//! let m = e.embed(&["intro to statistics", "statistics: an intro"])?;
//! assert!(cosine_similarity(m.view(), m.view())?[[0, 1]] > 0.5);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub use groundrec_embed as embed;
pub use groundrec_keywords as keywords;
pub use groundrec_kmeans as kmeans;
pub use groundrec_sasrec as sasrec;
pub use groundrec_shuffle as shuffle;
