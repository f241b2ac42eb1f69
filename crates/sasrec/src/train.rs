//! The training loop: batches of users, negatives outside each user's history, the chosen loss,
//! Adam(0.9, 0.98), early stopping on validation NDCG@10.

use std::collections::HashMap;
use std::time::Instant;

use ndarray::ArrayView2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::OptimizerConfig;
use tch::{Kind, Tensor};

use crate::batches::{Batch, Draw, Sampler, Unit};
use crate::dataset::{Dataset, EvalCase};
use crate::ema::WeightEma;
use crate::error::{torch, Result, SasRecError};
use crate::eval::{evaluate, EvalParams, Evaluation};
use crate::loss::{Loss, NegativeDraw};
use crate::model::Network;
use crate::params::{Protocol, SasRecValidParams};
use crate::rng::torch_rng_lock;
use crate::serve::SasRecModel;
use crate::tables::RowAdam;

/// Adam's betas, as in the paper, for the network and for the item tables alike.
const ADAM_BETAS: (f64, f64) = (0.9, 0.98);
/// Adam's epsilon.
const ADAM_EPS: f64 = 1e-8;

/// Sets libtorch's intra-op thread count for the process (training's threads). Programs call
/// this once at start-up (the facade's `groundrec::set_threads` does, with rayon's pool);
/// libraries never do.
pub fn set_torch_threads(n: usize) {
    tch::set_num_threads(n.max(1) as i32);
}

/// Watches training: called after every step and every epoch. Libraries never print; a
/// command-line program implements this with a progress bar, a test with nothing (`()`).
pub trait TrainObserver: Sync {
    /// Step `step` (1-based) of `steps` in epoch `epoch` is done.
    fn step(&self, epoch: usize, step: usize, steps: usize) {
        let _ = (epoch, step, steps);
    }
    /// An epoch is done (with its validation figures when it was evaluated).
    fn epoch(&self, log: &EpochLog) {
        let _ = log;
    }
}

/// Observes nothing.
impl TrainObserver for () {}

/// One epoch of training as it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch's steps.
    pub loss: f64,
    /// Wall time of the epoch's training steps in seconds (evaluation excluded).
    pub seconds: f64,
    /// Where the epoch's time went.
    pub phases: Phases,
    /// Validation metrics, when this epoch was evaluated.
    pub valid: Option<Evaluation>,
}

/// Seconds of an epoch spent in each phase of the training steps.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Phases {
    /// Building batches and drawing negatives (Rust).
    pub sampling: f64,
    /// The forward pass and the loss.
    pub forward: f64,
    /// Back-propagation.
    pub backward: f64,
    /// The Adam update.
    pub update: f64,
}

impl Phases {
    fn lap(&mut self, since: Instant, field: impl Fn(&mut Phases) -> &mut f64) -> Instant {
        let now = Instant::now();
        *field(self) += (now - since).as_secs_f64();
        now
    }
}

/// What training did: one entry per epoch and the epoch whose weights were kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Every epoch in order.
    pub epochs: Vec<EpochLog>,
    /// The epoch whose weights the model holds (the best validated one with early stopping,
    /// else the last).
    pub best_epoch: usize,
    /// Whether early stopping ended training before the last epoch.
    pub stopped_early: bool,
    /// The loss that trained the model ([`Loss::Auto`] resolved for the dataset's size).
    pub loss: Loss,
}

