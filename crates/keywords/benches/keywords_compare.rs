//! Bench binary for `scripts/compare keywords`: KeyBERT's benchmark setting on the anchor's
//! documents (one per line): (1, 2)-grams, English stopwords, top 5, cosine and MMR 0.5, the
//! whole list in one call; prints one JSON line.
//!
//! ```text
//! cargo bench -p groundrec-keywords --bench keywords_compare -- --docs FILE \
//!     [--model models/all-MiniLM-L6-v2] [--threads 2] [--batch-size 32] [--repeats 1] [--precision auto|f32|int8|bf16]
//! ```

use std::time::Instant;

use groundrec_embed::{Precision, PrecisionTrial, TransformerEmbedder};
use groundrec_keywords::{Diversity, KeywordExtractor, KeywordParams, NgramCandidates};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let Some(docs_path) = arg(&args, "--docs") else {
        eprintln!("keywords_compare: pass --docs FILE (see scripts/compare keywords); skipping");
        return Ok(());
    };
    let model = arg(&args, "--model").unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/all-MiniLM-L6-v2").to_string()
    });
    let threads: usize = arg(&args, "--threads").map_or(Ok(2), |s| s.parse())?;
    let batch: usize = arg(&args, "--batch-size").map_or(Ok(32), |s| s.parse())?;
    let repeats: usize = arg(&args, "--repeats").map_or(Ok(1), |s| s.parse())?;
    let precision: Precision =
        arg(&args, "--precision").map_or(Ok(Precision::Auto), |s| s.parse())?;
    let text = std::fs::read_to_string(&docs_path)?;
    let docs: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();

    let mut times = Vec::new();
    let mut ran = precision;
    let mut trials = String::new();
    let mut first = Vec::new();
    for diversity in [Diversity::None, Diversity::Mmr { diversity: 0.5 }] {
        let embedder = TransformerEmbedder::builder(&model)
            .batch_size(batch)
            .workers(threads)
            .precision(precision)
            .build()?;
        ran = embedder.precision();
        trials = PrecisionTrial::list(embedder.auto_trials());
        let x = KeywordExtractor::new(
            embedder,
            NgramCandidates::new(1, 2)?,
            KeywordParams::default()
                .top_n(5)
                .diversity(diversity)
                .check()?,
        );
        x.extract(&docs[..docs.len().min(4)])?; // warm-up
        let mut runs = Vec::new();
        for _ in 0..repeats.max(1) {
            let t = Instant::now();
            let out = x.extract(&docs)?;
            runs.push(t.elapsed().as_secs_f64());
            first = out[0].keywords.iter().map(|k| k.key.clone()).collect();
        }
        runs.sort_by(f64::total_cmp);
        times.push(runs[runs.len() / 2]);
    }
    println!(
        "{{\"bench\": \"keywords_groundrec\", \"n_docs\": {}, \"threads\": {threads}, \"batch_size\": {batch}, \"precision\": \"{ran}\", \"auto_trials\": {trials:?}, \
         \"cosine_s\": {:.3}, \"mmr_s\": {:.3}, \"doc0_cosine\": {first:?}}}",
        docs.len(),
        times[0],
        times[1]
    );
    Ok(())
}
