//! Behaviour tests of the estimator (the helpers have their own beside them).

use ndarray::{Array2, Axis};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{
    adjusted_rand_index, inertia, Algorithm, Init, KMeans, KMeansError, KMeansModel, Metric,
};

/// `per` points around each of `centres` well-separated Gaussian centres in `d` dimensions.
fn blobs(
    centres: usize,
    per: usize,
    d: usize,
    spread: f64,
    seed: u64,
) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = move || {
        let u1: f64 = 1.0 - rng.gen::<f64>();
        let u2: f64 = rng.gen();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let c: Vec<Vec<f64>> = (0..centres)
        .map(|_| (0..d).map(|_| 10.0 * normal()).collect())
        .collect();
    let mut x = Array2::<f32>::zeros((centres * per, d));
    let mut truth = Vec::new();
    for i in 0..centres * per {
        let g = i % centres;
        truth.push(g);
        for j in 0..d {
            x[[i, j]] = (c[g][j] + spread * normal()) as f32;
        }
    }
    (x, truth)
}

#[test]
fn recovers_planted_blobs() {
    let (x, truth) = blobs(8, 200, 16, 1.0, 3);
    let m = KMeans::params(8)
        .seed(1)
        .n_init(3)
        .fit(&x.view())
        .expect("fits");
    let ari = adjusted_rand_index(m.labels(), &truth);
    assert!(ari >= 0.99, "ARI {ari}");
    assert!(m.converged());
}

#[test]
fn minibatch_recovers_blobs_too() {
    let (x, truth) = blobs(5, 300, 8, 1.0, 4);
    let m = KMeans::params(5)
        .seed(2)
        .n_init(3)
        .algorithm(Algorithm::MiniBatch { batch_size: 256 })
        .max_iter(200)
        .fit(&x.view())
        .expect("fits");
    assert!(adjusted_rand_index(m.labels(), &truth) >= 0.95);
}

#[test]
fn cosine_centroids_are_unit_length() {
    let (x, _) = blobs(4, 50, 6, 1.0, 5);
    let m = KMeans::params(4)
        .metric(Metric::Cosine)
        .fit(&x.view())
        .expect("fits");
    for row in m.centroids().axis_iter(Axis(0)) {
        let n = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-4, "norm {n}");
    }
}

#[test]
fn same_seed_same_model_whatever_the_thread_count() {
    let (x, _) = blobs(6, 400, 12, 3.0, 6);
    let one = KMeans::params(6)
        .seed(9)
        .threads(1)
        .fit(&x.view())
        .expect("fits");
    let three = KMeans::params(6)
        .seed(9)
        .threads(3)
        .fit(&x.view())
        .expect("fits");
    assert_eq!(one, three);
}

#[test]
fn bad_input_gives_typed_errors() {
    let mut x = Array2::<f32>::zeros((5, 3));
    x[[3, 1]] = f32::NAN;
    assert_eq!(
        KMeans::params(2).fit(&x.view()).err(),
        Some(KMeansError::NonFinite { row: 3 })
    );
    let x = Array2::<f32>::zeros((5, 3));
    assert_eq!(
        KMeans::params(6).fit(&x.view()).err(),
        Some(KMeansError::KGreaterThanN { k: 6, n: 5 })
    );
    assert_eq!(
        KMeans::params(1)
            .fit(&Array2::<f32>::zeros((4, 0)).view())
            .err(),
        Some(KMeansError::NoColumns)
    );
    assert_eq!(
        KMeans::params(1)
            .fit(&Array2::<f32>::zeros((0, 4)).view())
            .err(),
        Some(KMeansError::EmptyInput)
    );
    let given = Init::Given(Array2::zeros((2, 4)));
    assert_eq!(
        KMeans::params(2).init(given).fit(&x.view()).err(),
        Some(KMeansError::DimensionMismatch {
            expected: 3,
            got: 4
        })
    );
    let m = KMeans::params(2)
        .fit(&x.view())
        .expect("constant data still fits");
    assert_eq!(
        m.predict(&Array2::<f32>::zeros((1, 2)).view()).err(),
        Some(KMeansError::DimensionMismatch {
            expected: 3,
            got: 2
        })
    );
}

#[test]
fn model_round_trips_through_json() {
    let (x, _) = blobs(3, 30, 4, 1.0, 7);
    let m = KMeans::params(3).fit(&x.view()).expect("fits");
    let json = serde_json::to_string(&m).expect("serialises");
    let back: KMeansModel<f32> = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, m);
}