/// The loss of one batch (a scalar tensor with gradients).
fn batch_loss(net: &Network, s: &Sampler<'_>, b: &Batch, params: &SasRecValidParams) -> Tensor {
    // `fit_observed` resolved `Loss::Auto` before training.
    let (loss, l2, bce_weight) = (params.loss, params.l2_emb, params.bce_weight);
    let smoothing = params.label_smoothing;
    let device = net.vs.device();
    let (n, len) = (b.users.len() as i64, b.len as i64);
    let d = net.score_width();
    let seq = Tensor::from_slice(&b.seq).view([n, len]).to_device(device);
    let pos = Tensor::from_slice(&b.pos).to_device(device);
    let h = net.queries(net.forward_grouped(&seq, params.length_groups, true));
    // Only real positions produce a loss.
    let idx = pos.ne(0).nonzero().squeeze_dim(1);
    let hr = h.view([-1, d]).index_select(0, &idx);
    let p = pos.index_select(0, &idx);
    let sp = (&hr * net.targets_t(&p, true)).sum_dim_intlist(-1, false, Kind::Float);
    let main = match loss {
        Loss::Bce => bce(net, &hr, &sp, &idx, b),
        Loss::GBce { negatives, t } => {
            let (sn, ok) = sampled_logits(net, &h, &hr, &idx, b, negatives);
            // gBCE: the positive's probability raised to beta, from alpha = k / (pool - 1).
            let alpha = negatives as f64 / (s.pool.len().max(2) - 1) as f64;
            let beta = alpha * (t * (1.0 - 1.0 / alpha) + 1.0 / alpha);
            let neg_terms =
                (sn.softplus() * ok.to_kind(Kind::Float)).sum_dim_intlist(-1, false, Kind::Float);
            ((sp.neg().softplus() * beta) + neg_terms).mean(Kind::Float) / (negatives + 1) as f64
        }
        Loss::SampledSoftmax { negatives } => {
            let (sn, ok) = sampled_logits(net, &h, &hr, &idx, b, negatives);
            let sn = sn.masked_fill(&ok.logical_not(), f64::NEG_INFINITY);
            // The positive is class 0.
            let logits = Tensor::cat(&[sp.unsqueeze(1), sn], 1);
            cross_entropy(&logits, &p.zeros_like(), smoothing)
        }
        Loss::FullSoftmax | Loss::Auto { .. } => {
            // Full softmax (`Auto` never reaches here: training runs it resolved).
            let m = net.config.n_items + 1;
            let logits = hr.mm(&net.all_targets_t(true).tr()); // [N, m]
            let mask = s.full_softmax_mask(&b.users, m);
            let m = m as i64;
            let user_of = idx.divide_scalar_mode(len, "floor");
            let mask = Tensor::from_slice(&mask)
                .view([n, m])
                .to_device(device)
                .index_select(0, &user_of)
                .scatter_value(1, &p.unsqueeze(1), 0);
            cross_entropy(&logits.masked_fill(&mask, f64::NEG_INFINITY), &p, smoothing)
        }
    };
    let main = if bce_weight > 0.0 && loss != Loss::Bce {
        main + bce(net, &hr, &sp, &idx, b) * bce_weight
    } else {
        main
    };
    if l2 > 0.0 {
        let penalty = net
            .item_tables()
            .iter()
            .map(|t| t.square().sum(Kind::Float))
            .fold(Tensor::zeros([], (Kind::Float, main.device())), |a, b| {
                a + b
            });
        main + penalty * l2
    } else {
        main
    }
}

/// Softmax cross-entropy of `logits` `[N, classes]` against the class `target` `[N]`, with
/// label smoothing `eps`: the target gets `1 - eps` of the mass and `eps` is spread evenly over
/// the classes whose logit is finite (masked classes, at minus infinity, get none). Without
/// smoothing it is libtorch's plain cross-entropy, with no extra work per class.
fn cross_entropy(logits: &Tensor, target: &Tensor, eps: f64) -> Tensor {
    if eps == 0.0 {
        return logits.cross_entropy_for_logits(target);
    }
    let logp = logits.log_softmax(1, Kind::Float);
    let nll = logp
        .gather(1, &target.unsqueeze(1), false)
        .squeeze_dim(1)
        .neg();
    let live = logits.isfinite();
    let count = live.sum_dim_intlist(1, false, Kind::Float);
    let spread = logp
        .masked_fill(&live.logical_not(), 0.0)
        .sum_dim_intlist(1, false, Kind::Float)
        .neg()
        / count;
    (nll * (1.0 - eps) + spread * eps).mean(Kind::Float)
}

/// The paper's BCE: the positives' logits `sp` against one negative per real position.
fn bce(net: &Network, hr: &Tensor, sp: &Tensor, idx: &Tensor, b: &Batch) -> Tensor {
    let ng = Tensor::from_slice(&b.bce_neg)
        .to_device(hr.device())
        .index_select(0, idx);
    let sn = (hr * net.targets_t(&ng, true)).sum_dim_intlist(-1, false, Kind::Float);
    sp.neg().softplus().mean(Kind::Float) + sn.softplus().mean(Kind::Float)
}

