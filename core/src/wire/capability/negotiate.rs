//! Capability negotiation (RFC 5492 §3): what both sides of a session advertised,
//! as the [`Negotiated`] parameters the session's UPDATEs are read and written with.

use super::Capability;
use crate::wire::Negotiated;
use crate::wire::family::FamilySet;
use crate::wire::open::Open;

/// ADD-PATH families one side advertised, split by direction (RFC 7911 §4).
fn add_path_sets(open: &Open<'_>) -> (FamilySet, FamilySet) {
    let (mut receive, mut send) = (FamilySet::EMPTY, FamilySet::EMPTY);
    for c in open.capabilities.iter() {
        if let Capability::AddPath(items) = c {
            for (family, mode) in items.iter() {
                if mode.receives() {
                    receive.insert(family);
                }
                if mode.sends() {
                    send.insert(family);
                }
            }
        }
    }
    (receive, send)
}

/// The session parameters both OPENs agree on.
///
/// - `four_octet_as`: both sent the 4-octet AS capability (RFC 6793 §4.1);
/// - `extended_message`: both sent the extended message capability (RFC 8654 §3);
/// - `add_path_receive`: families where we advertised Receive or Both and the
///   peer Send or Both (RFC 7911 §4); `add_path_send` the converse.
pub fn negotiate(local: &Open<'_>, remote: &Open<'_>) -> Negotiated {
    let extended_message = |open: &Open<'_>| {
        open.capabilities
            .iter()
            .any(|c| matches!(c, Capability::ExtendedMessage))
    };
    let (local_receive, local_send) = add_path_sets(local);
    let (remote_receive, remote_send) = add_path_sets(remote);
    Negotiated {
        four_octet_as: local.capabilities.four_octet_as().is_some()
            && remote.capabilities.four_octet_as().is_some(),
        extended_message: extended_message(local) && extended_message(remote),
        add_path_receive: local_receive.intersection(remote_send),
        add_path_send: local_send.intersection(remote_receive),
    }
}
