//! Reading the file: serde's raw, span-carrying structs, and their check into
//! [`Config`] value by value, with the key and line of every error.

use super::*;

use serde::Deserialize;
use toml::Spanned;

mod control;
#[macro_use]
mod peer_options;
use peer_options::{RawPeerOptions, peer_options};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    router: RawRouter,
    #[serde(default)]
    neighbor: Vec<RawNeighbor>,
    #[serde(default)]
    dynamic_neighbor: Vec<RawDynamicNeighbor>,
    #[serde(default)]
    originate: Vec<RawOriginate>,
    #[serde(default)]
    control: Option<control::RawControl>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRouter {
    asn: Spanned<i64>,
    router_id: Spanned<String>,
    #[serde(default)]
    listen: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    runtime: Option<Spanned<String>>,
    #[serde(default)]
    cluster_id: Option<Spanned<String>>,
}

raw_peer_table!(RawNeighbor {
    address: Spanned<String>,
    remote_asn: Spanned<i64>,
    #[serde(default)]
    port: Option<Spanned<i64>>,
    #[serde(default)]
    passive: bool,
    #[serde(default)]
    connect_retry_time: Option<Spanned<i64>>,
    #[serde(default)]
    idle_hold_time: Option<Spanned<i64>>,
    #[serde(default = "yes")]
    jitter: bool,
    #[serde(default)]
    bind_addr: Option<Spanned<String>>,
});

fn yes() -> bool {
    true
}

raw_peer_table!(RawDynamicNeighbor {
    prefix: Spanned<String>,
    remote_asn: Spanned<i64>,
});

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOriginate {
    prefix: Spanned<String>,
    #[serde(default)]
    next_hop: Option<Spanned<String>>,
    #[serde(default)]
    communities: Vec<Spanned<String>>,
    #[serde(default)]
    large_communities: Vec<Spanned<String>>,
}

/// Turns byte spans into line numbers and builds errors.
struct Source<'a> {
    text: &'a str,
}

impl Source<'_> {
    fn line(&self, span: Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    /// The dotted key that the 1-based `line` sets, as far as a line-by-line
    /// reading can tell: `neighbor[1].hold_time` for `hold_time = ..` in the second
    /// `[[neighbor]]` table. Empty where the line sets no key.
    fn key_at(&self, line: usize) -> String {
        let mut table = String::new();
        let mut counts: Vec<(String, usize)> = Vec::new();
        let mut key = String::new();
        for text in self.text.lines().take(line) {
            let t = text.trim();
            key.clear();
            if let Some(name) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
                let name = name.trim().to_string();
                let n = match counts.iter_mut().find(|(k, _)| *k == name) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counts.push((name.clone(), 0));
                        0
                    }
                };
                table = format!("{name}[{n}]");
            } else if let Some(name) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
                table = name.trim().to_string();
            } else if let Some((k, _)) = t.split_once('=') {
                key = k.trim().to_string();
            }
        }
        match (table.is_empty(), key.is_empty()) {
            (_, true) => table,
            (true, false) => key,
            (false, false) => format!("{table}.{key}"),
        }
    }

    fn err<T>(&self, key: &str, v: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.to_string(),
            line: Some(self.line(v.span())),
            message: message.into(),
        }
    }

    fn int<T: TryFrom<i64>>(
        &self,
        key: &str,
        v: &Spanned<i64>,
        what: &str,
    ) -> Result<T, ConfigError> {
        T::try_from(*v.get_ref()).map_err(|_| {
            self.err(
                key,
                v,
                format!("{} is out of range for {what}", v.get_ref()),
            )
        })
    }

    fn asn(&self, key: &str, v: &Spanned<i64>) -> Result<u32, ConfigError> {
        let asn: u32 = self.int(key, v, "an AS number (1..=4294967295)")?;
        if asn == 0 {
            return Err(self.err(key, v, "AS 0 is reserved (RFC 7607)"));
        }
        Ok(asn)
    }

    fn ipv4(&self, key: &str, v: &Spanned<String>) -> Result<Ipv4Addr, ConfigError> {
        v.get_ref()
            .parse()
            .map_err(|_| self.err(key, v, format!("{:?} is not an IPv4 address", v.get_ref())))
    }

    fn ip(&self, key: &str, v: &Spanned<String>) -> Result<IpAddr, ConfigError> {
        v.get_ref()
            .parse()
            .map_err(|_| self.err(key, v, format!("{:?} is not an IP address", v.get_ref())))
    }

    fn prefix(&self, key: &str, v: &Spanned<String>) -> Result<Prefix, ConfigError> {
        parse_prefix(v.get_ref()).map_err(|m| self.err(key, v, m))
    }

    /// A keyword such as `"mio"` or `"both"`, read by its type's `FromStr`.
    fn named<T: std::str::FromStr<Err = ConfigError>>(
        &self,
        key: &str,
        v: &Spanned<String>,
    ) -> Result<T, ConfigError> {
        v.get_ref()
            .parse()
            .map_err(|e: ConfigError| self.err(key, v, e.message))
    }

    fn seconds(
        &self,
        key: &str,
        v: &Option<Spanned<i64>>,
        default: u16,
    ) -> Result<u16, ConfigError> {
        match v {
            None => Ok(default),
            Some(v) => self.int(key, v, "a time in seconds (0..=65535)"),
        }
    }
}

