//! Fair re-ranking of a scored list: relevance first, within a window cap and exposure targets.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use crate::error::{Result, ShuffleError};
use crate::groups::{apply_order, group_indices};
use crate::metrics::{kendall_tau, ndcg};

/// Re-ranks a scored list (a recommender's candidates) so that groups are spread:
///
/// - **window cap**: no group takes more than `max` of any `window` consecutive slots;
/// - **exposure targets** (optional): in the first `top_k` slots each targeted group holds
///   between `⌊p·i⌋` and `⌈p·i⌉` of the first `i` slots (the "DetGreedy" rule of Geyik et al.,
///   KDD 2019); groups without a target are free.
///
/// Within those rules the highest-scored remaining item goes next. Before an item is placed, the
/// ranker checks that the rest of the served slots can still be filled within the window cap
/// (by simulating the "most items left first" completion), so a feasible order is found
/// whenever one exists ([`FairRankerValidParams::rerank_top`] serves fewer slots than items).
/// When none exists the ranker still returns every item, places the best-scored item the cap
/// allows at each slot, and counts the breaks in [`RerankReport::window_violations`]: a
/// documented best effort, never an error. Exposure targets are soft in the same way: a slot where the targets had to
/// give way to the cap, or to a group running out of items, counts in
/// [`RerankReport::target_relaxations`].
///
/// `FairRanker::params()` → [`FairRankerParams`] (builder) → [`FairRankerParams::check`] →
/// [`FairRankerValidParams`], whose [`rerank`](FairRankerValidParams::rerank) does the work.
#[derive(Debug, Clone, Copy)]
pub struct FairRanker;

impl FairRanker {
    /// No rules (the score order) until [`FairRankerParams::window`] or
    /// [`FairRankerParams::targets`] set some.
    pub fn params<G: Hash + Eq + Clone>() -> FairRankerParams<G> {
        FairRankerParams(FairRankerValidParams {
            window: 1,
            max_per_window: 1,
            targets: HashMap::new(),
            top_k: 0,
        })
    }
}

/// Unchecked settings of the fair re-ranker.
#[derive(Debug, Clone)]
pub struct FairRankerParams<G>(FairRankerValidParams<G>);

/// Checked settings of the fair re-ranker, with getters; [`FairRankerValidParams::rerank`]
/// re-ranks lists.
#[derive(Debug, Clone)]
pub struct FairRankerValidParams<G> {
    window: usize,
    max_per_window: usize,
    targets: HashMap<G, f64>,
    top_k: usize,
}

impl<G: Hash + Eq> PartialEq for FairRankerValidParams<G> {
    fn eq(&self, other: &Self) -> bool {
        (self.window, self.max_per_window, self.top_k)
            == (other.window, other.max_per_window, other.top_k)
            && self.targets == other.targets
    }
}

/// What a re-ranking did.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RerankReport {
    /// Slots where the window cap could not be kept (0 whenever a feasible order exists).
    pub window_violations: usize,
    /// Slots in the top `k` where the exposure targets had to give way.
    pub target_relaxations: usize,
    /// NDCG of the new order under the input scores (1.0 = nothing moved that mattered).
    pub ndcg: f64,
    /// Kendall's tau between the new order and the order by score.
    pub kendall_tau: f64,
}

/// A re-ranked list and its report.
#[derive(Debug, Clone)]
pub struct Reranked<T> {
    /// The items in their new order.
    pub items: Vec<T>,
    /// What the re-ranking did.
    pub report: RerankReport,
}

/// The search state shared by the ranker and its feasibility check.
#[derive(Clone)]
struct Window {
    size: usize,
    max: usize,
    recent: VecDeque<usize>,
    count: Vec<usize>,
}

