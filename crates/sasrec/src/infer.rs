//! Serving without libtorch: the trained network's forward pass in plain Rust (ndarray).
//!
//! Training runs on libtorch; a trained model is exported into [`Weights`], whose forward pass
//! gives the same scores (to float rounding, tested against the libtorch network) with no
//! tensor runtime: it is `Send + Sync`, needs no intra-op thread pool (nothing spins while
//! waiting for a core), and its item tables are plain arrays that grow when items are added.
//!
//! Layout: rows are items `0..n` (no padding row); dense layers are stored `[in, out]`, so a
//! layer is `x · w + b`.

use ndarray::{s, Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use crate::item::ItemIdx;
use crate::model::ModelConfig;

/// Layer-norm epsilon of the network (as in the paper's code).
const LN_EPS: f32 = 1e-8;

/// A dense layer `x · w + b`, `w` stored `[in, out]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dense {
    pub(crate) w: Array2<f32>,
    pub(crate) b: Array1<f32>,
}

impl Dense {
    fn apply(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut y = x.dot(&self.w);
        y += &self.b;
        y
    }
}

/// Layer norm over the last axis with gain `g` and bias `b`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Norm {
    pub(crate) g: Array1<f32>,
    pub(crate) b: Array1<f32>,
}

impl Norm {
    fn apply(&self, x: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut out = x.to_owned();
        for mut row in out.rows_mut() {
            let d = row.len() as f32;
            let mean = row.sum() / d;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d;
            let inv = 1.0 / (var + LN_EPS).sqrt();
            for ((v, g), b) in row.iter_mut().zip(&self.g).zip(&self.b) {
                *v = (*v - mean) * inv * g + b;
            }
        }
        out
    }
}

/// One self-attention block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    pub(crate) ln_attn: Norm,
    pub(crate) q: Dense,
    pub(crate) k: Dense,
    pub(crate) v: Dense,
    pub(crate) out: Dense,
    pub(crate) ln_ff: Norm,
    pub(crate) ff1: Dense,
    pub(crate) ff2: Dense,
}

impl Block {
    /// The block whose parts are named `{prefix}.ln_attn`, `{prefix}.q`, ... by `dense` and
    /// `norm` (the exporter and the loader name their sources differently).
    pub(crate) fn from_named<E>(
        prefix: &str,
        dense: impl Fn(&str) -> Result<Dense, E>,
        norm: impl Fn(&str) -> Result<Norm, E>,
    ) -> Result<Self, E> {
        let d = |part: &str| dense(&format!("{prefix}.{part}"));
        let n = |part: &str| norm(&format!("{prefix}.{part}"));
        Ok(Block {
            ln_attn: n("ln_attn")?,
            q: d("q")?,
            k: d("k")?,
            v: d("v")?,
            out: d("out")?,
            ln_ff: n("ln_ff")?,
            ff1: d("ff1")?,
            ff2: d("ff2")?,
        })
    }
}

/// The learned (and frozen) parts of a trained network.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parts {
    /// ID embeddings `[n, d]` (zero for items scored by content alone).
    pub(crate) item: Array2<f32>,
    /// The separate output table `[n, d]`, if any.
    pub(crate) output: Option<Array2<f32>>,
    /// Score bias per item `[n]`, if any.
    pub(crate) bias: Option<Array1<f32>>,
    /// Frozen content features `[n, f]` and their projection `[f, d]`, if any.
    pub(crate) content: Option<(Array2<f32>, Array2<f32>)>,
    /// Position embeddings `[max_len, d]`.
    pub(crate) position: Array2<f32>,
    pub(crate) blocks: Vec<Block>,
    pub(crate) final_ln: Norm,
}

/// Everything a trained model scores with: its parts and the item vectors derived from them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Weights {
    pub(crate) parts: Parts,
    /// Cached: item vectors as the network reads them, `[n, d]`.
    inputs: Array2<f32>,
    /// Cached: item vectors as the network scores them, `[n, d]`.
    targets: Array2<f32>,
}

