//! The training objectives and how the sampled ones draw their negatives.

use serde::{Deserialize, Serialize};

/// The training objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Loss {
    /// The paper's loss: binary cross-entropy on the next item and one sampled negative per
    /// position.
    Bce,
    /// gBCE (Petrov & Macdonald, gSASRec, RecSys 2023): `negatives` sampled negatives and a
    /// positive term raised to the power β derived from the calibration parameter `t` in
    /// `[0, 1]` (`t = 0` is plain BCE with many negatives, `t = 1` is fully calibrated).
    GBce {
        /// Negatives per position, drawn uniformly as [`NegativeDraw`] says.
        negatives: usize,
        /// Calibration parameter in `[0, 1]`.
        t: f64,
    },
    /// Softmax cross-entropy over the next item and `negatives` sampled negatives.
    SampledSoftmax {
        /// Negatives per position, drawn uniformly as [`NegativeDraw`] says.
        negatives: usize,
    },
    /// Softmax cross-entropy over the whole catalogue (the user's other history items are left
    /// out of the denominator, and so are items without training events in a content-aware
    /// model: like the sampled losses, it never uses them as negatives).
    FullSoftmax,
    /// [`Loss::FullSoftmax`] when the dataset has at most `full_up_to` items, else
    /// [`Loss::SampledSoftmax`] with `negatives`: the full softmax is the better objective
    /// (on MovieLens-100K, NDCG@10 0.113 against 0.088 for 256 sampled negatives) but costs a
    /// `[positions, items]` product and mask per step, which stops paying on large catalogues.
    /// Training resolves it once, and [`crate::TrainReport::loss`] says which ran.
    Auto {
        /// The largest catalogue trained with the full softmax.
        full_up_to: usize,
        /// Negatives of the sampled softmax above that size.
        negatives: usize,
    },
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Loss::Bce => write!(f, "BCE"),
            Loss::GBce { negatives, t } => write!(f, "gBCE ({negatives} negatives, t {t})"),
            Loss::SampledSoftmax { negatives } => {
                write!(f, "sampled softmax ({negatives} negatives)")
            }
            Loss::FullSoftmax => write!(f, "full softmax"),
            Loss::Auto {
                full_up_to,
                negatives,
            } => write!(
                f,
                "full softmax up to {full_up_to} items, else sampled softmax ({negatives} negatives)"
            ),
        }
    }
}

impl Loss {
    /// The loss that trains a dataset of `n_items` items: [`Loss::Auto`] becomes the full or
    /// the sampled softmax, every other loss is itself.
    pub fn resolve(self, n_items: usize) -> Loss {
        match self {
            Loss::Auto {
                full_up_to,
                negatives,
            } => {
                if n_items <= full_up_to {
                    Loss::FullSoftmax
                } else {
                    Loss::SampledSoftmax { negatives }
                }
            }
            other => other,
        }
    }
}

/// How the sampled losses (gBCE, sampled softmax) draw their negatives, uniformly over the
/// training items. A user's own training items are never a negative for that user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NegativeDraw {
    /// One set per batch, shared by all its positions; the ones in a user's own items are
    /// masked out of that user's loss. The cheapest: one `[positions, k]` product.
    #[default]
    PerBatch,
    /// One set per user, drawn outside the user's items and shared by the user's positions
    /// (a `[users, k, hidden]` gather).
    PerUser,
    /// One set per position, drawn outside the user's items: the most distinct negatives per
    /// step (a `[positions, k, hidden]` gather).
    PerPosition,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SasRec;

    #[test]
    fn auto_loss_is_full_up_to_its_size_and_sampled_above() {
        let auto = Loss::Auto {
            full_up_to: 100,
            negatives: 8,
        };
        assert_eq!(auto.resolve(1), Loss::FullSoftmax);
        assert_eq!(auto.resolve(100), Loss::FullSoftmax);
        assert_eq!(auto.resolve(101), Loss::SampledSoftmax { negatives: 8 });
        assert_eq!(Loss::Bce.resolve(1), Loss::Bce);
        assert!(SasRec::params()
            .loss(auto)
            .label_smoothing(0.1)
            .check()
            .is_ok());
        let none = Loss::Auto {
            full_up_to: 100,
            negatives: 0,
        };
        assert!(SasRec::params().loss(none).check().is_err());
    }
}
