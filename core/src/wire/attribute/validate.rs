//! RFC 7606 §3 and §7: the checks on one path attribute and the action each
//! failure calls for. The UPDATE walk (`update.rs`) handles what spans attributes:
//! duplicates (§3 (g)), missing attributes (§3 (d)) and list overruns (§4).
//!
//! Choices where the RFCs leave room, in one place:
//! - flags (§3 (c)): only the Optional and Transitive bits are checked; a conflict
//!   is treat-as-withdraw, except for AS4_PATH / AS4_AGGREGATOR (attribute discard,
//!   RFC 6793 §6) and MP_REACH / MP_UNREACH, whose prefixes are still parsed so
//!   they can be withdrawn;
//! - an AS_PATH segment of length zero is malformed (§7.2);
//! - NEXT_HOP 0.0.0.0, 255.255.255.255 and multicast (224/4) are 3/8 (§6.3);
//! - AS4_PATH / AS4_AGGREGATOR from a 4-octet-AS peer are discarded silently
//!   (RFC 6793 §3); an AS4_PATH with confederation segments is malformed (§6).
//! - from an external peer (outside our confederation), LOCAL_PREF,
//!   ORIGINATOR_ID and CLUSTER_LIST are discarded whatever they hold (§7.5, §7.9,
//!   §7.10), and confederation segments make the AS_PATH malformed (RFC 5065
//!   §5.1); from an internal peer their length rules apply (treat-as-withdraw);
//! - AS 0 in AS_PATH is a malformed AS_PATH, in AS4_PATH, AGGREGATOR or
//!   AS4_AGGREGATOR it discards the attribute (RFC 7607 §2).

use core::net::Ipv4Addr;

use super::super::Negotiated;
use super::super::codes::update_subcode as sub;
use super::super::error::{DecodeError, ErrorAction, ErrorKind};
use super::type_code::*;
use super::{AsPath, Flags, MpReachNlri, MpUnreachNlri, RawAttribute, Span};

/// What the walk does with one attribute.
pub(crate) enum Verdict {
    /// Well-formed: keep it.
    Valid,
    /// Drop it and go on (RFC 7606 "attribute discard"); the error, if it is one.
    Discard(Option<DecodeError>),
    /// Malformed: the UPDATE's routes are withdrawn. The flag says whether the
    /// attribute is still readable (MP attributes with wrong flags give their
    /// prefixes, so they can be withdrawn).
    Withdraw(DecodeError, bool),
    /// Session reset or AFI/SAFI disable.
    Fatal(DecodeError),
}

/// The Optional and Transitive bits an attribute nexthop knows must carry, or
/// `None` for an attribute it does not recognize.
pub(crate) const fn expected_category(type_code: u8) -> Option<u8> {
    match type_code {
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => Some(Flags::TRANSITIVE),
        MULTI_EXIT_DISC | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH_NLRI | MP_UNREACH_NLRI => {
            Some(Flags::OPTIONAL)
        }
        AGGREGATOR | COMMUNITIES | EXTENDED_COMMUNITIES | AS4_PATH | AS4_AGGREGATOR
        | LARGE_COMMUNITY => Some(Flags::OPTIONAL | Flags::TRANSITIVE),
        _ => None,
    }
}

fn next_hop_valid(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast())
}

