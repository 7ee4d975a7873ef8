//! The two runtimes behind one small interface.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};

use nexthop_speaker::config::Config;
use nexthop_speaker::{Closed, Command, ConnKey, Instant, Speaker, Transmit};

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
}

/// A runtime the suite runs against.
pub trait Backend: 'static {
    /// The runtime's name in test and benchmark output.
    const NAME: &'static str;
    /// A runtime driving `speaker` (on the calling thread), its per-connection
    /// output bounded by `output_bound`.
    fn start(speaker: Speaker, config: &Config, output_bound: usize)
    -> io::Result<Box<dyn Driver>>;
}

/// runtime-mio.
pub struct Mio;
/// runtime-uring.
pub struct Uring;
/// runtime-uring sending with `IORING_OP_SENDMSG_ZC` (zero copy).
pub struct UringZeroCopy;

type Clock = Box<dyn FnMut() -> Instant>;

fn clock() -> Clock {
    let start = std::time::Instant::now();
    Box::new(move || {
        Instant::from_millis(u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX))
    })
}

/// The speaker seen through runtime-mio's `SansIo` (the wrapper keeps this crate
/// independent of where runtime-mio implements its trait).
pub struct MioSpeaker(Speaker);

impl nexthop_runtime_mio::SansIo for MioSpeaker {
    type Transmit = Transmit;
    fn listen_addresses(&self) -> Vec<SocketAddr> {
        self.0.listen_addresses()
    }
    fn handle_accepted(
        &mut self,
        now: nexthop_runtime_mio::Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<nexthop_runtime_mio::ConnKey> {
        self.0
            .handle_accepted(now, local, remote)
            .map(|k| nexthop_runtime_mio::ConnKey(k.0))
    }
    fn handle_connected(
        &mut self,
        now: Instant,
        conn: nexthop_runtime_mio::ConnKey,
        local: SocketAddr,
    ) {
        self.0.handle_connected(now, ConnKey(conn.0), local)
    }
    fn handle_connect_failed(&mut self, now: Instant, conn: nexthop_runtime_mio::ConnKey) {
        self.0.handle_connect_failed(now, ConnKey(conn.0))
    }
    fn handle_read(
        &mut self,
        now: Instant,
        conn: nexthop_runtime_mio::ConnKey,
        bytes: &[u8],
    ) -> usize {
        self.0.handle_read(now, ConnKey(conn.0), bytes)
    }
    fn handle_closed(
        &mut self,
        now: Instant,
        conn: nexthop_runtime_mio::ConnKey,
        reason: nexthop_runtime_mio::Closed,
    ) {
        let reason = match reason {
            nexthop_runtime_mio::Closed::PeerClosed => Closed::PeerClosed,
            nexthop_runtime_mio::Closed::Reset => Closed::Reset,
            nexthop_runtime_mio::Closed::SendFailed => Closed::SendFailed,
            nexthop_runtime_mio::Closed::LocalError => Closed::LocalError,
        };
        self.0.handle_closed(now, ConnKey(conn.0), reason)
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now)
    }
    fn poll_command(&mut self) -> Option<nexthop_runtime_mio::Command> {
        Some(match self.0.poll_command()? {
            Command::Connect {
                conn,
                remote,
                bind,
                md5_key,
                min_ttl,
                timeout,
            } => nexthop_runtime_mio::Command::Connect {
                conn: nexthop_runtime_mio::ConnKey(conn.0),
                remote,
                bind,
                md5_key,
                min_ttl,
                timeout,
            },
            Command::Close { conn } => nexthop_runtime_mio::Command::Close {
                conn: nexthop_runtime_mio::ConnKey(conn.0),
            },
        })
    }
    fn poll_ready(&mut self) -> Option<nexthop_runtime_mio::ConnKey> {
        self.0
            .poll_ready()
            .map(|k| nexthop_runtime_mio::ConnKey(k.0))
    }
    fn poll_transmit(
        &mut self,
        now: Instant,
        conn: nexthop_runtime_mio::ConnKey,
    ) -> Option<Transmit> {
        self.0.poll_transmit(now, ConnKey(conn.0))
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.0.poll_timeout()
    }
}

struct MioDriver(nexthop_runtime_mio::Runtime<MioSpeaker, Clock>);

impl Driver for MioDriver {
    fn turn(&mut self, max_wait: std::time::Duration) -> io::Result<()> {
        self.0.turn(Some(max_wait)).map(drop)
    }
    fn speaker(&self) -> &Speaker {
        &self.0.speaker().0
    }
    fn input(&mut self, f: &mut dyn FnMut(&mut Speaker, Instant)) {
        self.0.input(|s, now| f(&mut s.0, now))
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
}

impl Backend for Mio {
    const NAME: &'static str = "mio";
    fn start(
        speaker: Speaker,
        config: &Config,
        output_bound: usize,
    ) -> io::Result<Box<dyn Driver>> {
        let opts = nexthop_runtime_mio::Options {
            output_bound,
            ..nexthop_runtime_mio::Options::default()
        };
        let mut rt = nexthop_runtime_mio::Runtime::new(MioSpeaker(speaker), clock(), opts)?;
        let peers: HashMap<IpAddr, nexthop_runtime_mio::PeerSockOpts> =
            nexthop_runtime_uring::peer_options(config)
                .into_iter()
                .map(|(a, p)| {
                    (
                        a,
                        nexthop_runtime_mio::PeerSockOpts {
                            md5_key: p.md5_key,
                            min_ttl: p.min_ttl,
                        },
                    )
                })
                .collect();
        rt.set_peer_options(peers);
        Ok(Box::new(MioDriver(rt)))
    }
}

struct UringDriver(nexthop_runtime_uring::Runtime<Speaker, Clock>);

impl Driver for UringDriver {
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
}

impl Backend for Uring {
    const NAME: &'static str = "uring";
    fn start(
        speaker: Speaker,
        config: &Config,
        output_bound: usize,
    ) -> io::Result<Box<dyn Driver>> {
        let opts = nexthop_runtime_uring::Options {
            output_bound,
            ..nexthop_runtime_uring::Options::default()
        };
        let mut rt = nexthop_runtime_uring::Runtime::new(speaker, clock(), opts)?;
        rt.set_peer_options(nexthop_runtime_uring::peer_options(config));
        Ok(Box::new(UringDriver(rt)))
    }
}

impl Backend for UringZeroCopy {
    const NAME: &'static str = "uring-zc";
    fn start(
        speaker: Speaker,
        config: &Config,
        output_bound: usize,
    ) -> io::Result<Box<dyn Driver>> {
        let opts = nexthop_runtime_uring::Options {
            output_bound,
            zero_copy: true,
            ..nexthop_runtime_uring::Options::default()
        };
        let mut rt = nexthop_runtime_uring::Runtime::new(speaker, clock(), opts)?;
        rt.set_peer_options(nexthop_runtime_uring::peer_options(config));
        Ok(Box::new(UringDriver(rt)))
    }
}
