//! Choosing k: inertia with an elbow pick, and the (sampled) silhouette score.

use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{KMeansError, Result};
use crate::float::{to64, KFloat};
use crate::linalg::{normalize_rows, row_norms};
use crate::params::{KMeansParams, Metric};

/// Scores of one k.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KScore {
    /// Number of clusters.
    pub k: usize,
    /// Inertia of the fit (sum of squared distances).
    pub inertia: f64,
    /// Mean silhouette coefficient over the sample, in `[-1, 1]` (higher is better; 0 for k = 1).
    pub silhouette: f64,
}

/// The result of [`choose_k`]: every k's scores and the two picks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChooseK {
    /// One entry per k, in the order given.
    pub scores: Vec<KScore>,
    /// The elbow of the inertia curve: the k farthest from the straight line joining the first
    /// and the last point of the (normalised) curve, ks sorted ascending ("Kneedle").
    pub elbow: usize,
    /// The k with the highest silhouette.
    pub silhouette: usize,
}

impl ChooseK {
    /// Whether the elbow and the silhouette pick the same k.
    pub fn agree(&self) -> bool {
        self.elbow == self.silhouette
    }
}

/// Fits `params` (its k is replaced) for each k in `ks` and scores the fits: inertia, and the
/// silhouette computed on at most `sample` rows (drawn with the params' seed; the silhouette is
/// quadratic in the rows scored). Distances are Euclidean, on unit-length rows for the cosine
/// metric. Returns both picks, which may disagree.
pub fn choose_k<F: KFloat>(
    x: &ArrayView2<'_, F>,
    ks: &[usize],
    params: &KMeansParams,
    sample_size: usize,
) -> Result<ChooseK> {
    if ks.is_empty() {
        return Err(KMeansError::param("ks", "must not be empty"));
    }
    if sample_size < 2 {
        return Err(KMeansError::param(
            "sample_size",
            "the silhouette sample needs at least 2 rows",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed ^ 0x5111_4055);
    let rows = sample(&mut rng, x.nrows(), sample_size.min(x.nrows())).into_vec();
    let mut sub = x.select(Axis(0), &rows);
    if params.metric == Metric::Cosine {
        normalize_rows(&mut sub);
    }
    let dist = pairwise(&sub);
    let mut scores = Vec::with_capacity(ks.len());
    for &k in ks {
        let model = params.clone().k(k).fit(x)?;
        let labels: Vec<usize> = rows.iter().map(|&r| model.labels()[r]).collect();
        scores.push(KScore {
            k,
            inertia: model.inertia(),
            silhouette: silhouette(&dist, &labels, k),
        });
    }
    let silhouette_pick = scores
        .iter()
        .max_by(|a, b| a.silhouette.total_cmp(&b.silhouette).then(b.k.cmp(&a.k)))
        .map_or(ks[0], |s| s.k);
    Ok(ChooseK {
        elbow: elbow(&scores),
        silhouette: silhouette_pick,
        scores,
    })
}

/// Euclidean distances between all rows (f64).
fn pairwise<F: KFloat>(x: &Array2<F>) -> Array2<f64> {
    let x64 = x.mapv(to64);
    let norms: Vec<f64> = row_norms(&x64.view());
    let g = x64.dot(&x64.t());
    Array2::from_shape_fn(g.dim(), |(i, j)| {
        if i == j {
            0.0
        } else {
            (norms[i] - 2.0 * g[[i, j]] + norms[j]).max(0.0).sqrt()
        }
    })
}

/// Mean silhouette (Rousseeuw 1987); points alone in their cluster score 0, as in scikit-learn.
fn silhouette(dist: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    let n = labels.len();
    if k < 2 || n < 2 {
        return 0.0;
    }
    let mut size = vec![0usize; k];
    for &l in labels {
        size[l] += 1;
    }
    let mut total = 0.0;
    let mut sums = vec![0.0f64; k];
    for i in 0..n {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for j in 0..n {
            sums[labels[j]] += dist[[i, j]];
        }
        let own = labels[i];
        if size[own] < 2 {
            continue;
        }
        let a = sums[own] / (size[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && size[c] > 0)
            .map(|c| sums[c] / size[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() && a.max(b) > 0.0 {
            total += (b - a) / a.max(b);
        }
    }
    total / n as f64
}

/// "Kneedle": the k farthest below the chord of the normalised inertia curve.
fn elbow(scores: &[KScore]) -> usize {
    let mut pts: Vec<(usize, f64)> = scores.iter().map(|s| (s.k, s.inertia)).collect();
    pts.sort_by_key(|p| p.0);
    if pts.len() < 3 {
        return pts[0].0;
    }
    let (k0, k1) = (pts[0].0 as f64, pts[pts.len() - 1].0 as f64);
    let (lo, hi) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let norm: Vec<(f64, f64)> = pts
        .iter()
        .map(|&(k, v)| ((k as f64 - k0) / (k1 - k0).max(1.0), (v - lo) / span))
        .collect();
    let (x0, y0) = norm[0];
    let (x1, y1) = norm[norm.len() - 1];
    let best = (0..norm.len())
        .max_by(|&a, &b| {
            let below = |(x, y): (f64, f64)| {
                (y0 + (y1 - y0) * (x - x0) / (x1 - x0).max(f64::MIN_POSITIVE)) - y
            };
            below(norm[a]).total_cmp(&below(norm[b]))
        })
        .unwrap_or(0);
    pts[best].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KMeans;
    use ndarray::array;

    #[test]
    fn silhouette_of_two_tight_far_groups_is_near_one() {
        let x = array![[0.0f64, 0.0], [0.0, 0.1], [10.0, 10.0], [10.0, 10.1]];
        let d = pairwise(&x);
        let s = silhouette(&d, &[0, 0, 1, 1], 2);
        assert!(s > 0.98, "{s}");
        assert!(silhouette(&d, &[0, 1, 0, 1], 2) < 0.0);
    }

    #[test]
    fn both_picks_find_four_planted_groups() {
        let centres = [[0.0f32, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]];
        let x = Array2::from_shape_fn((200, 2), |(i, j)| {
            centres[i % 4][j] + ((i * 7 + j * 13) % 10) as f32 * 0.1
        });
        let r = choose_k(
            &x.view(),
            &[2, 3, 4, 5, 6, 8],
            &KMeans::params(1).n_init(3),
            200,
        )
        .expect("valid");
        assert_eq!(r.silhouette, 4, "{r:?}");
        assert_eq!(r.elbow, 4, "{r:?}");
        assert!(r.agree());
        assert!(choose_k(&x.view(), &[], &KMeans::params(1), 10).is_err());
        assert!(matches!(
            choose_k(&x.view(), &[500], &KMeans::params(1), 10),
            Err(KMeansError::KGreaterThanN { .. })
        ));
    }
}