/// Checks the attribute at `span` of `message` (RFC 7606 §7, RFC 6793 §6,
/// RFC 8092 §6, RFC 4271 §6.3).
#[inline(always)]
pub(crate) fn check<'a>(
    message: &'a [u8],
    span: Span,
    raw: RawAttribute<'a>,
    negotiated: &Negotiated,
    external: bool,
) -> Verdict {
    let tc = raw.type_code;
    let v = raw.value;
    let err = |kind, subcode, action| span.error(message, kind, subcode, action);
    let withdraw =
        |kind, subcode| Verdict::Withdraw(err(kind, subcode, ErrorAction::TreatAsWithdraw), false);
    let length = ErrorKind::AttributeLength {
        type_code: tc,
        length: v.len() as u16,
    };
    let Some(category) = expected_category(tc) else {
        if raw.flags.optional() {
            return Verdict::Valid;
        }
        // RFC 4271 §6.3; RFC 7606 leaves it a session reset.
        return Verdict::Fatal(err(
            ErrorKind::UnrecognizedWellKnownAttribute { type_code: tc },
            sub::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
            ErrorAction::SessionReset,
        ));
    };
    let as4 = matches!(tc, AS4_PATH | AS4_AGGREGATOR);
    if as4 && negotiated.four_octet_as {
        return Verdict::Discard(None);
    }
    if external && matches!(tc, LOCAL_PREF | ORIGINATOR_ID | CLUSTER_LIST) {
        return Verdict::Discard(None);
    }
    let mut flags_error = None;
    if raw.flags.category() != category {
        let action = if as4 {
            ErrorAction::AttributeDiscard
        } else {
            ErrorAction::TreatAsWithdraw
        };
        let e = err(
            ErrorKind::AttributeFlags {
                type_code: tc,
                flags: raw.flags.0,
            },
            sub::ATTRIBUTE_FLAGS_ERROR,
            action,
        );
        if as4 {
            return Verdict::Discard(Some(e));
        }
        if !matches!(tc, MP_REACH_NLRI | MP_UNREACH_NLRI) {
            return Verdict::Withdraw(e, false);
        }
        flags_error = Some(e);
    }
    let length_error = || withdraw(length, sub::ATTRIBUTE_LENGTH_ERROR);
    let multiple_of = |n: usize| !v.is_empty() && v.len().is_multiple_of(n);
    match tc {
        ORIGIN => match v {
            [0..=2] => {}
            [o] => {
                return withdraw(
                    ErrorKind::InvalidOrigin { origin: *o },
                    sub::INVALID_ORIGIN_ATTRIBUTE,
                );
            }
            _ => return length_error(),
        },
        AS_PATH => {
            if let Err(at) = AsPath::parse(v, negotiated.four_octet_as, !external) {
                let mut e = err(
                    ErrorKind::MalformedAsPath,
                    sub::MALFORMED_AS_PATH,
                    ErrorAction::TreatAsWithdraw,
                );
                e.offset = span.value + at;
                return Verdict::Withdraw(e, false);
            }
        }
        NEXT_HOP => match <[u8; 4]>::try_from(v) {
            Ok(a) if next_hop_valid(Ipv4Addr::from(a)) => {}
            Ok(_) => return withdraw(ErrorKind::InvalidNextHop, sub::INVALID_NEXT_HOP_ATTRIBUTE),
            Err(_) => return length_error(),
        },
        MULTI_EXIT_DISC | LOCAL_PREF | ORIGINATOR_ID if v.len() != 4 => return length_error(),
        ATOMIC_AGGREGATE | AGGREGATOR | AS4_AGGREGATOR => {
            let want = match tc {
                ATOMIC_AGGREGATE => 0,
                AGGREGATOR if !negotiated.four_octet_as => 6,
                _ => 8,
            };
            if v.len() != want {
                return Verdict::Discard(Some(err(
                    length,
                    sub::ATTRIBUTE_LENGTH_ERROR,
                    ErrorAction::AttributeDiscard,
                )));
            }
            // RFC 7607 §2: AS 0.
            if tc != ATOMIC_AGGREGATE && v[..want - 4].iter().all(|&b| b == 0) {
                return Verdict::Discard(Some(err(
                    ErrorKind::OptionalAttribute { type_code: tc },
                    sub::OPTIONAL_ATTRIBUTE_ERROR,
                    ErrorAction::AttributeDiscard,
                )));
            }
        }
        COMMUNITIES | CLUSTER_LIST if !multiple_of(4) => return length_error(),
        EXTENDED_COMMUNITIES if !multiple_of(8) => return length_error(),
        LARGE_COMMUNITY if !multiple_of(12) => return length_error(),
        AS4_PATH => {
            if let Err(at) = AsPath::parse(v, true, false) {
                let mut e = err(
                    ErrorKind::OptionalAttribute { type_code: tc },
                    sub::OPTIONAL_ATTRIBUTE_ERROR,
                    ErrorAction::AttributeDiscard,
                );
                e.offset = span.value + at;
                return Verdict::Discard(Some(e));
            }
        }
        MP_REACH_NLRI => {
            if let Err(e) = MpReachNlri::parse_in(message, span, negotiated) {
                return Verdict::Fatal(e);
            }
        }
        MP_UNREACH_NLRI => {
            if let Err(e) = MpUnreachNlri::parse_in(message, span, negotiated) {
                return Verdict::Fatal(e);
            }
        }
        _ => {}
    }
    match flags_error {
        Some(e) => Verdict::Withdraw(e, true),
        None => Verdict::Valid,
    }
}
