//! groundrec-keywords with the real models from `scripts/setup`: keyphrases of Korean and
//! English lecture descriptions (Korean nouns through lindera + mecab-ko-dic, MMR diversity).
//!
//! ```text
//! scripts/setup && cargo run --release --example lecture_keywords [-- MODELS_DIR]
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use groundrec::embed::TransformerEmbedder;
use groundrec::keywords::{
    AutoCandidates, Diversity, KeywordExtractor, KeywordParams, KoreanAnalyzer,
    KoreanNounCandidates, NgramCandidates,
};

const DOCS: &[&str] = &[
    "분수의 덧셈과 뺄셈을 배우는 초등학교 수학 강의입니다. 통분과 약분을 예제로 연습합니다.",
    "조선 시대의 정치 제도와 세종대왕의 한글 창제 과정을 살펴봅니다.",
    "An introduction to photosynthesis: how plants turn light, water and carbon dioxide into sugar.",
    "Sorting algorithms compared: bubble sort, merge sort and quicksort, with their running times.",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let models = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"));
    let embedder = TransformerEmbedder::builder(models.join("multilingual-e5-small"))
        .prefix("query: ")
        .build()?;
    let korean =
        KoreanNounCandidates::new(Arc::new(KoreanAnalyzer::load(models.join("ko-dic"))?), 3)?;
    let extractor = KeywordExtractor::new(
        embedder,
        AutoCandidates::new(NgramCandidates::new(1, 2)?, Some(korean)),
        KeywordParams::default()
            .top_n(5)
            .diversity(Diversity::Mmr { diversity: 0.5 })
            .check()?,
    );
    for (doc, kws) in DOCS.iter().zip(extractor.extract(DOCS)?) {
        println!("{doc}");
        let shown: Vec<String> = kws
            .keywords
            .iter()
            .map(|k| format!("{} ({:.2})", k.surface, k.score))
            .collect();
        println!("  -> {}\n", shown.join(", "));
    }
    Ok(())
}
