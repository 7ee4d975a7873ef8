//! AS_PATH as the router keeps it (RFC 4271 §5.1.2), with the 4-octet AS
//! transition of RFC 6793 §4.2: AS4_PATH merged in from 2-octet peers, and AS_TRANS
//! plus AS4_PATH generated towards them.

use std::fmt;

/// AS_TRANS, the 2-octet stand-in for a 4-octet AS number (RFC 6793 §2).
pub const AS_TRANS: u32 = 23456;

/// The type of an AS_PATH segment (RFC 4271 §4.3, RFC 5065 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentType {
    /// 1: AS_SET, an unordered set (from aggregation).
    Set,
    /// 2: AS_SEQUENCE, an ordered list.
    Sequence,
    /// 3: AS_CONFED_SEQUENCE (RFC 5065).
    ConfedSequence,
    /// 4: AS_CONFED_SET (RFC 5065).
    ConfedSet,
}

impl SegmentType {
    /// Whether the segment is one of a confederation's (RFC 5065 §3).
    pub const fn is_confed(self) -> bool {
        matches!(self, SegmentType::ConfedSequence | SegmentType::ConfedSet)
    }
}

/// One AS_PATH segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    /// Its type.
    pub kind: SegmentType,
    /// Its AS numbers, in wire order.
    pub asns: Vec<u32>,
}

/// An AS_PATH with 4-octet AS numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AsPath {
    /// The segments, leftmost (most recent) first.
    pub segments: Vec<Segment>,
}

impl AsPath {
    /// A path of one AS_SEQUENCE.
    pub fn sequence(asns: &[u32]) -> Self {
        if asns.is_empty() {
            return AsPath::default();
        }
        AsPath {
            segments: vec![Segment {
                kind: SegmentType::Sequence,
                asns: asns.to_vec(),
            }],
        }
    }

