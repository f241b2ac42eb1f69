//! SASRec (Kang & McAuley, ICDM 2018) for groundrec: a sequential recommender built on
//! multi-head causal self-attention over a user's item history, trained with libtorch (tch).
//!
//! Status: data reading and the paper's leave-one-out split are in place; the model, training,
//! evaluation and serving follow.
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

pub use data::{leave_one_out, Sequences, UserSplit};
pub use error::{Result, SasRecError};
