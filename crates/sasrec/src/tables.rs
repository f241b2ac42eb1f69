//! The item tables and their optimizer.
//!
//! An item table has a row per item, so a dense Adam step over it costs the whole catalogue
//! on every batch: at 100,000 items that was a third of an epoch (docs/benchmarks.md). The
//! tables are therefore kept out of the network's Adam and updated by [`RowAdam`], which runs
//! libtorch's Adam formula on the rows that have a gradient. With sparse gradients
//! ([`SasRecParams::row_updates`](crate::SasRecParams::row_updates)) those are the rows of the
//! step's batch (as PyTorch's `SparseAdam`: a row no batch touches keeps its moments and its
//! value); with dense ones, every row, which is plain Adam.

use tch::{nn, Tensor};

use crate::error::{torch, Result};

/// An item table `[n_items + 1, hidden]` (row 0 is padding).
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) ws: Tensor,
}

impl Table {
    /// A table named `<path>.weight` in the var store, outside its trainable set (so the
    /// network's Adam leaves it to [`RowAdam`]) but with gradients.
    pub(crate) fn new(path: nn::Path<'_>, rows: i64, dim: i64) -> Self {
        let ws = path
            .zeros_no_train("weight", &[rows, dim])
            .set_requires_grad(true);
        Self { ws }
    }

    /// The rows of `ids` (any shape) `[.., dim]`; with `sparse`, the gradient reaching the
    /// table is sparse (only the rows read).
    pub(crate) fn forward(&self, ids: &Tensor, sparse: bool) -> Tensor {
        Tensor::embedding(&self.ws, ids, -1, false, sparse)
    }
}

/// Adam (libtorch's update: bias-corrected moments, `eps` added to the corrected root) over
/// the rows of each parameter that have a gradient.
#[derive(Debug)]
pub(crate) struct RowAdam {
    slots: Vec<Slot>,
    beta1: f64,
    beta2: f64,
    eps: f64,
    step: i32,
}

#[derive(Debug)]
struct Slot {
    param: Tensor,
    m: Tensor,
    v: Tensor,
}

impl RowAdam {
    /// An optimizer of `params` (2-D tensors with gradients) with Adam's `(beta1, beta2)`
    /// and `eps`.
    pub(crate) fn new(params: Vec<Tensor>, (beta1, beta2): (f64, f64), eps: f64) -> Self {
        let slots = params
            .into_iter()
            .map(|param| Slot {
                m: param.zeros_like(),
                v: param.zeros_like(),
                param,
            })
            .collect();
        Self {
            slots,
            beta1,
            beta2,
            eps,
            step: 0,
        }
    }

    /// Clears the parameters' gradients.
    pub(crate) fn zero_grad(&mut self) {
        for s in &mut self.slots {
            s.param.zero_grad();
        }
    }

