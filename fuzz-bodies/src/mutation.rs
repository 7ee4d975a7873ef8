//! Inputs generated from the seed corpus, for running the fuzz targets without
//! libFuzzer: each is a seed changed by one to four mutations, drawn from a
//! generator seeded by one `u64`, so a run is repeated exactly by its seed.
//!
//! Most mutations change the body of one whole message and then write its header
//! again with the new length (RFC 4271 §4.1), so the input still frames and the
//! change reaches the parser of that message type instead of stopping at the
//! framing check. The others flip the session byte, splice in a message of another
//! seed, truncate, change bytes anywhere (headers included), or start from random
//! bytes.

use std::ops::Range;

use nexthop_core::wire::header::{self, HEADER_LEN, Header, MAX_EXTENDED_MESSAGE_LEN, frame};

/// Byte values that sit on the edges of BGP fields: lengths, flags (optional,
/// transitive, partial, extended length), prefix lengths, type codes.
const INTERESTING_U8: [u8; 16] = [
    0, 1, 2, 3, 4, 0x0f, 0x10, 0x18, 0x20, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xfe, 0xff,
];

/// 16-bit values for length fields and AS numbers (AS_TRANS is 23456).
const INTERESTING_U16: [u16; 10] = [0, 1, 19, 4095, 4096, 4097, 23456, 0x7fff, 0x8000, 0xffff];

/// The generator of inputs: an endless iterator, to be bounded with `take`.
#[derive(Clone, Debug)]
pub struct Mutator<'s> {
    seeds: &'s [Vec<u8>],
    rng: SplitMix64,
}

impl<'s> Mutator<'s> {
    /// A generator over `seeds` (inputs in the session-byte format); with no seeds
    /// it makes random inputs only. The same `seeds` and `seed` give the same
    /// sequence.
    pub fn new(seeds: &'s [Vec<u8>], seed: u64) -> Self {
        Mutator {
            seeds,
            rng: SplitMix64(seed),
        }
    }

    fn random_bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.rng.below(max_len + 1);
        (0..len).map(|_| self.rng.byte()).collect()
    }

    /// A seed, or one time in 64 (and always without seeds) random bytes.
    fn start(&mut self) -> Vec<u8> {
        if self.seeds.is_empty() || self.rng.below(64) == 0 {
            return self.random_bytes(96);
        }
        self.seeds[self.rng.below(self.seeds.len())].clone()
    }

    /// Changes the body of one whole message of `input` and writes its header
    /// again for the new length; false when no message frames.
    fn mutate_message(&mut self, input: &mut Vec<u8>) -> bool {
        let spans = messages(input);
        if spans.is_empty() {
            return false;
        }
        let span = spans[self.rng.below(spans.len())].clone();
        let message_type = Header::new_unchecked(&input[span.clone()]).message_type();
        let mut body = input[span.start + HEADER_LEN..span.end].to_vec();
        self.mutate_bytes(&mut body);
        body.truncate(MAX_EXTENDED_MESSAGE_LEN - HEADER_LEN);
        let mut message = vec![0; HEADER_LEN];
        if header::emit(&mut message, HEADER_LEN + body.len(), message_type).is_err() {
            return false;
        }
        message.extend_from_slice(&body);
        input.splice(span, message);
        true
    }

    /// Appends or inserts a whole message of a seed (or its first bytes, when none
    /// of it frames).
    fn splice(&mut self, input: &mut Vec<u8>) {
        if self.seeds.is_empty() {
            return;
        }
        let donor = &self.seeds[self.rng.below(self.seeds.len())];
        let spans = messages(donor);
        let piece = match spans.len() {
            0 => &donor[..self.rng.below(donor.len() + 1)],
            n => &donor[spans[self.rng.below(n)].clone()],
        };
        let at = match messages(input).as_slice() {
            [] => input.len(),
            spans => spans[self.rng.below(spans.len())].start,
        };
        input.splice(at..at, piece.iter().copied());
    }

    /// One byte-level change somewhere in `bytes`.
    fn mutate_bytes(&mut self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        match self.rng.below(8) {
            0 if len > 0 => {
                let at = self.rng.below(len);
                bytes[at] ^= 1 << self.rng.below(8);
            }
            1 if len > 0 => {
                let at = self.rng.below(len);
                bytes[at] = INTERESTING_U8[self.rng.below(INTERESTING_U8.len())];
            }
            2 if len > 1 => {
                let at = self.rng.below(len - 1);
                let value = INTERESTING_U16[self.rng.below(INTERESTING_U16.len())];
                bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
            }
            3 if len > 0 => {
                // A small step up or down: lengths one off either way.
                let at = self.rng.below(len);
                let delta = 1 + self.rng.byte() % 16;
                bytes[at] = if self.rng.below(2) == 0 {
                    bytes[at].wrapping_add(delta)
                } else {
                    bytes[at].wrapping_sub(delta)
                };
            }
            4 if len > 0 => {
                let range = self.range(len, 8);
                bytes.drain(range);
            }
            5 if len > 0 => {
                // A run of bytes again, e.g. an attribute or a prefix twice.
                let range = self.range(len, 32);
                let copy = bytes[range].to_vec();
                let at = self.rng.below(len + 1);
                bytes.splice(at..at, copy);
            }
            _ => {
                let at = self.rng.below(len + 1);
                let extra = self.random_bytes(8);
                bytes.splice(at..at, extra);
            }
        }
    }

    /// A non-empty range of at most `max` bytes inside `0..len` (`len > 0`).
    fn range(&mut self, len: usize, max: usize) -> Range<usize> {
        let start = self.rng.below(len);
        let n = 1 + self.rng.below(max.min(len - start));
        start..start + n
    }
}

