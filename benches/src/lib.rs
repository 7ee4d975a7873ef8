//! Workload generators shared by nexthop's criterion benchmarks.
#![warn(missing_docs)]
