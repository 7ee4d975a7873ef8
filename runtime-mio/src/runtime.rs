//! The loop: listeners, connections, their buffers, and readiness. The order in
//! which the speaker's outputs are drained is the edge's [`Pump`]; the order in
//! which readable connections are read is its [`ReceiveBudget`].

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};
use nexthop_runtime_edge::{
    Closed, Command, ConnKey, ConnKeyHasher, ConnectError, Instant, Options, OutputQueue,
    PeerSockets, Pump, ReceiveBudget, SansIo, Stats, Taken, Turn, bind_listener,
};
use tracing::{debug, info, warn};

use crate::buffers::{OutQueue, ReadBuf};

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
    /// Readable, and in the receive budget's list.
    waiting: bool,
}

impl<T: AsRef<[u8]>> OutputQueue<T> for Conn<T> {
    fn unwritten(&self) -> usize {
        self.out.bytes()
    }
    fn push(&mut self, transmit: T) {
        self.out.push(transmit);
    }
    fn wants_pull(&self) -> bool {
        self.more
    }
    fn set_wants_pull(&mut self, more: bool) {
        self.more = more;
    }
    fn closing(&self) -> bool {
        matches!(self.phase, Phase::Closing { .. })
    }
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
    peer_sockets: PeerSockets,
    /// Connections with output to write.
    dirty: Vec<ConnKey>,
    /// Readable connections not read to the end yet (edge-triggered readiness
    /// will not say again that they have data).
    budget: ReceiveBudget<ConnKey>,
    /// Listeners whose accept failed (out of descriptors...): retried after a
    /// pause, since edge-triggered readiness will not fire again for the queue.
    retry_accept: Vec<usize>,
    stats: Stats,
}

/// The runtime as the edge's pump sees it.
struct Outputs<'a, S: SansIo, C>(&'a mut Runtime<S, C>);

impl<S: SansIo, C: FnMut() -> Instant> Pump for Outputs<'_, S, C> {
    type Speaker = S;
    type Queue = Conn<S::Transmit>;

    fn speaker_mut(&mut self) -> &mut S {
        &mut self.0.speaker
    }
    fn output(&mut self, conn: ConnKey) -> Option<(&mut S, &mut Conn<S::Transmit>)> {
        let rt = &mut *self.0;
        let c = rt.conns.get_mut(&conn)?;
        if matches!(c.phase, Phase::Connecting { .. }) {
            return None;
        }
        Some((&mut rt.speaker, c))
    }
    fn output_bound(&self) -> usize {
        self.0.opts.output_bound
    }
    fn command(&mut self, now: Instant, command: Command) {
        self.0.command(now, command);
    }
    fn to_write(&mut self, _: Instant, conn: ConnKey, unwritten: usize) {
        let rt = &mut *self.0;
        rt.stats.max_out_buffered = rt.stats.max_out_buffered.max(unwritten);
        rt.dirty.push(conn);
    }
    fn flush(&mut self, now: Instant) -> bool {
        let rt = &mut *self.0;
        if rt.dirty.is_empty() {
            return false;
        }
        let mut dirty = std::mem::take(&mut rt.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for k in dirty {
            rt.write(now, k);
        }
        true
    }
}

impl<S: SansIo, C: FnMut() -> Instant> Runtime<S, C> {
    /// Binds a listener on each of the speaker's listen addresses (SO_REUSEADDR),
    /// with the speaker's per-peer socket rules installed on them, and carries
    /// out the speaker's first commands (connects of its non-passive
    /// neighbours). Fails when this build cannot apply a rule
    /// ([`nexthop_runtime_edge::check`]).
    pub fn new(speaker: S, clock: C, opts: Options) -> io::Result<Self> {
        let rules = speaker.peer_socket_rules();
        nexthop_runtime_edge::check(&rules)
            .map_err(|e| io::Error::new(io::ErrorKind::Unsupported, e))?;
        let mut peer_sockets = PeerSockets::new();
        peer_sockets.update(rules, &[]);
        let poll = Poll::new()?;
        let mut listeners = Vec::new();
        for (i, addr) in speaker.listen_addresses().into_iter().enumerate() {
            let std: std::net::TcpListener = bind_listener(addr, opts.backlog)?.into();
            let mut sock = TcpListener::from_std(std);
            poll.registry()
                .register(&mut sock, listener_token(i), Interest::READABLE)?;
            let addr = sock.local_addr()?;
            peer_sockets.add_listener(sock.as_fd(), addr);
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
            peer_sockets,
            dirty: Vec::new(),
            budget: ReceiveBudget::new(),
            retry_accept: Vec::new(),
            stats: Stats::default(),
        };
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

    /// The socket of `conn`, to read its options.
    pub fn connection_socket(&self, conn: ConnKey) -> Option<BorrowedFd<'_>> {
        self.conns.get(&conn).map(|c| c.stream.as_fd())
    }

