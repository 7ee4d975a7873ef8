//! A hashed timing wheel for the deadlines of many sessions (Varghese and Lauck's
//! scheme 6): fixed capacity, O(1) arm and cancel through handles, no allocation.
//!
//! Each [`Session`](crate::session::Session) keeps its own few timers and reports
//! one next deadline (`poll_timeout`); a runtime with thousands of sessions puts
//! those deadlines here. Time is cut into ticks of a configurable resolution (the
//! seed daemon used 100 ms); a deadline fires at the first tick boundary at or after
//! it, so never early and at most one resolution late. Entries live in a slab of
//! `CAP` slots linked into `SLOTS` buckets by the tick they fire at, modulo `SLOTS`.
//!
//! A runtime keeps, per session, the handle of its one armed deadline:
//!
//! ```
//! use nexthop_core::time::{Duration, Instant};
//! use nexthop_core::timer_wheel::TimerWheel;
//!
//! // 1024 buckets of 100 ms (a rotation is 102.4 s), room for 4096 sessions.
//! let mut wheel: TimerWheel<u32, 1024, 4096> = TimerWheel::new(Duration::from_millis(100));
//! let session = 7u32;
//! // After driving session 7: re-arm its deadline (Session::poll_timeout).
//! let handle = wheel.arm(Instant::from_millis(1_250), session).unwrap();
//! assert!(wheel.poll(Instant::from_millis(1_250)).is_none()); // next tick: 1.3 s
//! assert_eq!(wheel.poll(Instant::from_millis(1_300)), Some((handle, session)));
//! // Then: session.handle_timeout(now), drive it, arm its new poll_timeout().
//! ```

use crate::time::{Duration, Instant};

const NIL: u32 = u32::MAX;

/// A reference to an armed timer, for [`TimerWheel::cancel`]. A handle whose timer
/// fired or was cancelled is stale: cancelling it does nothing, even after its slot
/// is reused (the generation tells them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TimerHandle {
    index: u32,
    generation: u32,
}

/// Every entry of the wheel is in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WheelFull;

impl core::fmt::Display for WheelFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("timer wheel is full")
    }
}

impl core::error::Error for WheelFull {}

#[derive(Clone, Copy, Debug)]
struct Entry<T> {
    tick: u64,
    prev: u32,
    next: u32,
    generation: u32,
    value: Option<T>,
}

/// A hashed timing wheel of `SLOTS` buckets holding up to `CAP` timers, each
/// carrying a `T` (typically a session index) given back when it fires.
///
/// `poll(now)` yields expired timers one per call; each call visits at most one
/// rotation of buckets, however far `now` jumped. Polling early or twice is harmless.
pub struct TimerWheel<T, const SLOTS: usize, const CAP: usize> {
    resolution_ms: u64,
    /// Every armed entry fires at or after this tick; buckets before it are done.
    cursor: u64,
    /// Where an interrupted scan resumes: the tick whose bucket is being scanned
    /// and the next entry in it (`NIL` once that bucket is exhausted), and the
    /// tick of `now` it was scanned against.
    scan: Option<(u64, u32, u64)>,
    heads: [u32; SLOTS],
    free: u32,
    len: usize,
    entries: [Entry<T>; CAP],
}

impl<T: Copy, const SLOTS: usize, const CAP: usize> TimerWheel<T, SLOTS, CAP> {
    /// An empty wheel whose ticks last `resolution` (at least 1 ms), with tick 0
    /// at the epoch of [`Instant`].
    pub const fn new(resolution: Duration) -> Self {
        assert!(SLOTS > 0 && CAP < NIL as usize, "bad wheel dimensions");
        let mut entries = [const {
            Entry {
                tick: 0,
                prev: NIL,
                next: NIL,
                generation: 0,
                value: None,
            }
        }; CAP];
        let mut i = 0;
        while i < CAP {
            entries[i].next = if i + 1 < CAP { (i + 1) as u32 } else { NIL };
            i += 1;
        }
        let res = resolution.total_millis();
        TimerWheel {
            resolution_ms: if res == 0 { 1 } else { res },
            cursor: 0,
            scan: None,
            heads: [NIL; SLOTS],
            free: if CAP > 0 { 0 } else { NIL },
            len: 0,
            entries,
        }
    }

    /// The tick length.
    pub const fn resolution(&self) -> Duration {
        Duration::from_millis(self.resolution_ms)
    }

    /// Timers armed.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no timer is armed.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most timers the wheel holds.
    pub const fn capacity(&self) -> usize {
        CAP
    }

    const fn bucket(tick: u64) -> usize {
        (tick % SLOTS as u64) as usize
    }

