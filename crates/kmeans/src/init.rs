//! Initial centroids: greedy k-means++ and random rows.

use ndarray::{Array2, ArrayView2, Axis};
use rand::seq::index::sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::float::{to64, KFloat};
use crate::linalg::{blocks, dot, row_norms};

/// `k` distinct rows, uniformly.
pub(crate) fn random_rows<F: KFloat>(
    x: &ArrayView2<'_, F>,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<F> {
    let idx = sample(rng, x.nrows(), k).into_vec();
    x.select(Axis(0), &idx)
}

/// Greedy k-means++ (Arthur & Vassilvitskii 2007, with scikit-learn's `2 + ⌊ln k⌋` local
/// trials): each new centre is the best of a few candidates drawn with probability ∝ D(x)²,
/// "best" meaning the lowest total potential Σ min D² afterwards. Distances to the candidates
/// come from one blocked GEMM per step, in f32 when the data is f32.
pub(crate) fn kmeans_plusplus<F: KFloat>(
    x: &ArrayView2<'_, F>,
    x_norms: &[F],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<F> {
    let n = x.nrows();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut centers = Array2::<F>::zeros((k, x.ncols()));
    let first = rng.gen_range(0..n);
    centers.row_mut(0).assign(&x.row(first));
    let mut closest = distances_to(x, x_norms, &x.select(Axis(0), &[first]));
    let mut potential: f64 = closest.iter().sum();
    let mut cumsum = vec![0.0f64; n];
    for c in 1..k {
        let mut acc = 0.0;
        for (s, &d) in cumsum.iter_mut().zip(&closest) {
            acc += d;
            *s = acc;
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let target = rng.gen::<f64>() * potential;
                cumsum.partition_point(|&s| s <= target).min(n - 1)
            })
            .collect();
        let cand_rows = x.select(Axis(0), &candidates);
        let d = distances_to(x, x_norms, &cand_rows);
        // Potential after adding each candidate, summed per block then in block order.
        let ranges = blocks(n);
        let partial: Vec<Vec<f64>> = ranges
            .par_iter()
            .map(|&(s, e)| {
                let mut p = vec![0.0f64; trials];
                for (dr, &cl) in d[s * trials..e * trials]
                    .chunks_exact(trials)
                    .zip(&closest[s..e])
                {
                    for (pt, &dv) in p.iter_mut().zip(dr) {
                        *pt += dv.min(cl);
                    }
                }
                p
            })
            .collect();
        let mut pots = vec![0.0f64; trials];
        for p in partial {
            for (a, b) in pots.iter_mut().zip(p) {
                *a += b;
            }
        }
        let best = (0..trials)
            .min_by(|&a, &b| pots[a].total_cmp(&pots[b]))
            .unwrap_or(0);
        potential = pots[best];
        closest
            .par_iter_mut()
            .zip(d.par_chunks(trials))
            .for_each(|(cl, dr)| *cl = cl.min(dr[best]));
        centers.row_mut(c).assign(&x.row(candidates[best]));
    }
    centers
}

/// Squared distances (f64) of every row of `x` to every row of `c` (`c` has few rows), flat:
/// row `i`'s distances are `out[i * c.nrows()..][..c.nrows()]`.
///
/// With a handful of candidates a GEMM spends its time packing `x` again for every centre, so
/// this streams the rows once with plain dot products instead.
fn distances_to<F: KFloat>(x: &ArrayView2<'_, F>, x_norms: &[F], c: &Array2<F>) -> Vec<f64> {
    let c = c.as_standard_layout().into_owned();
    let c_norms: Vec<f64> = row_norms(&c.view()).into_iter().map(to64).collect();
    let (d, t) = (x.ncols(), c.nrows());
    let cs = c.as_slice().unwrap_or(&[]);
    let mut out = vec![0.0f64; x.nrows() * t];
    out.par_chunks_mut(t)
        .zip(x.axis_iter(Axis(0)).into_par_iter())
        .zip(x_norms.par_iter())
        .for_each(|((o, row), &xn)| {
            let owned;
            let r = match row.as_slice() {
                Some(r) => r,
                None => {
                    owned = row.to_vec();
                    &owned
                }
            };
            for ((slot, cr), &cn) in o.iter_mut().zip(cs.chunks_exact(d)).zip(&c_norms) {
                *slot = (to64(xn) - 2.0 * to64(dot(r, cr)) + cn).max(0.0);
            }
        });
    out
}
