//! A fitted k-means model: centroids, labels, inertia; prediction and distances.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{KMeansError, Result};
use crate::float::{check_data, KFloat};
use crate::linalg::{assign, blocks, for_each_distance_row, normalize_rows, row_norms};
use crate::params::Metric;
use rayon::prelude::*;

/// The result of a fit. Serialisable with serde (e.g. to JSON) for saving and loading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "F: Serialize", deserialize = "F: Deserialize<'de>"))]
pub struct KMeansModel<F> {
    centroids: Array2<F>,
    labels: Vec<usize>,
    inertia: f64,
    n_iter: usize,
    converged: bool,
    metric: Metric,
    inertia_history: Vec<f64>,
}

impl<F: KFloat> KMeansModel<F> {
    pub(crate) fn new(
        centroids: Array2<F>,
        labels: Vec<usize>,
        inertia: f64,
        n_iter: usize,
        converged: bool,
        metric: Metric,
        inertia_history: Vec<f64>,
    ) -> Self {
        Self {
            centroids,
            labels,
            inertia,
            n_iter,
            converged,
            metric,
            inertia_history,
        }
    }

    /// Centroids, `k × d` (unit rows for the cosine metric).
    pub fn centroids(&self) -> &Array2<F> {
        &self.centroids
    }
    /// Cluster of each training row; they belong to the final centroids.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }
    /// Sum of squared distances of the training rows to their centroids (scikit-learn's
    /// `inertia_`; for cosine, of the unit-length rows).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }
    /// Iterations run.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }
    /// Whether the tolerance (or unchanged labels) stopped the iterations before `max_iter`.
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// The metric the model was fitted with.
    pub fn metric(&self) -> Metric {
        self.metric
    }
    /// Inertia of each iteration's assignment step (non-increasing for Lloyd).
    pub fn inertia_history(&self) -> &[f64] {
        &self.inertia_history
    }
    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.centroids.nrows()
    }

    fn check_input(&self, x: &ArrayView2<'_, F>) -> Result<()> {
        check_data(x)?;
        if x.ncols() != self.centroids.ncols() {
            return Err(KMeansError::DimensionMismatch {
                expected: self.centroids.ncols(),
                got: x.ncols(),
            });
        }
        Ok(())
    }

    /// Nearest centroid of each row of `x`.
    pub fn predict(&self, x: &ArrayView2<'_, F>) -> Result<Vec<usize>> {
        self.check_input(x)?;
        Ok(self.with_metric(x, |x, norms| assign(x, norms, &self.centroids.view()).0))
    }

    /// Euclidean distance of each row of `x` to each centroid (`n × k`); for the cosine
    /// metric, between the unit-length row and the centroids.
    pub fn transform(&self, x: &ArrayView2<'_, F>) -> Result<Array2<F>> {
        self.check_input(x)?;
        let c = self.centroids.view();
        let c_norms = row_norms(&c);
        Ok(self.with_metric(x, |x, norms| {
            let k = c.nrows();
            let parts: Vec<Vec<F>> = blocks(x.nrows())
                .into_par_iter()
                .map(|range| {
                    let mut out = Vec::with_capacity((range.1 - range.0) * k);
                    for_each_distance_row(x, norms, &c, &c_norms, range, |_, d| {
                        out.extend(d.iter().map(|v| v.sqrt()))
                    });
                    out
                })
                .collect();
            let flat: Vec<F> = parts.into_iter().flatten().collect();
            Array2::from_shape_vec((x.nrows(), k), flat).unwrap_or_else(|_| Array2::zeros((0, k)))
        }))
    }

    fn with_metric<R>(
        &self,
        x: &ArrayView2<'_, F>,
        run: impl FnOnce(&ArrayView2<'_, F>, &[F]) -> R,
    ) -> R {
        if self.metric == Metric::Cosine {
            let mut u = x.to_owned();
            normalize_rows(&mut u);
            let v = u.view();
            run(&v, &row_norms(&v))
        } else {
            run(x, &row_norms(x))
        }
    }
}
