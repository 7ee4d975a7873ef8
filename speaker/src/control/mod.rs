//! The control API's answers ([`nexthop_control::Backend`] for [`Speaker`]).
//!
//! SCAFFOLD (issue 13): being written.

pub(crate) mod dump;
mod lead_tmp;
pub(crate) mod routes;
