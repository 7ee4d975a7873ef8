//! One BGP speaker on real sockets: a core [`Session`] (RFC 4271 §8) driven over
//! mio TCP streams, for the load generator's peers and the built-in reflector.
//!
//! The speaker owns up to two connections (a collision, RFC 4271 §6.8, keeps
//! both for a while), their receive buffers and their send queues. A send queue
//! holds whole messages (the session's own and anything the owner adds); a
//! sender's pre-encoded UPDATE stream ([`Bulk`]) is written after it, and the
//! two interleave only at message boundaries.

use std::io::{self, Read as _, Write as _};
use std::net::SocketAddr;
use std::rc::Rc;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use nexthop_core::session::{
    ConnectionCommand, ConnectionError, ConnectionId, Event, Session, TRANSMIT_BUFFER_LEN,
};
use nexthop_core::time::Instant;
use nexthop_core::wire::{DecodeError, Negotiated};
use socket2::{Domain, Protocol, Socket, Type};

/// What the owner does with each UPDATE read: parse it with the session's
/// negotiated parameters; an error goes to the session.
pub type OnUpdate<'a> = dyn FnMut(&[u8], &Negotiated) -> Result<(), DecodeError> + 'a;

/// Bytes a receive buffer starts with; it grows while reads fill it.
const RX_INITIAL: usize = 8 * 1024;
/// The largest receive buffer.
const RX_MAX: usize = 512 * 1024;
/// Bytes of a bulk stream offered to one `write` call.
const BULK_CHUNK: usize = 1 << 20;

/// A stream of whole UPDATE messages being written.
#[derive(Debug)]
pub struct Bulk {
    data: Rc<Vec<u8>>,
    pos: usize,
    /// The first message boundary at or after `pos`.
    boundary: usize,
}

impl Bulk {
    /// A stream to write from its start.
    pub fn new(data: Rc<Vec<u8>>) -> Self {
        Bulk {
            data,
            pos: 0,
            boundary: 0,
        }
    }

    /// Moves on by `n` bytes; returns how many messages were completed (their
    /// boundaries passed in `(old, new]`).
    fn advance(&mut self, n: usize) -> u64 {
        let old = self.pos;
        self.pos += n;
        let mut completed = 0;
        loop {
            if self.boundary > old && self.boundary <= self.pos {
                completed += 1;
            }
            if self.boundary >= self.pos {
                return completed;
            }
            let len = self
                .data
                .get(self.boundary + 16..self.boundary + 18)
                .map_or(19, |b| {
                    usize::from(u16::from_be_bytes([b[0], b[1]])).max(19)
                });
            self.boundary += len;
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// One TCP connection of a speaker.
#[derive(Debug)]
struct Conn {
    id: ConnectionId,
    stream: TcpStream,
    connecting: bool,
    rx: Vec<u8>,
    rx_start: usize,
    rx_end: usize,
    out: Vec<u8>,
    out_pos: usize,
    bulk: Vec<Bulk>,
}

/// Counters of one speaker.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Bytes of UPDATE streams written.
    pub bulk_bytes: u64,
    /// UPDATE messages of those streams written whole.
    pub bulk_messages: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// UPDATE messages received.
    pub updates_received: u64,
    /// UPDATEs the owner's parser refused.
    pub update_errors: u64,
}

/// A session and its sockets.
pub struct Speaker {
    /// The FSM.
    pub session: Session,
    conns: [Option<Conn>; 2],
    /// Address to bind before connecting (port 0).
    pub local: SocketAddr,
    /// Address to connect to.
    pub remote: SocketAddr,
    /// This speaker's tokens are `token_base` and `token_base + 1`.
    pub token_base: usize,
    /// The session's deadline the owner's timer queue knows of.
    pub armed: Option<Instant>,
    /// Counters.
    pub counters: Counters,
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Speaker {
    /// A speaker for `session` (not yet started).
    pub fn new(session: Session, local: SocketAddr, remote: SocketAddr, token_base: usize) -> Self {
        Speaker {
            session,
            conns: [None, None],
            local,
            remote,
            token_base,
            armed: None,
            counters: Counters::default(),
        }
    }

    fn slot_of(&self, id: ConnectionId) -> Option<usize> {
        self.conns
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| c.id == id))
    }

    fn free_slot(&self) -> Option<usize> {
        self.conns.iter().position(Option::is_none)
    }

    /// Adopts a connection the peer opened (TcpConnectionConfirmed); drops it
    /// when the session refuses it.
    pub fn accept(&mut self, now: Instant, mut stream: TcpStream, registry: &Registry) {
        let Some(slot) = self.free_slot() else {
            return;
        };
        let Some(id) = self.session.handle_accepted(now) else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let token = Token(self.token_base + slot);
        if registry
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            self.session
                .handle_connection_failed(now, id, ConnectionError::Reset);
            return;
        }
        self.conns[slot] = Some(Conn::new(id, stream, false));
    }

