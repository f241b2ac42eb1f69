//! The item index callers use: 0-based, with no padding slot. The network's padding id stays
//! inside this crate (`dense`).

use serde::{Deserialize, Serialize};

/// An item's position in the model's item list (`0..n_items`).
///
/// SASRec reserves id 0 for padding inside the network; that convention never leaves this
/// crate, so callers index items from 0 like any other list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemIdx(u32);

impl ItemIdx {
    /// The item at position `i`.
    pub const fn new(i: u32) -> Self {
        Self(i)
    }

    /// The position as `u32`.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// The position as `usize`, for indexing.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The network's id of this item (padding is 0).
    pub(crate) fn dense(self) -> i64 {
        i64::from(self.0) + 1
    }
}

impl From<u32> for ItemIdx {
    fn from(i: u32) -> Self {
        Self(i)
    }
}

impl std::fmt::Display for ItemIdx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// `usize` positions as item indices (for tests and generated data).
pub fn items(positions: impl IntoIterator<Item = u32>) -> Vec<ItemIdx> {
    positions.into_iter().map(ItemIdx).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_ids_are_one_above_positions() {
        let i = ItemIdx::new(4);
        assert_eq!((i.get(), i.index(), i.dense()), (4, 4, 5));
        assert_eq!(items([0, 2]), vec![ItemIdx::new(0), ItemIdx::new(2)]);
    }
}
