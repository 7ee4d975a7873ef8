//! Random churn (deterministic, seeded): eBGP and iBGP sources announce, change
//! and withdraw routes, and flap their sessions, while receivers of every kind
//! (one shared eBGP group with a slow member, ADD-PATH and plain route reflector
//! clients, a non-client) read at different speeds. Afterwards what each peer
//! holds must equal what the export rules make of the router's Loc-RIB.

mod common;
use common::*;

use nexthop_router::time::Duration;
use std::collections::BTreeMap;

use nexthop_router::as_path::AsPath;
use nexthop_router::attributes::{Attributes, NextHop};
use nexthop_router::export::{self, Local, Source, Target};
use nexthop_router::peer::{AddPathSend, FamilyParams, PeerConfig, SessionParams};
use nexthop_router::prefix::{IpPrefix, Ipv4Prefix};
use nexthop_router::rib::PeerId;
use nexthop_router::router::{Router, RouterConfig};

const AS: u32 = 65000;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone)]
struct Member {
    id: PeerId,
    cfg: PeerConfig,
    session: SessionParams,
    target: Target,
    source: Source,
    ebgp_asn: Option<u32>,
    /// Reads every `every`-th step.
    every: u64,
    table: Table,
    up: bool,
}

fn session(id: &str, add_path: bool) -> SessionParams {
    let mut s = SessionParams::ipv4(ip(id));
    s.ipv4 = FamilyParams {
        enabled: true,
        add_path_receive: add_path,
        add_path_send: add_path,
    };
    s
}

