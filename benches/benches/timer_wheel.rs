//! The timer wheel (core::timer_wheel) against a std BinaryHeap timer queue, for
//! the timers of 10k sessions x 3 (hold, keepalive, connect retry): arm, cancel,
//! re-arm (the hold/keepalive restart on every message) and expire.
//!
//! The heap is the usual alternative: a min-heap of (deadline, id) with lazy
//! cancellation through a generation per timer slot, so cancel is O(1) and arm
//! and pop are O(log n); stale entries stay in the heap until popped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nexthop_core::time::{Duration, Instant};
use nexthop_core::timer_wheel::{TimerHandle, TimerWheel};

const SESSIONS: usize = 10_000;
const TIMERS: usize = SESSIONS * 3;
/// 4096 buckets of 100 ms: one rotation is 409.6 s, longer than any BGP timer
/// here, so every bucket holds only timers due at its tick.
type Wheel = TimerWheel<u32, 4096, 32_768>;

fn resolution() -> Duration {
    Duration::from_millis(100)
}

/// Deadlines spread like a running speaker's: keepalives within 30 s, hold
/// timers within 90 s, connect retries within 120 s, all from `base`.
fn deadlines(base: Instant, seed: u64) -> Vec<Instant> {
    let mut x = seed | 1;
    (0..TIMERS)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let span = [30_000, 90_000, 120_000][i % 3];
            base + Duration::from_millis(x % span)
        })
        .collect()
}

fn new_wheel() -> Box<Wheel> {
    Box::new(Wheel::new(resolution()))
}

/// A BinaryHeap timer queue with lazy cancellation.
struct HeapQueue {
    heap: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    generation: Vec<u32>,
    armed: Vec<bool>,
}

impl HeapQueue {
    fn new() -> Self {
        HeapQueue {
            heap: BinaryHeap::with_capacity(TIMERS * 2),
            generation: vec![0; TIMERS],
            armed: vec![false; TIMERS],
        }
    }
    fn arm(&mut self, at: Instant, id: u32) {
        let i = id as usize;
        self.generation[i] = self.generation[i].wrapping_add(1);
        self.armed[i] = true;
        self.heap.push(Reverse((at, id, self.generation[i])));
    }
    fn cancel(&mut self, id: u32) {
        let i = id as usize;
        self.generation[i] = self.generation[i].wrapping_add(1);
        self.armed[i] = false;
    }
    fn poll(&mut self, now: Instant) -> Option<u32> {
        while let Some(Reverse((at, id, generation))) = self.heap.peek().copied() {
            if at > now {
                return None;
            }
            self.heap.pop();
            let i = id as usize;
            if self.armed[i] && self.generation[i] == generation {
                self.armed[i] = false;
                return Some(id);
            }
        }
        None
    }
}

fn bench(c: &mut Criterion) {
    let base = Instant::from_secs(1_000);
    let first = deadlines(base, 0x9e37_79b9);
    let second = deadlines(base + Duration::from_secs(1), 0x7f4a_7c15);

    let mut g = c.benchmark_group("timers_10k_sessions_x3");
    g.throughput(Throughput::Elements(TIMERS as u64));

    // Arm 30k timers into an empty structure.
    g.bench_function("arm/wheel", |b| {
        b.iter_batched_ref(
            new_wheel,
            |w| {
                for (i, at) in first.iter().enumerate() {
                    black_box(w.arm(*at, i as u32).ok());
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("arm/heap", |b| {
        b.iter_batched_ref(
            HeapQueue::new,
            |q| {
                for (i, at) in first.iter().enumerate() {
                    q.arm(*at, i as u32);
                }
            },
            BatchSize::LargeInput,
        )
    });

    // Cancel 30k armed timers.
    let armed_wheel = || {
        let mut w = new_wheel();
        let hs: Vec<TimerHandle> = first
            .iter()
            .enumerate()
            .map(|(i, at)| w.arm(*at, i as u32).unwrap())
            .collect();
        (w, hs)
    };
    let armed_heap = || {
        let mut q = HeapQueue::new();
        for (i, at) in first.iter().enumerate() {
            q.arm(*at, i as u32);
        }
        q
    };
    g.bench_function("cancel/wheel", |b| {
        b.iter_batched_ref(
            armed_wheel,
            |(w, hs)| {
                for h in hs.iter() {
                    black_box(w.cancel(*h));
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("cancel/heap", |b| {
        b.iter_batched_ref(
            armed_heap,
            |q| {
                for i in 0..TIMERS {
                    q.cancel(i as u32);
                }
            },
            BatchSize::LargeInput,
        )
    });

    // Re-arm all 30k to later deadlines (a message restarts hold and keepalive).
    g.bench_function("rearm/wheel", |b| {
        b.iter_batched_ref(
            armed_wheel,
            |(w, hs)| {
                for (h, at) in hs.iter_mut().zip(&second) {
                    if let Some(n) = w.rearm(*h, *at) {
                        *h = n;
                    }
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("rearm/heap", |b| {
        b.iter_batched_ref(
            armed_heap,
            |q| {
                for (i, at) in second.iter().enumerate() {
                    q.arm(*at, i as u32);
                }
            },
            BatchSize::LargeInput,
        )
    });

    // Expire all 30k, polling every 100 ms over the 120 s they span.
    let end = base + Duration::from_secs(121);
    g.bench_function("expire/wheel", |b| {
        b.iter_batched_ref(
            armed_wheel,
            |(w, _)| {
                let mut now = base;
                let mut fired = 0usize;
                while now <= end {
                    while let Some((_, v)) = w.poll(now) {
                        fired += 1;
                        black_box(v);
                    }
                    now += resolution();
                }
                assert_eq!(fired, TIMERS);
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("expire/heap", |b| {
        b.iter_batched_ref(
            armed_heap,
            |q| {
                let mut now = base;
                let mut fired = 0usize;
                while now <= end {
                    while let Some(v) = q.poll(now) {
                        fired += 1;
                        black_box(v);
                    }
                    now += resolution();
                }
                assert_eq!(fired, TIMERS);
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
