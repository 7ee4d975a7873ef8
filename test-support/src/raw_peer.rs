//! A BGP peer driven by hand over a blocking TCP socket, for tests that speak
//! bytes to a speaker (RFC 4271 §4, §8): it opens (or accepts) a session and
//! then does only what the test says (read, announce, send, stop reading,
//! close, reset). Every byte it sends comes from core's emitters and every
//! message it reads is framed by core's header check and read with core's
//! views, so the test's peer and the speaker share one codec. Its socket can
//! carry what a GTSM or TCP-MD5 test needs (TTL, key; RFC 5082, RFC 2385).

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nexthop_core::wire::attribute::{
    AsPath, AsSegment, Asns, MpNextHop, Origin, PathAttribute, SegmentType,
};
use nexthop_core::wire::capability::{Capabilities, Capability};
use nexthop_core::wire::header::{self, MAX_EXTENDED_MESSAGE_LEN};
use nexthop_core::wire::keepalive::Keepalive;
use nexthop_core::wire::nlri::{Nlri, Prefix};
use nexthop_core::wire::notification::Notification;
use nexthop_core::wire::open::{Open, my_as_field};
use nexthop_core::wire::update::UpdateBuilder;
use nexthop_core::wire::{
    DecodeError, EncodeError, Family, Header, Message, MessageType, Negotiated, capability,
};
use nexthop_runtime_edge::PeerPrefix;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

mod seen;
pub use seen::{Notified, Route, Seen};

/// What the peer's OPEN says (RFC 4271 §4.2): its AS (4-octet, RFC 6793), hold
/// time, BGP Identifier and the families it offers (RFC 4760).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenSettings {
    /// Its AS.
    pub asn: u32,
    /// The hold time it offers, seconds.
    pub hold_time: u16,
    /// Its BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Multiprotocol capabilities, one per family.
    pub families: Vec<Family>,
}

impl OpenSettings {
    /// IPv4 unicast, with the given AS, hold time and identifier.
    pub fn new(asn: u32, hold_time: u16, router_id: Ipv4Addr) -> OpenSettings {
        OpenSettings {
            asn,
            hold_time,
            router_id,
            families: vec![Family::IPV4_UNICAST],
        }
    }

    /// With the BGP Identifier taken from the peer's own `address` (an IPv6
    /// address gives its last four octets).
    pub fn from_address(asn: u32, hold_time: u16, address: IpAddr) -> OpenSettings {
        let router_id = match address {
            IpAddr::V4(a) => a,
            IpAddr::V6(a) => {
                let o = a.octets();
                Ipv4Addr::new(o[12], o[13], o[14], o[15])
            }
        };
        OpenSettings::new(asn, hold_time, router_id)
    }

    /// Offers `families` instead.
    pub fn families(mut self, families: &[Family]) -> OpenSettings {
        self.families = families.to_vec();
        self
    }

    /// The OPEN's bytes, through core's emitter.
    pub fn encode(&self) -> Vec<u8> {
        let mut caps: Vec<Capability<'_>> = self
            .families
            .iter()
            .map(|&f| Capability::Multiprotocol(f))
            .collect();
        caps.push(Capability::RouteRefresh);
        caps.push(Capability::FourOctetAs(self.asn));
        let open = Open {
            my_as: my_as_field(self.asn),
            hold_time: self.hold_time,
            bgp_identifier: u32::from(self.router_id),
            capabilities: Capabilities::List(&caps),
        };
        emitted(|b| open.emit(b))
    }
}

/// The bytes `emit` writes into a buffer as large as a message may be.
fn emitted(emit: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>) -> Vec<u8> {
    let mut buf = vec![0u8; MAX_EXTENDED_MESSAGE_LEN];
    // A buffer of the largest message length holds any message; an emitter
    // that still fails was handed a value no message can carry: a bug of
    // the test that built it.
    let n = emit(&mut buf).unwrap_or_else(|e| panic!("cannot encode the message: {e}"));
    buf.truncate(n);
    buf
}

/// One whole message as received: header included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received(pub Vec<u8>);

impl Received {
    /// Its type, from the header.
    pub fn message_type(&self) -> MessageType {
        Header::new_unchecked(&self.0[..]).message_type()
    }

    /// The message read with core's views, for a session with `negotiated`.
    pub fn parse(&self, negotiated: &Negotiated) -> Result<Message<'_>, DecodeError> {
        Message::parse(&self.0, negotiated)
    }

    /// Its code, subcode and data, when it is a NOTIFICATION.
    pub fn notification(&self) -> Option<(u8, u8, Vec<u8>)> {
        let n = Notification::parse(&self.0).ok()?;
        Some((n.code.code.into(), n.code.subcode, n.data.to_vec()))
    }
}

