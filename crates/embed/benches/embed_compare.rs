//! Bench binary for `scripts/compare embed`: embeds a file of texts (one per line) like
//! `../shared/anchors/embed_st.py` does, and prints one JSON line with the timings.
//!
//! ```text
//! cargo bench -p groundrec-embed --bench embed_compare -- \
//!     --texts FILE [--model models/all-MiniLM-L6-v2] [--batch-size 32] [--threads 2] [--repeats 3]
//! ```
//! Timing: one warm-up on the first 64 texts, then `repeats` timed calls on all texts (cache off).
//!
//! Memory: `--synthetic N` embeds N generated texts (5 to 60 words) instead of a file and
//! reports the process's peak resident memory after loading the model and after embedding
//! (`VmHWM`, Linux), to show that memory grows with the output matrix, not the corpus.

use std::time::Instant;

use groundrec_embed::{Embedder, Precision, PrecisionTrial, TransformerEmbedder};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Peak resident set size of this process in MiB (Linux), 0 elsewhere.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `n` deterministic texts of 5 to 60 words.
fn synthetic(n: usize) -> Vec<String> {
    const WORDS: &[&str] = &[
        "lecture", "fraction", "algebra", "history", "music", "data", "model", "student",
        "chapter", "practice", "theory", "example", "method", "analysis", "course", "science",
        "language", "reading", "writing", "energy", "market", "design", "health", "culture",
        "system",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = 5 + (next() % 56) as usize;
            (0..len)
                .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(n) = arg(&args, "--synthetic") {
        let n: usize = n.parse()?;
        let model = arg(&args, "--model").unwrap_or_else(|| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/all-MiniLM-L6-v2").to_string()
        });
        let texts = synthetic(n);
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let e = TransformerEmbedder::builder(&model).workers(2).build()?;
        let after_load = peak_rss_mib();
        let t = Instant::now();
        let m = e.embed(&refs)?;
        println!(
            "{{\"bench\": \"embed_memory\", \"n\": {n}, \"seconds\": {:.1}, \"peak_rss_mib_after_load\": {after_load:.0}, \
             \"peak_rss_mib_after_embed\": {:.0}, \"output_mib\": {:.0}}}",
            t.elapsed().as_secs_f64(),
            peak_rss_mib(),
            (m.len() * 4) as f64 / (1024.0 * 1024.0)
        );
        return Ok(());
    }
    if args.iter().any(|a| a == "--bench") && arg(&args, "--texts").is_none() {
        // `cargo bench --workspace` runs every bench target; this one needs its inputs.
        eprintln!("embed_compare: pass --texts FILE (see scripts/compare embed); skipping");
        return Ok(());
    }
    let texts_path = arg(&args, "--texts").ok_or("--texts FILE is required")?;
    let model = arg(&args, "--model").unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/all-MiniLM-L6-v2").to_string()
    });
    let batch: usize = arg(&args, "--batch-size").map_or(Ok(32), |s| s.parse())?;
    let threads: usize = arg(&args, "--threads").map_or(Ok(2), |s| s.parse())?;
    let repeats: usize = arg(&args, "--repeats").map_or(Ok(3), |s| s.parse())?;
    let precision: Precision =
        arg(&args, "--precision").map_or(Ok(Precision::Auto), |s| s.parse())?;

    let text = std::fs::read_to_string(&texts_path)?;
    let texts: Vec<&str> = text.lines().collect();
    let t = Instant::now();
    let e = TransformerEmbedder::builder(&model)
        .batch_size(batch)
        .workers(threads)
        .precision(precision)
        .build()?;
    let load_s = t.elapsed().as_secs_f64();
    e.embed(&texts[..texts.len().min(64)])?;
    let mut runs = Vec::new();
    let mut checksum = 0.0f64;
    for _ in 0..repeats {
        let t = Instant::now();
        let m = e.embed(&texts)?;
        runs.push(t.elapsed().as_secs_f64());
        checksum = m.iter().map(|&v| f64::from(v)).sum();
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!(
        "{{\"bench\": \"embed_groundrec\", \"n\": {}, \"batch_size\": {batch}, \"threads\": {threads}, \
         \"load_s\": {load_s:.3}, \"encode_s_runs\": {runs:?}, \"encode_s_median\": {median:.3}, \
         \"sentences_per_s\": {:.1}, \"emb_checksum\": {checksum:.4}, \"precision\": \"{}\", \"gate_cosine\": {}, \"auto_trials\": {:?}}}",
        texts.len(),
        texts.len() as f64 / median,
        e.precision(),
        e.gate_cosine().map_or("null".to_string(), |c| format!("{c:.4}")),
        PrecisionTrial::list(e.auto_trials())
    );
    Ok(())
}
