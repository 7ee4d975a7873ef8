//! A bare BGP client for tests that need socket options no daemon driver offers:
//! a chosen source address, the IP TTL of every segment (SYN included) and a
//! TCP-MD5 key (RFC 2385), set before `connect`. It speaks just enough of RFC
//! 4271 §4 to reach Established: OPEN (4-octet AS and IPv4 unicast
//! capabilities), KEEPALIVE, and reading NOTIFICATIONs. This crate does not
//! link nexthop-core, so the few bytes are written here by hand.

#![allow(unsafe_code, dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::FromRawFd;
use std::time::{Duration, Instant};

/// Socket options of the client, applied before `connect`.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// IP_TTL of every segment sent.
    pub ttl: Option<u8>,
    /// TCP-MD5 key for segments to the server.
    pub md5_key: Option<Vec<u8>>,
}

/// The OPEN a server sent: My Autonomous System (the 4-octet AS capability's
/// value when present) and BGP Identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFields {
    /// The AS.
    pub asn: u32,
    /// The BGP Identifier.
    pub bgp_identifier: Ipv4Addr,
}

/// What a connection attempt came to.
#[derive(Debug)]
pub enum Outcome {
    /// Both OPENs and KEEPALIVEs exchanged: the server is Established once it
    /// reads our KEEPALIVE. Carries the client and the server's OPEN.
    Established(BgpClient, OpenFields),
    /// The TCP connection did not open within the bound (SYNs dropped).
    NoConnection(String),
    /// Connected, but the server closed it (or sent a NOTIFICATION: its code and
    /// subcode) before the session was up.
    Refused(Option<(u8, u8)>),
    /// Connected, but no OPEN came within the bound.
    Silent,
}

/// One TCP connection speaking BGP.
#[derive(Debug)]
pub struct BgpClient {
    stream: TcpStream,
    buf: Vec<u8>,
}

fn sockaddr_in(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// `struct tcp_md5sig` (linux/tcp.h).
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: libc::c_int,
    key: [u8; 80],
}

fn setsockopt<T>(fd: i32, level: i32, name: i32, value: &T) -> std::io::Result<()> {
    // SAFETY: `value` is a live T of the length given.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value as *const T as *const libc::c_void,
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Opens a TCP connection from `from` (any port) to `to` with `opts`, waiting at
/// most `bound` for the handshake.
pub fn connect(
    from: Ipv4Addr,
    to: SocketAddrV4,
    opts: &ClientOptions,
    bound: Duration,
) -> std::io::Result<TcpStream> {
    assert!(from.is_loopback() && to.ip().is_loopback(), "loopback only");
    // SAFETY: a plain socket call; the descriptor goes into a TcpStream at once,
    // which closes it.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a socket this function owns.
    let stream = unsafe { TcpStream::from_raw_fd(fd) };
    if let Some(ttl) = opts.ttl {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &libc::c_int::from(ttl))?;
    }
    if let Some(key) = &opts.md5_key {
        // SAFETY: all-zero is a valid sockaddr_storage.
        let mut addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let sin = sockaddr_in(to);
        // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
        unsafe { std::ptr::write(&mut addr as *mut _ as *mut libc::sockaddr_in, sin) };
        let mut sig = TcpMd5Sig {
            addr,
            flags: 0,
            prefixlen: 0,
            keylen: key.len() as u16,
            ifindex: 0,
            key: [0; 80],
        };
        sig.key[..key.len()].copy_from_slice(key);
        setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)?;
    }
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let local = sockaddr_in(SocketAddrV4::new(from, 0));
    let remote = sockaddr_in(to);
    // SAFETY: pointers to live sockaddr_in values of the stated length.
    if unsafe { libc::bind(fd, &local as *const _ as *const libc::sockaddr, len) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    let rc = unsafe { libc::connect(fd, &remote as *const _ as *const libc::sockaddr, len) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        let n = unsafe { libc::poll(&mut p, 1, bound.as_millis() as libc::c_int) };
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no TCP handshake with {to} in {bound:?}"),
            ));
        }
        let mut err: libc::c_int = 0;
        let mut l = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: SO_ERROR into a live c_int of the length given.
        unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                &mut err as *mut _ as *mut libc::c_void,
                &mut l,
            )
        };
        if err != 0 {
            return Err(std::io::Error::from_raw_os_error(err));
        }
    }
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// An OPEN from AS `asn` (2 octets, also in the 4-octet AS capability) with
/// identifier `id`, hold time 90, IPv4 unicast (RFC 4271 §4.2, RFC 5492).
pub fn open_message(asn: u16, id: Ipv4Addr) -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 65, 4];
    caps.extend_from_slice(&u32::from(asn).to_be_bytes());
    let mut body = vec![4];
    body.extend_from_slice(&asn.to_be_bytes());
    body.extend_from_slice(&90u16.to_be_bytes());
    body.extend_from_slice(&id.octets());
    body.push(caps.len() as u8 + 2);
    body.push(2);
    body.push(caps.len() as u8);
    body.extend_from_slice(&caps);
    message(1, &body)
}