/// The error inside the `io::Error` of a handshake the speaker refused with a
/// NOTIFICATION (RFC 4271 §6.2: Bad Peer AS...): that NOTIFICATION. Found with
/// `e.get_ref().and_then(|e| e.downcast_ref::<Refused>())`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused(pub Notified);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "NOTIFICATION {}/{} during the handshake",
            self.0.code, self.0.subcode
        )
    }
}

impl std::error::Error for Refused {}

/// What the speaker's OPEN said (RFC 4271 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerOpen {
    /// Its AS (the 4-octet AS capability's, else My Autonomous System).
    pub asn: u32,
    /// Its BGP Identifier.
    pub bgp_identifier: Ipv4Addr,
    /// The hold time it offered.
    pub hold_time: u16,
}

/// A hand-driven BGP peer on one TCP connection.
#[derive(Debug)]
pub struct RawPeer {
    stream: TcpStream,
    buf: Vec<u8>,
    negotiated: Negotiated,
    /// Our AS, once the handshake sent our OPEN.
    asn: u32,
    peer_open: Option<PeerOpen>,
    seen: Seen,
}

/// The read timeout of a peer's socket outside [`RawPeer::read_until`].
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How the peer's TCP connection is opened; all set before the SYN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpOptions {
    /// Receive buffer size, to keep the window small.
    pub rcvbuf: Option<usize>,
    /// TTL (IPv4) or hop limit (IPv6) of what it sends, for GTSM tests
    /// (RFC 5082).
    pub ttl: Option<u32>,
    /// A TCP-MD5 key (RFC 2385) for the segments to the speaker.
    pub md5_key: Option<Vec<u8>>,
    /// How long the connect may take.
    pub connect_timeout: Duration,
}

