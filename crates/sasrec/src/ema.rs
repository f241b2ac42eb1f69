//! An exponential moving average of the trainable weights (Polyak averaging): validation and
//! the returned model use the averaged weights, training goes on with the live ones.

use tch::Tensor;

use crate::error::{torch, Result};

/// Shadow copies of a var store's trainable weights.
pub(crate) struct WeightEma {
    decay: f64,
    steps: u64,
    /// `(live, shadow)`: `live` shares storage with the var store's variable.
    pairs: Vec<(Tensor, Tensor)>,
}

impl WeightEma {
    /// Averages `vars` (the trainable ones; frozen ones never change) with `decay` in (0, 1).
    pub(crate) fn new(vars: impl IntoIterator<Item = Tensor>, decay: f64) -> Self {
        let pairs = vars
            .into_iter()
            .filter(Tensor::requires_grad)
            .map(|live| {
                let shadow = live.detach().copy();
                (live, shadow)
            })
            .collect();
        Self {
            decay,
            steps: 0,
            pairs,
        }
    }

    /// Folds the live weights in after an optimiser step. The decay warms up as
    /// `min(decay, (1 + t) / (10 + t))`, so the random initialisation is soon forgotten.
    pub(crate) fn update(&mut self) -> Result<()> {
        self.steps += 1;
        let t = self.steps as f64;
        let decay = self.decay.min((1.0 + t) / (10.0 + t));
        tch::no_grad(|| -> Result<()> {
            for (live, shadow) in &mut self.pairs {
                let _ = shadow.f_lerp_(live, 1.0 - decay).map_err(torch)?;
            }
            Ok(())
        })
    }

    /// Exchanges live and averaged weights (call again to undo).
    pub(crate) fn swap(&mut self) -> Result<()> {
        tch::no_grad(|| -> Result<()> {
            for (live, shadow) in &mut self.pairs {
                let held = live.detach().copy();
                live.f_copy_(shadow).map_err(torch)?;
                shadow.f_copy_(&held).map_err(torch)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    fn value(t: &Tensor) -> f64 {
        t.double_value(&[0])
    }

    #[test]
    fn the_average_follows_the_weights_and_swaps_back() -> Result<()> {
        let live = Tensor::zeros([2], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
        let frozen = Tensor::ones([2], (Kind::Float, tch::Device::Cpu));
        let mut ema = WeightEma::new([live.shallow_clone(), frozen], 0.9);
        assert_eq!(ema.pairs.len(), 1, "frozen weights are not averaged");
        // The weights jump to 1 and stay there: the average approaches 1 from below.
        let _ = tch::no_grad(|| live.shallow_clone().fill_(1.0));
        ema.update()?;
        // Warm-up: the first step's decay is 2 / 11, not 0.9.
        let first = value(&ema.pairs[0].1);
        assert!((first - 9.0 / 11.0).abs() < 1e-6, "first average {first}");
        let mut last = first;
        for _ in 0..30 {
            ema.update()?;
            let avg = value(&ema.pairs[0].1);
            assert!(avg >= last && avg <= 1.0, "average {avg} after {last}");
            last = avg;
        }
        assert!(last > 0.99);
        ema.swap()?;
        assert!((value(&live) - last).abs() < 1e-6, "live holds the average");
        ema.swap()?;
        assert!((value(&live) - 1.0).abs() < 1e-6, "live weights are back");
        Ok(())
    }
}
