//! The event loop: one thread, one ring. A turn reaps every completion, hands the
//! received data to the speaker under the edge's fair [`ReceiveBudget`] (draining
//! the speaker's outputs after every input, by the edge's [`Pump`]), queues the
//! sends, receives, connects and the single timeout the turn produced, and
//! submits them all with one `io_uring_enter` that also waits for the next
//! completion.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nexthop_runtime_edge::{
    Closed, Command, ConnKey, ConnKeyHasher, ConnectError, Instant, Options, PeerSockets, Pump,
    ReceiveBudget, SansIo, Stats, Taken, Turn, bind_listener,
};
use socket2::{SockAddr, Socket};

use crate::RingOptions;
use crate::conn::{Conn, HeldRecv, Phase, Slab};
use crate::sys::ring::{Completion, Kind, Ring, RingFeatures};

/// Tokens of listeners have the top bit set; connections' tokens never do.
const LISTENER: u32 = 1 << 31;

/// Wakes a runtime's loop from another thread (a signal handler thread, a test).
#[derive(Clone, Debug)]
pub struct Waker {
    tx: Arc<UnixStream>,
    flag: Arc<AtomicBool>,
}

impl Waker {
    /// Makes the loop's current or next wait return; that turn reports `user`.
    pub fn wake(&self) {
        self.flag.store(true, Ordering::Release);
        let _ = (&*self.tx).write(&[1]);
    }
}

/// The loop's end of the wake-up socket pair, polled by the ring.
struct Wake {
    rx: UnixStream,
    waker: Waker,
}

impl Wake {
    fn new() -> io::Result<Wake> {
        let (rx, tx) = UnixStream::pair()?;
        rx.set_nonblocking(true)?;
        tx.set_nonblocking(true)?;
        Ok(Wake {
            rx,
            waker: Waker {
                tx: Arc::new(tx),
                flag: Arc::new(AtomicBool::new(false)),
            },
        })
    }

    /// Empties the socket; whether a waker asked since the last time.
    fn drain(&mut self) -> bool {
        let mut buf = [0u8; 256];
        while let Ok(n) = self.rx.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        self.waker.flag.swap(false, Ordering::AcqRel)
    }
}

struct Listener {
    socket: Socket,
    local: SocketAddr,
    armed: bool,
    /// After a failed accept (out of descriptors...): not re-armed before then,
    /// or before a connection closes, so a full descriptor table does not make
    /// every turn accept and fail again.
    paused_until: Option<Instant>,
}

/// The most `iovec`s one `sendmsg` takes (the kernel's `UIO_MAXIOV`).
const MAX_IOV: usize = 1024;

/// How long a listener rests after a failed accept.
const ACCEPT_PAUSE: crate::Duration = crate::Duration::from_millis(100);

/// Work found while draining the speaker's outputs that feeds back into it.
enum Deferred {
    ConnectFailed(ConnKey),
}

/// The io_uring runtime driving a sans-IO speaker `S` with clock `C`.
pub struct Runtime<S: SansIo, C: FnMut() -> Instant> {
    speaker: S,
    clock: C,
    options: Options,
    send_batch: usize,
    zero_copy: bool,
    // Field order matters: the ring is dropped (cancelling and waiting for every
    // operation) before the connections whose sockets it names.
    ring: Ring<S::Transmit>,
    listeners: Vec<Listener>,
    conns: Slab<S::Transmit>,
    tokens: HashMap<ConnKey, u32, ConnKeyHasher>,
    peer_sockets: PeerSockets,
    wake: Wake,
    completions: Vec<Completion<S::Transmit>>,
    /// Connections with queued transmits and no send in flight.
    dirty: Vec<u32>,
    /// Connections whose receive must be armed again (the buffers ran out).
    rearm: HashSet<u32>,
    /// Connections the speaker closed, by linger deadline.
    closing: HashSet<u32>,
    /// Outbound connects in flight and when they are given up.
    connect_deadlines: HashMap<u32, Instant>,
    deferred: Vec<Deferred>,
    /// Connections with receive completions held (each connection's are in its
    /// `held`, in order), for the fair receive budget.
    budget: ReceiveBudget<u32>,
    armed: Option<Instant>,
    stats: Stats,
}

