//! The two runtimes behind one small interface.

use std::io;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;

use nexthop_runtime_edge::{ConnKey, Instant, Options, SansIo, Stats};
use nexthop_speaker::Speaker;

/// What the suite needs of a running runtime driving a speaker `S`.
pub trait Driver<S = Speaker> {
    /// One loop turn, waiting at most `max_wait`.
    fn turn(&mut self, max_wait: std::time::Duration) -> io::Result<()>;
    /// The speaker.
    fn speaker(&self) -> &S;
    /// Gives the speaker an input at the runtime's now, then drains its outputs.
    fn input(&mut self, f: &mut dyn FnMut(&mut S, Instant));
    /// Applies the speaker's per-peer socket rules again (after a reload).
    fn refresh_peer_options(&mut self);
    /// Sockets the runtime holds.
    fn open_connections(&self) -> usize;
    /// The open connections and their peers.
    fn connections(&self) -> Vec<(ConnKey, SocketAddr)>;
    /// The socket of a connection, to read its options.
    fn connection_socket(&self, conn: ConnKey) -> Option<BorrowedFd<'_>>;
    /// The socket of listener `i`, to read its options.
    fn listener_socket(&self, i: usize) -> Option<BorrowedFd<'_>>;
    /// The runtime's counters.
    fn stats(&self) -> Stats;
    /// The listeners' addresses.
    fn local_addresses(&self) -> Vec<SocketAddr>;
}

/// A runtime the suite runs against.
pub trait Backend: 'static {
    /// The runtime's name in test and benchmark output.
    const NAME: &'static str;
    /// Its number (0, 1, 2...), for tests that give each backend addresses of
    /// its own.
    const INDEX: u8;
    /// A runtime driving `speaker` (on the calling thread) with `options`; the
    /// peers' inbound socket options come from the speaker.
    fn start<S: SansIo + 'static>(speaker: S, options: Options) -> io::Result<Box<dyn Driver<S>>>;
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
    Box::new(nexthop_runtime_edge::monotonic_clock())
}

/// A [`Driver`] over a runtime crate's `Runtime`: both runtimes have the same
/// methods, so one body serves both.
macro_rules! driver {
    ($name:ident, $krate:ident) => {
        struct $name<S: SansIo>($krate::Runtime<S, Clock>);

        impl<S: SansIo> Driver<S> for $name<S> {
            fn turn(&mut self, max_wait: std::time::Duration) -> io::Result<()> {
                self.0.turn(Some(max_wait)).map(drop)
            }
            fn speaker(&self) -> &S {
                self.0.speaker()
            }
            fn input(&mut self, f: &mut dyn FnMut(&mut S, Instant)) {
                self.0.input(|s, now| f(s, now))
            }
            fn refresh_peer_options(&mut self) {
                self.0.refresh_peer_options()
            }
            fn open_connections(&self) -> usize {
                self.0.open_connections()
            }
            fn connections(&self) -> Vec<(ConnKey, SocketAddr)> {
                self.0.connections()
            }
            fn connection_socket(&self, conn: ConnKey) -> Option<BorrowedFd<'_>> {
                self.0.connection_socket(conn)
            }
            fn listener_socket(&self, i: usize) -> Option<BorrowedFd<'_>> {
                self.0.listener_socket(i)
            }
            fn stats(&self) -> Stats {
                self.0.stats()
            }
            fn local_addresses(&self) -> Vec<SocketAddr> {
                self.0.local_addresses()
            }
        }
    };
}

driver!(MioDriver, nexthop_runtime_mio);
driver!(UringDriver, nexthop_runtime_uring);

impl Backend for Mio {
    const NAME: &'static str = "mio";
    const INDEX: u8 = 0;
    fn start<S: SansIo + 'static>(speaker: S, options: Options) -> io::Result<Box<dyn Driver<S>>> {
        let rt = nexthop_runtime_mio::Runtime::new(speaker, clock(), options)?;
        Ok(Box::new(MioDriver(rt)))
    }
}

/// runtime-uring with `ring`.
fn start_uring<S: SansIo + 'static>(
    speaker: S,
    options: Options,
    ring: nexthop_runtime_uring::RingOptions,
) -> io::Result<Box<dyn Driver<S>>> {
    // Without io_uring these runs fail, never fall back or skip.
    nexthop_runtime_uring::probe()
        .map_err(|why| io::Error::other(format!("io_uring cannot be used here: {why}")))?;
    let rt = nexthop_runtime_uring::Runtime::with_ring(speaker, clock(), options, ring)?;
    Ok(Box::new(UringDriver(rt)))
}

impl Backend for Uring {
    const NAME: &'static str = "uring";
    const INDEX: u8 = 1;
    fn start<S: SansIo + 'static>(speaker: S, options: Options) -> io::Result<Box<dyn Driver<S>>> {
        start_uring(speaker, options, Default::default())
    }
}

impl Backend for UringSqpoll {
    const NAME: &'static str = "uring-sqpoll";
    const INDEX: u8 = 2;
    fn start<S: SansIo + 'static>(speaker: S, options: Options) -> io::Result<Box<dyn Driver<S>>> {
        let ring = nexthop_runtime_uring::RingOptions {
            sqpoll_idle: Some(nexthop_runtime_edge::Duration::from_millis(2)),
            ..Default::default()
        };
        start_uring(speaker, options, ring)
    }
}

impl Backend for UringZeroCopy {
    const NAME: &'static str = "uring-zc";
    const INDEX: u8 = 3;
    fn start<S: SansIo + 'static>(speaker: S, options: Options) -> io::Result<Box<dyn Driver<S>>> {
        let ring = nexthop_runtime_uring::RingOptions {
            zero_copy: true,
            ..Default::default()
        };
        start_uring(speaker, options, ring)
    }
}
