//! Per-neighbour routing policy: an ordered list of rules, each a set of matches
//! and the actions to take when all of them hold, ending in accept or reject. The
//! first rule that matches decides; if none does, the policy's default does.
//!
//! The neighbour parameters of the configuration (prefix allow-lists, MED,
//! LOCAL_PREF and communities to attach) compile into such a list
//! ([`NeighborPolicy::compile`]), and the same form can carry a policy language.

use crate::as_path::SegmentType;
use crate::attributes::{Attributes, Community, LargeCommunity};
use crate::prefix::{IpPrefix, PrefixRange};

/// One condition on a route.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Match {
    /// The prefix lies in one of these ranges (a prefix list).
    Prefix(Vec<PrefixRange>),
    /// The AS_PATH contains this AS anywhere.
    AsPathContains(u32),
    /// The originating AS (the last AS of the AS_PATH's last AS_SEQUENCE) is this.
    OriginAs(u32),
    /// The neighbouring AS (the first of the AS_PATH) is this.
    NeighborAs(u32),
    /// The AS_PATH length, as the decision process counts it, lies in `min..=max`.
    AsPathLength {
        /// Shortest accepted.
        min: u32,
        /// Longest accepted.
        max: u32,
    },
    /// The route carries this community.
    Community(Community),
    /// The route carries this large community.
    LargeCommunity(LargeCommunity),
    /// The negation of the inner match.
    Not(Box<Match>),
}

impl Match {
    /// Whether the route (`prefix` with `attrs`) satisfies the condition.
    pub fn matches(&self, prefix: &IpPrefix, attrs: &Attributes) -> bool {
        match self {
            Match::Prefix(ranges) => ranges.iter().any(|r| r.matches(prefix)),
            Match::AsPathContains(asn) => attrs.as_path.contains(*asn),
            Match::OriginAs(asn) => origin_as(attrs) == Some(*asn),
            Match::NeighborAs(asn) => attrs.as_path.neighbor_as() == Some(*asn),
            Match::AsPathLength { min, max } => {
                (*min..=*max).contains(&attrs.as_path.route_selection_len())
            }
            Match::Community(c) => attrs.communities.binary_search(c).is_ok(),
            Match::LargeCommunity(c) => attrs.large_communities.binary_search(c).is_ok(),
            Match::Not(m) => !m.matches(prefix, attrs),
        }
    }
}

/// The AS that originated the route: the last AS of the path when it ends in an
/// AS_SEQUENCE (an aggregate ending in an AS_SET has no single origin).
pub fn origin_as(attrs: &Attributes) -> Option<u32> {
    let last = attrs
        .as_path
        .segments
        .iter()
        .rev()
        .find(|s| !s.kind.is_confed())?;
    match last.kind {
        SegmentType::Sequence => last.asns.last().copied(),
        _ => None,
    }
}

/// One change to a route's attributes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Set MULTI_EXIT_DISC.
    SetMed(u32),
    /// Remove MULTI_EXIT_DISC.
    ClearMed,
    /// Set LOCAL_PREF (on import: the degree of preference, RFC 4271 §9.1.1).
    SetLocalPref(u32),
    /// Add a community.
    AddCommunity(Community),
    /// Remove a community.
    RemoveCommunity(Community),
    /// Add a large community.
    AddLargeCommunity(LargeCommunity),
    /// Remove a large community.
    RemoveLargeCommunity(LargeCommunity),
    /// Prepend an AS this many times (on export to eBGP, after the router's own).
    Prepend {
        /// The AS.
        asn: u32,
        /// How many times.
        count: u8,
    },
}