/// Histories per parallel task when scoring a batch.
const CHUNK: usize = 16;

impl Weights {
    pub(crate) fn new(parts: Parts) -> Self {
        let mut w = Weights {
            inputs: Array2::zeros((0, 0)),
            targets: Array2::zeros((0, 0)),
            parts,
        };
        w.refresh_all();
        w
    }

    /// Number of items.
    pub(crate) fn n_items(&self) -> usize {
        self.parts.item.nrows()
    }

    fn projected(&self, rows: std::ops::Range<usize>) -> Option<Array2<f32>> {
        self.parts
            .content
            .as_ref()
            .map(|(f, proj)| f.slice(s![rows, ..]).dot(proj))
    }

    /// Recomputes the cached input and target vectors of every item.
    fn refresh_all(&mut self) {
        let content = self.projected(0..self.n_items());
        let with = |t: &Array2<f32>| match &content {
            Some(c) => t + c,
            None => t.clone(),
        };
        self.inputs = with(&self.parts.item);
        self.targets = match &self.parts.output {
            Some(o) => with(o),
            None => self.inputs.clone(),
        };
    }

    /// Recomputes the cached vectors of item `i` after its parts changed.
    fn refresh(&mut self, i: usize) {
        let content = self.projected(i..i + 1);
        let row = |t: &Array2<f32>| {
            let mut r = t.row(i).to_owned();
            if let Some(c) = &content {
                r += &c.row(0);
            }
            r
        };
        let input = row(&self.parts.item);
        let target = match &self.parts.output {
            Some(o) => row(o),
            None => input.clone(),
        };
        self.inputs.row_mut(i).assign(&input);
        self.targets.row_mut(i).assign(&target);
    }

    /// Appends items scored by content alone: zero ID embeddings and biases, these features.
    /// The caller checks that the model has content features of this width.
    pub(crate) fn push_items(&mut self, features: ArrayView2<'_, f32>) {
        let k = features.nrows();
        let d = self.parts.item.ncols();
        let grow = |t: &mut Array2<f32>| {
            // Infallible: the zero block has the table's width.
            let _ = t.append(Axis(0), Array2::zeros((k, d)).view());
        };
        grow(&mut self.parts.item);
        if let Some(o) = &mut self.parts.output {
            grow(o);
        }
        if let Some(b) = &mut self.parts.bias {
            let mut v = b.to_vec();
            v.extend(std::iter::repeat_n(0.0, k));
            *b = Array1::from(v);
        }
        if let Some((f, _)) = &mut self.parts.content {
            let _ = f.append(Axis(0), features);
        }
        let start = self.inputs.nrows();
        let _ = self.inputs.append(Axis(0), Array2::zeros((k, d)).view());
        let _ = self.targets.append(Axis(0), Array2::zeros((k, d)).view());
        for i in start..start + k {
            self.refresh(i);
        }
    }

    /// Replaces the content features of item `i` (the caller checks the width).
    pub(crate) fn set_features(&mut self, i: usize, row: ArrayView1<'_, f32>) {
        if let Some((f, _)) = &mut self.parts.content {
            f.row_mut(i).assign(&row);
        }
        self.refresh(i);
    }

