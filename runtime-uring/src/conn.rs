//! One connection's state in the runtime: its socket, the unconsumed tail of what
//! was received, the bounded queue of transmits not yet sent, and the operations
//! the ring still runs on it (the socket is closed only when there are none).

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nexthop_runtime_edge::OutputQueue;

use crate::{ConnKey, Instant};

/// A receive completion held over until the receive budget reaches it.
pub(crate) struct HeldRecv {
    pub(crate) result: io::Result<usize>,
    /// The provided buffer holding the bytes.
    pub(crate) buffer: Option<u16>,
    /// The multishot receive is still armed.
    pub(crate) more: bool,
}

impl HeldRecv {
    /// Bytes received (0 for an end of stream or an error).
    pub(crate) fn len(&self) -> usize {
        *self.result.as_ref().unwrap_or(&0)
    }
}

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// An outbound connect is in flight.
    Connecting,
    /// Established at the TCP level; the speaker reads and writes.
    Open,
    /// The speaker closed it: write what was handed out, then FIN, until `deadline`.
    Closing { deadline: Instant, fin_sent: bool },
    /// Gone: waiting only for the ring to finish its operations, then closed.
    Dead,
}

pub(crate) struct Conn<T> {
    pub(crate) key: ConnKey,
    /// The peer's address and port.
    pub(crate) remote: Option<SocketAddr>,
    pub(crate) fd: OwnedFd,
    pub(crate) phase: Phase,
    /// The multishot receive is armed (its last completion has not come).
    pub(crate) recv_live: bool,
    /// A send is in flight (its batch is lent to the kernel), from this offset
    /// into the batch's first transmit.
    pub(crate) sending: bool,
    pub(crate) sending_offset: usize,
    /// Bytes lent to the send in flight.
    sending_bytes: usize,
    /// An outbound connect is in flight.
    pub(crate) connect_live: bool,
    /// The speaker has more to send than was pulled (it reported the connection
    /// ready and `poll_transmit` has not returned `None` since).
    pub(crate) wants_pull: bool,
    /// The unconsumed tail of received bytes (a partial message).
    pub(crate) inbuf: Vec<u8>,
    /// Transmits pulled and not yet handed to the kernel; the first is sent from
    /// `front_offset`.
    pub(crate) out: Vec<T>,
    pub(crate) front_offset: usize,
    /// Bytes in `out` (and in flight) not yet sent.
    pub(crate) out_bytes: usize,
    /// Listed among the connections to flush this turn.
    pub(crate) dirty: bool,
    /// Receive completions of this connection not handed over yet, in order.
    pub(crate) held: VecDeque<HeldRecv>,
    /// An emptied vector of an earlier batch, for the next batch or queue.
    spare: Vec<T>,
}

/// Larger than this (in transmits), an idle connection's emptied batch vector
/// is given back.
const SPARE_KEEP: usize = 128;

/// Larger than this, an emptied receive tail buffer is given back.
const INBUF_KEEP: usize = 4096;

