//! Training batches: the epoch's training sequences, right-aligned inputs and next-item
//! targets, and negatives drawn outside each user's training items.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::loss::{Loss, NegativeDraw};

/// One training sequence: `(user, end)` is `train[user][..end]`.
pub(crate) type Unit = (usize, usize);

/// Batch builder: right-aligned inputs, next-item targets, negatives not in the user's
/// training items.
pub(crate) struct Sampler<'a> {
    train: &'a [Vec<u32>],
    /// The epoch's training sequences.
    pub(crate) units: Vec<Unit>,
    /// Sorted, unique training items per user.
    pub(crate) seen: Vec<Vec<u32>>,
    /// Items negatives are drawn from.
    pub(crate) pool: Vec<u32>,
    pub(crate) max_len: usize,
}

/// What a batch needs drawn besides its sequences.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draw {
    /// The main loss.
    pub(crate) loss: Loss,
    /// How the sampled losses' negatives are drawn.
    pub(crate) negatives: NegativeDraw,
    /// One negative per position for an added BCE term.
    pub(crate) bce_term: bool,
}

/// One training step: `users.len()` rows of `len` positions, stored flat and row-major.
pub(crate) struct Batch {
    /// The user of each row.
    pub(crate) users: Vec<usize>,
    /// Positions per row (the longest real sequence in the batch, at most `max_len`).
    pub(crate) len: usize,
    /// `[users, len]` input items, left-padded with 0.
    pub(crate) seq: Vec<i64>,
    /// `[users, len]` next-item targets (0 where the input is padding).
    pub(crate) pos: Vec<i64>,
    /// For the multi-negative losses, `k` negatives shared by the whole batch, `[users, k]`
    /// per user or `[users, len, k]` per position (0 on padding); empty for BCE and the full
    /// softmax.
    pub(crate) neg: Vec<i64>,
    /// How `neg` was drawn.
    pub(crate) neg_draw: NegativeDraw,
    /// `[users, k]` with negatives shared per batch: whether a negative is outside the user's
    /// training items (the others are masked out of that user's loss); empty otherwise (all
    /// negatives were drawn outside the user's items).
    pub(crate) neg_ok: Vec<bool>,
    /// `[users, len]`: one negative per real position (0 on padding) for the paper's BCE,
    /// as the loss or as an added term; empty otherwise.
    pub(crate) bce_neg: Vec<i64>,
}

impl<'a> Sampler<'a> {
    /// `[users, m]` row-major: which of the `m` ids (0 is padding) stay out of each user's
    /// full-softmax denominator. Everything outside the pool (padding, and in a content-aware
    /// model the items without training events, which keep the score their content gives
    /// them, as in the sampled losses) and the user's own training items; the target is let
    /// back in by the caller.
    pub(crate) fn full_softmax_mask(&self, users: &[usize], m: usize) -> Vec<bool> {
        let mut closed = vec![true; m];
        for &i in &self.pool {
            closed[i as usize] = false;
        }
        let mut mask = Vec::with_capacity(users.len() * m);
        for &u in users {
            let start = mask.len();
            mask.extend_from_slice(&closed);
            for &i in &self.seen[u] {
                mask[start + i as usize] = true;
            }
        }
        mask
    }

