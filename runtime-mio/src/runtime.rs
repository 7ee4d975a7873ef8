//! The loop: listeners, connections, their buffers, and the order in which the
//! speaker's inputs are fed and its outputs drained.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Read};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::os::fd::AsFd;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};
use socket2::{Domain, Protocol, Socket, Type};
use tracing::{debug, info, warn};

use crate::buffers::{OutQueue, ReadBuf};
use crate::{
    Closed, Command, ConnKey, ConnKeyHasher, Instant, Options, PeerSockOpts, SansIo, sockopt,
};

/// The token for the caller's own event sources (signals): register them with
/// [`Runtime::registry`] under it, and [`Turn::user`] says when one is ready.
pub const USER_TOKEN: Token = Token(usize::MAX);
const USER: Token = USER_TOKEN;

fn listener_token(i: usize) -> Token {
    Token(usize::MAX - 1 - i)
}

fn listener_index(t: Token, n: usize) -> Option<usize> {
    let i = usize::MAX.checked_sub(1)?.checked_sub(t.0)?;
    (i < n).then_some(i)
}

fn conn_token(k: ConnKey) -> Token {
    Token(k.0 as usize)
}

/// What a [`Runtime::turn`] saw besides the speaker's sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    /// A source registered with [`USER_TOKEN`] is ready.
    pub user: bool,
}

/// Counters, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted and handed to the speaker.
    pub accepted: u64,
    /// Connections accepted and closed at once (no neighbour for the address).
    pub refused: u64,
    /// Outbound connects started.
    pub connects: u64,
    /// Outbound connects that failed or timed out.
    pub connect_failures: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Largest unwritten output of any connection seen.
    pub max_out_buffered: usize,
    /// Largest read buffer of any connection.
    pub max_read_buffer: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Connecting {
        deadline: Instant,
    },
    Open,
    /// The speaker closed it: write what was handed out, send FIN, wait for the
    /// peer's FIN until `deadline`.
    Closing {
        deadline: Instant,
        fin_sent: bool,
    },
}

impl Phase {
    fn deadline(self) -> Option<Instant> {
        match self {
            Phase::Connecting { deadline } | Phase::Closing { deadline, .. } => Some(deadline),
            Phase::Open => None,
        }
    }
}

struct Conn<T> {
    stream: TcpStream,
    remote: SocketAddr,
    phase: Phase,
    rbuf: ReadBuf,
    out: OutQueue<T>,
    /// The speaker reported it ready and `poll_transmit` has not returned `None`.
    more: bool,
}

struct Listener {
    sock: TcpListener,
    addr: SocketAddr,
}

/// The mio loop driving a speaker `S` with the clock `C`.
pub struct Runtime<S: SansIo, C> {
    poll: Poll,
    events: Events,
    ready: Vec<(Token, bool, bool)>,
    speaker: S,
    clock: C,
    opts: Options,
    listeners: Vec<Listener>,
    conns: HashMap<ConnKey, Conn<S::Transmit>, ConnKeyHasher>,
    deadlines: BTreeSet<(Instant, ConnKey)>,
    peers: HashMap<IpAddr, PeerSockOpts>,
    dirty: Vec<ConnKey>,
    pending_reads: Vec<ConnKey>,
    /// Listeners whose accept failed (out of descriptors...): retried after a
    /// pause, since edge-triggered readiness will not fire again for the queue.
    retry_accept: Vec<usize>,
    stats: Stats,
}

fn bind_listener(addr: SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(backlog)?;
    Ok(s.into())
}

