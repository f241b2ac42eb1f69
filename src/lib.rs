//! groundrec: content personalisation from the ground up.
//!
//! A catalogue with text metadata and a log of user events go in; personalised, fairly spread
//! lists come out, from a catalogue that keeps changing while it serves. [`Pipeline`] joins
//! the focused crates into one job:
//!
//! 1. **keywords** per item (KeyBERT-style, Korean nouns through lindera when a dictionary is
//!    given),
//! 2. **embeddings** of each item's title and keywords (a Hugging Face model folder, feature
//!    hashing for trials, or any [`embed::Embedder`] of yours),
//! 3. **clusters** of the embeddings (spherical k-means, k fixed or chosen by silhouette),
//! 4. **SASRec** on the event sequences with the embeddings as content features, so items
//!    without events can still be recommended,
//! 5. **fair re-ranking**: no cluster takes more than `m` of any `w` consecutive slots.
//!
//! A [`FittedPipeline`] serves: [`FittedPipeline::recommend`] for a history with
//! [`RecommendOptions`] (list length, excluded items, only some categories, languages or
//! clusters, reviews of seen items, re-ranking per call), each item with the [`Reason`] it is
//! there; [`FittedPipeline::similar`] by embedding; popular items for users without history.
//! [`FittedPipeline::upsert_items`] adds or changes lectures without retraining (keywords, an
//! embedding, the nearest cluster, and a score through the recommender's content projection)
//! and [`FittedPipeline::retire`] takes them out of lists. It is `Send + Sync`;
//! [`FittedPipeline::save`] / [`FittedPipeline::load`] keep every part, changes included, in
//! one folder that a reader sees whole or not at all. [`Report`] holds held-out HR@10 /
//! NDCG@10 against a popularity baseline, coverage, diversity, cluster exposure and timings.
//!
//! The library never prints and sets no process-wide thread count: long work reports to an
//! [`Observer`], and a program calls [`set_threads`] once. It links libtorch (for training and
//! for transformer embeddings); crates that depend on it need `LIBTORCH` (or
//! `LIBTORCH_USE_PYTORCH=1`) at build time and libtorch's `lib/` folder on the loader path at
//! run time, as every tch program does (see the README).
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
//! use groundrec::sasrec::SasRec;
//! use groundrec::{
//!     simulate_learners, Catalog, Clusters, DemoLearners, Item, Pipeline, Reason,
//!     RecommendOptions,
//! };
//!
//! # fn main() -> Result<(), groundrec::GroundrecError> {
//! // Four subjects of six lessons each.
//! let subjects = [("math", "Fractions"), ("history", "Joseon"), ("music", "Scales"), ("code", "Rust")];
//! let items = subjects.iter().flat_map(|(cat, topic)| {
//!     (1..=6).map(move |l| {
//!         Item::new(format!("{cat}{l}"), format!("{topic} lesson {l}"), format!("{topic}, part {l}"))
//!             .with_category(*cat)
//!     })
//! });
//! let (catalog, _) = Catalog::from_items(items)?;
//! let log = simulate_learners(&catalog, &DemoLearners { learners: 80, ..Default::default() });
//! let (mut fitted, report) = Pipeline::builder()
//!     .hashing(128) // or .model("models/multilingual-e5-small", "query: ")
//!     .clusters(Clusters::Fixed(4))
//!     .sasrec(SasRec::params().hidden(32).epochs(2).early_stopping(None))
//!     .check()?
//!     .fit(&catalog, &log.events)?;
//! assert!(report.holdout.is_some());
//!
//! // Five items for a history, only from math, with the reason each is there.
//! let opts = RecommendOptions::new(5).categories(["math"]);
//! let list = fitted.recommend(&["math1", "math2"], &opts)?;
//! assert!(list.items.iter().all(|r| r.item.starts_with("math") && r.item != "math1"));
//! assert!(list.items.iter().all(|r| r.reason == Reason::Model));
//!
//! // A lecture added after the fit is listed at once; a retired one never again.
//! fitted.upsert_items(&[Item::new("math7", "Fractions lesson 7", "Fractions, part 7").with_category("math")])?;
//! fitted.retire("math3")?;
//! let all = RecommendOptions::new(6).categories(["math"]);
//! let list = fitted.recommend(&["math1", "math2"], &all)?;
//! assert!(list.items.iter().any(|r| r.item == "math7" && r.reason == Reason::ContentOnly));
//! assert!(list.items.iter().all(|r| r.item != "math3"));
//! let near = fitted.similar("math7", &RecommendOptions::new(3))?;
//! assert!(near.items.iter().all(|r| r.item.starts_with("math")));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod artifact;
mod catalog;
mod center;
mod demo;
mod error;
mod events;
mod fit;
mod fitted;
mod holdout;
mod lists;
mod movielens;
mod observe;
mod params;
mod recommend;
mod report;

pub use artifact::PIPELINE_FORMAT_VERSION;
pub use catalog::{Catalog, DataReport, Dropped, Item};
pub use center::Script;
pub use demo::{simulate_learners, DemoEvents, DemoLearners};
pub use error::{GroundrecError, Result};
pub use events::{parse_timestamp, read_events_csv, read_events_jsonl, validate_events, Event};
pub use fitted::{FittedPipeline, PreparedItems, UpsertReport};
pub use holdout::{holdout_cases, Evaluation, HoldoutCase};
pub use movielens::read_movielens;
pub use observe::{Observer, Stage};
pub use params::{
    Clusters, EmbedderSpec, FairSettings, ItemText, Pipeline, PipelineConfig, PipelineParams,
    PipelineValidParams,
};
pub use recommend::{EmptyReason, Reason, RecommendList, RecommendOptions, Recommendation, Rerank};
pub use report::{intra_list_diversity, ClusterExposure, HitMetrics, Holdout, Report, Timing};

pub use groundrec_embed as embed;
pub use groundrec_keywords as keywords;
pub use groundrec_kmeans as kmeans;
pub use groundrec_sasrec as sasrec;
pub use groundrec_shuffle as shuffle;

/// Sets the threads of the whole process, once, at start-up: libtorch's intra-op threads
/// (training, transformer embeddings) and rayon's global pool (k-means, batch scoring,
/// evaluation). The one place groundrec touches thread settings; libraries never call it.
/// Fails if rayon's global pool was already built (by an earlier call or other code).
pub fn set_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(GroundrecError::param("threads", "must be at least 1"));
    }
    groundrec_sasrec::set_torch_threads(n);
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| GroundrecError::param("threads", format!("rayon's pool: {e}")))
}