impl Window {
    fn new(size: usize, max: usize, groups: usize) -> Self {
        Self {
            size,
            max,
            recent: VecDeque::new(),
            count: vec![0; groups],
        }
    }
    fn allows(&self, g: usize) -> bool {
        self.size <= 1 || self.count[g] < self.max
    }
    fn push(&mut self, g: usize) {
        if self.size <= 1 {
            return;
        }
        self.recent.push_back(g);
        self.count[g] += 1;
        if self.recent.len() > self.size - 1 {
            if let Some(old) = self.recent.pop_front() {
                self.count[old] -= 1;
            }
        }
    }
    /// Can `steps` more slots be filled from the remaining counts without breaking the cap?
    /// Places the allowed group with the most items left, every time.
    fn completes(&self, left: &[usize], steps: usize) -> bool {
        let mut w = self.clone();
        let mut left = left.to_vec();
        let mut total: usize = left.iter().sum::<usize>().min(steps);
        while total > 0 {
            let best = (0..left.len())
                .filter(|&g| left[g] > 0 && w.allows(g))
                .max_by_key(|&g| (left[g], usize::MAX - w.last_seen(g)));
            match best {
                Some(g) => {
                    left[g] -= 1;
                    total -= 1;
                    w.push(g);
                }
                None => return false,
            }
        }
        true
    }
    /// How far back `g` was last placed within the window (`usize::MAX` if not in it).
    fn last_seen(&self, g: usize) -> usize {
        self.recent
            .iter()
            .rev()
            .position(|&x| x == g)
            .unwrap_or(usize::MAX - 1)
    }
}

impl<G: Hash + Eq + Clone> FairRankerParams<G> {
    /// At most `max` items of one group in any `window` consecutive slots (`window >= 2`,
    /// `1 <= max < window`).
    pub fn window(mut self, window: usize, max: usize) -> Self {
        self.0.window = window;
        self.0.max_per_window = max;
        self
    }

    /// Target shares of the first `top_k` slots per group (each in `[0, 1]`, summing to at most 1).
    pub fn targets(mut self, targets: impl IntoIterator<Item = (G, f64)>, top_k: usize) -> Self {
        self.0.targets = targets.into_iter().collect();
        self.0.top_k = top_k;
        self
    }

    /// Validates the settings.
    pub fn check(self) -> Result<FairRankerValidParams<G>> {
        let p = self.0;
        // (1, 1) is "no window rule", the builder's starting point.
        let no_rule = p.window == 1 && p.max_per_window == 1;
        if !no_rule && (p.window < 2 || p.max_per_window == 0 || p.max_per_window >= p.window) {
            return Err(ShuffleError::InvalidParam {
                param: "window",
                reason: format!(
                    "needs window >= 2 and 1 <= max < window, got window {}, max {}",
                    p.window, p.max_per_window
                ),
            });
        }
        let sum: f64 = p.targets.values().sum();
        if p.targets.values().any(|v| !(0.0..=1.0).contains(v)) || sum > 1.0 + 1e-9 {
            return Err(ShuffleError::InvalidParam {
                param: "targets",
                reason: "shares must each lie in [0, 1] and sum to at most 1".into(),
            });
        }
        Ok(p)
    }
}

impl<G: Hash + Eq + Clone> FairRankerValidParams<G> {
    /// The window of the cap (1: no cap).
    pub fn window(&self) -> usize {
        self.window
    }

    /// Most items of one group in any window.
    pub fn max_per_window(&self) -> usize {
        self.max_per_window
    }

    /// Target shares per group.
    pub fn targets(&self) -> &HashMap<G, f64> {
        &self.targets
    }

    /// Slots the targets apply to.
    pub fn top_k(&self) -> usize {
        self.top_k
    }

    /// Re-ranks `items` by `score` (higher is better) under the rules, grouped by `key`.
    pub fn rerank<T>(
        &self,
        items: Vec<T>,
        score: impl Fn(&T) -> f64,
        key: impl Fn(&T) -> G,
    ) -> Result<Reranked<T>> {
        let n = items.len();
        self.rerank_top(items, n, score, key)
    }

