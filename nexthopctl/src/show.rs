//! Tables and lines for people, from the API's JSON.

use std::fmt::Write as _;

use nexthop_control::text::{self, duration};
use nexthop_control::{
    ActionResult, Explain, ExplainTo, NeighborDetail, NeighborSummary, ReloadResult, Route,
    RouteSummary, Status, WatchEvent,
};
use serde::de::DeserializeOwned;

fn parse<T: DeserializeOwned>(v: &serde_json::Value) -> Result<T, String> {
    T::deserialize(v).map_err(|e| format!("unexpected answer from the daemon ({e})"))
}

pub fn status(v: &serde_json::Value) -> Result<String, String> {
    let s: Status = parse(v)?;
    Ok(format!(
        "nexthopd {} ({} runtime), AS {}, router ID {}, up {}\nneighbors: {} configured or dynamic, {} Established{}",
        s.version,
        s.runtime,
        s.asn,
        s.router_id,
        duration(s.uptime_s),
        s.neighbors,
        s.established,
        if s.shutting_down {
            "; shutting down"
        } else {
            ""
        }
    ))
}

pub fn neighbors(v: &serde_json::Value) -> Result<String, String> {
    let rows: Vec<NeighborSummary> = parse(v)?;
    Ok(text::neighbors(&rows))
}

pub fn neighbor(v: &serde_json::Value) -> Result<String, String> {
    let n: NeighborDetail = parse(v)?;
    let s = &n.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "neighbor {}, AS {}{}{}",
        s.address,
        s.remote_asn.map_or("?".into(), |a| a.to_string()),
        if s.dynamic { ", dynamic" } else { "" },
        if s.disabled { ", DISABLED" } else { "" }
    );
    let _ = writeln!(
        out,
        "  state {}{}, flaps {}",
        s.state,
        match (s.uptime_s, s.downtime_s) {
            (Some(u), _) => format!(" for {}", duration(u)),
            (None, Some(d)) => format!(", down for {}", duration(d)),
            _ => String::new(),
        },
        s.flaps
    );
    if let Some(e) = &s.last_error {
        let _ = writeln!(out, "  last error: {} ({} ago)", e.text, duration(e.age_s));
    }
    if let Some(g) = n.graceful_shutdown_in_s {
        let _ = writeln!(out, "  graceful shutdown: Cease in {}", duration(g));
    }
    if let Some(x) = &n.negotiated {
        let _ = writeln!(
            out,
            "  negotiated: router ID {}, hold {} s, keepalive {} s, {}{}",
            x.peer_router_id,
            x.hold_time_s,
            x.keepalive_s,
            if x.internal { "iBGP" } else { "eBGP" },
            x.local_address
                .map_or(String::new(), |a| format!(", local address {a}"))
        );
        let fams: Vec<String> = x.families.iter().map(|f| f.to_string()).collect();
        let mut caps = vec![format!("families {}", fams.join(" "))];
        for (on, name) in [
            (x.four_octet_as, "4-octet AS"),
            (x.route_refresh, "route refresh"),
            (x.enhanced_route_refresh, "enhanced route refresh"),
            (x.extended_message, "extended message"),
            (x.graceful_restart, "graceful restart"),
        ] {
            if on {
                caps.push(name.into());
            }
        }
        for (f, mode) in &x.add_path {
            caps.push(format!("ADD-PATH {f} {mode}"));
        }
        let _ = writeln!(out, "  capabilities: {}", caps.join(", "));
    }
    let _ = writeln!(out, "  prefixes      received   accepted advertised");
    for f in &s.families {
        let _ = writeln!(
            out,
            "    {:<10} {:>10} {:>10} {:>10}",
            f.family.to_string(),
            f.received,
            f.accepted,
            f.advertised
        );
    }
    let _ = writeln!(
        out,
        "  messages        open   update  notif  keepalive  refresh        bytes"
    );
    for (dir, m) in [
        ("received", &n.messages_received),
        ("sent", &n.messages_sent),
    ] {
        let _ = writeln!(
            out,
            "    {:<10} {:>6} {:>8} {:>6} {:>10} {:>8} {:>12}",
            dir, m.open, m.update, m.notification, m.keepalive, m.route_refresh, m.bytes
        );
    }
    for x in &n.notifications {
        let _ = writeln!(
            out,
            "  NOTIFICATION {} {}/{} {}: {}",
            x.direction, x.code, x.subcode, x.name, x.count
        );
    }
    if let Some(g) = n.update_group {
        let _ = writeln!(
            out,
            "  update group {g}, {} bytes waiting",
            n.output_pending_bytes
        );
    }
    for (k, v) in &n.config {
        let _ = writeln!(out, "  config {k} = {v}");
    }
    for (name, rules) in [("import", &n.import_policy), ("export", &n.export_policy)] {
        let _ = writeln!(out, "  {name} policy:");
        for r in rules {
            let _ = writeln!(out, "    {r}");
        }
    }
    Ok(out)
}