impl Action {
    /// Applies the action to `attrs`.
    pub fn apply(&self, attrs: &mut Attributes) {
        match *self {
            Action::SetMed(m) => attrs.med = Some(m),
            Action::ClearMed => attrs.med = None,
            Action::SetLocalPref(l) => attrs.local_pref = Some(l),
            Action::AddCommunity(c) => attrs.add_community(c),
            Action::RemoveCommunity(c) => attrs.communities.retain(|x| *x != c),
            Action::AddLargeCommunity(c) => attrs.add_large_community(c),
            Action::RemoveLargeCommunity(c) => attrs.large_communities.retain(|x| *x != c),
            Action::Prepend { asn, count } => {
                for _ in 0..count {
                    attrs.as_path.prepend(asn);
                }
            }
        }
    }
}

/// What a rule does with a route it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Take the route, with the rule's actions applied.
    Accept,
    /// Drop the route.
    Reject,
}

/// A rule: when every match holds, apply the actions and give the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// Conditions, all of which must hold (none: always).
    pub matches: Vec<Match>,
    /// Changes to make on accept.
    pub actions: Vec<Action>,
    /// Accept or reject.
    pub verdict: Verdict,
}

/// An ordered rule list with a default verdict.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    /// The rules, first match wins.
    pub rules: Vec<Rule>,
    /// The verdict when no rule matches (taken without actions).
    pub default: Verdict,
}

impl Default for Policy {
    /// Accept everything unchanged.
    fn default() -> Self {
        Policy {
            rules: Vec::new(),
            default: Verdict::Accept,
        }
    }
}

/// The result of a policy for one route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Drop the route.
    Reject,
    /// Take it, applying the actions of rule `Some(i)` (none for `None`).
    Accept(Option<u16>),
}

impl Policy {
    /// A policy that accepts everything unchanged.
    pub fn accept_all() -> Self {
        Self::default()
    }

    /// Which rule decides for the route, and its verdict.
    pub fn evaluate(&self, prefix: &IpPrefix, attrs: &Attributes) -> Outcome {
        match self.deciding_rule(prefix, attrs) {
            Some(i) => match self.rules[i].verdict {
                Verdict::Reject => Outcome::Reject,
                Verdict::Accept if self.rules[i].actions.is_empty() => Outcome::Accept(None),
                Verdict::Accept => Outcome::Accept(Some(i as u16)),
            },
            None => match self.default {
                Verdict::Accept => Outcome::Accept(None),
                Verdict::Reject => Outcome::Reject,
            },
        }
    }

    /// The index of the first rule that matches the route, or `None` when the
    /// default decides.
    pub fn deciding_rule(&self, prefix: &IpPrefix, attrs: &Attributes) -> Option<usize> {
        self.rules
            .iter()
            .position(|rule| rule.matches.iter().all(|m| m.matches(prefix, attrs)))
    }

    /// Applies rule `rule`'s actions to `attrs`.
    pub fn apply(&self, rule: u16, attrs: &mut Attributes) {
        if let Some(r) = self.rules.get(usize::from(rule)) {
            for a in &r.actions {
                a.apply(attrs);
            }
            attrs.normalize();
        }
    }
}

/// A neighbour's policy parameters, as the configuration and the seed's session
/// parameters name them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NeighborPolicy {
    /// Prefixes accepted from the neighbour; `None` accepts all (`NoFiltering`).
    pub allow_import: Option<Vec<PrefixRange>>,
    /// Prefixes sent to the neighbour; `None` sends all.
    pub allow_export: Option<Vec<PrefixRange>>,
    /// MULTI_EXIT_DISC attached to routes sent to the neighbour.
    pub med: Option<u32>,
    /// LOCAL_PREF given to routes learned from the neighbour.
    pub local_pref: Option<u32>,
    /// Communities attached to routes sent to the neighbour.
    pub communities: Vec<Community>,
}

