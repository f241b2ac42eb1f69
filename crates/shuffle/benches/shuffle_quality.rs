//! Prints the quality table of docs/benchmarks.md: list metrics of plain Fisher–Yates and of
//! each shuffle over realistic group-size mixes, averaged over seeds; then the fair re-ranker
//! on scored lists.
//!
//! `cargo bench -p groundrec-shuffle --bench shuffle_quality`

use groundrec_shuffle::metrics::{adjacent_same_group, exposure_share, gap_stats, runs_at_least};
use groundrec_shuffle::{balanced_shuffle, merge_shuffle, spread, FairRanker, SpreadValidParams};
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
            spread(v, |x| x.0, SpreadValidParams::default(), s)
        }),
        ("balanced (Fiedler)", |v, s| balanced_shuffle(v, |x| x.0, s)),
        ("merge", |v, s| merge_shuffle(v, |x| x.0, s)),
    ];
    println!("Shuffles: 500 items, mean over {SEEDS} seeds. Gap ratios are distance / (n / group size), 1.0 = perfectly even.\n");
    println!("| mix | algorithm | adjacent pairs | runs >= 3 | min gap ratio | mean gap | max gap ratio |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (mix, sizes) in mixes() {
        let n: usize = sizes.iter().sum();
        let max = sizes.iter().copied().max().unwrap_or(0);
        let bound = max.saturating_sub(n - max + 1);
        for (name, f) in &algos {
            let (mut adj, mut runs, mut minr, mut mean, mut maxr) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for seed in 0..SEEDS {
                let out = f(items(&sizes), seed);
                adj += adjacent_same_group(&out, |x| x.0) as f64;
                runs += runs_at_least(&out, |x| x.0, 3) as f64;
                if let Some(g) = gap_stats(&out, |x| x.0) {
                    minr += g.min_ratio;
                    mean += g.mean;
                    maxr += g.max_ratio;
                }
            }
            let k = SEEDS as f64;
            println!(
                "| {mix} | {name} | {:.1} | {:.2} | {:.3} | {:.1} | {:.2} |",
                adj / k,
                runs / k,
                minr / k,
                mean / k,
                maxr / k
            );
        }
        println!("| {mix} | (lower bound) | {bound} | 0 | | | |");
    }

    rerank_table();
}

/// 100 scored candidates in 8 groups, group 0 the largest (about 35 %).
fn scored_list(seed: u64) -> Vec<(usize, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut list: Vec<(usize, f64)> = (0..100)
        .map(|_| {
            let u: f64 = rng.gen();
            ((u * u * 8.0) as usize, rng.gen::<f64>())
        })
        .collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1));
    list
}

/// A window cap is impossible when one group alone has more than `max · ⌊n/w⌋ + min(max, n mod w)`
/// items (the most any group can hold in `n` slots).
fn cap_impossible(list: &[(usize, f64)], window: usize, max: usize) -> bool {
    let n = list.len();
    let limit = max * (n / window) + max.min(n % window);
    (0..8).any(|g| list.iter().filter(|x| x.0 == g).count() > limit)
}

fn share_of(list: &[(usize, f64)], g: usize, k: usize) -> f64 {
    exposure_share(list, |x| x.0, k)
        .into_iter()
        .find(|(h, _)| *h == g)
        .map_or(0.0, |(_, s)| s)
}

fn rerank_table() {
    let seeds = 200u64;
    println!("\nFair re-ranking: 100 scored candidates (scores uniform in [0, 1), group of each drawn as ⌊8u²⌋, so group 0 holds about 35 %), {seeds} seeds. A cap is impossible when one group alone exceeds what the cap allows in 100 slots.\n");
    println!(
        "| order | cap | lists | adjacent pairs | window violations | NDCG@100 | Kendall tau |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (window, max) in [(5usize, 2usize), (4, 1), (3, 1)] {
        let ranker = FairRanker::params()
            .window(window, max)
            .check()
            .expect("valid cap");
        // [possible, impossible]: lists, adjacent pairs before, after, violations, ndcg, tau
        let mut acc = [[0.0f64; 6]; 2];
        for seed in 0..seeds {
            let list = scored_list(seed);
            let which = usize::from(cap_impossible(&list, window, max));
            let a = &mut acc[which];
            a[0] += 1.0;
            a[1] += adjacent_same_group(&list, |x| x.0) as f64;
            let r = ranker
                .rerank(list, |x| x.1, |x| x.0)
                .expect("finite scores");
            a[2] += adjacent_same_group(&r.items, |x| x.0) as f64;
            a[3] += r.report.window_violations as f64;
            a[4] += r.report.ndcg;
            a[5] += r.report.kendall_tau;
        }
        for (which, label) in [(0, "possible"), (1, "impossible")] {
            let a = acc[which];
            if a[0] == 0.0 {
                continue;
            }
            let k = a[0];
            println!(
                "| by score | {max} per {window}, {label} | {} | {:.1} | - | 1.000 | 1.000 |",
                k,
                a[1] / k
            );
            println!(
                "| FairRanker | {max} per {window}, {label} | {} | {:.1} | {:.2} | {:.3} | {:.3} |",
                k,
                a[2] / k,
                a[3] / k,
                a[4] / k,
                a[5] / k
            );
        }
    }

    println!("\nExposure targets: the same lists, every group targeted at 1/8 of the top 10 (DetGreedy), no window cap; share of group 0 in the top 10, and the largest distance of any group's top-10 share from 1/8.\n");
    println!(
        "| order | group 0 share @10 | max miss from 1/8 @10 | target relaxations | NDCG@100 |"
    );
    println!("| --- | --- | --- | --- | --- |");
    let ranker = FairRanker::params()
        .targets((0..8).map(|g| (g, 1.0 / 8.0)), 10)
        .check()
        .expect("valid targets");
    let miss = |list: &[(usize, f64)]| {
        (0..8)
            .map(|g| (share_of(list, g, 10) - 0.125).abs())
            .fold(0.0, f64::max)
    };
    let (mut s0, mut m0, mut s1, mut m1, mut relax, mut nd) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for seed in 0..seeds {
        let list = scored_list(seed);
        s0 += share_of(&list, 0, 10);
        m0 += miss(&list);
        let r = ranker
            .rerank(list, |x| x.1, |x| x.0)
            .expect("finite scores");
        s1 += share_of(&r.items, 0, 10);
        m1 += miss(&r.items);
        relax += r.report.target_relaxations as f64;
        nd += r.report.ndcg;
    }
    let k = seeds as f64;
    println!("| by score | {:.3} | {:.3} | - | 1.000 |", s0 / k, m0 / k);
    println!(
        "| FairRanker | {:.3} | {:.3} | {:.2} | {:.3} |",
        s1 / k,
        m1 / k,
        relax / k,
        nd / k
    );
}