    /// The socket of listener `i` (in [`Runtime::local_addresses`] order), to
    /// read its options.
    pub fn listener_socket(&self, i: usize) -> Option<BorrowedFd<'_>> {
        self.listeners.get(i).map(|l| l.sock.as_fd())
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

    /// Applies the speaker's [`SansIo::peer_socket_rules`] again (after a
    /// reload): keys and GTSM filters on the listeners, minimum TTLs for the
    /// connections accepted from then on.
    pub fn refresh_peer_options(&mut self) {
        let rules = self.speaker.peer_socket_rules();
        let fds: Vec<BorrowedFd<'_>> = self.listeners.iter().map(|l| l.sock.as_fd()).collect();
        self.peer_sockets.update(rules, &fds);
    }

    /// One loop turn: waits for socket readiness, the speaker's next timer, or
    /// `max_wait`, whichever comes first; handles what happened.
    pub fn turn(&mut self, max_wait: Option<std::time::Duration>) -> io::Result<Turn> {
        let now = (self.clock)();
        self.stats.turns += 1;
        let mut next = self.speaker.poll_timeout();
        if let Some(&(d, _)) = self.deadlines.first() {
            next = Some(next.map_or(d, |n| n.min(d)));
        }
        let mut wait = next.map(|d| {
            std::time::Duration::from_millis(d.saturating_duration_since(now).total_millis())
        });
        if !self.budget.is_empty() {
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
        let woke = std::time::Instant::now();
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
        self.stats.events += ready.len() as u64;
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
                let Some(c) = self.conns.get_mut(&k) else {
                    continue;
                };
                if readable && !c.waiting && !matches!(c.phase, Phase::Connecting { .. }) {
                    c.waiting = true;
                    self.budget.push(k);
                }
                if writable {
                    self.dirty.push(k);
                }
            }
        }
        self.ready = ready;
        self.drain();
        let mut budget = std::mem::take(&mut self.budget);
        budget.hand_over(self.opts.recv_budget, |k, share| self.read(k, share));
        self.budget = budget;
        self.timers();
        turn.busy = woke.elapsed();
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

    /// Drains the speaker's outputs (the edge's pump), writing at once.
    fn drain(&mut self) {
        let now = (self.clock)();
        Outputs(self).drain(now);
    }

