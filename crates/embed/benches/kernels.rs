//! What this CPU's matrix kernels can do on an encoder's shapes: the ceiling against which
//! the encoder's own throughput (tokens per second in `embed_compare` and `fit_scaling`) is
//! read.
//!
//! ```text
//! cargo bench -p groundrec-embed --bench kernels -- [--tokens 2496] [--hidden 384] [--ff 1536]
//!     [--seconds 3] [--threads 2]
//! ```
//!
//! For the four dense products of a BERT layer (fused Q/K/V `hidden → 3·hidden`, attention
//! output `hidden → hidden`, feed-forward `hidden → ff` and `ff → hidden`) over `--tokens` rows
//! (default: a batch of 32 documents of 78 tokens, the generated catalogue's mean), in float32
//! (libtorch's `linear`), bfloat16 (`linear` on bfloat16 tensors) and int8 (FBGEMM's dynamically
//! quantised kernel, the one the encoder's `Precision::Int8` calls, here with one weight scale
//! per tensor): the median seconds of a layer's four products and the throughput in GOP/s
//! (2 operations per multiply-add). One JSON line per format on stdout.
//!
//! Dense products are nearly all of an encoder's arithmetic: with hidden 384 and ff 1536 a
//! token costs 2 · (384·1152 + 384·384 + 2·384·1536) = 3.54 M operations per layer, the
//! attention scores and weights 4 · 384 · length more (0.12 M at 78 tokens).

use std::time::Instant;

use tch::{Kind, Scalar, Tensor};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(name: &str, default: i64) -> i64 {
    arg(name).and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// One dense layer's weights in the three formats.
struct Dense {
    f32: (Tensor, Tensor),
    bf16: (Tensor, Tensor),
    /// int8 weights, packed weights, column offsets, the weight scale, zero bias, bias.
    int8: (Tensor, Tensor, Tensor, f64, Tensor, Tensor),
}

impl Dense {
    fn new(inputs: i64, outputs: i64) -> Dense {
        let w = Tensor::randn([outputs, inputs], (Kind::Float, tch::Device::Cpu)) * 0.05;
        let b = Tensor::randn([outputs], (Kind::Float, tch::Device::Cpu)) * 0.01;
        let scale = w.abs().max().double_value(&[]) / 127.0;
        let q = (&w / scale)
            .round()
            .clamp(-127.0, 127.0)
            .to_kind(Kind::Int8);
        let col_offsets = q
            .to_kind(Kind::Int)
            .sum_dim_intlist([1i64].as_slice(), false, Kind::Int);
        let packed = q.fbgemm_pack_quantized_matrix();
        Dense {
            bf16: (w.to_kind(Kind::BFloat16), b.to_kind(Kind::BFloat16)),
            int8: (
                q,
                packed,
                col_offsets,
                scale,
                b.zeros_like(),
                b.shallow_clone(),
            ),
            f32: (w, b),
        }
    }

    fn run(&self, format: &str, x: &Tensor) -> Tensor {
        match format {
            "f32" => x.linear(&self.f32.0, Some(&self.f32.1)),
            "bf16" => x.linear(&self.bf16.0, Some(&self.bf16.1)),
            _ => {
                let (q, packed, cols, scale, zero, b) = &self.int8;
                x.fbgemm_linear_int8_weight_fp32_activation(
                    q,
                    packed,
                    cols,
                    Scalar::float(*scale),
                    Scalar::int(0),
                    zero,
                ) + b
            }
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (tokens, hidden, ff) = (
        num("--tokens", 32 * 78),
        num("--hidden", 384),
        num("--ff", 1536),
    );
    let seconds = arg("--seconds")
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(3.0);
    tch::set_num_threads(num("--threads", 2) as i32);
    tch::manual_seed(7);
    let shapes = [
        (hidden, 3 * hidden),
        (hidden, hidden),
        (hidden, ff),
        (ff, hidden),
    ];
    let layers: Vec<Dense> = shapes.iter().map(|&(i, o)| Dense::new(i, o)).collect();
    let inputs: Vec<Tensor> = shapes
        .iter()
        .map(|&(i, _)| Tensor::randn([tokens, i], (Kind::Float, tch::Device::Cpu)))
        .collect();
    let ops: f64 = shapes
        .iter()
        .map(|&(i, o)| 2.0 * (tokens * i * o) as f64)
        .sum();
    // The flags that choose the kernels: two CPUs here share the model name "AMD EPYC", one
    // with AVX2 only and one with AVX-512, VNNI and BF16.
    #[cfg(target_arch = "x86_64")]
    let cpu = [
        ("avx2", std::arch::is_x86_feature_detected!("avx2")),
        ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        (
            "avx512vnni",
            std::arch::is_x86_feature_detected!("avx512vnni"),
        ),
        (
            "avx512bf16",
            std::arch::is_x86_feature_detected!("avx512bf16"),
        ),
    ]
    .iter()
    .filter(|f| f.1)
    .map(|f| f.0)
    .collect::<Vec<_>>()
    .join(" ");
    #[cfg(not(target_arch = "x86_64"))]
    let cpu = std::env::consts::ARCH;
    eprintln!("cpu flags: {cpu}; {tokens} tokens, hidden {hidden}, ff {ff}");
    // Formats take turns, one layer's four products at a time, so that a change in the
    // machine's speed touches every format alike.
    let formats = ["f32", "int8", "bf16"];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); formats.len()];
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds * formats.len() as f64 || times[0].len() < 5 {
        for (f, format) in formats.iter().enumerate() {
            let x: Vec<Tensor> = if *format == "bf16" {
                inputs.iter().map(|x| x.to_kind(Kind::BFloat16)).collect()
            } else {
                inputs.iter().map(Tensor::shallow_clone).collect()
            };
            let t = Instant::now();
            for (layer, x) in layers.iter().zip(&x) {
                let _ = layer.run(format, x);
            }
            times[f].push(t.elapsed().as_secs_f64());
        }
    }
    for (format, t) in formats.iter().zip(times.iter_mut()) {
        t.sort_by(f64::total_cmp);
        let median = t[t.len() / 2];
        println!(
            "{{\"bench\": \"kernels\", \"format\": \"{format}\", \"tokens\": {tokens}, \"runs\": {}, \"median_s\": {median:.6}, \"gops\": {:.1}}}",
            t.len(),
            ops / median / 1e9
        );
    }
}