/// A whole message of `kind` with `body` (RFC 4271 §4.1).
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// The fields of a whole OPEN message.
pub fn open_fields(m: &[u8]) -> OpenFields {
    assert!(m.len() >= 29 && m[18] == 1, "not an OPEN: {m:?}");
    let mut asn = u32::from(u16::from_be_bytes([m[20], m[21]]));
    let id = Ipv4Addr::new(m[24], m[25], m[26], m[27]);
    // Optional parameters: (type 2: capabilities (code, len, value)*)*.
    let end = (29 + usize::from(m[28])).min(m.len());
    let mut i = 29;
    while i + 2 <= end {
        let (ptype, plen) = (m[i], usize::from(m[i + 1]));
        let p = &m[(i + 2).min(end)..(i + 2 + plen).min(end)];
        if ptype == 2 {
            let mut j = 0;
            while j + 2 <= p.len() {
                let (code, clen) = (p[j], usize::from(p[j + 1]));
                if code == 65 && clen == 4 && j + 6 <= p.len() {
                    asn = u32::from_be_bytes([p[j + 2], p[j + 3], p[j + 4], p[j + 5]]);
                }
                j += 2 + clen;
            }
        }
        i += 2 + plen;
    }
    OpenFields {
        asn,
        bgp_identifier: id,
    }
}

impl BgpClient {
    /// A client on a connected stream.
    pub fn new(stream: TcpStream) -> BgpClient {
        BgpClient {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes whole messages.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next whole message; `Ok(None)` at `deadline`, `Err` when the
    /// connection closed or failed.
    pub fn next_message(&mut self, deadline: Instant) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if self.buf.len() >= 19 {
                let len = usize::from(u16::from_be_bytes([self.buf[16], self.buf[17]]));
                assert!((19..=65535).contains(&len), "bad length {len}");
                if self.buf.len() >= len {
                    return Ok(Some(self.buf.drain(..len).collect()));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.stream.set_read_timeout(Some(left))?;
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "connection closed",
                    ));
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until a NOTIFICATION (code, subcode) or the bound; `None` when the
    /// connection closed without one or nothing came.
    pub fn wait_notification(&mut self, bound: Duration) -> Option<(u8, u8)> {
        let end = Instant::now() + bound;
        while let Ok(Some(m)) = self.next_message(end) {
            if m[18] == 3 && m.len() >= 21 {
                return Some((m[19], m[20]));
            }
        }
        None
    }
}

/// Connects from `from` to `to` with `opts` as AS `asn` and tries to reach
/// Established, each step bounded by `bound` (only against a hang).
pub fn try_session(
    from: Ipv4Addr,
    to: SocketAddrV4,
    opts: &ClientOptions,
    asn: u16,
    bound: Duration,
) -> Outcome {
    let stream = match connect(from, to, opts, bound) {
        Ok(s) => s,
        Err(e) => return Outcome::NoConnection(e.to_string()),
    };
    let mut c = BgpClient::new(stream);
    // Higher than the 192.0.2.x of the speakers under test: a collision with a
    // stale connection in OpenConfirm keeps the new one (RFC 4271 §6.8).
    let id = Ipv4Addr::new(203, 0, 113, from.octets()[3]);
    if c.send(&open_message(asn, id)).is_err() {
        return Outcome::Refused(None);
    }
    let end = Instant::now() + bound;
    let fields = loop {
        match c.next_message(end) {
            Ok(Some(m)) if m[18] == 1 => break open_fields(&m),
            Ok(Some(m)) if m[18] == 3 => return Outcome::Refused(Some((m[19], m[20]))),
            Ok(Some(_)) => {}
            Ok(None) => return Outcome::Silent,
            Err(_) => return Outcome::Refused(None),
        }
    };
    if c.send(&message(4, &[])).is_err() {
        return Outcome::Refused(None);
    }
    loop {
        match c.next_message(end) {
            Ok(Some(m)) if m[18] == 4 => return Outcome::Established(c, fields),
            Ok(Some(m)) if m[18] == 3 => return Outcome::Refused(Some((m[19], m[20]))),
            Ok(Some(_)) => {}
            Ok(None) => return Outcome::Silent,
            Err(_) => return Outcome::Refused(None),
        }
    }
}
