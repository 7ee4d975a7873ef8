//! Text for people: the tables `nexthopctl` prints (and `nexthopd lab`).

use std::fmt::Write as _;

use crate::{NeighborSummary, RouteSummary};

/// Seconds as `1d02h03m`, `5m07s`, `42s`.
pub fn duration(s: u64) -> String {
    let (d, h, m, sec) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d{h:02}h{m:02}m")
    } else if h > 0 {
        format!("{h}h{m:02}m{sec:02}s")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// The neighbours table of `nexthopctl show neighbors`.
pub fn neighbors(rows: &[NeighborSummary]) -> String {
    let mut out = format!(
        "{:<39} {:>10} {:<12} {:>9} {:>8} {:>8} {:>8}  {}\n",
        "NEIGHBOR", "AS", "STATE", "UP/DOWN", "RCVD", "ACC", "ADV", "LAST ERROR"
    );
    for n in rows {
        let updown = match (n.uptime_s, n.downtime_s) {
            (Some(u), _) => duration(u),
            (None, Some(d)) => duration(d),
            (None, None) => "-".into(),
        };
        let mut state = n.state.clone();
        if n.disabled {
            state.push_str("(dis)");
        }
        let _ = writeln!(
            out,
            "{:<39} {:>10} {:<12} {:>9} {:>8} {:>8} {:>8}  {}",
            n.address.to_string(),
            n.remote_asn.map_or("?".into(), |a| a.to_string()),
            state,
            updown,
            n.prefixes_received,
            n.prefixes_accepted,
            n.prefixes_advertised,
            n.last_error
                .as_ref()
                .map_or(String::new(), |e| e.text.clone())
        );
    }
    if rows.is_empty() {
        out.push_str("no neighbors\n");
    }
    out
}

/// The counts table of `nexthopctl show routes --summary`.
pub fn summary(s: &RouteSummary) -> String {
    let mut out = format!("{:<8} {:>10} {:>10}\n", "FAMILY", "PREFIXES", "PATHS");
    for f in &s.families {
        let _ = writeln!(
            out,
            "{:<8} {:>10} {:>10}",
            f.family.to_string(),
            f.prefixes,
            f.paths
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_other_daemons() {
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(307), "5m07s");
        assert_eq!(duration(3 * 3600 + 61), "3h01m01s");
        assert_eq!(duration(86400 + 2 * 3600 + 180), "1d02h03m");
    }
}
