//! The fitting loops: Lloyd on blocked GEMMs, mini-batch, n_init restarts.

use ndarray::{Array2, ArrayView2, Axis};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::error::{KMeansError, Result};
use crate::float::{check_data, f, to64, KFloat};
use crate::hamerly::hamerly;
use crate::init::{kmeans_plusplus, random_rows};
use crate::linalg::{
    argmin, block_size, blocks, for_each_distance_row, normalize_rows, row_norms, CHUNK,
};
use crate::model::KMeansModel;
use crate::params::{Algorithm, Init, KMeansParams, KMeansValidParams, Metric};
use crate::update::{finish, means, relocate_empty};

impl KMeansParams {
    /// Validates and fits.
    pub fn fit<F: KFloat>(&self, x: &ArrayView2<'_, F>) -> Result<KMeansModel<F>> {
        self.clone().check()?.fit(x)
    }
}

impl KMeansValidParams {
    /// Fits the model to `x` (rows are points).
    pub fn fit<F: KFloat>(&self, x: &ArrayView2<'_, F>) -> Result<KMeansModel<F>> {
        match self.0.threads {
            Some(n) => rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| KMeansError::param("threads", format!("thread pool: {e}")))?
                .install(|| fit(&self.0, x)),
            None => fit(&self.0, x),
        }
    }
}

/// SplitMix64 step, to derive one seed per restart.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn fit<F: KFloat>(p: &KMeansParams, x: &ArrayView2<'_, F>) -> Result<KMeansModel<F>> {
    check_data(x)?;
    let (n, d) = x.dim();
    if p.k > n {
        return Err(KMeansError::KGreaterThanN { k: p.k, n });
    }
    if let Init::Given(c) = &p.init {
        if c.ncols() != d {
            return Err(KMeansError::DimensionMismatch {
                expected: d,
                got: c.ncols(),
            });
        }
    }
    let unit;
    let x = if p.metric == Metric::Cosine {
        let mut u = x.to_owned();
        normalize_rows(&mut u);
        unit = u;
        unit.view()
    } else {
        x.view()
    };
    let x_norms = row_norms(&x);
    let tol = p.tol * mean_variance(&x);
    let runs = if matches!(p.init, Init::Given(_)) {
        1
    } else {
        p.n_init
    };
    let mut best: Option<KMeansModel<F>> = None;
    for run in 0..runs {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(p.seed.wrapping_add(run as u64)));
        let mut centers = match &p.init {
            Init::KMeansPlusPlus => kmeans_plusplus(&x, &x_norms, p.k, &mut rng),
            Init::Random => random_rows(&x, p.k, &mut rng),
            Init::Given(c) => c.mapv(f::<F>),
        };
        if p.metric == Metric::Cosine {
            normalize_rows(&mut centers);
        }
        let model = match p.algorithm {
            Algorithm::Lloyd => lloyd(&x, &x_norms, centers, p, tol),
            Algorithm::Hamerly => hamerly(&x, &x_norms, centers, p, tol),
            Algorithm::MiniBatch { batch_size } => {
                minibatch(&x, &x_norms, centers, p, tol, batch_size, &mut rng)
            }
        };
        if best.as_ref().is_none_or(|b| model.inertia() < b.inertia()) {
            best = Some(model);
        }
    }
    best.ok_or(KMeansError::param("n_init", "no run"))
}

/// Mean over features of the per-feature variance (scikit-learn's tolerance scale).
fn mean_variance<F: KFloat>(x: &ArrayView2<'_, F>) -> f64 {
    let n = x.nrows() as f64;
    let cols: Vec<f64> = x
        .axis_iter(Axis(1))
        .into_par_iter()
        .map(|c| {
            let mean = c.iter().map(|&v| to64(v)).sum::<f64>() / n;
            c.iter().map(|&v| (to64(v) - mean).powi(2)).sum::<f64>() / n
        })
        .collect();
    cols.iter().sum::<f64>() / cols.len() as f64
}

/// Per-block sums for the update step.
struct Partial {
    sums: Array2<f64>,
    counts: Vec<usize>,
    inertia: f64,
}