impl Default for TcpOptions {
    /// The kernel's buffer and TTL, no key, a 10 s connect.
    fn default() -> TcpOptions {
        TcpOptions {
            rcvbuf: None,
            ttl: None,
            md5_key: None,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// A TCP connection from `from` (port chosen by the kernel) to `to`, with
/// TCP_NODELAY, opened with `options`.
pub fn tcp_connect(from: IpAddr, to: SocketAddr, options: &TcpOptions) -> io::Result<TcpStream> {
    let s = Socket::new(Domain::for_address(to), Type::STREAM, Some(Protocol::TCP))?;
    if let Some(n) = options.rcvbuf {
        s.set_recv_buffer_size(n)?;
    }
    match (options.ttl, to.is_ipv6()) {
        (Some(t), false) => s.set_ttl_v4(t)?,
        (Some(t), true) => s.set_unicast_hops_v6(t)?,
        (None, _) => {}
    }
    if let Some(key) = &options.md5_key {
        nexthop_runtime_edge::sockopt::set_md5_key(s.as_fd(), PeerPrefix::host(to.ip()), Some(key))
            .map_err(io::Error::other)?;
    }
    s.bind(&SockAddr::from(SocketAddr::new(from, 0)))?;
    s.connect_timeout(&SockAddr::from(to), options.connect_timeout)?;
    s.set_tcp_nodelay(true)?;
    Ok(s.into())
}

impl RawPeer {
    /// A peer on a new connection from `from` to `to` ([`tcp_connect`]);
    /// reads time out after 30 s.
    pub fn connect(from: IpAddr, to: SocketAddr, options: &TcpOptions) -> io::Result<RawPeer> {
        RawPeer::from_stream(tcp_connect(from, to, options)?)
    }

    /// A peer on a connection the test accepted or opened itself.
    pub fn from_stream(stream: TcpStream) -> io::Result<RawPeer> {
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        Ok(RawPeer {
            stream,
            buf: Vec::new(),
            negotiated: Negotiated::default(),
            asn: 0,
            peer_open: None,
            seen: Seen::default(),
        })
    }

    /// A peer on the next connection to `listener` (the speaker dials it),
    /// waiting at most `timeout` for it.
    pub fn accept(listener: &TcpListener, timeout: Duration) -> io::Result<RawPeer> {
        listener.set_nonblocking(true)?;
        let end = Instant::now() + timeout;
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < end => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        };
        listener.set_nonblocking(false)?;
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        RawPeer::from_stream(stream)
    }

    /// [`RawPeer::connect`], then the handshake (§8.2.2): our OPEN out, the
    /// speaker's OPEN in (the session's parameters are negotiated from both),
    /// KEEPALIVE out, and the speaker's KEEPALIVE in: Established on both
    /// sides. A close during the handshake is `UnexpectedEof`, a NOTIFICATION
    /// an error carrying it ([`Refused`]), a read past the socket's timeout
    /// `WouldBlock` or `TimedOut`.
    pub fn establish(
        from: IpAddr,
        to: SocketAddr,
        open: &OpenSettings,
        options: &TcpOptions,
    ) -> io::Result<RawPeer> {
        let mut p = RawPeer::connect(from, to, options)?;
        p.handshake(open)?;
        Ok(p)
    }

    /// The handshake of [`RawPeer::establish`] on this connection.
    pub fn handshake(&mut self, open: &OpenSettings) -> io::Result<()> {
        let ours = open.encode();
        self.send(&ours)?;
        let mut got_open = false;
        loop {
            let Some(m) = self.read_message()? else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed during the handshake",
                ));
            };
            match m.message_type() {
                MessageType::Open => {
                    let (local, remote) = (Open::parse(&ours), Open::parse(&m.0));
                    let (Ok(local), Ok(remote)) = (local, remote) else {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, "bad OPEN"));
                    };
                    self.negotiated = capability::negotiate(&local, &remote);
                    self.asn = open.asn;
                    self.peer_open = Some(PeerOpen {
                        asn: remote.asn(),
                        bgp_identifier: Ipv4Addr::from(remote.bgp_identifier),
                        hold_time: remote.hold_time,
                    });
                    got_open = true;
                    self.send_keepalive()?;
                }
                MessageType::Keepalive if got_open => return Ok(()),
                MessageType::Notification => {
                    let n = Notification::parse(&m.0)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                    return Err(io::Error::other(Refused(Notified::of(&n))));
                }
                _ => {}
            }
        }
    }

    /// The parameters negotiated in the handshake.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The speaker's OPEN, once the handshake read it.
    pub fn peer_open(&self) -> Option<PeerOpen> {
        self.peer_open
    }

    /// What [`RawPeer::read_until`] has received so far.
    pub fn seen(&self) -> &Seen {
        &self.seen
    }

    /// Reads messages for at most `timeout` until `done` holds of what was
    /// received ([`Seen`]: UPDATEs applied, NOTIFICATIONs kept). A close
    /// before that is `UnexpectedEof`, the end of the wait `TimedOut`; both
    /// say what was seen.
    pub fn read_until(
        &mut self,
        timeout: Duration,
        mut done: impl FnMut(&Seen) -> bool,
    ) -> io::Result<()> {
        let end = Instant::now() + timeout;
        let result = loop {
            if done(&self.seen) {
                break Ok(());
            }
            if self.seen.closed {
                break Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("closed; seen {:?}", self.seen),
                ));
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("after {timeout:?}; seen {:?}", self.seen),
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.read_message() {
                Ok(Some(m)) => self.record(&m)?,
                Ok(None) => self.seen.closed = true,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.seen.closed = true,
                Err(e) => break Err(e),
            }
        };
        self.stream.set_read_timeout(Some(READ_TIMEOUT))?;
        result
    }

    fn record(&mut self, m: &Received) -> io::Result<()> {
        match m.parse(&self.negotiated) {
            Ok(Message::Update(u)) => self.seen.apply(&u),
            Ok(Message::Notification(n)) => self.seen.notifications.push(Notified::of(&n)),
            Ok(_) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        }
        Ok(())
    }

    /// Reads until the speaker announces `prefix` (bounded by `timeout`); the
    /// route as received.
    pub fn wait_route(&mut self, prefix: Prefix, timeout: Duration) -> io::Result<Route> {
        self.read_until(timeout, |s| s.route(prefix).is_some())?;
        self.seen
            .route(prefix)
            .cloned()
            .ok_or_else(|| io::Error::other("the route went"))
    }

    /// Reads until the first NOTIFICATION (bounded by `timeout`).
    pub fn wait_notification(&mut self, timeout: Duration) -> io::Result<Notified> {
        self.read_until(timeout, |s| !s.notifications.is_empty())?;
        Ok(self.seen.notifications[0].clone())
    }

    /// Announces `prefix` with ORIGIN IGP, AS_PATH our AS and `next_hop`: an
    /// IPv4 prefix in the NLRI field with NEXT_HOP, an IPv6 one in
    /// MP_REACH_NLRI (RFC 4271 §4.3, RFC 4760 §3). Both of one family.
    pub fn announce(&mut self, prefix: Prefix, next_hop: IpAddr) -> io::Result<()> {
        let asns = [self.asn];
        self.send_with(|buf, negotiated| {
            let seg = [AsSegment {
                kind: SegmentType::AsSequence,
                asns: Asns::List(&asns),
            }];
            let mut b = UpdateBuilder::new(buf, negotiated)?;
            b.attribute(&PathAttribute::Origin(Origin::Igp))?;
            b.attribute(&PathAttribute::AsPath(AsPath::List(&seg)))?;
            match (prefix, next_hop) {
                (Prefix::V4(_), IpAddr::V4(nh)) => {
                    b.attribute(&PathAttribute::NextHop(nh))?;
                    b.nlri(&Nlri::new(prefix))?;
                }
                (Prefix::V6(_), IpAddr::V6(nh)) => {
                    b.begin_mp_reach(Family::IPV6_UNICAST, MpNextHop::Ipv6(nh))?;
                    b.mp_nlri(&Nlri::new(prefix))?;
                }
                _ => panic!("{prefix:?} with next hop {next_hop}: families differ"),
            }
            b.finish()
        })
    }

    /// Writes `message` (whole, header included).
    pub fn send(&mut self, message: &[u8]) -> io::Result<()> {
        self.stream.write_all(message)
    }

    /// Writes the message `emit` encodes (core's UPDATE builder, a
    /// NOTIFICATION...) for this session's negotiated parameters.
    pub fn send_with(
        &mut self,
        emit: impl FnOnce(&mut [u8], &Negotiated) -> Result<usize, EncodeError>,
    ) -> io::Result<()> {
        let negotiated = self.negotiated;
        let m = emitted(|b| emit(b, &negotiated));
        self.send(&m)
    }

    /// Sends a KEEPALIVE.
    pub fn send_keepalive(&mut self) -> io::Result<()> {
        self.send_with(|b, _| Keepalive.emit(b))
    }

    /// The next whole message, `None` at the end of the stream. A header that
    /// fails core's check (marker, length, type; RFC 4271 §6.1) is an
    /// `InvalidData` error.
    pub fn read_message(&mut self) -> io::Result<Option<Received>> {
        loop {
            match header::frame(&self.buf, MAX_EXTENDED_MESSAGE_LEN) {
                Ok(Some(len)) => {
                    let m = self.buf.drain(..len).collect();
                    return Ok(Some(Received(m)));
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
            let mut chunk = [0u8; 16384];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads until a NOTIFICATION: its code, subcode and data; `None` if the
    /// stream ends first.
    pub fn read_notification(&mut self) -> io::Result<Option<(u8, u8, Vec<u8>)>> {
        while let Some(m) = self.read_message()? {
            if let Some(n) = m.notification() {
                return Ok(Some(n));
            }
        }
        Ok(None)
    }

    /// Whether the stream ends (after any messages) within the read timeout;
    /// a reset counts as an end.
    pub fn reads_to_end(&mut self) -> bool {
        loop {
            match self.read_message() {
                Ok(None) => return true,
                Ok(Some(_)) => {}
                Err(e) => return e.kind() == io::ErrorKind::ConnectionReset,
            }
        }
    }

    /// Sets how long a read waits (`None`: for ever).
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
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
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn v4(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        nexthop_core::wire::nlri::Ipv4Prefix::new(a.parse().unwrap(), l.parse().unwrap())
            .unwrap()
            .into()
    }

    fn v6(s: &str) -> Prefix {
        let (a, l) = s.split_once('/').unwrap();
        nexthop_core::wire::nlri::Ipv6Prefix::new(a.parse().unwrap(), l.parse().unwrap())
            .unwrap()
            .into()
    }

    /// Two raw peers handshake with each other through core's codec (one
    /// accepts, one connects), see each other's OPEN, exchange routes of both
    /// families and a Cease with a shutdown communication (RFC 9003).
    #[test]
    fn two_raw_peers_reach_established_exchange_routes_and_a_cease() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut p = RawPeer::accept(&l, Duration::from_secs(10)).unwrap();
            let open = OpenSettings::new(4_200_000_001, 90, Ipv4Addr::new(192, 0, 2, 2))
                .families(&[Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
            p.handshake(&open).unwrap();
            p.announce(v4("198.18.2.0/24"), "198.51.100.2".parse().unwrap())
                .unwrap();
            p.announce(v6("2001:db8:2::/48"), "2001:db8::2".parse().unwrap())
                .unwrap();
            p.send_with(|b, _| {
                let mut text = [0u8; 256];
                let data = nexthop_core::wire::notification::shutdown_communication_data(
                    "bye", &mut text,
                )?;
                Notification {
                    code: nexthop_core::wire::NotificationCode::from_wire(6, 2),
                    data,
                }
                .emit(b)
            })
            .unwrap();
            (p.negotiated().four_octet_as, p.peer_open())
        });
        let open = OpenSettings::new(65001, 9, Ipv4Addr::new(192, 0, 2, 1))
            .families(&[Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
        let from = "127.0.0.1".parse().unwrap();
        let mut p = RawPeer::establish(from, addr, &open, &TcpOptions::default()).unwrap();
        assert!(p.negotiated().four_octet_as);
        let theirs = p.peer_open().unwrap();
        assert_eq!((theirs.asn, theirs.hold_time), (4_200_000_001, 90));
        let r = p
            .wait_route(v6("2001:db8:2::/48"), Duration::from_secs(10))
            .unwrap();
        assert_eq!(r.as_path, vec![4_200_000_001]);
        assert_eq!(r.next_hop, Some("2001:db8::2".parse().unwrap()));
        let r = p.seen().route(v4("198.18.2.0/24")).cloned().unwrap();
        assert_eq!(r.next_hop, Some("198.51.100.2".parse().unwrap()));
        let cease = p.wait_notification(Duration::from_secs(10)).unwrap();
        assert_eq!((cease.code, cease.subcode), (6, 2));
        assert_eq!(cease.communication.as_deref(), Some("bye"));
        let e = p
            .read_until(Duration::from_secs(10), |_| false)
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e}");
        let (four_octet, ours) = server.join().unwrap();
        assert!(four_octet);
        assert_eq!(ours.map(|o| o.asn), Some(65001));
    }

    /// A handshake answered with NOTIFICATION 2/2 (Bad Peer AS) is an error
    /// that carries it.
    #[test]
    fn a_refused_handshake_carries_the_notification() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut p = RawPeer::accept(&l, Duration::from_secs(10)).unwrap();
            let open = p.read_message().unwrap().unwrap();
            assert_eq!(open.message_type(), MessageType::Open);
            p.send_with(|b, _| {
                Notification {
                    code: nexthop_core::wire::NotificationCode::from_wire(2, 2),
                    data: &[],
                }
                .emit(b)
            })
            .unwrap();
        });
        let from = "127.0.0.1".parse().unwrap();
        let open = OpenSettings::new(65001, 90, Ipv4Addr::new(192, 0, 2, 1));
        let e = RawPeer::establish(from, addr, &open, &TcpOptions::default()).unwrap_err();
        let refused = e.get_ref().and_then(|e| e.downcast_ref::<Refused>());
        assert_eq!(
            refused.map(|r| (r.0.code, r.0.subcode)),
            Some((2, 2)),
            "{e}"
        );
        server.join().unwrap();
    }

    #[test]
    fn a_wait_that_sees_nothing_times_out() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let from = "127.0.0.1".parse().unwrap();
        let mut p = RawPeer::connect(from, addr, &TcpOptions::default()).unwrap();
        let e = p
            .read_until(Duration::from_millis(200), |s| !s.notifications.is_empty())
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        drop(l);
    }

    #[test]
    fn our_open_reads_back_with_core_s_view() {
        let open = OpenSettings::new(4_200_000_001, 30, Ipv4Addr::new(192, 0, 2, 7));
        let bytes = open.encode();
        let parsed = Open::parse(&bytes).unwrap();
        assert_eq!(parsed.asn(), 4_200_000_001);
        assert_eq!(parsed.my_as, 23456);
        assert_eq!(parsed.hold_time, 30);
        assert_eq!(
            parsed.bgp_identifier,
            u32::from(Ipv4Addr::new(192, 0, 2, 7))
        );
        assert_eq!(
            parsed.capabilities.multiprotocol().collect::<Vec<_>>(),
            vec![Family::IPV4_UNICAST]
        );
    }

    #[test]
    fn a_bad_header_is_invalid_data() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            // A marker that is not all ones (§6.1: Connection Not Synchronized).
            let mut m = vec![0u8; 19];
            m[16..19].copy_from_slice(&[0, 19, 4]);
            s.write_all(&m).unwrap();
        });
        let from = "127.0.0.1".parse().unwrap();
        let mut p = RawPeer::connect(from, addr, &TcpOptions::default()).unwrap();
        let e = p.read_message().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        t.join().unwrap();
    }
}