    /// With `windows`, a history longer than `max_len + 1` items also yields its earlier
    /// stretches: consecutive windows of `max_len` targets, from the end backwards, so that
    /// every interaction is a training target once per epoch.
    pub(crate) fn new(
        train: &'a [Vec<u32>],
        pool: Vec<u32>,
        max_len: usize,
        windows: bool,
    ) -> Self {
        let mut units = Vec::new();
        for (u, s) in train.iter().enumerate() {
            let mut end = s.len();
            while end >= 2 {
                units.push((u, end));
                if !windows {
                    break;
                }
                end = end.saturating_sub(max_len);
            }
        }
        let seen = train
            .iter()
            .map(|s| {
                let mut v = s.clone();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect();
        Self {
            train,
            units,
            seen,
            pool,
            max_len,
        }
    }

    /// One negative for `user`: uniform over the pool minus the user's items (uniform over the
    /// whole pool in the degenerate case of a user who has seen every item).
    pub(crate) fn negative(&self, user: usize, rng: &mut ChaCha8Rng) -> u32 {
        let seen = &self.seen[user];
        for _ in 0..64 {
            let i = self.pool[rng.gen_range(0..self.pool.len())];
            if seen.binary_search(&i).is_err() {
                return i;
            }
        }
        let rest: Vec<u32> = self
            .pool
            .iter()
            .copied()
            .filter(|i| seen.binary_search(i).is_err())
            .collect();
        let from = if rest.is_empty() { &self.pool } else { &rest };
        from[rng.gen_range(0..from.len())]
    }

    /// `[users, len, k]`: `k` negatives for each real position of the rows' targets `pos`,
    /// drawn outside the row's user's items, and 0 on padding.
    fn per_position(
        &self,
        users: &[usize],
        pos: &[i64],
        len: usize,
        k: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<i64> {
        pos.iter()
            .enumerate()
            .flat_map(|(j, &p)| std::iter::repeat_n((j, p), k))
            .map(|(j, p)| {
                if p == 0 {
                    0
                } else {
                    i64::from(self.negative(users[j / len], rng))
                }
            })
            .collect()
    }

    pub(crate) fn batch(&self, units: &[Unit], draw: Draw, rng: &mut ChaCha8Rng) -> Batch {
        let Draw {
            loss,
            negatives,
            bce_term,
        } = draw;
        let len = units
            .iter()
            .map(|&(_, end)| (end - 1).min(self.max_len))
            .max()
            .unwrap_or(1);
        let b = units.len();
        let users: Vec<usize> = units.iter().map(|&(u, _)| u).collect();
        let (mut seq, mut pos) = (vec![0i64; b * len], vec![0i64; b * len]);
        for (r, &(u, end)) in units.iter().enumerate() {
            let s = &self.train[u][..end];
            let n = (s.len() - 1).min(len);
            let row = r * len + len - n;
            for (j, w) in s[s.len() - 1 - n..].windows(2).enumerate() {
                seq[row + j] = i64::from(w[0]);
                pos[row + j] = i64::from(w[1]);
            }
        }
        let bce_neg = if bce_term || loss == Loss::Bce {
            self.per_position(&users, &pos, len, 1, rng)
        } else {
            Vec::new()
        };
        let k = match loss {
            // Training resolves `Auto` before it draws; sampled is the case that draws.
            Loss::GBce { negatives, .. }
            | Loss::SampledSoftmax { negatives }
            | Loss::Auto { negatives, .. } => negatives,
            Loss::Bce | Loss::FullSoftmax => 0,
        };
        let neg: Vec<i64> = match negatives {
            _ if k == 0 => Vec::new(),
            NegativeDraw::PerBatch => (0..k)
                .map(|_| i64::from(self.pool[rng.gen_range(0..self.pool.len())]))
                .collect(),
            NegativeDraw::PerUser => users
                .iter()
                .flat_map(|&u| std::iter::repeat_n(u, k))
                .map(|u| i64::from(self.negative(u, rng)))
                .collect(),
            NegativeDraw::PerPosition => self.per_position(&users, &pos, len, k, rng),
        };
        let neg_ok = if negatives == NegativeDraw::PerBatch {
            users
                .iter()
                .flat_map(|&u| {
                    neg.iter()
                        .map(move |&i| self.seen[u].binary_search(&(i as u32)).is_err())
                })
                .collect()
        } else {
            Vec::new()
        };
        Batch {
            users,
            len,
            seq,
            pos,
            neg,
            neg_draw: negatives,
            neg_ok,
            bce_neg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const BCE: Draw = Draw {
        loss: Loss::Bce,
        negatives: NegativeDraw::PerBatch,
        bce_term: false,
    };

    /// Every (input, target) pair a batch holds, as item pairs.
    fn pairs(b: &Batch) -> Vec<(i64, i64)> {
        b.seq
            .iter()
            .zip(&b.pos)
            .filter(|(_, &p)| p != 0)
            .map(|(&s, &p)| (s, p))
            .collect()
    }

    #[test]
    fn history_windows_train_every_step_once() {
        // Items are distinct per user, so a pair names its step.
        let train: Vec<Vec<u32>> = vec![(1..=23).collect(), (30..=33).collect(), vec![40]];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let last = Sampler::new(&train, (1..=40).collect(), 5, false);
        assert_eq!(last.units, vec![(0, 23), (1, 4)]);
        let all = Sampler::new(&train, (1..=40).collect(), 5, true);
        assert_eq!(
            all.units,
            vec![(0, 23), (0, 18), (0, 13), (0, 8), (0, 3), (1, 4)]
        );
        let b = all.batch(&all.units, BCE, &mut rng);
        let mut got = pairs(&b);
        got.sort_unstable();
        let mut want: Vec<(i64, i64)> = train
            .iter()
            .flat_map(|s| s.windows(2).map(|w| (i64::from(w[0]), i64::from(w[1]))))
            .collect();
        want.sort_unstable();
        assert_eq!(got, want);
        // Windows are right-aligned and no longer than max_len.
        assert_eq!(b.len, 5);
        assert_eq!(&b.pos[4 * 5..5 * 5], &[0, 0, 0, 2, 3]);
        // The last window is the paper's training sequence.
        let only_last = last.batch(&last.units[..1], BCE, &mut rng);
        assert_eq!(only_last.pos, vec![19, 20, 21, 22, 23]);
    }

    #[test]
    fn the_full_softmax_leaves_out_padding_items_outside_the_pool_and_the_users_own() {
        // Items 1..=6; 5 and 6 have no training events, so the pool is 1..=4.
        let train: Vec<Vec<u32>> = vec![vec![1, 2, 1], vec![3, 4]];
        let s = Sampler::new(&train, (1..=4).collect(), 8, false);
        let mask = s.full_softmax_mask(&[1, 0, 1], 7);
        let row = |r: usize| &mask[r * 7..(r + 1) * 7];
        assert_eq!(mask.len(), 3 * 7);
        assert_eq!(row(0), &[true, false, false, true, true, true, true]);
        assert_eq!(row(1), &[true, true, true, false, false, true, true]);
        assert_eq!(row(2), row(0));
        // With every item in the pool, only padding and the user's own items are left out.
        let all = Sampler::new(&train, (1..=6).collect(), 8, false);
        let mask = all.full_softmax_mask(&[0], 7);
        assert_eq!(mask, vec![true, true, true, false, false, false, false]);
    }

    #[test]
    fn an_added_bce_term_draws_one_unseen_negative_per_real_position() {
        let train: Vec<Vec<u32>> = vec![(1..=6).collect(), vec![7, 8, 9]];
        let s = Sampler::new(&train, (1..=12).collect(), 8, false);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for loss in [Loss::FullSoftmax, Loss::SampledSoftmax { negatives: 4 }] {
            let draw = Draw {
                loss,
                negatives: NegativeDraw::PerBatch,
                bce_term: true,
            };
            let b = s.batch(&s.units, draw, &mut rng);
            assert_eq!(b.bce_neg.len(), b.pos.len());
            for (j, (&p, &n)) in b.pos.iter().zip(&b.bce_neg).enumerate() {
                assert_eq!(p == 0, n == 0, "position {j}");
                if n != 0 {
                    assert!(!train[b.users[j / b.len]].contains(&(n as u32)));
                }
            }
            let without = s.batch(
                &s.units,
                Draw {
                    bce_term: false,
                    ..draw
                },
                &mut rng,
            );
            assert!(without.bce_neg.is_empty());
        }
    }

    #[test]
    fn negatives_are_drawn_per_batch_user_or_position() {
        let train: Vec<Vec<u32>> = vec![(1..=6).collect(), vec![7, 8, 9]];
        let s = Sampler::new(&train, (1..=12).collect(), 8, false);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let k = 3;
        let draw = |negatives| Draw {
            loss: Loss::SampledSoftmax { negatives: k },
            negatives,
            bce_term: false,
        };
        let b = s.batch(&s.units, draw(NegativeDraw::PerBatch), &mut rng);
        assert_eq!(b.neg.len(), k);
        assert_eq!(b.neg_ok.len(), b.users.len() * k);
        for (j, &ok) in b.neg_ok.iter().enumerate() {
            let seen = train[b.users[j / k]].contains(&(b.neg[j % k] as u32));
            assert_eq!(ok, !seen);
        }
        let b = s.batch(&s.units, draw(NegativeDraw::PerUser), &mut rng);
        assert_eq!(b.neg.len(), b.users.len() * k);
        assert!(b.neg_ok.is_empty());
        for (j, &n) in b.neg.iter().enumerate() {
            assert!(!train[b.users[j / k]].contains(&(n as u32)));
        }
        let b = s.batch(&s.units, draw(NegativeDraw::PerPosition), &mut rng);
        assert_eq!(b.neg.len(), b.pos.len() * k);
        assert!(b.neg_ok.is_empty());
        for (j, &n) in b.neg.iter().enumerate() {
            let position = j / k;
            assert_eq!(b.pos[position] == 0, n == 0, "position {position}");
            if n != 0 {
                assert!(!train[b.users[position / b.len]].contains(&(n as u32)));
            }
        }
        // Positions of one user get different draws (12 items, 3 seen by user 1, so the
        // chance that all of its positions drew the same set is negligible).
        let row = b
            .users
            .iter()
            .position(|&u| u == 1)
            .expect("user 1 is in the batch")
            * b.len;
        let sets: Vec<&[i64]> = (row..row + b.len)
            .filter(|&p| b.pos[p] != 0)
            .map(|p| &b.neg[p * k..(p + 1) * k])
            .collect();
        assert!(sets.windows(2).any(|w| w[0] != w[1]));
    }
}
