//! The facade under criterion: fitting the demo pipeline (hashing and multilingual-e5-small),
//! `recommend` for one history and for a batch of 1,000, `similar`, `upsert_items` of 10
//! lectures, and `recommend` on a 100,000-item catalogue.
//!
//! ```text
//! cargo bench --bench pipeline [-- FILTER]      # e5 benches need models/ (scripts/setup)
//! ```
//!
//! Goals (docs/benchmarks.md): one `recommend` <= 1 ms median on the demo catalogue and
//! <= 5 ms on 100,000 items; batches >= 5,000 histories/s on 2 threads.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use groundrec::sasrec::SasRec;
use groundrec::{
    simulate_learners, Catalog, Clusters, DemoEvents, DemoLearners, FittedPipeline, Item, Pipeline,
    PipelineParams, RecommendOptions,
};

/// The tests' helpers: the repository's demo catalogue and learners' histories.
#[path = "../tests/common/mod.rs"]
mod common;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo() -> (Catalog, DemoEvents) {
    let catalog = common::demo_catalog();
    let log = simulate_learners(&catalog, &DemoLearners::default());
    (catalog, log)
}

/// The demo's settings with fewer epochs (the bench times the stages, not convergence).
fn params(epochs: usize) -> PipelineParams {
    Pipeline::builder().sasrec(SasRec::params().epochs(epochs).early_stopping(None))
}

use common::histories;

fn fit(c: &mut Criterion) {
    let (catalog, log) = demo();
    let mut g = c.benchmark_group("fit");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    g.bench_function("demo hashing, 5 epochs", |b| {
        let p = params(5).hashing(256).check().expect("valid");
        b.iter(|| p.fit(&catalog, &log.events).expect("fits"))
    });
    let models = root().join("models");
    if models.join("multilingual-e5-small/.complete").is_file() {
        g.bench_function("demo e5 + ko-dic, 5 epochs", |b| {
            let p = params(5)
                .model(models.join("multilingual-e5-small"), "query: ")
                .korean_dictionary(models.join("ko-dic"))
                .check()
                .expect("valid");
            b.iter(|| p.fit(&catalog, &log.events).expect("fits"))
        });
    } else {
        eprintln!("models/ is missing: run scripts/setup for the e5 bench");
    }
    g.finish();
}

fn serve(c: &mut Criterion) {
    let (catalog, log) = demo();
    let (fitted, _) = params(20)
        .hashing(256)
        .check()
        .expect("valid")
        .fit(&catalog, &log.events)
        .expect("fits");
    let all = histories(&log);
    let one: Vec<&str> = all[0].iter().map(String::as_str).collect();
    let o = RecommendOptions::new(10);
    let mut g = c.benchmark_group("serve demo");
    g.bench_function("recommend one history", |b| {
        b.iter(|| fitted.recommend(black_box(&one), &o).expect("ok"))
    });
    g.bench_function("recommend one history, Korean only", |b| {
        let ko = RecommendOptions::new(10).languages(["ko"]);
        b.iter(|| fitted.recommend(black_box(&one), &ko).expect("ok"))
    });
    g.bench_function("recommend, no history", |b| {
        b.iter(|| fitted.recommend(black_box(&[]), &o).expect("ok"))
    });
    g.bench_function("similar", |b| {
        b.iter(|| fitted.similar(black_box("L001"), &o).expect("ok"))
    });
    let batch: Vec<Vec<&str>> = (0..1000)
        .map(|i| all[i % all.len()].iter().map(String::as_str).collect())
        .collect();
    let refs: Vec<&[&str]> = batch.iter().map(Vec::as_slice).collect();
    g.throughput(Throughput::Elements(1000));
    g.bench_function("recommend_batch of 1,000", |b| {
        b.iter(|| fitted.recommend_batch(black_box(&refs), &o).expect("ok"))
    });
    g.throughput(Throughput::Elements(10));
    let fresh: Vec<Item> = (0..10)
        .map(|i| {
            Item::new(
                format!("N{i:03}"),
                format!("Fractions and ratios, part {i}"),
                "Scaling recipes with fractions and ratios.",
            )
            .with_category("Mathematics")
        })
        .collect();
    g.bench_function("upsert_items of 10", |b| {
        b.iter_batched(
            || fitted.clone(),
            |mut p| p.upsert_items(black_box(&fresh)).expect("ok"),
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A pipeline fitted on 2,000 generated lectures, then grown to `n` by upserts.
fn large(n: usize) -> (FittedPipeline, Vec<Vec<String>>) {
    let subjects = [
        "algebra", "joseon", "harmony", "rust", "kimchi", "newton", "markets", "cells",
    ];
    let item = |i: usize| {
        let s = subjects[i % subjects.len()];
        let mut it = Item::new(
            format!("G{i:06}"),
            format!("{s} lecture {i}"),
            format!("{s} topic {} part {}", i % 97, i / subjects.len()),
        )
        .with_category(s);
        it.extra
            .insert("course".into(), serde_json::json!(format!("{s}{}", i % 25)));
        it.extra.insert("lesson".into(), serde_json::json!(i / 200));
        it
    };
    let (catalog, _) = Catalog::from_items((0..2000).map(item)).expect("valid");
    let log = simulate_learners(
        &catalog,
        &DemoLearners {
            learners: 2000,
            ..Default::default()
        },
    );
    let (mut fitted, _) = Pipeline::builder()
        .hashing(256)
        .clusters(Clusters::Fixed(16))
        .sasrec(SasRec::params().epochs(2).early_stopping(None))
        .check()
        .expect("valid")
        .fit(&catalog, &log.events)
        .expect("fits");
    let rest: Vec<Item> = (2000..n).map(item).collect();
    for chunk in rest.chunks(5000) {
        fitted.upsert_items(chunk).expect("grows");
    }
    (fitted, histories(&log))
}

fn serve_large(c: &mut Criterion) {
    let (fitted, all) = large(100_000);
    let one: Vec<&str> = all[0].iter().map(String::as_str).collect();
    let o = RecommendOptions::new(10);
    let mut g = c.benchmark_group("serve 100k items");
    g.bench_function("recommend one history", |b| {
        b.iter(|| fitted.recommend(black_box(&one), &o).expect("ok"))
    });
    g.bench_function("similar", |b| {
        b.iter(|| fitted.similar(black_box("G000001"), &o).expect("ok"))
    });
    let batch: Vec<Vec<&str>> = (0..100)
        .map(|i| all[i % all.len()].iter().map(String::as_str).collect())
        .collect();
    let refs: Vec<&[&str]> = batch.iter().map(Vec::as_slice).collect();
    g.throughput(Throughput::Elements(100));
    g.bench_with_input(BenchmarkId::new("recommend_batch", 100), &refs, |b, r| {
        b.iter(|| fitted.recommend_batch(black_box(r), &o).expect("ok"))
    });
    g.finish();
}

fn configured() -> Criterion {
    // Threads are the program's: the bench runs on 2, as the goals say.
    let _ = groundrec::set_threads(2);
    Criterion::default()
}

criterion_group! {
    name = benches;
    config = configured();
    targets = serve, serve_large, fit
}
criterion_main!(benches);