impl<T: AsRef<[u8]>> Conn<T> {
    pub(crate) fn new(key: ConnKey, fd: OwnedFd, phase: Phase) -> Self {
        Conn {
            key,
            remote: None,
            fd,
            phase,
            recv_live: false,
            sending: false,
            sending_offset: 0,
            sending_bytes: 0,
            connect_live: false,
            wants_pull: false,
            inbuf: Vec::new(),
            out: Vec::new(),
            front_offset: 0,
            out_bytes: 0,
            dirty: false,
            held: VecDeque::new(),
            spare: Vec::new(),
        }
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Whether the speaker still hears about this connection.
    pub(crate) fn reported_to_speaker(&self) -> bool {
        matches!(self.phase, Phase::Connecting | Phase::Open)
    }

    /// Drops `n` consumed bytes from the tail buffer, giving back a large empty one.
    pub(crate) fn consume_inbuf(&mut self, n: usize) {
        let n = n.min(self.inbuf.len());
        self.inbuf.drain(..n);
        if self.inbuf.is_empty() && self.inbuf.capacity() > INBUF_KEEP {
            self.inbuf = Vec::new();
        }
    }

    /// Queues a pulled transmit.
    pub(crate) fn queue(&mut self, t: T) {
        self.out_bytes += t.as_ref().len();
        self.out.push(t);
    }

    /// Takes up to `max` queued transmits to send, and the offset into the first.
    /// The usual case, everything queued, swaps the queue for an empty vector
    /// (no transmit is moved).
    pub(crate) fn take_batch(&mut self, max: usize) -> (Vec<T>, usize) {
        let max = max.max(1);
        let offset = std::mem::take(&mut self.front_offset);
        let batch = if self.out.len() <= max {
            // Nothing is in flight: every unsent byte is in the queue.
            self.sending_bytes = self.out_bytes;
            let empty = std::mem::take(&mut self.spare);
            std::mem::replace(&mut self.out, empty)
        } else {
            let mut batch = std::mem::take(&mut self.spare);
            batch.extend(self.out.drain(..max));
            let total: usize = batch.iter().map(|t| t.as_ref().len()).sum();
            self.sending_bytes = total.saturating_sub(offset);
            batch
        };
        self.sending_offset = offset;
        (batch, offset)
    }

    /// A send of `batch` (from `offset`) wrote `written` bytes: what was not written
    /// goes back to the front of the queue. Whether all of it was written.
    pub(crate) fn sent(&mut self, mut batch: Vec<T>, offset: usize, written: usize) -> bool {
        self.out_bytes = self.out_bytes.saturating_sub(written);
        // How many transmits the kernel took whole, and how far into the next
        // (counted only for a short send: the usual send takes all).
        let mut left = written + offset;
        let mut done = batch.len();
        if written < self.sending_bytes {
            done = 0;
            for t in &batch {
                let len = t.as_ref().len();
                if left < len {
                    break;
                }
                left -= len;
                done += 1;
            }
        }
        if done == batch.len() {
            batch.clear();
            // Kept for the next batch while the connection has more to send (so
            // a busy one allocates no vector per send); otherwise only a small one.
            let busy = self.wants_pull || !self.out.is_empty();
            if (busy || batch.capacity() <= SPARE_KEEP) && batch.capacity() > self.spare.capacity()
            {
                self.spare = batch;
            }
            if !busy && self.out.capacity() > SPARE_KEEP {
                self.out = Vec::new();
            }
            return true;
        }
        // A short send: the rest of the batch goes before what was queued since.
        batch.drain(..done);
        batch.append(&mut self.out);
        self.out = batch;
        self.front_offset = left;
        false
    }

    /// Nothing is left to write.
    pub(crate) fn drained(&self) -> bool {
        self.out.is_empty() && !self.sending
    }
}

impl<T: AsRef<[u8]>> OutputQueue<T> for Conn<T> {
    fn unwritten(&self) -> usize {
        self.out_bytes
    }
    fn push(&mut self, transmit: T) {
        self.queue(transmit);
    }
    fn wants_pull(&self) -> bool {
        self.wants_pull
    }
    fn set_wants_pull(&mut self, more: bool) {
        self.wants_pull = more;
    }
}

/// The runtime's connections by token: a token is a slot index plus one, reused
/// only after the connection's last operation ended (so no completion can name
/// an older connection in the same slot).
pub(crate) struct Slab<T> {
    slots: Vec<Option<Conn<T>>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// The token the next [`Slab::insert`] must use.
    pub(crate) fn vacant_token(&self) -> u32 {
        self.free
            .last()
            .copied()
            .unwrap_or(self.slots.len() as u32 + 1)
    }

    /// Puts `conn` at `token`, which [`Slab::vacant_token`] just gave.
    pub(crate) fn insert(&mut self, token: u32, conn: Conn<T>) {
        if self.free.last() == Some(&token) {
            self.free.pop();
        } else {
            debug_assert_eq!(token as usize, self.slots.len() + 1);
            self.slots.push(None);
        }
        if let Some(slot) = (token as usize)
            .checked_sub(1)
            .and_then(|i| self.slots.get_mut(i))
        {
            *slot = Some(conn);
            self.len += 1;
        }
    }

