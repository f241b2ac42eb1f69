use ndarray::{Array2, ArrayView2, Axis};

use crate::error::{EmbedError, Result};

/// Anything that turns texts into fixed-size vectors.
///
/// The trait is object safe (`Box<dyn Embedder>` works) and needs no libtorch, so crates that only
/// *consume* embeddings (keyword extraction, for one) can depend on it with default features off.
///
/// Contract for implementors:
/// - `embed(texts)` returns one row per text, in the order given, each of length [`dim`](Self::dim);
/// - an empty slice gives a `0 × dim` matrix; an empty string is a valid input;
/// - every value is finite.
pub trait Embedder: Send + Sync {
    /// Embeds `texts`, one row per text, in input order.
    fn embed(&self, texts: &[&str]) -> Result<Array2<f32>>;

    /// Length of every embedding row.
    fn dim(&self) -> usize;

    /// Whether rows come out with unit L2 norm (then cosine similarity is a dot product).
    fn normalized(&self) -> bool {
        false
    }

    /// [`Embedder::embed`] that reports `(texts done, texts in all)` to `progress` as it goes
    /// (libraries never print; a program draws the bar). The default reports once, at the end.
    fn embed_with_progress(
        &self,
        texts: &[&str],
        progress: &dyn Fn(usize, usize),
    ) -> Result<Array2<f32>> {
        let out = self.embed(texts)?;
        progress(texts.len(), texts.len());
        Ok(out)
    }

    /// A short description for reports and error messages (the model, its settings).
    fn describe(&self) -> String {
        format!("custom embedder (dim {})", self.dim())
    }
}

/// Embedders behind references and smart pointers are embedders.
macro_rules! forward {
    ($($ptr:ty),*) => {$(
        impl<E: Embedder + ?Sized> Embedder for $ptr {
            fn embed(&self, texts: &[&str]) -> Result<Array2<f32>> {
                (**self).embed(texts)
            }
            fn dim(&self) -> usize {
                (**self).dim()
            }
            fn normalized(&self) -> bool {
                (**self).normalized()
            }
            fn embed_with_progress(
                &self,
                texts: &[&str],
                progress: &dyn Fn(usize, usize),
            ) -> Result<Array2<f32>> {
                (**self).embed_with_progress(texts, progress)
            }
            fn describe(&self) -> String {
                (**self).describe()
            }
        }
    )*};
}

forward!(&E, Box<E>, std::sync::Arc<E>);

/// Scales every row to unit L2 norm in place. All-zero rows stay zero.
pub fn normalize_rows(m: &mut Array2<f32>) {
    for mut row in m.axis_iter_mut(Axis(0)) {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.mapv_inplace(|v| v / norm);
        }
    }
}

/// Cosine similarity of every row of `a` with every row of `b` (`a.nrows() × b.nrows()`).
///
/// Rows with zero norm have similarity 0 with everything.
pub fn cosine_similarity(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
    if a.ncols() != b.ncols() {
        return Err(EmbedError::DimensionMismatch {
            expected: a.ncols(),
            got: b.ncols(),
        });
    }
    let mut a = a.to_owned();
    let mut b = b.to_owned();
    normalize_rows(&mut a);
    normalize_rows(&mut b);
    Ok(a.dot(&b.t()))
}

/// Checks an embedder's output against the [`Embedder`] contract: shape and finiteness.
///
/// Useful for implementors in their own tests, and used by consumers that accept any embedder.
pub fn check_output(out: &Array2<f32>, n_texts: usize, dim: usize) -> Result<()> {
    if out.nrows() != n_texts {
        return Err(EmbedError::DimensionMismatch {
            expected: n_texts,
            got: out.nrows(),
        });
    }
    if out.ncols() != dim {
        return Err(EmbedError::DimensionMismatch {
            expected: dim,
            got: out.ncols(),
        });
    }
    if let Some(pos) = out.iter().position(|v| !v.is_finite()) {
        return Err(EmbedError::NonFinite {
            row: pos / dim.max(1),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn cosine_of_parallel_and_orthogonal_rows() {
        let a = array![[1.0f32, 0.0], [0.0, 2.0]];
        let b = array![[3.0f32, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let s = cosine_similarity(a.view(), b.view()).expect("same width");
        assert!((s[[0, 0]] - 1.0).abs() < 1e-6);
        assert!(s[[1, 0]].abs() < 1e-6);
        assert!((s[[1, 1]] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(s[[0, 2]], 0.0);
    }

    #[test]
    fn cosine_rejects_mismatched_widths() {
        let a = Array2::<f32>::zeros((2, 3));
        let b = Array2::<f32>::zeros((2, 4));
        assert!(matches!(
            cosine_similarity(a.view(), b.view()),
            Err(EmbedError::DimensionMismatch {
                expected: 3,
                got: 4
            })
        ));
    }

    #[test]
    fn check_output_flags_nan_row() {
        let mut m = Array2::<f32>::zeros((3, 2));
        m[[2, 1]] = f32::NAN;
        let err = check_output(&m, 3, 2).expect_err("nan must be caught");
        assert!(err.to_string().contains("row 2"), "{err}");
        assert!(check_output(&m, 4, 2).is_err());
    }

    proptest! {
        #[test]
        fn normalized_rows_have_unit_norm(rows in proptest::collection::vec(
            proptest::collection::vec(-1e3f32..1e3, 4), 1..20)) {
            let n = rows.len();
            let flat: Vec<f32> = rows.into_iter().flatten().collect();
            let mut m = Array2::from_shape_vec((n, 4), flat).expect("shape");
            let zero: Vec<bool> = m.rows().into_iter().map(|r| r.iter().all(|v| *v == 0.0)).collect();
            normalize_rows(&mut m);
            for (row, z) in m.rows().into_iter().zip(zero) {
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                if z { prop_assert_eq!(norm, 0.0); } else { prop_assert!((norm - 1.0).abs() < 1e-4); }
            }
        }
    }
}
