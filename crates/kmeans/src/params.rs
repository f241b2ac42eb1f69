//! Parameters: a builder that validates into checked parameters (linfa's pattern).

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::{KMeansError, Result};

/// Distance used for clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Metric {
    /// Squared Euclidean distance (scikit-learn's k-means).
    #[default]
    Euclidean,
    /// Cosine: spherical k-means. Rows are scaled to unit length and centroids are renormalised
    /// after every update; the reported inertia is then Σ‖x − c‖² = Σ 2·(1 − cos).
    Cosine,
}

/// How the first centroids are chosen.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Init {
    /// Greedy k-means++ with `2 + ⌊ln k⌋` local trials per centre (scikit-learn's default).
    #[default]
    KMeansPlusPlus,
    /// `k` distinct rows picked uniformly.
    Random,
    /// These centroids (`k × d`); `n_init` is then ignored (one run).
    Given(Array2<f64>),
}

/// Which iteration is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Algorithm {
    /// Full-batch Lloyd iterations on blocked GEMMs: every iteration computes all `n × k`
    /// distances (chunk by chunk).
    Lloyd,
    /// Lloyd's iterations with Hamerly's bounds (default): the same assignments, but a point
    /// whose bounds prove it keeps its cluster is skipped, so after the first iterations only
    /// points near a boundary are read. Exact up to floating-point ties.
    #[default]
    Hamerly,
    /// Mini-batch k-means (Sculley 2010): each step moves the centroids toward a random batch.
    MiniBatch {
        /// Rows per step.
        batch_size: usize,
    },
}

/// Unchecked k-means parameters; [`check`](Self::check) validates them, [`fit`](Self::fit)
/// validates and runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansParams {
    pub(crate) k: usize,
    pub(crate) seed: u64,
    pub(crate) n_init: usize,
    pub(crate) max_iter: usize,
    pub(crate) tol: f64,
    pub(crate) metric: Metric,
    pub(crate) init: Init,
    pub(crate) algorithm: Algorithm,
    pub(crate) threads: Option<usize>,
}

/// Validated parameters, made by [`KMeansParams::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansValidParams(pub(crate) KMeansParams);

/// Entry point: `KMeans::params(k)`.
#[derive(Debug, Clone, Copy)]
pub struct KMeans;

impl KMeans {
    /// Parameters for `k` clusters with scikit-learn's defaults: k-means++, one init, at most
    /// 300 Lloyd iterations (run with Hamerly's bounds, [`Algorithm::Hamerly`]), `tol = 1e-4`
    /// (relative to the data's mean per-feature variance), Euclidean metric, seed 0, rayon's
    /// global thread pool.
    pub fn params(k: usize) -> KMeansParams {
        KMeansParams {
            k,
            seed: 0,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            metric: Metric::Euclidean,
            init: Init::KMeansPlusPlus,
            algorithm: Algorithm::Hamerly,
            threads: None,
        }
    }
}

impl KMeansParams {
    /// Replaces the number of clusters.
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }
    /// Seed of every random choice (default 0). The same seed gives the same model whatever
    /// the thread count.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Independent runs, the one with the lowest inertia is kept (default 1).
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }
    /// Iteration limit (default 300).
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }
    /// Convergence tolerance on the total squared centroid shift, relative to the mean
    /// per-feature variance of the data (default 1e-4, as scikit-learn).
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }
    /// Euclidean (default) or cosine (spherical k-means).
    pub fn metric(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }
    /// Initialisation (default k-means++).
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }
    /// Hamerly-accelerated Lloyd (default), plain Lloyd, or mini-batch.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }
    /// Runs on a dedicated pool of `n` threads instead of rayon's global pool.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Validates everything that does not depend on the data.
    pub fn check(self) -> Result<KMeansValidParams> {
        if self.k == 0 {
            return Err(KMeansError::ZeroK);
        }
        if self.n_init == 0 {
            return Err(KMeansError::param("n_init", "must be at least 1"));
        }
        if self.max_iter == 0 {
            return Err(KMeansError::param("max_iter", "must be at least 1"));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return Err(KMeansError::param(
                "tol",
                format!("must be finite and >= 0, got {}", self.tol),
            ));
        }
        if self.threads == Some(0) {
            return Err(KMeansError::param("threads", "must be at least 1"));
        }
        if let Algorithm::MiniBatch { batch_size: 0 } = self.algorithm {
            return Err(KMeansError::param(
                "algorithm",
                "batch_size must be at least 1",
            ));
        }
        if let Init::Given(c) = &self.init {
            if c.nrows() != self.k {
                return Err(KMeansError::param(
                    "init",
                    format!("{} given centroids for k = {}", c.nrows(), self.k),
                ));
            }
            if let Some(row) = c
                .rows()
                .into_iter()
                .position(|r| r.iter().any(|v| !v.is_finite()))
            {
                return Err(KMeansError::NonFinite { row });
            }
        }
        Ok(KMeansValidParams(self))
    }
}

impl KMeansValidParams {
    /// The number of clusters.
    pub fn k(&self) -> usize {
        self.0.k
    }
    /// Seed of every random choice.
    pub fn seed(&self) -> u64 {
        self.0.seed
    }
    /// Independent runs.
    pub fn n_init(&self) -> usize {
        self.0.n_init
    }
    /// Iteration limit.
    pub fn max_iter(&self) -> usize {
        self.0.max_iter
    }
    /// Convergence tolerance (relative to the data's mean per-feature variance).
    pub fn tol(&self) -> f64 {
        self.0.tol
    }
    /// The distance.
    pub fn metric(&self) -> Metric {
        self.0.metric
    }
    /// The initialisation.
    pub fn init(&self) -> &Init {
        &self.0.init
    }
    /// The iteration.
    pub fn algorithm(&self) -> Algorithm {
        self.0.algorithm
    }
    /// A dedicated pool's size, if any.
    pub fn threads(&self) -> Option<usize> {
        self.0.threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_rejects_bad_settings() {
        assert_eq!(KMeans::params(0).check(), Err(KMeansError::ZeroK));
        assert!(matches!(
            KMeans::params(2).n_init(0).check(),
            Err(KMeansError::InvalidParam {
                param: "n_init",
                ..
            })
        ));
        assert!(KMeans::params(2).max_iter(0).check().is_err());
        assert!(KMeans::params(2).tol(f64::NAN).check().is_err());
        assert!(KMeans::params(2).threads(0).check().is_err());
        assert!(KMeans::params(2)
            .algorithm(Algorithm::MiniBatch { batch_size: 0 })
            .check()
            .is_err());
        assert!(KMeans::params(2)
            .init(Init::Given(Array2::zeros((3, 2))))
            .check()
            .is_err());
        let mut c = Array2::zeros((2, 2));
        c[[1, 0]] = f64::INFINITY;
        assert_eq!(
            KMeans::params(2).init(Init::Given(c)).check(),
            Err(KMeansError::NonFinite { row: 1 })
        );
        assert!(KMeans::params(2).check().is_ok());
    }
}
