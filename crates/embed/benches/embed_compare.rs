//! Bench binary for `scripts/compare embed`: embeds a file of texts (one per line) like
//! `../shared/anchors/embed_st.py` does, and prints one JSON line with the timings.
//!
//! ```text
//! cargo bench -p groundrec-embed --bench embed_compare -- \
//!     --texts FILE [--model models/all-MiniLM-L6-v2] [--batch-size 32] [--threads 2] [--repeats 3]
//! ```
//! Timing: one warm-up on the first 64 texts, then `repeats` timed calls on all texts (cache off).

use std::time::Instant;

use groundrec_embed::{Embedder, TransformerEmbedder};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
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

    let text = std::fs::read_to_string(&texts_path)?;
    let texts: Vec<&str> = text.lines().collect();
    let t = Instant::now();
    let e = TransformerEmbedder::builder(&model)
        .batch_size(batch)
        .threads(threads)
        .progress(false)
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
         \"sentences_per_s\": {:.1}, \"emb_checksum\": {checksum:.4}}}",
        texts.len(),
        texts.len() as f64 / median
    );
    Ok(())
}
