//! Ranked lists from the recommender's scores: the top of each history's scores among the
//! items a call allows, fair re-ranking, new-item slots, and the report's several kinds of
//! lists from one scoring.

use groundrec_sasrec::ItemIdx;
use rayon::prelude::*;

use crate::error::Result;
use crate::fitted::FittedPipeline;
use crate::recommend::{EmptyReason, Plan, RecommendOptions, Rerank};

/// Which lists [`FittedPipeline::position_lists`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// The recommender's ranking, re-ranked by the pipeline's fairness settings.
    Fair,
    /// The recommender's ranking as it is.
    Model,
    /// The most popular items outside the history.
    Popularity,
}

/// A ranked list before it is dressed as [`crate::Recommendation`]s.
pub(crate) struct Ranked {
    /// Item positions, best first.
    pub(crate) positions: Vec<usize>,
    /// Their scores.
    pub(crate) scores: Vec<f32>,
    /// Ranked from the history (else by popularity: an empty history).
    pub(crate) from_history: bool,
    /// Why the list is empty, when it is.
    pub(crate) empty: Option<EmptyReason>,
}

impl FittedPipeline {
    /// Lists (item positions, best first) of `n` items for histories of item indices, one set
    /// of lists per entry of `kinds` (in that order): the recommender's ranking re-ranked by
    /// the pipeline's settings ([`ListKind::Fair`]) or as it is ([`ListKind::Model`]), or the
    /// most popular items outside each history ([`ListKind::Popularity`]). The recommender
    /// scores each history once for all the kinds that need its scores.
    pub(crate) fn position_lists(
        &self,
        histories: &[Vec<ItemIdx>],
        n: usize,
        kinds: &[ListKind],
    ) -> Result<Vec<Vec<Vec<usize>>>> {
        let plans = kinds
            .iter()
            .map(|k| {
                let rerank = match k {
                    ListKind::Fair => Rerank::Pipeline,
                    ListKind::Model | ListKind::Popularity => Rerank::Off,
                };
                self.plan(&RecommendOptions::new(n).rerank(rerank), Some(&self.fair))
            })
            .collect::<Result<Vec<_>>>()?;
        let scored: Vec<&Plan> = kinds
            .iter()
            .zip(&plans)
            .filter(|(k, _)| **k != ListKind::Popularity)
            .map(|(_, p)| p)
            .collect();
        let mut ranked = if scored.is_empty() {
            Vec::new()
        } else {
            self.ranked(histories, &scored)?
        }
        .into_iter();
        let popular = self.model.popularity_shares();
        kinds
            .iter()
            .zip(&plans)
            .map(|(k, plan)| match k {
                ListKind::Popularity => histories
                    .par_iter()
                    .map(|h| Ok(self.positions(popular, h, plan)?.unwrap_or_default()))
                    .collect(),
                ListKind::Fair | ListKind::Model => Ok(ranked
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.positions)
                    .collect()),
            })
            .collect()
    }

    /// Ranked lists for histories of item indices, one set per plan (`[plan][history]`); each
    /// history is scored once for all the plans.
    pub(crate) fn ranked(
        &self,
        histories: &[Vec<ItemIdx>],
        plans: &[&Plan],
    ) -> Result<Vec<Vec<Ranked>>> {
        let popular = self.model.popularity_shares();
        let mut out: Vec<Vec<Ranked>> = plans
            .iter()
            .map(|_| Vec::with_capacity(histories.len()))
            .collect();
        for chunk in histories.chunks(256) {
            let with: Vec<Vec<ItemIdx>> = chunk.iter().filter(|h| !h.is_empty()).cloned().collect();
            let scores = if with.is_empty() {
                None
            } else {
                Some(self.model.scores(&with)?)
            };
            let mut rows = scores.as_ref().map(|s| s.outer_iter());
            let jobs: Vec<(&Vec<ItemIdx>, Option<ndarray::ArrayView1<'_, f32>>)> = chunk
                .iter()
                .map(|h| {
                    let row = match h.is_empty() {
                        true => None,
                        false => rows.as_mut().and_then(|r| r.next()),
                    };
                    (h, row)
                })
                .collect();
            let lists: Vec<Result<Vec<Ranked>>> = jobs
                .into_par_iter()
                .map(|(h, row)| {
                    let owned;
                    let scores: &[f32] = match &row {
                        Some(r) => match r.as_slice() {
                            Some(s) => s,
                            None => {
                                owned = r.to_vec();
                                &owned
                            }
                        },
                        None => popular,
                    };
                    plans
                        .iter()
                        .map(|plan| {
                            Ok(match self.positions(scores, h, plan)? {
                                Ok(positions) => Ranked {
                                    scores: positions.iter().map(|&p| scores[p]).collect(),
                                    positions,
                                    from_history: row.is_some(),
                                    empty: None,
                                },
                                Err(empty) => Ranked {
                                    positions: Vec::new(),
                                    scores: Vec::new(),
                                    from_history: row.is_some(),
                                    empty: Some(empty),
                                },
                            })
                        })
                        .collect()
                })
                .collect();
            for per_plan in lists {
                for (o, r) in out.iter_mut().zip(per_plan?) {
                    o.push(r);
                }
            }
        }
        Ok(out)
    }

    /// The list (item positions) from scores over every item, or why it is empty.
    pub(crate) fn positions(
        &self,
        scores: &[f32],
        seen: &[ItemIdx],
        plan: &Plan,
    ) -> Result<std::result::Result<Vec<usize>, EmptyReason>> {
        let mut ok = plan.eligible.clone();
        if !plan.include_seen {
            for i in seen {
                ok[i.index()] = false;
            }
        }
        let pool = match &plan.rerank {
            Some(f) => plan.n.saturating_mul(f.pool_factor),
            None => plan.n,
        };
        let best = top(scores, &ok, pool);
        if best.is_empty() {
            return Ok(Err(if plan.any_eligible {
                EmptyReason::AllSeen
            } else {
                EmptyReason::NoMatch
            }));
        }
        let mut ordered = match &plan.rerank {
            Some(f) => {
                f.ranker
                    .rerank_top(
                        best,
                        plan.n,
                        |&p| f64::from(scores[p]),
                        |&p| self.clusters[p],
                    )?
                    .items
            }
            None => best,
        };
        ordered.truncate(plan.n);
        if let Some(f) = plan.rerank.as_ref().filter(|f| f.new_item_slots > 0) {
            let counts = self.model.popularity();
            let fresh = |p: usize| counts[p] == 0;
            keep_new_item_slots(&mut ordered, scores, ok, fresh, plan.n, f.new_item_slots);
        }
        Ok(Ok(ordered))
    }
}

