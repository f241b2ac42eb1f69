//! What fair re-ranking costs and buys on the demo: one fit, then the held-out lists of every
//! learner under several (window, max per window, pool) settings and without re-ranking, with
//! HR@10, NDCG@10, intra-list diversity, the Gini coefficient of cluster exposure and coverage.
//! Prints a markdown table (docs/benchmarks.md).
//!
//! ```text
//! cargo run --release --example fair_tradeoff -- [--hashing] [--epochs 60]
//! ```

mod common;

use common::arg;
use groundrec::sasrec::RankMetrics;
use groundrec::{
    simulate_learners, DemoLearners, FairSettings, Pipeline, RecommendOptions, Rerank,
};

/// Gini coefficient of non-negative values (0: all equal).
fn gini(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let total: f64 = values.iter().sum();
    if n == 0.0 || total == 0.0 {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * x)
        .sum();
    (2.0 * weighted) / (n * total) - (n + 1.0) / n
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    groundrec::set_threads(2)?;
    let epochs: usize = arg("--epochs").map_or(Ok(60), |s| s.parse())?;
    let catalog = common::demo_catalog()?;
    let log = simulate_learners(&catalog, &DemoLearners::default());
    let params = common::demo_embedder(
        Pipeline::builder().sasrec(Pipeline::sasrec_defaults().epochs(epochs)),
    );
    let (fitted, report) = params.check()?.fit(&catalog, &log.events)?;
    // The pipeline's held-out cases: each learner's last event after the rest (consecutive
    // repeats collapsed, as the pipeline reads histories), learners with 3 items or more.
    let mut by_user: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for e in &log.events {
        let h = by_user.entry(&e.user).or_default();
        if h.last() != Some(&e.item.as_str()) {
            h.push(&e.item);
        }
    }
    let cases: Vec<(Vec<&str>, &str)> = by_user
        .values()
        .filter(|h| h.len() >= 3)
        .map(|h| (h[..h.len() - 1].to_vec(), h[h.len() - 1]))
        .collect();
    let inputs: Vec<&[&str]> = cases.iter().map(|(h, _)| h.as_slice()).collect();
    let emb = fitted.embeddings();
    let k = fitted.kmeans().k();
    let mut settings = vec![("no re-ranking".to_string(), Rerank::Off)];
    for (window, max, pool) in [
        (4, 2, 3),
        (4, 3, 3),
        (5, 2, 3),
        (3, 1, 3),
        (4, 2, 2),
        (4, 2, 5),
        (6, 2, 3),
    ] {
        settings.push((
            format!("window {window}, max {max}, pool {pool}"),
            Rerank::With(FairSettings {
                window,
                max_per_window: max,
                pool_factor: pool,
                new_item_slots: 0,
            }),
        ));
    }
    println!(
        "{} held-out learners, {} clusters (ARI against subjects {:.3})\n",
        cases.len(),
        k,
        report.category_agreement.unwrap_or(0.0)
    );
    println!("| re-ranking | HR@10 | NDCG@10 | intra-list diversity | Gini of cluster exposure | coverage |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, rerank) in settings {
        let lists = fitted.recommend_batch(&inputs, &RecommendOptions::new(10).rerank(rerank))?;
        let m = RankMetrics::from_ranks(
            lists
                .iter()
                .zip(&cases)
                .map(|(l, (_, t))| l.items.iter().position(|r| r.item == *t)),
            10,
        );
        let mut exposure = vec![0.0; k];
        let mut shown = std::collections::HashSet::new();
        let mut positions = Vec::with_capacity(lists.len());
        for l in &lists {
            let pos: Vec<usize> = l
                .items
                .iter()
                .filter_map(|r| fitted.catalog().position(&r.item))
                .collect();
            for (&p, r) in pos.iter().zip(&l.items) {
                exposure[r.cluster] += 1.0;
                shown.insert(p);
            }
            positions.push(pos);
        }
        println!(
            "| {name} | {:.4} | {:.4} | {:.3} | {:.3} | {:.3} |",
            m.hr,
            m.ndcg,
            groundrec::intra_list_diversity(&positions, emb),
            gini(&exposure),
            shown.len() as f64 / catalog.len() as f64
        );
    }
    Ok(())
}
