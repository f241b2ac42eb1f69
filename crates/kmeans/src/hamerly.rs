//! Lloyd's iterations with Hamerly's bounds: the same assignments, fewer distances.
//!
//! Every point keeps an upper bound `u` on its distance to its own centre and a lower bound `l`
//! on its distance to every other centre (Hamerly, "Making k-means even faster", SDM 2010).
//! After the centres move by `δ`, `u` grows by its centre's `δ` and `l` shrinks by the largest
//! other `δ`. A point whose `u` is below `max(l, s/2)` (`s`: distance from its centre to the
//! nearest other centre) cannot change cluster, so its row is not read at all; the others get
//! all `k` distances from one GEMM per chunk, as in plain Lloyd. Centre sums are kept up to
//! date from the points that moved, so an iteration costs reading the rows of the few points
//! near a boundary instead of the whole matrix.
//!
//! Determinism: rows are processed in the fixed blocks of [`crate::linalg`]; moves are applied
//! in block order, so the result does not depend on the thread count.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::float::{to64, KFloat};
use crate::linalg::{assign, block_size, blocks, dot, row_norms, CHUNK};
use crate::model::KMeansModel;
use crate::params::KMeansParams;
use crate::update::{finish, means, relocate_empty};

const NONE: u32 = u32::MAX;

/// Per-point state, kept in `f64` so the bounds do not drift.
struct Bounds {
    labels: Vec<u32>,
    upper: Vec<f64>,
    lower: Vec<f64>,
}

/// Sums of the rows, of their squared norms, and counts, per cluster.
struct ClusterSums {
    sums: Array2<f64>,
    sq: Vec<f64>,
    counts: Vec<usize>,
}

impl ClusterSums {
    fn zeros(k: usize, d: usize) -> Self {
        Self {
            sums: Array2::zeros((k, d)),
            sq: vec![0.0; k],
            counts: vec![0; k],
        }
    }

    /// Applies moves `(row, from, to)` (from = `NONE` for a first assignment), bucketed by
    /// cluster so clusters update in parallel, each in the order of the moves.
    fn apply<F: KFloat>(&mut self, moves: &[(u32, u32, u32)], rows: &[F], xn: &[F]) {
        let k = self.counts.len();
        let d = self.sums.ncols();
        let mut joins: Vec<Vec<u32>> = vec![Vec::new(); k];
        let mut leaves: Vec<Vec<u32>> = vec![Vec::new(); k];
        for &(i, from, to) in moves {
            if from != NONE {
                leaves[from as usize].push(i);
            }
            joins[to as usize].push(i);
        }
        self.sums
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(self.sq.par_iter_mut())
            .zip(self.counts.par_iter_mut())
            .zip(joins.par_iter().zip(leaves.par_iter()))
            .for_each(|(((mut sum, sq), count), (join, leave))| {
                let sum = sum.as_slice_mut().unwrap_or(&mut []);
                for (list, sign) in [(join, 1.0f64), (leave, -1.0)] {
                    for &i in list {
                        let r = &rows[i as usize * d..][..d];
                        for (s, &v) in sum.iter_mut().zip(r) {
                            *s += sign * to64(v);
                        }
                        *sq += sign * to64(xn[i as usize]);
                    }
                }
                *count = *count + join.len() - leave.len();
            });
    }

    /// Σ ‖x − c‖² over all clusters, from the sums: `sq − 2·sum·c + count·‖c‖²`.
    fn inertia<F: KFloat>(&self, centers: &Array2<F>) -> f64 {
        (0..self.counts.len())
            .map(|j| {
                let c = centers.row(j);
                let cs: f64 = self
                    .sums
                    .row(j)
                    .iter()
                    .zip(c)
                    .map(|(&s, &v)| s * to64(v))
                    .sum();
                let cn: f64 = c.iter().map(|&v| to64(v) * to64(v)).sum();
                self.sq[j] - 2.0 * cs + self.counts[j] as f64 * cn
            })
            .sum::<f64>()
            .max(0.0)
    }
}

/// Half the distance from each centre to its nearest other centre (infinite when `k = 1`).
fn half_gaps<F: KFloat>(centers: &Array2<F>, c_norms: &[F]) -> Vec<f64> {
    let k = centers.nrows();
    let mut g = Array2::<F>::zeros((k, k));
    general_mat_mul(F::one(), centers, &centers.t(), F::zero(), &mut g);
    (0..k)
        .map(|j| {
            (0..k)
                .filter(|&m| m != j)
                .map(|m| {
                    let d2 = to64(c_norms[j]) + to64(c_norms[m]) - 2.0 * to64(g[[j, m]]);
                    d2.max(0.0).sqrt()
                })
                .fold(f64::INFINITY, f64::min)
                * 0.5
        })
        .collect()
}