#[test]
fn random_churn_converges_to_the_export_of_the_loc_rib() {
    let mut cfg = RouterConfig::new(AS, ip("192.0.2.1"));
    cfg.output_limit = 4096;
    let mut r = Router::new(cfg);
    let local = Local {
        asn: AS,
        router_id: ip("192.0.2.1"),
        cluster_id: ip("192.0.2.1"),
        default_local_pref: 100,
    };
    let mut members: Vec<Member> = Vec::new();
    let mut add = |r: &mut Router,
                   addr: &str,
                   asn: u32,
                   client: bool,
                   add_path: bool,
                   every: u64,
                   mrai: u64| {
        let mut c = peer(addr, asn);
        c.mrai = Some(Duration::from_secs(mrai));
        c.local_v4 = Some(ip("192.0.2.1"));
        c.route_reflector_client = client;
        if add_path {
            c.add_path_send = AddPathSend::All;
        }
        let ibgp = asn == AS;
        let s = session(addr, add_path);
        let id = r.add_peer(c.clone());
        r.handle_session_up(id, s, T0);
        members.push(Member {
            id,
            cfg: c,
            session: s,
            target: Target {
                ibgp,
                rr_client: ibgp && client,
                rs_client: false,
                local_v4: Some(ip("192.0.2.1")),
                local_v6: None,
            },
            source: if ibgp {
                Source::Ibgp {
                    client,
                    router_id: ip(addr),
                }
            } else {
                Source::Ebgp
            },
            ebgp_asn: (!ibgp).then_some(asn),
            every,
            table: Table::default(),
            up: true,
        });
    };
    // One eBGP group: four sources that also receive, two readers, one slow reader.
    for i in 0..4u32 {
        add(
            &mut r,
            &format!("172.16.0.{}", i + 1),
            65001 + i,
            false,
            false,
            1,
            0,
        );
    }
    add(&mut r, "172.16.1.1", 65101, false, false, 1, 0);
    add(&mut r, "172.16.1.2", 65102, false, false, 1, 0);
    add(&mut r, "172.16.1.3", 65103, false, false, 97, 0);
    // Route reflector clients: two sources (plain), one ADD-PATH reader; and a
    // non-client with an MRAI of 5 s.
    add(&mut r, "10.0.0.1", AS, true, false, 1, 0);
    add(&mut r, "10.0.0.2", AS, true, false, 2, 0);
    add(&mut r, "10.0.0.3", AS, true, true, 3, 0);
    add(&mut r, "10.0.1.1", AS, false, false, 1, 5);
    let sources: Vec<usize> = vec![0, 1, 2, 3, 7, 8];
    assert_eq!(r.group_of(members[0].id), r.group_of(members[6].id));

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let prefixes = 300u32;
    let mut now = T0;
    for step in 0..3000u64 {
        now = now.saturating_add(Duration::from_millis(500));
        let m = sources[rng.below(sources.len() as u64) as usize];
        let src = members[m].clone();
        match rng.below(20) {
            0 => {
                // Session flap.
                r.handle_session_down(src.id, now);
                members[m].table = Table::default();
                r.handle_session_up(src.id, src.session, now);
            }
            1..=6 => {
                let n = 1 + rng.below(20) as u32;
                let start = rng.below(u64::from(prefixes)) as u32;
                let w: Vec<_> = (start..start + n).map(|i| (0, nth(i % prefixes))).collect();
                r.handle_update(src.id, &w, &[], None, now).unwrap();
            }
            _ => {
                let n = 1 + rng.below(40) as u32;
                let start = rng.below(u64::from(prefixes)) as u32;
                let a: Vec<_> = (start..start + n).map(|i| (0, nth(i % prefixes))).collect();
                let mut path: Vec<u32> = src.ebgp_asn.into_iter().collect();
                for _ in 0..rng.below(3) {
                    path.push(64512 + rng.below(4) as u32);
                }
                let attrs = Attributes {
                    as_path: AsPath::sequence(&path),
                    next_hop: Some(NextHop::V4(ip(&src.cfg.address.to_string()))),
                    med: Some(rng.below(3) as u32),
                    local_pref: src.target.ibgp.then(|| 90 + rng.below(3) as u32 * 10),
                    ..Default::default()
                };
                r.handle_update(src.id, &[], &a, Some(attrs), now).unwrap();
            }
        }
        while r.poll_timeout().is_some_and(|t| t <= now) {
            r.handle_timeout(now);
        }
        for mm in members.iter_mut() {
            if step % mm.every == 0 {
                for msg in drain(&mut r, mm.id) {
                    mm.table.apply(&msg);
                }
            }
        }
    }
    assert!(r.stats().catch_ups > 0, "the slow reader fell behind");
    // Let every timer run out, then read everything.
    let end = now.saturating_add(Duration::from_secs(60));
    while let Some(t) = r.poll_timeout() {
        if t > end {
            break;
        }
        r.handle_timeout(t.max(now));
        now = t.max(now);
    }
    for mm in members.iter_mut() {
        for msg in drain(&mut r, mm.id) {
            mm.table.apply(&msg);
        }
        assert!(!r.is_catching_up(mm.id));
    }

    // What each member must hold: the export of the Loc-RIB.
    let source_of = |p: PeerId| members.iter().find(|m| m.id == p).unwrap().source;
    let rib = r.rib::<Ipv4Prefix>();
    for mm in &members {
        assert!(mm.up);
        let mut expected: BTreeMap<Ipv4Prefix, Vec<Attributes>> = BTreeMap::new();
        let all = mm.cfg.add_path_send == AddPathSend::All;
        for i in 0..prefixes {
            let p = nth(i);
            let paths = rib.paths(&p);
            let chosen: Vec<_> = if all {
                paths.iter().collect()
            } else {
                paths.first().into_iter().collect()
            };
            for path in chosen {
                if path.peer == mm.id {
                    continue;
                }
                let s = source_of(path.peer);
                if !export::may_advertise(s, &path.attrs, &mm.target) {
                    continue;
                }
                expected
                    .entry(p)
                    .or_default()
                    .push(export::export_attributes(
                        &path.attrs,
                        s,
                        &mm.target,
                        &local,
                        false,
                    ));
            }
        }
        let mut got: BTreeMap<Ipv4Prefix, Vec<Attributes>> = BTreeMap::new();
        for ((p, _), a) in &mm.table.routes {
            let IpPrefix::V4(p) = p else { unreachable!() };
            got.entry(*p).or_default().push((**a).clone());
        }
        for v in expected.values_mut().chain(got.values_mut()) {
            v.sort_by_key(|a| format!("{a:?}"));
        }
        assert_eq!(got.len(), expected.len(), "peer {:?}", mm.cfg.address);
        assert_eq!(got, expected, "peer {:?}", mm.cfg.address);
    }
}