pub(super) fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let (addr, len) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not a prefix (ADDRESS/LENGTH)"))?;
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an IP address"))?;
    let len: u8 = len
        .parse()
        .map_err(|_| format!("{len:?} is not a prefix length"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if len > max {
        return Err(format!("prefix length {len} exceeds {max}"));
    }
    let masked = mask(addr, len);
    if masked != addr {
        return Err(format!(
            "{s} has host bits set; did you mean {masked}/{len}?"
        ));
    }
    Ok(Prefix { addr, len })
}

fn mask(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let m = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            IpAddr::V6((u128::from(a) & m).into())
        }
    }
}

pub(super) fn parse_prefix_rule(s: &str) -> Result<PrefixRule, String> {
    let mut words = s.split_whitespace();
    let prefix = parse_prefix(words.next().unwrap_or(""))?;
    let max = if prefix.addr.is_ipv4() { 32 } else { 128 };
    let (mut ge, mut le) = (prefix.len, prefix.len);
    let mut saw_ge = false;
    while let Some(w) = words.next() {
        let n: u8 = words
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("{w:?} must be followed by a prefix length"))?;
        match w {
            "ge" => {
                ge = n;
                saw_ge = true;
                if le < n {
                    le = max;
                }
            }
            "le" => le = n,
            other => return Err(format!("unknown word {other:?}; expected `ge N` or `le N`")),
        }
    }
    if saw_ge && le == prefix.len {
        le = max;
    }
    if !(prefix.len <= ge && ge <= le && le <= max) {
        return Err(format!(
            "need {} <= ge ({ge}) <= le ({le}) <= {max}",
            prefix.len
        ));
    }
    Ok(PrefixRule { prefix, ge, le })
}

pub(super) fn parse_community(s: &str) -> Result<Community, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str| {
        p.parse::<u32>()
            .map_err(|_| format!("{p:?} in {s:?} is not a number"))
    };
    match parts.as_slice() {
        [a, v] => {
            let (a, v) = (num(a)?, num(v)?);
            if a > 0xffff || v > 0xffff {
                return Err(format!(
                    "{s:?}: a standard community is two 16-bit numbers (RFC 1997)"
                ));
            }
            Ok(Community::Standard((a << 16) | v))
        }
        [a, b, c] => Ok(Community::Large([num(a)?, num(b)?, num(c)?])),
        _ => Err(format!(
            "{s:?} is not a community (ASN:VALUE, or ASN:DATA1:DATA2 for a large one)"
        )),
    }
}

fn originate(src: &Source<'_>, i: usize, o: &RawOriginate) -> Result<Originate, ConfigError> {
    let k = |f: &str| format!("originate[{i}].{f}");
    let prefix = src.prefix(&k("prefix"), &o.prefix)?;
    let next_hop = match &o.next_hop {
        None => None,
        Some(v) => {
            let a = src.ip(&k("next_hop"), v)?;
            if a.is_ipv4() != prefix.addr.is_ipv4() {
                return Err(src.err(
                    &k("next_hop"),
                    v,
                    format!("next hop {a} is not of the family of {prefix}"),
                ));
            }
            if a.is_unspecified() || a.is_multicast() {
                return Err(src.err(
                    &k("next_hop"),
                    v,
                    format!("{a} cannot be a next hop (RFC 4271 §6.3)"),
                ));
            }
            Some(a)
        }
    };
    let mut communities = Vec::new();
    for (j, c) in o.communities.iter().enumerate() {
        match parse_community(c.get_ref()) {
            Ok(Community::Standard(v)) => communities.push(v),
            Ok(Community::Large(_)) => {
                return Err(src.err(
                    &format!("originate[{i}].communities[{j}]"),
                    c,
                    format!(
                        "{:?} is a large community; put it in large_communities",
                        c.get_ref()
                    ),
                ));
            }
            Err(m) => return Err(src.err(&format!("originate[{i}].communities[{j}]"), c, m)),
        }
    }
    let mut large_communities = Vec::new();
    for (j, c) in o.large_communities.iter().enumerate() {
        match parse_community(c.get_ref()) {
            Ok(Community::Large(v)) => large_communities.push(v),
            Ok(Community::Standard(_)) => {
                return Err(src.err(
                    &format!("originate[{i}].large_communities[{j}]"),
                    c,
                    format!(
                        "{:?} is not a large community (ASN:DATA1:DATA2, RFC 8092)",
                        c.get_ref()
                    ),
                ));
            }
            Err(m) => {
                return Err(src.err(&format!("originate[{i}].large_communities[{j}]"), c, m));
            }
        }
    }
    Ok(Originate {
        prefix,
        next_hop,
        communities,
        large_communities,
    })
}

