//! The one module of the runtime that talks to the kernel: the io_uring instance and
//! the memory it lends to it ([`ring`]), and the socket options the standard library
//! does not offer ([`sockopt`]). Every `unsafe` block of the crate is here, each with
//! a `SAFETY:` line saying why what it lends outlives the operation.
#![allow(unsafe_code)]

pub(crate) mod bufring;
pub(crate) mod ring;
pub(crate) mod sockopt;