    /// [`FairRankerValidParams::rerank`] for a list of which only the first `slots` are
    /// shown (a candidate pool larger than the list served): the rules must hold in those
    /// slots only, so a pool too lopsided to keep the cap over its whole length can still give
    /// a served list that keeps it. At each slot the best-scored item of a group the rules
    /// allow goes next, unless that would leave the remaining served slots no way to keep the
    /// cap; when no allowed group keeps them feasible, the best-scored allowed one goes (the
    /// break counts in [`RerankReport::window_violations`] where it happens). Items after the
    /// served slots follow in score order.
    pub fn rerank_top<T>(
        &self,
        items: Vec<T>,
        slots: usize,
        score: impl Fn(&T) -> f64,
        key: impl Fn(&T) -> G,
    ) -> Result<Reranked<T>> {
        let scores: Vec<f64> = items.iter().map(&score).collect();
        if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
            return Err(ShuffleError::NonFiniteScore { index, value });
        }
        let keys: Vec<G> = items.iter().map(&key).collect();
        let groups = group_indices::<_, _, usize>(&keys, Clone::clone);
        let share: Vec<Option<f64>> = groups
            .iter()
            .map(|g| self.targets.get(&keys[g[0]]).copied())
            .collect();
        // Each group's items best first; `cursor[g]` is the next one to place.
        let sorted: Vec<Vec<usize>> = groups
            .into_iter()
            .map(|mut g| {
                g.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
                g
            })
            .collect();
        let mut cursor = vec![0usize; sorted.len()];
        let mut left: Vec<usize> = sorted.iter().map(Vec::len).collect();
        let mut placed = vec![0usize; sorted.len()];
        let mut window = Window::new(self.window, self.max_per_window, sorted.len());
        let mut report = RerankReport {
            window_violations: 0,
            target_relaxations: 0,
            ndcg: 1.0,
            kendall_tau: 1.0,
        };
        let mut order = Vec::with_capacity(items.len());
        let served = slots.min(items.len());
        for pos in 0..served {
            let live: Vec<usize> = (0..sorted.len()).filter(|&g| left[g] > 0).collect();
            let best_score = |g: &usize| scores[sorted[*g][cursor[*g]]];
            let mut by_target = live.clone();
            if pos < self.top_k && !self.targets.is_empty() {
                let i = (pos + 1) as f64;
                let below: Vec<usize> = live
                    .iter()
                    .copied()
                    .filter(|&g| share[g].is_some_and(|p| (placed[g] as f64) < (p * i).floor()))
                    .collect();
                by_target = if below.is_empty() {
                    live.iter()
                        .copied()
                        .filter(|&g| share[g].is_none_or(|p| (placed[g] as f64) < (p * i).ceil()))
                        .collect()
                } else {
                    below
                };
                // A targeted group below its minimum that has run out forces a relaxation too.
                let starved = share.iter().enumerate().any(|(g, p)| {
                    left[g] == 0 && p.is_some_and(|p| (placed[g] as f64) < (p * i).floor())
                });
                if starved {
                    report.target_relaxations += 1;
                }
            }
            let allowed = |set: &[usize]| -> Vec<usize> {
                set.iter().copied().filter(|&g| window.allows(g)).collect()
            };
            let mut cand = allowed(&by_target);
            if cand.is_empty() {
                if by_target.len() < live.len() {
                    report.target_relaxations += 1;
                }
                cand = allowed(&live);
            }
            if cand.is_empty() {
                report.window_violations += 1;
                cand = live.clone();
            }
            cand.sort_by(|a, b| best_score(b).total_cmp(&best_score(a)).then(a.cmp(b)));
            let choice = if self.window > 1 {
                let steps = served - pos - 1;
                let fits = |g: usize| {
                    let mut w = window.clone();
                    w.push(g);
                    let mut l = left.clone();
                    l[g] -= 1;
                    w.completes(&l, steps)
                };
                // The best by score that keeps the rest of the served slots feasible; if none
                // can, the best by score.
                cand.iter().copied().find(|&g| fits(g)).unwrap_or(cand[0])
            } else {
                cand[0]
            };
            order.push(sorted[choice][cursor[choice]]);
            cursor[choice] += 1;
            left[choice] -= 1;
            placed[choice] += 1;
            window.push(choice);
        }
        // Past the served slots: the rest by score.
        let mut rest: Vec<usize> = (0..sorted.len())
            .flat_map(|g| sorted[g][cursor[g]..].iter().copied())
            .collect();
        rest.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order.extend(rest);
        let new_scores: Vec<f64> = order.iter().map(|&i| scores[i]).collect();
        let k = if self.top_k > 0 {
            self.top_k
        } else {
            order.len()
        };
        report.ndcg = ndcg(&new_scores, k);
        let mut by_score: Vec<usize> = (0..order.len()).collect();
        by_score.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let mut rank_of = vec![0usize; order.len()];
        for (r, &i) in by_score.iter().enumerate() {
            rank_of[i] = r;
        }
        report.kendall_tau = kendall_tau(&order.iter().map(|&i| rank_of[i]).collect::<Vec<_>>());
        Ok(Reranked {
            items: apply_order(items, order),
            report,
        })
    }
}

