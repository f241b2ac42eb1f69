//! SASRec (Kang & McAuley, ICDM 2018) for groundrec: a sequential recommender built on
//! multi-head causal self-attention over a user's item history, trained with libtorch (tch).
//!
//! - **Data**: [`Sequences`] reads `user item` lines or one-line-per-user sequences and keeps
//!   the id maps both ways; [`Dataset::from_sequences`] takes sequences built in memory and
//!   [`Split::LeaveOneOut`] is the paper's split. Items are [`ItemIdx`] positions `0..n`: the
//!   network's padding id never leaves this crate.
//! - **Model**: item embeddings scaled by √d plus learned positions, N blocks of causal
//!   multi-head attention and point-wise feed-forward layers (the layout of the paper's code,
//!   or pre-LN; dropout on attention weights, and on attention outputs only if asked:
//!   [`SasRecParams::attention_output_dropout`]), padding masked, scores by the shared item
//!   embedding or a separate output table ([`SasRecParams::separate_output`]), optionally
//!   plus a learned bias per item ([`SasRecParams::item_bias`]). Optional frozen item features
//!   ([`SasRecValidParams::fit_with_features`]) make items without interactions scorable.
//! - **Training** (libtorch): [`SasRec::params`] / [`SasRec::paper`] build [`SasRecParams`],
//!   [`SasRecParams::check`] gives [`SasRecValidParams`]; losses [`Loss::Bce`] (paper),
//!   [`Loss::GBce`] (gSASRec), [`Loss::SampledSoftmax`], [`Loss::FullSoftmax`] and
//!   [`Loss::Auto`] (full up to a catalogue size, sampled above); negatives
//!   never come from the user's own training items and are drawn per batch, per user or per
//!   position ([`NegativeDraw`]); Adam with betas (0.9, 0.98) at a constant or cosine-decayed
//!   rate ([`LrSchedule`]), the item tables optionally updated row by row under sampled losses
//!   so a step costs its batch, not the catalogue ([`SasRecParams::row_updates`]); early
//!   stopping on validation NDCG@10; weight averaging, label
//!   smoothing, an added BCE term, training on every window of long histories; each step runs
//!   its batch as groups of rows of similar length ([`SasRecParams::length_groups`]). Nothing
//!   is printed: [`SasRecValidParams::fit_observed`] reports steps and epochs to a
//!   [`TrainObserver`]. Seeded fits give the same model in any thread (they take turns on
//!   libtorch's one random generator).
//! - **Evaluation**: [`SasRecModel::evaluate`] reports HR@K / NDCG@K under the paper's
//!   sampled protocol and under full ranking, and catalogue coverage;
//!   [`RankMetrics::from_ranks`] is the same metric for lists made elsewhere.
//! - **Serving** (plain Rust, no libtorch): [`SasRecModel::recommend`] for any history,
//!   [`SasRecModel::scores`] for batches, [`SasRecModel::add_items`] for items that arrive
//!   after training, [`SasRecModel::save`] / [`SasRecModel::load`] (one safetensors file).
//!   The model is `Send + Sync` and computes on the calling thread (large batches on rayon's
//!   pool), so a server shares one copy between request threads. The item-scoring loop is
//!   compiled for AVX2 and AVX beside the baseline and picked at run time by the
//!   `multiversion` crate (the detection's `unsafe` stays in that well-used crate; every
//!   version computes the same lane-wise sums, so scores do not depend on the CPU's vector
//!   width).
//!
//! tch types never appear in the public API: inputs and outputs are plain Rust and ndarray.
//! Threads are the caller's: training uses libtorch's intra-op setting as the process has it
//! (`tch::set_num_threads` in the program, or `OMP_NUM_THREADS`), serving uses rayon's pool.
//!
//! Memory: a full-softmax step allocates `[positions, items]` logits (hundreds of MB on
//! ML-1M), which glibc maps and unmaps on every step; running the process with
//! `MALLOC_MMAP_MAX_=0` and a large `MALLOC_TRIM_THRESHOLD_` keeps that memory in the process
//! (docs/experiments.md). The library leaves the process's allocator settings to you.
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
//! let data = Dataset::leave_one_out(&Sequences::read_pairs(log.as_bytes())?)?;
//! let (model, report) = SasRec::params()
//!     .hidden(16)
//!     .heads(2)
//!     .max_len(8)
//!     .epochs(3)
//!     .early_stopping(None)
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
mod export;
mod grouped;
mod infer;
mod item;
mod loss;
mod model;
mod params;
mod rng;
mod serve;
mod tables;
mod train;

pub use artifact::{fnv1a64, FORMAT_VERSION};
pub use data::{leave_one_out, Sequences, UserSplit};
pub use dataset::{Dataset, EvalCase, Split};
pub use error::{Result, SasRecError};
pub use eval::{best_k, EvalParams, Evaluation, RankMetrics};
pub use item::{items, ItemIdx};
pub use loss::{Loss, NegativeDraw};
pub use model::ModelConfig;
pub use params::{
    Compute, EarlyStopping, LrSchedule, Protocol, SasRec, SasRecParams, SasRecValidParams,
};
pub use serve::{RecommendOptions, Recommendation, SasRecModel, Source};
pub use train::{set_torch_threads, EpochLog, Phases, TrainObserver, TrainReport};