pub(crate) fn hamerly<F: KFloat>(
    x: &ArrayView2<'_, F>,
    x_norms: &[F],
    mut centers: Array2<F>,
    p: &KMeansParams,
    tol: f64,
) -> KMeansModel<F> {
    let (n, d) = x.dim();
    let k = p.k;
    let xs = x.as_standard_layout();
    let rows = xs.as_slice().unwrap_or(&[]);
    let mut b = Bounds {
        labels: vec![NONE; n],
        upper: vec![f64::INFINITY; n],
        lower: vec![0.0; n],
    };
    let mut cs = ClusterSums::zeros(k, d);
    // Rounding slack of the expanded distances: a bound within it of the test counts as failed.
    let eps = 64.0 * to64(F::epsilon());
    let size = block_size(n);
    let ranges = blocks(n);
    let mut history = Vec::new();
    let mut converged = false;
    let mut n_iter = 0;
    let mut full = true;
    for _ in 0..p.max_iter {
        n_iter += 1;
        let c_norms = row_norms(&centers.view());
        let c_max = c_norms.iter().map(|&v| to64(v)).fold(0.0, f64::max);
        let gaps = half_gaps(&centers, &c_norms);
        let cv = centers.view();
        let moves: Vec<Vec<(u32, u32, u32)>> = ranges
            .par_iter()
            .zip(b.labels.par_chunks_mut(size))
            .zip(
                b.upper
                    .par_chunks_mut(size)
                    .zip(b.lower.par_chunks_mut(size)),
            )
            .map(|((&(start, end), lab), (up, lo))| {
                let mut need: Vec<usize> = Vec::new();
                for i in start..end {
                    let local = i - start;
                    if full {
                        need.push(i);
                        continue;
                    }
                    let a = lab[local] as usize;
                    let xn = to64(x_norms[i]);
                    let slack = (eps * (xn + c_max)).sqrt();
                    let m = gaps[a].max(lo[local]);
                    if up[local] + slack <= m {
                        continue;
                    }
                    let r = &rows[i * d..][..d];
                    let c = cv.row(a);
                    let dd =
                        xn - 2.0 * to64(dot(r, c.as_slice().unwrap_or(&[]))) + to64(c_norms[a]);
                    up[local] = dd.max(0.0).sqrt();
                    if up[local] + slack <= m {
                        continue;
                    }
                    need.push(i);
                }
                let mut moves = Vec::new();
                let mut buf = Array2::<F>::zeros((CHUNK.min(need.len()), d));
                let mut dots = Array2::<F>::zeros((CHUNK.min(need.len()), k));
                for part in need.chunks(CHUNK) {
                    for (slot, &i) in part.iter().enumerate() {
                        buf.row_mut(slot)
                            .as_slice_mut()
                            .unwrap_or(&mut [])
                            .copy_from_slice(&rows[i * d..][..d]);
                    }
                    let m = part.len();
                    let mut out = dots.slice_mut(s![..m, ..]);
                    general_mat_mul(
                        F::one(),
                        &buf.slice(s![..m, ..]),
                        &cv.t(),
                        F::zero(),
                        &mut out,
                    );
                    for (slot, &i) in part.iter().enumerate() {
                        let xn = to64(x_norms[i]);
                        let (mut best, mut d1, mut d2) = (0usize, f64::INFINITY, f64::INFINITY);
                        for (j, &v) in out.row(slot).iter().enumerate() {
                            let dist = (xn - 2.0 * to64(v) + to64(c_norms[j])).max(0.0);
                            if dist < d1 {
                                d2 = d1;
                                d1 = dist;
                                best = j;
                            } else if dist < d2 {
                                d2 = dist;
                            }
                        }
                        let local = i - start;
                        up[local] = d1.sqrt();
                        lo[local] = d2.sqrt();
                        if lab[local] != best as u32 {
                            moves.push((i as u32, lab[local], best as u32));
                            lab[local] = best as u32;
                        }
                    }
                }
                moves
            })
            .collect();
        let moves: Vec<(u32, u32, u32)> = moves.into_iter().flatten().collect();
        cs.apply(&moves, rows, x_norms);
        let inertia = cs.inertia(&centers);
        history.push(inertia);
        if moves.is_empty() {
            let labels = b.labels.iter().map(|&l| l as usize).collect();
            return KMeansModel::new(centers, labels, inertia, n_iter, true, p.metric, history);
        }
        full = cs.counts.contains(&0);
        if full {
            // Rare: relocate as plain Lloyd does, from exact distances.
            let (_, dists) = assign(x, x_norms, &centers.view());
            let labels: Vec<usize> = b.labels.iter().map(|&l| l as usize).collect();
            relocate_empty(x, &labels, &dists, &mut cs.sums, &mut cs.counts);
        }
        let new_centers = means(&cs.sums, &cs.counts, &centers, p.metric);
        if full {
            // After a relocation the bookkeeping starts afresh with a full pass.
            b.labels.fill(NONE);
            cs = ClusterSums::zeros(k, d);
        }
        let drift: Vec<f64> = new_centers
            .outer_iter()
            .zip(centers.outer_iter())
            .map(|(a, o)| {
                a.iter()
                    .zip(o)
                    .map(|(&u, &v)| (to64(u) - to64(v)).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let shift: f64 = drift.iter().map(|v| v * v).sum();
        centers = new_centers;
        if shift <= tol {
            converged = true;
            break;
        }
        // The largest and second-largest drift: a point's other centres moved at most that.
        let top = (0..k)
            .max_by(|&a, &b| drift[a].total_cmp(&drift[b]))
            .unwrap_or(0);
        let second = (0..k)
            .filter(|&j| j != top)
            .map(|j| drift[j])
            .fold(0.0, f64::max);
        if !full {
            b.labels
                .par_iter()
                .zip(b.upper.par_iter_mut().zip(b.lower.par_iter_mut()))
                .for_each(|(&a, (u, l))| {
                    let a = a as usize;
                    *u += drift[a];
                    *l -= if a == top { second } else { drift[top] };
                });
        }
    }
    finish(x, x_norms, centers, n_iter, converged, p.metric, history)
}
