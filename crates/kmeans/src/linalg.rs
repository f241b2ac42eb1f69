//! Blocked distance computations: ‖x‖² − 2·x·cᵀ + ‖c‖² with one GEMM per chunk of rows.
//!
//! Rows are split into a fixed number of blocks (independent of the thread count) and every
//! reduction adds the blocks' partial results in block order, so a seed gives bit-identical
//! results with 1 thread or 64. Memory beyond the data stays `O(k·d·BLOCKS + CHUNK·k)`.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::float::{f, to64, KFloat};

/// Number of row blocks the work is split into (fixed, for thread-count independence).
pub(crate) const BLOCKS: usize = 32;
/// Rows per GEMM call: bounds the `CHUNK × k` distance buffer.
pub(crate) const CHUNK: usize = 1024;

/// Squared L2 norm of each row, accumulated in f64.
pub(crate) fn row_norms<F: KFloat>(x: &ArrayView2<'_, F>) -> Vec<F> {
    x.axis_iter(Axis(0))
        .into_par_iter()
        .map(|r| f(r.iter().map(|&v| to64(v) * to64(v)).sum::<f64>()))
        .collect()
}

/// Rows per block (the last block may be shorter).
pub(crate) fn block_size(n: usize) -> usize {
    n.div_ceil(BLOCKS).max(1)
}

/// The row ranges of the fixed blocks.
pub(crate) fn blocks(n: usize) -> Vec<(usize, usize)> {
    let size = block_size(n);
    (0..n)
        .step_by(size)
        .map(|s| (s, (s + size).min(n)))
        .collect()
}

/// Calls `visit(row, distances_to_all_centres)` for each row in `start..end`, chunk by chunk.
pub(crate) fn for_each_distance_row<F: KFloat>(
    x: &ArrayView2<'_, F>,
    x_norms: &[F],
    c: &ArrayView2<'_, F>,
    c_norms: &[F],
    (start, end): (usize, usize),
    mut visit: impl FnMut(usize, &[F]),
) {
    let k = c.nrows();
    let mut buf = Array2::<F>::zeros((CHUNK.min(end - start), k));
    let two = f::<F>(2.0);
    let mut row = start;
    while row < end {
        let stop = (row + CHUNK).min(end);
        let mut dots = buf.slice_mut(s![..stop - row, ..]);
        general_mat_mul(
            F::one(),
            &x.slice(s![row..stop, ..]),
            &c.t(),
            F::zero(),
            &mut dots,
        );
        for (i, mut d) in dots.axis_iter_mut(Axis(0)).enumerate() {
            let xn = x_norms[row + i];
            for (j, v) in d.iter_mut().enumerate() {
                let dist = xn - two * *v + c_norms[j];
                *v = if dist > F::zero() { dist } else { F::zero() };
            }
            if let Some(slice) = d.as_slice() {
                visit(row + i, slice);
            } else {
                visit(row + i, &d.to_vec());
            }
        }
        row = stop;
    }
}

/// Dot product with eight independent accumulators, so that the compiler vectorises it even
/// for the baseline x86-64 target (no packing, no FMA needed).
pub(crate) fn dot<F: KFloat>(a: &[F], b: &[F]) -> F {
    let mut acc = [F::zero(); 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] = acc[l] + xa[l] * xb[l];
        }
    }
    let mut sum = F::zero();
    for (x, y) in ra.iter().zip(rb) {
        sum = sum + *x * *y;
    }
    acc.iter().fold(sum, |s, &v| s + v)
}

/// Index and value of the smallest entry (first one on ties).
pub(crate) fn argmin<F: KFloat>(d: &[F]) -> (usize, F) {
    let mut best = (0, d[0]);
    for (j, &v) in d.iter().enumerate().skip(1) {
        if v < best.1 {
            best = (j, v);
        }
    }
    best
}

/// Nearest centre and squared distance of every row, in parallel over blocks.
pub(crate) fn assign<F: KFloat>(
    x: &ArrayView2<'_, F>,
    x_norms: &[F],
    c: &ArrayView2<'_, F>,
) -> (Vec<usize>, Vec<F>) {
    let c_norms = row_norms(c);
    let parts: Vec<(Vec<usize>, Vec<F>)> = blocks(x.nrows())
        .into_par_iter()
        .map(|range| {
            let mut labels = Vec::with_capacity(range.1 - range.0);
            let mut dists = Vec::with_capacity(range.1 - range.0);
            for_each_distance_row(x, x_norms, c, &c_norms, range, |_, d| {
                let (j, v) = argmin(d);
                labels.push(j);
                dists.push(v);
            });
            (labels, dists)
        })
        .collect();
    let mut labels = Vec::with_capacity(x.nrows());
    let mut dists = Vec::with_capacity(x.nrows());
    for (l, d) in parts {
        labels.extend(l);
        dists.extend(d);
    }
    (labels, dists)
}

/// Scales rows to unit norm (zero rows stay zero).
pub(crate) fn normalize_rows<F: KFloat>(m: &mut Array2<F>) {
    m.axis_iter_mut(Axis(0)).into_par_iter().for_each(|mut r| {
        let n = r.iter().map(|&v| to64(v) * to64(v)).sum::<f64>().sqrt();
        if n > 0.0 {
            let inv = f::<F>(1.0 / n);
            r.mapv_inplace(|v| v * inv);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn distances_match_the_direct_formula() {
        let x = array![[0.0f64, 0.0], [3.0, 4.0], [1.0, 1.0]];
        let c = array![[0.0f64, 0.0], [3.0, 0.0]];
        let (labels, d) = assign(&x.view(), &row_norms(&x.view()), &c.view());
        assert_eq!(labels, vec![0, 1, 0]);
        assert_eq!(d, vec![0.0, 16.0, 2.0]);
    }

    #[test]
    fn blocks_cover_every_row_once() {
        for n in [1, 5, 31, 32, 33, 1000] {
            let b = blocks(n);
            assert_eq!(b.first().map(|r| r.0), Some(0));
            assert_eq!(b.last().map(|r| r.1), Some(n));
            assert!(b.windows(2).all(|w| w[0].1 == w[1].0));
            assert!(b.len() <= BLOCKS);
        }
    }
}
