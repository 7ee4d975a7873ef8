//! Any bytes, framed as a BGP stream (RFC 4271 §4.1) and each whole message handed
//! to the parser of its type. Nothing may panic, loop, or read past a message; every
//! error must point inside the message it came from.
//!
//! The first input byte picks the session's negotiated parameters, so UPDATEs are
//! parsed with 2- and 4-octet AS numbers, ADD-PATH for IPv4/IPv6 and extended
//! messages.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexthop_core::wire::header::{HEADER_LEN, frame};
use nexthop_core::wire::{DecodeError, Family, MessageType, Negotiated};

/// Session parameters from the bits of one byte.
fn negotiated(bits: u8) -> Negotiated {
    let mut n = Negotiated {
        four_octet_as: bits & 1 != 0,
        extended_message: bits & 2 != 0,
        ..Negotiated::default()
    };
    if bits & 4 != 0 {
        n.add_path_receive.insert(Family::IPV4_UNICAST);
    }
    if bits & 8 != 0 {
        n.add_path_receive.insert(Family::IPV6_UNICAST);
    }
    if bits & 16 != 0 {
        n.add_path_send = n.add_path_receive;
    }
    n
}

/// An error must point inside the message, and its data must resolve.
fn check_error(e: &DecodeError, message: &[u8]) {
    assert!(
        e.offset <= message.len(),
        "error offset {} past a {}-byte message: {e:?}",
        e.offset,
        message.len()
    );
    let _ = e.data.resolve(message);
}

/// Hands one whole message to the parser of its type.
fn parse(message: &[u8], _negotiated: &Negotiated) {
    match MessageType::from(message[HEADER_LEN - 1]) {
        // TODO(fuzz): Open::parse, once core/src/wire/open.rs lands on main.
        MessageType::Open => {}
        // TODO(fuzz): Update::parse with walks of withdrawn(), nlri(), attributes(),
        // mp_reach()/mp_unreach(), once core/src/wire/update.rs lands on main.
        MessageType::Update => {}
        // TODO(fuzz): Notification::parse, once core/src/wire/notification.rs lands.
        MessageType::Notification => {}
        // TODO(fuzz): RouteRefresh::parse, once core/src/wire/route_refresh.rs lands.
        MessageType::RouteRefresh => {}
        MessageType::Keepalive | MessageType::Unknown(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&bits, mut stream)) = data.split_first() else {
        return;
    };
    let negotiated = negotiated(bits);
    let max_len = negotiated.max_message_len();
    loop {
        match frame(stream, max_len) {
            Ok(Some(len)) => {
                assert!((HEADER_LEN..=max_len).contains(&len) && len <= stream.len());
                parse(&stream[..len], &negotiated);
                stream = &stream[len..];
            }
            Ok(None) => break,
            Err(e) => {
                check_error(&e, &stream[..HEADER_LEN]);
                break;
            }
        }
    }
});
