//! The two runtimes behind one small interface.

use std::io;
use std::net::SocketAddr;

use nexthop_speaker::{Instant, Speaker};

/// What the suite needs of a running runtime.
pub trait Driver {
    /// One loop turn, waiting at most `max_wait`.
    fn turn(&mut self, max_wait: std::time::Duration) -> io::Result<()>;
    /// The speaker.
    fn speaker(&self) -> &Speaker;
    /// Gives the speaker an input at the runtime's now, then drains its outputs.
    fn input(&mut self, f: &mut dyn FnMut(&mut Speaker, Instant));
    /// Sockets the runtime holds.
    fn open_connections(&self) -> usize;
    /// The largest unsent output any connection held.
    fn max_out_buffered(&self) -> usize;
    /// Bytes the kernel took.
    fn bytes_written(&self) -> u64;
    /// The listeners' addresses.
    fn local_addresses(&self) -> Vec<SocketAddr>;
    /// The runtime's own counters, one line, for the benchmark's log.
    fn counters(&self) -> String;
}

/// A runtime the suite runs against.
pub trait Backend: 'static {
    /// The runtime's name in test and benchmark output.
    const NAME: &'static str;
    /// A runtime driving `speaker` (on the calling thread), its per-connection
    /// output bounded by `output_bound`; the peers' inbound socket options come
    /// from the speaker's config.
    fn start(speaker: Speaker, output_bound: usize) -> io::Result<Box<dyn Driver>>;
}

/// runtime-mio.
pub struct Mio;
/// runtime-uring.
pub struct Uring;
/// runtime-uring sending with `IORING_OP_SENDMSG_ZC` (zero copy).
pub struct UringZeroCopy;
/// runtime-uring with `IORING_SETUP_SQPOLL` (a kernel thread submits; 2 ms idle).
pub struct UringSqpoll;

type Clock = Box<dyn FnMut() -> Instant>;

fn clock() -> Clock {
    let start = std::time::Instant::now();
    Box::new(move || {
        Instant::from_millis(u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX))
    })
}

/// A [`Driver`] over a runtime crate's `Runtime`: both runtimes have the same
/// methods, so one body serves both.
macro_rules! driver {
    ($name:ident, $krate:ident) => {
        struct $name($krate::Runtime<Speaker, Clock>);

        impl Driver for $name {
            fn turn(&mut self, max_wait: std::time::Duration) -> io::Result<()> {
                self.0.turn(Some(max_wait)).map(drop)
            }
            fn speaker(&self) -> &Speaker {
                self.0.speaker()
            }
            fn input(&mut self, f: &mut dyn FnMut(&mut Speaker, Instant)) {
                self.0.input(|s, now| f(s, now))
            }
            fn open_connections(&self) -> usize {
                self.0.open_connections()
            }
            fn max_out_buffered(&self) -> usize {
                self.0.stats().max_out_buffered
            }
            fn bytes_written(&self) -> u64 {
                self.0.stats().bytes_written
            }
            fn local_addresses(&self) -> Vec<SocketAddr> {
                self.0.local_addresses()
            }
            fn counters(&self) -> String {
                format!("{:?}", self.0.stats())
            }
        }
    };
}

driver!(MioDriver, nexthop_runtime_mio);
driver!(UringDriver, nexthop_runtime_uring);

impl Backend for Mio {
    const NAME: &'static str = "mio";
    fn start(speaker: Speaker, output_bound: usize) -> io::Result<Box<dyn Driver>> {
        let opts = nexthop_runtime_mio::Options {
            output_bound,
            ..nexthop_runtime_mio::Options::default()
        };
        let rt = nexthop_runtime_mio::Runtime::new(speaker, clock(), opts)?;
        Ok(Box::new(MioDriver(rt)))
    }
}

/// runtime-uring with `options` (their output bound set to `output_bound`).
fn start_uring(
    speaker: Speaker,
    output_bound: usize,
    options: nexthop_runtime_uring::Options,
) -> io::Result<Box<dyn Driver>> {
    let opts = nexthop_runtime_uring::Options {
        output_bound,
        ..options
    };
    let rt = nexthop_runtime_uring::Runtime::new(speaker, clock(), opts)?;
    Ok(Box::new(UringDriver(rt)))
}

impl Backend for Uring {
    const NAME: &'static str = "uring";
    fn start(speaker: Speaker, output_bound: usize) -> io::Result<Box<dyn Driver>> {
        start_uring(speaker, output_bound, Default::default())
    }
}

impl Backend for UringSqpoll {
    const NAME: &'static str = "uring-sqpoll";
    fn start(speaker: Speaker, output_bound: usize) -> io::Result<Box<dyn Driver>> {
        let options = nexthop_runtime_uring::Options {
            sqpoll_idle: Some(nexthop_speaker::Duration::from_millis(2)),
            ..Default::default()
        };
        start_uring(speaker, output_bound, options)
    }
}

impl Backend for UringZeroCopy {
    const NAME: &'static str = "uring-zc";
    fn start(speaker: Speaker, output_bound: usize) -> io::Result<Box<dyn Driver>> {
        let options = nexthop_runtime_uring::Options {
            zero_copy: true,
            ..Default::default()
        };
        start_uring(speaker, output_bound, options)
    }
}