/// Logits `[real positions, k]` of each real position against its `k` negatives (shared by
/// the batch, its user's own or its own), and which of them are valid (outside that
/// position's user's training items).
fn sampled_logits(
    net: &Network,
    h: &Tensor,
    hr: &Tensor,
    idx: &Tensor,
    b: &Batch,
    k: usize,
) -> (Tensor, Tensor) {
    let device = hr.device();
    let (n, k) = (b.users.len() as i64, k as i64);
    let ng = Tensor::from_slice(&b.neg).to_device(device);
    let logits = match b.neg_draw {
        NegativeDraw::PerBatch => hr.mm(&net.targets_t(&ng, true).tr()), // [N, k]
        NegativeDraw::PerUser => {
            let ne = net.targets_t(&ng.view([n, k]), true); // [n, k, d]
            h.bmm(&ne.transpose(1, 2))
                .view([-1, k])
                .index_select(0, idx)
        }
        NegativeDraw::PerPosition => {
            let ne = net.targets_t(&ng.view([-1, k]).index_select(0, idx), true); // [N, k, d]
            ne.bmm(&hr.unsqueeze(2)).squeeze_dim(2)
        }
    };
    let ok = if b.neg_ok.is_empty() {
        Tensor::ones(logits.size(), (Kind::Bool, device))
    } else {
        let user_of = idx.divide_scalar_mode(b.len as i64, "floor");
        Tensor::from_slice(&b.neg_ok)
            .view([n, k])
            .to_device(device)
            .index_select(0, &user_of)
    };
    (logits, ok)
}

impl SasRecValidParams {
    /// Trains a model on `data` (ID embeddings only).
    pub fn fit(&self, data: &Dataset) -> Result<(SasRecModel, TrainReport)> {
        self.fit_observed(data, None, &())
    }

    /// Trains a content-aware model: `features` has one row per item, in the order of
    /// `data.items`. An item's vector is its ID embedding plus a learned projection of its
    /// frozen features; items without training interactions keep a zero ID embedding and are
    /// never drawn as negatives, so they are scored by their content alone.
    pub fn fit_with_features(
        &self,
        data: &Dataset,
        features: ArrayView2<'_, f32>,
    ) -> Result<(SasRecModel, TrainReport)> {
        self.fit_observed(data, Some(features), &())
    }

