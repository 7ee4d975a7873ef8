//! Tests of the configuration parser: values, defaults, and errors naming
//! key and line.

use super::*;

const EXAMPLE: &str = r#"
[router]
asn = 65000
router_id = "192.0.2.1"
listen = ["127.0.0.1:179"]
runtime = "mio"
cluster_id = "192.0.2.1"

[[neighbor]]
address = "127.0.0.2"
remote_asn = 65001
passive = false
hold_time = 90
keepalive_time = 30
connect_retry_time = 5
route_server_client = false
route_reflector_client = false
add_path = "receive"
families = ["ipv4-unicast", "ipv6-unicast"]
import = ["198.18.0.0/15 le 24"]
communities = ["65000:100", "65000:1:2"]
max_prefix = 1000

[[dynamic_neighbor]]
prefix = "127.0.1.0/24"
remote_asn = 65000

[[originate]]
prefix = "198.51.100.0/24"
"#;

#[test]
fn the_issue_example_parses() {
    let c = Config::from_toml(EXAMPLE).unwrap();
    assert_eq!(c.router.asn, 65000);
    assert_eq!(c.router.listen, vec!["127.0.0.1:179".parse().unwrap()]);
    assert_eq!(c.router.runtime, Some(RuntimeKind::Mio));
    let n = &c.neighbors[0];
    assert_eq!(n.address, "127.0.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(
        (n.hold_time, n.keepalive_time, n.connect_retry_time),
        (90, 30, 5)
    );
    assert_eq!(n.add_path, Some(AddPath::Receive));
    assert_eq!(
        n.families,
        vec![FamilyName::Ipv4Unicast, FamilyName::Ipv6Unicast]
    );
    assert_eq!(n.import.as_ref().unwrap()[0].le, 24);
    assert_eq!(
        n.communities,
        vec![
            Community::Standard(65000 << 16 | 100),
            Community::Large([65000, 1, 2])
        ]
    );
    assert_eq!(c.dynamic_neighbors[0].prefix.len, 24);
    assert_eq!(c.originate[0].prefix.to_string(), "198.51.100.0/24");
}

fn error(text: &str) -> ConfigError {
    Config::from_toml(text).unwrap_err()
}

const HEAD: &str = "[router]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";

#[test]
fn errors_name_key_and_line() {
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 65001\nhold_time = 2\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[0].hold_time", Some(7)));
    assert!(e.message.contains("at least 3"), "{e}");

    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.300\"\nremote_asn = 65001\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[0].address", Some(5)));

    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 65001\nhold_tme = 30\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[0].hold_tme", Some(7)));
    assert!(e.message.contains("hold_tme"), "{e}");

    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\n[[neighbor]]\naddress = \"127.0.0.3\"\nremote_asn = 1\nhold_time = \"x\"\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("neighbor[1].hold_time", Some(10))
    );

    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 0\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("neighbor[0].remote_asn", Some(6))
    );

    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 5000000000\n"
    ));
    assert_eq!(e.key, "neighbor[0].remote_asn");

    let e = error("[router]\nasn = 65000\nrouter_id = \"0.0.0.0\"\n");
    assert_eq!((e.key.as_str(), e.line), ("router.router_id", Some(3)));

    let e = error(&format!(
        "{HEAD}[[originate]]\nprefix = \"198.51.100.1/24\"\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("originate[0].prefix", Some(5)));
    assert!(e.message.contains("host bits"), "{e}");

    let e = error(&format!("{HEAD}runtime = \"epoll\"\n"));
    assert_eq!((e.key.as_str(), e.line), ("router.runtime", Some(4)));

    let e = error("[router]\nasn = 65000\n");
    assert!(e.message.contains("router_id"), "{e}");
}

#[test]
fn keepalive_over_a_third_of_hold_is_refused() {
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nhold_time = 9\nkeepalive_time = 4\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("neighbor[0].keepalive_time", Some(8))
    );
    let c = Config::from_toml(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nhold_time = 0\n"
    ))
    .unwrap();
    assert_eq!(c.neighbors[0].keepalive_time, 0);
}

#[test]
fn duplicate_neighbor_is_refused() {
    let n = "[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\n";
    let e = error(&format!("{HEAD}{n}{n}"));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[1].address", Some(8)));
}