    fn command(&mut self, now: Instant, cmd: Command) {
        match cmd {
            Command::Connect {
                conn,
                remote,
                bind,
                md5_key,
                min_ttl,
                timeout,
            } => {
                self.stats.connects += 1;
                let stream = PeerSockets::outbound(
                    conn,
                    remote,
                    bind,
                    md5_key.as_deref(),
                    min_ttl,
                    &self.opts,
                )
                .and_then(|s| match s.connect(&remote.into()) {
                    Ok(()) => Ok(s),
                    Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(s),
                    Err(e) => Err(ConnectError::Socket(e)),
                })
                .map(|s| TcpStream::from_std(s.into()))
                .and_then(|mut stream| {
                    self.poll
                        .registry()
                        .register(
                            &mut stream,
                            conn_token(conn),
                            Interest::READABLE | Interest::WRITABLE,
                        )
                        .map(|()| stream)
                        .map_err(ConnectError::Socket)
                });
                let stream = match stream {
                    Ok(s) => s,
                    Err(e) => {
                        match e {
                            ConnectError::Option(_) => self.stats.option_failures += 1,
                            ConnectError::Socket(e) => {
                                debug!(connection_id = conn.0, %remote, error = %e, "connect failed")
                            }
                        }
                        self.stats.connect_failures += 1;
                        self.speaker.handle_connect_failed(now, conn);
                        return;
                    }
                };
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
                        waiting: false,
                    },
                );
            }
            Command::Close { conn } => {
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
    /// socket would block; a closing connection then sends its FIN.
    fn write(&mut self, now: Instant, k: ConnKey) {
        let failed = loop {
            let Some(unwritten) = Outputs(self).pull(now, k) else {
                return;
            };
            self.stats.max_out_buffered = self.stats.max_out_buffered.max(unwritten);
            let Some(c) = self.conns.get_mut(&k) else {
                return;
            };
            if c.out.is_empty() {
                break None;
            }
            match c.out.write_to(&mut c.stream, &mut self.stats) {
                Ok(true) => {}
                Ok(false) => break None,
                Err(e) => break Some(e),
            }
        };
        let Some(c) = self.conns.get_mut(&k) else {
            return;
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
                    self.stats.accept_failures += 1;
                    if !self.retry_accept.contains(&i) {
                        self.retry_accept.push(i);
                    }
                    return;
                }
            };
            // Fail closed: not while the listener lacks the peer's key or filter.
            if self.peer_sockets.admit(i, remote).is_err() {
                self.stats.option_failures += 1;
                continue;
            }
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
            self.setup_accepted(now, k, stream, remote, local);
            self.drain();
        }
    }

    fn setup_accepted(
        &mut self,
        now: Instant,
        k: ConnKey,
        mut stream: TcpStream,
        remote: SocketAddr,
        local: SocketAddr,
    ) {
        if self
            .peer_sockets
            .accepted(k, stream.as_fd(), remote, &self.opts)
            .is_err()
        {
            self.stats.option_failures += 1;
            self.speaker.handle_closed(now, k, Closed::LocalError);
            return;
        }
        if let Err(e) = self.poll.registry().register(
            &mut stream,
            conn_token(k),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            warn!(connection_id = k.0, %remote, error = %e, "cannot register an accepted connection");
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
                waiting: false,
            },
        );
    }

    /// Reads `k` until the socket would block or `share` bytes were handed to
    /// the speaker (one read past it at most), feeding the speaker after each
    /// read.
    fn read(&mut self, k: ConnKey, share: usize) -> Taken {
        let mut taken = 0;
        let done = |bytes| Taken { bytes, more: false };
        loop {
            let Some(c) = self.conns.get_mut(&k) else {
                return done(taken);
            };
            match c.phase {
                Phase::Connecting { .. } => {
                    c.waiting = false;
                    return done(taken);
                }
                Phase::Closing { .. } => {
                    c.waiting = false;
                    self.discard(k);
                    return done(taken);
                }
                Phase::Open => {}
            }
            if taken >= share {
                return Taken {
                    bytes: taken,
                    more: true,
                };
            }
            let Some(spare) = c.rbuf.spare() else {
                warn!(connection_id = k.0, remote = %c.remote, "read buffer full without a whole message");
                self.fail(k, Closed::LocalError);
                self.drain();
                return done(taken);
            };
            match c.stream.read(spare) {
                Ok(0) => {
                    info!(connection_id = k.0, remote = %c.remote, "connection closed by the peer");
                    self.fail(k, Closed::PeerClosed);
                    self.drain();
                    return done(taken);
                }
                Ok(n) => {
                    c.rbuf.commit(n);
                    taken += n;
                    self.stats.bytes_read += n as u64;
                    self.stats.max_read_buffer = self.stats.max_read_buffer.max(c.rbuf.capacity());
                    let now = (self.clock)();
                    let used = self.speaker.handle_read(now, k, c.rbuf.data());
                    c.rbuf.consume(used);
                    self.drain();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    c.rbuf.release_if_empty();
                    c.waiting = false;
                    return done(taken);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    info!(connection_id = k.0, remote = %c.remote, error = %e, "connection lost");
                    self.fail(k, Closed::from_error(&e));
                    self.drain();
                    return done(taken);
                }
            }
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
