//! SASRec (Kang & McAuley, ICDM 2018) for groundrec: a sequential recommender built on
//! multi-head causal self-attention over a user's item history, trained with libtorch (tch).
//!
//! - **Data**: [`Sequences`] reads `user item` lines or one-line-per-user sequences and keeps
//!   the id maps both ways; [`Dataset::leave_one_out`] is the paper's split.
//! - **Model**: item embeddings scaled by √d plus learned positions, N blocks of causal
//!   multi-head attention and point-wise feed-forward layers (the layout of the paper's code,
//!   or pre-LN; dropout on attention weights, and on attention outputs only if asked:
//!   [`SasRecParams::attention_output_dropout`]), padding masked, scores by the shared item
//!   embedding or a separate output table ([`SasRecParams::separate_output`]), optionally
//!   plus a learned bias per item ([`SasRecParams::item_bias`]). Optional frozen item features
//!   ([`SasRecValidParams::fit_with_features`]) make items without interactions scorable.
//! - **Training**: [`SasRec::params`] / [`SasRec::paper`] build [`SasRecParams`]; losses
//!   [`Loss::Bce`] (paper), [`Loss::GBce`] (gSASRec), [`Loss::SampledSoftmax`] and
//!   [`Loss::FullSoftmax`]; negatives never come from the user's own training items and are
//!   drawn per batch, per user or per position ([`NegativeDraw`]); Adam with
//!   betas (0.9, 0.98) at a constant or cosine-decayed rate ([`LrSchedule`]); early stopping
//!   on validation NDCG@10; progress bars unless quiet; optionally every step of histories
//!   longer than the maximum length ([`SasRecParams::history_windows`]) and an added BCE term
//!   beside a softmax loss ([`SasRecParams::bce_weight`]); a moving average of the weights
//!   for validation and the returned model ([`SasRecParams::weight_ema`]); label smoothing
//!   of the softmax losses ([`SasRecParams::label_smoothing`]). Each step runs its batch as
//!   groups of rows of similar length, each cut to its own longest history
//!   ([`SasRecParams::length_groups`]): the same loss and gradients for less work (1.8x
//!   faster epochs on ML-1M at length 200).
//! - **Evaluation**: [`SasRecModel::evaluate`] reports HR@K / NDCG@K under the paper's
//!   sampled protocol and under full ranking, and catalogue coverage.
//! - **Serving**: [`SasRecModel::recommend`] for any history, [`SasRecModel::save`] /
//!   [`SasRecModel::load`] with safetensors weights and a JSON description.
//!
//! tch types never appear in the public API: inputs and outputs are plain Rust and ndarray.
//!
//! Memory: a full-softmax step allocates `[positions, items]` logits (hundreds of MB on
//! ML-1M), which glibc maps and unmaps on every step. On ML-1M that cost 28 % of the training
//! time in page faults; running the process with `MALLOC_MMAP_MAX_=0` and a large
//! `MALLOC_TRIM_THRESHOLD_` keeps the memory in the process and made an epoch 1.24x faster
//! (docs/benchmarks.md). The library leaves the process's allocator settings to you.
//!
//! # Example
//!
//! ```
//! use groundrec_sasrec::{Dataset, EvalParams, SasRec, Sequences};
//!
//! // Twelve users walking through items in order: after item i comes item i + 1.
//! let mut log = String::new();
//! for u in 0..12 {
//!     for i in 0..8 {
//!         log.push_str(&format!("u{u} item{}\n", (u + i) % 10));
//!     }
//! }
//! let data = Dataset::leave_one_out(&Sequences::read_pairs(log.as_bytes())?);
//! let (model, report) = SasRec::params()
//!     .hidden(16)
//!     .heads(2)
//!     .max_len(8)
//!     .epochs(3)
//!     .early_stopping(None)
//!     .quiet(true)
//!     .check()?
//!     .fit(&data)?;
//! assert_eq!(report.epochs.len(), 3);
//! let top = model.recommend(&["item3", "item4"], 3)?;
//! assert_eq!(top.len(), 3);
//! assert!(top.iter().all(|r| r.item != "item3" && r.item != "item4"));
//! let eval = model.evaluate(&data.test, &EvalParams::full())?;
//! assert!(eval.full.is_some());
//! # Ok::<(), groundrec_sasrec::SasRecError>(())
//! ```
#![deny(missing_docs)]

mod artifact;
mod batches;
mod data;
mod dataset;
mod ema;
mod error;
mod eval;
mod grouped;
mod model;
mod params;
mod serve;
mod train;

pub use artifact::{fnv1a64, FORMAT_VERSION};
pub use data::{leave_one_out, Sequences, UserSplit};
pub use dataset::{Dataset, EvalCase};
pub use error::{Result, SasRecError};
pub use eval::{EvalParams, Evaluation, RankMetrics};
pub use model::ModelConfig;
pub use params::{
    Compute, EarlyStopping, Loss, LrSchedule, NegativeDraw, Protocol, SasRec, SasRecParams,
    SasRecValidParams,
};
pub use serve::{RecommendOptions, Recommendation, SasRecModel, Source};
pub use train::{EpochLog, Phases, TrainReport};
