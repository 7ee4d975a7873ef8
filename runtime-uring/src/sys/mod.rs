//! The one module of the runtime that talks to the kernel: the io_uring instance and
//! the memory it lends to it ([`ring`], [`bufring`]); socket options are the edge's
//! (nexthop-runtime-edge). Every `unsafe` block of the crate is here, each with a
//! `SAFETY:` line saying why what it lends outlives the operation.
#![allow(unsafe_code)]

pub(crate) mod bufring;
pub(crate) mod ring;
