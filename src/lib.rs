//! groundrec: content personalisation from the ground up.
//!
//! A catalogue with text metadata and a log of user events go in; personalised, fairly spread
//! recommendations come out. [`Pipeline`] joins the focused crates into one job:
//!
//! 1. **keywords** per item (KeyBERT-style, Korean nouns through lindera when a dictionary is
//!    given),
//! 2. **embeddings** of each item's title and keywords (a Hugging Face model folder, or feature
//!    hashing for trials),
//! 3. **clusters** of the embeddings (spherical k-means, k fixed or chosen by silhouette),
//! 4. **SASRec** on the event sequences with the embeddings as content features, so items
//!    without events can still be recommended,
//! 5. **fair re-ranking**: no cluster takes more than `m` of any `w` consecutive slots.
//!
//! [`FittedPipeline::recommend`] serves lists for any history, [`FittedPipeline::save`] /
//! [`FittedPipeline::load`] keep every fitted part in one folder, and [`Report`] holds held-out
//! HR@10 / NDCG@10 against a popularity baseline, coverage, diversity, cluster exposure and
//! timings. The component crates stay available on their own:
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
//! use groundrec::{demo_catalog, simulate_learners, Clusters, DemoLearners, Pipeline};
//! use groundrec::sasrec::SasRec;
//!
//! # fn main() -> Result<(), groundrec::GroundrecError> {
//! let (catalog, _) = demo_catalog()?;
//! let log = simulate_learners(&catalog, &DemoLearners { learners: 120, ..Default::default() });
//! let pipeline = Pipeline::builder()
//!     .hashing(128) // or .model("models/multilingual-e5-small", "query: ")
//!     .clusters(Clusters::Fixed(8))
//!     .sasrec(SasRec::params().hidden(32).epochs(2).early_stopping(None))
//!     .quiet(true)
//!     .build()?;
//! let (fitted, report) = pipeline.fit(&catalog, &log.events)?;
//! let list = fitted.recommend(&["L001", "L002"], 5)?;
//! assert_eq!(list.len(), 5);
//! assert!(list.iter().all(|r| r.item != "L001" && r.item != "L002"));
//! assert!(report.holdout.is_some());
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod data;
mod demo;
mod error;
mod fitted;
mod pipeline;
mod report;

pub use data::{
    parse_timestamp, read_events_csv, read_events_jsonl, validate_events, Catalog, DataReport,
    Dropped, Event, Item,
};
pub use demo::{demo_catalog, simulate_learners, DemoEvents, DemoLearners};
pub use error::{GroundrecError, Result};
pub use fitted::{FittedPipeline, Recommendation, PIPELINE_FORMAT_VERSION};
pub use pipeline::{
    Clusters, EmbedderSpec, FairSettings, ItemText, Pipeline, PipelineBuilder, PipelineConfig,
};
pub use report::{ClusterExposure, HitMetrics, Holdout, Report, Timing};

pub use groundrec_embed as embed;
pub use groundrec_keywords as keywords;
pub use groundrec_kmeans as kmeans;
pub use groundrec_sasrec as sasrec;
pub use groundrec_shuffle as shuffle;
