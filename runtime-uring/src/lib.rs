//! The uring runtime for nexthop: sockets, buffers and the clock, nothing else.
//!
//! A compiling skeleton: the event loop arrives with its own issue.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub use nexthop_core as core;