/// Pushes recently shown items later in a list: an item shown `age` lists ago (0 = the last
/// one) moves down by `strength · n / (1 + age)` positions; items never shown stay in order
/// relative to each other. `strength = 0` changes nothing; `1.0` sends the most recent items
/// to the end.
pub fn push_back_recent<T>(
    items: Vec<T>,
    age: impl Fn(&T) -> Option<usize>,
    strength: f64,
) -> Result<Vec<T>> {
    if !(strength >= 0.0 && strength.is_finite()) {
        return Err(ShuffleError::InvalidParam {
            param: "strength",
            reason: format!("must be finite and >= 0, got {strength}"),
        });
    }
    let n = items.len() as f64;
    let mut keyed: Vec<(f64, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let push = age(item).map_or(0.0, |a| strength * n / (1.0 + a as f64));
            (i as f64 + push, i)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    Ok(apply_order(items, order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// Brute force: is there any order of these group counts within the cap?
    fn feasible(
        counts: &mut Vec<usize>,
        seq: &mut Vec<usize>,
        window: usize,
        max: usize,
        seen: &mut HashSet<(Vec<usize>, Vec<usize>)>,
    ) -> bool {
        if counts.iter().all(|&c| c == 0) {
            return true;
        }
        let tail: Vec<usize> = seq.iter().rev().take(window - 1).copied().collect();
        if !seen.insert((counts.clone(), tail.clone())) {
            return false;
        }
        for g in 0..counts.len() {
            if counts[g] > 0 && tail.iter().filter(|&&x| x == g).count() < max {
                counts[g] -= 1;
                seq.push(g);
                let ok = feasible(counts, seq, window, max, seen);
                seq.pop();
                counts[g] += 1;
                if ok {
                    return true;
                }
            }
        }
        false
    }

    /// Brute force: can `steps` slots be filled from `counts` after `tail` (most recent last)
    /// within the cap?
    fn fillable(
        counts: &mut Vec<usize>,
        tail: &mut Vec<usize>,
        window: usize,
        max: usize,
        steps: usize,
    ) -> bool {
        if steps == 0 {
            return true;
        }
        let recent: Vec<usize> = tail.iter().rev().take(window - 1).copied().collect();
        for g in 0..counts.len() {
            if counts[g] > 0 && recent.iter().filter(|&&x| x == g).count() < max {
                counts[g] -= 1;
                tail.push(g);
                let ok = fillable(counts, tail, window, max, steps - 1);
                tail.pop();
                counts[g] += 1;
                if ok {
                    return true;
                }
            }
        }
        false
    }

    #[test]
    fn a_lopsided_pool_keeps_the_cap_in_the_served_slots_and_the_score_order_within_it() {
        // 30 candidates scored 30, 29, ..., 1; the 25 best in one cluster (0), the other five
        // in one cluster (1), or each in its own (1..=5).
        for separate in [false, true] {
            let items: Vec<(usize, f64)> = (0..30)
                .map(|i| {
                    let g = match (i < 25, separate) {
                        (true, _) => 0,
                        (false, false) => 1,
                        (false, true) => i - 24,
                    };
                    (g, 30.0 - i as f64)
                })
                .collect();
            let ranker = FairRanker::params().window(4, 2).check().expect("valid");
            let served = ranker
                .rerank_top(items.clone(), 10, |x| x.1, |x| x.0)
                .expect("finite");
            let top: Vec<usize> = served.items[..10].iter().map(|x| x.0).collect();
            assert_eq!(violations(&top, 4, 2), 0, "{top:?}");
            assert_eq!(served.report.window_violations, 0);
            // The minority's items come in score order, and the majority's too.
            let order: Vec<u32> = served.items[..10]
                .iter()
                .map(|x| (30.0 - x.1) as u32)
                .collect();
            let minority: Vec<u32> = order.iter().copied().filter(|&i| i >= 25).collect();
            assert!(minority.windows(2).all(|w| w[0] < w[1]), "{order:?}");
            assert_eq!(order[..2], [0, 1], "{order:?}");
            assert_eq!(order[2], 25, "the best item the cap allows: {order:?}");
            // Over the whole pool the cap cannot hold; no low item jumps ahead of a higher one
            // of the same standing.
            let all = ranker.rerank(items, |x| x.1, |x| x.0).expect("finite");
            let order: Vec<u32> = all.items.iter().map(|x| (30.0 - x.1) as u32).collect();
            let at = |i: u32| order.iter().position(|&x| x == i).expect("placed");
            assert!((25..29).all(|i| at(i) < at(29)), "{order:?}");
        }
    }

    fn violations(groups: &[usize], window: usize, max: usize) -> usize {
        (0..groups.len())
            .filter(|&i| {
                let lo = (i + 1).saturating_sub(window);
                groups[lo..=i].iter().filter(|&&g| g == groups[i]).count() > max
            })
            .count()
    }

    #[test]
    fn keeps_score_order_without_rules_and_rejects_nan() {
        let items = vec![(0, 0.1), (1, 0.9), (0, 0.5)];
        let r = FairRanker::params()
            .check()
            .expect("valid")
            .rerank(items.clone(), |x| x.1, |x| x.0)
            .expect("finite");
        assert_eq!(r.items, vec![(1, 0.9), (0, 0.5), (0, 0.1)]);
        assert_eq!(r.report.ndcg, 1.0);
        let bad = vec![(0, f64::NAN)];
        assert!(matches!(
            FairRanker::params()
                .check()
                .expect("valid")
                .rerank(bad, |x| x.1, |x| x.0),
            Err(ShuffleError::NonFiniteScore { index: 0, .. })
        ));
        for (w, m) in [(0, 0), (3, 3), (2, 0), (1, 2)] {
            assert!(
                FairRanker::params::<u8>().window(w, m).check().is_err(),
                "{w} {m}"
            );
        }
        assert!(FairRanker::params()
            .targets([(0u8, 0.7), (1u8, 0.7)], 5)
            .check()
            .is_err());
    }

    #[test]
    fn targets_give_the_minority_its_share() {
        // Group 0 has all the top scores; a 50/50 target interleaves the top 6.
        let items: Vec<(u8, f64)> = (0..6)
            .map(|i| (0, 10.0 - i as f64))
            .chain((0..6).map(|i| (1, 1.0 - i as f64 * 0.1)))
            .collect();
        let ranker = FairRanker::params()
            .targets([(0u8, 0.5), (1u8, 0.5)], 6)
            .check()
            .expect("valid");
        let r = ranker.rerank(items, |x| x.1, |x| x.0).expect("ok");
        let top: Vec<u8> = r.items[..6].iter().map(|x| x.0).collect();
        assert_eq!(top.iter().filter(|&&g| g == 1).count(), 3, "{top:?}");
        assert_eq!(r.report.target_relaxations, 0);
    }

    #[test]
    fn recent_items_move_down() {
        let out = push_back_recent(vec!['a', 'b', 'c', 'd'], |c| (*c == 'a').then_some(0), 1.0)
            .expect("valid");
        assert_eq!(out, vec!['b', 'c', 'd', 'a']);
        assert!(push_back_recent(vec![1], |_| None, f64::NAN).is_err());
    }

    proptest! {
        /// In the served slots: the cap holds whenever some served order keeps it, and each
        /// slot holds the best-scored item among the groups the cap allows there, unless
        /// placing that group would leave the remaining served slots no way to keep the cap.
        #[test]
        fn served_slots_keep_the_cap_and_the_score_order_the_cap_allows(
            entries in proptest::collection::vec((0usize..3, 0u8..20), 0..12),
            window in 2usize..5,
            max in 1usize..3,
            slots in 0usize..12,
        ) {
            prop_assume!(max < window);
            let ranker = FairRanker::params().window(window, max).check().expect("valid");
            let items: Vec<(usize, f64)> = entries.iter().map(|&(g, s)| (g, f64::from(s))).collect();
            let r = ranker.rerank_top(items.clone(), slots, |x| x.1, |x| x.0).expect("finite");
            prop_assert_eq!(r.items.len(), items.len());
            let served = slots.min(items.len());
            let groups: Vec<usize> = r.items[..served].iter().map(|x| x.0).collect();
            let mut counts = vec![0usize; 3];
            for e in &items { counts[e.0] += 1; }
            let possible = fillable(&mut counts.clone(), &mut Vec::new(), window, max, served);
            if possible {
                prop_assert_eq!(violations(&groups, window, max), 0, "{:?}", groups);
            }
            // The greedy rule, slot by slot.
            let mut left = counts.clone();
            let mut tail: Vec<usize> = Vec::new();
            let mut remaining = items.clone();
            for (pos, chosen) in r.items[..served].iter().enumerate() {
                let recent: Vec<usize> = tail.iter().rev().take(window - 1).copied().collect();
                for h in 0..3 {
                    let best = remaining.iter().filter(|x| x.0 == h).map(|x| x.1).fold(f64::MIN, f64::max);
                    let allowed = left[h] > 0 && recent.iter().filter(|&&x| x == h).count() < max;
                    if h == chosen.0 || !allowed || best <= chosen.1 {
                        continue;
                    }
                    // A better allowed group was passed over: it must have broken the rest.
                    let mut l = left.clone();
                    l[h] -= 1;
                    let mut t = tail.clone();
                    t.push(h);
                    let steps = served - pos - 1;
                    let chosen_ok = {
                        let mut l2 = left.clone();
                        l2[chosen.0] -= 1;
                        let mut t2 = tail.clone();
                        t2.push(chosen.0);
                        fillable(&mut l2, &mut t2, window, max, steps)
                    };
                    prop_assert!(
                        chosen_ok && !fillable(&mut l, &mut t, window, max, steps),
                        "slot {}: group {} (best {}) passed over for {:?}; served {:?}",
                        pos, h, best, chosen, &r.items[..served]
                    );
                }
                left[chosen.0] -= 1;
                tail.push(chosen.0);
                let at = remaining.iter().position(|x| x == chosen).expect("present");
                remaining.remove(at);
            }
        }

        #[test]
        fn window_cap_holds_whenever_a_feasible_order_exists(
            entries in proptest::collection::vec((0usize..3, -5.0f64..5.0), 0..10),
            window in 2usize..5,
            max in 1usize..3,
        ) {
            prop_assume!(max < window);
            let ranker = FairRanker::params().window(window, max).check().expect("valid");
            let r = ranker.rerank(entries.clone(), |x| x.1, |x| x.0).expect("finite");
            prop_assert_eq!(r.items.len(), entries.len());
            let groups: Vec<usize> = r.items.iter().map(|x| x.0).collect();
            let mut counts = vec![0usize; 3];
            for e in &entries { counts[e.0] += 1; }
            let ok = feasible(&mut counts, &mut Vec::new(), window, max, &mut HashSet::new());
            if ok {
                prop_assert_eq!(violations(&groups, window, max), 0, "{:?}", groups);
                prop_assert_eq!(r.report.window_violations, 0);
            } else {
                prop_assert!(r.report.window_violations > 0);
            }
        }
    }
}