    /// Length as the decision process counts it (RFC 4271 §9.1.2.2 (a)): each AS of
    /// an AS_SEQUENCE counts 1, an AS_SET counts 1 in all, confederation segments
    /// count 0 (RFC 5065 §5.3).
    pub fn route_selection_len(&self) -> u32 {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentType::Sequence => s.asns.len() as u32,
                SegmentType::Set => u32::from(!s.asns.is_empty()),
                SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
            })
            .sum()
    }

    /// Length as RFC 6793 §4.2.3 counts it for the AS_PATH/AS4_PATH merge: like
    /// [`AsPath::route_selection_len`] but confederation segments are not counted
    /// either (they are not in AS4_PATH's count).
    fn as4_merge_len(&self) -> usize {
        self.route_selection_len() as usize
    }

    /// The neighbouring AS (RFC 4271 §9.1.2.2 (c)): the first AS of the first
    /// AS_SEQUENCE, when the path starts with one.
    pub fn neighbor_as(&self) -> Option<u32> {
        match self.segments.first() {
            Some(Segment {
                kind: SegmentType::Sequence,
                asns,
            }) => asns.first().copied(),
            _ => None,
        }
    }

    /// Whether `asn` appears anywhere in the path (AS loop detection, RFC 4271 §9.1.2).
    pub fn contains(&self, asn: u32) -> bool {
        self.segments.iter().any(|s| s.asns.contains(&asn))
    }

    /// Prepends `asn` as eBGP export requires (RFC 4271 §5.1.2): to the first
    /// AS_SEQUENCE if the path starts with one of fewer than 255 ASes, else in a new
    /// AS_SEQUENCE. Confederation segments are removed first (RFC 5065 §5.3).
    pub fn prepend(&mut self, asn: u32) {
        self.segments.retain(|s| !s.kind.is_confed());
        match self.segments.first_mut() {
            Some(s) if s.kind == SegmentType::Sequence && s.asns.len() < 255 => {
                s.asns.insert(0, asn)
            }
            _ => self.segments.insert(
                0,
                Segment {
                    kind: SegmentType::Sequence,
                    asns: vec![asn],
                },
            ),
        }
    }

    /// Rebuilds the real path from a 2-octet peer's AS_PATH (with AS_TRANS in place
    /// of 4-octet ASes) and its AS4_PATH (RFC 6793 §4.2.3).
    ///
    /// If AS_PATH is shorter than AS4_PATH, AS4_PATH is ignored. Otherwise the
    /// leading ASes of AS_PATH that AS4_PATH does not cover are kept (with their
    /// segment types), followed by AS4_PATH.
    pub fn merge_as4(&self, as4_path: &AsPath) -> AsPath {
        let as_len = self.as4_merge_len();
        let as4_len = as4_path.as4_merge_len();
        if as_len < as4_len {
            return self.clone();
        }
        let mut keep = as_len - as4_len;
        let mut merged = AsPath::default();
        for seg in &self.segments {
            if keep == 0 {
                break;
            }
            match seg.kind {
                SegmentType::ConfedSequence | SegmentType::ConfedSet => {
                    merged.segments.push(seg.clone())
                }
                SegmentType::Set => {
                    merged.segments.push(seg.clone());
                    keep -= usize::from(!seg.asns.is_empty());
                }
                SegmentType::Sequence => {
                    let n = keep.min(seg.asns.len());
                    merged.segments.push(Segment {
                        kind: seg.kind,
                        asns: seg.asns[..n].to_vec(),
                    });
                    keep -= n;
                }
            }
        }
        merged.segments.extend(
            as4_path
                .segments
                .iter()
                .filter(|s| !s.kind.is_confed())
                .cloned(),
        );
        merged.normalize();
        merged
    }

    /// The AS_PATH and AS4_PATH to send to a peer without the 4-octet AS capability
    /// (RFC 6793 §4.2.2): each AS over 65535 becomes AS_TRANS in AS_PATH, and an
    /// AS4_PATH (without confederation segments) is sent only when that happened.
    pub fn to_two_octet(&self) -> (AsPath, Option<AsPath>) {
        let needs_as4 = self
            .segments
            .iter()
            .any(|s| s.asns.iter().any(|&a| a > 0xffff));
        if !needs_as4 {
            return (self.clone(), None);
        }
        let two = AsPath {
            segments: self
                .segments
                .iter()
                .map(|s| Segment {
                    kind: s.kind,
                    asns: s
                        .asns
                        .iter()
                        .map(|&a| if a > 0xffff { AS_TRANS } else { a })
                        .collect(),
                })
                .collect(),
        };
        let as4 = AsPath {
            segments: self
                .segments
                .iter()
                .filter(|s| !s.kind.is_confed())
                .cloned()
                .collect(),
        };
        (two, Some(as4))
    }

    /// Joins adjacent AS_SEQUENCE segments while they fit 255 ASes, and drops empty
    /// segments, so equal paths compare equal.
    fn normalize(&mut self) {
        let mut out: Vec<Segment> = Vec::with_capacity(self.segments.len());
        for seg in self.segments.drain(..) {
            if seg.asns.is_empty() {
                continue;
            }
            if let Some(last) = out.last_mut()
                && last.kind == SegmentType::Sequence
                && seg.kind == SegmentType::Sequence
                && last.asns.len() + seg.asns.len() <= 255
            {
                last.asns.extend_from_slice(&seg.asns);
                continue;
            }
            out.push(seg);
        }
        self.segments = out;
    }
}

impl fmt::Display for AsPath {
    /// The conventional text form: `65001 65002 {65003 65004} (65010)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.segments {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            let (open, close) = match seg.kind {
                SegmentType::Sequence => ("", ""),
                SegmentType::Set => ("{", "}"),
                SegmentType::ConfedSequence => ("(", ")"),
                SegmentType::ConfedSet => ("[", "]"),
            };
            f.write_str(open)?;
            for (i, a) in seg.asns.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