#[test]
fn neighbor_port_and_mrai() {
    let c = Config::from_toml(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nport = 10179\nmrai = 0\n[[neighbor]]\naddress = \"127.0.0.3\"\nremote_asn = 1\n"
    ))
    .unwrap();
    assert_eq!((c.neighbors[0].port, c.neighbors[0].mrai), (10179, Some(0)));
    assert_eq!((c.neighbors[1].port, c.neighbors[1].mrai), (179, None));
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nport = 70000\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[0].port", Some(7)));
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nport = 0\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[0].port", Some(7)));
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nmrai = -1\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[0].mrai", Some(7)));
}

#[test]
fn neighbor_next_hops_self() {
    let c = Config::from_toml(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nnext_hop_v4 = \"198.51.100.1\"\nnext_hop_v6 = \"2001:db8::1\"\n"
    ))
    .unwrap();
    assert_eq!(
        c.neighbors[0].next_hop_v4,
        Some("198.51.100.1".parse().unwrap())
    );
    assert_eq!(
        c.neighbors[0].next_hop_v6,
        Some("2001:db8::1".parse().unwrap())
    );
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nnext_hop_v6 = \"198.51.100.1\"\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("neighbor[0].next_hop_v6", Some(7))
    );
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 1\nnext_hop_v4 = \"2001:db8::1\"\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("neighbor[0].next_hop_v4", Some(7))
    );
}

