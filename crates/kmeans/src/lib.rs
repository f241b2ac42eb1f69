//! k-means for groundrec: clustering item embeddings (k-means++, Lloyd on GEMM, spherical
//! k-means for cosine, choosing k).
//!
//! Status: the metric helpers are in place; the estimator follows.
//!
//! # Example
//!
//! ```
//! use groundrec_kmeans::inertia;
//! use ndarray::array;
//!
//! let x = array![[0.0f32, 0.0], [2.0, 0.0]];
//! let centroids = array![[1.0f32, 0.0]];
//! assert_eq!(inertia(x.view(), centroids.view(), &[0, 0]), 2.0);
//! ```
#![deny(missing_docs)]

use ndarray::ArrayView2;

/// Sum over rows of the squared Euclidean distance to the row's assigned centroid
/// (scikit-learn's `inertia_`), accumulated in f64.
pub fn inertia(x: ArrayView2<'_, f32>, centroids: ArrayView2<'_, f32>, labels: &[usize]) -> f64 {
    x.rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &l)| {
            row.iter()
                .zip(centroids.row(l))
                .map(|(a, b)| f64::from(a - b).powi(2))
                .sum::<f64>()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn inertia_is_zero_when_rows_sit_on_their_centroids() {
        let x = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32);
        let labels: Vec<usize> = (0..4).collect();
        assert_eq!(inertia(x.view(), x.view(), &labels), 0.0);
        assert!(inertia(x.view(), x.view(), &[1, 1, 1, 1]) > 0.0);
    }
}
