//! Fair shuffling for groundrec, in the spirit of Spotify's shuffle: items of one group
//! (cluster, category, teacher) are spread through a list instead of bunched together.
//!
//! | function | what it guarantees | cost |
//! | --- | --- | --- |
//! | [`merge_shuffle`] | the fewest adjacent same-group pairs possible, `max(0, n_max − (n − n_max) − 1)` | `O(n)` |
//! | [`spread`] / [`spread_nested`] | every group evenly spaced, gaps below [`SpreadValidParams::max_gap_bound`]; two levels (cluster, then teacher) | `O(n log n)` |
//! | [`balanced_shuffle`] | Fiedler's column merge: at most one item of a group per column | `O(n + m)` |
//! | [`FairRanker`] | re-ranks scored lists: window cap (at most `m` of a group in any `w` slots, in the slots served, whenever feasible; else the best-scored item the cap allows), exposure targets in the top `k` | `O(n² g²)` worst case |
//! | [`push_back_recent`] | fewer repeats: recently shown items move down | `O(n log n)` |
//!
//! Every random choice takes a `seed` (ChaCha8): the same seed gives the same order on every
//! platform. The [`metrics`] module measures lists: adjacent pairs against the fewest possible
//! ([`metrics::spreading`], which also says when no spreading is possible: a single group),
//! long runs, gaps against the ideal, exposure, NDCG and Kendall's tau against the score order.
//! Empty input gives empty output everywhere.
//!
//! # Example
//!
//! ```
//! use groundrec_shuffle::{merge_shuffle, metrics, spread, SpreadValidParams};
//!
//! // Lectures tagged with their cluster: four of "algebra", two of "poetry", one of "jazz".
//! let lectures = vec![
//!     ("algebra", 1), ("algebra", 2), ("algebra", 3), ("algebra", 4),
//!     ("poetry", 5), ("poetry", 6), ("jazz", 7),
//! ];
//! let merged = merge_shuffle(lectures.clone(), |l| l.0, 42);
//! assert_eq!(metrics::adjacent_same_group(&merged, |l| l.0), 0);
//!
//! let spread_out = spread(lectures, |l| l.0, SpreadValidParams::default(), 42);
//! assert_eq!(spread_out.len(), 7);
//! ```
#![deny(missing_docs)]

mod error;
mod groups;
mod merge;
pub mod metrics;
mod rerank;
mod spread;

pub use error::{Result, ShuffleError};
pub use merge::{merge_order, merge_shuffle};
pub use rerank::{
    push_back_recent, FairRanker, FairRankerParams, FairRankerValidParams, RerankReport, Reranked,
};
pub use spread::{balanced_shuffle, spread, spread_nested, SpreadParams, SpreadValidParams};
