//! Bench binary for `scripts/compare kmeans`: the Gaussian-mixture data of
//! `../shared/anchors/kmeans_sklearn.py` (regenerated bit for bit from its SplitMix64 /
//! Box-Muller recipe), then k-means with scikit-learn's settings; prints one JSON line.
//!
//! ```text
//! cargo bench -p groundrec-kmeans --bench kmeans_compare -- \
//!     [--n 100000] [--d 384] [--k 64] [--k-true 64] [--seed 0] [--threads 2] [--max-iter 100] \
//!     [--tol 1e-4] [--repeats 3] [--algorithm hamerly|lloyd] [--impl groundrec|linfa]
//! ```
//!
//! `--impl linfa` runs linfa-clustering's `KMeans` instead (k-means++, one run, the same
//! iteration cap, its absolute tolerance on the centroid movement set to `sqrt(tol · mean
//! per-feature variance)`, i.e. scikit-learn's criterion, on a rayon pool of `--threads`).
//!
//! ```text
//! ```

use std::time::Instant;

use groundrec_kmeans::{adjusted_rand_index, Algorithm, KMeans};
use ndarray::Array2;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stream `s` of the anchor's generator: `v_i = mix64(key(s) + (i + 1) * GOLDEN)`.
struct Stream {
    key: u64,
    i: u64,
}

impl Stream {
    fn new(seed: u64, s: u64) -> Self {
        Self {
            key: mix64(seed.wrapping_add(s.wrapping_mul(0xD1B5_4A32_D192_ED03))),
            i: 0,
        }
    }
    fn next(&mut self) -> u64 {
        self.i += 1;
        mix64(self.key.wrapping_add(self.i.wrapping_mul(GOLDEN)))
    }
    /// Box-Muller pairs, as the anchor draws them.
    fn normals(mut self, count: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(count + 1);
        while out.len() < count {
            let (a, b) = (self.next(), self.next());
            let u1 = ((a >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
            let u2 = (b >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            let r = (-2.0 * u1.ln()).sqrt();
            let t = 2.0 * std::f64::consts::PI * u2;
            out.push(r * t.cos());
            out.push(r * t.sin());
        }
        out.truncate(count);
        out
    }
}

fn gen_data(n: usize, d: usize, k_true: usize, seed: u64) -> (Array2<f32>, Vec<usize>) {
    let centers = Stream::new(seed, 0).normals(k_true * d);
    let mut labels_stream = Stream::new(seed, 1);
    let labels: Vec<usize> = (0..n)
        .map(|_| (labels_stream.next() % k_true as u64) as usize)
        .collect();
    let noise = Stream::new(seed, 2).normals(n * d);
    let x = Array2::from_shape_fn((n, d), |(i, c)| {
        (centers[labels[i] * d + c] + noise[i * d + c]) as f32
    });
    (x, labels)
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--n", 100_000usize);
    let d = arg(&args, "--d", 384usize);
    let k = arg(&args, "--k", 64usize);
    let k_true = arg(&args, "--k-true", 64usize);
    let seed = arg(&args, "--seed", 0u64);
    let threads = arg(&args, "--threads", 2usize);
    let max_iter = arg(&args, "--max-iter", 100usize);
    let tol = arg(&args, "--tol", 1e-4f64);
    let repeats = arg(&args, "--repeats", 3usize);
    let algorithm_name = arg(&args, "--algorithm", String::from("hamerly"));
    let algorithm = match algorithm_name.as_str() {
        "hamerly" => Algorithm::Hamerly,
        "lloyd" => Algorithm::Lloyd,
        other => return Err(format!("--algorithm must be hamerly or lloyd, got {other}").into()),
    };

    let t = Instant::now();
    let (x, truth) = gen_data(n, d, k_true, seed);
    let gen_s = t.elapsed().as_secs_f64();
    let sum: f64 = x.iter().map(|&v| f64::from(v)).sum();
    if arg(&args, "--impl", String::from("groundrec")) == "linfa" {
        return linfa_run(&x, &truth, k, seed, threads, max_iter, tol, repeats);
    }
    let params = KMeans::params(k)
        .seed(seed)
        .max_iter(max_iter)
        .tol(tol)
        .threads(threads)
        .algorithm(algorithm)
        .check()?;
    let mut fits = Vec::new();
    let mut model = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let m = params.fit(&x.view())?;
        fits.push(t.elapsed().as_secs_f64());
        model = Some(m);
    }
    let m = model.ok_or("no fit")?;
    let mut sorted = fits.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{{\"bench\": \"kmeans_groundrec\", \"algorithm\": \"{algorithm_name}\", \"n\": {n}, \"d\": {d}, \"k\": {k}, \"threads\": {threads}, \
         \"gen_s\": {gen_s:.2}, \"data_checksum\": {{\"sum_f64\": {sum}, \"x00\": {}, \"x_last\": {}, \"label0\": {}}}, \
         \"fit_s_runs\": {fits:?}, \"fit_s_median\": {:.3}, \"n_iter\": {}, \"inertia\": {}, \"ari_vs_true\": {:.4}}}",
        x[[0, 0]],
        x[[n - 1, d - 1]],
        truth[0],
        sorted[sorted.len() / 2],
        m.n_iter(),
        m.inertia(),
        adjusted_rand_index(m.labels(), &truth)
    );
    Ok(())
}

/// linfa-clustering's KMeans on the same data, with scikit-learn's stopping rule translated.
#[allow(clippy::too_many_arguments)]
fn linfa_run(
    x: &Array2<f32>,
    truth: &[usize],
    k: usize,
    seed: u64,
    threads: usize,
    max_iter: usize,
    tol: f64,
    repeats: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use linfa::prelude::*;
    use linfa_clustering::{KMeans as LinfaKMeans, KMeansInit};
    use rand::SeedableRng;

    let (n, d) = x.dim();
    let mean_var: f64 = (0..d)
        .map(|c| {
            let col = x.column(c);
            let mean = col.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
            col.iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n as f64
        })
        .sum::<f64>()
        / d as f64;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let dataset = DatasetBase::from(x.clone());
    let mut fits = Vec::new();
    let mut model = None;
    for _ in 0..repeats.max(1) {
        let rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let params = LinfaKMeans::params_with_rng(k, rng)
            .n_runs(1)
            .init_method(KMeansInit::KMeansPlusPlus)
            .max_n_iterations(max_iter as u64)
            .tolerance((tol * mean_var).sqrt() as f32);
        let t = Instant::now();
        let m = pool.install(|| params.fit(&dataset))?;
        fits.push(t.elapsed().as_secs_f64());
        model = Some(m);
    }
    let m = model.ok_or("no fit")?;
    let labels: Vec<usize> = pool.install(|| m.predict(x)).to_vec();
    let inertia = groundrec_kmeans::inertia(x.view(), m.centroids().view(), &labels);
    let mut sorted = fits.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{{\"bench\": \"kmeans_linfa\", \"n\": {n}, \"d\": {d}, \"k\": {k}, \"threads\": {threads}, \
         \"fit_s_runs\": {fits:?}, \"fit_s_median\": {:.3}, \"inertia\": {inertia}, \"ari_vs_true\": {:.4}}}",
        sorted[sorted.len() / 2],
        adjusted_rand_index(&labels, truth)
    );
    Ok(())
}
