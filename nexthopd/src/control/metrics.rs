//! `/metrics`: the speaker's numbers in the Prometheus text exposition format
//! (prometheus-client), encoded on the control thread from a snapshot the
//! loop took at a turn boundary.
//!
//! Names: `nexthop_` prefix, `_total` for counters, base units (`_bytes`,
//! `_seconds`). Per neighbour: `nexthop_neighbor_state` (one series per RFC
//! 4271 state, 1 for the current one), `nexthop_neighbor_up`,
//! `nexthop_neighbor_established_total`, `nexthop_neighbor_flaps_total`,
//! `nexthop_neighbor_prefixes{family,kind=received|accepted|advertised}`,
//! `nexthop_neighbor_messages_total{direction,type}`,
//! `nexthop_neighbor_message_bytes_total{direction,type}`,
//! `nexthop_neighbor_notifications_total{direction,code,subcode}`,
//! `nexthop_neighbor_output_pending_bytes`. Speaker-wide: `nexthop_rib_prefixes`,
//! `nexthop_rib_paths` (by family), `nexthop_update_groups`,
//! `nexthop_attribute_sets`, `nexthop_rejected_paths_total`,
//! `nexthop_output_queue_bytes`, `nexthop_watch_events_lost_total`,
//! `nexthop_event_loop_turn_seconds` (histogram of each turn's busy time),
//! `nexthop_process_resident_memory_bytes`.

use nexthop_control::{MessageCounts, MetricsSnapshot};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