/// The runtime as the edge's pump sees it.
struct Outputs<'a, S: SansIo, C: FnMut() -> Instant>(&'a mut Runtime<S, C>);

impl<S: SansIo, C: FnMut() -> Instant> Pump for Outputs<'_, S, C> {
    type Speaker = S;
    type Queue = Conn<S::Transmit>;

    fn speaker_mut(&mut self) -> &mut S {
        &mut self.0.speaker
    }
    fn output(&mut self, conn: ConnKey) -> Option<(&mut S, &mut Conn<S::Transmit>)> {
        let rt = &mut *self.0;
        let c = rt.conns.get_mut(rt.tokens.get(&conn)?)?;
        if !matches!(c.phase, Phase::Open) {
            return None;
        }
        Some((&mut rt.speaker, c))
    }
    fn output_bound(&self) -> usize {
        self.0.options.output_bound
    }
    fn command(&mut self, now: Instant, command: Command) {
        let rt = &mut *self.0;
        match command {
            Command::Connect {
                conn,
                remote,
                bind,
                md5_key,
                min_ttl,
                timeout,
            } => {
                let opened = rt.connect(
                    now,
                    conn,
                    remote,
                    bind,
                    md5_key.as_deref(),
                    min_ttl,
                    timeout,
                );
                if opened.is_err() {
                    rt.deferred.push(Deferred::ConnectFailed(conn));
                }
            }
            Command::Close { conn } => rt.close(now, conn),
        }
    }
    /// Sent at the next submission.
    fn to_write(&mut self, _: Instant, conn: ConnKey, unwritten: usize) {
        let rt = &mut *self.0;
        rt.stats.max_out_buffered = rt.stats.max_out_buffered.max(unwritten);
        let Some(&token) = rt.tokens.get(&conn) else {
            return;
        };
        if let Some(c) = rt.conns.get_mut(&token)
            && !c.out.is_empty()
            && !c.dirty
        {
            c.dirty = true;
            rt.dirty.push(token);
        }
    }
}

impl<S: SansIo, C: FnMut() -> Instant> Runtime<S, C> {
    /// A runtime for `speaker`, listening on its listen addresses, with the
    /// default ring. Create it on the thread that runs it (the ring is
    /// single-issuer). Fails when this build cannot apply one of the speaker's
    /// per-peer socket rules ([`nexthop_runtime_edge::check`]).
    pub fn new(speaker: S, clock: C, options: Options) -> io::Result<Self> {
        Runtime::with_ring(speaker, clock, options, RingOptions::default())
    }

    /// [`Runtime::new`] with the ring's tunables.
    pub fn with_ring(
        speaker: S,
        clock: C,
        options: Options,
        ring: RingOptions,
    ) -> io::Result<Self> {
        let rules = speaker.peer_socket_rules();
        nexthop_runtime_edge::check(&rules)
            .map_err(|e| io::Error::new(io::ErrorKind::Unsupported, e))?;
        let mut peer_sockets = PeerSockets::new();
        peer_sockets.update(rules, &[]);
        let RingOptions {
            ring_entries,
            recv_buffers,
            recv_buffer_size,
            send_batch,
            zero_copy,
            sqpoll_idle,
        } = ring;
        let mut ring = Ring::new(
            ring_entries,
            recv_buffers,
            recv_buffer_size,
            sqpoll_idle.map(|d| u32::try_from(d.total_millis()).unwrap_or(u32::MAX).max(1)),
        )?;
        let wake = Wake::new()?;
        ring.wake_on(wake.rx.as_raw_fd());
        let mut rt = Runtime {
            speaker,
            clock,
            options,
            send_batch,
            zero_copy,
            ring,
            listeners: Vec::new(),
            conns: Slab::new(),
            tokens: HashMap::default(),
            peer_sockets,
            wake,
            completions: Vec::new(),
            dirty: Vec::new(),
            rearm: HashSet::new(),
            closing: HashSet::new(),
            connect_deadlines: HashMap::new(),
            deferred: Vec::new(),
            budget: ReceiveBudget::new(),
            armed: None,
            stats: Stats::default(),
        };
        for addr in rt.speaker.listen_addresses() {
            rt.listen(addr)?;
        }
        let now = (rt.clock)();
        rt.drain(now);
        Ok(rt)
    }

