//! An ordered map for the RIB and the Adj-RIB-Out: sorted chunks of at most
//! [`CHUNK`] entries, keys and values in separate arrays, under a sorted index of
//! the chunks' lower bounds.
//!
//! Against a hash map it keeps neighbouring prefixes in neighbouring memory (a
//! table dump arrives, is decided and is sent in prefix order, so each step touches
//! the chunk the last one did), it grows a chunk at a time instead of doubling and
//! rehashing the whole table, and it walks in order from any key. Against
//! `BTreeMap` it stores an entry in its key and value sizes with no per-node slack
//! when filled in order. The last chunk used is remembered, so a run of nearby
//! keys costs one comparison to find its chunk.

use std::cell::Cell;

/// Most entries a chunk holds before it is split.
pub const CHUNK: usize = 128;

#[derive(Clone, Debug, Default)]
struct Chunk<K, V> {
    keys: Vec<K>,
    vals: Vec<V>,
}

impl<K, V> Chunk<K, V> {
    fn with_capacity(n: usize) -> Self {
        Chunk {
            keys: Vec::with_capacity(n),
            vals: Vec::with_capacity(n),
        }
    }

    /// Room for one more, growing by doubling up to [`CHUNK`], so a chunk's
    /// allocation stays within a factor of two of its entries.
    fn grow(&mut self) {
        if self.keys.len() == self.keys.capacity() {
            let want = (self.keys.capacity() * 2).clamp(4, CHUNK) - self.keys.len();
            self.keys.reserve_exact(want);
            self.vals.reserve_exact(want);
        }
    }

    /// Gives memory back once three quarters of it is unused.
    fn shrink(&mut self) {
        let cap = self.keys.capacity();
        if cap > 8 && self.keys.len() <= cap / 4 {
            self.keys.shrink_to(cap / 2);
            self.vals.shrink_to(cap / 2);
        }
    }
}

/// An ordered map from `K` to `V` (see the module documentation).
///
/// Invariant: chunk `c` holds only keys `k` with `lower[c] <= k < lower[c + 1]`,
/// sorted; a chunk may be empty (emptied chunks are dropped in bulk, so a mass
/// withdrawal does not shift the index once per chunk).
#[derive(Debug)]
pub struct ChunkMap<K, V> {
    lower: Vec<K>,
    // Boxed so that a split shifts 8 bytes a chunk in the index, not 48.
    #[allow(clippy::vec_box)]
    chunks: Vec<Box<Chunk<K, V>>>,
    len: usize,
    empty: usize,
    hint: Cell<usize>,
}

impl<K, V> Default for ChunkMap<K, V> {
    fn default() -> Self {
        ChunkMap {
            lower: Vec::new(),
            chunks: Vec::new(),
            len: 0,
            empty: 0,
            hint: Cell::new(0),
        }
    }
}