/// Makes at least `slots` of the `n` items of `list` new ones (`fresh`), as far as allowed new
/// items (`ok`, consumed as the scratch mask) are left: the best-scored new items not yet
/// listed take the last places, in score order, in place of the lowest-placed items that are
/// not new. New items already listed count and keep their places.
fn keep_new_item_slots(
    list: &mut Vec<usize>,
    scores: &[f32],
    mut ok: Vec<bool>,
    fresh: impl Fn(usize) -> bool,
    n: usize,
    slots: usize,
) {
    let have = list.iter().filter(|&&p| fresh(p)).count();
    let want = slots.min(n);
    if have >= want {
        return;
    }
    for (p, o) in ok.iter_mut().enumerate() {
        *o = *o && fresh(p);
    }
    for &p in list.iter() {
        ok[p] = false;
    }
    let extra = top(scores, &ok, want - have);
    while list.len() + extra.len() > n {
        match list.iter().rposition(|&p| !fresh(p)) {
            Some(at) => {
                list.remove(at);
            }
            None => break,
        }
    }
    list.extend(extra);
}

/// Positions of the `k` best `scores` where `ok`, best first (ties: lower position first):
/// [`crate::sasrec::best_k`] over the positions `ok` covers.
pub(crate) fn top(scores: &[f32], ok: &[bool], k: usize) -> Vec<usize> {
    let n = scores.len().min(ok.len());
    crate::sasrec::best_k(&scores[..n], k, |p| ok[p])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scoring once for several kinds gives each kind's lists as asking for it alone, and the
    /// fair lists are the ones `recommend_batch` serves.
    #[test]
    fn lists_of_several_kinds_match_lists_asked_one_by_one() {
        let items = (0..40).map(|i| {
            crate::Item::new(
                format!("i{i}"),
                format!("lecture {i}"),
                format!("topic {}", i % 5),
            )
            .with_category(format!("c{}", i % 4))
        });
        let (catalog, _) = crate::Catalog::from_items(items).expect("catalogue");
        let log = crate::simulate_learners(
            &catalog,
            &crate::DemoLearners {
                learners: 60,
                ..Default::default()
            },
        );
        let (fitted, _) = crate::Pipeline::builder()
            .hashing(32)
            .clusters(crate::Clusters::Fixed(4))
            .sasrec(
                crate::sasrec::SasRec::params()
                    .hidden(16)
                    .epochs(2)
                    .early_stopping(None),
            )
            .check()
            .expect("valid")
            .fit(&catalog, &log.events)
            .expect("fits");
        let mut histories: Vec<Vec<ItemIdx>> = (0..30u32)
            .map(|u| {
                (0..u % 6)
                    .map(|j| ItemIdx::new((u * 7 + j * 3) % 40))
                    .collect()
            })
            .collect();
        histories.push(Vec::new());
        let kinds = [ListKind::Fair, ListKind::Model, ListKind::Popularity];
        let together = fitted.position_lists(&histories, 5, &kinds).expect("lists");
        assert_eq!(together.len(), kinds.len());
        for (k, lists) in kinds.iter().zip(&together) {
            let alone = fitted.position_lists(&histories, 5, &[*k]).expect("lists");
            assert_eq!(&alone[0], lists, "{k:?}");
            assert_eq!(lists.len(), histories.len());
        }
        assert_ne!(
            together[0], together[1],
            "the fair re-ranking moves some lists"
        );
        assert_ne!(
            together[1], together[2],
            "the model ranks differently from popularity"
        );
        let ids: Vec<Vec<&str>> = histories
            .iter()
            .map(|h| {
                h.iter()
                    .map(|i| catalog.items()[i.index()].id.as_str())
                    .collect()
            })
            .collect();
        let refs: Vec<&[&str]> = ids.iter().map(|h| h.as_slice()).collect();
        let served = fitted
            .recommend_batch(&refs, &RecommendOptions::new(5))
            .expect("served");
        for (list, fair) in served.iter().zip(&together[0]) {
            let positions: Vec<usize> = list
                .items
                .iter()
                .map(|r| catalog.position(&r.item).expect("listed items exist"))
                .collect();
            assert_eq!(&positions, fair);
        }
    }

    proptest::proptest! {
        /// The heap gives what sorting every allowed candidate gives, ties included.
        #[test]
        fn top_equals_a_full_sort(
            raw in proptest::collection::vec((0u8..6, proptest::bool::weighted(0.8)), 0..200),
            k in 0usize..40,
        ) {
            let scores: Vec<f32> = raw.iter().map(|r| f32::from(r.0) / 2.0).collect();
            let ok: Vec<bool> = raw.iter().map(|r| r.1).collect();
            let mut want: Vec<usize> = (0..scores.len()).filter(|&p| ok[p]).collect();
            want.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            want.truncate(k);
            proptest::prop_assert_eq!(top(&scores, &ok, k), want);
        }
    }

    proptest::proptest! {
        /// The new-item slots: the list keeps its length (or grows to n), holds
        /// min(slots, n, new items allowed) new items, keeps every new item it had, keeps
        /// the old items it keeps in their order, and adds the best new ones in score order.
        #[test]
        fn new_item_slots_hold(
            raw in proptest::collection::vec((0u8..8, proptest::bool::ANY, proptest::bool::weighted(0.8)), 1..60),
            start in 0usize..12,
            n in 1usize..12,
            slots in 0usize..5,
        ) {
            let scores: Vec<f32> = raw.iter().map(|r| f32::from(r.0)).collect();
            let fresh: Vec<bool> = raw.iter().map(|r| r.1).collect();
            let ok: Vec<bool> = raw.iter().map(|r| r.2).collect();
            let before = top(&scores, &ok, start.min(n));
            let mut list = before.clone();
            keep_new_item_slots(&mut list, &scores, ok.clone(), |p| fresh[p], n, slots);
            let new_in = |l: &[usize]| l.iter().filter(|&&p| fresh[p]).count();
            let available = (0..scores.len()).filter(|&p| ok[p] && fresh[p]).count();
            let want = slots.min(n).min(available).max(new_in(&before));
            proptest::prop_assert_eq!(new_in(&list), want);
            proptest::prop_assert!(list.len() <= n);
            proptest::prop_assert!(list.len() >= before.len());
            let mut unique = list.clone();
            unique.sort_unstable();
            unique.dedup();
            proptest::prop_assert_eq!(unique.len(), list.len());
            for p in before.iter().filter(|&&p| fresh[p]) {
                proptest::prop_assert!(list.contains(p));
            }
            let kept: Vec<usize> = before.iter().copied().filter(|p| list.contains(p)).collect();
            proptest::prop_assert_eq!(&list[..kept.len()], &kept[..]);
            let added = &list[kept.len()..];
            proptest::prop_assert!(added.iter().all(|&p| fresh[p] && ok[p]));
            proptest::prop_assert!(added.windows(2).all(|w| scores[w[0]] >= scores[w[1]]));
            // No new item left out scores above one added.
            if let Some(&worst) = added.last() {
                proptest::prop_assert!((0..scores.len())
                    .filter(|p| ok[*p] && fresh[*p] && !list.contains(p))
                    .all(|p| scores[p] <= scores[worst]));
            }
        }
    }

    #[test]
    fn top_keeps_the_best_allowed_in_order() {
        let s = [0.5, 0.9, 0.1, 0.9, 0.7];
        assert_eq!(top(&s, &[true; 5], 3), vec![1, 3, 4]);
        assert_eq!(top(&s, &[true, false, true, true, true], 2), vec![3, 4]);
        assert_eq!(top(&s, &[false; 5], 2), Vec::<usize>::new());
        assert_eq!(top(&s, &[true; 5], 9).len(), 5);
    }
}
