//! SASRec placeholder.
#![deny(missing_docs)]
