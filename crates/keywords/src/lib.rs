//! KeyBERT-style keyphrase extraction for groundrec, Korean-aware.
//!
//! 1. **Candidates** come from a [`CandidateGenerator`]: word n-grams that never cross
//!    punctuation ([`NgramCandidates`]), Korean nouns and noun compounds from morphological
//!    analysis ([`KoreanNounCandidates`], lindera over mecab-ko-dic, so "분수의" gives "분수"),
//!    the two by script ([`AutoCandidates`]), a fixed vocabulary ([`ListCandidates`]) or your
//!    own generator. Every candidate keeps its surface form and byte offsets.
//! 2. **Scoring** ([`KeywordExtractor`]) embeds documents and candidates with any
//!    [`groundrec_embed::Embedder`] (no libtorch needed here) and ranks by cosine similarity as
//!    one matrix product, optionally diversified with MMR or MaxSum, with seed keywords,
//!    `min_df` and `max_df`. A batch embeds every distinct candidate of the corpus once; each
//!    document offers at most [`KeywordParams::max_candidates`] candidates (its most frequent),
//!    so work and memory per document are bounded whatever its length, and candidates are
//!    generated in linear time. Embedding the
//!    candidates is nearly all of the time; a `TransformerEmbedder` in int8
//!    (`Precision::Int8`, or `Auto` where the model passes its gate) cuts it by about 40 % at
//!    a small cost in agreement with KeyBERT (docs/benchmarks.md).
//!
//! # Example
//!
//! ```
//! use groundrec_embed::HashingEmbedder;
//! use groundrec_keywords::{KeywordExtractor, KeywordParams, NgramCandidates};
//!
//! # fn main() -> Result<(), groundrec_keywords::KeywordsError> {
//! let extractor = KeywordExtractor::new(
//!     HashingEmbedder::new(256)?,
//!     NgramCandidates::new(1, 2)?,
//!     KeywordParams::default().top_n(3).check()?,
//! );
//! let docs = ["Fractions: adding fractions with unlike denominators, step by step."];
//! let keywords = extractor.extract(&docs)?;
//! assert!(keywords[0].keywords.len() <= 3);
//! assert!(keywords[0].keywords.iter().all(|k| !k.key.is_empty()));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod candidates;
mod error;
mod extract;
mod korean;
mod select;
mod tokenize;

pub use candidates::{
    AutoCandidates, Candidate, CandidateGenerator, KoreanNounCandidates, ListCandidates,
    NgramCandidates, Stopwords,
};
pub use error::{KeywordsError, Result};
pub use extract::{
    CorpusKeywords, DocKeywords, Keyword, KeywordExtractor, KeywordParams, KeywordValidParams,
    Seeds, DEFAULT_MAX_CANDIDATES,
};
pub use korean::{KoreanAnalyzer, Morpheme};
pub use select::Diversity;
