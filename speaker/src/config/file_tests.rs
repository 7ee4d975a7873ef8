//! The config file writer against the parser: every key written by the
//! builder reads back as the value it was given, every key the README
//! documents can be written, and the README's complete example survives a
//! round trip through the writer.

use super::*;
use crate::config::{self, Router as ValidRouter};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn rule(s: &str) -> PrefixRule {
    s.parse().unwrap()
}

/// Every key, each with a value other than its default.
fn every_key() -> ConfigFile {
    ConfigFile::new(65001, "192.0.2.1".parse().unwrap())
        .comment("every key")
        .listen("127.0.0.2:1179".parse().unwrap())
        .listen("[::1]:179".parse().unwrap())
        .runtime(RuntimeKind::Mio)
        .cluster_id("192.0.2.99".parse().unwrap())
        .control(Control {
            socket: Some("/run/nexthopd/test.sock".into()),
            listen: Some("127.0.0.1:9179".parse().unwrap()),
            allow_write_over_tcp: Some(true),
        })
        .neighbor(
            Neighbor::new(ip("127.0.0.3"), 65002)
                .port(1790)
                .passive(true)
                .bind_addr(ip("127.0.0.2"))
                .hold_time(30)
                .keepalive_time(7)
                .connect_retry_time(5)
                .idle_hold_time(4)
                .delay_open_time(3)
                .jitter(false)
                .mrai(2)
                .families(&[FamilyName::Ipv6Unicast, FamilyName::Ipv4Unicast])
                .add_path(AddPath::Both)
                .route_server_client(true)
                .next_hop_v4("198.51.100.1".parse().unwrap())
                .next_hop_v6("2001:db8::1".parse().unwrap())
                .md5_key("s3cret \"quoted\"")
                .min_ttl(254)
                .import([rule("198.18.0.0/15 le 24"), rule("10.0.0.0/8 ge 16 le 24")])
                .export([rule("2001:db8::/32 ge 48")])
                .med(10)
                .local_pref(200)
                .community("65001:100".parse().unwrap())
                .community("65001:1:2".parse().unwrap())
                .max_prefix(1000)
                .enforce_first_as(true)
                .keep_received_routes(true),
        )
        .neighbor(Neighbor::new(ip("::2"), 65003).route_reflector_client(true))
        .dynamic(
            DynamicNeighbor::new("127.0.1.0/24".parse().unwrap(), 65004)
                .hold_time(9)
                .keepalive_time(3)
                .delay_open_time(6)
                .mrai(1)
                .families(&[FamilyName::Ipv4Unicast, FamilyName::Ipv6Unicast])
                .add_path(AddPath::Receive)
                .route_reflector_client(true)
                .next_hop_v4("198.51.100.2".parse().unwrap())
                .next_hop_v6("2001:db8::2".parse().unwrap())
                .md5_key("range key")
                .min_ttl(253)
                .import([rule("198.18.0.0/15 le 24")])
                .export([rule("0.0.0.0/0 le 32")])
                .med(11)
                .local_pref(150)
                .community("65001:200".parse().unwrap())
                .max_prefix(100)
                .enforce_first_as(true)
                .keep_received_routes(true),
        )
        .dynamic(
            DynamicNeighbor::new("2001:db8:ff::/48".parse().unwrap(), 65005)
                .route_server_client(true),
        )
        .originate(
            Originate::new("198.18.1.0/24".parse().unwrap())
                .next_hop(ip("198.51.100.7"))
                .community(65001, 7)
                .large_community(65001, 1, 2),
        )
        .originate(Originate::new("2001:db8:1::/48".parse().unwrap()))
}

