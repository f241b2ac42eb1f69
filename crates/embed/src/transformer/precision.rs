//! The numeric format of the encoder's dense layers, and how `Auto` picks one.

use serde::{Deserialize, Serialize};

/// Numeric format of the encoder's dense layers (the matrix products that take nearly all of
/// the time); layer norms, attention scores, pooling and the output are float32 in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Precision {
    /// The fastest format of this CPU that keeps every probe text's vector within cosine
    /// [`PRECISION_GATE`] of float32's (default). When the model loads, each format this CPU
    /// may run faster (`Int8` on x86-64 with AVX2, which FBGEMM's kernels need; `Bf16` where
    /// the CPU has AVX-512 BF16, as every CPU with AMX does) embeds [`PRECISION_PROBES`]; a
    /// format that passes the gate is timed on them against float32, and it replaces the
    /// fastest so far only when it is at least [`AUTO_MARGIN`] times as fast. Off the CPU, or
    /// without the fused forward pass (DistilBERT), it is `F32`. The choice follows the
    /// machine (bf16 ran slower than float32 on one AVX-512 BF16 CPU and faster on another,
    /// docs/benchmarks.md), so two machines may run different formats of the same model; on
    /// one machine, formats within the margin of each other keep the earlier one. What was
    /// measured is in [`crate::TransformerEmbedder::auto_trials`], what runs in
    /// [`crate::TransformerEmbedder::precision`].
    #[default]
    Auto,
    /// float32 throughout, as sentence-transformers runs by default.
    F32,
    /// int8 weights, symmetric per output channel, with activations quantised per token
    /// (FBGEMM's dynamically quantised kernel). Where the CPU lacks AVX-512 VNNI the weights
    /// use 7 bits (±64), because FBGEMM's AVX2 kernel adds pairs of products in saturating
    /// 16-bit lanes. CPU, fused path only.
    Int8,
    /// bfloat16 weights and activations through the encoder's layers (the embeddings, their
    /// layer norm and the pooling in float32; libtorch accumulates products and norms in
    /// float32): oneDNN's kernels where the CPU has AMX or AVX-512 BF16; CPU or CUDA, fused
    /// path only.
    Bf16,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Auto => "auto",
            Precision::F32 => "f32",
            Precision::Int8 => "int8",
            Precision::Bf16 => "bf16",
        })
    }
}

impl std::str::FromStr for Precision {
    type Err = crate::EmbedError;

    /// `auto`, `f32`, `int8` or `bf16` (as [`Precision`]'s `Display` writes them).
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Precision::Auto),
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "int8" => Ok(Precision::Int8),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            _ => Err(crate::EmbedError::param(
                "precision",
                format!("{s:?} is not one of auto, f32, int8, bf16"),
            )),
        }
    }
}

/// Lowest cosine to float32, over every probe, that `Precision::Auto` accepts.
pub const PRECISION_GATE: f32 = 0.99;

/// How much faster on the probes (time ratio) a format must run than the fastest one before
/// it for `Precision::Auto` to take it: timings on a shared machine vary by a few per cent,
/// and a margin keeps near-equal formats from trading places between loads.
pub const AUTO_MARGIN: f32 = 1.1;

/// What `Precision::Auto` measured of one format when the model loaded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionTrial {
    /// The format tried.
    pub precision: Precision,
    /// Its lowest cosine to float32 over [`PRECISION_PROBES`].
    pub worst_cosine: f32,
    /// Float32's probe time over this format's (2.0: twice as fast); `None` when it failed the
    /// gate and was not timed.
    pub speedup: Option<f32>,
}

impl PrecisionTrial {
    /// `trials` on one line, comma-separated, as the embedder's description shows them.
    pub fn list(trials: &[PrecisionTrial]) -> String {
        let each: Vec<String> = trials.iter().map(|t| t.to_string()).collect();
        each.join(", ")
    }
}

impl std::fmt::Display for PrecisionTrial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} cosine {:.4}", self.precision, self.worst_cosine)?;
        match self.speedup {
            Some(s) => write!(f, " {s:.2}x"),
            None => f.write_str(" below the gate"),
        }
    }
}

/// The texts `Precision::Auto` checks a faster format on (Korean, English and mixed, short
/// and long, as lecture titles and descriptions are).
pub const PRECISION_PROBES: [&str; 16] = [
    "분수의 덧셈과 뺄셈",
    "Adding and subtracting fractions",
    "조선 시대의 정치 제도와 세종대왕의 한글 창제 과정을 살펴봅니다.",
    "The politics of the Joseon dynasty and how King Sejong created Hangul.",
    "파이썬으로 배우는 데이터 분석 입문: 판다스와 시각화",
    "Introduction to data analysis with Python: pandas and plotting",
    "광합성의 원리와 엽록체의 구조",
    "How photosynthesis works and the structure of chloroplasts",
    "scikit-learn으로 붓꽃 데이터를 분류하는 실습입니다.",
    "Classifying the iris data set with scikit-learn, step by step.",
    "중급 영어 회화: 여행에서 쓰는 표현",
    "Intermediate English conversation for travel",
    "경사 하강법으로 선형 회귀 모델을 학습하고 학습률에 따라 손실 함수가 줄어드는 모습을 확인합니다.",
    "Gradient descent for linear regression: watch the loss fall as the learning rate changes.",
    "재즈 피아노 즉흥 연주",
    "Jazz piano improvisation",
];

