//! Watching a fit: the one observer of every stage, step and epoch. The library never prints;
//! a program implements [`Observer`] (with indicatif progress bars, say) or passes `&()`.

use groundrec_sasrec::{EpochLog, TrainObserver};
use serde::{Deserialize, Serialize};

/// A stage of [`PipelineValidParams::fit`](crate::PipelineValidParams::fit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stage {
    /// Loading the embedder (reading a model folder).
    LoadEmbedder,
    /// Keyphrases of every item.
    Keywords,
    /// Item embeddings.
    Embeddings,
    /// Clustering the embeddings.
    Clusters,
    /// Training SASRec.
    Recommender,
    /// Lists and figures of the report.
    Report,
}

impl Stage {
    /// A short lower-case name ("keywords", "sasrec", ...), as the report's timings name it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::LoadEmbedder => "load embedder",
            Stage::Keywords => "keywords",
            Stage::Embeddings => "embeddings",
            Stage::Clusters => "clusters",
            Stage::Recommender => "sasrec",
            Stage::Report => "report",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Watches a fit. Every method has an empty default, so an implementation picks what it shows.
pub trait Observer: Sync {
    /// A stage begins.
    fn stage(&self, stage: Stage) {
        let _ = stage;
    }
    /// `done` of `total` units of a stage's work (texts embedded, training steps; with early
    /// stopping the recommender may finish before `total`).
    fn progress(&self, stage: Stage, done: usize, total: usize) {
        let _ = (stage, done, total);
    }
    /// A training epoch ended (with validation figures when it was evaluated).
    fn epoch(&self, log: &EpochLog) {
        let _ = log;
    }
    /// A stage ended after `seconds`.
    fn stage_done(&self, stage: Stage, seconds: f64) {
        let _ = (stage, seconds);
    }
}

/// Observes nothing.
impl Observer for () {}

/// The recommender's training seen through the pipeline's observer.
pub(crate) struct Training<'a> {
    pub(crate) observer: &'a dyn Observer,
    pub(crate) epochs: usize,
}

impl TrainObserver for Training<'_> {
    fn step(&self, epoch: usize, step: usize, steps: usize) {
        self.observer.progress(
            Stage::Recommender,
            (epoch - 1) * steps + step,
            self.epochs * steps,
        );
    }

    fn epoch(&self, log: &EpochLog) {
        self.observer.epoch(log);
    }
}