type Labels = Vec<(&'static str, String)>;

const STATES: [&str; 6] = [
    "Idle",
    "Connect",
    "Active",
    "OpenSent",
    "OpenConfirm",
    "Established",
];

/// The text exposition of `m` and the loop's turn histogram.
pub fn encode(m: &MetricsSnapshot, turns: &Histogram) -> String {
    let mut r = Registry::with_prefix("nexthop");
    let state = Family::<Labels, Gauge>::default();
    let up = Family::<Labels, Gauge>::default();
    let established = Family::<Labels, Counter>::default();
    let flaps = Family::<Labels, Counter>::default();
    let prefixes = Family::<Labels, Gauge>::default();
    let messages = Family::<Labels, Counter>::default();
    let bytes = Family::<Labels, Counter>::default();
    let notifications = Family::<Labels, Counter>::default();
    let pending = Family::<Labels, Gauge>::default();
    let mut queue_bytes: u64 = 0;
    for n in &m.neighbors {
        let who = n.address.to_string();
        let base = || vec![("neighbor", who.clone())];
        for s in STATES {
            let mut l = base();
            l.push(("state", s.to_string()));
            state.get_or_create(&l).set(i64::from(n.state == s));
        }
        up.get_or_create(&base())
            .set(i64::from(n.state == "Established"));
        established
            .get_or_create(&base())
            .inc_by(n.established_total);
        flaps.get_or_create(&base()).inc_by(n.flaps);
        for f in &n.families {
            for (kind, v) in [
                ("received", f.received),
                ("accepted", f.accepted),
                ("advertised", f.advertised),
            ] {
                let mut l = base();
                l.push(("family", f.family.to_string()));
                l.push(("kind", kind.to_string()));
                prefixes.get_or_create(&l).set(v as i64);
            }
        }
        for (direction, c) in [("received", &n.received), ("sent", &n.sent)] {
            for (ty, v, b) in by_type(c) {
                let mut l = base();
                l.push(("direction", direction.to_string()));
                l.push(("type", ty.to_string()));
                messages.get_or_create(&l).inc_by(v);
                bytes.get_or_create(&l).inc_by(b);
            }
        }
        for x in &n.notifications {
            let mut l = base();
            l.push(("direction", x.direction.clone()));
            l.push(("code", x.code.to_string()));
            l.push(("subcode", x.subcode.to_string()));
            notifications.get_or_create(&l).inc_by(x.count);
        }
        pending
            .get_or_create(&base())
            .set(n.output_pending_bytes as i64);
        queue_bytes += n.output_pending_bytes;
    }
    r.register(
        "neighbor_state",
        "Session state (RFC 4271 names): 1 for the current state",
        state,
    );
    r.register("neighbor_up", "1 when the session is Established", up);
    r.register(
        "neighbor_established",
        "Times the session reached Established",
        established,
    );
    r.register(
        "neighbor_flaps",
        "Times the session left Established",
        flaps,
    );
    r.register(
        "neighbor_prefixes",
        "Prefixes received (before import policy), accepted, and advertised, per family",
        prefixes,
    );
    r.register(
        "neighbor_messages",
        "BGP messages by direction and type",
        messages,
    );
    r.register_with_unit(
        "neighbor_message",
        "Bytes of BGP messages by direction, headers included",
        Unit::Bytes,
        bytes,
    );
    r.register(
        "neighbor_notifications",
        "NOTIFICATIONs by direction, code and subcode",
        notifications,
    );
    r.register_with_unit(
        "neighbor_output_pending",
        "UPDATE bytes waiting to be sent to the neighbor",
        Unit::Bytes,
        pending,
    );

    let rib_prefixes = Family::<Labels, Gauge>::default();
    let rib_paths = Family::<Labels, Gauge>::default();
    for f in &m.rib {
        let l = vec![("family", f.family.to_string())];
        rib_prefixes.get_or_create(&l).set(f.prefixes as i64);
        rib_paths.get_or_create(&l).set(f.paths as i64);
    }
    r.register(
        "rib_prefixes",
        "Prefixes with at least one path, per family",
        rib_prefixes,
    );
    r.register(
        "rib_paths",
        "Paths in the RIB (every neighbor's, after import policy), per family",
        rib_paths,
    );
    let g = |v: u64| {
        let x = Gauge::<i64>::default();
        x.set(v as i64);
        x
    };
    let c = |v: u64| {
        let x = Counter::<u64>::default();
        x.inc_by(v);
        x
    };
    r.register("update_groups", "Update groups", g(m.update_groups));
    r.register(
        "attribute_sets",
        "Distinct path attribute sets interned",
        g(m.attribute_sets),
    );
    r.register(
        "rejected_paths",
        "Paths rejected on import by loop detection or enforce-first-AS",
        c(m.rejected_paths),
    );
    r.register_with_unit(
        "output_queue",
        "UPDATE bytes waiting for all neighbors",
        Unit::Bytes,
        g(queue_bytes),
    );
    r.register(
        "watch_events_lost",
        "Watch events lost to a full queue or a slow watcher",
        c(m.events_lost),
    );
    r.register_with_unit(
        "event_loop_turn",
        "Busy time of each event-loop turn",
        Unit::Seconds,
        turns.clone(),
    );
    r.register_with_unit(
        "process_resident_memory",
        "Resident set size of the nexthopd process",
        Unit::Bytes,
        g(resident_bytes()),
    );
    let mut out = String::new();
    if prometheus_client::encoding::prometheus_text::encode(&mut out, &r).is_err() {
        out.clear();
    }
    out
}

fn by_type(c: &MessageCounts) -> [(&'static str, u64, u64); 5] {
    [
        ("open", c.open, c.open_bytes),
        ("update", c.update, c.update_bytes),
        ("notification", c.notification, c.notification_bytes),
        ("keepalive", c.keepalive, c.keepalive_bytes),
        ("route_refresh", c.route_refresh, c.route_refresh_bytes),
    ]
}

/// This process's RSS from /proc/self/statm (0 where there is none).
fn resident_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexthop_control::{FamilyCounts, FamilySummary, NeighborMetrics, NotificationCount};

    #[test]
    fn names_follow_the_conventions() {
        let m = MetricsSnapshot {
            neighbors: vec![NeighborMetrics {
                address: "192.0.2.1".parse().unwrap(),
                remote_asn: Some(65001),
                state: "Established",
                established_total: 2,
                flaps: 1,
                families: vec![FamilyCounts {
                    family: nexthop_control::Family::Ipv4,
                    received: 10,
                    accepted: 9,
                    advertised: 3,
                }],
                received: MessageCounts {
                    update: 4,
                    update_bytes: 100,
                    bytes: 100,
                    ..MessageCounts::default()
                },
                sent: MessageCounts::default(),
                notifications: vec![NotificationCount {
                    direction: "sent".into(),
                    code: 6,
                    subcode: 2,
                    name: "Cease / Administrative Shutdown".into(),
                    count: 1,
                }],
                output_pending_bytes: 7,
            }],
            rib: vec![FamilySummary {
                family: nexthop_control::Family::Ipv4,
                prefixes: 5,
                paths: 6,
            }],
            ..MetricsSnapshot::default()
        };
        let h = super::super::turn_histogram();
        h.observe(0.001);
        let t = encode(&m, &h);
        for want in [
            "nexthop_neighbor_state{neighbor=\"192.0.2.1\",state=\"Established\"} 1",
            "nexthop_neighbor_state{neighbor=\"192.0.2.1\",state=\"Idle\"} 0",
            "nexthop_neighbor_flaps_total{neighbor=\"192.0.2.1\"} 1",
            "nexthop_neighbor_prefixes{neighbor=\"192.0.2.1\",family=\"ipv4\",kind=\"received\"} 10",
            "nexthop_neighbor_messages_total{neighbor=\"192.0.2.1\",direction=\"received\",type=\"update\"} 4",
            "nexthop_neighbor_message_bytes_total{neighbor=\"192.0.2.1\",direction=\"received\",type=\"update\"} 100",
            "nexthop_neighbor_notifications_total{neighbor=\"192.0.2.1\",direction=\"sent\",code=\"6\",subcode=\"2\"} 1",
            "nexthop_rib_paths{family=\"ipv4\"} 6",
            "nexthop_output_queue_bytes 7",
            "nexthop_event_loop_turn_seconds_count 1",
            "# TYPE nexthop_process_resident_memory_bytes gauge",
        ] {
            assert!(t.contains(want), "missing {want:?} in\n{t}");
        }
    }

    /// `promtool check metrics` (Debian package prometheus) accepts the
    /// exposition: names, types, help, units, label sets.
    #[test]
    fn promtool_accepts_it() {
        if !nexthop_test_support::require("promtool") {
            return;
        }
        let neighbors = (1..=50u8)
            .map(|i| NeighborMetrics {
                address: std::net::IpAddr::from([192, 0, 2, i]),
                remote_asn: Some(65000 + u32::from(i)),
                state: if i % 2 == 0 { "Established" } else { "Active" },
                established_total: u64::from(i),
                flaps: u64::from(i / 2),
                families: vec![FamilyCounts {
                    family: nexthop_control::Family::Ipv6,
                    received: 1,
                    accepted: 1,
                    advertised: 0,
                }],
                received: MessageCounts::default(),
                sent: MessageCounts::default(),
                notifications: Vec::new(),
                output_pending_bytes: 0,
            })
            .collect();
        let m = MetricsSnapshot {
            neighbors,
            ..MetricsSnapshot::default()
        };
        let text = encode(&m, &super::super::turn_histogram());
        if let Err(e) = nexthop_test_support::promtool::check_metrics(&text) {
            panic!("{e}\n{text}");
        }
    }

    /// Every metric the Grafana dashboard (`contrib/grafana/nexthop.json`)
    /// queries is one this exposition has.
    #[test]
    fn the_dashboard_queries_metrics_that_exist() {
        let dashboard = include_str!("../../../contrib/grafana/nexthop.json");
        let m = MetricsSnapshot {
            neighbors: vec![NeighborMetrics {
                address: "192.0.2.1".parse().unwrap(),
                remote_asn: Some(65001),
                state: "Established",
                established_total: 1,
                flaps: 0,
                families: vec![FamilyCounts {
                    family: nexthop_control::Family::Ipv4,
                    received: 1,
                    accepted: 1,
                    advertised: 1,
                }],
                received: MessageCounts::default(),
                sent: MessageCounts::default(),
                notifications: vec![NotificationCount {
                    direction: "sent".into(),
                    code: 6,
                    subcode: 2,
                    name: String::new(),
                    count: 1,
                }],
                output_pending_bytes: 0,
            }],
            rib: vec![FamilySummary {
                family: nexthop_control::Family::Ipv4,
                prefixes: 1,
                paths: 1,
            }],
            ..MetricsSnapshot::default()
        };
        let text = encode(&m, &super::super::turn_histogram());
        let mut names: Vec<&str> = dashboard
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("nexthop_"))
            .collect();
        names.sort_unstable();
        names.dedup();
        assert!(names.len() >= 10, "{names:?}");
        for n in names {
            assert!(
                text.contains(n),
                "the dashboard queries {n}, which /metrics lacks"
            );
        }
    }
}