impl Config {
    /// Parses and validates a config file's text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let src = Source { text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| src.line(s));
            ConfigError {
                key: line.map(|l| src.key_at(l)).unwrap_or_default(),
                line,
                message: e.message().trim().to_string(),
            }
        })?;

        let r = &raw.router;
        let router_id = src.ipv4("router.router_id", &r.router_id)?;
        if router_id.is_unspecified() {
            return Err(src.err(
                "router.router_id",
                &r.router_id,
                "0.0.0.0 is not a valid BGP Identifier (RFC 6286)",
            ));
        }
        let listen = match &r.listen {
            None => vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), BGP_PORT)],
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let key = format!("router.listen[{i}]");
                    let s = l.get_ref();
                    s.parse::<SocketAddr>()
                        .or_else(|_| s.parse::<IpAddr>().map(|a| SocketAddr::new(a, BGP_PORT)))
                        .map_err(|_| {
                            src.err(&key, l, format!("{s:?} is not ADDRESS or ADDRESS:PORT"))
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let runtime = r
            .runtime
            .as_ref()
            .map(|v| src.named("router.runtime", v))
            .transpose()?;
        let cluster_id = r
            .cluster_id
            .as_ref()
            .map(|c| src.ipv4("router.cluster_id", c))
            .transpose()?;
        let router = Router {
            asn: src.asn("router.asn", &r.asn)?,
            router_id,
            listen,
            runtime,
            cluster_id,
        };

        let mut seen = HashSet::new();
        let mut neighbors = Vec::new();
        for (i, n) in raw.neighbor.iter().enumerate() {
            let k = |f: &str| format!("neighbor[{i}].{f}");
            let address = src.ip(&k("address"), &n.address)?;
            if !seen.insert(address) {
                return Err(src.err(
                    &k("address"),
                    &n.address,
                    format!("{address} is configured twice"),
                ));
            }
            let bind_addr = n
                .bind_addr
                .as_ref()
                .map(|b| src.ip(&k("bind_addr"), b))
                .transpose()?;
            if let (Some(b), Some(v)) = (bind_addr, &n.bind_addr)
                && b.is_ipv4() != address.is_ipv4()
            {
                return Err(src.err(
                    &k("bind_addr"),
                    v,
                    "bind address and neighbour address are of different families",
                ));
            }
            let port = match &n.port {
                None => BGP_PORT,
                Some(v) => {
                    let p: u16 = src.int(&k("port"), v, "a TCP port (1..=65535)")?;
                    if p == 0 {
                        return Err(src.err(&k("port"), v, "port 0 is not a TCP port"));
                    }
                    p
                }
            };
            let o = peer_options(
                &src,
                &format!("neighbor[{i}]"),
                &n.address,
                address.is_ipv4(),
                n.peer_options(),
            )?;
            let mut neighbor =
                Neighbor::with_options(address, src.asn(&k("remote_asn"), &n.remote_asn)?, o);
            neighbor.port = port;
            neighbor.passive = n.passive;
            neighbor.bind_addr = bind_addr;
            neighbor.connect_retry_time =
                src.seconds(&k("connect_retry_time"), &n.connect_retry_time, 120)?;
            neighbor.idle_hold_time = src.seconds(&k("idle_hold_time"), &n.idle_hold_time, 0)?;
            neighbor.jitter = n.jitter;
            neighbors.push(neighbor);
        }

        let dynamic_neighbors: Vec<DynamicNeighbor> = raw
            .dynamic_neighbor
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let table = format!("dynamic_neighbor[{i}]");
                let prefix = src.prefix(&format!("{table}.prefix"), &d.prefix)?;
                Ok(DynamicNeighbor {
                    prefix,
                    remote_asn: src.asn(&format!("{table}.remote_asn"), &d.remote_asn)?,
                    options: peer_options(
                        &src,
                        &table,
                        &d.prefix,
                        prefix.addr.is_ipv4(),
                        d.peer_options(),
                    )?,
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        // The kernel's TCP-MD5 keys go by longest prefix with no "no key"
        // entry: a neighbour inside a keyed range would be asked to sign with
        // the range's key. Say so here rather than refuse its connections.
        for (i, n) in neighbors.iter().enumerate() {
            if n.md5_key.is_some() {
                continue;
            }
            let keyed = dynamic_neighbors.iter().position(|d: &DynamicNeighbor| {
                d.options.md5_key.is_some()
                    && crate::neighbor::in_range(&d.prefix, n.address.to_canonical())
            });
            if let Some(j) = keyed {
                return Err(src.err(
                    &format!("neighbor[{i}].md5_key"),
                    &raw.neighbor[i].address,
                    format!(
                        "{} lies in dynamic_neighbor[{j}]'s range, which has an md5_key: give it its own md5_key",
                        n.address
                    ),
                ));
            }
        }
        let originate = raw
            .originate
            .iter()
            .enumerate()
            .map(|(i, o)| originate(&src, i, o))
            .collect::<Result<_, ConfigError>>()?;

        let control = match &raw.control {
            None => Control::default(),
            Some(c) => control::control(&src, c)?,
        };

        Ok(Config {
            router,
            neighbors,
            dynamic_neighbors,
            originate,
            control,
        })
    }
}