    /// Scores `[histories, n]` of every item after each history (each non-empty, indices
    /// checked by the caller, read by its last `max_len` items): the hidden state of the last
    /// position against every item's target vector, plus the item's bias.
    pub(crate) fn scores(&self, config: &ModelConfig, histories: &[&[ItemIdx]]) -> Array2<f32> {
        let hidden: Vec<Array2<f32>> = if histories.len() <= CHUNK {
            vec![self.last_hidden(config, histories)]
        } else {
            histories
                .par_chunks(CHUNK)
                .map(|c| self.last_hidden(config, c))
                .collect()
        };
        let views: Vec<ArrayView2<'_, f32>> = hidden.iter().map(|h| h.view()).collect();
        let h = ndarray::concatenate(Axis(0), &views)
            .unwrap_or_else(|_| Array2::zeros((0, self.parts.item.ncols())));
        let score = |h: ArrayView2<'_, f32>| {
            let mut out = against(h, self.targets.view());
            if let Some(b) = &self.parts.bias {
                out += b;
            }
            out
        };
        if h.nrows() <= CHUNK {
            return score(h.view());
        }
        let parts: Vec<Array2<f32>> = h
            .axis_chunks_iter(Axis(0), CHUNK)
            .into_par_iter()
            .map(score)
            .collect();
        let views: Vec<ArrayView2<'_, f32>> = parts.iter().map(|p| p.view()).collect();
        ndarray::concatenate(Axis(0), &views).unwrap_or_else(|_| Array2::zeros((0, 0)))
    }

    /// The final hidden state `[histories, d]` at the last position of each history.
    fn last_hidden(&self, config: &ModelConfig, histories: &[&[ItemIdx]]) -> Array2<f32> {
        let d = self.parts.item.ncols();
        let max_len = config.max_len;
        let tails: Vec<&[ItemIdx]> = histories
            .iter()
            .map(|h| &h[h.len().saturating_sub(max_len)..])
            .collect();
        // All histories' positions stacked as rows; `spans` marks each history's rows.
        let total: usize = tails.iter().map(|t| t.len()).sum();
        let mut x = Array2::<f32>::zeros((total, d));
        let mut spans = Vec::with_capacity(tails.len());
        let scale = (d as f32).sqrt();
        let mut r = 0;
        for t in &tails {
            let first = max_len - t.len();
            for (j, item) in t.iter().enumerate() {
                let mut row = x.row_mut(r + j);
                row.assign(&self.inputs.row(item.index()));
                row *= scale;
                row += &self.parts.position.row(first + j);
            }
            spans.push((r, r + t.len()));
            r += t.len();
        }
        let heads = config.heads;
        let blocks = self.parts.blocks.len();
        for (b, block) in self.parts.blocks.iter().enumerate() {
            // The last block only needs each history's last position.
            let queries: Vec<usize> = if b + 1 == blocks {
                spans.iter().map(|&(_, e)| e - 1).collect()
            } else {
                (0..total).collect()
            };
            // After the last block, `x` holds one row per history.
            x = block.forward(x.view(), &spans, &queries, heads, config.pre_ln);
        }
        self.parts.final_ln.apply(x.view())
    }
}

/// `h · tᵀ`, `[queries, items]`, for query rows `h` `[q, d]` against many item rows `t`
/// `[n, d]`: each item row is read once and dotted with every query. A GEMM library would
/// first copy ("pack") all of `t` on every call, which for one query and 100,000 items took
/// more time than the products themselves (5.4 ms a request before, 2.0 ms after). The same
/// kernel serves every batch size, so a history gets bit-identical scores alone and in a
/// batch (a GEMM's blocking differs from this loop's summation order).
fn against(h: ArrayView2<'_, f32>, t: ArrayView2<'_, f32>) -> Array2<f32> {
    let (q, n) = (h.nrows(), t.nrows());
    let h = h.as_standard_layout();
    let t = t.as_standard_layout();
    let d = h.ncols();
    let (Some(hs), Some(ts)) = (h.as_slice(), t.as_slice()) else {
        return h.dot(&t.t());
    };
    let mut out = Array2::<f32>::zeros((q, n));
    if d == 0 {
        return out;
    }
    if let Some(o) = out.as_slice_mut() {
        fill(ts, hs, d, o);
    }
    out
}

