//! Sentence embeddings for groundrec: texts in, one `ndarray` row per text out.
//!
//! Two layers:
//! - the [`Embedder`] trait and its helpers ([`cosine_similarity`], [`normalize_rows`],
//!   [`HashingEmbedder`]) build **without libtorch**, so crates that only consume embeddings can
//!   depend on `groundrec-embed` with `default-features = false`;
//! - with the default `rust-bert` feature, [`TransformerEmbedder`] loads a standard
//!   sentence-transformers folder (`config.json`, `model.safetensors`, `tokenizer.json`,
//!   `modules.json`, `1_Pooling/`, optional `2_Dense/` and `Normalize`) fully offline.
//!
//! Why these libraries: rust-bert supplies tested BERT / RoBERTa / DistilBERT encoders on
//! libtorch (their configuration, variable layout and weight loading); the `tokenizers` crate
//! reads `tokenizer.json` exactly as Hugging Face does, so any hub folder works without
//! conversion. rust-bert's own sentence pipeline pads every input to the longest one and cannot
//! read a plain hub folder, so batching, pooling and the module head are done here. For BERT and
//! RoBERTa encoders the forward pass itself also runs here, over the weights rust-bert loaded,
//! with libtorch's fused kernels (one linear for Q, K and V, `scaled_dot_product_attention`,
//! native GELU and layer norm); DistilBERT runs rust-bert's forward pass. That path can run its
//! dense layers in int8 (FBGEMM's dynamically quantised kernel with per-channel weight scales)
//! or its whole layer stack in bfloat16 (oneDNN's kernels, on AMX where the CPU has it):
//! [`Precision`]. The default, `Precision::Auto`, tries at load time each format
//! the CPU may run faster (int8 with AVX2, bf16 with AVX-512 BF16 or AMX), keeps those that
//! hold every one of [`PRECISION_PROBES`] within cosine [`PRECISION_GATE`] of float32, times
//! them against float32 on the probes and runs the fastest ([`TransformerEmbedder::precision`]
//! says which, [`TransformerEmbedder::auto_trials`] what was measured): multilingual-e5-small
//! passes int8 with room (worst probe 0.999), all-MiniLM-L6-v2 only just (0.990); bf16 passes
//! both (0.9998 or better). What runs differs by CPU: bf16 with AMX, int8 on other AVX-512 VNNI
//! CPUs measured so far, float32 for MiniLM with AVX2 only (docs/benchmarks.md).
//!
//! Texts are de-duplicated, tokenised in windows of 64 batches, sorted by token length within a
//! window and run in batches padded per batch, so memory follows the batch and the output, not
//! the corpus.
//!
//! # Example
//!
//! ```
//! use groundrec_embed::{cosine_similarity, Embedder, HashingEmbedder};
//!
//! # fn main() -> Result<(), groundrec_embed::EmbedError> {
//! let embedder = HashingEmbedder::new(256)?;
//! let m = embedder.embed(&["fractions for beginners", "beginners' fractions", "jazz piano"])?;
//! assert_eq!(m.dim(), (3, 256));
//! let sim = cosine_similarity(m.view(), m.view())?;
//! assert!(sim[[0, 1]] > sim[[0, 2]]);
//! # Ok(())
//! # }
//! ```
//!
//! With a real model (after `scripts/setup` has filled `models/`):
//!
//! ```no_run
//! # #[cfg(feature = "rust-bert")] {
//! use groundrec_embed::{Embedder, TransformerEmbedder};
//!
//! let e5 = TransformerEmbedder::builder("models/multilingual-e5-small")
//!     .prefix("query: ")
//!     .batch_size(32)
//!     .build()?;
//! let m = e5.embed(&["분수의 덧셈과 뺄셈", "Adding and subtracting fractions"])?;
//! assert_eq!(m.ncols(), e5.dim());
//! # }
//! # Ok::<(), groundrec_embed::EmbedError>(())
//! ```
#![deny(missing_docs)]

mod embedder;
mod error;
mod hashing;
#[cfg(feature = "rust-bert")]
mod transformer;

pub use embedder::{check_output, cosine_similarity, normalize_rows, Embedder};
pub use error::{EmbedError, Result};
pub use hashing::HashingEmbedder;
#[cfg(feature = "rust-bert")]
pub use transformer::{
    Device, LongText, Pooling, Precision, PrecisionTrial, TransformerEmbedder,
    TransformerEmbedderBuilder, TransformerEmbedderValidParams, AUTO_MARGIN, PRECISION_GATE,
    PRECISION_PROBES,
};
