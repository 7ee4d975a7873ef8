//! The per-neighbour keys `[[neighbor]]` and `[[dynamic_neighbor]]` share
//! (timers, families, ADD-PATH, reflection, TCP-MD5 and GTSM, policy,
//! max-prefix): declared once for both raw tables and checked by one function,
//! whose errors name the table's key and line.

use super::*;

/// Declares a raw table with its own keys followed by the per-neighbour keys
/// `[[neighbor]]` and `[[dynamic_neighbor]]` share (one list), and lends those
/// to [`peer_options()`], the one check of them. (serde's `flatten` would lose
/// the spans.)
macro_rules! raw_peer_table {
    ($name:ident { $($own:tt)* }) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            $($own)*
            #[serde(default)]
            hold_time: Option<Spanned<i64>>,
            #[serde(default)]
            keepalive_time: Option<Spanned<i64>>,
            #[serde(default)]
            delay_open_time: Option<Spanned<i64>>,
            #[serde(default)]
            route_server_client: bool,
            #[serde(default)]
            route_reflector_client: bool,
            #[serde(default)]
            add_path: Option<Spanned<String>>,
            #[serde(default)]
            families: Option<Vec<Spanned<String>>>,
            #[serde(default)]
            md5_key: Option<Spanned<String>>,
            #[serde(default)]
            min_ttl: Option<Spanned<i64>>,
            #[serde(default)]
            import: Option<Vec<Spanned<String>>>,
            #[serde(default)]
            export: Option<Vec<Spanned<String>>>,
            #[serde(default)]
            med: Option<Spanned<i64>>,
            #[serde(default)]
            local_pref: Option<Spanned<i64>>,
            #[serde(default)]
            communities: Vec<Spanned<String>>,
            #[serde(default)]
            max_prefix: Option<Spanned<i64>>,
            #[serde(default)]
            enforce_first_as: bool,
            #[serde(default)]
            keep_received_routes: bool,
            #[serde(default)]
            mrai: Option<Spanned<i64>>,
            #[serde(default)]
            next_hop_v4: Option<Spanned<String>>,
            #[serde(default)]
            next_hop_v6: Option<Spanned<String>>,
        }

        impl $name {
            fn peer_options(&self) -> RawPeerOptions<'_> {
                RawPeerOptions {
                    hold_time: &self.hold_time,
                    keepalive_time: &self.keepalive_time,
                    delay_open_time: &self.delay_open_time,
                    route_server_client: self.route_server_client,
                    route_reflector_client: self.route_reflector_client,
                    add_path: &self.add_path,
                    families: &self.families,
                    md5_key: &self.md5_key,
                    min_ttl: &self.min_ttl,
                    import: &self.import,
                    export: &self.export,
                    med: &self.med,
                    local_pref: &self.local_pref,
                    communities: &self.communities,
                    max_prefix: &self.max_prefix,
                    enforce_first_as: self.enforce_first_as,
                    keep_received_routes: self.keep_received_routes,
                    mrai: &self.mrai,
                    next_hop_v4: &self.next_hop_v4,
                    next_hop_v6: &self.next_hop_v6,
                }
            }
        }
    };
}

/// The keys `[[neighbor]]` and `[[dynamic_neighbor]]` share, as read: one
/// check ([`peer_options()`]) for both tables.
pub(super) struct RawPeerOptions<'a> {
    pub(super) hold_time: &'a Option<Spanned<i64>>,
    pub(super) keepalive_time: &'a Option<Spanned<i64>>,
    pub(super) delay_open_time: &'a Option<Spanned<i64>>,
    pub(super) route_server_client: bool,
    pub(super) route_reflector_client: bool,
    pub(super) add_path: &'a Option<Spanned<String>>,
    pub(super) families: &'a Option<Vec<Spanned<String>>>,
    pub(super) md5_key: &'a Option<Spanned<String>>,
    pub(super) min_ttl: &'a Option<Spanned<i64>>,
    pub(super) import: &'a Option<Vec<Spanned<String>>>,
    pub(super) export: &'a Option<Vec<Spanned<String>>>,
    pub(super) med: &'a Option<Spanned<i64>>,
    pub(super) local_pref: &'a Option<Spanned<i64>>,
    pub(super) communities: &'a [Spanned<String>],
    pub(super) max_prefix: &'a Option<Spanned<i64>>,
    pub(super) enforce_first_as: bool,
    pub(super) keep_received_routes: bool,
    pub(super) mrai: &'a Option<Spanned<i64>>,
    pub(super) next_hop_v4: &'a Option<Spanned<String>>,
    pub(super) next_hop_v6: &'a Option<Spanned<String>>,
}