/// `out[k·n + i] = dot(t_i, h_k)` for item rows `ts` and query rows `hs` of width `d`, each item
/// row read once. Compiled for AVX2 and AVX as well as the baseline and picked at run time
/// (the `multiversion` crate does the detection, so this crate stays free of `unsafe`): the
/// same lane-wise products and sums in each, so every version gives the same bits.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "x86_64+avx"))]
fn fill(ts: &[f32], hs: &[f32], d: usize, out: &mut [f32]) {
    let n = ts.len() / d;
    for (i, row) in ts.chunks_exact(d).enumerate() {
        for (k, query) in hs.chunks_exact(d).enumerate() {
            out[k * n + i] = dot(row, query);
        }
    }
}

/// A dot product in eight lanes (so that the compiler vectorises it; inlined into each
/// version of [`fill`], so each gets the vector width its CPU has).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

impl Block {
    /// The block over stacked rows `x` (histories at `spans`), output rows for `queries` only
    /// (ascending absolute row numbers; every span's rows are keys and values).
    fn forward(
        &self,
        x: ArrayView2<'_, f32>,
        spans: &[(usize, usize)],
        queries: &[usize],
        heads: usize,
        pre_ln: bool,
    ) -> Array2<f32> {
        let pick = |m: ArrayView2<'_, f32>| -> Array2<f32> {
            if queries.len() == m.nrows() {
                m.to_owned()
            } else {
                m.select(Axis(0), queries)
            }
        };
        if pre_ln {
            let h = self.ln_attn.apply(x);
            let a = self.attention(h.view(), h.view(), spans, queries, heads);
            let x = pick(x) + a;
            let h = self.ln_ff.apply(x.view());
            x + self.feed_forward(h.view())
        } else {
            // The paper's layout: queries from LN(x), keys and values from x, residual on LN(x).
            let q = self.ln_attn.apply(x);
            let a = self.attention(q.view(), x, spans, queries, heads);
            let x = pick(q.view()) + a;
            let h = self.ln_ff.apply(x.view());
            let f = self.feed_forward(h.view());
            h + f
        }
    }

    fn feed_forward(&self, h: ArrayView2<'_, f32>) -> Array2<f32> {
        let mut a = self.ff1.apply(h);
        a.mapv_inplace(|v| v.max(0.0));
        self.ff2.apply(a.view())
    }

    /// Causal multi-head attention: query rows `queries` of `q_in` attend to the rows of their
    /// own history in `kv_in` up to and including themselves.
    fn attention(
        &self,
        q_in: ArrayView2<'_, f32>,
        kv_in: ArrayView2<'_, f32>,
        spans: &[(usize, usize)],
        queries: &[usize],
        heads: usize,
    ) -> Array2<f32> {
        let q_rows = if queries.len() == q_in.nrows() {
            q_in.to_owned()
        } else {
            q_in.select(Axis(0), queries)
        };
        let q = self.q.apply(q_rows.view());
        let k = self.k.apply(kv_in);
        let v = self.v.apply(kv_in);
        let d = q.ncols();
        let dh = d / heads;
        let scale = 1.0 / (dh as f32).sqrt();
        let mut out = Array2::<f32>::zeros((queries.len(), d));
        let mut span = 0;
        let mut weights = Vec::new();
        for (qi, &row) in queries.iter().enumerate() {
            while spans[span].1 <= row {
                span += 1;
            }
            let start = spans[span].0;
            for h in 0..heads {
                let cols = h * dh..(h + 1) * dh;
                let qv = q.slice(s![qi, cols.clone()]);
                weights.clear();
                let mut max = f32::NEG_INFINITY;
                for j in start..=row {
                    let s = qv.dot(&k.slice(s![j, cols.clone()])) * scale;
                    max = max.max(s);
                    weights.push(s);
                }
                let mut sum = 0.0;
                for w in weights.iter_mut() {
                    *w = (*w - max).exp();
                    sum += *w;
                }
                let mut o = out.slice_mut(s![qi, cols.clone()]);
                for (w, j) in weights.iter().zip(start..=row) {
                    o.scaled_add(w / sum, &v.slice(s![j, cols.clone()]));
                }
            }
        }
        self.out.apply(out.view())
    }
}
