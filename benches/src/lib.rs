//! Workload generators and parser walks shared by nexthop's criterion benchmarks
//! and by the tests that check them.
#![warn(missing_docs)]

pub mod stream;
pub mod walk;