/// Checks the per-neighbour keys `[[neighbor]]` and `[[dynamic_neighbor]]`
/// share; `table` names the table in errors (`dynamic_neighbor[0]`), `anchor`
/// is its first key (the line of errors about the table as a whole), and
/// `ipv4` picks the default family.
pub(super) fn peer_options(
    src: &Source<'_>,
    table: &str,
    anchor: &Spanned<String>,
    ipv4: bool,
    raw: RawPeerOptions<'_>,
) -> Result<PeerOptions, ConfigError> {
    let k = |f: &str| format!("{table}.{f}");
    let hold_time = src.seconds(&k("hold_time"), raw.hold_time, 90)?;
    if hold_time == 1 || hold_time == 2 {
        let v = raw
            .hold_time
            .as_ref()
            .expect("a non-default value was given");
        return Err(src.err(
            &k("hold_time"),
            v,
            "hold time must be 0 or at least 3 seconds (RFC 4271 §4.2)",
        ));
    }
    let keepalive_time = src.seconds(&k("keepalive_time"), raw.keepalive_time, hold_time / 3)?;
    if let Some(v) = raw.keepalive_time
        && (hold_time == 0 && keepalive_time != 0
            || hold_time != 0 && keepalive_time > hold_time / 3)
    {
        return Err(src.err(
            &k("keepalive_time"),
            v,
            format!("keepalive time must be at most a third of the hold time ({hold_time} s), or 0 when it is 0"),
        ));
    }
    let add_path = raw
        .add_path
        .as_ref()
        .map(|v| src.named::<AddPath>(&k("add_path"), v))
        .transpose()?;
    let families = match raw.families {
        None => vec![if ipv4 {
            FamilyName::Ipv4Unicast
        } else {
            FamilyName::Ipv6Unicast
        }],
        Some(list) => {
            let mut out = Vec::new();
            for (j, f) in list.iter().enumerate() {
                let fam: FamilyName = src.named(&format!("{table}.families[{j}]"), f)?;
                if !out.contains(&fam) {
                    out.push(fam);
                }
            }
            if out.is_empty() {
                return Err(ConfigError {
                    key: k("families"),
                    line: Some(src.line(anchor.span())),
                    message: "at least one family is needed".into(),
                });
            }
            out
        }
    };
    let md5_key = match raw.md5_key {
        Some(v) if v.get_ref().is_empty() || v.get_ref().len() > MD5_KEY_MAX => {
            return Err(src.err(
                &k("md5_key"),
                v,
                format!("an MD5 key is 1 to {MD5_KEY_MAX} bytes"),
            ));
        }
        v => v.as_ref().map(|v| v.get_ref().clone()),
    };
    let min_ttl = match raw.min_ttl {
        None => None,
        Some(v) => {
            let t: u8 = src.int(&k("min_ttl"), v, "a TTL (1..=255)")?;
            if t == 0 {
                return Err(src.err(&k("min_ttl"), v, "a minimum TTL is 1 to 255 (RFC 5082)"));
            }
            Some(t)
        }
    };
    let rules = |field: &str,
                 list: &Option<Vec<Spanned<String>>>|
     -> Result<Option<Vec<PrefixRule>>, ConfigError> {
        list.as_ref()
            .map(|l| {
                l.iter()
                    .enumerate()
                    .map(|(j, s)| {
                        parse_prefix_rule(s.get_ref())
                            .map_err(|m| src.err(&format!("{table}.{field}[{j}]"), s, m))
                    })
                    .collect()
            })
            .transpose()
    };
    let communities = raw
        .communities
        .iter()
        .enumerate()
        .map(|(j, c)| {
            parse_community(c.get_ref())
                .map_err(|m| src.err(&format!("{table}.communities[{j}]"), c, m))
        })
        .collect::<Result<_, _>>()?;
    let max_prefix = match raw.max_prefix {
        None => None,
        Some(v) => {
            let m: u32 = src.int(&k("max_prefix"), v, "a prefix count")?;
            if m == 0 {
                return Err(src.err(
                    &k("max_prefix"),
                    v,
                    "max_prefix must be at least 1 (omit it for no limit)",
                ));
            }
            Some(m)
        }
    };
    if raw.route_server_client && raw.route_reflector_client {
        return Err(src.err(
            &k("route_server_client"),
            anchor,
            "a neighbour cannot be both a route server client and a route reflector client",
        ));
    }
    let mrai = match raw.mrai {
        None => None,
        Some(v) => Some(src.int(&k("mrai"), v, "a time in seconds (0..=65535)")?),
    };
    let next_hop_v4 = raw
        .next_hop_v4
        .as_ref()
        .map(|v| src.ipv4(&k("next_hop_v4"), v))
        .transpose()?;
    let next_hop_v6 = match raw.next_hop_v6 {
        None => None,
        Some(v) => Some(v.get_ref().parse::<std::net::Ipv6Addr>().map_err(|_| {
            src.err(
                &k("next_hop_v6"),
                v,
                format!("{:?} is not an IPv6 address", v.get_ref()),
            )
        })?),
    };
    Ok(PeerOptions {
        hold_time,
        keepalive_time,
        delay_open_time: src.seconds(&k("delay_open_time"), raw.delay_open_time, 0)?,
        route_server_client: raw.route_server_client,
        route_reflector_client: raw.route_reflector_client,
        add_path,
        families,
        md5_key,
        min_ttl,
        import: rules("import", raw.import)?,
        export: rules("export", raw.export)?,
        med: raw
            .med
            .as_ref()
            .map(|v| src.int(&k("med"), v, "a MED (0..=4294967295)"))
            .transpose()?,
        local_pref: raw
            .local_pref
            .as_ref()
            .map(|v| src.int(&k("local_pref"), v, "a LOCAL_PREF (0..=4294967295)"))
            .transpose()?,
        communities,
        max_prefix,
        enforce_first_as: raw.enforce_first_as,
        keep_received_routes: raw.keep_received_routes,
        mrai,
        next_hop_v4,
        next_hop_v6,
    })
}
