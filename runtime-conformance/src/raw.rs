//! A BGP peer driven by hand on a plain blocking socket (RFC 4271 §4): it opens a
//! session with a fixed OPEN, and then does only what a test tells it: read,
//! stop reading, close, reset.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Message types (RFC 4271 §4.1).
const OPEN: u8 = 1;
const NOTIFICATION: u8 = 3;
const KEEPALIVE: u8 = 4;

/// A hand-driven BGP peer.
pub struct RawPeer {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// An OPEN (RFC 4271 §4.2) with the multiprotocol IPv4 unicast (RFC 4760) and
/// 4-octet AS (RFC 6793) capabilities.
fn open(asn: u16, hold: u16, id: [u8; 4]) -> Vec<u8> {
    let mut b = vec![4];
    b.extend_from_slice(&asn.to_be_bytes());
    b.extend_from_slice(&hold.to_be_bytes());
    b.extend_from_slice(&id);
    let caps = [1u8, 4, 0, 1, 0, 1, 65, 4, 0, 0, (asn >> 8) as u8, asn as u8];
    b.push(2 + caps.len() as u8);
    b.push(2);
    b.push(caps.len() as u8);
    b.extend_from_slice(&caps);
    message(OPEN, &b)
}

impl RawPeer {
    /// Connects from `from` to `dut` (with a receive buffer of `rcvbuf` bytes when
    /// given, set before the handshake so the window stays small) and brings the
    /// session to Established: OPEN out, OPEN and KEEPALIVE in, KEEPALIVE out.
    pub fn establish(
        dut: SocketAddr,
        from: IpAddr,
        asn: u16,
        hold: u16,
        rcvbuf: Option<usize>,
    ) -> io::Result<RawPeer> {
        let stream = RawPeer::connect(dut, from, rcvbuf, None, Duration::from_secs(10))?;
        RawPeer::handshake(stream, from, asn, hold)
    }

    /// A TCP connection from `from` to `dut`, given up after `timeout`; with a
    /// receive buffer of `rcvbuf` bytes and sending with TTL (hop limit) `ttl`
    /// when given, both set before the SYN.
    pub fn connect(
        dut: SocketAddr,
        from: IpAddr,
        rcvbuf: Option<usize>,
        ttl: Option<u32>,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        let s = Socket::new(Domain::for_address(dut), Type::STREAM, Some(Protocol::TCP))?;
        if let Some(n) = rcvbuf {
            s.set_recv_buffer_size(n)?;
        }
        match (ttl, dut.is_ipv6()) {
            (Some(t), false) => s.set_ttl_v4(t)?,
            (Some(t), true) => s.set_unicast_hops_v6(t)?,
            (None, _) => {}
        }
        s.bind(&SockAddr::from(SocketAddr::new(from, 0)))?;
        s.connect_timeout(&SockAddr::from(dut), timeout)?;
        s.set_tcp_nodelay(true)?;
        Ok(s.into())
    }

    /// Brings a session up over `stream` (from `from`): OPEN out, OPEN and
    /// KEEPALIVE in, KEEPALIVE out.
    pub fn handshake(stream: TcpStream, from: IpAddr, asn: u16, hold: u16) -> io::Result<RawPeer> {
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let id = match from {
            IpAddr::V4(a) => a.octets(),
            IpAddr::V6(_) => [10, 0, 0, 1],
        };
        let mut p = RawPeer {
            stream,
            buf: Vec::new(),
        };
        p.stream.write_all(&open(asn, hold, id))?;
        let mut got_open = false;
        loop {
            let Some((kind, _)) = p.read_message()? else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed during the handshake",
                ));
            };
            match kind {
                OPEN => {
                    got_open = true;
                    p.stream.write_all(&message(KEEPALIVE, &[]))?;
                }
                KEEPALIVE if got_open => return Ok(p),
                NOTIFICATION => return Err(io::Error::other("NOTIFICATION during the handshake")),
                _ => {}
            }
        }
    }

    /// The next whole message `(type, body)`, `None` at end of stream.
    pub fn read_message(&mut self) -> io::Result<Option<(u8, Vec<u8>)>> {
        loop {
            if self.buf.len() >= 19 {
                let len = usize::from(u16::from_be_bytes([self.buf[16], self.buf[17]]));
                if len < 19 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "bad length"));
                }
                if self.buf.len() >= len {
                    let kind = self.buf[18];
                    let body = self.buf[19..len].to_vec();
                    self.buf.drain(..len);
                    return Ok(Some((kind, body)));
                }
            }
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until a NOTIFICATION: its `(code, subcode, data)`; `None` if the
    /// stream ends first.
    pub fn read_notification(&mut self) -> io::Result<Option<(u8, u8, Vec<u8>)>> {
        while let Some((kind, body)) = self.read_message()? {
            if kind == NOTIFICATION && body.len() >= 2 {
                return Ok(Some((body[0], body[1], body[2..].to_vec())));
            }
        }
        Ok(None)
    }

    /// Whether the stream ends (after any messages) within the read timeout.
    pub fn reads_to_end(&mut self) -> bool {
        loop {
            match self.read_message() {
                Ok(None) => return true,
                Ok(Some(_)) => {}
                Err(e) => return e.kind() == io::ErrorKind::ConnectionReset,
            }
        }
    }

    /// Sends a KEEPALIVE.
    pub fn keepalive(&mut self) -> io::Result<()> {
        self.stream.write_all(&message(KEEPALIVE, &[]))
    }

    /// Closes the connection (FIN).
    pub fn close(self) {
        drop(self);
    }

    /// Resets the connection (RST: SO_LINGER with a zero timeout, then close).
    pub fn reset(self) {
        let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        drop(self);
    }

    /// The socket and the bytes already read past the last whole message.
    pub fn into_parts(self) -> (TcpStream, Vec<u8>) {
        (self.stream, self.buf)
    }

    /// The local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local address")
    }
}