/// The aggregator to use from a 2-octet peer's AGGREGATOR and AS4_AGGREGATOR
/// (RFC 6793 §4.2.3): AS4_AGGREGATOR counts only when AGGREGATOR carries AS_TRANS.
/// Returns the aggregator, and whether AS4_PATH must then be ignored (when
/// AGGREGATOR names a real 2-octet AS, the AS4 attributes came from before an
/// aggregation by an old speaker and are stale).
pub fn merge_as4_aggregator(
    aggregator: Option<(u32, u32)>,
    as4_aggregator: Option<(u32, u32)>,
) -> (Option<(u32, u32)>, bool) {
    match (aggregator, as4_aggregator) {
        (Some((AS_TRANS, _)), Some(as4)) => (Some(as4), false),
        (Some(agg), Some(_)) => (Some(agg), true),
        (agg, _) => (agg, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(kind: SegmentType, asns: &[u32]) -> Segment {
        Segment {
            kind,
            asns: asns.to_vec(),
        }
    }

    #[test]
    fn selection_length_counts_sets_once_and_confeds_not() {
        let p = AsPath {
            segments: vec![
                seg(SegmentType::ConfedSequence, &[65010, 65011]),
                seg(SegmentType::Sequence, &[1, 2, 3]),
                seg(SegmentType::Set, &[4, 5, 6]),
            ],
        };
        assert_eq!(p.route_selection_len(), 4);
        assert_eq!(p.neighbor_as(), None);
        assert_eq!(AsPath::sequence(&[7, 8]).neighbor_as(), Some(7));
        assert_eq!(p.to_string(), "(65010 65011) 1 2 3 {4 5 6}");
    }

    #[test]
    fn prepend_joins_the_first_sequence_and_drops_confeds() {
        let mut p = AsPath {
            segments: vec![
                seg(SegmentType::ConfedSequence, &[65010]),
                seg(SegmentType::Sequence, &[2]),
            ],
        };
        p.prepend(1);
        assert_eq!(p, AsPath::sequence(&[1, 2]));
        let mut s = AsPath {
            segments: vec![seg(SegmentType::Set, &[5, 6])],
        };
        s.prepend(1);
        assert_eq!(s.segments[0], seg(SegmentType::Sequence, &[1]));
        let mut full = AsPath::sequence(&[9; 255]);
        full.prepend(1);
        assert_eq!(full.segments.len(), 2);
        let mut empty = AsPath::default();
        empty.prepend(1);
        assert_eq!(empty, AsPath::sequence(&[1]));
    }

    /// RFC 6793 §4.2.3: AS_PATH `65001 23456 23456 65004`, AS4_PATH
    /// `4200000002 4200000003 65004` -> `65001 4200000002 4200000003 65004`.
    #[test]
    fn as4_path_merge_keeps_the_leading_two_octet_ases() {
        let as_path = AsPath::sequence(&[65001, AS_TRANS, AS_TRANS, 65004]);
        let as4 = AsPath::sequence(&[4_200_000_002, 4_200_000_003, 65004]);
        assert_eq!(
            as_path.merge_as4(&as4),
            AsPath::sequence(&[65001, 4_200_000_002, 4_200_000_003, 65004])
        );
    }

    /// RFC 6793 §4.2.3: an AS4_PATH longer than AS_PATH is ignored.
    #[test]
    fn longer_as4_path_is_ignored() {
        let as_path = AsPath::sequence(&[65001, AS_TRANS]);
        let as4 = AsPath::sequence(&[1, 2, 3]);
        assert_eq!(as_path.merge_as4(&as4), as_path);
    }

    #[test]
    fn two_octet_form_uses_as_trans_and_round_trips() {
        let real = AsPath {
            segments: vec![
                seg(SegmentType::Sequence, &[65001, 4_200_000_002]),
                seg(SegmentType::Set, &[4_200_000_009, 7]),
            ],
        };
        let (two, as4) = real.to_two_octet();
        assert_eq!(
            two.segments,
            vec![
                seg(SegmentType::Sequence, &[65001, AS_TRANS]),
                seg(SegmentType::Set, &[AS_TRANS, 7])
            ]
        );
        let as4 = as4.expect("AS4_PATH needed");
        assert_eq!(
            two.merge_as4(&as4),
            AsPath {
                segments: vec![
                    seg(SegmentType::Sequence, &[65001, 4_200_000_002]),
                    seg(SegmentType::Set, &[4_200_000_009, 7])
                ]
            }
        );
        assert_eq!(
            AsPath::sequence(&[1, 2]).to_two_octet(),
            (AsPath::sequence(&[1, 2]), None)
        );
    }

    #[test]
    fn as4_aggregator_counts_only_behind_as_trans() {
        assert_eq!(
            merge_as4_aggregator(Some((AS_TRANS, 1)), Some((4_200_000_001, 1))),
            (Some((4_200_000_001, 1)), false)
        );
        assert_eq!(
            merge_as4_aggregator(Some((65001, 1)), Some((4_200_000_001, 1))),
            (Some((65001, 1)), true)
        );
        assert_eq!(
            merge_as4_aggregator(None, Some((4_200_000_001, 1))),
            (None, false)
        );
    }
}
