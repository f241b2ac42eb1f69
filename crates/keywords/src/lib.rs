//! Keywords placeholder.
#![deny(missing_docs)]