impl<K: Ord + Copy, V> ChunkMap<K, V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunk whose range holds `k`: the last with a lower bound at or below
    /// it, or the first. `None` when there are no chunks.
    fn chunk_of(&self, k: &K) -> Option<usize> {
        let n = self.lower.len();
        if n == 0 {
            return None;
        }
        let h = self.hint.get();
        if h < n && (h == 0 || self.lower[h] <= *k) && (h + 1 == n || *k < self.lower[h + 1]) {
            return Some(h);
        }
        let c = self.lower.partition_point(|l| l <= k).saturating_sub(1);
        self.hint.set(c);
        Some(c)
    }

    /// The value of `k`.
    pub fn get(&self, k: &K) -> Option<&V> {
        let ch = &self.chunks[self.chunk_of(k)?];
        let i = ch.keys.binary_search(k).ok()?;
        Some(&ch.vals[i])
    }

    /// The value of `k`, mutable.
    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        let c = self.chunk_of(k)?;
        let ch = &mut self.chunks[c];
        let i = ch.keys.binary_search(k).ok()?;
        Some(&mut ch.vals[i])
    }

    /// The value of `k`, inserting `make()` first if there is none.
    pub fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        let Some(mut c) = self.chunk_of(&k) else {
            let mut ch = Chunk::with_capacity(4);
            ch.keys.push(k);
            ch.vals.push(make());
            self.lower.push(k);
            self.chunks.push(Box::new(ch));
            self.len = 1;
            self.hint.set(0);
            return &mut self.chunks[0].vals[0];
        };
        let keys = &self.chunks[c].keys;
        // A table filled in order appends: one comparison instead of a search.
        let found = match keys.last() {
            Some(last) if *last < k => Err(keys.len()),
            _ => keys.binary_search(&k),
        };
        let mut i = match found {
            Ok(i) => return &mut self.chunks[c].vals[i],
            Err(i) => i,
        };
        if self.chunks[c].keys.is_empty() {
            self.empty -= 1;
        }
        if self.chunks[c].keys.len() == CHUNK {
            if c + 1 == self.chunks.len() && i == CHUNK {
                // Appending past the last chunk (a table filled in order): start a
                // new one and leave this one full.
                self.lower.push(k);
                self.chunks.push(Box::new(Chunk::with_capacity(4)));
                c += 1;
                i = 0;
            } else {
                let half = CHUNK / 2;
                let mut right = Chunk::with_capacity(half.next_power_of_two());
                right.keys.extend(self.chunks[c].keys.drain(half..));
                right.vals.extend(self.chunks[c].vals.drain(half..));
                self.lower.insert(c + 1, right.keys[0]);
                self.chunks.insert(c + 1, Box::new(right));
                if i > half {
                    c += 1;
                    i -= half;
                }
            }
        }
        if c == 0 && k < self.lower[0] {
            self.lower[0] = k;
        }
        let ch = &mut self.chunks[c];
        ch.grow();
        ch.keys.insert(i, k);
        ch.vals.insert(i, make());
        self.len += 1;
        self.hint.set(c);
        &mut self.chunks[c].vals[i]
    }

    /// Removes `k`; returns its value.
    pub fn remove(&mut self, k: &K) -> Option<V> {
        let c = self.chunk_of(k)?;
        let ch = &mut self.chunks[c];
        let i = ch.keys.binary_search(k).ok()?;
        ch.keys.remove(i);
        let v = ch.vals.remove(i);
        ch.shrink();
        self.len -= 1;
        if ch.keys.is_empty() {
            self.empty += 1;
            if self.empty > 16 && self.empty * 2 > self.chunks.len() {
                self.drop_empty();
            }
        }
        Some(v)
    }

    /// Drops the empty chunks, in one pass.
    fn drop_empty(&mut self) {
        let mut c = 0;
        self.lower.retain(|_| {
            c += 1;
            !self.chunks[c - 1].keys.is_empty()
        });
        self.chunks.retain(|ch| !ch.keys.is_empty());
        self.empty = 0;
        self.hint.set(0);
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.chunks
            .iter()
            .flat_map(|ch| ch.keys.iter().zip(ch.vals.iter()))
    }

    /// Every entry, in key order, values mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.chunks
            .iter_mut()
            .flat_map(|ch| ch.keys.iter().zip(ch.vals.iter_mut()))
    }

    /// The entries with keys after `k` (every entry for `None`), in key order.
    pub fn iter_after<'a>(
        &'a self,
        k: Option<&K>,
    ) -> impl Iterator<Item = (&'a K, &'a V)> + use<'a, K, V> {
        let (c, i) = match k.and_then(|k| Some((k, self.chunk_of(k)?))) {
            None => (0, 0),
            Some((k, c)) => {
                let keys = &self.chunks[c].keys;
                (c, keys.partition_point(|x| x <= k))
            }
        };
        let first = self
            .chunks
            .get(c)
            .map(|ch| ch.keys[i..].iter().zip(ch.vals[i..].iter()));
        first.into_iter().flatten().chain(
            self.chunks
                .iter()
                .skip(c + 1)
                .flat_map(|ch| ch.keys.iter().zip(ch.vals.iter())),
        )
    }

    /// Keeps the entries for which `keep` says yes.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut kept: Vec<bool> = Vec::new();
        for ch in &mut self.chunks {
            let was_empty = ch.keys.is_empty();
            let Chunk { keys, vals } = &mut **ch;
            let mut j = 0;
            let mut w = 0;
            kept.clear();
            for (k, v) in keys.iter().zip(vals.iter_mut()) {
                kept.push(keep(k, v));
            }
            keys.retain(|_| {
                j += 1;
                kept[j - 1]
            });
            vals.retain(|_| {
                w += 1;
                kept[w - 1]
            });
            self.len -= kept.iter().filter(|&&x| !x).count();
            ch.shrink();
            if !was_empty && ch.keys.is_empty() {
                self.empty += 1;
            }
        }
        if self.empty > 0 && self.empty * 2 > self.chunks.len() {
            self.drop_empty();
        }
    }

    /// Bytes allocated for entries and the index (for memory accounting).
    pub fn allocated_bytes(&self) -> usize {
        let per_chunk = std::mem::size_of::<Chunk<K, V>>()
            + std::mem::size_of::<K>()
            + std::mem::size_of::<Box<Chunk<K, V>>>();
        self.chunks
            .iter()
            .map(|ch| {
                ch.keys.capacity() * std::mem::size_of::<K>()
                    + ch.vals.capacity() * std::mem::size_of::<V>()
            })
            .sum::<usize>()
            + self.chunks.capacity() * per_chunk
    }
}