    pub(crate) fn get(&self, token: &u32) -> Option<&Conn<T>> {
        self.slots.get((*token as usize).checked_sub(1)?)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, token: &u32) -> Option<&mut Conn<T>> {
        self.slots
            .get_mut((*token as usize).checked_sub(1)?)?
            .as_mut()
    }

    pub(crate) fn remove(&mut self, token: &u32) -> Option<Conn<T>> {
        let c = self
            .slots
            .get_mut((*token as usize).checked_sub(1)?)?
            .take()?;
        self.free.push(*token);
        self.len -= 1;
        Some(c)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Conn<Vec<u8>> {
        let fd = OwnedFd::from(std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
        Conn::new(ConnKey(1), fd, Phase::Open)
    }

    #[test]
    fn a_short_send_puts_the_unsent_rest_back_in_order() {
        let mut c = conn();
        for m in [vec![1u8; 10], vec![2; 10], vec![3; 10]] {
            c.queue(m);
        }
        assert_eq!(c.out_bytes, 30);
        let (batch, off) = c.take_batch(64);
        assert_eq!((batch.len(), off), (3, 0));
        c.sent(batch, off, 15);
        assert_eq!(c.out_bytes, 15);
        assert_eq!(c.front_offset, 5);
        assert_eq!(c.out.len(), 2);
        assert_eq!(c.out[0], vec![2; 10]);
        let (batch, off) = c.take_batch(64);
        assert_eq!(off, 5);
        c.sent(batch, off, 15);
        assert!(c.out.is_empty());
        assert_eq!(c.out_bytes, 0);
        assert_eq!(c.front_offset, 0);
    }

    #[test]
    fn the_rest_of_a_short_send_goes_before_what_was_queued_meanwhile() {
        let mut c = conn();
        c.queue(vec![1u8; 10]);
        c.queue(vec![2u8; 10]);
        let (batch, off) = c.take_batch(64);
        assert!(c.out.is_empty(), "the whole queue went into the batch");
        c.queue(vec![3u8; 10]);
        assert!(!c.sent(batch, off, 12));
        assert_eq!(c.out, vec![vec![2u8; 10], vec![3u8; 10]]);
        assert_eq!((c.front_offset, c.out_bytes), (2, 18));
        let (batch, off) = c.take_batch(1);
        assert_eq!((batch.len(), off), (1, 2));
        assert!(c.sent(batch, off, 8));
        assert_eq!((c.out.len(), c.front_offset, c.out_bytes), (1, 0, 10));
    }

    #[test]
    fn a_send_ending_on_a_message_boundary_keeps_no_offset() {
        let mut c = conn();
        c.queue(vec![1u8; 4]);
        c.queue(vec![2u8; 4]);
        let (batch, off) = c.take_batch(1);
        assert_eq!(batch.len(), 1);
        c.sent(batch, off, 4);
        assert_eq!((c.out.len(), c.front_offset, c.out_bytes), (1, 0, 4));
    }

    #[test]
    fn a_slab_reuses_a_token_only_after_removal() {
        let mut s: Slab<Vec<u8>> = Slab::new();
        let t1 = s.vacant_token();
        s.insert(t1, conn());
        let t2 = s.vacant_token();
        s.insert(t2, conn());
        assert_eq!((t1, t2, s.len()), (1, 2, 2));
        assert!(s.remove(&t1).is_some());
        assert!(s.get(&t1).is_none());
        assert_eq!(s.vacant_token(), t1);
        s.insert(t1, conn());
        assert_eq!(s.vacant_token(), 3);
        assert!(s.get(&0).is_none() && s.get(&99).is_none());
    }

    #[test]
    fn an_emptied_large_tail_buffer_is_given_back() {
        let mut c = conn();
        c.inbuf.extend_from_slice(&[0u8; 10_000]);
        c.consume_inbuf(10_000);
        assert_eq!(c.inbuf.capacity(), 0);
        c.inbuf.extend_from_slice(&[0u8; 100]);
        c.consume_inbuf(40);
        assert_eq!(c.inbuf.len(), 60);
    }
}
