//! Running one batch through the network as groups of rows of similar length.

use tch::{Device, Kind, Tensor};

use crate::model::Network;

impl Network {
    /// Hidden states `[n, len, hidden]` of left-padded item sequences `seqs` `[n, len]`,
    /// computed as up to `groups` groups of rows of similar real length, each cut to its own
    /// longest sequence (neighbouring groups that would be cut to the same length run as one).
    /// Real positions get what [`Network::forward_t`] gives them over the whole batch (the
    /// model reads each row on its own); what padding positions hold has no meaning.
    /// Attention costs the square of the length and the position-wise layers the length, so
    /// when a batch's lengths differ this does less work than one call (with 4 groups an epoch
    /// took 1.8x less time on ML-1M at length 200, where the histories fill about half of that
    /// length on average, docs/experiments.md).
    pub(crate) fn forward_grouped(&self, seqs: &Tensor, groups: usize, train: bool) -> Tensor {
        let (n, len) = seqs.size2().unwrap_or((0, 0));
        if groups <= 1 || n < 2 {
            return self.forward_t(seqs, train);
        }
        let device = seqs.device();
        let lens = seqs
            .ne(0)
            .sum_dim_intlist(1, false, Kind::Int64)
            .to_device(Device::Cpu);
        let lens = Vec::<i64>::try_from(&lens).unwrap_or_else(|_| vec![len; n as usize]);
        let mut order: Vec<i64> = (0..n).collect();
        order.sort_by_key(|&r| lens[r as usize]);
        // Group ends in the sorted order; neighbours cut to the same length run as one group.
        let per_group = order.len().div_ceil(groups);
        let cut = |end: usize| lens[order[end - 1] as usize].clamp(1, len);
        let mut ends: Vec<usize> = Vec::with_capacity(groups);
        for g in 1..=groups {
            let end = (g * per_group).min(order.len());
            match ends.last_mut() {
                Some(last) if cut(*last) == cut(end) => *last = end,
                _ => ends.push(end),
            }
        }
        if ends.len() == 1 && cut(order.len()) == len {
            return self.forward_t(seqs, train);
        }
        let mut start = 0;
        let outs: Vec<Tensor> = ends
            .iter()
            .map(|&end| {
                let (rows, m) = (&order[start..end], cut(end));
                start = end;
                let idx = Tensor::from_slice(rows).to_device(device);
                let h = self.forward_t(&seqs.index_select(0, &idx).narrow(1, len - m, m), train);
                if m < len {
                    h.constant_pad_nd([0, 0, len - m, 0])
                } else {
                    h
                }
            })
            .collect();
        let mut back = vec![0i64; order.len()];
        for (at, &r) in order.iter().enumerate() {
            back[r as usize] = at as i64;
        }
        Tensor::cat(&outs, 0).index_select(0, &Tensor::from_slice(&back).to_device(device))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tch::{Device, Kind, Tensor};

    use crate::model::{ModelConfig, Network};

    fn net(seed: u64) -> Network {
        let config = ModelConfig {
            n_items: 30,
            hidden: 8,
            blocks: 2,
            heads: 2,
            max_len: 12,
            dropout: 0.3,
            pre_ln: false,
            feature_dim: 0,
            separate_output: false,
            item_bias: false,
            attention_output_dropout: false,
            id_dropout: 0.0,
        };
        Network::new(&config, seed, Device::Cpu).expect("valid config")
    }

    /// Left-padded rows of the given real lengths, items from a seeded generator.
    fn rows(lens: &[usize], len: usize, seed: u64) -> Tensor {
        let mut x = seed;
        let mut flat = vec![0i64; lens.len() * len];
        for (r, &l) in lens.iter().enumerate() {
            for j in len - l..len {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                flat[r * len + j] = 1 + (x >> 33) as i64 % 30;
            }
        }
        Tensor::from_slice(&flat).view([lens.len() as i64, len as i64])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Grouping changes the work, not the answer: real positions agree with one call over
        /// the whole batch, for any lengths and any number of groups.
        #[test]
        fn groups_give_the_whole_batch_outputs_at_real_positions(
            lens in prop::collection::vec(1usize..=12, 1..9),
            groups in 1usize..6,
            seed in 0u64..1000,
        ) {
            let net = net(seed);
            let len = *lens.iter().max().unwrap_or(&1);
            let seqs = rows(&lens, len, seed);
            let whole = net.forward_t(&seqs, false);
            let grouped = net.forward_grouped(&seqs, groups, false);
            prop_assert_eq!(grouped.size(), whole.size());
            let real = seqs.ne(0).unsqueeze(-1).to_kind(Kind::Float);
            let diff = ((whole - grouped) * real).abs().max().double_value(&[]);
            prop_assert!(diff < 1e-5, "largest difference {diff}");
        }
    }

    /// Gradients flow to the parameters through every group.
    #[test]
    fn grouped_forward_trains_every_group() {
        let net = net(3);
        let seqs = rows(&[2, 12, 5, 9], 12, 1);
        let h = net.forward_grouped(&seqs, 4, false);
        let real = seqs.ne(0).unsqueeze(-1).to_kind(Kind::Float);
        // Squares: the final layer norm makes each position's plain sum a constant.
        (h.square() * real).sum(Kind::Float).backward();
        let item = &net.item_tables()[0];
        let grad = item.grad();
        // Every item that occurs in the batch gets a gradient.
        let present: Vec<i64> = Vec::try_from(seqs.flatten(0, -1)).expect("ids");
        for i in present.into_iter().filter(|&i| i > 0) {
            let g = grad.get(i).abs().sum(Kind::Float).double_value(&[]);
            assert!(g > 0.0, "item {i} got no gradient");
        }
    }
}