impl NeighborPolicy {
    /// The import and export policies these parameters mean.
    pub fn compile(&self) -> (Policy, Policy) {
        let import_actions: Vec<Action> = self
            .local_pref
            .map(Action::SetLocalPref)
            .into_iter()
            .collect();
        let export_actions: Vec<Action> = self
            .med
            .map(Action::SetMed)
            .into_iter()
            .chain(self.communities.iter().copied().map(Action::AddCommunity))
            .collect();
        let one = |allow: &Option<Vec<PrefixRange>>, actions: Vec<Action>| match allow {
            None => Policy {
                rules: vec![Rule {
                    matches: Vec::new(),
                    actions,
                    verdict: Verdict::Accept,
                }],
                default: Verdict::Accept,
            },
            Some(list) => Policy {
                rules: vec![Rule {
                    matches: vec![Match::Prefix(list.clone())],
                    actions,
                    verdict: Verdict::Accept,
                }],
                default: Verdict::Reject,
            },
        };
        (
            one(&self.allow_import, import_actions),
            one(&self.allow_export, export_actions),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::as_path::AsPath;

    fn route(path: &[u32], comms: &[Community]) -> Attributes {
        let mut a = Attributes {
            as_path: AsPath::sequence(path),
            communities: comms.to_vec(),
            ..Default::default()
        };
        a.normalize();
        a
    }

    #[test]
    fn first_matching_rule_decides() {
        let p: IpPrefix = "10.1.0.0/16".parse().unwrap();
        let policy = Policy {
            rules: vec![
                Rule {
                    matches: vec![Match::AsPathContains(666)],
                    actions: vec![],
                    verdict: Verdict::Reject,
                },
                Rule {
                    matches: vec![
                        Match::OriginAs(65003),
                        Match::Community(Community::new(65000, 1)),
                    ],
                    actions: vec![
                        Action::SetLocalPref(200),
                        Action::RemoveCommunity(Community::new(65000, 1)),
                        Action::AddCommunity(Community::new(65000, 2)),
                    ],
                    verdict: Verdict::Accept,
                },
            ],
            default: Verdict::Reject,
        };
        let c1 = Community::new(65000, 1);
        assert_eq!(
            policy.evaluate(&p, &route(&[1, 666, 65003], &[c1])),
            Outcome::Reject
        );
        let good = route(&[1, 65003], &[c1]);
        assert_eq!(policy.evaluate(&p, &good), Outcome::Accept(Some(1)));
        let mut changed = good.clone();
        policy.apply(1, &mut changed);
        assert_eq!(changed.local_pref, Some(200));
        assert_eq!(changed.communities, vec![Community::new(65000, 2)]);
        assert_eq!(
            policy.evaluate(&p, &route(&[1, 65003], &[])),
            Outcome::Reject
        );
    }

    #[test]
    fn as_path_length_and_negation() {
        let p: IpPrefix = "10.1.0.0/16".parse().unwrap();
        let m = Match::AsPathLength { min: 1, max: 2 };
        assert!(m.matches(&p, &route(&[1, 2], &[])));
        assert!(!m.matches(&p, &route(&[1, 2, 3], &[])));
        assert!(Match::Not(Box::new(m)).matches(&p, &route(&[], &[])));
    }

    #[test]
    fn neighbor_parameters_compile_to_allow_lists_and_actions() {
        let np = NeighborPolicy {
            allow_import: Some(vec![PrefixRange::new(
                "10.0.0.0/8".parse().unwrap(),
                None,
                Some(24),
            )]),
            local_pref: Some(150),
            med: Some(7),
            ..Default::default()
        };
        let (import, export) = np.compile();
        let a = route(&[1], &[]);
        assert_eq!(
            import.evaluate(&"10.1.0.0/16".parse().unwrap(), &a),
            Outcome::Accept(Some(0))
        );
        assert_eq!(
            import.evaluate(&"11.0.0.0/8".parse().unwrap(), &a),
            Outcome::Reject
        );
        assert_eq!(
            export.evaluate(&"11.0.0.0/8".parse().unwrap(), &a),
            Outcome::Accept(Some(0))
        );
        let mut e = a.clone();
        export.apply(0, &mut e);
        assert_eq!(e.med, Some(7));
    }
}