#[test]
fn transform_gives_distances_whose_argmin_is_the_label() {
    let (x, _) = blobs(3, 30, 4, 1.0, 8);
    let m = KMeans::params(3).fit(&x.view()).expect("fits");
    let d = m.transform(&x.view()).expect("same width");
    assert_eq!(d.dim(), (90, 3));
    for (row, &l) in d.axis_iter(Axis(0)).zip(m.labels()) {
        let best = (0..3)
            .min_by(|&a, &b| row[a].total_cmp(&row[b]))
            .expect("k > 0");
        assert!((row[best] - row[l]).abs() < 1e-4);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn lloyd_invariants(n in 1usize..120, d in 1usize..6, k in 1usize..8, seed in any::<u64>(), f64_data in any::<bool>()) {
        prop_assume!(k <= n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::<f32>::from_shape_fn((n, d), |_| rng.gen_range(-5.0..5.0));
        let m = KMeans::params(k).seed(seed).fit(&x.view()).expect("valid input");
        prop_assert_eq!(m.labels().len(), n);
        prop_assert!(m.labels().iter().all(|&l| l < k));
        prop_assert_eq!(m.predict(&x.view()).expect("same width"), m.labels().to_vec());
        for w in m.inertia_history().windows(2) {
            prop_assert!(w[1] <= w[0] * (1.0 + 1e-5) + 1e-6, "inertia rose: {:?}", m.inertia_history());
        }
        let direct = inertia(x.view(), m.centroids().view(), m.labels());
        prop_assert!((direct - m.inertia()).abs() <= 1e-3 * direct.max(1.0));
        if f64_data {
            let m64 = KMeans::params(k).seed(seed).fit(&x.mapv(f64::from).view()).expect("valid input");
            prop_assert_eq!(m64.labels().len(), n);
        }
    }

    #[test]
    fn hamerly_reaches_the_same_clustering_as_lloyd(
        n in 2usize..300, d in 1usize..8, k in 1usize..12, seed in any::<u64>(), cosine in any::<bool>(),
    ) {
        prop_assume!(k <= n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // Integer-valued data has exact ties; keep values continuous.
        let x = Array2::<f64>::from_shape_fn((n, d), |_| rng.gen_range(-5.0..5.0));
        let metric = if cosine { Metric::Cosine } else { Metric::Euclidean };
        let fit = |a| KMeans::params(k).seed(seed).metric(metric).algorithm(a).fit(&x.view()).expect("valid");
        let (h, l) = (fit(Algorithm::Hamerly), fit(Algorithm::Lloyd));
        prop_assert_eq!(h.labels(), l.labels());
        prop_assert_eq!(h.n_iter(), l.n_iter());
        prop_assert!((h.inertia() - l.inertia()).abs() <= 1e-9 * l.inertia().max(1.0));
        prop_assert_eq!(h.inertia_history().len(), l.inertia_history().len());
        for (a, b) in h.inertia_history().iter().zip(l.inertia_history()) {
            prop_assert!((a - b).abs() <= 1e-6 * b.max(1.0), "{:?} vs {:?}", h.inertia_history(), l.inertia_history());
        }
    }

    #[test]
    fn k_larger_than_n_is_always_an_error(n in 1usize..20, extra in 1usize..5) {
        let x = Array2::<f32>::zeros((n, 2));
        prop_assert_eq!(KMeans::params(n + extra).fit(&x.view()).err(), Some(KMeansError::KGreaterThanN { k: n + extra, n }));
    }
}

#[test]
fn values_whose_distances_overflow_are_an_error_for_every_algorithm() {
    let mut x = ndarray::Array2::<f32>::zeros((6, 2));
    for i in 0..6 {
        x[[i, 0]] = f32::MAX / (1.0 + i as f32);
    }
    for algorithm in [
        Algorithm::Lloyd,
        Algorithm::Hamerly,
        Algorithm::MiniBatch { batch_size: 4 },
    ] {
        assert_eq!(
            KMeans::params(2).algorithm(algorithm).fit(&x.view()),
            Err(KMeansError::TooLarge { row: 0 }),
            "{algorithm:?}"
        );
    }
    // The same data scaled down clusters fine, and f64 takes the original.
    let small = x.mapv(|v| v / f32::MAX);
    assert!(KMeans::params(2).fit(&small.view()).is_ok());
    assert!(KMeans::params(2).fit(&x.mapv(f64::from).view()).is_ok());
}
