//! parse -> emit -> parse gives the same value, for every message type whose
//! encoder exists (RFC 4271 §4): what nexthop reads, it writes back so that it
//! reads the same. Each emit goes into a buffer pre-filled with 0xa5, must write
//! exactly `buffer_len()` bytes and nothing past them, and must leave a buffer one
//! byte too short untouched with `InsufficientSize`.
//!
//! The first input byte picks the session's negotiated parameters (as in
//! `frame_and_parse`), the rest is framed and only its first message is used.

use nexthop_core::wire::attribute::PathAttribute;
use nexthop_core::wire::header::{self, HEADER_LEN, Header, frame};
use nexthop_core::wire::keepalive::Keepalive;
use nexthop_core::wire::notification::Notification;
use nexthop_core::wire::open::Open;
use nexthop_core::wire::route_refresh::RouteRefresh;
use nexthop_core::wire::update::{Update, UpdateBuilder};
use nexthop_core::wire::{EncodeError, MessageType, Negotiated};

use crate::session_byte::negotiated;

const FILL: u8 = 0xa5;

/// UPDATE: parse, rebuild with the builder from what was parsed, parse again; the
/// prefixes of every field and the attributes must be the same. The builder puts
/// the MP attribute after the others, so MP attributes are compared apart.
fn update_roundtrip(message: &[u8], negotiated: &Negotiated) {
    let Ok(update) = Update::parse(message, negotiated) else {
        return;
    };
    let attributes: Vec<_> = update.attributes().collect();
    let (mp, others): (Vec<_>, Vec<_>) = attributes.iter().partition(|a| {
        matches!(
            a,
            PathAttribute::MpReachNlri(_) | PathAttribute::MpUnreachNlri(_)
        )
    });
    if mp.len() > 1 {
        // The builder carries one MP attribute per message.
        return;
    }
    let mut buffer = vec![FILL; negotiated.max_message_len() + 16];
    let mut b = UpdateBuilder::new(&mut buffer, negotiated).expect("a builder");
    for n in update.withdrawn() {
        assert_eq!(b.withdraw(&n), Ok(true), "withdrawn {n:?}");
    }
    for a in &others {
        b.attribute(a)
            .unwrap_or_else(|e| panic!("attribute {a:?}: {e}"));
    }
    match mp.first() {
        Some(PathAttribute::MpReachNlri(m)) => {
            b.begin_mp_reach(m.family, m.next_hop)
                .expect("MP_REACH_NLRI");
            for n in m.nlri.iter() {
                assert_eq!(b.mp_nlri(&n), Ok(true), "MP_REACH_NLRI {n:?}");
            }
        }
        Some(PathAttribute::MpUnreachNlri(m)) => {
            b.begin_mp_unreach(m.family).expect("MP_UNREACH_NLRI");
            for n in m.withdrawn.iter() {
                assert_eq!(b.mp_nlri(&n), Ok(true), "MP_UNREACH_NLRI {n:?}");
            }
        }
        _ => {}
    }
    for n in update.nlri() {
        assert_eq!(b.nlri(&n), Ok(true), "NLRI {n:?}");
    }
    let written = b.finish().expect("finish");
    assert!(
        buffer[written..].iter().all(|&x| x == FILL),
        "builder wrote past its length"
    );
    let bytes = &buffer[..written];
    let again = Update::parse(bytes, negotiated).expect("a rebuilt UPDATE must parse");
    assert!(
        update.withdrawn().eq(again.withdrawn()),
        "withdrawn routes differ"
    );
    assert!(update.nlri().eq(again.nlri()), "NLRI differ");
    let again_attributes: Vec<_> = again.attributes().collect();
    assert_eq!(again_attributes.len(), attributes.len(), "attribute count");
    let mut again_others = again_attributes.iter().filter(|a| {
        !matches!(
            a,
            PathAttribute::MpReachNlri(_) | PathAttribute::MpUnreachNlri(_)
        )
    });
    assert!(others.iter().eq(&mut again_others), "attributes differ");
    match (update.mp_reach(), again.mp_reach()) {
        (Some(a), Some(b)) => {
            assert_eq!((a.family, a.next_hop), (b.family, b.next_hop));
            assert!(
                a.nlri.iter().eq(b.nlri.iter()),
                "MP_REACH_NLRI prefixes differ"
            );
        }
        (None, None) => {}
        (a, b) => panic!("MP_REACH_NLRI {a:?} became {b:?}"),
    }
    match (update.mp_unreach(), again.mp_unreach()) {
        (Some(a), Some(b)) => {
            assert_eq!(a.family, b.family);
            assert!(
                a.withdrawn.iter().eq(b.withdrawn.iter()),
                "MP_UNREACH_NLRI prefixes differ"
            );
        }
        (None, None) => {}
        (a, b) => panic!("MP_UNREACH_NLRI {a:?} became {b:?}"),
    }
}