    /// [`SasRecValidParams::fit`] or [`SasRecValidParams::fit_with_features`] with an observer
    /// of every step and epoch.
    ///
    /// Seeded fits are reproducible wherever they run: libtorch's random generator is one per
    /// process, so fits in parallel threads take turns (one trains while the other waits).
    /// Training uses libtorch's intra-op threads as the process has set them.
    pub fn fit_observed(
        &self,
        data: &Dataset,
        features: Option<ArrayView2<'_, f32>>,
        observer: &dyn TrainObserver,
    ) -> Result<(SasRecModel, TrainReport)> {
        if matches!(self.loss, Loss::Auto { .. }) {
            let resolved = SasRecValidParams {
                loss: self.loss.resolve(data.n_items()),
                ..self.clone()
            };
            return resolved.fit_observed(data, features, observer);
        }
        data.check()?;
        let n_items = data.n_items();
        let counts = data.train_counts();
        let feature_dim = match features {
            None => 0,
            Some(f) => {
                if f.nrows() != n_items || f.ncols() == 0 {
                    return Err(SasRecError::Features(format!(
                        "expected {n_items} rows (one per item) and at least one column, got {}x{}",
                        f.nrows(),
                        f.ncols()
                    )));
                }
                if f.iter().any(|v| !v.is_finite()) {
                    return Err(SasRecError::Features("NaN or infinite values".into()));
                }
                f.ncols()
            }
        };
        let _rng = torch_rng_lock();
        let device = self.compute.device();
        let config = self.model_config(n_items, feature_dim);
        let mut net = Network::new(&config, self.seed, device)?;
        // The network's ids: item index + 1 (0 is padding).
        let cold: Vec<i64> = (0..n_items)
            .filter(|&i| counts[i] == 0)
            .map(|i| i as i64 + 1)
            .collect();
        let train: Vec<Vec<u32>> = data
            .train
            .iter()
            .map(|s| s.iter().map(|i| i.dense() as u32).collect())
            .collect();
        let pool: Vec<u32> = match features {
            Some(f) => {
                let mut flat = vec![0f32; feature_dim];
                flat.extend(f.iter());
                let t = Tensor::from_slice(&flat)
                    .view([n_items as i64 + 1, feature_dim as i64])
                    .to_device(device);
                net.set_features(&t)?;
                net.zero_id_embeddings(&cold);
                (0..n_items)
                    .filter(|&i| counts[i] > 0)
                    .map(|i| i as u32 + 1)
                    .collect()
            }
            None => (1..=n_items as u32).collect(),
        };
        let sampler = Sampler::new(&train, pool, config.max_len, self.history_windows);
        let mut opt = tch::nn::Adam {
            beta1: ADAM_BETAS.0,
            beta2: ADAM_BETAS.1,
            wd: 0.0,
            eps: ADAM_EPS,
            amsgrad: false,
        }
        .build(&net.vs, self.learning_rate)
        .map_err(torch)?;
        // The item tables: row by row, sparse where the loss reads only some rows.
        net.sparse_grads = self.row_updates && self.loss != Loss::FullSoftmax && self.l2_emb == 0.0;
        let mut rows = RowAdam::new(net.item_tables(), ADAM_BETAS, ADAM_EPS);
        let draw = Draw {
            loss: self.loss,
            negatives: self.negative_draw,
            bce_term: self.bce_weight > 0.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let valid = self.validation_sample(&data.valid);
        let mut report = TrainReport {
            epochs: Vec::new(),
            best_epoch: 0,
            stopped_early: false,
            loss: self.loss,
        };
        let mut ema = (self.weight_ema > 0.0)
            .then(|| WeightEma::new(net.vs.variables().into_values(), self.weight_ema));
        let mut best: Option<(f64, HashMap<String, Tensor>)> = None;
        let mut since_best = 0;
        let mut step = 0;
        for epoch in 1..=self.epochs {
            let start = Instant::now();
            let order = self.epoch_order(&sampler, &mut rng);
            let steps = order.len();
            let total_steps = steps * self.epochs;
            let mut total = 0.0;
            let mut phases = Phases::default();
            for (done, units) in order.iter().enumerate() {
                let t = Instant::now();
                let batch = sampler.batch(units, draw, &mut rng);
                let t = phases.lap(t, |p| &mut p.sampling);
                let loss = batch_loss(&net, &sampler, &batch, self);
                let t = phases.lap(t, |p| &mut p.forward);
                let lr = self.lr_schedule.rate(self.learning_rate, step, total_steps);
                opt.set_lr(lr);
                step += 1;
                opt.zero_grad();
                rows.zero_grad();
                loss.backward();
                let t = phases.lap(t, |p| &mut p.backward);
                opt.step();
                rows.step(lr)?;
                if let Some(ema) = &mut ema {
                    ema.update()?;
                }
                phases.lap(t, |p| &mut p.update);
                let value = loss.double_value(&[]);
                if !value.is_finite() {
                    return Err(SasRecError::Diverged(format!(
                        "loss {value} in epoch {epoch}; lower the learning rate"
                    )));
                }
                total += value;
                observer.step(epoch, done + 1, steps);
            }
            let seconds = start.elapsed().as_secs_f64();
            let mut log = EpochLog {
                epoch,
                loss: total / steps as f64,
                seconds,
                phases,
                valid: None,
            };
            let mut stop = false;
            if let Some(es) = self
                .early_stopping
                .filter(|es| !valid.is_empty() && (epoch % es.every == 0 || epoch == self.epochs))
            {
                let params = match es.protocol {
                    Protocol::Full => EvalParams::full(),
                    Protocol::Sampled { negatives } => EvalParams::sampled(negatives),
                };
                if let Some(ema) = &mut ema {
                    ema.swap()?;
                }
                let ev = evaluate(&net, &valid, &params.seed(self.seed))?;
                let ndcg = ev.ndcg(es.protocol);
                let better = best.as_ref().is_none_or(|(b, _)| ndcg > *b);
                if better {
                    best = Some((ndcg, snapshot(&net)));
                }
                if let Some(ema) = &mut ema {
                    ema.swap()?;
                }
                if better {
                    report.best_epoch = epoch;
                    since_best = 0;
                } else {
                    since_best += 1;
                    stop = since_best >= es.patience;
                }
                log.valid = Some(ev);
            }
            observer.epoch(&log);
            report.epochs.push(log);
            if stop {
                report.stopped_early = epoch < self.epochs;
                break;
            }
        }
        match best {
            Some((_, weights)) => restore(&net, &weights)?,
            None => {
                report.best_epoch = report.epochs.len();
                if let Some(ema) = &mut ema {
                    ema.swap()?;
                }
            }
        }
        let model = SasRecModel::new(config, net.export()?, data.items.clone(), counts)?;
        Ok((model, report))
    }

    /// The epoch's batches: training sequences shuffled; with `length_buckets = m`, every run
    /// of `m` batches' worth of shuffled sequences is sorted by length before it is cut into
    /// batches, and the batch order is shuffled again, so a batch holds sequences of similar
    /// length and is cut to its longest real sequence.
    fn epoch_order(&self, sampler: &Sampler<'_>, rng: &mut ChaCha8Rng) -> Vec<Vec<Unit>> {
        let mut order = sampler.units.clone();
        order.shuffle(rng);
        let b = self.batch_size;
        if self.length_buckets <= 1 {
            return order.chunks(b).map(<[Unit]>::to_vec).collect();
        }
        let mut batches: Vec<Vec<Unit>> = Vec::with_capacity(order.len().div_ceil(b));
        for run in order.chunks_mut(b * self.length_buckets) {
            run.sort_by_key(|&(_, end)| end.min(sampler.max_len + 1));
            batches.extend(run.chunks(b).map(<[Unit]>::to_vec));
        }
        batches.shuffle(rng);
        batches
    }

    fn validation_sample(&self, valid: &[EvalCase]) -> Vec<EvalCase> {
        let max = self.early_stopping.map_or(0, |es| es.max_users);
        if max == 0 || valid.len() <= max {
            return valid.to_vec();
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ 0x5EED);
        let mut picked: Vec<usize> =
            rand::seq::index::sample(&mut rng, valid.len(), max).into_vec();
        picked.sort_unstable();
        picked.into_iter().map(|i| valid[i].clone()).collect()
    }
}

/// A copy of every variable.
fn snapshot(net: &Network) -> HashMap<String, Tensor> {
    net.vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.detach().copy()))
        .collect()
}