impl<'a, K: Ord + Copy, V> IntoIterator for &'a ChunkMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Box<dyn Iterator<Item = (&'a K, &'a V)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::ops::Bound;

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u16, u32),
        Remove(u16),
        Get(u16),
        After(u16),
        Retain(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Small key spaces exercise collisions, wide ones exercise splits.
        let key = prop_oneof![0u16..64, any::<u16>()];
        prop_oneof![
            4 => (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
            3 => key.clone().prop_map(Op::Remove),
            1 => key.clone().prop_map(Op::Get),
            1 => key.clone().prop_map(Op::After),
            1 => any::<u16>().prop_map(|m| Op::Retain(m | 1)),
        ]
    }

    fn check(m: &ChunkMap<u16, u32>, r: &BTreeMap<u16, u32>) {
        assert_eq!(m.len(), r.len());
        let a: Vec<_> = m.iter().map(|(k, v)| (*k, *v)).collect();
        let b: Vec<_> = r.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(a, b);
        for (c, ch) in m.chunks.iter().enumerate() {
            assert!(ch.keys.len() <= CHUNK);
            assert_eq!(ch.keys.len(), ch.vals.len());
            for k in &ch.keys {
                assert!(c == 0 || m.lower[c] <= *k);
                assert!(c + 1 == m.chunks.len() || *k < m.lower[c + 1]);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        /// The map behaves as `BTreeMap` under any sequence of operations.
        #[test]
        fn behaves_as_btreemap(ops in proptest::collection::vec(op(), 0..2000)) {
            let mut m = ChunkMap::new();
            let mut r = BTreeMap::new();
            for (step, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Insert(k, v) => {
                        let e = m.get_or_insert_with(k, || v);
                        prop_assert_eq!(*e, *r.entry(k).or_insert(v));
                        *e = e.wrapping_add(1);
                        *r.get_mut(&k).unwrap() = r[&k].wrapping_add(1);
                    }
                    Op::Remove(k) => prop_assert_eq!(m.remove(&k), r.remove(&k)),
                    Op::Get(k) => prop_assert_eq!(m.get(&k), r.get(&k)),
                    Op::After(k) => {
                        let a: Vec<_> = m.iter_after(Some(&k)).map(|(k, v)| (*k, *v)).collect();
                        let b: Vec<_> = r.range((Bound::Excluded(k), Bound::Unbounded)).map(|(k, v)| (*k, *v)).collect();
                        prop_assert_eq!(a, b);
                    }
                    Op::Retain(mask) => {
                        m.retain(|k, _| k & mask != 0);
                        r.retain(|k, _| k & mask != 0);
                    }
                }
                if step % 32 == 0 {
                    check(&m, &r);
                }
            }
            check(&m, &r);
        }
    }

    #[test]
    fn in_order_fill_leaves_chunks_full() {
        let mut m = ChunkMap::new();
        for k in 0..100_000u32 {
            m.get_or_insert_with(k, || 0u32);
        }
        assert_eq!(m.len(), 100_000);
        assert_eq!(m.chunks.len(), 100_000usize.div_ceil(CHUNK));
        // 8 bytes an entry plus the index; a BTreeMap would be about twice this.
        assert!(m.allocated_bytes() < 100_000 * 9);
    }

    #[test]
    fn mass_removal_drops_chunks_and_memory() {
        let mut m = ChunkMap::new();
        for k in 0..100_000u32 {
            m.get_or_insert_with(k, || k);
        }
        for k in 0..99_990u32 {
            assert_eq!(m.remove(&k), Some(k));
        }
        assert_eq!(m.len(), 10);
        assert!(m.chunks.len() <= 17 + 1, "{} chunks left", m.chunks.len());
        assert_eq!(m.iter_after(None).count(), 10);
        assert_eq!(m.get(&99_995), Some(&99_995));
    }
}
