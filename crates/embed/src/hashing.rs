use ndarray::Array2;

use crate::embedder::{normalize_rows, Embedder};
use crate::error::{EmbedError, Result};

/// A dependency-free embedder: lower-cased character n-grams hashed into `dim` signed buckets,
/// L2-normalised.
///
/// It knows no meaning, only spelling, so texts that share words or word parts come out close.
/// Use it for tests, for examples that must run without libtorch, and as a cheap baseline.
#[derive(Debug, Clone)]
pub struct HashingEmbedder {
    dim: usize,
    ngram: usize,
}

impl HashingEmbedder {
    /// Character trigrams into `dim` buckets. `dim` must be at least 1.
    pub fn new(dim: usize) -> Result<Self> {
        Self::with_ngram(dim, 3)
    }

    /// Character `ngram`-grams (1 or more) into `dim` buckets.
    pub fn with_ngram(dim: usize, ngram: usize) -> Result<Self> {
        if dim == 0 || ngram == 0 {
            return Err(EmbedError::param(
                "dim",
                "HashingEmbedder needs dim >= 1 and ngram >= 1",
            ));
        }
        Ok(Self { dim, ngram })
    }
}

fn fnv1a(chars: &[char]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in chars {
        for b in (*c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

impl Embedder for HashingEmbedder {
    fn embed(&self, texts: &[&str]) -> Result<Array2<f32>> {
        let mut out = Array2::<f32>::zeros((texts.len(), self.dim));
        for (mut row, text) in out.rows_mut().into_iter().zip(texts) {
            for word in text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
            {
                let padded: Vec<char> = std::iter::once(' ')
                    .chain(word.chars().flat_map(char::to_lowercase))
                    .chain(std::iter::once(' '))
                    .collect();
                let n = self.ngram.min(padded.len());
                for gram in padded.windows(n) {
                    let h = fnv1a(gram);
                    let bucket = (h % self.dim as u64) as usize;
                    row[bucket] += if h >> 63 == 0 { 1.0 } else { -1.0 };
                }
            }
        }
        normalize_rows(&mut out);
        Ok(out)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn describe(&self) -> String {
        format!("hashing (dim {}, {}-grams)", self.dim, self.ngram)
    }

    fn normalized(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedder::{check_output, cosine_similarity};
    use proptest::prelude::*;

    #[test]
    fn shared_words_are_closer_than_unrelated_ones() {
        let e = HashingEmbedder::new(256).expect("valid");
        let m = e
            .embed(&[
                "linear algebra basics",
                "basics of linear algebra",
                "cooking pasta at home",
            ])
            .expect("embed");
        let s = cosine_similarity(m.view(), m.view()).expect("same dim");
        assert!(s[[0, 1]] > 0.8, "{}", s[[0, 1]]);
        assert!(s[[0, 2]] < 0.3, "{}", s[[0, 2]]);
    }

    #[test]
    fn zero_dim_is_an_error() {
        assert!(matches!(
            HashingEmbedder::new(0),
            Err(EmbedError::InvalidParam { param: "dim", .. })
        ));
    }

    proptest! {
        #[test]
        fn any_unicode_gives_finite_rows_of_the_right_shape(texts in proptest::collection::vec(".*", 0..8)) {
            let e = HashingEmbedder::new(32).expect("valid");
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let m = e.embed(&refs).expect("embed");
            prop_assert!(check_output(&m, refs.len(), 32).is_ok());
        }
    }
}