    /// Arms a timer firing at `deadline` with `value`. O(1).
    pub fn arm(&mut self, deadline: Instant, value: T) -> Result<TimerHandle, WheelFull> {
        let index = self.free;
        let Some(entry) = self.entries.get_mut(index as usize) else {
            return Err(WheelFull);
        };
        self.free = entry.next;
        // Round up so a timer never fires early; a deadline already passed fires at
        // the next poll that reaches the cursor.
        let tick = deadline
            .total_millis()
            .div_ceil(self.resolution_ms)
            .max(self.cursor);
        entry.tick = tick;
        entry.value = Some(value);
        entry.prev = NIL;
        let generation = entry.generation;
        let bucket = Self::bucket(tick);
        let head = self.heads[bucket];
        self.entries[index as usize].next = head;
        if let Some(h) = self.entries.get_mut(head as usize) {
            h.prev = index;
        }
        self.heads[bucket] = index;
        // A scan paused in this bucket resumes past the head: restart it there so
        // the new entry is seen (entries already passed over are not due).
        if let Some((scan_tick, scan_next, _)) = &mut self.scan
            && Self::bucket(*scan_tick) == bucket
        {
            *scan_next = index;
        }
        self.len += 1;
        Ok(TimerHandle { index, generation })
    }

    /// Cancels a timer; returns its value, or `None` for a stale handle. O(1).
    pub fn cancel(&mut self, handle: TimerHandle) -> Option<T> {
        let entry = self.entries.get(handle.index as usize)?;
        if entry.generation != handle.generation || entry.value.is_none() {
            return None;
        }
        self.remove(handle.index)
    }

    /// Moves an armed timer to a new deadline: cancel then arm, still O(1).
    pub fn rearm(&mut self, handle: TimerHandle, deadline: Instant) -> Option<TimerHandle> {
        let value = self.cancel(handle)?;
        self.arm(deadline, value).ok()
    }

    fn remove(&mut self, index: u32) -> Option<T> {
        let i = index as usize;
        let (prev, next, tick) = {
            let e = &self.entries[i];
            (e.prev, e.next, e.tick)
        };
        if let Some((_, scan_next, _)) = &mut self.scan
            && *scan_next == index
        {
            *scan_next = next;
        }
        match self.entries.get_mut(prev as usize) {
            Some(p) => p.next = next,
            None => self.heads[Self::bucket(tick)] = next,
        }
        if let Some(n) = self.entries.get_mut(next as usize) {
            n.prev = prev;
        }
        let e = &mut self.entries[i];
        let value = e.value.take();
        e.generation = e.generation.wrapping_add(1);
        e.prev = NIL;
        e.next = self.free;
        self.free = index;
        self.len -= 1;
        value
    }

    /// The next expired timer at `now`, removed from the wheel, or `None` when
    /// every timer due by `now` has been given out. Call it until `None`.
    ///
    /// One call visits at most `SLOTS` buckets (one rotation) and the entries in
    /// them, however long since the last poll.
    pub fn poll(&mut self, now: Instant) -> Option<(TimerHandle, T)> {
        let now_tick = now.total_millis() / self.resolution_ms;
        if self.len == 0 {
            self.cursor = self.cursor.max(now_tick.saturating_add(1));
            self.scan = None;
            return None;
        }
        let mut visited = 0usize;
        loop {
            let (tick, mut i) = match self.scan {
                // Resume inside a bucket only if the bar is the same; a later `now`
                // may make entries already passed over due, so rescan it.
                Some((tick, next, bar)) if bar == now_tick => (tick, next),
                Some((tick, _, _)) => (tick, self.heads[Self::bucket(tick)]),
                None => {
                    if self.cursor > now_tick {
                        return None;
                    }
                    (self.cursor, self.heads[Self::bucket(self.cursor)])
                }
            };
            while let Some(e) = self.entries.get(i as usize) {
                let next = e.next;
                if e.tick <= now_tick {
                    let generation = e.generation;
                    self.scan = Some((tick, next, now_tick));
                    let value = self.remove(i)?;
                    return Some((
                        TimerHandle {
                            index: i,
                            generation,
                        },
                        value,
                    ));
                }
                i = next;
            }
            // This bucket holds nothing due by `now_tick`.
            visited += 1;
            self.scan = None;
            self.cursor = tick + 1;
            if visited >= SLOTS {
                // A whole rotation was seen with `now_tick` as the bar: everything
                // due has been given out.
                self.cursor = self.cursor.max(now_tick.saturating_add(1));
                return None;
            }
            if tick >= now_tick {
                return None;
            }
        }
    }