#[test]
fn every_key_reads_back_as_written() {
    let c = every_key().config().unwrap_or_else(|e| panic!("{e}"));
    // Whole values, written out: a field added to the config and not to the
    // writer fails to compile here or to compare.
    assert_eq!(
        c.router,
        ValidRouter {
            asn: 65001,
            router_id: "192.0.2.1".parse().unwrap(),
            listen: vec![
                "127.0.0.2:1179".parse().unwrap(),
                "[::1]:179".parse().unwrap()
            ],
            runtime: Some(RuntimeKind::Mio),
            cluster_id: Some("192.0.2.99".parse().unwrap()),
        }
    );
    assert_eq!(
        c.neighbors[0],
        config::Neighbor {
            address: ip("127.0.0.3"),
            remote_asn: 65002,
            port: 1790,
            passive: true,
            hold_time: 30,
            keepalive_time: 7,
            connect_retry_time: 5,
            idle_hold_time: 4,
            delay_open_time: 3,
            jitter: false,
            route_server_client: true,
            route_reflector_client: false,
            add_path: Some(AddPath::Both),
            families: vec![FamilyName::Ipv6Unicast, FamilyName::Ipv4Unicast],
            bind_addr: Some(ip("127.0.0.2")),
            md5_key: Some("s3cret \"quoted\"".into()),
            min_ttl: Some(254),
            import: Some(vec![
                PrefixRule {
                    prefix: "198.18.0.0/15".parse().unwrap(),
                    ge: 15,
                    le: 24
                },
                PrefixRule {
                    prefix: "10.0.0.0/8".parse().unwrap(),
                    ge: 16,
                    le: 24
                },
            ]),
            export: Some(vec![PrefixRule {
                prefix: "2001:db8::/32".parse().unwrap(),
                ge: 48,
                le: 128
            }]),
            med: Some(10),
            local_pref: Some(200),
            communities: vec![
                Community::Standard((65001 << 16) | 100),
                Community::Large([65001, 1, 2])
            ],
            max_prefix: Some(1000),
            enforce_first_as: true,
            keep_received_routes: true,
            mrai: Some(2),
            next_hop_v4: Some("198.51.100.1".parse().unwrap()),
            next_hop_v6: Some("2001:db8::1".parse().unwrap()),
        }
    );
    let n = &c.neighbors[1];
    assert!(n.route_reflector_client && !n.route_server_client);
    assert_eq!(n.families, vec![FamilyName::Ipv6Unicast]);
    assert_eq!(
        c.dynamic_neighbors,
        vec![
            config::DynamicNeighbor {
                prefix: "127.0.1.0/24".parse().unwrap(),
                remote_asn: 65004,
                options: config::PeerOptions {
                    hold_time: 9,
                    keepalive_time: 3,
                    delay_open_time: 6,
                    route_server_client: false,
                    route_reflector_client: true,
                    add_path: Some(AddPath::Receive),
                    families: vec![FamilyName::Ipv4Unicast, FamilyName::Ipv6Unicast],
                    md5_key: Some("range key".into()),
                    min_ttl: Some(253),
                    import: Some(vec![PrefixRule {
                        prefix: "198.18.0.0/15".parse().unwrap(),
                        ge: 15,
                        le: 24
                    }]),
                    export: Some(vec![PrefixRule {
                        prefix: "0.0.0.0/0".parse().unwrap(),
                        ge: 0,
                        le: 32
                    }]),
                    med: Some(11),
                    local_pref: Some(150),
                    communities: vec![Community::Standard((65001 << 16) | 200)],
                    max_prefix: Some(100),
                    enforce_first_as: true,
                    keep_received_routes: true,
                    mrai: Some(1),
                    next_hop_v4: Some("198.51.100.2".parse().unwrap()),
                    next_hop_v6: Some("2001:db8::2".parse().unwrap()),
                },
            },
            config::DynamicNeighbor {
                prefix: "2001:db8:ff::/48".parse().unwrap(),
                remote_asn: 65005,
                // A range's defaults are a neighbour's, its family the range's.
                options: config::PeerOptions {
                    hold_time: 90,
                    keepalive_time: 30,
                    delay_open_time: 0,
                    route_server_client: true,
                    route_reflector_client: false,
                    add_path: None,
                    families: vec![FamilyName::Ipv6Unicast],
                    md5_key: None,
                    min_ttl: None,
                    import: None,
                    export: None,
                    med: None,
                    local_pref: None,
                    communities: Vec::new(),
                    max_prefix: None,
                    enforce_first_as: false,
                    keep_received_routes: false,
                    mrai: None,
                    next_hop_v4: None,
                    next_hop_v6: None,
                },
            },
        ]
    );
    assert_eq!(
        c.originate,
        vec![
            config::Originate {
                prefix: "198.18.1.0/24".parse().unwrap(),
                next_hop: Some(ip("198.51.100.7")),
                communities: vec![(65001 << 16) | 7],
                large_communities: vec![[65001, 1, 2]],
            },
            config::Originate {
                prefix: "2001:db8:1::/48".parse().unwrap(),
                next_hop: None,
                communities: vec![],
                large_communities: vec![],
            },
        ]
    );
}