fn connect_socket(
    remote: SocketAddr,
    bind: Option<IpAddr>,
    md5_key: Option<&[u8]>,
    min_ttl: Option<u8>,
    send_buffer: Option<usize>,
) -> io::Result<std::net::TcpStream> {
    let s = Socket::new(
        Domain::for_address(remote),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    s.set_nonblocking(true)?;
    s.set_tcp_nodelay(true)?;
    if let Some(n) = send_buffer {
        s.set_send_buffer_size(n)?;
    }
    let v6 = remote.is_ipv6();
    if let Some(b) = bind {
        s.bind(&SocketAddr::new(b, 0).into())?;
    }
    if let Some(key) = md5_key {
        sockopt::set_md5_key(s.as_fd(), remote.ip(), Some(key))?;
    }
    if let Some(t) = min_ttl {
        sockopt::set_ttl_255(s.as_fd(), v6)?;
        sockopt::set_min_ttl(s.as_fd(), v6, t)?;
    }
    match s.connect(&remote.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(s.into())
}

fn closed_reason(e: &io::Error) -> Closed {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::TimedOut => Closed::Reset,
        _ => Closed::LocalError,
    }
}

impl<S: SansIo, C: FnMut() -> Instant> Runtime<S, C> {
    /// Binds a listener on each of the speaker's listen addresses (SO_REUSEADDR)
    /// and carries out the speaker's first commands (connects of its non-passive
    /// neighbours).
    pub fn new(speaker: S, clock: C, opts: Options) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut listeners = Vec::new();
        for (i, addr) in speaker.listen_addresses().into_iter().enumerate() {
            let sock = bind_listener(addr, opts.backlog)
                .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
            let mut sock = TcpListener::from_std(sock);
            poll.registry()
                .register(&mut sock, listener_token(i), Interest::READABLE)?;
            let addr = sock.local_addr()?;
            info!(%addr, "listening");
            listeners.push(Listener { sock, addr });
        }
        let mut rt = Runtime {
            poll,
            events: Events::with_capacity(1024),
            ready: Vec::new(),
            speaker,
            clock,
            opts,
            listeners,
            conns: HashMap::default(),
            deadlines: BTreeSet::new(),
            peers: HashMap::new(),
            dirty: Vec::new(),
            pending_reads: Vec::new(),
            retry_accept: Vec::new(),
            stats: Stats::default(),
        };
        rt.refresh_peer_options();
        rt.drain();
        Ok(rt)
    }

    /// The speaker.
    pub fn speaker(&self) -> &S {
        &self.speaker
    }

    /// Feeds the speaker an input (`handle_shutdown`, `handle_reload`...) with the
    /// current time, then drains its outputs.
    pub fn input<R>(&mut self, f: impl FnOnce(&mut S, Instant) -> R) -> R {
        let now = (self.clock)();
        let r = f(&mut self.speaker, now);
        self.drain();
        r
    }

    /// The time of the runtime's clock.
    pub fn now(&mut self) -> Instant {
        (self.clock)()
    }

    /// Where the listeners are bound (the actual ports, for port 0).
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(|l| l.addr).collect()
    }

    /// The registry, to add the caller's sources under [`USER_TOKEN`].
    pub fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    /// Open sockets (connecting, established or lingering after a close).
    pub fn open_connections(&self) -> usize {
        self.conns.len()
    }

    /// The open connections and their peers.
    pub fn connections(&self) -> Vec<(ConnKey, SocketAddr)> {
        self.conns.iter().map(|(k, c)| (*k, c.remote)).collect()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// `(read buffer bytes allocated, unwritten output bytes)` of `conn`.
    pub fn buffered(&self, conn: ConnKey) -> Option<(usize, usize)> {
        self.conns
            .get(&conn)
            .map(|c| (c.rbuf.capacity(), c.out.bytes()))
    }

    /// Applies the speaker's [`SansIo::peer_socket_options`] (after a reload).
    pub fn refresh_peer_options(&mut self) {
        let peers = self.speaker.peer_socket_options();
        if peers != self.peers {
            self.set_peer_options(peers);
        }
    }

    /// Sets the per-peer options for inbound connections: MD5 keys are installed
    /// on (and removed from) the listeners of the peer's family; minimum TTLs are
    /// applied to connections accepted from then on.
    pub fn set_peer_options(&mut self, peers: HashMap<IpAddr, PeerSockOpts>) {
        for l in &self.listeners {
            let fd = l.sock.as_fd();
            let family = |a: &IpAddr| a.is_ipv4() == l.addr.is_ipv4();
            for (addr, old) in &self.peers {
                let gone = peers.get(addr).and_then(|p| p.md5_key.as_ref()).is_none();
                if family(addr)
                    && old.md5_key.is_some()
                    && gone
                    && let Err(e) = sockopt::set_md5_key(fd, *addr, None)
                {
                    warn!(neighbor = %addr, error = %e, "cannot remove the TCP-MD5 key");
                }
            }
            // The listener answers SYNs (SYN-ACK) itself: with TTL 255, or a
            // GTSM peer drops them (RFC 5082 §3).
            if peers.iter().any(|(a, p)| family(a) && p.min_ttl.is_some())
                && let Err(e) = sockopt::set_ttl_255(fd, l.addr.is_ipv6())
            {
                warn!(listener = %l.addr, error = %e, "cannot set TTL 255 for GTSM");
            }
            for (addr, p) in &peers {
                if let (true, Some(key)) = (family(addr), &p.md5_key)
                    && let Err(e) = sockopt::set_md5_key(fd, *addr, Some(key))
                {
                    warn!(neighbor = %addr, listener = %l.addr, error = %e, "cannot set the TCP-MD5 key");
                }
            }
        }
        self.peers = peers;
    }

    /// One loop turn: waits for socket readiness, the speaker's next timer, or
    /// `max_wait`, whichever comes first; handles what happened.
    pub fn turn(&mut self, max_wait: Option<std::time::Duration>) -> io::Result<Turn> {
        let now = (self.clock)();
        let mut next = self.speaker.poll_timeout();
        if let Some(&(d, _)) = self.deadlines.first() {
            next = Some(next.map_or(d, |n| n.min(d)));
        }
        let mut wait = next.map(|d| {
            std::time::Duration::from_millis(d.saturating_duration_since(now).total_millis())
        });
        if !self.pending_reads.is_empty() {
            wait = Some(std::time::Duration::ZERO);
        }
        if !self.retry_accept.is_empty() {
            let pause = std::time::Duration::from_millis(100);
            wait = Some(wait.map_or(pause, |w| w.min(pause)));
        }
        if let Some(m) = max_wait {
            wait = Some(wait.map_or(m, |w| w.min(m)));
        }
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.events.clear(),
            Err(e) => return Err(e),
        }
        let mut turn = Turn::default();
        let mut ready = std::mem::take(&mut self.ready);
        ready.clear();
        ready.extend(self.events.iter().map(|e| {
            (
                e.token(),
                e.is_readable() || e.is_error() || e.is_read_closed(),
                e.is_writable() || e.is_error(),
            )
        }));
        for k in std::mem::take(&mut self.pending_reads) {
            self.read(k);
        }
        for i in std::mem::take(&mut self.retry_accept) {
            self.accept(i);
        }
        for &(token, readable, writable) in &ready {
            if token == USER {
                turn.user = true;
            } else if let Some(i) = listener_index(token, self.listeners.len()) {
                self.accept(i);
            } else {
                let k = ConnKey(token.0 as u32);
                let Some(c) = self.conns.get(&k) else {
                    continue;
                };
                if matches!(c.phase, Phase::Connecting { .. }) {
                    self.finish_connect(k);
                }
                if readable {
                    self.read(k);
                }
                if writable && self.conns.contains_key(&k) {
                    self.dirty.push(k);
                    self.drain();
                }
            }
        }
        self.ready = ready;
        self.timers();
        Ok(turn)
    }

    /// Runs due timers: the speaker's, connect timeouts, lingering closes.
    fn timers(&mut self) {
        let now = (self.clock)();
        if self.speaker.poll_timeout().is_some_and(|t| t <= now) {
            self.speaker.handle_timeout(now);
            self.drain();
        }
        while let Some(&(d, k)) = self.deadlines.first() {
            if d > now {
                break;
            }
            self.deadlines.pop_first();
            let Some(c) = self.conns.get(&k) else {
                continue;
            };
            match c.phase {
                Phase::Connecting { deadline } if deadline == d => {
                    debug!(connection_id = k.0, remote = %c.remote, "connect timed out");
                    self.fail(k, Closed::LocalError);
                    self.drain();
                }
                Phase::Closing { deadline, .. } if deadline == d => {
                    debug!(connection_id = k.0, remote = %c.remote, "linger over, closing");
                    self.remove(k);
                }
                _ => {}
            }
        }
    }

    /// Drains the speaker's outputs until it has none: commands, ready
    /// connections, their transmits (which may fail and feed it more inputs).
    fn drain(&mut self) {
        loop {
            let mut again = false;
            while let Some(cmd) = self.speaker.poll_command() {
                again = true;
                self.command(cmd);
            }
            while let Some(k) = self.speaker.poll_ready() {
                again = true;
                if let Some(c) = self.conns.get_mut(&k) {
                    c.more = true;
                    self.dirty.push(k);
                }
            }
            if self.dirty.is_empty() {
                if again {
                    continue;
                }
                break;
            }
            let mut dirty = std::mem::take(&mut self.dirty);
            dirty.sort_unstable();
            dirty.dedup();
            for k in dirty {
                self.flush(k);
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Connect {
                conn,
                remote,
                bind,
                md5_key,
                min_ttl,
                timeout,
            } => {
                let now = (self.clock)();
                self.stats.connects += 1;
                let sock = connect_socket(
                    remote,
                    bind,
                    md5_key.as_deref(),
                    min_ttl,
                    self.opts.send_buffer,
                );
                let mut stream = match sock {
                    Ok(s) => TcpStream::from_std(s),
                    Err(e) => {
                        debug!(connection_id = conn.0, %remote, error = %e, "connect failed");
                        self.stats.connect_failures += 1;
                        self.speaker.handle_connect_failed(now, conn);
                        return;
                    }
                };
                if let Err(e) = self.poll.registry().register(
                    &mut stream,
                    conn_token(conn),
                    Interest::READABLE | Interest::WRITABLE,
                ) {
                    warn!(connection_id = conn.0, %remote, error = %e, "cannot register a socket");
                    self.stats.connect_failures += 1;
                    self.speaker.handle_connect_failed(now, conn);
                    return;
                }
                let deadline = now.saturating_add(timeout);
                debug!(connection_id = conn.0, %remote, ?bind, "connecting");
                self.deadlines.insert((deadline, conn));
                self.conns.insert(
                    conn,
                    Conn {
                        stream,
                        remote,
                        phase: Phase::Connecting { deadline },
                        rbuf: ReadBuf::default(),
                        out: OutQueue::new(),
                        more: false,
                    },
                );
            }
            Command::Close { conn } => {
                let now = (self.clock)();
                let linger = self.opts.linger;
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                match c.phase {
                    Phase::Connecting { .. } => {
                        self.remove(conn);
                    }
                    Phase::Open => {
                        debug!(connection_id = conn.0, remote = %c.remote, "closing");
                        let deadline = now.saturating_add(linger);
                        c.phase = Phase::Closing {
                            deadline,
                            fin_sent: false,
                        };
                        c.more = true;
                        self.deadlines.insert((deadline, conn));
                        self.dirty.push(conn);
                    }
                    Phase::Closing { .. } => {}
                }
            }
        }
    }

    /// Pulls transmits while under the output bound and writes them until the
    /// socket would block.
    fn flush(&mut self, k: ConnKey) {
        let now = (self.clock)();
        let bound = self.opts.output_bound;
        let Some(c) = self.conns.get_mut(&k) else {
            return;
        };
        if matches!(c.phase, Phase::Connecting { .. }) {
            return;
        }
        let failed = loop {
            while c.more && (c.out.bytes() < bound || matches!(c.phase, Phase::Closing { .. })) {
                match self.speaker.poll_transmit(now, k) {
                    Some(t) => c.out.push(t),
                    None => c.more = false,
                }
            }
            self.stats.max_out_buffered = self.stats.max_out_buffered.max(c.out.bytes());
            if c.out.is_empty() {
                break None;
            }
            let before = c.out.bytes();
            let r = c.out.write_to(&mut c.stream);
            self.stats.bytes_written += (before - c.out.bytes()) as u64;
            match r {
                Ok(true) => {}
                Ok(false) => break None,
                Err(e) => break Some(e),
            }
        };
        if let Some(e) = failed {
            info!(connection_id = k.0, remote = %c.remote, error = %e, "send failed, connection closed");
            self.fail(k, Closed::SendFailed);
            return;
        }
        if let Phase::Closing {
            deadline,
            fin_sent: false,
        } = c.phase
            && c.out.is_empty()
            && !c.more
        {
            let _ = c.stream.shutdown(Shutdown::Write);
            c.phase = Phase::Closing {
                deadline,
                fin_sent: true,
            };
        }
    }

    fn finish_connect(&mut self, k: ConnKey) {
        let Some(c) = self.conns.get_mut(&k) else {
            return;
        };
        let err = match c.stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match c.stream.peer_addr() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => return,
                Err(e) => Some(e),
            },
        };
        if let Some(e) = err {
            debug!(connection_id = k.0, remote = %c.remote, error = %e, "connect failed");
            self.fail(k, Closed::LocalError);
            self.drain();
            return;
        }
        let Phase::Connecting { deadline } = c.phase else {
            return;
        };
        self.deadlines.remove(&(deadline, k));
        c.phase = Phase::Open;
        let local = c.stream.local_addr().unwrap_or(c.remote);
        debug!(connection_id = k.0, remote = %c.remote, %local, direction = "outbound", "connected");
        let now = (self.clock)();
        self.speaker.handle_connected(now, k, local);
        self.dirty.push(k);
        self.drain();
    }

    fn accept(&mut self, i: usize) {
        loop {
            let (stream, remote) = match self.listeners[i].sock.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    warn!(listener = %self.listeners[i].addr, error = %e, "accept failed");
                    if !self.retry_accept.contains(&i) {
                        self.retry_accept.push(i);
                    }
                    return;
                }
            };
            let now = (self.clock)();
            let local = stream.local_addr().unwrap_or(self.listeners[i].addr);
            let Some(k) = self.speaker.handle_accepted(now, local, remote) else {
                self.stats.refused += 1;
                info!(%remote, %local, "connection from an unconfigured address closed");
                drop(stream);
                self.drain();
                continue;
            };
            self.stats.accepted += 1;
            self.setup_accepted(k, stream, remote, local);
            self.drain();
        }
    }

    fn setup_accepted(
        &mut self,
        k: ConnKey,
        mut stream: TcpStream,
        remote: SocketAddr,
        local: SocketAddr,
    ) {
        let now = (self.clock)();
        let mut setup = stream.set_nodelay(true);
        if let (Ok(()), Some(n)) = (&setup, self.opts.send_buffer) {
            setup = socket2::SockRef::from(&stream).set_send_buffer_size(n);
        }
        if let (Ok(()), Some(t)) = (
            &setup,
            self.peers
                .get(&remote.ip().to_canonical())
                .and_then(|p| p.min_ttl),
        ) {
            let v6 = remote.is_ipv6();
            setup = sockopt::set_ttl_255(stream.as_fd(), v6)
                .and_then(|()| sockopt::set_min_ttl(stream.as_fd(), v6, t));
        }
        if setup.is_ok() {
            setup = self.poll.registry().register(
                &mut stream,
                conn_token(k),
                Interest::READABLE | Interest::WRITABLE,
            );
        }
        if let Err(e) = setup {
            warn!(connection_id = k.0, %remote, error = %e, "cannot set up an accepted connection");
            self.speaker.handle_closed(now, k, Closed::LocalError);
            return;
        }
        debug!(connection_id = k.0, %remote, %local, direction = "inbound", "accepted");
        self.conns.insert(
            k,
            Conn {
                stream,
                remote,
                phase: Phase::Open,
                rbuf: ReadBuf::default(),
                out: OutQueue::new(),
                more: false,
            },
        );
    }

    /// Reads until the socket would block (or the turn's budget is spent), feeding
    /// the speaker after each read.
    fn read(&mut self, k: ConnKey) {
        for _ in 0..self.opts.reads_per_turn {
            let Some(c) = self.conns.get_mut(&k) else {
                return;
            };
            match c.phase {
                Phase::Connecting { .. } => return,
                Phase::Closing { .. } => {
                    self.discard(k);
                    return;
                }
                Phase::Open => {}
            }
            let Some(spare) = c.rbuf.spare() else {
                warn!(connection_id = k.0, remote = %c.remote, "read buffer full without a whole message");
                self.fail(k, Closed::LocalError);
                self.drain();
                return;
            };
            match c.stream.read(spare) {
                Ok(0) => {
                    info!(connection_id = k.0, remote = %c.remote, "connection closed by the peer");
                    self.fail(k, Closed::PeerClosed);
                    self.drain();
                    return;
                }
                Ok(n) => {
                    c.rbuf.commit(n);
                    self.stats.bytes_read += n as u64;
                    self.stats.max_read_buffer = self.stats.max_read_buffer.max(c.rbuf.capacity());
                    let now = (self.clock)();
                    let used = self.speaker.handle_read(now, k, c.rbuf.data());
                    c.rbuf.consume(used);
                    self.drain();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.rbuf.release_if_empty();
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    info!(connection_id = k.0, remote = %c.remote, error = %e, "connection lost");
                    self.fail(k, closed_reason(&e));
                    self.drain();
                    return;
                }
            }
        }
        // Budget spent: more may wait, and edge-triggered readiness will not say so.
        if self.conns.contains_key(&k) {
            self.pending_reads.push(k);
        }
    }

    /// Reads and drops what a peer sends on a connection being closed; its FIN or
    /// an error ends the connection.
    fn discard(&mut self, k: ConnKey) {
        let mut scratch = [0u8; 4096];
        let Some(c) = self.conns.get_mut(&k) else {
            return;
        };
        loop {
            match c.stream.read(&mut scratch) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        self.remove(k);
    }

    /// Drops a connection; tells the speaker unless it closed it itself.
    fn fail(&mut self, k: ConnKey, reason: Closed) {
        let Some(c) = self.remove(k) else {
            return;
        };
        let now = (self.clock)();
        match c.phase {
            Phase::Closing { .. } => {}
            Phase::Connecting { .. } => {
                self.stats.connect_failures += 1;
                self.speaker.handle_connect_failed(now, k);
            }
            Phase::Open => self.speaker.handle_closed(now, k, reason),
        }
    }

    fn remove(&mut self, k: ConnKey) -> Option<Conn<S::Transmit>> {
        let mut c = self.conns.remove(&k)?;
        if let Some(d) = c.phase.deadline() {
            self.deadlines.remove(&(d, k));
        }
        let _ = self.poll.registry().deregister(&mut c.stream);
        Some(c)
    }
}