impl Iterator for Mutator<'_> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let mut input = self.start();
        for _ in 0..=self.rng.below(4) {
            match self.rng.below(16) {
                0 => match input.first_mut() {
                    Some(bits) => *bits = self.rng.byte(),
                    None => input.push(self.rng.byte()),
                },
                1 => self.splice(&mut input),
                2 => {
                    let at = self.rng.below(input.len() + 1);
                    input.truncate(at);
                }
                3..=5 => self.mutate_bytes(&mut input),
                _ => {
                    if !self.mutate_message(&mut input) {
                        self.mutate_bytes(&mut input);
                    }
                }
            }
        }
        Some(input)
    }
}

/// The whole messages of an input (after its session byte) that frame one after
/// the other, as ranges of the input.
pub fn messages(input: &[u8]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut at = 1;
    while at < input.len() {
        match frame(&input[at..], MAX_EXTENDED_MESSAGE_LEN) {
            Ok(Some(len)) => {
                spans.push(at..at + len);
                at += len;
            }
            Ok(None) | Err(_) => break,
        }
    }
    spans
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a small generator whose whole state
/// is the seed, enough for choosing mutations.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A KEEPALIVE and an empty UPDATE behind session byte 1.
    fn two_messages() -> Vec<u8> {
        let mut input = vec![1];
        let mut keepalive = [0; HEADER_LEN];
        header::emit(&mut keepalive, HEADER_LEN, 4.into()).unwrap();
        input.extend_from_slice(&keepalive);
        let mut update = [0; HEADER_LEN + 4];
        header::emit(&mut update, HEADER_LEN + 4, 2.into()).unwrap();
        input.extend_from_slice(&update);
        input
    }

    #[test]
    fn messages_are_found_after_the_session_byte() {
        let input = two_messages();
        assert_eq!(messages(&input), [1..20, 20..43]);
        assert_eq!(messages(&input[..42]), vec![1..20]);
        assert_eq!(messages(&[1]), []);
    }

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let seeds = [two_messages()];
        let a: Vec<_> = Mutator::new(&seeds, 7).take(200).collect();
        let b: Vec<_> = Mutator::new(&seeds, 7).take(200).collect();
        let c: Vec<_> = Mutator::new(&seeds, 8).take(200).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_changed_message_body_gets_its_new_length_in_the_header() {
        let mut update = vec![1; 1 + HEADER_LEN + 8];
        header::emit(&mut update[1..], HEADER_LEN + 8, 2.into()).unwrap();
        let seeds = [update];
        let mut mutator = Mutator::new(&seeds, 1);
        let mut lengths = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut input = seeds[0].clone();
            assert!(mutator.mutate_message(&mut input));
            let header = Header::new_unchecked(&input[1..]);
            assert_eq!(usize::from(header.length()), input.len() - 1);
            assert_eq!(u8::from(header.message_type()), 2);
            lengths.insert(input.len());
        }
        assert!(lengths.len() > 1, "no mutation changed the length");
    }
}
