//! Any bytes, framed as a BGP stream (RFC 4271 §4.1) and each whole message handed
//! to the parser of its type. Nothing may panic, loop, or read past a message; every
//! error must point inside the message it came from.
//!
//! The first input byte picks the session's negotiated parameters, so UPDATEs are
//! parsed with 2- and 4-octet AS numbers, ADD-PATH for IPv4/IPv6 and extended
//! messages.
#![no_main]

use std::fmt::Write;

use libfuzzer_sys::fuzz_target;
use nexthop_core::wire::capability::negotiate;
use nexthop_core::wire::header::{HEADER_LEN, frame};
use nexthop_core::wire::notification::Notification;
use nexthop_core::wire::open::Open;
use nexthop_core::wire::route_refresh::RouteRefresh;
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

/// Formats a value the way a log line would, so Display impls are fuzzed too.
fn display(value: &dyn std::fmt::Display) {
    let mut s = String::new();
    let _ = write!(s, "{value}");
}

/// Hands one whole message to the parser of its type and visits everything the
/// parsed value offers.
fn parse(message: &[u8], _negotiated: &Negotiated) {
    let result = match MessageType::from(message[HEADER_LEN - 1]) {
        MessageType::Open => Open::parse(message).map(|open| {
            for capability in open.capabilities.iter() {
                std::hint::black_box(capability);
            }
            let _ = open.asn();
            let _ = negotiate(&open, &open);
            display(&open);
        }),
        // TODO(fuzz): Update::parse with walks of withdrawn(), nlri(), attributes(),
        // mp_reach()/mp_unreach(), once core/src/wire/update.rs lands on main.
        MessageType::Update => Ok(()),
        MessageType::Notification => Notification::parse(message).map(|n| {
            let _ = n.shutdown_communication();
            display(&n);
        }),
        MessageType::RouteRefresh => RouteRefresh::parse(message).map(|r| display(&r)),
        MessageType::Keepalive | MessageType::Unknown(_) => Ok(()),
    };
    if let Err(e) = result {
        check_error(&e, message);
        display(&e);
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
