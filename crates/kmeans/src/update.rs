//! The update step shared by Lloyd's and Hamerly's iterations: new centres from cluster sums,
//! empty clusters refilled, and the final assignment.

use ndarray::{Array1, Array2, ArrayView2};

use crate::float::{f, to64, KFloat};
use crate::linalg::{assign, normalize_rows};
use crate::model::KMeansModel;
use crate::params::Metric;

/// The update step: each centre is the mean of its points (renormalised for cosine); a centre
/// without points stays where it is.
pub(crate) fn means<F: KFloat>(
    sums: &Array2<f64>,
    counts: &[usize],
    old: &Array2<F>,
    metric: Metric,
) -> Array2<F> {
    let mut new = Array2::<F>::zeros(old.dim());
    for (j, &count) in counts.iter().enumerate() {
        if count > 0 {
            let inv = 1.0 / count as f64;
            for (c, &s) in new.row_mut(j).iter_mut().zip(sums.row(j)) {
                *c = f(s * inv);
            }
        } else {
            new.row_mut(j).assign(&old.row(j));
        }
    }
    if metric == Metric::Cosine {
        normalize_rows(&mut new);
    }
    new
}

/// Final assignment, so that the labels and inertia belong to the final centres.
pub(crate) fn finish<F: KFloat>(
    x: &ArrayView2<'_, F>,
    x_norms: &[F],
    centers: Array2<F>,
    n_iter: usize,
    converged: bool,
    metric: Metric,
    history: Vec<f64>,
) -> KMeansModel<F> {
    let (labels, dists) = assign(x, x_norms, &centers.view());
    let inertia = dists.iter().map(|&v| to64(v)).sum();
    KMeansModel::new(centers, labels, inertia, n_iter, converged, metric, history)
}

/// Empty clusters take the points farthest from their centres (as scikit-learn does).
pub(crate) fn relocate_empty<F: KFloat>(
    x: &ArrayView2<'_, F>,
    labels: &[usize],
    dists: &[F],
    sums: &mut Array2<f64>,
    counts: &mut [usize],
) {
    let empty: Vec<usize> = (0..counts.len()).filter(|&j| counts[j] == 0).collect();
    if empty.is_empty() {
        return;
    }
    let mut far: Vec<usize> = (0..dists.len()).collect();
    let take = empty.len().min(far.len());
    far.select_nth_unstable_by(take - 1, |&a, &b| {
        dists[b]
            .partial_cmp(&dists[a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    far.truncate(take);
    far.sort_by(|&a, &b| {
        dists[b]
            .partial_cmp(&dists[a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for (&j, &i) in empty.iter().zip(&far) {
        let old = labels[i];
        if counts[old] <= 1 {
            continue;
        }
        let row: Array1<f64> = x.row(i).mapv(to64);
        let mut s_old = sums.row_mut(old);
        s_old -= &row;
        counts[old] -= 1;
        sums.row_mut(j).assign(&row);
        counts[j] = 1;
    }
}