    /// One Adam step at learning rate `lr`.
    pub(crate) fn step(&mut self, lr: f64) -> Result<()> {
        self.step += 1;
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let bc1 = 1.0 - b1.powi(self.step);
        let bc2 = (1.0 - b2.powi(self.step)).sqrt();
        // Moves `m` and `v` in place with gradient `g` and returns the divisor `d` for which
        // `m / d` is libtorch's Adam step, `-lr * m_hat / (sqrt(v_hat) + eps)`: for whole
        // tables and for gathered rows alike (two temporaries, as libtorch's own Adam).
        let divisor = |m: &mut Tensor, v: &mut Tensor, g: &Tensor| -> Result<Tensor> {
            let _ = m.f_lerp_(g, 1.0 - b1).map_err(torch)?;
            let _ = v.f_lerp_(&g.square(), 1.0 - b2).map_err(torch)?;
            let mut denom = v.sqrt();
            let _ = denom.f_div_scalar_(bc2).map_err(torch)?;
            let _ = denom.f_add_scalar_(eps).map_err(torch)?;
            let _ = denom.f_div_scalar_(-lr / bc1).map_err(torch)?;
            Ok(denom)
        };
        tch::no_grad(|| {
            for s in &mut self.slots {
                let g = s.param.grad();
                if !g.defined() {
                    continue;
                }
                if g.is_sparse() {
                    let g = g.f_coalesce().map_err(torch)?;
                    let rows = g.f_indices().map_err(torch)?.get(0);
                    if rows.numel() == 0 {
                        continue;
                    }
                    let (mut m, mut v) = (s.m.index_select(0, &rows), s.v.index_select(0, &rows));
                    let d = divisor(&mut m, &mut v, &g.f_values().map_err(torch)?)?;
                    let _ = s.m.f_index_copy_(0, &rows, &m).map_err(torch)?;
                    let _ = s.v.f_index_copy_(0, &rows, &v).map_err(torch)?;
                    let _ = s.param.f_index_add_(0, &rows, &(&m / &d)).map_err(torch)?;
                } else {
                    let d = divisor(&mut s.m, &mut s.v, &g)?;
                    let _ = s.param.f_addcdiv_(&s.m, &d).map_err(torch)?;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::OptimizerConfig;
    use tch::Kind;

    /// A 6 x 3 table with gradients, the same for the same seed (no global random generator:
    /// tests run in parallel).
    fn table(seed: i64) -> Tensor {
        let x = Tensor::arange(18, (Kind::Float, tch::Device::Cpu)) + seed as f64;
        (x * 0.77).sin().view([6, 3]).set_requires_grad(true)
    }

    /// A loss reading rows `ids` of `w`, with gradients sparse or dense.
    fn loss(w: &Tensor, ids: &[i64], sparse: bool) -> Tensor {
        let ids = Tensor::from_slice(ids);
        Tensor::embedding(w, &ids, -1, false, sparse)
            .square()
            .sum(Kind::Float)
    }

    #[test]
    fn dense_gradients_follow_libtorchs_adam() {
        let ours = table(1);
        let theirs = table(1);
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let mut opt = nn::Adam {
            beta1: 0.9,
            beta2: 0.98,
            wd: 0.0,
            eps: 1e-8,
            amsgrad: false,
        }
        .build(&vs, 0.01)
        .expect("optimizer");
        // The var store's optimizer over a copy of the table.
        let reference = vs.root().var_copy("w", &theirs);
        let mut row = RowAdam::new(vec![ours.shallow_clone()], (0.9, 0.98), 1e-8);
        for step in 0..5 {
            let ids: &[i64] = if step % 2 == 0 { &[1, 2, 2] } else { &[4, 1] };
            row.zero_grad();
            loss(&ours, ids, false).backward();
            row.step(0.01).expect("steps");
            opt.zero_grad();
            loss(&reference, ids, false).backward();
            opt.step();
        }
        let diff = (&ours - &reference).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
        // Rows never read had zero gradients and stayed put.
        let moved = (&ours - &theirs)
            .abs()
            .sum_dim_intlist(1, false, Kind::Float);
        assert_eq!(moved.double_value(&[0]), 0.0);
        assert!(moved.double_value(&[1]) > 0.0);
    }

    #[test]
    fn sparse_gradients_move_only_the_rows_read_and_match_dense_when_all_are() {
        // Every step reads every row: lazy and dense Adam agree.
        let (a, b) = (table(2), table(2));
        let mut lazy = RowAdam::new(vec![a.shallow_clone()], (0.9, 0.98), 1e-8);
        let mut dense = RowAdam::new(vec![b.shallow_clone()], (0.9, 0.98), 1e-8);
        let all = [0, 1, 2, 3, 4, 5, 3];
        for _ in 0..4 {
            lazy.zero_grad();
            loss(&a, &all, true).backward();
            assert!(a.grad().is_sparse());
            lazy.step(0.05).expect("steps");
            dense.zero_grad();
            loss(&b, &all, false).backward();
            dense.step(0.05).expect("steps");
        }
        let diff = (&a - &b).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
        // Row 5 read once, then never: dense Adam's momentum keeps moving it, lazy Adam not.
        let (c, d) = (table(3), table(3));
        let mut lazy = RowAdam::new(vec![c.shallow_clone()], (0.9, 0.98), 1e-8);
        let mut dense = RowAdam::new(vec![d.shallow_clone()], (0.9, 0.98), 1e-8);
        for step in 0..3 {
            let ids: &[i64] = if step == 0 { &[5, 1] } else { &[1] };
            lazy.zero_grad();
            loss(&c, ids, true).backward();
            lazy.step(0.05).expect("steps");
            if step == 0 {
                let after_first = c.get(5).copy();
                dense.zero_grad();
                loss(&d, ids, false).backward();
                dense.step(0.05).expect("steps");
                // Both took the same first step on row 5.
                let diff = (&after_first - d.get(5)).abs().max().double_value(&[]);
                assert!(diff < 1e-6, "{diff}");
                continue;
            }
            dense.zero_grad();
            loss(&d, ids, false).backward();
            dense.step(0.05).expect("steps");
        }
        let lazy_moved = (c.get(5) - table(3).get(5)).abs().max().double_value(&[]);
        let dense_moved = (d.get(5) - table(3).get(5)).abs().max().double_value(&[]);
        assert!(
            dense_moved > lazy_moved + 1e-4,
            "{dense_moved} {lazy_moved}"
        );
        // Row 1, read every step, moved the same way in both.
        let diff = (c.get(1) - d.get(1)).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
        // Rows never read stayed put.
        let still = (c.get(2) - table(3).get(2)).abs().max().double_value(&[]);
        assert_eq!(still, 0.0);
    }
}