/// Emits with `emit` into a 0xa5 buffer of `len + 16`, checks the contract of
/// encoders (exact length, nothing written past it, short buffer untouched), and
/// returns the bytes written.
fn emit_checked(len: usize, emit: impl Fn(&mut [u8]) -> Result<usize, EncodeError>) -> Vec<u8> {
    let mut buffer = vec![FILL; len + 16];
    let written = emit(&mut buffer).expect("a parsed message must re-encode");
    assert_eq!(
        written, len,
        "emit wrote {written} bytes, buffer_len said {len}"
    );
    assert!(
        buffer[len..].iter().all(|&b| b == FILL),
        "emit wrote past its length"
    );
    let mut short = vec![FILL; len - 1];
    assert_eq!(
        emit(&mut short),
        Err(EncodeError::InsufficientSize { required: len }),
        "a short buffer must be refused"
    );
    assert!(
        short.iter().all(|&b| b == FILL),
        "a refused emit touched the buffer"
    );
    buffer.truncate(len);
    buffer
}

/// The target: the first message of `data` (after its session byte), parsed,
/// emitted and parsed again; panics on a defect.
pub fn fuzz(data: &[u8]) {
    let Some((&bits, stream)) = data.split_first() else {
        return;
    };
    // The builder sends ADD-PATH for the families the parser receives it for.
    let mut negotiated = negotiated(bits);
    negotiated.add_path_send = negotiated.add_path_receive;
    let Ok(Some(len)) = frame(stream, negotiated.max_message_len()) else {
        return;
    };
    let message = &stream[..len];
    let message_type = Header::new_unchecked(message).message_type();

    // The header: emit what was read, it must read back the same.
    let mut out = [FILL; HEADER_LEN];
    header::emit(&mut out, len, message_type).expect("a checked header re-encodes");
    assert_eq!(&out[..], &message[..HEADER_LEN]);

    match message_type {
        MessageType::Keepalive => {
            let bytes = emit_checked(HEADER_LEN, |b| Keepalive.emit(b));
            assert_eq!(bytes, message);
        }
        MessageType::Open => {
            let Ok(open) = Open::parse(message) else {
                return;
            };
            let bytes = emit_checked(open.buffer_len(), |b| open.emit(b));
            let again = Open::parse(&bytes).expect("an emitted OPEN must parse");
            assert_eq!(again, open);
            // Emitting what was read back gives the same bytes.
            assert_eq!(emit_checked(again.buffer_len(), |b| again.emit(b)), bytes);
        }
        MessageType::Notification => {
            let Ok(notification) = Notification::parse(message) else {
                return;
            };
            let bytes = emit_checked(notification.buffer_len(), |b| notification.emit(b));
            // A NOTIFICATION has one form: it reads back byte for byte.
            assert_eq!(bytes, message);
            assert_eq!(Notification::parse(&bytes), Ok(notification));
        }
        MessageType::RouteRefresh => {
            let Ok(refresh) = RouteRefresh::parse(message) else {
                return;
            };
            let bytes = emit_checked(refresh.buffer_len(), |b| refresh.emit(b));
            assert_eq!(RouteRefresh::parse(&bytes), Ok(refresh));
            if len == bytes.len() {
                assert_eq!(bytes, message);
            }
        }
        MessageType::Update => update_roundtrip(message, &negotiated),
        MessageType::Unknown(_) => {}
    }
}
