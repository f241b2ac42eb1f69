//! SASRec (Kang & McAuley, ICDM 2018) for groundrec: a sequential recommender built on
//! multi-head causal self-attention over a user's item history, trained with libtorch (tch).
//!
//! Status: data reading, the paper's leave-one-out split and the network (causal multi-head
//! self-attention, paper or pre-LN layout, padding masked) are in place; training, evaluation,
//! serving and artifacts follow.
//!
//! # Example
//!
//! ```
//! use groundrec_sasrec::{leave_one_out, Sequences};
//!
//! let data = Sequences::read_pairs("1 10\n1 11\n1 12\n1 13\n2 10\n".as_bytes())?;
//! assert_eq!(data.n_items(), 4);
//! let split = leave_one_out(&data.sequences[0]);
//! assert_eq!((split.train.len(), split.valid, split.test), (2, Some(3), Some(4)));
//! # Ok::<(), groundrec_sasrec::SasRecError>(())
//! ```
#![deny(missing_docs)]

mod data;
mod error;
// The network is used by its tests until training and serving (the next step) use it.
#[cfg_attr(not(test), allow(dead_code))]
mod model;

pub use data::{leave_one_out, Sequences, UserSplit};
pub use error::{Result, SasRecError};
pub use model::ModelConfig;
