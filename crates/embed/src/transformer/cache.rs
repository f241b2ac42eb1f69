//! A bounded text → vector cache (first in, first out).

use std::collections::{HashMap, VecDeque};

#[derive(Debug)]
pub(crate) struct TextCache {
    capacity: usize,
    map: HashMap<String, Vec<f32>>,
    order: VecDeque<String>,
}

impl TextCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub(crate) fn get(&self, text: &str) -> Option<&[f32]> {
        self.map.get(text).map(Vec::as_slice)
    }

    pub(crate) fn put(&mut self, text: &str, v: &[f32]) {
        if self.capacity == 0 || self.map.contains_key(text) {
            return;
        }
        while self.map.len() >= self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        self.map.insert(text.to_string(), v.to_vec());
        self.order.push_back(text.to_string());
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oldest_entry_is_evicted_first() {
        let mut c = TextCache::new(2);
        c.put("a", &[1.0]);
        c.put("b", &[2.0]);
        c.put("c", &[3.0]);
        assert!(c.get("a").is_none());
        assert_eq!(c.get("b"), Some(&[2.0][..]));
        assert_eq!(c.get("c"), Some(&[3.0][..]));
    }

    proptest! {
        #[test]
        fn never_exceeds_capacity(cap in 0usize..8, keys in proptest::collection::vec("[a-e]{1,2}", 0..50)) {
            let mut c = TextCache::new(cap);
            for k in &keys {
                c.put(k, &[0.0]);
                prop_assert!(c.len() <= cap);
            }
        }
    }
}