fn lloyd<F: KFloat>(
    x: &ArrayView2<'_, F>,
    x_norms: &[F],
    mut centers: Array2<F>,
    p: &KMeansParams,
    tol: f64,
) -> KMeansModel<F> {
    let (n, d) = x.dim();
    let k = p.k;
    let mut labels = vec![usize::MAX; n];
    let mut dists = vec![F::zero(); n];
    let mut history = Vec::new();
    let mut converged = false;
    let mut n_iter = 0;
    let ranges = blocks(n);
    for _ in 0..p.max_iter {
        n_iter += 1;
        let c_norms = row_norms(&centers.view());
        let cv = centers.view();
        // Assignment and partial sums, block by block; labels/dists written in place
        // (the chunks of `block_size` rows are exactly the blocks' ranges).
        let size = block_size(n);
        let changed_and_partials: Vec<(usize, Partial)> = ranges
            .par_iter()
            .zip(labels.par_chunks_mut(size).zip(dists.par_chunks_mut(size)))
            .map(|(&range, (lab, dis))| {
                let mut part = Partial {
                    sums: Array2::zeros((k, d)),
                    counts: vec![0; k],
                    inertia: 0.0,
                };
                let mut changed = 0;
                // Row sums go into a chunk-local buffer of the data's type (vectorised adds),
                // flushed into the block's f64 sums every CHUNK rows.
                let mut local = Array2::<F>::zeros((k, d));
                let mut touched = vec![false; k];
                let mut rows_in_local = 0;
                for_each_distance_row(x, x_norms, &cv, &c_norms, range, |row, dr| {
                    let (j, v) = argmin(dr);
                    let i = row - range.0;
                    if lab[i] != j {
                        changed += 1;
                        lab[i] = j;
                    }
                    dis[i] = v;
                    part.inertia += to64(v);
                    part.counts[j] += 1;
                    touched[j] = true;
                    let xr = x.row(row);
                    let mut lr = local.row_mut(j);
                    match (lr.as_slice_mut(), xr.as_slice()) {
                        (Some(l), Some(xs)) => l.iter_mut().zip(xs).for_each(|(a, &b)| *a = *a + b),
                        _ => lr.iter_mut().zip(xr.iter()).for_each(|(a, &b)| *a = *a + b),
                    }
                    rows_in_local += 1;
                    if rows_in_local == CHUNK {
                        flush(&mut local, &mut touched, &mut part.sums);
                        rows_in_local = 0;
                    }
                });
                flush(&mut local, &mut touched, &mut part.sums);
                (changed, part)
            })
            .collect();
        let mut sums = Array2::<f64>::zeros((k, d));
        let mut counts = vec![0usize; k];
        let mut inertia = 0.0;
        let mut changed = 0;
        for (c, part) in changed_and_partials {
            changed += c;
            sums += &part.sums;
            for (a, b) in counts.iter_mut().zip(&part.counts) {
                *a += b;
            }
            inertia += part.inertia;
        }
        history.push(inertia);
        if changed == 0 {
            // Labels did not move: the centres are already their means (strict convergence),
            // and this assignment already belongs to them.
            return KMeansModel::new(centers, labels, inertia, n_iter, true, p.metric, history);
        }
        relocate_empty(x, &labels, &dists, &mut sums, &mut counts);
        let new_centers = means(&sums, &counts, &centers, p.metric);
        let shift = squared_shift(&new_centers, &centers);
        centers = new_centers;
        if shift <= tol {
            converged = true;
            break;
        }
    }
    finish(x, x_norms, centers, n_iter, converged, p.metric, history)
}

/// Total squared movement of the centres.
fn squared_shift<F: KFloat>(new: &Array2<F>, old: &Array2<F>) -> f64 {
    new.iter()
        .zip(old)
        .map(|(&a, &b)| (to64(a) - to64(b)).powi(2))
        .sum()
}

/// Adds the touched rows of a chunk-local sum buffer into f64 sums and clears them.
fn flush<F: KFloat>(local: &mut Array2<F>, touched: &mut [bool], sums: &mut Array2<f64>) {
    for (j, t) in touched.iter_mut().enumerate() {
        if *t {
            for (s, l) in sums.row_mut(j).iter_mut().zip(local.row_mut(j).iter_mut()) {
                *s += to64(*l);
                *l = F::zero();
            }
            *t = false;
        }
    }
}

fn minibatch<F: KFloat>(
    x: &ArrayView2<'_, F>,
    x_norms: &[F],
    mut centers: Array2<F>,
    p: &KMeansParams,
    tol: f64,
    batch_size: usize,
    rng: &mut ChaCha8Rng,
) -> KMeansModel<F> {
    let n = x.nrows();
    let mut counts = vec![0usize; p.k];
    let mut converged = false;
    let mut n_iter = 0;
    let mut history = Vec::new();
    for _ in 0..p.max_iter {
        n_iter += 1;
        let idx: Vec<usize> = (0..batch_size.min(n))
            .map(|_| rng.gen_range(0..n))
            .collect();
        let batch = x.select(Axis(0), &idx);
        let bn: Vec<F> = idx.iter().map(|&i| x_norms[i]).collect();
        let c_norms = row_norms(&centers.view());
        let old = centers.clone();
        let mut inertia = 0.0;
        let mut assigned = Vec::with_capacity(idx.len());
        for_each_distance_row(
            &batch.view(),
            &bn,
            &old.view(),
            &c_norms,
            (0, idx.len()),
            |r, d| {
                let (j, v) = argmin(d);
                inertia += to64(v);
                assigned.push((r, j));
            },
        );
        history.push(inertia * n as f64 / idx.len() as f64);
        for (r, j) in assigned {
            counts[j] += 1;
            let eta = f::<F>(1.0 / counts[j] as f64);
            let mut c = centers.row_mut(j);
            for (cv, &xv) in c.iter_mut().zip(batch.row(r)) {
                *cv = *cv + eta * (xv - *cv);
            }
        }
        if p.metric == Metric::Cosine {
            normalize_rows(&mut centers);
        }
        let shift = squared_shift(&centers, &old);
        if n_iter > 1 && shift <= tol {
            converged = true;
            break;
        }
    }
    finish(x, x_norms, centers, n_iter, converged, p.metric, history)
}
