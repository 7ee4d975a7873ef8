//! The fair receive budget: how much received data a runtime hands to the
//! speaker in one loop turn, and in which order. At most the budget goes over
//! per turn, so a burst from one peer cannot fill every other peer's output
//! before anything is written; and the budget is shared: in each pass every
//! connection with data waiting gets an equal part, in the order they came, so
//! peers sending at once are read side by side rather than one after the other
//! (which would make the router decide and send each prefix once per peer
//! instead of once). Connections the budget did not reach go first next turn.
//!
//! What "reading" a connection is stays the runtime's: a `read(2)` (runtime-mio)
//! or handing over a receive completion already in a buffer (runtime-uring).

/// What one read of a connection did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taken {
    /// Bytes handed to the speaker.
    pub bytes: usize,
    /// The connection may have more (it stays waiting); `false`: it has none now
    /// (the socket would block, the connection is gone) and leaves the list
    /// until the runtime adds it again.
    pub more: bool,
}

/// The connections (keys `K`) with received data waiting, in order.
#[derive(Clone, Debug)]
pub struct ReceiveBudget<K> {
    waiting: Vec<K>,
    served: Vec<K>,
}

impl<K> Default for ReceiveBudget<K> {
    fn default() -> Self {
        ReceiveBudget {
            waiting: Vec::new(),
            served: Vec::new(),
        }
    }
}

impl<K: Copy> ReceiveBudget<K> {
    /// Nothing waiting.
    pub fn new() -> Self {
        Self::default()
    }

    /// `conn` has data waiting. The runtime adds a connection once, and again
    /// only after a read of it returned `more: false`.
    pub fn push(&mut self, conn: K) {
        self.waiting.push(conn);
    }

    /// Whether no connection is waiting (else the runtime should not sleep).
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Connections waiting.
    pub fn len(&self) -> usize {
        self.waiting.len()
    }

    /// Hands over at most about `budget` bytes: in passes, each waiting
    /// connection's `read(conn, share)` hands over about `share` bytes (at least
    /// one read or completion, so at most one more than `share`), the share being
    /// an equal part of what is left; until the budget is spent or nothing is
    /// waiting.
    pub fn hand_over(&mut self, budget: usize, mut read: impl FnMut(K, usize) -> Taken) {
        let mut left = budget;
        while left > 0 && !self.waiting.is_empty() {
            let share = (left / self.waiting.len()).max(1);
            let mut progressed = false;
            let mut unserved = 0;
            let waiting = std::mem::take(&mut self.waiting);
            self.served.clear();
            for k in waiting {
                if left == 0 {
                    // Not reached this turn: first in the next.
                    self.waiting.push(k);
                    unserved += 1;
                    continue;
                }
                let t = read(k, share.min(left));
                left = left.saturating_sub(t.bytes);
                progressed |= t.bytes > 0 || !t.more;
                if t.more {
                    self.served.push(k);
                }
            }
            debug_assert_eq!(unserved, self.waiting.len());
            self.waiting.append(&mut self.served);
            if !progressed {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connections with `have` bytes each, read in chunks of at most `chunk`.
    fn run(
        have: &mut [usize],
        chunk: usize,
        budget: usize,
        b: &mut ReceiveBudget<usize>,
    ) -> Vec<(usize, usize)> {
        let mut log = Vec::new();
        b.hand_over(budget, |k, share| {
            let mut taken = 0;
            while taken < share && have[k] > 0 {
                let n = have[k].min(chunk);
                have[k] -= n;
                taken += n;
                log.push((k, n));
            }
            Taken {
                bytes: taken,
                more: have[k] > 0,
            }
        });
        log
    }

    #[test]
    fn two_senders_are_read_side_by_side() {
        let mut have = [100_000, 100_000];
        let mut b = ReceiveBudget::new();
        b.push(0);
        b.push(1);
        let log = run(&mut have, 4096, 64 * 1024, &mut b);
        // Each took half the budget (rounded up to whole chunks), in turns.
        let took = |k| {
            log.iter()
                .filter(|(c, _)| *c == k)
                .map(|(_, n)| n)
                .sum::<usize>()
        };
        assert_eq!(took(0), 32 * 1024);
        assert_eq!(took(1), 32 * 1024);
        assert_eq!(log.first().map(|x| x.0), Some(0));
        assert_eq!(b.len(), 2, "both still have data");
        // Runs of one connection are at most a share long.
        let mut run_len = 0;
        let mut last = usize::MAX;
        for &(k, n) in &log {
            run_len = if k == last { run_len + n } else { n };
            last = k;
            assert!(run_len <= 32 * 1024);
        }
    }

    #[test]
    fn a_connection_that_runs_dry_leaves_and_the_others_share_what_is_left() {
        let mut have = [1000, 100_000, 0];
        let mut b = ReceiveBudget::new();
        for k in 0..3 {
            b.push(k);
        }
        let log = run(&mut have, 512, 30_000, &mut b);
        // 0 gives 1000, 2 gives nothing: 1 gets the rest of the budget over the
        // passes.
        let took1: usize = log.iter().filter(|(c, _)| *c == 1).map(|(_, n)| n).sum();
        assert!((29_000..=29_512).contains(&took1), "{took1}");
        assert_eq!(have[0], 0);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn connections_the_budget_did_not_reach_go_first_next_turn() {
        let mut have = [1 << 20; 4];
        let mut b = ReceiveBudget::new();
        for k in 0..4 {
            b.push(k);
        }
        // Chunks bigger than a share: each read overshoots, the budget runs out
        // after two connections.
        let log = run(&mut have, 8192, 16384, &mut b);
        assert_eq!(log, [(0, 8192), (1, 8192)]);
        let log = run(&mut have, 8192, 16384, &mut b);
        assert_eq!(log, [(2, 8192), (3, 8192)]);
        let log = run(&mut have, 8192, 16384, &mut b);
        assert_eq!(log, [(0, 8192), (1, 8192)]);
    }

    #[test]
    fn order_within_and_across_turns_is_kept_until_every_byte_is_read() {
        let mut have = [5000, 7000];
        let mut b = ReceiveBudget::new();
        b.push(0);
        b.push(1);
        let mut turns = 0;
        while !b.is_empty() {
            run(&mut have, 1000, 3000, &mut b);
            turns += 1;
        }
        assert_eq!(have, [0, 0]);
        assert_eq!(turns, 4, "12000 bytes at 3000 a turn");
    }
}
