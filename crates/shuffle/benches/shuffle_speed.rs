//! Criterion bench: spread, merge and balanced shuffles, and plain Fisher-Yates as the floor, at 10k / 100k / 1M items, with
//! n / 100 groups (1M items in 10,000 groups), group sizes drawn from a Zipf-like mix. The
//! time covers the shuffle, moving the items into their new order and dropping the result; the
//! copy of the input it consumes is made outside the timing.
//!
//! `cargo bench -p groundrec-shuffle --bench shuffle_speed`

use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput,
};
use groundrec_shuffle::{balanced_shuffle, merge_shuffle, spread, SpreadValidParams};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` items labelled with one of `n / 100` groups, group popularity ∝ 1 / rank.
fn items(n: usize) -> Vec<(u32, u32)> {
    let groups = (n / 100).max(1);
    let weights: Vec<f64> = (1..=groups).map(|r| 1.0 / r as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(groups);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    (0..n as u32)
        .map(|i| {
            let u: f64 = rng.gen();
            let g = cdf.partition_point(|&c| c < u).min(groups - 1);
            (g as u32, i)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("shuffle");
    group.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let data = items(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("spread", n), &data, |b, d| {
            b.iter_batched(
                || d.clone(),
                |d| spread(black_box(d), |x| x.0, SpreadValidParams::default(), 7),
                BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("merge", n), &data, |b, d| {
            b.iter_batched(
                || d.clone(),
                |d| merge_shuffle(black_box(d), |x| x.0, 7),
                BatchSize::LargeInput,
            )
        });
        // The floor for any random permutation: a plain Fisher-Yates shuffle of the same items.
        group.bench_with_input(BenchmarkId::new("fisher_yates", n), &data, |b, d| {
            b.iter_batched(
                || d.clone(),
                |mut d| {
                    d.shuffle(&mut ChaCha8Rng::seed_from_u64(7));
                    d
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_with_input(BenchmarkId::new("balanced", n), &data, |b, d| {
            b.iter_batched(
                || d.clone(),
                |d| balanced_shuffle(black_box(d), |x| x.0, 7),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