/// The formats `Auto` tries on this machine, in order (float32 is the fallback).
pub(crate) fn auto_candidates(on_cpu: bool, fused: bool) -> Vec<Precision> {
    let mut out = Vec::new();
    if on_cpu && fused && int8_kernels() {
        out.push(Precision::Int8);
    }
    if on_cpu && fused && bf16_kernels() {
        out.push(Precision::Bf16);
    }
    out
}

/// Whether FBGEMM's int8 kernels run here (x86-64 with AVX2).
pub(crate) fn int8_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The largest int8 weight magnitude (the scale of row `j` is `max |w_j| / levels`): 127 where FBGEMM sums
/// products in 32 bits (AVX-512 VNNI's `vpdpbusd`), 64 elsewhere. Without VNNI its kernel uses
/// `vpmaddubsw`, which adds two unsigned-activation × signed-weight products into a saturating
/// 16-bit lane: 255 · 127 · 2 overflows it, 255 · 64 · 2 = 32,640 does not. (PyTorch's own
/// answer is `reduce_range`, one bit off the activations; FBGEMM's entry point here quantises
/// them itself, so the bit comes off the weights.)
pub(crate) fn int8_weight_levels() -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512vnni") {
            return 127.0;
        }
    }
    64.0
}

/// Whether the CPU multiplies bfloat16 natively (AVX-512 BF16; every CPU with AMX-BF16 has
/// it too, and AMX's detection is not stable Rust), so that oneDNN's bf16 kernels may beat
/// float32; without it bf16 is emulated and slower.
fn bf16_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Which of `trials` `Auto` runs: starting from float32, each format that passed the gate
/// replaces the fastest so far when it is at least [`AUTO_MARGIN`] times as fast.
pub(crate) fn pick(trials: &[PrecisionTrial]) -> Precision {
    let mut best = (Precision::F32, 1.0f32);
    for t in trials {
        if let Some(s) = t.speedup {
            if t.worst_cosine >= PRECISION_GATE && s >= best.1 * AUTO_MARGIN {
                best = (t.precision, s);
            }
        }
    }
    best.0
}

/// Lowest cosine between matching rows of two matrices (0 for a zero row).
pub(crate) fn worst_cosine(a: &ndarray::Array2<f32>, b: &ndarray::Array2<f32>) -> f32 {
    a.rows()
        .into_iter()
        .zip(b.rows())
        .map(|(x, y)| {
            let n = (x.dot(&x) * y.dot(&y)).sqrt();
            if n > 0.0 {
                x.dot(&y) / n
            } else {
                0.0
            }
        })
        .fold(1.0f32, f32::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_cosine_is_the_lowest_row() {
        let a = ndarray::array![[1.0f32, 0.0], [0.0, 2.0], [1.0, 1.0]];
        let b = ndarray::array![[2.0f32, 0.0], [0.0, 1.0], [1.0, 0.0]];
        assert!((worst_cosine(&a, &b) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(worst_cosine(&a, &a.clone()), 1.0);
    }

    #[test]
    fn precisions_read_back_what_they_print() {
        for p in [
            Precision::Auto,
            Precision::F32,
            Precision::Int8,
            Precision::Bf16,
        ] {
            assert_eq!(p.to_string().parse::<Precision>().expect("known"), p);
        }
        assert!("int4".parse::<Precision>().is_err());
    }

    #[test]
    fn auto_tries_nothing_off_the_cpu_or_the_fused_path() {
        assert!(auto_candidates(false, true).is_empty());
        assert!(auto_candidates(true, false).is_empty());
        let here = auto_candidates(true, true);
        assert_eq!(here.contains(&Precision::Int8), int8_kernels());
        assert_eq!(here.contains(&Precision::Bf16), bf16_kernels());
    }

    fn trial(precision: Precision, worst_cosine: f32, speedup: Option<f32>) -> PrecisionTrial {
        PrecisionTrial {
            precision,
            worst_cosine,
            speedup,
        }
    }

    #[test]
    fn pick_takes_the_fastest_that_passes_by_the_margin() {
        use Precision::*;
        assert_eq!(pick(&[]), F32);
        // Below the gate, or not faster by the margin: float32 stays.
        assert_eq!(pick(&[trial(Int8, 0.98, None)]), F32);
        assert_eq!(pick(&[trial(Int8, 0.995, Some(1.05))]), F32);
        assert_eq!(pick(&[trial(Bf16, 0.9999, Some(0.66))]), F32);
        // A later format must beat the earlier one by the margin, not just float32.
        let int8 = trial(Int8, 0.995, Some(2.0));
        assert_eq!(pick(&[int8, trial(Bf16, 0.9999, Some(2.1))]), Int8);
        assert_eq!(pick(&[int8, trial(Bf16, 0.9999, Some(2.3))]), Bf16);
        assert_eq!(
            pick(&[trial(Int8, 0.98, None), trial(Bf16, 0.9999, Some(1.5))]),
            Bf16
        );
        // A speed without a passing cosine is never taken.
        assert_eq!(pick(&[trial(Int8, 0.98, Some(3.0))]), F32);
    }

    #[test]
    fn trials_say_what_was_measured() {
        let t = trial(Precision::Int8, 0.99021, Some(1.934));
        assert_eq!(t.to_string(), "int8 cosine 0.9902 1.93x");
        let below = trial(Precision::Int8, 0.982, None);
        assert_eq!(below.to_string(), "int8 cosine 0.9820 below the gate");
        assert_eq!(
            PrecisionTrial::list(&[below, trial(Precision::Bf16, 0.99994, Some(1.5))]),
            "int8 cosine 0.9820 below the gate, bf16 cosine 0.9999 1.50x"
        );
        assert_eq!(PrecisionTrial::list(&[]), "");
    }
}
