//! How one SASRec training epoch scales with the catalogue at a fixed number of events per
//! item: generated sequences over `--items N` items (users of 6 to 30 items, about
//! `--events-per-item` events per item, a Zipf-like popularity), random unit content features
//! of `--features` columns, the pipeline's training settings (hidden 64, history windows, the
//! sampled softmax with 256 negatives). Prints each epoch with its phases on stderr, one JSON
//! line on stdout.
//!
//! ```text
//! cargo bench -p groundrec-sasrec --bench sasrec_scale -- --items 100000 [--events-per-item 10] \
//!     [--epochs 2] [--features 384] [--negatives 256] [--threads 2] [--seed 42] [--row-updates]
//! ```
//!
//! `--row-updates` turns on `SasRecParams::row_updates` (the pipeline's default).

use std::time::Instant;

use groundrec_sasrec::{
    set_torch_threads, Dataset, EpochLog, ItemIdx, Loss, SasRec, Split, TrainObserver,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct EpochLines;

impl TrainObserver for EpochLines {
    fn epoch(&self, log: &EpochLog) {
        eprintln!("{log}");
    }
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Box<dyn std::error::Error>> {
    match arg(name) {
        Some(s) => s
            .parse()
            .map_err(|_| format!("{name}: cannot read {s:?}").into()),
        None => Ok(default),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--bench") && arg("--items").is_none() {
        eprintln!("sasrec_scale: pass --items N (see the file's docs); skipping");
        return Ok(());
    }
    let n: usize = num("--items", 0)?;
    let per_item: usize = num("--events-per-item", 10)?;
    let epochs: usize = num("--epochs", 2)?;
    let dim: usize = num("--features", 384)?;
    let negatives: usize = num("--negatives", 256)?;
    let threads: usize = num("--threads", 2)?;
    let seed: u64 = num("--seed", 42)?;
    if n < 2 {
        return Err("--items must be at least 2".into());
    }
    set_torch_threads(threads);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Popularity ~ 1 / (rank + 10): sample by inverting the cumulative weights.
    let weights: Vec<f64> = (0..n).map(|r| 1.0 / (r as f64 + 10.0)).collect();
    let mut cum = Vec::with_capacity(n);
    let mut acc = 0.0;
    for w in &weights {
        acc += w;
        cum.push(acc);
    }
    let users = (n * per_item / 18).max(1);
    let seqs: Vec<Vec<ItemIdx>> = (0..users)
        .map(|_| {
            let len = rng.gen_range(6..=30);
            (0..len)
                .map(|_| {
                    let x = rng.gen::<f64>() * acc;
                    let i = cum.partition_point(|&c| c < x).min(n - 1);
                    ItemIdx::new(i as u32)
                })
                .collect()
        })
        .collect();
    let events: usize = seqs.iter().map(Vec::len).sum();
    let ids = (0..n).map(|i| format!("i{i}")).collect();
    let data = Dataset::from_sequences(ids, seqs, Split::LeaveOneOut)?;
    let mut features = Array2::<f32>::zeros((n, dim));
    for mut row in features.rows_mut() {
        row.mapv_inplace(|_| rng.gen::<f32>() - 0.5);
        let norm = row.dot(&row).sqrt().max(1e-6);
        row /= norm;
    }
    let params = SasRec::params()
        .epochs(epochs)
        .history_windows(true)
        .loss(Loss::SampledSoftmax { negatives })
        .early_stopping(None)
        .row_updates(std::env::args().any(|a| a == "--row-updates"))
        .check()?;
    let t = Instant::now();
    let (_, report) = params.fit_observed(&data, Some(features.view()), &EpochLines)?;
    let total = t.elapsed().as_secs_f64();
    let per_epoch: Vec<String> = report
        .epochs
        .iter()
        .map(|e| format!("{:.2}", e.seconds))
        .collect();
    println!(
        "{{\"bench\": \"sasrec_scale\", \"items\": {n}, \"events\": {events}, \"users\": {users}, \"row_updates\": {}, \"epoch_s\": [{}], \"total_s\": {total:.1}}}",
        params.row_updates(),
        per_epoch.join(", ")
    );
    Ok(())
}