/// Puts a snapshot back.
fn restore(net: &Network, weights: &HashMap<String, Tensor>) -> Result<()> {
    tch::no_grad(|| -> Result<()> {
        for (name, mut var) in net.vs.variables() {
            let src = weights
                .get(&name)
                .ok_or_else(|| SasRecError::Torch(format!("snapshot lacks variable {name}")))?;
            var.f_copy_(src).map_err(torch)?;
        }
        Ok(())
    })
}

impl std::fmt::Display for EpochLog {
    /// One line: epoch, loss, seconds by phase, validation figures when evaluated.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = &self.phases;
        write!(
            f,
            "epoch {:>3}  loss {:.4}  {:.1}s (sampling {:.1}, forward {:.1}, backward {:.1}, update {:.1})",
            self.epoch, self.loss, self.seconds, p.sampling, p.forward, p.backward, p.update
        )?;
        if let Some(v) = &self.valid {
            write!(f, "  valid {v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_spreads_mass_over_unmasked_classes_only() {
        let logits =
            Tensor::from_slice(&[2.0f32, 0.5, -1.0, f32::NEG_INFINITY, 1.0, 0.0, 3.0, -2.0])
                .view([2, 4]);
        let target = Tensor::from_slice(&[0i64, 2]);
        // By hand: row 0 has three live classes, row 1 four.
        let lse = |xs: &[f64]| xs.iter().map(|x| x.exp()).sum::<f64>().ln();
        let rows: [&[f64]; 2] = [&[2.0, 0.5, -1.0], &[1.0, 0.0, 3.0, -2.0]];
        // Without smoothing (the plain path) and with it, the same hand computation.
        for eps in [0.0, 0.2] {
            let want = rows
                .iter()
                .zip([0usize, 2])
                .map(|(r, t)| {
                    let z = lse(r);
                    let nll = z - r[t];
                    let spread = r.iter().map(|x| z - x).sum::<f64>() / r.len() as f64;
                    (1.0 - eps) * nll + eps * spread
                })
                .sum::<f64>()
                / 2.0;
            let got = cross_entropy(&logits, &target, eps).double_value(&[]);
            assert!((got - want).abs() < 1e-5, "eps {eps}: {got} vs {want}");
        }
        let eps = 0.2;
        // Finite gradients despite the masked class.
        let x = logits.set_requires_grad(true);
        cross_entropy(&x, &target, eps).backward();
        let g = x.grad();
        assert_eq!(g.isfinite().all().int64_value(&[]), 1);
        assert_eq!(g.get(0).get(3).double_value(&[]), 0.0);
    }
}
