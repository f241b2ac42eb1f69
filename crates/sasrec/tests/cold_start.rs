//! Content features make items without interactions reachable: a cold-start split where some
//! items never occur in training.

use groundrec_sasrec::{Dataset, ItemIdx, Loss, SasRec, SasRecModel, Split};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOPICS: u32 = 6;
const PER_TOPIC: u32 = 10;
/// The last two items of every topic are cold: held out of training.
const COLD_PER_TOPIC: u32 = 2;

fn topic(item: u32) -> u32 {
    item / PER_TOPIC
}

fn is_cold(item: u32) -> bool {
    item % PER_TOPIC >= PER_TOPIC - COLD_PER_TOPIC
}

/// Users who stay in one topic; their training sequences never contain cold items.
fn data(seed: u64) -> (Dataset, Vec<(u32, Vec<ItemIdx>)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = TOPICS * PER_TOPIC;
    let mut probes = Vec::new();
    let mut seqs = Vec::new();
    for u in 0..240 {
        let t = u % TOPICS;
        let warm = PER_TOPIC - COLD_PER_TOPIC;
        let seq: Vec<ItemIdx> = (0..rng.gen_range(6..12))
            .map(|_| ItemIdx::new(t * PER_TOPIC + rng.gen_range(0..warm)))
            .collect();
        probes.push((t, seq[seq.len() - 4..].to_vec()));
        seqs.push(seq);
    }
    let names = (0..n).map(|i| format!("item{i}")).collect();
    let d = Dataset::from_sequences(names, seqs, Split::None).expect("valid");
    (d, probes)
}

/// Topic one-hot plus noise: what a text embedding of each item's keywords would carry.
fn features(seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = (TOPICS * PER_TOPIC) as usize;
    Array2::from_shape_fn((n, TOPICS as usize + 8), |(i, j)| {
        let item = i as u32;
        let base = if j == topic(item) as usize { 1.0 } else { 0.0 };
        base + rng.gen_range(-0.2..0.2)
    })
}

/// Share of probe users whose best-scoring cold item is from their own topic.
fn cold_hits(model: &SasRecModel, probes: &[(u32, Vec<ItemIdx>)]) -> f64 {
    let histories: Vec<Vec<ItemIdx>> = probes.iter().map(|(_, h)| h.clone()).collect();
    let scores = model.scores(&histories).expect("scores");
    let hits = probes
        .iter()
        .zip(scores.outer_iter())
        .filter(|((t, _), row)| {
            let best = (0..row.len() as u32)
                .filter(|&i| is_cold(i))
                .max_by(|&a, &b| row[a as usize].total_cmp(&row[b as usize]))
                .expect("cold items");
            topic(best) == *t
        })
        .count();
    hits as f64 / probes.len() as f64
}

#[test]
fn content_features_score_cold_items_by_their_content() {
    let (d, probes) = data(11);
    assert!(d
        .train_counts()
        .iter()
        .enumerate()
        .all(|(i, &c)| (c == 0) == is_cold(i as u32)));
    // The sampled softmax never draws a cold item as a negative, and the full softmax leaves
    // them out of its denominator: either way they keep the score their content gives them.
    let auto = Loss::Auto {
        full_up_to: 1000,
        negatives: 8,
    };
    // Row-by-row updates never touch a cold item's row either.
    for (loss, ran, rows) in [
        (Loss::SampledSoftmax { negatives: 16 }, None, false),
        (Loss::SampledSoftmax { negatives: 16 }, None, true),
        (Loss::FullSoftmax, None, false),
        (auto, Some(Loss::FullSoftmax), false),
    ] {
        let params = SasRec::params()
            .row_updates(rows)
            .hidden(16)
            .heads(2)
            .max_len(12)
            .dropout(0.1)
            .learning_rate(5e-3)
            .batch_size(32)
            .epochs(15)
            .early_stopping(None)
            .loss(loss)
            .check()
            .expect("valid");
        let (with, report) = params
            .fit_with_features(&d, features(5).view())
            .expect("trains with features");
        assert_eq!(report.loss, ran.unwrap_or(loss), "{loss}");
        let (without, _) = params.fit(&d).expect("trains without");
        let hits_with = cold_hits(&with, &probes);
        let hits_without = cold_hits(&without, &probes);
        eprintln!("{loss}: best cold item in the user's topic: with features {hits_with:.3}, without {hits_without:.3}");
        // Chance is 1/6.
        assert!(hits_with > 0.9, "{loss}: with features: {hits_with}");
        assert!(
            hits_without < 0.5,
            "{loss}: without features: {hits_without}"
        );
        // Cold items reach recommendation lists through their content: a list as long as the
        // user's unseen topic items holds exactly those, cold ones included, for most users.
        let full_topic = probes
            .iter()
            .filter(|(t, h)| {
                let unseen: Vec<ItemIdx> = (t * PER_TOPIC..(t + 1) * PER_TOPIC)
                    .map(ItemIdx::new)
                    .filter(|i| !h.contains(i))
                    .collect();
                let list = with
                    .recommend_indices(std::slice::from_ref(h), unseen.len(), true)
                    .expect("recommends");
                let mut got: Vec<ItemIdx> = list[0].iter().map(|r| r.index).collect();
                got.sort_unstable();
                got == unseen
            })
            .count() as f64
            / probes.len() as f64;
        assert!(
            full_topic > 0.8,
            "{loss}: lists of exactly the unseen topic items: {full_topic}"
        );
    }
}
