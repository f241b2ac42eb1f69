//! Prints the quality table of docs/benchmarks.md: list metrics of plain Fisher–Yates and of
//! each shuffle over realistic group-size mixes, averaged over seeds; then the fair re-ranker
//! on scored lists.
//!
//! `cargo bench -p groundrec-shuffle --bench shuffle_quality`

use groundrec_shuffle::metrics::{adjacent_same_group, gap_stats, runs_at_least};
use groundrec_shuffle::{balanced_shuffle, merge_shuffle, spread, FairRanker, SpreadParams};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEEDS: u64 = 50;

/// Group sizes of the three mixes, 500 items in 20 groups each.
fn mixes() -> Vec<(&'static str, Vec<usize>)> {
    let zipf: Vec<usize> = {
        let w: Vec<f64> = (1..=20).map(|r| 1.0 / r as f64).collect();
        let t: f64 = w.iter().sum();
        let mut s: Vec<usize> = w
            .iter()
            .map(|x| (500.0 * x / t).round().max(1.0) as usize)
            .collect();
        let diff = 500 - s.iter().sum::<usize>() as i64;
        s[0] = (s[0] as i64 + diff) as usize;
        s
    };
    let dominant: Vec<usize> = std::iter::once(200)
        .chain(std::iter::repeat_n(300 / 19, 18))
        .chain(std::iter::once(300 - 18 * (300 / 19)))
        .collect();
    vec![
        ("uniform (20 x 25)", vec![25; 20]),
        ("Zipf (20 groups)", zipf),
        ("one dominant (40 %)", dominant),
    ]
}

fn items(sizes: &[usize]) -> Vec<(usize, usize)> {
    sizes
        .iter()
        .enumerate()
        .flat_map(|(g, &s)| (0..s).map(move |i| (g, i)))
        .collect()
}

type Shuffler = fn(Vec<(usize, usize)>, u64) -> Vec<(usize, usize)>;

fn fisher_yates(mut v: Vec<(usize, usize)>, seed: u64) -> Vec<(usize, usize)> {
    v.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    v
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let algos: Vec<(&str, Shuffler)> = vec![
        ("Fisher-Yates", fisher_yates),
        ("spread (jitter 0.3)", |v, s| {
            spread(v, |x| x.0, SpreadParams::default(), s)
        }),
        ("balanced (Fiedler)", |v, s| balanced_shuffle(v, |x| x.0, s)),
        ("merge", |v, s| merge_shuffle(v, |x| x.0, s)),
    ];
    println!("Shuffles: 500 items, mean over {SEEDS} seeds. Gap ratios are distance / (n / group size), 1.0 = perfectly even.\n");
    println!("| mix | algorithm | adjacent pairs | runs >= 3 | min gap ratio | max gap ratio |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (mix, sizes) in mixes() {
        let n: usize = sizes.iter().sum();
        let max = sizes.iter().copied().max().unwrap_or(0);
        let bound = max.saturating_sub(n - max + 1);
        for (name, f) in &algos {
            let (mut adj, mut runs, mut minr, mut maxr) = (0.0, 0.0, 0.0, 0.0);
            for seed in 0..SEEDS {
                let out = f(items(&sizes), seed);
                adj += adjacent_same_group(&out, |x| x.0) as f64;
                runs += runs_at_least(&out, |x| x.0, 3) as f64;
                if let Some(g) = gap_stats(&out, |x| x.0) {
                    minr += g.min_ratio;
                    maxr += g.max_ratio;
                }
            }
            let k = SEEDS as f64;
            println!(
                "| {mix} | {name} | {:.1} | {:.2} | {:.3} | {:.2} |",
                adj / k,
                runs / k,
                minr / k,
                maxr / k
            );
        }
        println!("| {mix} | (lower bound) | {bound} | 0 | | |");
    }

    println!("\nFair re-ranking: 100 scored candidates (scores uniform in [0, 1), group mix Zipf over 8 groups), window cap 2 per 5 slots, mean over {SEEDS} seeds.\n");
    println!("| order | adjacent pairs | window violations | NDCG@100 | Kendall tau |");
    println!("| --- | --- | --- | --- | --- |");
    let (mut adj0, mut adj1, mut viol, mut ndcg, mut tau) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let ranker = FairRanker::new().window(5, 2).expect("valid cap");
    for seed in 0..SEEDS {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut list: Vec<(usize, f64)> = (0..100)
            .map(|_| {
                let u: f64 = rng.gen();
                ((u * u * 8.0) as usize, rng.gen::<f64>())
            })
            .collect();
        list.sort_by(|a, b| b.1.total_cmp(&a.1));
        adj0 += adjacent_same_group(&list, |x| x.0) as f64;
        let r = ranker
            .rerank(list, |x| x.1, |x| x.0)
            .expect("finite scores");
        adj1 += adjacent_same_group(&r.items, |x| x.0) as f64;
        viol += r.report.window_violations as f64;
        ndcg += r.report.ndcg;
        tau += r.report.kendall_tau;
    }
    let k = SEEDS as f64;
    println!("| by score | {:.1} | - | 1.000 | 1.000 |", adj0 / k);
    println!(
        "| FairRanker | {:.1} | {:.2} | {:.3} | {:.3} |",
        adj1 / k,
        viol / k,
        ndcg / k,
        tau / k
    );
}