#[test]
fn originate_next_hop_and_communities() {
    let c = Config::from_toml(&format!(
        "{HEAD}[[originate]]\nprefix = \"198.51.100.0/24\"\nnext_hop = \"198.51.100.1\"\ncommunities = [\"65000:7\"]\nlarge_communities = [\"65000:1:2\"]\n[[originate]]\nprefix = \"2001:db8::/32\"\n"
    ))
    .unwrap();
    let o = &c.originate[0];
    assert_eq!(o.next_hop, Some("198.51.100.1".parse().unwrap()));
    assert_eq!(o.communities, vec![65000 << 16 | 7]);
    assert_eq!(o.large_communities, vec![[65000, 1, 2]]);
    assert_eq!(c.originate[1].next_hop, None);
    assert!(c.originate[1].communities.is_empty());

    let e = error(&format!(
        "{HEAD}[[originate]]\nprefix = \"198.51.100.0/24\"\nnext_hop = \"2001:db8::1\"\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("originate[0].next_hop", Some(6)));
    assert!(e.message.contains("family"), "{e}");
    let e = error(&format!(
        "{HEAD}[[originate]]\nprefix = \"198.51.100.0/24\"\nnext_hop = \"nowhere\"\n"
    ));
    assert_eq!((e.key.as_str(), e.line), ("originate[0].next_hop", Some(6)));
    let e = error(&format!(
        "{HEAD}[[originate]]\nprefix = \"198.51.100.0/24\"\ncommunities = [\"1:2\", \"1:2:3\"]\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("originate[0].communities[1]", Some(6))
    );
    let e = error(&format!(
        "{HEAD}[[originate]]\nprefix = \"198.51.100.0/24\"\n\nlarge_communities = [\n  \"1:2\",\n]\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("originate[0].large_communities[0]", Some(8))
    );
    let e = error(&format!(
        "{HEAD}[[originate]]\nprefix = \"198.51.100.0/24\"\nlarge_communities = [\"1:x:3\"]\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("originate[0].large_communities[0]", Some(6))
    );
}

#[test]
fn prefix_rules_and_communities() {
    assert_eq!(
        parse_prefix_rule("10.0.0.0/8 ge 16 le 24").map(|r| (r.ge, r.le)),
        Ok((16, 24))
    );
    assert_eq!(
        parse_prefix_rule("10.0.0.0/8 ge 16").map(|r| (r.ge, r.le)),
        Ok((16, 32))
    );
    assert_eq!(
        parse_prefix_rule("2001:db8::/32 le 48").map(|r| (r.ge, r.le)),
        Ok((32, 48))
    );
    assert!(parse_prefix_rule("10.0.0.0/8 le 4").is_err());
    assert!(parse_prefix_rule("10.0.0.0/8 foo 4").is_err());
    assert!(parse_prefix_rule("10.0.0.0/33").is_err());
    assert!(parse_community("70000:1").is_err());
    assert!(parse_community("1:2:3:4").is_err());
}

/// A `[[dynamic_neighbor]]` is checked by the code that checks a
/// `[[neighbor]]`'s keys: the same refusals, naming the range's key and line.
#[test]
fn dynamic_neighbor_options_are_checked_as_a_neighbors() {
    let range = "[[dynamic_neighbor]]\nprefix = \"127.0.1.0/24\"\nremote_asn = 65001\n";
    for (line, key, what) in [
        ("hold_time = 2", "hold_time", "at least 3"),
        ("keepalive_time = 40", "keepalive_time", "a third"),
        ("min_ttl = 0", "min_ttl", "1 to 255"),
        ("min_ttl = 256", "min_ttl", "out of range"),
        ("md5_key = \"\"", "md5_key", "1 to 80"),
        ("max_prefix = 0", "max_prefix", "at least 1"),
        ("local_pref = -1", "local_pref", "out of range"),
        ("add_path = \"sideways\"", "add_path", "sideways"),
        ("next_hop_v6 = \"192.0.2.1\"", "next_hop_v6", "not an IPv6"),
    ] {
        let e = error(&format!("{HEAD}{range}{line}\n"));
        assert_eq!(
            (e.key.as_str(), e.line),
            (format!("dynamic_neighbor[0].{key}").as_str(), Some(7)),
            "{line}: {e}"
        );
        assert!(e.message.contains(what), "{line}: {e}");
    }
    let e = error(&format!(
        "{HEAD}{range}import = [\"10.0.0.0/8\", \"10.0.0.0/33\"]\n"
    ));
    assert_eq!(
        (e.key.as_str(), e.line),
        ("dynamic_neighbor[0].import[1]", Some(7))
    );
    let e = error(&format!("{HEAD}{range}communities = [\"70000:1\"]\n"));
    assert_eq!(e.key, "dynamic_neighbor[0].communities[0]");
    let e = error(&format!("{HEAD}{range}families = [\"ipv4-multicast\"]\n"));
    assert_eq!(e.key, "dynamic_neighbor[0].families[0]");
    let e = error(&format!(
        "{HEAD}{range}route_server_client = true\nroute_reflector_client = true\n"
    ));
    assert_eq!(e.key, "dynamic_neighbor[0].route_server_client");
}

/// The keys of outbound connections have no meaning for a range (it only
/// accepts): they are unknown keys there, refused with their line.
#[test]
fn a_range_refuses_the_keys_of_outbound_connections() {
    let range = "[[dynamic_neighbor]]\nprefix = \"127.0.1.0/24\"\nremote_asn = 65001\n";
    for line in [
        "address = \"127.0.1.1\"",
        "port = 1179",
        "passive = true",
        "bind_addr = \"127.0.0.1\"",
        "connect_retry_time = 5",
        "idle_hold_time = 5",
        "jitter = false",
    ] {
        let e = error(&format!("{HEAD}{range}{line}\n"));
        let key = line.split(' ').next().unwrap();
        assert_eq!(
            (e.key.as_str(), e.line),
            (format!("dynamic_neighbor[0].{key}").as_str(), Some(7)),
            "{line}: {e}"
        );
    }
}

#[test]
fn dynamic_neighbor_options_and_defaults() {
    let c = Config::from_toml(&format!(
        "{HEAD}[[dynamic_neighbor]]\nprefix = \"2001:db8::/64\"\nremote_asn = 65001\n\
         [[dynamic_neighbor]]\nprefix = \"127.0.1.0/24\"\nremote_asn = 65002\n\
         route_reflector_client = true\nmin_ttl = 254\nmd5_key = \"k\"\nmax_prefix = 3\n\
         import = [\"198.18.0.0/15 le 24\"]\nlocal_pref = 300\n"
    ))
    .unwrap();
    let o = &c.dynamic_neighbors[0].options;
    assert_eq!(
        (o.hold_time, o.keepalive_time, o.families.as_slice()),
        (90, 30, &[FamilyName::Ipv6Unicast][..])
    );
    assert!(o.import.is_none() && o.max_prefix.is_none() && !o.route_reflector_client);
    let o = &c.dynamic_neighbors[1].options;
    assert!(o.route_reflector_client);
    assert_eq!(
        (
            o.min_ttl,
            o.md5_key.as_deref(),
            o.max_prefix,
            o.local_pref,
            o.families.as_slice()
        ),
        (
            Some(254),
            Some("k"),
            Some(3),
            Some(300),
            &[FamilyName::Ipv4Unicast][..]
        )
    );
    assert_eq!(o.import.as_ref().map(Vec::len), Some(1));
}

/// The kernel's TCP-MD5 keys go by longest prefix and have no "no key"
/// entry: a neighbour without a key inside a keyed range is refused, naming it.
#[test]
fn a_neighbor_inside_a_keyed_range_needs_its_own_key() {
    let range = "[[dynamic_neighbor]]\nprefix = \"127.0.1.0/24\"\nremote_asn = 65001\nmd5_key = \"range\"\n";
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"::ffff:127.0.1.9\"\nremote_asn = 65009\n{range}"
    ));
    assert_eq!((e.key.as_str(), e.line), ("neighbor[0].md5_key", Some(5)));
    assert!(e.message.contains("dynamic_neighbor[0]"), "{e}");
    // With a key of its own, or outside the range, it is fine.
    Config::from_toml(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.1.9\"\nremote_asn = 65009\nmd5_key = \"own\"\n\
         [[neighbor]]\naddress = \"127.0.2.9\"\nremote_asn = 65009\n{range}"
    ))
    .unwrap();
}

#[test]
fn control_defaults_to_the_unix_socket_only() {
    let c = Config::from_toml(HEAD).unwrap();
    assert_eq!(c.control, Control::default());
    assert_eq!(
        c.control.socket,
        std::path::PathBuf::from("/run/nexthopd/nexthopd.sock")
    );
    assert!(c.control.listen.is_none() && !c.control.allow_write_over_tcp);
}

#[test]
fn control_reads_socket_listen_and_tcp_writes() {
    let c = Config::from_toml(&format!(
        "{HEAD}[control]\nsocket = \"/tmp/n.sock\"\nlisten = \"127.0.0.1:9179\"\nallow_write_over_tcp = true\n"
    ))
    .unwrap();
    assert_eq!(c.control.socket, std::path::PathBuf::from("/tmp/n.sock"));
    assert_eq!(c.control.listen, Some("127.0.0.1:9179".parse().unwrap()));
    assert!(c.control.allow_write_over_tcp);
}

#[test]
fn control_errors_name_key_and_line() {
    let cases = [
        (
            "listen = \"127.0.0.1\"\n",
            "control.listen",
            "not ADDRESS:PORT",
        ),
        ("listen = \"[::1]:0\"\n", "control.listen", "port 0"),
        ("socket = \"\"\n", "control.socket", "empty"),
        (
            "allow_write_over_tcp = true\n",
            "control.allow_write_over_tcp",
            "without control.listen",
        ),
    ];
    for (body, key, words) in cases {
        let e = error(&format!("{HEAD}[control]\n{body}"));
        assert_eq!((e.key.as_str(), e.line), (key, Some(5)), "{body}: {e}");
        assert!(e.message.contains(words), "{body}: {e}");
    }
    let long = "x".repeat(CONTROL_SOCKET_MAX + 1);
    let e = error(&format!("{HEAD}[control]\nsocket = \"/{long}\"\n"));
    assert_eq!(e.key, "control.socket");
    assert!(e.message.contains("at most 107"), "{e}");
    let e = error(&format!("{HEAD}[control]\nsockett = \"/x\"\n"));
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("sockett"), "{e}");
}

#[test]
fn keep_received_routes_is_a_neighbour_and_range_option() {
    let c = Config::from_toml(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 65001\nkeep_received_routes = true\n\
         [[neighbor]]\naddress = \"127.0.0.3\"\nremote_asn = 65001\n\
         [[dynamic_neighbor]]\nprefix = \"127.0.1.0/24\"\nremote_asn = 65002\nkeep_received_routes = true\n"
    ))
    .unwrap();
    assert!(c.neighbors[0].keep_received_routes);
    assert!(!c.neighbors[1].keep_received_routes, "off by default");
    assert!(c.dynamic_neighbors[0].options.keep_received_routes);
    let e = error(&format!(
        "{HEAD}[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 65001\nkeep_received_routes = \"yes\"\n"
    ));
    assert_eq!(e.line, Some(7), "{e}");
    assert!(e.message.contains("bool"), "{e}");
    // The typed builder writes it and reads it back.
    let f = file::ConfigFile::from_config(&c);
    assert!(f.to_toml().contains("keep_received_routes = true"));
    assert_eq!(f.config().unwrap(), c);
}
