//! A trivial route reflector, to show what the load generator costs: it accepts
//! any peer, runs a core session with it, and copies every UPDATE it reads,
//! bytes unchanged, to every other Established peer. No RIB, no best path, no
//! attribute changes (no ORIGINATOR_ID or CLUSTER_LIST, RFC 4456 §8). Instead
//! of a RIB it keeps every UPDATE it has read, and replays them to a peer that
//! reaches Established later (the peers' views of "all Established" differ by
//! a KEEPALIVE's flight). With overlapping senders the last UPDATE wins, as
//! there is no best-path selection. Every peer must negotiate the same UPDATE
//! encoding (4-octet AS, no ADD-PATH), since the bytes are not rewritten.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant as StdInstant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use nexthop_core::session::{Event, LocalCapabilities, Session, SessionConfig};
use nexthop_core::time::{Duration as CoreDuration, Instant};
use nexthop_core::wire::{Family, FamilySet};

use crate::speaker::Speaker;

const LISTENER: Token = Token(usize::MAX - 1);
const TOKENS_PER_PEER: usize = 2;

/// How the reflector runs.
#[derive(Clone, Debug)]
pub struct ReflectorConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Its AS.
    pub asn: u32,
    /// Its BGP Identifier; 0 takes the listening IPv4 address.
    pub router_id: u32,
    /// Hold time offered.
    pub hold_time: u16,
}

impl ReflectorConfig {
    /// AS 65000, hold time 90 s, on `listen`.
    pub fn new(listen: SocketAddr) -> Self {
        ReflectorConfig {
            listen,
            asn: 65000,
            router_id: 0,
            hold_time: 90,
        }
    }
}

/// What the reflector did.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReflectorStats {
    /// Sessions accepted.
    pub sessions: u64,
    /// UPDATEs read.
    pub updates_in: u64,
    /// UPDATE copies queued to other peers.
    pub updates_out: u64,
}

struct Peer {
    speaker: Speaker,
    established: bool,
    /// Unique over the reflector's life (slots are reused).
    uid: u64,
}

fn config(c: &ReflectorConfig, neighbor: IpAddr) -> SessionConfig {
    let id = match (c.router_id, c.listen.ip()) {
        (0, IpAddr::V4(a)) => a.to_bits(),
        (0, _) => 1,
        (id, _) => id,
    };
    let mut s = SessionConfig::new(neighbor, c.asn, id);
    s.passive_tcp_establishment = true;
    s.automatic_restart = false;
    s.hold_time = c.hold_time;
    s.keepalive_time = CoreDuration::from_secs(u64::from(c.hold_time / 3).max(1));
    let mut families = FamilySet::EMPTY;
    families.insert(Family::IPV4_UNICAST);
    families.insert(Family::IPV6_UNICAST);
    s.capabilities = LocalCapabilities {
        families,
        ..LocalCapabilities::default()
    };
    s
}

/// Runs the reflector until `stop` is set.
pub fn reflect(c: &ReflectorConfig, stop: &AtomicBool) -> io::Result<ReflectorStats> {
    let started = StdInstant::now();
    let now_of = || Instant::from_millis(1000 + started.elapsed().as_millis() as u64);
    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(c.listen)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut peers: Vec<Option<Peer>> = Vec::new();
    let mut events = Events::with_capacity(4096);
    let mut session_events = Vec::new();
    let mut fwd: Vec<u8> = Vec::new();
    let mut stats = ReflectorStats::default();
    // Every UPDATE read, by the peer it came from, for late peers.
    let mut history: Vec<(u64, Vec<u8>)> = Vec::new();

    while !stop.load(Ordering::Relaxed) {
        let now = now_of();
        let next = peers
            .iter()
            .flatten()
            .filter_map(|p| p.speaker.session.poll_timeout())
            .min();
        let wait = next.map_or(Duration::from_millis(200), |t| {
            Duration::from_millis(t.total_millis().saturating_sub(now.total_millis()))
                .min(Duration::from_millis(200))
        });
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let now = now_of();
        let mut touched: Vec<usize> = Vec::new();
        for ev in events.iter() {
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((stream, from)) => {
                            let i = peers.iter().position(Option::is_none).unwrap_or_else(|| {
                                peers.push(None);
                                peers.len() - 1
                            });
                            let mut session = Session::new(config(c, from.ip()));
                            session.handle_manual_start(now);
                            let mut speaker =
                                Speaker::new(session, c.listen, from, i * TOKENS_PER_PEER);
                            speaker.accept(now, stream, poll.registry());
                            stats.sessions += 1;
                            peers[i] = Some(Peer {
                                speaker,
                                established: false,
                                uid: stats.sessions,
                            });
                            touched.push(i);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(_) => break,
                    }
                }
                continue;
            }
            let (i, slot) = (
                ev.token().0 / TOKENS_PER_PEER,
                ev.token().0 % TOKENS_PER_PEER,
            );
            let Some(Some(p)) = peers.get_mut(i) else {
                continue;
            };
            fwd.clear();
            let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
            let writable = ev.is_writable() || ev.is_write_closed() || ev.is_error();
            let mut n = 0u64;
            p.speaker.on_ready(
                now,
                slot,
                readable,
                writable,
                poll.registry(),
                &mut |u, _| {
                    fwd.extend_from_slice(u);
                    n += 1;
                    Ok(())
                },
            );
            stats.updates_in += n;
            touched.push(i);
            if !fwd.is_empty() {
                history.push((p.uid, fwd.clone()));
                for (j, q) in peers.iter_mut().enumerate() {
                    if let Some(q) = q
                        && j != i
                        && q.established
                        && q.speaker.send_message(&fwd)
                    {
                        stats.updates_out += n;
                        touched.push(j);
                    }
                }
            }
        }
        for (i, p) in peers.iter_mut().enumerate() {
            if let Some(p) = p
                && p.speaker.session.poll_timeout().is_some_and(|t| t <= now)
            {
                p.speaker.session.handle_timeout(now);
                touched.push(i);
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for &i in &touched {
            let Some(p) = peers[i].as_mut() else { continue };
            session_events.clear();
            p.speaker.drive(now, poll.registry(), &mut session_events);
            let mut gone = false;
            let mut replay = false;
            for e in &session_events {
                match e {
                    Event::Established { .. } => {
                        p.established = true;
                        replay = true;
                    }
                    Event::Down { .. } => gone = true,
                    _ => {}
                }
            }
            if replay && !gone {
                for (from, bytes) in &history {
                    if *from != p.uid && p.speaker.send_message(bytes) {
                        stats.updates_out += 1;
                    }
                }
                session_events.clear();
                p.speaker.drive(now, poll.registry(), &mut session_events);
            }
            if gone || p.speaker.session.state() == nexthop_core::session::State::Idle {
                // Its UPDATEs are not replayed to later peers.
                let uid = p.uid;
                history.retain(|(from, _)| *from != uid);
                peers[i] = None;
            }
        }
    }
    Ok(stats)
}
