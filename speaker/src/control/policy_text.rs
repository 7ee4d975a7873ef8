//! A neighbour's import or export policy in words, one line per rule, as
//! `show neighbor` prints it: `rule 1: prefix in 198.18.0.0/15 le 24 ->
//! accept, set LOCAL_PREF 200`.

use std::fmt::Write;

use super::dump::{community, large_community as large};
use nexthop_router::policy::{Action, Match, Policy, Verdict};
use nexthop_router::prefix::PrefixRange;

fn range(r: &PrefixRange) -> String {
    let own = r.prefix.prefix_len();
    match (r.ge == own, r.le == own) {
        (true, true) => r.prefix.to_string(),
        (true, false) => format!("{} le {}", r.prefix, r.le),
        (false, _) => format!("{} ge {} le {}", r.prefix, r.ge, r.le),
    }
}

fn condition(m: &Match) -> String {
    match m {
        Match::Prefix(ranges) => {
            let list: Vec<String> = ranges.iter().map(range).collect();
            format!("prefix in [{}]", list.join(", "))
        }
        Match::AsPathContains(a) => format!("AS_PATH contains {a}"),
        Match::OriginAs(a) => format!("origin AS {a}"),
        Match::NeighborAs(a) => format!("neighbour AS {a}"),
        Match::AsPathLength { min, max } => format!("AS_PATH length {min}..={max}"),
        Match::Community(c) => format!("community {}", community(*c)),
        Match::LargeCommunity(c) => format!("large community {}", large(*c)),
        Match::Not(inner) => format!("not ({})", condition(inner)),
    }
}

fn action(a: &Action) -> String {
    match a {
        Action::SetMed(v) => format!("set MED {v}"),
        Action::ClearMed => "remove MED".to_string(),
        Action::SetLocalPref(v) => format!("set LOCAL_PREF {v}"),
        Action::AddCommunity(c) => format!("add community {}", community(*c)),
        Action::RemoveCommunity(c) => format!("remove community {}", community(*c)),
        Action::AddLargeCommunity(c) => format!("add large community {}", large(*c)),
        Action::RemoveLargeCommunity(c) => format!("remove large community {}", large(*c)),
        Action::Prepend { asn, count } => format!("prepend {asn} x{count}"),
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Accept => "accept",
        Verdict::Reject => "reject",
    }
}

/// One line per rule, then the default.
pub(crate) fn policy_lines(policy: &Policy) -> Vec<String> {
    let mut lines = Vec::with_capacity(policy.rules.len() + 1);
    for (k, rule) in policy.rules.iter().enumerate() {
        let mut line = format!("rule {}: ", k + 1);
        if rule.matches.is_empty() {
            line.push_str("any route");
        } else {
            let c: Vec<String> = rule.matches.iter().map(condition).collect();
            line.push_str(&c.join(" and "));
        }
        let _ = write!(line, " -> {}", verdict(rule.verdict));
        for a in &rule.actions {
            let _ = write!(line, ", {}", action(a));
        }
        lines.push(line);
    }
    lines.push(format!("default: {}", verdict(policy.default)));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use nexthop_router::attributes::Community;
    use nexthop_router::policy::Rule;

    #[test]
    fn rules_read_in_words() {
        let p = Policy {
            rules: vec![
                Rule {
                    matches: vec![Match::Prefix(vec![PrefixRange {
                        prefix: "198.18.0.0/15".parse().unwrap(),
                        ge: 15,
                        le: 24,
                    }])],
                    actions: vec![
                        Action::SetLocalPref(200),
                        Action::AddCommunity(Community(0xffff_0000)),
                    ],
                    verdict: Verdict::Accept,
                },
                Rule {
                    matches: Vec::new(),
                    actions: Vec::new(),
                    verdict: Verdict::Reject,
                },
            ],
            default: Verdict::Reject,
        };
        assert_eq!(
            policy_lines(&p),
            vec![
                "rule 1: prefix in [198.18.0.0/15 le 24] -> accept, set LOCAL_PREF 200, add community graceful-shutdown",
                "rule 2: any route -> reject",
                "default: reject",
            ]
        );
    }
}
