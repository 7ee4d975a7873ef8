//! One walk per parser over a stream of UPDATE messages: frame each message with
//! `nexthop_core::wire::header::frame` (so every parser pays the same framing
//! cost), parse it with that parser's normal API, visit every attribute's typed
//! value and every prefix, and count what was seen as [`Counts`].
//!
//! The benchmark times these functions; the tests check that each returns the
//! generator's counts, so a walk that skips work cannot pass unnoticed.

use core::ops::Range;

use nexthop_core::wire::header::{HEADER_LEN, MAX_MESSAGE_LEN, frame};

pub use crate::stream::Counts;

pub mod bgpkit;
pub mod nexthop;
pub mod routecore;

/// The messages of a stream, as byte ranges, framed by `header::frame`.
///
/// Panics on a bad header or a truncated last message: the streams walked here
/// come from [`crate::stream::generate`], and a bad one is a bug to see at once.
pub fn messages(stream: &[u8]) -> Messages<'_> {
    Messages { stream, offset: 0 }
}

/// Iterator returned by [`messages`].
#[derive(Clone, Debug)]
pub struct Messages<'a> {
    stream: &'a [u8],
    offset: usize,
}

impl Iterator for Messages<'_> {
    type Item = Range<usize>;

    #[inline]
    fn next(&mut self) -> Option<Range<usize>> {
        let rest = &self.stream[self.offset..];
        if rest.is_empty() {
            return None;
        }
        match frame(rest, MAX_MESSAGE_LEN) {
            Ok(Some(len)) => {
                let range = self.offset..self.offset + len;
                self.offset += len;
                Some(range)
            }
            Ok(None) => panic!("truncated message at offset {}", self.offset),
            Err(e) => panic!("bad header at offset {}: {e:?}", self.offset),
        }
    }
}

/// Length of the header every message range starts with.
pub const HEADER: usize = HEADER_LEN;