#[test]
fn keys_left_out_are_not_written_and_take_their_defaults() {
    let f = ConfigFile::new(65001, "192.0.2.1".parse().unwrap())
        .neighbor(Neighbor::new(ip("127.0.0.2"), 65002))
        .originate(Originate::new("198.18.1.0/24".parse().unwrap()));
    assert_eq!(
        f.to_toml(),
        "[router]\nasn = 65001\nrouter_id = \"192.0.2.1\"\n\n\
         [[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 65002\n\n\
         [[originate]]\nprefix = \"198.18.1.0/24\"\n"
    );
    let c = f.config().unwrap();
    assert_eq!(
        c.router.listen,
        vec!["0.0.0.0:179".parse::<std::net::SocketAddr>().unwrap()]
    );
    let n = &c.neighbors[0];
    assert_eq!(
        (n.port, n.hold_time, n.keepalive_time, n.connect_retry_time),
        (179, 90, 30, 120)
    );
    assert!(n.jitter && !n.passive && n.import.is_none() && n.mrai.is_none());
}

#[test]
fn comments_open_the_file() {
    let t = ConfigFile::new(1, "192.0.2.1".parse().unwrap())
        .comment("generated by a test")
        .to_toml();
    assert!(t.starts_with("# generated by a test\n[router]\n"), "{t}");
}

#[test]
fn a_value_the_parser_refuses_is_reported_with_key_and_line() {
    let f = ConfigFile::new(65001, "192.0.2.1".parse().unwrap())
        .neighbor(Neighbor::new(ip("127.0.0.2"), 65002))
        .neighbor(Neighbor::new(ip("127.0.0.3"), 65003).hold_time(2));
    let e = f.config().unwrap_err();
    assert_eq!(e.key, "neighbor[1].hold_time");
    let line = f
        .to_toml()
        .lines()
        .position(|l| l == "hold_time = 2")
        .unwrap();
    assert_eq!(e.line, Some(line + 1), "{e}");
}

#[test]
fn a_changed_neighbor_is_found_by_address() {
    let mut f = every_key();
    f.neighbor_mut(ip("::2")).unwrap().max_prefix = Some(5);
    assert!(f.neighbor_mut(ip("127.0.0.9")).is_none());
    assert_eq!(f.config().unwrap().neighbors[1].max_prefix, Some(5));
}

/// The first ```toml block after `marker` in `text`.
fn toml_block_after<'a>(text: &'a str, marker: &str) -> &'a str {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in the README"));
    let rest = &text[at..];
    let start = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let len = rest[start..].find("```").expect("the block's end");
    &rest[start..start + len]
}

const README: &str = include_str!("../../../README.md");