    /// The earliest tick boundary at which a timer may fire, for a runtime that
    /// sleeps; `None` when empty. It walks the buckets from the cursor and stops
    /// at the first one holding a timer due in this rotation (every timer fires
    /// at or after the cursor, so nothing later can be earlier): a session's next
    /// keepalive a few seconds away costs a few dozen buckets. A wheel whose
    /// timers are all more than a rotation away costs O(SLOTS + len).
    pub fn next_expiry(&self) -> Option<Instant> {
        if self.len == 0 {
            return None;
        }
        let mut best: Option<u64> = None;
        for k in 0..SLOTS as u64 {
            let tick = self.cursor.saturating_add(k);
            let mut i = self.heads[Self::bucket(tick)];
            while let Some(e) = self.entries.get(i as usize) {
                if e.tick <= tick {
                    best = Some(e.tick);
                    return best.map(|t| self.instant_of(t));
                }
                best = Some(best.map_or(e.tick, |b| b.min(e.tick)));
                i = e.next;
            }
        }
        best.map(|t| self.instant_of(t))
    }

    fn instant_of(&self, tick: u64) -> Instant {
        Instant::from_millis(tick.saturating_mul(self.resolution_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    type Wheel = TimerWheel<u32, 8, 16>;

    /// The earliest deadline by looking at every bucket and entry: what
    /// `next_expiry` must agree with.
    fn earliest_by_full_scan<const S: usize, const C: usize>(
        w: &TimerWheel<u32, S, C>,
    ) -> Option<Instant> {
        let mut best: Option<u64> = None;
        for &head in &w.heads {
            let mut i = head;
            while let Some(e) = w.entries.get(i as usize) {
                best = Some(best.map_or(e.tick, |b| b.min(e.tick)));
                i = e.next;
            }
        }
        best.map(|t| w.instant_of(t))
    }

    fn drain(w: &mut Wheel, now: Instant) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some((_, v)) = w.poll(now) {
            out.push(v);
        }
        out.sort();
        out
    }

    #[test]
    fn fires_never_early_at_most_one_tick_late() {
        let mut w = Wheel::new(Duration::from_millis(100));
        w.arm(Instant::from_millis(1050), 1).unwrap();
        w.arm(Instant::from_millis(1100), 2).unwrap();
        assert!(drain(&mut w, Instant::from_millis(1000)).is_empty());
        assert!(drain(&mut w, Instant::from_millis(1099)).is_empty());
        assert_eq!(drain(&mut w, Instant::from_millis(1100)), [1, 2]);
        assert!(w.is_empty());
    }

    #[test]
    fn far_deadlines_survive_rotations_and_jumps() {
        let mut w = Wheel::new(Duration::from_millis(100));
        // 8 buckets of 100 ms: a rotation is 800 ms.
        w.arm(Instant::from_millis(5_000), 1).unwrap();
        w.arm(Instant::from_millis(300), 2).unwrap();
        assert_eq!(drain(&mut w, Instant::from_millis(400)), [2]);
        assert!(drain(&mut w, Instant::from_millis(4_900)).is_empty());
        // A jump far past the deadline still finds it in one rotation.
        assert_eq!(drain(&mut w, Instant::from_millis(90_000)), [1]);
    }

    #[test]
    fn cancel_is_by_handle_and_stale_handles_do_nothing() {
        let mut w = Wheel::new(Duration::from_millis(100));
        let a = w.arm(Instant::from_millis(200), 1).unwrap();
        let b = w.arm(Instant::from_millis(200), 2).unwrap();
        assert_eq!(w.cancel(a), Some(1));
        assert_eq!(w.cancel(a), None);
        let c = w.arm(Instant::from_millis(200), 3).unwrap(); // reuses a's slot
        assert_eq!(w.cancel(a), None);
        assert_eq!(drain(&mut w, Instant::from_millis(200)), [2, 3]);
        assert_eq!(w.cancel(b), None);
        assert_eq!(w.cancel(c), None);
    }

    #[test]
    fn full_wheel_is_an_error_not_a_panic() {
        let mut w = Wheel::new(Duration::from_millis(100));
        for i in 0..16 {
            w.arm(Instant::from_millis(100 * u64::from(i)), i).unwrap();
        }
        assert_eq!(w.arm(Instant::ZERO, 99), Err(WheelFull));
        assert_eq!(w.len(), 16);
    }

    #[test]
    fn cancelling_during_a_scan_keeps_the_scan_valid() {
        let mut w = Wheel::new(Duration::from_millis(100));
        let hs: Vec<_> = (0..6)
            .map(|i| w.arm(Instant::from_millis(100), i).unwrap())
            .collect();
        let (_, first) = w.poll(Instant::from_millis(100)).unwrap();
        for (i, h) in hs.iter().enumerate() {
            if i as u32 != first && i % 2 == 0 {
                w.cancel(*h);
            }
        }
        let mut rest = drain(&mut w, Instant::from_millis(100));
        rest.push(first);
        rest.sort();
        let mut want: Vec<u32> = (0..6).filter(|i| i % 2 == 1).collect();
        if first % 2 == 0 {
            want.push(first);
        }
        want.sort();
        assert_eq!(rest, want);
    }

    #[test]
    fn timer_armed_while_a_scan_is_paused_is_not_missed() {
        let mut w = Wheel::new(Duration::from_millis(100));
        for i in 0..3 {
            w.arm(Instant::from_millis(100), i).unwrap();
        }
        let now = Instant::from_millis(150);
        let (_, first) = w.poll(now).unwrap();
        // Due now: it lands at the head of the bucket being scanned.
        w.arm(Instant::from_millis(100), 9).unwrap();
        let mut rest = drain(&mut w, now);
        rest.push(first);
        rest.sort();
        assert_eq!(rest, [0, 1, 2, 9]);
    }

    #[test]
    fn past_deadline_armed_after_a_poll_fires_at_the_next_tick() {
        let mut w = Wheel::new(Duration::from_millis(100));
        assert!(w.poll(Instant::from_millis(1_000)).is_none());
        w.arm(Instant::from_millis(500), 7).unwrap();
        assert_eq!(drain(&mut w, Instant::from_millis(1_100)), [7]);
        assert_eq!(w.next_expiry(), None);
    }

    mod model {
        use super::*;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        #[derive(Clone, Debug)]
        enum Op {
            /// Arm at `now` plus this many milliseconds (minus: already past).
            Arm(i64),
            Cancel(usize),
            Poll(u64),
            /// One poll only, leaving a scan paused.
            PollOne,
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                3 => (-2_000i64..5_000).prop_map(Op::Arm),
                1 => any::<usize>().prop_map(Op::Cancel),
                2 => prop_oneof![Just(0u64), 0u64..3_000].prop_map(Op::Poll),
                1 => Just(Op::PollOne),
            ]
        }

        proptest! {
            /// Against a map of deadlines: every timer fires exactly once, at the
            /// first poll whose tick reaches its deadline rounded up to a tick
            /// (or, armed for a time already polled past, the next tick).
            #[test]
            fn wheel_matches_a_model(ops in prop::collection::vec(op(), 1..200)) {
                let res = 100u64;
                let mut w: TimerWheel<u32, 8, 64> = TimerWheel::new(Duration::from_millis(res));
                let mut model: BTreeMap<u32, (u64, TimerHandle)> = BTreeMap::new();
                let mut now = 0u64;
                let mut next_tick_floor = 0u64;
                let mut next_id = 0u32;
                for op in ops {
                    match op {
                        Op::Arm(offset) => {
                            let deadline = now.saturating_add_signed(offset);
                            match w.arm(Instant::from_millis(deadline), next_id) {
                                Ok(h) => {
                                    let tick = deadline.div_ceil(res).max(next_tick_floor);
                                    model.insert(next_id, (tick, h));
                                }
                                Err(WheelFull) => prop_assert_eq!(model.len(), 64),
                            }
                            next_id += 1;
                        }
                        Op::Cancel(i) => {
                            if let Some((&id, &(_, h))) = model.iter().nth(i % model.len().max(1)) {
                                prop_assert_eq!(w.cancel(h), Some(id));
                                prop_assert_eq!(w.cancel(h), None);
                                model.remove(&id);
                            }
                        }
                        Op::PollOne => {
                            match w.poll(Instant::from_millis(now)) {
                                Some((_, id)) => {
                                    let due = model.get(&id).is_some_and(|(tick, _)| *tick <= now / res);
                                    prop_assert!(due, "{} fired early", id);
                                    model.remove(&id);
                                }
                                // A poll that gives nothing finished its scan.
                                None => next_tick_floor = now / res + 1,
                            }
                        }
                        Op::Poll(advance) => {
                            now += advance;
                            let now_tick = now / res;
                            let mut fired = Vec::new();
                            while let Some((_, id)) = w.poll(Instant::from_millis(now)) {
                                fired.push(id);
                            }
                            fired.sort();
                            let due: Vec<u32> = model
                                .iter()
                                .filter(|(_, (tick, _))| *tick <= now_tick)
                                .map(|(id, _)| *id)
                                .collect();
                            prop_assert_eq!(&fired, &due);
                            for id in due {
                                model.remove(&id);
                            }
                            next_tick_floor = now_tick + 1;
                        }
                    }
                    prop_assert_eq!(w.len(), model.len());
                    prop_assert_eq!(w.next_expiry(), earliest_by_full_scan(&w));
                    // Never later than a deadline the model knows of.
                    if let (Some(e), Some(m)) = (w.next_expiry(), model.values().map(|(t, _)| *t).min()) {
                        prop_assert!(e.total_millis() <= m * res);
                    }
                }
            }
        }
    }
}
