//! Tests against the real models in `models/` (filled by `scripts/setup`).

use std::path::PathBuf;

use groundrec_embed::{
    cosine_similarity, EmbedError, Embedder, LongText, Precision, TransformerEmbedder, AUTO_MARGIN,
    PRECISION_GATE, PRECISION_PROBES,
};

fn model(name: &str) -> PathBuf {
    let dir = std::env::var_os("GROUNDREC_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
        .join(name);
    assert!(
        dir.join(".complete").is_file(),
        "model {} is missing: run `scripts/setup` first",
        dir.display()
    );
    dir
}

/// The files of a model folder without `modules.json` (so: pooling only, no Normalize).
const BASE_FILES: [&str; 5] = [
    "config.json",
    "sentence_bert_config.json",
    "model.safetensors",
    "tokenizer.json",
    "1_Pooling/config.json",
];

/// A fresh temporary folder holding `files` copied from the model folder `src`.
fn partial_copy(src: &std::path::Path, name: &str, files: &[&str]) -> PathBuf {
    let tmp = std::env::temp_dir().join(format!("groundrec-embed-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for f in files {
        let to = tmp.join(f);
        std::fs::create_dir_all(to.parent().expect("has a parent")).expect("mkdir");
        std::fs::copy(src.join(f), to).expect("copy");
    }
    tmp
}

fn minilm() -> TransformerEmbedder {
    TransformerEmbedder::builder(model("all-MiniLM-L6-v2"))
        .precision(Precision::F32)
        .build()
        .expect("all-MiniLM-L6-v2 loads")
}

/// Korean lecture titles and their English translations, written for this test.
const PAIRS: &[(&str, &str)] = &[
    ("분수의 덧셈과 뺄셈", "Adding and subtracting fractions"),
    ("머신러닝 입문", "Introduction to machine learning"),
    ("초보자를 위한 한식 요리", "Korean cooking for beginners"),
    (
        "고등학교 물리학: 뉴턴의 운동 법칙",
        "High school physics: Newton's laws of motion",
    ),
    ("파이썬 프로그래밍 기초", "Python programming basics"),
    (
        "세계사: 프랑스 혁명",
        "World history: the French Revolution",
    ),
    (
        "영어 회화 중급 과정",
        "Intermediate English conversation course",
    ),
    ("미적분학의 이해", "Understanding calculus"),
    (
        "유기화학 실험 안전 수칙",
        "Safety rules for organic chemistry labs",
    ),
    ("피아노 연주를 위한 화성학", "Harmony for piano players"),
    ("데이터베이스 설계와 SQL", "Database design and SQL"),
    (
        "주식 투자의 기본 원리",
        "Basic principles of stock investing",
    ),
    ("사진 촬영 구도 잡기", "Composition in photography"),
    ("한국 현대 문학 읽기", "Reading modern Korean literature"),
    ("세포 생물학과 유전자", "Cell biology and genes"),
    ("마케팅 전략 수립하기", "Building a marketing strategy"),
    ("요가로 시작하는 아침 운동", "Morning exercise with yoga"),
    ("기초 통계학과 확률", "Basic statistics and probability"),
    (
        "웹 개발을 위한 자바스크립트",
        "JavaScript for web development",
    ),
    (
        "수채화 그리기 입문",
        "Getting started with watercolor painting",
    ),
    (
        "경제학 원론: 수요와 공급",
        "Principles of economics: supply and demand",
    ),
    ("일본어 히라가나 배우기", "Learning Japanese hiragana"),
    ("선형대수와 행렬", "Linear algebra and matrices"),
    ("심리학 개론", "Introduction to psychology"),
    (
        "기후 변화와 환경 보호",
        "Climate change and environmental protection",
    ),
    ("기타 코드 연습", "Guitar chord practice"),
    (
        "회계 원리와 재무제표",
        "Accounting principles and financial statements",
    ),
    ("인공지능 윤리", "Ethics of artificial intelligence"),
    ("삼각형의 넓이 구하기", "Finding the area of a triangle"),
    ("효과적인 발표 기술", "Effective presentation skills"),
];

/// Each Korean title's nearest English title is its translation, in float32 and within one
/// pair of float32 in every other precision (issue #25's gate for what `Auto` may choose).
#[test]
fn korean_titles_find_their_english_translations_with_e5() {
    let ko: Vec<&str> = PAIRS.iter().map(|p| p.0).collect();
    let en: Vec<&str> = PAIRS.iter().map(|p| p.1).collect();
    let misses = |precision: Precision| -> Vec<String> {
        let e5 = TransformerEmbedder::builder(model("multilingual-e5-small"))
            .precision(precision)
            .prefix("query: ")
            .build()
            .expect("multilingual-e5-small loads");
        let sim = cosine_similarity(
            e5.embed(&ko).expect("embed ko").view(),
            e5.embed(&en).expect("embed en").view(),
        )
        .expect("same dim");
        (0..PAIRS.len())
            .filter_map(|i| {
                let best = (0..PAIRS.len())
                    .max_by(|&a, &b| sim[[i, a]].total_cmp(&sim[[i, b]]))
                    .expect("non-empty");
                (best != i).then(|| format!("{} -> {}", PAIRS[i].0, PAIRS[best].1))
            })
            .collect()
    };
    let float = misses(Precision::F32);
    eprintln!(
        "f32: {} of {} pairs found",
        PAIRS.len() - float.len(),
        PAIRS.len()
    );
    let hit_rate = 1.0 - float.len() as f64 / PAIRS.len() as f64;
    assert!(hit_rate >= 0.9, "hit rate {hit_rate:.2}; misses: {float:?}");
    let mut others = vec![Precision::Bf16];
    if avx2() {
        others.push(Precision::Int8);
    }
    for p in others {
        let m = misses(p);
        eprintln!(
            "{p}: {} of {} pairs found",
            PAIRS.len() - m.len(),
            PAIRS.len()
        );
        assert!(
            m.len() <= float.len() + 1,
            "{p}: misses {m:?}, float32's {float:?}"
        );
    }
}

#[test]
fn minilm_rows_are_unit_norm_and_ordered() {
    let m = minilm();
    assert!(format!("{m:?}").contains("forward: \"fused\""), "{m:?}");
    assert_eq!(m.dim(), 384);
    assert!(m.normalized());
    let texts = [
        "A cat sits on the mat.",
        "",
        "Stock markets fell sharply today.",
    ];
    let out = m.embed(&texts).expect("embed");
    assert_eq!(out.dim(), (3, 384));
    for row in out.rows() {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
    // Order is the input order: the same texts in reverse give the reversed rows.
    let rev = m.embed(&[texts[2], texts[1], texts[0]]).expect("embed");
    for i in 0..3 {
        let d = (&out.row(i) - &rev.row(2 - i))
            .mapv(f32::abs)
            .fold(0.0f32, |a, &b| a.max(b));
        assert!(d < 1e-5, "row {i} differs by {d}");
    }
}

#[test]
fn batching_and_padding_do_not_change_vectors() {
    let texts: Vec<String> = (0..23)
        .map(|i| "word ".repeat(1 + (i * 7) % 40) + &format!("number {i}"))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let batched = TransformerEmbedder::builder(model("all-MiniLM-L6-v2"))
        .precision(Precision::F32)
        .batch_size(5)
        .build()
        .expect("loads")
        .embed(&refs)
        .expect("embed");
    let single = minilm();
    for (i, t) in refs.iter().enumerate() {
        let alone = single.embed(&[t]).expect("embed one");
        let d = (&batched.row(i) - &alone.row(0))
            .mapv(f32::abs)
            .fold(0.0f32, |a, &b| a.max(b));
        assert!(d < 1e-4, "text {i} differs by {d} when padded in a batch");
    }
}

#[test]
fn duplicates_get_identical_rows_and_cache_hits_match() {
    let m = TransformerEmbedder::builder(model("all-MiniLM-L6-v2"))
        .precision(Precision::F32)
        .cache_capacity(16)
        .build()
        .expect("loads");
    let out = m
        .embed(&["same text", "other text", "same text"])
        .expect("embed");
    assert_eq!(out.row(0), out.row(2));
    let again = m.embed(&["other text"]).expect("cached");
    assert_eq!(again.row(0), out.row(1));
}

#[test]
fn long_texts_truncate_or_chunk() {
    let long = "The lecture covers fractions, decimals and percentages in depth. ".repeat(60);
    let truncating = minilm();
    assert!(truncating.token_counts(&[&long]).expect("count")[0] > truncating.max_seq_length());
    let chunking = TransformerEmbedder::builder(model("all-MiniLM-L6-v2"))
        .precision(Precision::F32)
        .long_text(LongText::Chunk { overlap: 32 })
        .build()
        .expect("loads");
    let a = truncating.embed(&[&long]).expect("embed");
    let b = chunking.embed(&[&long]).expect("embed");
    let sim = cosine_similarity(a.view(), b.view()).expect("same dim")[[0, 0]];
    // Same repeated content: chunks agree with the first window, but the average is not identical.
    assert!(sim > 0.9 && sim < 0.99999, "similarity {sim}");
}

#[test]
fn broken_folders_give_named_errors() {
    let tmp = std::env::temp_dir().join(format!("groundrec-embed-broken-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("mkdir");
    let src = model("all-MiniLM-L6-v2");
    for f in [
        "config.json",
        "modules.json",
        "sentence_bert_config.json",
        "model.safetensors",
    ] {
        std::fs::copy(src.join(f), tmp.join(f)).expect("copy");
    }
    std::fs::create_dir_all(tmp.join("1_Pooling")).expect("mkdir");
    std::fs::copy(
        src.join("1_Pooling/config.json"),
        tmp.join("1_Pooling/config.json"),
    )
    .expect("copy");
    let err = TransformerEmbedder::from_dir(&tmp).expect_err("no tokenizer");
    assert!(
        matches!(&err, EmbedError::MissingFile { path, .. } if path.ends_with("tokenizer.json")),
        "{err}"
    );

    // Weights of a different shape than config.json describes.
    std::fs::copy(src.join("tokenizer.json"), tmp.join("tokenizer.json")).expect("copy");
    let config = std::fs::read_to_string(src.join("config.json")).expect("read");
    std::fs::write(
        tmp.join("config.json"),
        config.replace("\"intermediate_size\": 1536", "\"intermediate_size\": 1000"),
    )
    .expect("write");
    let err = TransformerEmbedder::from_dir(&tmp).expect_err("shape mismatch");
    assert!(matches!(err, EmbedError::WeightMismatch { .. }), "{err}");

    // A truncated weights file.
    std::fs::copy(src.join("config.json"), tmp.join("config.json")).expect("copy");
    let bytes = std::fs::read(src.join("model.safetensors")).expect("read");
    std::fs::write(tmp.join("model.safetensors"), &bytes[..bytes.len() / 2]).expect("write");
    let err = TransformerEmbedder::from_dir(&tmp).expect_err("truncated");
    assert!(err.to_string().contains("model.safetensors"), "{err}");
    std::fs::remove_dir_all(&tmp).ok();
}

/// Reference vectors made by `scripts/make_embed_fixture.py` with sentence-transformers 3.1.1.
#[test]
fn vectors_match_sentence_transformers() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/reference_vectors.json"))
            .expect("fixture parses");
    let probes: Vec<&str> = fixture["probes"]
        .as_array()
        .expect("probes")
        .iter()
        .map(|p| p.as_str().expect("string"))
        .collect();
    for (name, spec) in fixture["models"].as_object().expect("models") {
        let prefix = spec["prefix"].as_str().expect("prefix");
        let e = TransformerEmbedder::builder(model(name))
            .precision(Precision::F32)
            .prefix(prefix)
            .build()
            .expect("model loads");
        let ours = e.embed(&probes).expect("embed");
        let reference: Vec<f32> = spec["vectors"]
            .as_array()
            .expect("vectors")
            .iter()
            .flat_map(|row| {
                row.as_array()
                    .expect("row")
                    .iter()
                    .map(|v| v.as_f64().expect("number") as f32)
            })
            .collect();
        let reference =
            ndarray::Array2::from_shape_vec((probes.len(), e.dim()), reference).expect("shape");
        let sim = cosine_similarity(ours.view(), reference.view()).expect("same dim");
        for (i, probe) in probes.iter().enumerate() {
            assert!(
                sim[[i, i]] >= 0.999,
                "{name}: probe {i} ({:?}) has cosine {} with sentence-transformers",
                probe.chars().take(40).collect::<String>(),
                sim[[i, i]]
            );
        }
    }
}

/// A BERT folder that brings only `vocab.txt` (older hub layouts) embeds like the same model
/// with its `tokenizer.json`.
#[test]
fn vocab_txt_folders_match_tokenizer_json() {
    let tmp = partial_copy(
        &model("all-MiniLM-L6-v2"),
        "vocab",
        &[
            "config.json",
            "modules.json",
            "sentence_bert_config.json",
            "model.safetensors",
            "vocab.txt",
            "tokenizer_config.json",
            "1_Pooling/config.json",
        ],
    );
    let texts = [
        "Résumé writing for ÜBER beginners",
        "fractions, decimals & percentages!",
        "数据科学",
    ];
    let a = minilm().embed(&texts).expect("embed");
    let b = TransformerEmbedder::builder(&tmp)
        .precision(Precision::F32)
        .build()
        .expect("vocab.txt folder loads")
        .embed(&texts)
        .expect("embed");
    let sim = cosine_similarity(a.view(), b.view()).expect("same dim");
    for i in 0..texts.len() {
        assert!(sim[[i, i]] > 0.9999, "text {i}: cosine {}", sim[[i, i]]);
    }
    std::fs::remove_dir_all(&tmp).ok();
}

/// Two workers on separate batches give the same vectors as one.
#[test]
fn worker_threads_do_not_change_vectors() {
    let texts: Vec<String> = (0..70)
        .map(|i| format!("lecture {i} on {}", "topics ".repeat(i % 9)))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let build = |threads| {
        TransformerEmbedder::builder(model("all-MiniLM-L6-v2"))
            .precision(Precision::F32)
            .batch_size(8)
            .workers(threads)
            .build()
            .expect("loads")
    };
    let one = build(1).embed(&refs).expect("embed");
    let two = build(2).embed(&refs).expect("embed");
    let d = (&one - &two).mapv(f32::abs).fold(0.0f32, |a, &b| a.max(b));
    assert!(d < 1e-5, "max difference {d}");
}

/// A `Dense` module after pooling (as in some sentence-transformers models) is applied:
/// output = tanh(W · pooled + b), then normalised.
#[test]
fn dense_modules_are_applied() {
    let src = model("all-MiniLM-L6-v2");
    let tmp = partial_copy(&src, "dense", &BASE_FILES);
    std::fs::create_dir_all(tmp.join("2_Dense")).expect("mkdir");
    std::fs::write(
        tmp.join("modules.json"),
        r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
            {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"},
            {"idx":3,"name":"3","path":"3_Normalize","type":"sentence_transformers.models.Normalize"}]"#,
    )
    .expect("write");
    std::fs::write(
        tmp.join("2_Dense/config.json"),
        r#"{"in_features": 384, "out_features": 16, "bias": true, "activation_function": "torch.nn.modules.activation.Tanh"}"#,
    )
    .expect("write");
    let w: Vec<f32> = (0..16 * 384)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 500.0)
        .collect();
    let b: Vec<f32> = (0..16).map(|i| i as f32 / 100.0).collect();
    let wt = tch::Tensor::from_slice(&w).view([16, 384]);
    let bt = tch::Tensor::from_slice(&b);
    tch::Tensor::write_safetensors(
        &[("linear.weight", &wt), ("linear.bias", &bt)],
        tmp.join("2_Dense/model.safetensors"),
    )
    .expect("write weights");

    let texts = ["a lecture on fractions", "jazz piano chords"];
    // Reference: the pooled (unnormalised) MiniLM vectors through the same layer by hand.
    let pooled_only = partial_copy(&src, "dense-pooled", &BASE_FILES);
    let pooled = TransformerEmbedder::builder(&pooled_only)
        .precision(Precision::F32)
        .build()
        .expect("loads")
        .embed(&texts)
        .expect("embed");
    let dense = TransformerEmbedder::builder(&tmp)
        .precision(Precision::F32)
        .build()
        .expect("loads with Dense");
    assert_eq!(dense.dim(), 16);
    let out = dense.embed(&texts).expect("embed");
    for (r, row) in pooled.rows().into_iter().enumerate() {
        let mut manual: Vec<f32> = (0..16)
            .map(|o| (b[o] + (0..384).map(|i| w[o * 384 + i] * row[i]).sum::<f32>()).tanh())
            .collect();
        let norm = manual.iter().map(|v| v * v).sum::<f32>().sqrt();
        manual.iter_mut().for_each(|v| *v /= norm);
        for o in 0..16 {
            assert!(
                (out[[r, o]] - manual[o]).abs() < 1e-4,
                "row {r} dim {o}: {} vs {}",
                out[[r, o]],
                manual[o]
            );
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
    std::fs::remove_dir_all(&pooled_only).ok();
}

fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn avx512_bf16() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Each precision against float32 on the gate's probes: int8 moves the (unit-length) vectors
/// a little for BERT (MiniLM) and XLM-RoBERTa (e5) encoders, bf16 less. `Auto` tries the
/// formats this CPU runs natively, reports the cosines measured here, times only those that
/// pass the gate, runs one that passed and was fastest within the margin, and says so.
#[test]
fn precisions_stay_close_to_float_and_auto_keeps_only_what_passes() {
    let worst = |a: &ndarray::Array2<f32>, b: &ndarray::Array2<f32>| {
        a.rows()
            .into_iter()
            .zip(b.rows())
            .map(|(x, y)| x.dot(&y))
            .fold(1.0f32, f32::min)
    };
    for name in ["all-MiniLM-L6-v2", "multilingual-e5-small"] {
        let build = |p| {
            TransformerEmbedder::builder(model(name))
                .precision(p)
                .build()
                .expect("loads")
        };
        let embed = |e: &TransformerEmbedder| e.embed(&PRECISION_PROBES).expect("embed");
        let float = embed(&build(Precision::F32));
        let int8 = worst(&float, &embed(&build(Precision::Int8)));
        let bf16 = worst(&float, &embed(&build(Precision::Bf16)));
        let auto = build(Precision::Auto);
        let trials: Vec<String> = auto.auto_trials().iter().map(|t| t.to_string()).collect();
        eprintln!(
            "{name}: worst probe cosine to f32: int8 {int8:.4}, bf16 {bf16:.4}; auto tried [{}], chose {} (gate cosine {:?})",
            trials.join(", "),
            auto.precision(),
            auto.gate_cosine()
        );
        assert!(int8 > 0.95, "{name}: int8 worst {int8}");
        assert!(bf16 >= PRECISION_GATE, "{name}: bf16 worst {bf16}");
        let tried: Vec<Precision> = auto.auto_trials().iter().map(|t| t.precision).collect();
        let mut expected_tried = Vec::new();
        if avx2() {
            expected_tried.push(Precision::Int8);
        }
        if avx512_bf16() {
            expected_tried.push(Precision::Bf16);
        }
        assert_eq!(tried, expected_tried, "{name}");
        for t in auto.auto_trials() {
            let measured = if t.precision == Precision::Int8 {
                int8
            } else {
                bf16
            };
            assert!(
                (t.worst_cosine - measured).abs() < 1e-4,
                "{name}: {t} vs {measured}"
            );
            assert_eq!(
                t.speedup.is_some(),
                t.worst_cosine >= PRECISION_GATE,
                "{name}: {t}"
            );
        }
        // What it chose passed the gate, and nothing that passed ran faster by the margin.
        let chosen_speed = match auto
            .auto_trials()
            .iter()
            .find(|t| t.precision == auto.precision())
        {
            Some(t) => {
                assert!(t.worst_cosine >= PRECISION_GATE, "{name}: {t}");
                let s = t.speedup.expect("timed");
                assert!(s >= AUTO_MARGIN, "{name}: {t}");
                s
            }
            None => {
                assert_eq!(auto.precision(), Precision::F32, "{name}");
                1.0
            }
        };
        for t in auto.auto_trials() {
            if let Some(s) = t.speedup {
                assert!(
                    s < chosen_speed * AUTO_MARGIN,
                    "{name}: {t} beat the choice"
                );
            }
        }
        assert!(auto.describe().contains(&auto.precision().to_string()));
        assert_eq!(auto.gate_cosine().is_some(), !expected_tried.is_empty());
        // What runs is what Auto checked: its vectors are the chosen format's.
        let chosen = embed(&build(auto.precision()));
        assert!(worst(&chosen, &embed(&auto)) > 0.9999);
    }
}