#[test]
fn the_readme_complete_example_survives_the_writer() {
    let text = toml_block_after(README, "A complete example");
    let c = Config::from_toml(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(c.neighbors.len(), 1);
    assert_eq!(c.dynamic_neighbors.len(), 1);
    assert_eq!(c.originate.len(), 1);
    let again = ConfigFile::from_config(&c).config().unwrap();
    assert_eq!(again, c);
}

#[test]
fn a_config_read_back_through_the_writer_is_the_same() {
    let c = every_key().config().unwrap();
    let written = ConfigFile::from_config(&c);
    assert_eq!(written.config().unwrap(), c, "{}", written.to_toml());
}

/// The keys of the README's reference table for `table` (`[router]`,
/// `[[neighbor]]`) or of its one-paragraph description.
fn documented_keys(table: &str) -> Vec<String> {
    let reference = &README[README.find("### Configuration reference").unwrap()..];
    // The table's name opens a line and is followed by its table or by a colon.
    let (at, heading) = [format!("\n`{table}`\n"), format!("\n`{table}`:")]
        .into_iter()
        .find_map(|h| reference.find(&h).map(|at| (at, h)))
        .unwrap_or_else(|| panic!("{table} not in the reference"));
    let section = &reference[at + heading.len()..];
    let end = section.find("\n`[").unwrap_or(section.len());
    let end = end.min(section.find("A complete example").unwrap_or(section.len()));
    let section = &section[..end];
    let mut keys = Vec::new();
    for line in section.lines() {
        let in_table = line.starts_with("| `");
        let cells = if in_table {
            line.split('|').nth(1).unwrap_or("")
        } else {
            line
        };
        for (i, piece) in cells.split('`').enumerate() {
            let key = piece.trim();
            let is_key = key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if i % 2 == 1 && !key.is_empty() && is_key {
                keys.push(key.to_string());
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The keys the writer puts in `table` of `text`.
fn written_keys(text: &str, table: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with('[') {
            current = line.to_string();
        } else if current == table
            && let Some((k, _)) = line.split_once(" = ")
        {
            keys.push(k.to_string());
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn the_writer_has_every_key_the_readme_documents() {
    let text = every_key().to_toml();
    for table in [
        "[router]",
        "[control]",
        "[[neighbor]]",
        "[[dynamic_neighbor]]",
        "[[originate]]",
    ] {
        let documented = documented_keys(table);
        assert!(documented.len() >= 2, "{table}: {documented:?}");
        let mut written = written_keys(&text, table);
        // Both neighbours together write every neighbour key.
        written.sort();
        assert_eq!(written, documented, "{table}\n{text}");
    }
}

#[test]
fn values_are_written_as_the_parser_reads_them() {
    for r in [
        "198.18.0.0/15",
        "198.18.0.0/15 le 24",
        "10.0.0.0/8 ge 16",
        "10.0.0.0/8 ge 16 le 24",
        "0.0.0.0/0 le 32",
        "2001:db8::/32 ge 48 le 64",
    ] {
        let a: PrefixRule = r.parse().unwrap();
        let b: PrefixRule = a.to_string().parse().unwrap();
        assert_eq!(a, b, "{r} -> {a}");
    }
    assert_eq!(
        rule("10.0.0.0/8 ge 16").to_string(),
        "10.0.0.0/8 ge 16 le 32"
    );
    for c in ["0:0", "65535:65535", "1:2:3", "4294967295:0:4294967295"] {
        let v: Community = c.parse().unwrap();
        assert_eq!(v.to_string(), c);
    }
    for k in RuntimeKind::ALL {
        assert_eq!(k.to_string().parse::<RuntimeKind>().unwrap(), k);
    }
    for k in AddPath::ALL {
        assert_eq!(k.to_string().parse::<AddPath>().unwrap(), k);
    }
    for k in FamilyName::ALL {
        assert_eq!(k.to_string().parse::<FamilyName>().unwrap(), k);
    }
    assert_eq!(
        "epoll".parse::<RuntimeKind>().unwrap_err().message,
        "\"epoll\": expected \"mio\" or \"uring\""
    );
    assert_eq!(
        "all".parse::<AddPath>().unwrap_err().message,
        "\"all\": expected \"receive\", \"send\" or \"both\""
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A valid prefix rule of either family: host bits clear,
    /// len <= ge <= le <= max.
    fn prefix_rule() -> impl Strategy<Value = PrefixRule> {
        (
            any::<bool>(),
            any::<u128>(),
            0u8..=128,
            any::<u8>(),
            any::<u8>(),
        )
            .prop_map(|(v6, bits, len, a, b)| {
                let max = if v6 { 128 } else { 32 };
                let len = len % (max + 1);
                let addr = if v6 {
                    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                    IpAddr::V6((bits & mask).into())
                } else {
                    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                    IpAddr::V4((bits as u32 & mask).into())
                };
                let prefix = Prefix { addr, len };
                let span = max - len;
                let ge = len + a % (span + 1);
                let le = ge + b % (max - ge + 1);
                PrefixRule { prefix, ge, le }
            })
    }

    proptest! {
        #[test]
        fn a_prefix_rule_reads_back_as_written(r in prefix_rule()) {
            let text = r.to_string();
            prop_assert_eq!(text.parse::<PrefixRule>(), Ok(r), "{}", text);
        }

        #[test]
        fn a_community_reads_back_as_written(
            standard in any::<u32>(),
            large in any::<[u32; 3]>(),
        ) {
            for c in [Community::Standard(standard), Community::Large(large)] {
                prop_assert_eq!(c.to_string().parse::<Community>(), Ok(c));
            }
        }
    }
}

#[test]
fn control_round_trips_through_the_writer() {
    let f = ConfigFile::new(65001, "192.0.2.1".parse().unwrap()).control(Control {
        socket: Some("/tmp/nexthop-test.sock".into()),
        listen: Some("127.0.0.1:9179".parse().unwrap()),
        allow_write_over_tcp: Some(true),
    });
    let text = f.to_toml();
    assert!(text.contains("[control]\n"), "{text}");
    let c = f.config().unwrap();
    assert_eq!(
        c.control.socket,
        std::path::PathBuf::from("/tmp/nexthop-test.sock")
    );
    assert!(c.control.allow_write_over_tcp);
    assert_eq!(ConfigFile::from_config(&c).config().unwrap(), c);
}
