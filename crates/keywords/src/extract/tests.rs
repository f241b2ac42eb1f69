//! Unit tests of the extractor (beside it, in their own file to keep `extract.rs` short).

use super::*;
use crate::candidates::NgramCandidates;
use groundrec_embed::HashingEmbedder;
use proptest::prelude::*;

fn extractor(params: KeywordParams) -> KeywordExtractor<HashingEmbedder, NgramCandidates> {
    KeywordExtractor::new(
        HashingEmbedder::new(256).expect("valid"),
        NgramCandidates::new(1, 2).expect("valid"),
        params.check().expect("valid params"),
    )
}

#[test]
fn the_document_topic_ranks_first() {
    let doc = "Fractions fractions fractions: adding fractions, comparing fractions, and a short note on music.";
    let k = extractor(KeywordParams::default().top_n(3))
        .extract(&[doc])
        .expect("ok");
    assert_eq!(k[0].keywords[0].key, "fractions");
    let spans = &k[0].keywords[0].spans;
    assert!(spans
        .iter()
        .all(|&(s, e)| doc[s..e].eq_ignore_ascii_case("fractions")));
    assert!(k[0].keywords.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn min_df_and_empty_documents() {
    let docs = [
        "linear algebra basics",
        "linear algebra exercises",
        "",
        "the and of",
    ];
    let k = extractor(KeywordParams::default().min_df(2))
        .extract(&docs)
        .expect("ok");
    let keys: Vec<&str> = k[0].keywords.iter().map(|k| k.key.as_str()).collect();
    assert!(
        keys.iter()
            .all(|k| ["linear", "algebra", "linear algebra"].contains(k)),
        "{keys:?}"
    );
    assert!(k[2].keywords.is_empty() && k[3].keywords.is_empty());
}

#[test]
fn max_sum_falls_back_to_mmr_above_the_cap() {
    let doc = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda";
    let capped = extractor(
        KeywordParams::default()
            .top_n(4)
            .diversity(Diversity::MaxSum {
                nr_candidates: 10,
                max_combinations: 5,
            }),
    );
    let r = capped.extract(&[doc]).expect("ok");
    assert!(r[0].fell_back_to_mmr);
    assert_eq!(r[0].keywords.len(), 4);
    let full = extractor(
        KeywordParams::default()
            .top_n(4)
            .diversity(Diversity::MaxSum {
                nr_candidates: 10,
                max_combinations: 1_000,
            }),
    );
    assert!(!full.extract(&[doc]).expect("ok")[0].fell_back_to_mmr);
}

#[test]
fn seeds_pull_keywords_toward_them() {
    let doc = "statistics lecture with probability examples and some history of mathematics";
    let plain = extractor(KeywordParams::default().top_n(1))
        .extract(&[doc])
        .expect("ok");
    let seeded = extractor(KeywordParams::default().top_n(1))
        .extract_with_seeds(
            &[doc],
            &Seeds::Global(vec!["probability".into(), "probabilities".into()]),
        )
        .expect("ok");
    assert!(
        !plain[0].keywords[0].key.contains("probability"),
        "{:?}",
        plain[0].keywords
    );
    assert!(
        seeded[0].keywords[0].key.contains("probability"),
        "{:?}",
        seeded[0].keywords
    );
    let wrong =
        extractor(KeywordParams::default()).extract_with_seeds(&[doc], &Seeds::PerDocument(vec![]));
    assert!(wrong.is_err());
}

#[test]
fn bad_params_are_rejected() {
    let p = KeywordParams::default;
    assert!(p()
        .diversity(Diversity::Mmr { diversity: 1.5 })
        .check()
        .is_err());
    assert!(matches!(
        p().min_df(0).check(),
        Err(KeywordsError::InvalidParam {
            param: "min_df",
            ..
        })
    ));
    assert!(p().max_df(0.0).check().is_err());
    assert!(p().max_df(1.5).check().is_err());
    assert!(p().top_n(5).max_candidates(4).check().is_err());
    assert!(p()
        .top_n(5)
        .diversity(Diversity::MaxSum {
            nr_candidates: 3,
            max_combinations: 10
        })
        .check()
        .is_err());
    let ok = p().top_n(3).max_df(0.5).check().expect("valid");
    assert_eq!((ok.top_n(), ok.max_df(), ok.min_df()), (3, 0.5, 1));
}

/// Counts the texts it is asked to embed.
struct Counting(HashingEmbedder, std::sync::atomic::AtomicUsize);

impl Embedder for Counting {
    fn embed(&self, texts: &[&str]) -> groundrec_embed::Result<Array2<f32>> {
        self.1
            .fetch_add(texts.len(), std::sync::atomic::Ordering::Relaxed);
        self.0.embed(texts)
    }
    fn dim(&self) -> usize {
        self.0.dim()
    }
}

/// An extractor over a [`Counting`] embedder (hashing, 64 dimensions) and (1, 2)-grams.
fn counting(params: KeywordParams) -> KeywordExtractor<Counting, NgramCandidates> {
    KeywordExtractor::new(
        Counting(
            HashingEmbedder::new(64).expect("valid"),
            std::sync::atomic::AtomicUsize::new(0),
        ),
        NgramCandidates::new(1, 2).expect("valid"),
        params.check().expect("valid"),
    )
}

/// How many texts the extractor's embedder has been asked to embed.
fn embedded(x: &KeywordExtractor<Counting, NgramCandidates>) -> usize {
    x.embedder().1.load(std::sync::atomic::Ordering::Relaxed)
}

#[test]
fn a_megabyte_document_embeds_a_bounded_number_of_candidates() {
    // About 1 MB of text with some 60,000 distinct words; "fractions" is the most frequent.
    let mut doc = String::new();
    let mut n = 0u64;
    while doc.len() < 1_000_000 {
        n += 1;
        let w = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) % 60_000;
        doc.push_str(&format!("w{w:x}q "));
        if n.is_multiple_of(7) {
            doc.push_str("fractions, ");
        }
    }
    let x = counting(KeywordParams::default().diversity(Diversity::Mmr { diversity: 0.5 }));
    let out = x.extract(&[doc.as_str(), "fractions"]).expect("extracts");
    let texts = embedded(&x);
    // Candidates of both documents plus the two documents themselves.
    assert!(
        texts <= 2 * DEFAULT_MAX_CANDIDATES + 2,
        "{texts} texts embedded"
    );
    assert_eq!(out[0].keywords.len(), 5);
    let keys: Vec<&str> = out[0].keywords.iter().map(|k| k.key.as_str()).collect();
    assert!(keys.contains(&"fractions"), "{keys:?}");
}

#[test]
fn phrases_outside_the_frequency_bounds_are_never_embedded() {
    let docs: Vec<String> = (0..100)
        .map(|i| format!("topic{i} lecture. Examples and exercises included."))
        .collect();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let run = |p: KeywordParams| {
        let x = counting(p);
        let (out, frequent) = x
            .extract_corpus(&refs, &Seeds::None, &|_, _| {})
            .expect("ok");
        (out, frequent, embedded(&x))
    };
    let (all_out, none_frequent, all) = run(KeywordParams::default());
    let (out, frequent, bounded) = run(KeywordParams::default().max_df(0.5));
    assert!(none_frequent.is_empty());
    assert!(!frequent.is_empty());
    // Every phrase over the ceiling is skipped, and nothing else.
    assert_eq!(all - bounded, frequent.len(), "{frequent:?}");
    // The keywords left are the ones the full run gives minus the frequent phrases.
    for (a, b) in all_out.iter().zip(&out) {
        for k in &b.keywords {
            let same = a.keywords.iter().find(|x| x.key == k.key);
            assert!(!frequent.contains(&k.key));
            if let Some(same) = same {
                assert!((same.score - k.score).abs() < 1e-6);
            }
        }
    }
}

#[test]
fn the_cap_keeps_the_most_frequent_candidates_in_document_order() {
    let c = |key: &str, spans: &[usize]| Candidate {
        key: key.into(),
        surface: key.into(),
        spans: spans.iter().map(|&s| (s, s + 1)).collect(),
    };
    let cands = vec![
        c("a", &[0]),
        c("b", &[1, 5]),
        c("c", &[2]),
        c("d", &[3, 6, 7]),
    ];
    let kept: Vec<String> = cap(cands.clone(), 3).into_iter().map(|c| c.key).collect();
    assert_eq!(kept, ["a", "b", "d"]);
    assert_eq!(cap(cands, 9).len(), 4);
}

#[test]
fn max_df_drops_phrases_most_documents_share() {
    let docs: Vec<String> = (0..100)
        .map(|i| format!("topic{i} lecture. Examples and exercises included."))
        .collect();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let key_sets = |p: KeywordParams| -> Vec<Vec<String>> {
        extractor(p.top_n(8))
            .extract(&refs)
            .expect("ok")
            .into_iter()
            .map(|d| d.keywords.into_iter().map(|k| k.key).collect())
            .collect()
    };
    let shared = |sets: &[Vec<String>]| {
        sets.iter()
            .filter(|k| k.contains(&"exercises".to_string()))
            .count()
    };
    assert_eq!(shared(&key_sets(KeywordParams::default())), 100);
    // Below 100 documents a share means nothing, and nothing is dropped.
    let few: Vec<&str> = refs[..40].to_vec();
    let x = extractor(KeywordParams::default().max_df(0.5).top_n(8));
    let none = &Seeds::None;
    assert!(x
        .extract_corpus(&few, none, &|_, _| {})
        .expect("ok")
        .1
        .is_empty());
    assert_eq!(shared(&key_sets(KeywordParams::default().max_df(0.5))), 0);
    // The phrases the corpus shares, kept out of a document that comes alone later.
    let x = extractor(KeywordParams::default().max_df(0.5).top_n(8));
    let frequent = x
        .extract_corpus(&refs, &Seeds::None, &|_, _| {})
        .expect("ok")
        .1;
    assert!(frequent.contains(&"exercises".to_string()), "{frequent:?}");
    assert!(!frequent.iter().any(|k| k.starts_with("topic")));
    let late = "topic99 lecture. Examples and exercises included.";
    let alone = x.extract(&[late]).expect("ok");
    assert!(alone[0].keywords.iter().any(|k| k.key == "exercises"));
    let x = x.exclude(frequent);
    let alone = x.extract(&[late]).expect("ok");
    assert!(
        alone[0].keywords.iter().all(|k| k.key != "exercises"),
        "{alone:?}"
    );
    assert!(alone[0].keywords.iter().any(|k| k.key == "topic99"));
}

proptest! {
    #[test]
    fn any_text_gives_short_valid_results(docs in proptest::collection::vec(".{0,80}", 0..5), top_n in 0usize..8) {
        for diversity in [Diversity::None, Diversity::Mmr { diversity: 0.5 }, Diversity::MaxSum { nr_candidates: 10, max_combinations: 500 }] {
            let params = KeywordParams::default().top_n(top_n).diversity(diversity);
            let Ok(params) = params.check() else {
                continue;
            };
            let x = KeywordExtractor::new(HashingEmbedder::new(32).expect("valid"), NgramCandidates::new(1, 2).expect("valid"), params);
            let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
            let out = x.extract(&refs).expect("never fails on text");
            prop_assert_eq!(out.len(), refs.len());
            for (d, k) in refs.iter().zip(&out) {
                prop_assert!(k.keywords.len() <= top_n);
                for kw in &k.keywords {
                    prop_assert!(kw.score.is_finite());
                    for &(s, e) in &kw.spans { prop_assert!(d.get(s..e).is_some()); }
                }
            }
        }
    }
}

#[test]
fn corpus_vectors_are_the_ones_the_scores_came_from() {
    let docs = [
        "Fractions and ratios: adding fractions with unlike denominators.",
        "Knife skills: dicing and slicing vegetables safely.",
        "",
        "분수의 덧셈과 뺄셈, fractions for beginners.",
    ];
    let x = extractor(KeywordParams::default().top_n(3));
    let c = x
        .extract_corpus_vectors(&docs, &Seeds::None, &|_, _| {})
        .expect("ok");
    assert_eq!(c.docs, x.extract(&docs).expect("ok"));
    assert_eq!(c.doc_vectors.dim(), (docs.len(), 256));
    assert_eq!(c.keyword_rows.len(), docs.len());
    let mut want = x.embedder().embed(&docs).expect("ok");
    normalize_rows(&mut want);
    for (d, (k, rows)) in c.docs.iter().zip(&c.keyword_rows).enumerate() {
        assert_eq!(rows.len(), k.keywords.len());
        assert!((&c.doc_vectors.row(d) - &want.row(d))
            .iter()
            .all(|v| v.abs() < 1e-6));
        // Each chosen keyword's row scores its document as the keyword says.
        for (kw, &r) in k.keywords.iter().zip(rows) {
            let one = x.embedder().embed(&[kw.key.as_str()]).expect("ok");
            let norm = one.row(0).dot(&one.row(0)).sqrt();
            let row = c.phrase_vectors.row(r);
            assert!(
                (&row - &(one.row(0).to_owned() / norm))
                    .iter()
                    .all(|v| v.abs() < 1e-5),
                "{}",
                kw.key
            );
            assert!((row.dot(&c.doc_vectors.row(d)) - kw.score).abs() < 1e-5);
        }
    }
    assert!(c.keyword_rows[2].is_empty());
}
