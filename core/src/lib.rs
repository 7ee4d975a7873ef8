//! nexthop-core: a `no_std`, allocation-free BGP-4 speaker core.
//!
//! Two parts, both sans-IO:
//! - [`wire`]: the zero-copy codec for every BGP message nexthop speaks
//!   (RFC 4271 §4 and the extensions named in each module), parsed as views over
//!   the caller's bytes and encoded into the caller's buffers;
//! - the session FSM of RFC 4271 §8 with a timer wheel (its own issue).
//!
//! Nothing here reads a clock, touches a socket or allocates.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod session;
pub mod time;
pub mod timer_wheel;
pub mod wire;