    /// Opens one more listener (the speaker's are opened by [`Runtime::new`]),
    /// with the per-peer socket rules in force installed on it.
    pub fn listen(&mut self, addr: SocketAddr) -> io::Result<SocketAddr> {
        let socket = bind_listener(addr, self.options.backlog)?;
        let local = socket.local_addr()?.as_socket().unwrap_or(addr);
        self.peer_sockets.add_listener(socket.as_fd(), local);
        tracing::info!(addr = %local, "listening");
        let token = LISTENER | self.listeners.len() as u32;
        self.ring.accept(token, socket.as_raw_fd());
        self.listeners.push(Listener {
            socket,
            local,
            armed: true,
            paused_until: None,
        });
        Ok(local)
    }

    /// The addresses listened on (with the ports the kernel chose for port 0).
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.listeners.iter().map(|l| l.local).collect()
    }

    /// Applies the speaker's [`SansIo::peer_socket_rules`] again (after a
    /// reload): keys and GTSM filters on the listeners, minimum TTLs for the
    /// connections accepted from then on.
    pub fn refresh_peer_options(&mut self) {
        let rules = self.speaker.peer_socket_rules();
        let fds: Vec<BorrowedFd<'_>> = self.listeners.iter().map(|l| l.socket.as_fd()).collect();
        self.peer_sockets.update(rules, &fds);
    }

    /// The open connections and their peers.
    pub fn connections(&self) -> Vec<(ConnKey, SocketAddr)> {
        self.tokens
            .iter()
            .filter_map(|(k, t)| Some((*k, self.conns.get(t)?.remote?)))
            .collect()
    }

    /// The socket of `conn`, to read its options.
    pub fn connection_socket(&self, conn: ConnKey) -> Option<BorrowedFd<'_>> {
        let c = self.conns.get(self.tokens.get(&conn)?)?;
        Some(c.fd.as_fd())
    }

    /// The socket of listener `i` (in [`Runtime::local_addresses`] order), to
    /// read its options.
    pub fn listener_socket(&self, i: usize) -> Option<BorrowedFd<'_>> {
        self.listeners.get(i).map(|l| l.socket.as_fd())
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
        self.drain(now);
        r
    }

    /// Gives the speaker back, closing every socket.
    pub fn into_speaker(self) -> S {
        let Runtime {
            speaker,
            ring,
            conns,
            listeners,
            ..
        } = self;
        drop(ring);
        drop(conns);
        drop(listeners);
        speaker
    }

    /// The clock's now.
    pub fn now(&mut self) -> Instant {
        (self.clock)()
    }

    /// A handle that wakes the loop from another thread.
    pub fn waker(&self) -> Waker {
        self.wake.waker.clone()
    }

    /// Which optional io_uring setup flags the kernel accepted.
    pub fn ring_features(&self) -> RingFeatures {
        self.ring.features()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Open sockets (connecting, established or lingering after a close).
    pub fn open_connections(&self) -> usize {
        self.conns.len()
    }

    /// `(receive tail bytes allocated, unsent output bytes)` of `conn`.
    pub fn buffered(&self, conn: ConnKey) -> Option<(usize, usize)> {
        self.tokens
            .get(&conn)
            .and_then(|t| self.conns.get(t))
            .map(|c| (c.inbuf.capacity(), c.out_bytes))
    }

    /// Administrative shutdown: the speaker sends a Cease (6/2, with
    /// `communication`) to every peer and closes every connection; turns until it
    /// has, and until the runtime has written what it was handed (each close
    /// bounded by the linger).
    pub fn shutdown(&mut self, communication: &str) -> io::Result<()> {
        let now = (self.clock)();
        self.input(|s, now| s.handle_shutdown(now, communication));
        let give_up = now
            .saturating_add(self.options.linger)
            .saturating_add(crate::Duration::from_secs(1));
        while !(self.speaker.is_shut_down() && self.conns.len() == 0) && (self.clock)() < give_up {
            self.turn(Some(std::time::Duration::from_millis(100)))?;
        }
        Ok(())
    }

    /// Turns until `done(speaker)` holds.
    pub fn run_until(&mut self, mut done: impl FnMut(&S) -> bool) -> io::Result<()> {
        while !done(&self.speaker) {
            self.turn(None)?;
        }
        Ok(())
    }

    /// One loop turn: submit what is queued, wait for a completion (at most
    /// `timeout`, and no later than the speaker's next deadline), handle every
    /// completion, and queue the resulting work.
    pub fn turn(&mut self, timeout: Option<std::time::Duration>) -> io::Result<Turn> {
        let mut turn = Turn::default();
        self.stats.turns += 1;
        self.prepare(timeout);
        let busy = !self.deferred.is_empty() || !self.budget.is_empty();
        self.ring.submit(!busy)?;
        let woke = std::time::Instant::now();
        let now = (self.clock)();
        let mut completions = std::mem::take(&mut self.completions);
        self.ring.reap(&mut completions);
        self.stats.events += completions.len() as u64;
        for c in completions.drain(..) {
            match c {
                Completion::Recv {
                    token,
                    result,
                    buffer,
                    more,
                } => match self.conns.get_mut(&token) {
                    Some(c) => {
                        if c.held.is_empty() {
                            self.budget.push(token);
                        }
                        c.held.push_back(HeldRecv {
                            result,
                            buffer,
                            more,
                        });
                    }
                    None => {
                        if let Some(bid) = buffer {
                            self.ring.recycle(bid);
                        }
                    }
                },
                Completion::Timeout => {}
                Completion::Wake { more } => {
                    turn.user |= self.wake.drain();
                    if !more {
                        self.ring.wake_on(self.wake.rx.as_raw_fd());
                    }
                }
                other => self.complete(now, other),
            }
        }
        self.completions = completions;
        self.hand_over_received(now);
        self.run_deferred(now);
        if self.speaker.poll_timeout().is_some_and(|t| t <= now) {
            self.speaker.handle_timeout(now);
            self.drain(now);
        }
        self.expire_lingering(now);
        turn.busy = woke.elapsed();
        Ok(turn)
    }

    /// Hands received data to the speaker: at most `recv_budget` bytes a turn,
    /// shared fairly between the connections (the edge's [`ReceiveBudget`]); the
    /// rest waits for the next turn (its buffers with it, which in the end
    /// pauses the receives), so a burst from one peer cannot fill every other
    /// peer's output before anything is written.
    fn hand_over_received(&mut self, now: Instant) {
        let mut budget = std::mem::take(&mut self.budget);
        budget.hand_over(self.options.recv_budget, |token, share| {
            self.hand_over_held(now, token, share)
        });
        self.budget = budget;
    }

    /// Hands over `token`'s held completions, in order, until `share` bytes went.
    fn hand_over_held(&mut self, now: Instant, token: u32, share: usize) -> Taken {
        let mut taken = 0;
        loop {
            let Some(c) = self.conns.get_mut(&token) else {
                return Taken {
                    bytes: taken,
                    more: false,
                };
            };
            if taken >= share || c.held.is_empty() {
                return Taken {
                    bytes: taken,
                    more: !c.held.is_empty(),
                };
            }
            let Some(h) = c.held.pop_front() else {
                continue;
            };
            taken += h.len();
            self.received(now, token, h.result, h.buffer, h.more);
        }
    }

    /// Queues what the turn produced: sends, receives to re-arm, the timeout.
    fn prepare(&mut self, timeout: Option<std::time::Duration>) {
        let now = (self.clock)();
        // Inputs given outside the loop (`input`) have outputs waiting.
        self.drain(now);
        self.run_deferred(now);
        for token in std::mem::take(&mut self.rearm) {
            if let Some(c) = self.conns.get_mut(&token)
                && !c.recv_live
                && !matches!(c.phase, Phase::Dead)
            {
                c.recv_live = true;
                self.ring.recv(token, c.raw_fd());
            }
        }
        for (i, l) in self.listeners.iter_mut().enumerate() {
            if !l.armed && l.paused_until.is_none_or(|t| t <= now) {
                l.armed = true;
                l.paused_until = None;
                self.ring.accept(LISTENER | i as u32, l.socket.as_raw_fd());
            }
        }
        self.flush();
        // The single timeout: the speaker's next deadline, a lingering close's, or
        // the caller's bound, whichever is first.
        let mut deadline = self.speaker.poll_timeout();
        for t in &self.closing {
            if let Some(Conn {
                phase: Phase::Closing { deadline: d, .. },
                ..
            }) = self.conns.get(t)
            {
                deadline = Some(deadline.map_or(*d, |x| x.min(*d)));
            }
        }
        for d in self.connect_deadlines.values() {
            deadline = Some(deadline.map_or(*d, |x| x.min(*d)));
        }
        for l in &self.listeners {
            if let Some(d) = l.paused_until {
                deadline = Some(deadline.map_or(d, |x| x.min(d)));
            }
        }
        if let Some(t) = timeout {
            let d = now.saturating_add(crate::Duration::from_millis(t.as_millis().max(1) as u64));
            deadline = Some(deadline.map_or(d, |x| x.min(d)));
        }
        if !self.ring.timeout_armed() {
            self.armed = None;
        }
        // Moved only when the deadline comes earlier: an armed timeout that is now
        // too early fires once for nothing (a spurious `handle_timeout` is a no-op)
        // and is armed again then, which costs less than an update every turn.
        if let Some(d) = deadline
            && self.armed.is_none_or(|a| d < a)
        {
            let after =
                std::time::Duration::from_millis(d.saturating_duration_since(now).total_millis());
            self.ring.set_timeout(Some(after));
            self.armed = deadline;
        }
    }

    /// Hands every connection's queued transmits to the kernel, one `sendmsg` per
    /// connection with no send in flight.
    fn flush(&mut self) {
        let most = self.send_batch.clamp(1, MAX_IOV);
        let mut dirty = std::mem::take(&mut self.dirty);
        for token in dirty.drain(..) {
            let Some(c) = self.conns.get_mut(&token) else {
                continue;
            };
            c.dirty = false;
            if c.sending || c.out.is_empty() || matches!(c.phase, Phase::Dead | Phase::Connecting) {
                continue;
            }
            let (batch, offset) = c.take_batch(most);
            c.sending = true;
            self.stats.writes += 1;
            self.ring
                .send(token, c.raw_fd(), batch, offset, self.zero_copy);
        }
        self.dirty = dirty;
    }

    fn complete(&mut self, now: Instant, c: Completion<S::Transmit>) {
        match c {
            Completion::Accept {
                token,
                result,
                more,
            } => {
                if !more && let Some(l) = self.listeners.get_mut((token & !LISTENER) as usize) {
                    l.armed = false;
                }
                match result {
                    Ok(fd) => self.accepted(now, (token & !LISTENER) as usize, fd),
                    Err(e) => {
                        let Some(l) = self.listeners.get_mut((token & !LISTENER) as usize) else {
                            return;
                        };
                        tracing::warn!(listener = %l.local, error = %e, "accept failed");
                        self.stats.accept_failures += 1;
                        if !l.armed {
                            l.paused_until = Some(now.saturating_add(ACCEPT_PAUSE));
                        }
                    }
                }
            }
            Completion::Recv {
                token,
                result,
                buffer,
                more,
            } => self.received(now, token, result, buffer, more),
            Completion::Send {
                token,
                result,
                batch,
            } => self.sent(now, token, result, batch),
            Completion::Connect { token, result } => self.connected(now, token, result),
            Completion::Timeout | Completion::Wake { .. } => {}
        }
    }

    fn accepted(&mut self, now: Instant, listener: usize, fd: OwnedFd) {
        let socket = Socket::from(fd);
        let (Ok(local), Ok(remote)) = (socket.local_addr(), socket.peer_addr()) else {
            return;
        };
        let (Some(local), Some(remote)) = (local.as_socket(), remote.as_socket()) else {
            return;
        };
        // Fail closed: not while the listener lacks the peer's key or filter.
        if self.peer_sockets.admit(listener, remote).is_err() {
            self.stats.option_failures += 1;
            return;
        }
        let Some(key) = self.speaker.handle_accepted(now, local, remote) else {
            // Refused: closed at once (the socket drops here), no state kept.
            tracing::info!(%remote, %local, "connection from an unconfigured address closed");
            self.stats.refused += 1;
            self.drain(now);
            return;
        };
        self.stats.accepted += 1;
        if self
            .peer_sockets
            .accepted(key, socket.as_fd(), remote, &self.options)
            .is_err()
        {
            self.stats.option_failures += 1;
            self.speaker.handle_closed(now, key, Closed::LocalError);
            self.drain(now);
            return;
        }
        tracing::debug!(connection_id = key.0, %remote, %local, direction = "inbound", "accepted");
        let token = self.new_token();
        let mut conn = Conn::new(key, OwnedFd::from(socket), Phase::Open);
        conn.remote = Some(remote);
        conn.recv_live = true;
        self.ring.recv(token, conn.raw_fd());
        self.conns.insert(token, conn);
        self.tokens.insert(key, token);
        self.drain(now);
    }

    fn received(
        &mut self,
        now: Instant,
        token: u32,
        result: io::Result<usize>,
        buffer: Option<u16>,
        more: bool,
    ) {
        let Some(c) = self.conns.get_mut(&token) else {
            if let Some(bid) = buffer {
                self.ring.recycle(bid);
            }
            return;
        };
        if !more {
            c.recv_live = false;
        }
        match result {
            Ok(n) if n > 0 => {
                self.stats.bytes_read += n as u64;
                let Some(bid) = buffer else { return };
                if c.reported_to_speaker() {
                    let data = self.ring.buffer(bid, n);
                    if c.inbuf.is_empty() {
                        let used = self.speaker.handle_read(now, c.key, data);
                        c.inbuf.extend_from_slice(data.get(used..).unwrap_or(&[]));
                    } else {
                        c.inbuf.extend_from_slice(data);
                        let used = self.speaker.handle_read(now, c.key, &c.inbuf);
                        c.consume_inbuf(used);
                    }
                    self.stats.max_read_buffer = self.stats.max_read_buffer.max(c.inbuf.capacity());
                }
                // Closing connections: what the peer still sends is read and dropped.
                self.ring.recycle(bid);
                if !more {
                    self.rearm.insert(token);
                }
                self.drain(now);
            }
            Ok(_) => {
                // End of stream: the peer closed.
                if let Some(bid) = buffer {
                    self.ring.recycle(bid);
                }
                self.gone(now, token, Closed::PeerClosed);
            }
            Err(e) => {
                if let Some(bid) = buffer {
                    self.ring.recycle(bid);
                }
                match e.raw_os_error() {
                    Some(libc::ENOBUFS) => {
                        self.rearm.insert(token);
                    }
                    Some(libc::ECANCELED) => {
                        self.maybe_drop(token);
                    }
                    _ => self.gone(now, token, Closed::from_error(&e)),
                }
            }
        }
    }

    fn sent(
        &mut self,
        now: Instant,
        token: u32,
        result: io::Result<usize>,
        batch: Vec<S::Transmit>,
    ) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.sending = false;
        match result {
            Ok(n) => {
                self.stats.bytes_written += n as u64;
                let offset = c.sending_offset;
                if !c.sent(batch, offset, n) {
                    self.stats.short_writes += 1;
                }
                self.stats.max_out_buffered = self.stats.max_out_buffered.max(c.out_bytes);
                if !c.out.is_empty() && !c.dirty {
                    c.dirty = true;
                    self.dirty.push(token);
                }
                match c.phase {
                    Phase::Open if c.wants_pull => {
                        let key = c.key;
                        if let Some(unwritten) = Outputs(self).pull(now, key) {
                            Outputs(self).to_write(now, key, unwritten);
                        }
                    }
                    Phase::Closing { .. } if c.drained() => self.finish_close(token),
                    _ => {}
                }
                if matches!(self.conns.get(&token).map(|c| c.phase), Some(Phase::Dead)) {
                    self.maybe_drop(token);
                }
            }
            Err(e) => {
                drop(batch);
                if e.raw_os_error() == Some(libc::ECANCELED) {
                    self.maybe_drop(token);
                } else {
                    self.gone(now, token, Closed::SendFailed);
                }
            }
        }
    }

    fn connected(&mut self, now: Instant, token: u32, result: io::Result<()>) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.connect_live = false;
        self.connect_deadlines.remove(&token);
        let key = c.key;
        if !matches!(c.phase, Phase::Connecting) {
            self.maybe_drop(token);
            return;
        }
        let local = match result {
            Ok(()) => socket2::SockRef::from(&c.fd)
                .local_addr()
                .ok()
                .and_then(|a| a.as_socket()),
            Err(_) => None,
        };
        match local {
            Some(local) => {
                tracing::debug!(connection_id = key.0, remote = ?c.remote, %local, direction = "outbound", "connected");
                c.phase = Phase::Open;
                c.recv_live = true;
                self.ring.recv(token, c.raw_fd());
                self.speaker.handle_connected(now, key, local);
            }
            None => {
                c.phase = Phase::Dead;
                self.tokens.remove(&key);
                self.maybe_drop(token);
                self.stats.connect_failures += 1;
                self.speaker.handle_connect_failed(now, key);
            }
        }
        self.drain(now);
    }

    /// The connection failed: the speaker hears it now; its operations are
    /// cancelled and the socket closes when the last one ends.
    fn gone(&mut self, now: Instant, token: u32, reason: Closed) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        let tell = c.reported_to_speaker();
        let key = c.key;
        if tell {
            let remote = c.remote.map(|r| r.to_string()).unwrap_or_default();
            match reason {
                Closed::PeerClosed => {
                    tracing::info!(connection_id = key.0, %remote, "connection closed by the peer")
                }
                Closed::SendFailed => {
                    tracing::info!(connection_id = key.0, %remote, "send failed, connection closed")
                }
                Closed::Reset | Closed::LocalError => {
                    tracing::info!(connection_id = key.0, %remote, ?reason, "connection lost")
                }
            }
        }
        c.phase = Phase::Dead;
        c.out.clear();
        c.out_bytes = 0;
        c.wants_pull = false;
        self.closing.remove(&token);
        if self.tokens.get(&key) == Some(&token) {
            self.tokens.remove(&key);
        }
        if c.recv_live {
            self.ring.cancel(Kind::Recv, token);
        }
        if c.sending {
            self.ring.cancel(Kind::Send, token);
        }
        self.maybe_drop(token);
        if tell {
            self.speaker.handle_closed(now, key, reason);
            self.drain(now);
        }
    }

    /// Closes the socket of a dead connection once the ring has no operation on it.
    fn maybe_drop(&mut self, token: u32) {
        if let Some(c) = self.conns.get(&token)
            && matches!(c.phase, Phase::Dead)
            && !c.recv_live
            && !c.sending
            && !c.connect_live
            && c.held.is_empty()
        {
            self.conns.remove(&token);
            self.rearm.remove(&token);
            // A descriptor is free again: a paused listener may accept.
            for l in &mut self.listeners {
                l.paused_until = None;
            }
        }
    }

    /// Everything handed out was written: send FIN and wait (lingering) for the
    /// peer's, which ends the receive.
    fn finish_close(&mut self, token: u32) {
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        if let Phase::Closing {
            deadline,
            fin_sent: false,
        } = c.phase
        {
            let _ = socket2::SockRef::from(&c.fd).shutdown(std::net::Shutdown::Write);
            c.phase = Phase::Closing {
                deadline,
                fin_sent: true,
            };
            if !c.recv_live {
                c.phase = Phase::Dead;
                self.closing.remove(&token);
                self.maybe_drop(token);
            }
        }
    }

    fn expire_lingering(&mut self, now: Instant) {
        let late: Vec<u32> = self
            .connect_deadlines
            .iter()
            .filter(|(_, d)| **d <= now)
            .map(|(t, _)| *t)
            .collect();
        for token in late {
            // Given up: the cancelled connect completes as timed out.
            self.connect_deadlines.remove(&token);
            self.ring.cancel(Kind::Connect, token);
        }
        let expired: Vec<u32> = self
            .closing
            .iter()
            .copied()
            .filter(|t| matches!(self.conns.get(t).map(|c| c.phase), Some(Phase::Closing { deadline, .. }) if deadline <= now))
            .collect();
        for token in expired {
            self.kill(token);
        }
    }

    /// Ends a closing connection now (linger over, or the peer's FIN came).
    fn kill(&mut self, token: u32) {
        self.closing.remove(&token);
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        c.phase = Phase::Dead;
        c.out.clear();
        c.out_bytes = 0;
        if c.recv_live {
            self.ring.cancel(Kind::Recv, token);
        }
        if c.sending {
            self.ring.cancel(Kind::Send, token);
        }
        self.maybe_drop(token);
    }

    fn new_token(&mut self) -> u32 {
        self.conns.vacant_token()
    }

    /// Drains the speaker's outputs after an input (the edge's pump); what it
    /// pulls is sent at the next submission.
    fn drain(&mut self, now: Instant) {
        Outputs(self).drain(now);
    }

    fn run_deferred(&mut self, now: Instant) {
        while let Some(d) = self.deferred.pop() {
            match d {
                Deferred::ConnectFailed(key) => {
                    self.stats.connect_failures += 1;
                    self.speaker.handle_connect_failed(now, key);
                    self.drain(now);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        now: Instant,
        key: ConnKey,
        remote: SocketAddr,
        bind: Option<IpAddr>,
        md5_key: Option<&[u8]>,
        min_ttl: Option<u8>,
        timeout: crate::Duration,
    ) -> io::Result<()> {
        let socket = PeerSockets::outbound(key, remote, bind, md5_key, min_ttl, &self.options)
            .map_err(|e| match e {
                ConnectError::Option(e) => {
                    self.stats.option_failures += 1;
                    io::Error::other(e)
                }
                ConnectError::Socket(e) => {
                    tracing::debug!(connection_id = key.0, %remote, error = %e, "connect failed");
                    e
                }
            })?;
        let token = self.new_token();
        self.stats.connects += 1;
        let mut conn = Conn::new(key, OwnedFd::from(socket), Phase::Connecting);
        conn.remote = Some(remote);
        conn.connect_live = true;
        self.ring
            .connect(token, conn.raw_fd(), SockAddr::from(remote));
        self.connect_deadlines
            .insert(token, now.saturating_add(timeout));
        self.conns.insert(token, conn);
        self.tokens.insert(key, token);
        Ok(())
    }

    /// The speaker closed `key`: what it already handed out is written first.
    fn close(&mut self, now: Instant, key: ConnKey) {
        let Some(token) = self.tokens.remove(&key) else {
            return;
        };
        // Whatever the speaker queued before the Close (a NOTIFICATION) goes out.
        if let Some(c) = self.conns.get_mut(&token)
            && matches!(c.phase, Phase::Open)
        {
            while let Some(t) = self.speaker.poll_transmit(now, key) {
                c.queue(t);
            }
            c.wants_pull = false;
            if !c.out.is_empty() && !c.dirty {
                c.dirty = true;
                self.dirty.push(token);
            }
        }
        let Some(c) = self.conns.get_mut(&token) else {
            return;
        };
        match c.phase {
            Phase::Open => {
                c.phase = Phase::Closing {
                    deadline: now.saturating_add(self.options.linger),
                    fin_sent: false,
                };
                self.closing.insert(token);
                if c.drained() {
                    self.finish_close(token);
                }
            }
            Phase::Connecting => {
                // The connect is cancelled; its completion drops the socket.
                c.phase = Phase::Dead;
                self.connect_deadlines.remove(&token);
                self.ring.cancel(Kind::Connect, token);
            }
            Phase::Closing { .. } | Phase::Dead => {}
        }
    }
}
