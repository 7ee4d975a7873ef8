//! Per-connection buffers: the read buffer that the speaker parses in place, and
//! the bounded output queue. Both have hard limits, so a peer that floods or one
//! that stops reading costs a bounded amount of memory.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};

use nexthop_core::wire::header::MAX_EXTENDED_MESSAGE_LEN;
use nexthop_runtime_edge::Stats;

/// The most a connection's read buffer ever holds: 64 KiB of reads plus one
/// message of the largest size (RFC 8654 extended messages).
pub const READ_BOUND: usize = 64 * 1024 + MAX_EXTENDED_MESSAGE_LEN;
/// First size of a read buffer; it doubles while reads fill it, up to [`READ_BOUND`].
const READ_START: usize = 16 * 1024;

/// Bytes read and not yet consumed: `buf[..filled]`.
#[derive(Debug, Default)]
pub(crate) struct ReadBuf {
    buf: Vec<u8>,
    filled: usize,
}

impl ReadBuf {
    /// Free space to read into, grown (up to the bound) when full; `None` when the
    /// buffer is at its bound and full.
    pub(crate) fn spare(&mut self) -> Option<&mut [u8]> {
        if self.filled == self.buf.len() {
            if self.buf.len() >= READ_BOUND {
                return None;
            }
            let len = (self.buf.len() * 2).clamp(READ_START, READ_BOUND);
            self.buf.resize(len, 0);
        }
        Some(&mut self.buf[self.filled..])
    }

    /// `n` bytes were read into [`spare`](Self::spare).
    pub(crate) fn commit(&mut self, n: usize) {
        self.filled = (self.filled + n).min(self.buf.len());
    }

    /// What was read and not consumed.
    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    /// Drops the first `n` bytes (whole messages the speaker consumed) and keeps
    /// the tail at the start. A large, empty buffer is given back.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.filled);
        self.buf.copy_within(n..self.filled, 0);
        self.filled -= n;
        if self.filled == 0 && self.buf.len() > 64 * 1024 {
            self.buf = Vec::new();
        }
    }

    /// Gives the buffer back when it holds nothing: called when the socket has
    /// no more to read, so an idle connection holds no read buffer between its
    /// KEEPALIVEs (a busy one keeps its buffer while reads find data).
    pub(crate) fn release_if_empty(&mut self) {
        if self.filled == 0 && !self.buf.is_empty() {
            self.buf = Vec::new();
        }
    }

    /// Bytes allocated.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }
}

/// Most transmits gathered into one vectored write: `IOV_MAX` on Linux, the
/// BSDs, macOS and illumos.
const WRITE_GATHER: usize = 1024;

/// Transmits handed out by the speaker and not yet written; `head` bytes of the
/// first are already written.
#[derive(Debug)]
pub(crate) struct OutQueue<T> {
    queue: VecDeque<T>,
    head: usize,
    bytes: usize,
}

impl<T: AsRef<[u8]>> OutQueue<T> {
    pub(crate) fn new() -> Self {
        OutQueue {
            queue: VecDeque::new(),
            head: 0,
            bytes: 0,
        }
    }

    /// Unwritten bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    pub(crate) fn push(&mut self, t: T) {
        let n = t.as_ref().len();
        if n > 0 {
            self.bytes += n;
            self.queue.push_back(t);
        }
    }

    /// Writes as much as `w` takes (vectored, up to [`WRITE_GATHER`] transmits at a
    /// time) until it would block or the queue is empty, counting the writes in
    /// `stats`. `Ok(true)`: the queue is empty.
    pub(crate) fn write_to(&mut self, w: &mut impl Write, stats: &mut Stats) -> io::Result<bool> {
        while self.bytes > 0 {
            let mut slices: [IoSlice<'_>; WRITE_GATHER] = [IoSlice::new(&[]); WRITE_GATHER];
            let mut n = 0;
            let mut offered = 0;
            for (i, t) in self.queue.iter().take(WRITE_GATHER).enumerate() {
                let b = t.as_ref();
                slices[i] = IoSlice::new(if i == 0 { &b[self.head..] } else { b });
                offered += slices[i].len();
                n += 1;
            }
            stats.writes += 1;
            match w.write_vectored(&slices[..n]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => {
                    stats.bytes_written += written as u64;
                    if written < offered {
                        stats.short_writes += 1;
                    }
                    self.advance(written);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn advance(&mut self, mut n: usize) {
        self.bytes -= n.min(self.bytes);
        while n > 0 {
            let Some(front) = self.queue.front() else {
                break;
            };
            let left = front.as_ref().len() - self.head;
            if n >= left {
                n -= left;
                self.head = 0;
                self.queue.pop_front();
            } else {
                self.head += n;
                n = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_buffer_grows_to_its_bound_and_keeps_the_tail() {
        let mut r = ReadBuf::default();
        let s = r.spare().unwrap();
        assert_eq!(s.len(), READ_START);
        s[..5].copy_from_slice(b"abcde");
        r.commit(5);
        r.consume(3);
        assert_eq!(r.data(), b"de");
        let mut total = r.data().len();
        while let Some(s) = r.spare() {
            let n = s.len();
            total += n;
            r.commit(n);
        }
        assert_eq!(total, READ_BOUND);
        assert_eq!(r.capacity(), READ_BOUND);
        r.consume(READ_BOUND);
        assert_eq!(r.capacity(), 0, "an empty large buffer is given back");
    }

    #[test]
    fn an_idle_connection_holds_no_read_buffer() {
        let mut r = ReadBuf::default();
        let s = r.spare().unwrap();
        s[..19].fill(0xff);
        r.commit(19);
        // Part of a message stays: the buffer is kept.
        r.consume(10);
        r.release_if_empty();
        assert_eq!(r.data().len(), 9);
        assert!(r.capacity() > 0);
        r.consume(9);
        r.release_if_empty();
        assert_eq!(r.capacity(), 0);
        assert!(r.data().is_empty());
    }

    /// A writer that takes at most `cap` bytes per call and `budget` in all.
    struct Slow {
        got: Vec<u8>,
        cap: usize,
        budget: usize,
    }

    impl Write for Slow {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.budget == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = b.len().min(self.cap).min(self.budget);
            self.budget -= n;
            self.got.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn out_queue_writes_partially_and_resumes_in_order() {
        let mut q = OutQueue::new();
        q.push(b"hello ".to_vec());
        q.push(Vec::new());
        q.push(b"world".to_vec());
        assert_eq!(q.bytes(), 11);
        let mut w = Slow {
            got: Vec::new(),
            cap: 4,
            budget: 7,
        };
        let mut stats = Stats::default();
        assert!(!q.write_to(&mut w, &mut stats).unwrap());
        assert_eq!(q.bytes(), 4);
        w.budget = 100;
        assert!(q.write_to(&mut w, &mut stats).unwrap());
        assert_eq!(w.got, b"hello world");
        assert!(q.is_empty());
        // 4 + 3 bytes, then would block; then 4 bytes twice... each short of
        // what was offered but the last.
        assert_eq!(stats.bytes_written, 11);
        assert_eq!((stats.writes, stats.short_writes), (5, 3));
    }
}