    fn connect(&mut self, id: ConnectionId, registry: &Registry) -> io::Result<()> {
        let slot = self
            .free_slot()
            .ok_or_else(|| io::Error::other("two connections already"))?;
        let socket = Socket::new(
            Domain::for_address(self.remote),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        socket.set_nonblocking(true)?;
        socket.set_reuse_address(true)?;
        socket.set_tcp_nodelay(true)?;
        socket.bind(&SocketAddr::new(self.local.ip(), 0).into())?;
        match socket.connect(&self.remote.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) || would_block(&e) => {}
            Err(e) => return Err(e),
        }
        let mut stream = TcpStream::from_std(socket.into());
        registry.register(
            &mut stream,
            Token(self.token_base + slot),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        self.conns[slot] = Some(Conn::new(id, stream, true));
        Ok(())
    }

    fn drop_slot(&mut self, slot: usize, registry: &Registry) -> Option<ConnectionId> {
        let mut c = self.conns[slot].take()?;
        let _ = registry.deregister(&mut c.stream);
        Some(c.id)
    }

    fn fail(&mut self, now: Instant, slot: usize, error: ConnectionError, registry: &Registry) {
        if let Some(id) = self.drop_slot(slot, registry) {
            self.session.handle_connection_failed(now, id, error);
        }
    }

    /// Drains the session's outputs (messages, connection commands, events)
    /// until nothing moves, writing what can be written; events go to `events`.
    pub fn drive(&mut self, now: Instant, registry: &Registry, events: &mut Vec<Event>) {
        let mut buf = [0u8; TRANSMIT_BUFFER_LEN];
        for _ in 0..64 {
            let mut moved = false;
            while let Some(t) = self.session.poll_transmit(now, &mut buf) {
                if let Some(slot) = self.slot_of(t.connection)
                    && let Some(c) = self.conns[slot].as_mut()
                {
                    c.out.extend_from_slice(&buf[..t.len]);
                }
            }
            while let Some(cmd) = self.session.poll_connection_command() {
                moved = true;
                match cmd {
                    ConnectionCommand::Connect(id) => {
                        if self.connect(id, registry).is_err() {
                            self.session.handle_connection_failed(
                                now,
                                id,
                                ConnectionError::ConnectFailed,
                            );
                        }
                    }
                    ConnectionCommand::Close(id) => {
                        if let Some(slot) = self.slot_of(id) {
                            // Best effort for a closing NOTIFICATION, then close.
                            let _ = self.flush_slot(now, slot);
                            self.drop_slot(slot, registry);
                        }
                    }
                }
            }
            while let Some(e) = self.session.poll_event() {
                events.push(e);
            }
            if !moved {
                break;
            }
        }
        for slot in 0..2 {
            if self.conns[slot].as_ref().is_some_and(|c| !c.connecting)
                && let Err(e) = self.flush_slot(now, slot)
            {
                self.fail(now, slot, e, registry);
            }
        }
    }

    /// Queues a whole message (an UPDATE to reflect) on the Established connection.
    pub fn send_message(&mut self, bytes: &[u8]) -> bool {
        let Some(slot) = self.established_slot() else {
            return false;
        };
        if let Some(c) = self.conns[slot].as_mut() {
            c.out.extend_from_slice(bytes);
            return true;
        }
        false
    }

    /// Queues an UPDATE stream on the Established connection.
    pub fn send_bulk(&mut self, data: Rc<Vec<u8>>) -> bool {
        let Some(slot) = self.established_slot() else {
            return false;
        };
        if let Some(c) = self.conns[slot].as_mut() {
            c.bulk.push(Bulk::new(data));
            return true;
        }
        false
    }

    /// Whether every queued UPDATE stream has been written.
    pub fn bulk_done(&self) -> bool {
        self.conns.iter().flatten().all(|c| c.bulk.is_empty())
    }

    fn established_slot(&self) -> Option<usize> {
        self.slot_of(self.session.established_connection()?)
    }

    /// Handles readiness of connection slot `slot`; every UPDATE read goes to
    /// `on_update` with the session's negotiated parameters, and an error it
    /// returns goes to the session (RFC 7606: a reset only where it says so).
    pub fn on_ready(
        &mut self,
        now: Instant,
        slot: usize,
        readable: bool,
        writable: bool,
        registry: &Registry,
        on_update: &mut OnUpdate<'_>,
    ) {
        let Some(c) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        if c.connecting {
            if !(readable || writable) {
                return;
            }
            match (c.stream.take_error(), c.stream.peer_addr()) {
                (Ok(None), Ok(_)) => {
                    c.connecting = false;
                    let id = c.id;
                    self.session.handle_connected(now, id);
                }
                (Ok(None), Err(e)) if e.kind() == io::ErrorKind::NotConnected => return,
                _ => {
                    self.fail(now, slot, ConnectionError::ConnectFailed, registry);
                    return;
                }
            }
        }
        if readable && let Err(e) = self.read_slot(now, slot, on_update) {
            self.fail(now, slot, e, registry);
            return;
        }
        if writable && let Err(e) = self.flush_slot(now, slot) {
            self.fail(now, slot, e, registry);
        }
    }

    fn read_slot(
        &mut self,
        now: Instant,
        slot: usize,
        on_update: &mut OnUpdate<'_>,
    ) -> Result<(), ConnectionError> {
        loop {
            let Some(c) = self.conns[slot].as_mut() else {
                return Ok(());
            };
            if c.rx_end == c.rx.len() {
                if c.rx_start > 0 {
                    c.rx.copy_within(c.rx_start..c.rx_end, 0);
                    c.rx_end -= c.rx_start;
                    c.rx_start = 0;
                }
                if c.rx_end == c.rx.len() {
                    let len = (c.rx.len() * 2).min(RX_MAX).max(c.rx.len() + 4096);
                    c.rx.resize(len, 0);
                }
            }
            let n = match c.stream.read(&mut c.rx[c.rx_end..]) {
                Ok(0) => return Err(ConnectionError::PeerClosed),
                Ok(n) => n,
                Err(e) if would_block(&e) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(ConnectionError::Reset),
            };
            let short = c.rx_end + n < c.rx.len();
            c.rx_end += n;
            self.counters.bytes_read += n as u64;
            let id = c.id;
            self.process(now, slot, id, on_update);
            // A short read drained the socket; data arriving later raises a new
            // edge (Linux wakes epoll on every arrival; tokio relies on the
            // same). Otherwise read on until WouldBlock.
            if short {
                return Ok(());
            }
        }
    }

    fn process(
        &mut self,
        now: Instant,
        slot: usize,
        id: ConnectionId,
        on_update: &mut OnUpdate<'_>,
    ) {
        loop {
            let Some(c) = self.conns[slot].as_mut() else {
                return;
            };
            if c.rx_start == c.rx_end {
                c.rx_start = 0;
                c.rx_end = 0;
                return;
            }
            let r = self
                .session
                .handle_read(now, id, &c.rx[c.rx_start..c.rx_end]);
            if let Some(u) = r.update {
                self.counters.updates_received += 1;
                let negotiated = self
                    .session
                    .session_info()
                    .map(|i| i.negotiated)
                    .unwrap_or_default();
                if let Err(e) = on_update(u, &negotiated) {
                    self.counters.update_errors += 1;
                    self.session.handle_update_error(now, &e, u);
                }
            }
            c.rx_start += r.consumed;
            if r.consumed == 0 {
                return;
            }
        }
    }

    fn flush_slot(&mut self, now: Instant, slot: usize) -> Result<(), ConnectionError> {
        let Some(c) = self.conns[slot].as_mut() else {
            return Ok(());
        };
        if c.connecting {
            return Ok(());
        }
        let mut bulk_written = 0u64;
        let result = loop {
            let at_boundary = c.bulk.first().is_none_or(|b| b.boundary == b.pos);
            let (bytes, is_bulk): (&[u8], bool) = if c.out_pos < c.out.len() && at_boundary {
                (&c.out[c.out_pos..], false)
            } else if let Some(b) = c.bulk.first() {
                let end = if c.out_pos < c.out.len() {
                    b.boundary
                } else {
                    (b.pos + BULK_CHUNK).min(b.data.len())
                };
                (&b.data[b.pos..end], true)
            } else {
                break Ok(());
            };
            match c.stream.write(bytes) {
                Ok(0) => break Err(ConnectionError::SendFailed),
                Ok(n) => {
                    if is_bulk {
                        bulk_written += n as u64;
                        let b = &mut c.bulk[0];
                        self.counters.bulk_messages += b.advance(n);
                        if b.done() {
                            c.bulk.remove(0);
                        }
                    } else {
                        c.out_pos += n;
                        if c.out_pos == c.out.len() {
                            c.out.clear();
                            c.out_pos = 0;
                        }
                    }
                }
                Err(e) if would_block(&e) => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break Err(ConnectionError::SendFailed),
            }
        };
        if c.out_pos > 0 && c.out_pos * 2 > c.out.len() {
            c.out.drain(..c.out_pos);
            c.out_pos = 0;
        }
        if bulk_written > 0 {
            self.counters.bulk_bytes += bulk_written;
            self.session.handle_update_sent(now);
        }
        result
    }
}

impl Conn {
    fn new(id: ConnectionId, stream: TcpStream, connecting: bool) -> Self {
        Conn {
            id,
            stream,
            connecting,
            rx: vec![0; RX_INITIAL],
            rx_start: 0,
            rx_end: 0,
            out: Vec::new(),
            out_pos: 0,
            bulk: Vec::new(),
        }
    }
}