pub const ROUTE_HEADER: &str = "   PREFIX                                     NEXT HOP                    LOCPRF      MED  AGE       FROM / AS PATH";

pub fn route(r: &Route) -> String {
    let mut s = format!(
        "{} {:<42} {:<26} {:>7} {:>8}  {:<9} {} [{}] {}",
        if r.best { "*>" } else { "* " },
        if r.path_id != 0 {
            format!("{} id {}", r.prefix, r.path_id)
        } else {
            r.prefix.clone()
        },
        r.next_hop.map_or("-".into(), |n| n.to_string()),
        r.local_pref.map_or("-".into(), |v| v.to_string()),
        r.med.map_or("-".into(), |v| v.to_string()),
        duration(r.age_s),
        r.from.map_or("local".into(), |f| f.to_string()),
        r.as_path,
        r.origin
    );
    if !r.communities.is_empty() {
        let _ = write!(s, " communities {}", r.communities.join(" "));
    }
    if !r.large_communities.is_empty() {
        let _ = write!(s, " large {}", r.large_communities.join(" "));
    }
    if let Some(o) = r.originator_id {
        let _ = write!(s, " originator {o}");
    }
    if !r.cluster_list.is_empty() {
        let c: Vec<String> = r.cluster_list.iter().map(|c| c.to_string()).collect();
        let _ = write!(s, " cluster-list {}", c.join(" "));
    }
    s
}

pub fn summary(v: &serde_json::Value) -> Result<String, String> {
    let s: RouteSummary = parse(v)?;
    Ok(text::summary(&s))
}

pub fn explain(v: &serde_json::Value) -> Result<String, String> {
    let e: Explain = parse(v)?;
    let mut out = format!("{}: {} candidate path(s)\n", e.prefix, e.candidates.len());
    for c in &e.candidates {
        let _ = writeln!(out, "{}", route(&c.route));
        let _ = writeln!(
            out,
            "     {}{}",
            c.reason,
            c.excluded
                .as_ref()
                .map_or(String::new(), |x| format!(" (excluded: {x})"))
        );
    }
    if e.candidates.is_empty() {
        out.push_str("no path\n");
    }
    Ok(out)
}

pub fn explain_to(v: &serde_json::Value) -> Result<String, String> {
    let e: ExplainTo = parse(v)?;
    let mut out = if e.advertised {
        format!("{} is advertised to {}\n", e.prefix, e.neighbor)
    } else {
        format!(
            "{} is not advertised to {}: {}{}\n",
            e.prefix,
            e.neighbor,
            e.reason,
            e.reason_code
                .as_ref()
                .map_or(String::new(), |c| format!(" [{c}]"))
        )
    };
    for r in &e.sent {
        let _ = writeln!(out, "{}", route(r));
    }
    Ok(out)
}

pub fn message(v: &serde_json::Value) -> Result<String, String> {
    let m: ActionResult = parse(v)?;
    Ok(m.message)
}

pub fn reload(v: &serde_json::Value) -> Result<String, String> {
    let r: ReloadResult = parse(v)?;
    Ok(format!(
        "reloaded: {} added, {} removed, {} changed, {} unchanged",
        r.added, r.removed, r.changed, r.unchanged
    ))
}

pub fn event(e: &WatchEvent) -> String {
    match e {
        WatchEvent::State {
            time_ms,
            neighbor,
            from,
            to,
            reason,
        } => format!(
            "{} {neighbor} {from} -> {to}{}",
            time(*time_ms),
            reason.as_ref().map_or(String::new(), |r| format!(" ({r})"))
        ),
        WatchEvent::BestPath {
            time_ms,
            prefix,
            best,
        } => match best {
            Some(r) => format!(
                "{} {prefix} best via {} [{}] next hop {}",
                time(*time_ms),
                r.from.map_or("local".into(), |f| f.to_string()),
                r.as_path,
                r.next_hop.map_or("-".into(), |n| n.to_string())
            ),
            None => format!("{} {prefix} withdrawn", time(*time_ms)),
        },
        WatchEvent::Lost {
            time_ms,
            count,
            message,
        } => format!("{} LOST {count} event(s): {message}", time(*time_ms)),
    }
}

/// Milliseconds since the epoch as `HH:MM:SS.mmm` UTC.
fn time(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600 % 24,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}
