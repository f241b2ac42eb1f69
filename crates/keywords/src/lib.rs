//! KeyBERT-style keyphrase extraction for groundrec, Korean-aware.
//!
//! Status: the Korean morphological layer ([`KoreanAnalyzer`], lindera over mecab-ko-dic) is
//! in place; candidate generation and embedding-based ranking (cosine, MMR, MaxSum) follow.
//!
//! # Example
//!
//! ```no_run
//! use groundrec_keywords::KoreanAnalyzer;
//!
//! // `scripts/setup` builds models/ko-dic from the mecab-ko-dic sources.
//! let ko = KoreanAnalyzer::load("models/ko-dic")?;
//! let nouns: Vec<String> = ko
//!     .analyze("분수의 덧셈과 뺄셈")?
//!     .into_iter()
//!     .filter(|m| m.is_noun())
//!     .map(|m| m.surface)
//!     .collect();
//! assert_eq!(nouns, ["분수", "덧셈", "뺄셈"]);
//! # Ok::<(), groundrec_keywords::KeywordsError>(())
//! ```
#![deny(missing_docs)]

mod error;
mod korean;

pub use error::{KeywordsError, Result};
pub use korean::{KoreanAnalyzer, Morpheme};
