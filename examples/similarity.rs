//! Embeds a few English and Korean lecture titles with both bundled models and prints their
//! cosine similarities.
//!
//! ```text
//! scripts/demo            # installs what is missing, then runs this example
//! cargo run --release --example similarity [-- MODELS_DIR]
//! ```

use std::path::PathBuf;

use groundrec::embed::{cosine_similarity, Embedder, TransformerEmbedder};

const TITLES: &[&str] = &[
    "Adding and subtracting fractions",
    "분수의 덧셈과 뺄셈",
    "Introduction to machine learning",
    "머신러닝 입문",
    "Korean cooking for beginners",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let models = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"));
    for (name, prefix) in [
        ("all-MiniLM-L6-v2", ""),
        ("multilingual-e5-small", "query: "),
    ] {
        let dir = models.join(name);
        let t = std::time::Instant::now();
        let model = TransformerEmbedder::builder(&dir).prefix(prefix).build()?;
        let m = model.embed(TITLES)?;
        let sim = cosine_similarity(m.view(), m.view())?;
        println!(
            "\n{name} (dim {}, loaded and embedded in {:.2?})",
            model.dim(),
            t.elapsed()
        );
        print!("{:>36}", "");
        for j in 0..TITLES.len() {
            print!("  [{j}] ");
        }
        println!();
        for (i, title) in TITLES.iter().enumerate() {
            print!("[{i}] {:<32}", title);
            for j in 0..TITLES.len() {
                print!(" {:+.2}", sim[[i, j]]);
            }
            println!();
        }
        let ko_en = sim[[1, 0]];
        let ko_other = sim[[1, 2]].max(sim[[1, 4]]);
        println!(
            "'{}' vs its translation {ko_en:.3}, vs the closest unrelated English title {ko_other:.3}",
            TITLES[1]
        );
    }
    Ok(())
}
