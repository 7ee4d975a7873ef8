//! Properties of the OPEN, NOTIFICATION and ROUTE-REFRESH codecs:
//! parse(emit(m)) == m, emit(parse(bytes)) == bytes for emitted bytes, and no
//! input makes a parser panic or read past the message's length.
//!
//! The strategies live in `strategies` so other tests can reuse them with
//! `#[path = "open_props.rs"] mod open_props;` (or by copying the module):
//! `arb_open()`, `arb_capability()`, `arb_notification()`, `arb_route_refresh()`.
//! Parsed values borrow their bytes, so the strategies yield owned models
//! (`OwnedOpen`, `OwnedNotification`) that lend a borrowed value with `with`.

use proptest::prelude::*;

use nexthop_core::wire::capability::Capability;
use nexthop_core::wire::header::MAX_MESSAGE_LEN;
use nexthop_core::wire::notification::Notification;
use nexthop_core::wire::open::Open;
use nexthop_core::wire::route_refresh::RouteRefresh;

pub mod strategies {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use nexthop_core::wire::capability::{
        AddPathMode, AddPaths, Capabilities, Capability, ExtendedNextHop, ExtendedNextHops,
        GracefulRestart, GracefulRestartFamily, Items, code,
    };
    use nexthop_core::wire::codes::{NotificationCode, cease_subcode};
    use nexthop_core::wire::notification::{Notification, shutdown_communication_data};
    use nexthop_core::wire::open::Open;
    use nexthop_core::wire::route_refresh::RouteRefresh;
    use nexthop_core::wire::{Afi, Family};

    /// A capability that owns its lists, lending a [`Capability`] with `get`.
    #[derive(Clone, Debug)]
    pub enum OwnedCapability {
        /// RFC 4760.
        Multiprotocol(Family),
        /// RFC 2918.
        RouteRefresh,
        /// RFC 8950.
        ExtendedNextHop(Vec<ExtendedNextHop>),
        /// RFC 8654.
        ExtendedMessage,
        /// RFC 4724.
        GracefulRestart {
            /// 4 bits.
            restart_flags: u8,
            /// 12 bits.
            restart_time: u16,
            /// Per-family flags.
            families: Vec<GracefulRestartFamily>,
        },
        /// RFC 6793.
        FourOctetAs(u32),
        /// RFC 7911.
        AddPath(Vec<(Family, AddPathMode)>),
        /// RFC 7313.
        EnhancedRouteRefresh,
        /// Any code nexthop does not know.
        Unknown {
            /// Not one of the known codes.
            code: u8,
            /// Up to 255 octets.
            value: Vec<u8>,
        },
    }

    impl OwnedCapability {
        /// The borrowed capability.
        pub fn get(&self) -> Capability<'_> {
            match self {
                OwnedCapability::Multiprotocol(f) => Capability::Multiprotocol(*f),
                OwnedCapability::RouteRefresh => Capability::RouteRefresh,
                OwnedCapability::ExtendedNextHop(v) => {
                    Capability::ExtendedNextHop(ExtendedNextHops::List(v))
                }
                OwnedCapability::ExtendedMessage => Capability::ExtendedMessage,
                OwnedCapability::GracefulRestart {
                    restart_flags,
                    restart_time,
                    families,
                } => Capability::GracefulRestart(GracefulRestart {
                    restart_flags: *restart_flags,
                    restart_time: *restart_time,
                    families: Items::List(families),
                }),
                OwnedCapability::FourOctetAs(asn) => Capability::FourOctetAs(*asn),
                OwnedCapability::AddPath(v) => Capability::AddPath(AddPaths::List(v)),
                OwnedCapability::EnhancedRouteRefresh => Capability::EnhancedRouteRefresh,
                OwnedCapability::Unknown { code, value } => {
                    Capability::Unknown { code: *code, value }
                }
            }
        }
    }

    /// An OPEN that owns its capabilities.
    #[derive(Clone, Debug)]
    pub struct OwnedOpen {
        /// My Autonomous System.
        pub my_as: u16,
        /// Hold Time: 0 or 3..
        pub hold_time: u16,
        /// Non-zero.
        pub bgp_identifier: u32,
        /// In order.
        pub capabilities: Vec<OwnedCapability>,
    }

    impl OwnedOpen {
        /// Calls `f` with the borrowed [`Open`] (capabilities as a list).
        pub fn with<R>(&self, f: impl FnOnce(&Open<'_>) -> R) -> R {
            let caps: Vec<Capability<'_>> = self.capabilities.iter().map(|c| c.get()).collect();
            f(&Open {
                my_as: self.my_as,
                hold_time: self.hold_time,
                bgp_identifier: self.bgp_identifier,
                capabilities: Capabilities::List(&caps),
            })
        }
    }

    /// A NOTIFICATION that owns its data.
    #[derive(Clone, Debug)]
    pub struct OwnedNotification {
        /// Code and subcode.
        pub code: NotificationCode,
        /// The data field.
        pub data: Vec<u8>,
    }

    impl OwnedNotification {
        /// The borrowed NOTIFICATION.
        pub fn get(&self) -> Notification<'_> {
            Notification {
                code: self.code,
                data: &self.data,
            }
        }
    }

    /// Any family: the ones nexthop routes, and any other (AFI, SAFI).
    pub fn arb_family() -> impl Strategy<Value = Family> {
        prop_oneof![
            Just(Family::IPV4_UNICAST),
            Just(Family::IPV6_UNICAST),
            (1u16..=2, 1u8..=2).prop_map(|(a, s)| Family::from_wire(a, s)),
            (any::<u16>(), any::<u8>()).prop_map(|(a, s)| Family::from_wire(a, s)),
        ]
    }

    /// Any ADD-PATH mode.
    pub fn arb_add_path_mode() -> impl Strategy<Value = AddPathMode> {
        prop_oneof![
            Just(AddPathMode::Receive),
            Just(AddPathMode::Send),
            Just(AddPathMode::Both),
        ]
    }

    /// Codes of the capabilities nexthop knows.
    pub const KNOWN_CODES: [u8; 8] = [
        code::MULTIPROTOCOL,
        code::ROUTE_REFRESH,
        code::EXTENDED_NEXT_HOP,
        code::EXTENDED_MESSAGE,
        code::GRACEFUL_RESTART,
        code::FOUR_OCTET_AS,
        code::ADD_PATH,
        code::ENHANCED_ROUTE_REFRESH,
    ];

    /// Any capability of every kind, with values up to 255 octets.
    pub fn arb_capability() -> impl Strategy<Value = OwnedCapability> {
        prop_oneof![
            arb_family().prop_map(OwnedCapability::Multiprotocol),
            Just(OwnedCapability::RouteRefresh),
            vec(
                (arb_family(), any::<u16>()).prop_map(|(family, nh)| ExtendedNextHop {
                    family,
                    next_hop_afi: Afi::from(nh),
                }),
                0..=42,
            )
            .prop_map(OwnedCapability::ExtendedNextHop),
            Just(OwnedCapability::ExtendedMessage),
            (
                0u8..16,
                0u16..4096,
                vec(
                    (arb_family(), any::<u8>())
                        .prop_map(|(family, flags)| GracefulRestartFamily { family, flags }),
                    0..=63,
                ),
            )
                .prop_map(|(restart_flags, restart_time, families)| {
                    OwnedCapability::GracefulRestart {
                        restart_flags,
                        restart_time,
                        families,
                    }
                }),
            any::<u32>().prop_map(OwnedCapability::FourOctetAs),
            vec((arb_family(), arb_add_path_mode()), 0..=63).prop_map(OwnedCapability::AddPath),
            Just(OwnedCapability::EnhancedRouteRefresh),
            (
                any::<u8>().prop_filter("unknown code", |c| !KNOWN_CODES.contains(c)),
                vec(any::<u8>(), 0..=255),
            )
                .prop_map(|(code, value)| OwnedCapability::Unknown { code, value }),
        ]
    }

    /// Any OPEN: from no capabilities to lists long enough to need the RFC 9072
    /// form (at most 15 capabilities of at most 257 octets keep it under 4096).
    pub fn arb_open() -> impl Strategy<Value = OwnedOpen> {
        let caps = prop_oneof![vec(arb_capability(), 0..4), vec(arb_capability(), 4..16)];
        (any::<u16>(), prop_oneof![Just(0u16), 3u16..], 1u32.., caps).prop_map(
            |(my_as, hold_time, bgp_identifier, capabilities)| OwnedOpen {
                my_as,
                hold_time,
                bgp_identifier,
                capabilities,
            },
        )
    }

    /// Any NOTIFICATION: any code, subcode and data, and Cease with a shutdown
    /// communication (RFC 9003).
    pub fn arb_notification() -> impl Strategy<Value = OwnedNotification> {
        prop_oneof![
            (any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..600)).prop_map(|(c, s, data)| {
                OwnedNotification {
                    code: NotificationCode::from_wire(c, s),
                    data,
                }
            }),
            (
                prop_oneof![
                    Just(cease_subcode::ADMINISTRATIVE_SHUTDOWN),
                    Just(cease_subcode::ADMINISTRATIVE_RESET)
                ],
                "\\PC{0,100}".prop_filter("255 octets", |s: &String| s.len() <= 255),
            )
                .prop_map(|(subcode, text)| {
                    let mut buf = [0u8; 256];
                    let data = shutdown_communication_data(&text, &mut buf)
                        .expect("at most 255 octets")
                        .to_vec();
                    OwnedNotification {
                        code: NotificationCode::from_wire(6, subcode),
                        data,
                    }
                }),
        ]
    }

    /// Any ROUTE-REFRESH, any subtype.
    pub fn arb_route_refresh() -> impl Strategy<Value = RouteRefresh> {
        (arb_family(), any::<u8>()).prop_map(|(family, subtype)| RouteRefresh {
            family,
            subtype: subtype.into(),
        })
    }
}

use strategies::*;

/// Emits into a 0xa5-filled buffer with room to spare; checks the count, the
/// untouched tail, and that one byte less is refused without a write.
fn emit_checked(
    len: usize,
    emit: impl Fn(&mut [u8]) -> Result<usize, nexthop_core::wire::EncodeError>,
) -> Vec<u8> {
    let mut buf = vec![0xa5u8; len + 16];
    assert_eq!(emit(&mut buf), Ok(len));
    assert!(buf[len..].iter().all(|&b| b == 0xa5));
    let mut short = vec![0xa5u8; len - 1];
    assert!(emit(&mut short).is_err());
    assert!(short.iter().all(|&b| b == 0xa5));
    buf.truncate(len);
    buf
}

/// A message with a good header around `body`: marker, the length of the
/// whole, and `message_type`.
fn framed(message_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xffu8; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(message_type);
    m.extend_from_slice(body);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// parse(emit(open)) == open, capability by capability, and
    /// emit(parse(bytes)) == bytes.
    #[test]
    fn open_round_trips(owned in arb_open()) {
        owned.with(|open| {
            let bytes = emit_checked(open.buffer_len(), |b| open.emit(b));
            prop_assert!(bytes.len() <= MAX_MESSAGE_LEN);
            // RFC 9072: extended form exactly when one parameter would pass 255.
            let caps_len: usize = open.capabilities.iter().map(|c| c.buffer_len()).sum();
            prop_assert_eq!(bytes.len() > 29 && bytes[29] == 255, caps_len + 2 > 255);
            let parsed = Open::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.my_as, open.my_as);
            prop_assert_eq!(parsed.hold_time, open.hold_time);
            prop_assert_eq!(parsed.bgp_identifier, open.bgp_identifier);
            let got: Vec<Capability<'_>> = parsed.capabilities.iter().collect();
            let want: Vec<Capability<'_>> = open.capabilities.iter().collect();
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                prop_assert_eq!(g, w);
            }
            prop_assert_eq!(&parsed, open);
            let again = emit_checked(parsed.buffer_len(), |b| parsed.emit(b));
            prop_assert_eq!(&again, &bytes);
            let _ = (parsed.to_string(), parsed.asn());
            Ok(())
        })?;
    }

    /// The same for NOTIFICATION, and the shutdown communication comes back.
    #[test]
    fn notification_round_trips(owned in arb_notification()) {
        let n = owned.get();
        let bytes = emit_checked(n.buffer_len(), |b| n.emit(b));
        let parsed = Notification::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, n);
        let again = emit_checked(parsed.buffer_len(), |b| parsed.emit(b));
        prop_assert_eq!(&again, &bytes);
        if n.code.code == nexthop_core::wire::ErrorCode::Cease
            && matches!(n.code.subcode, 2 | 4)
            && n.data.first().is_some_and(|&l| l > 0 && usize::from(l) < n.data.len())
        {
            let text = parsed.shutdown_communication();
            if let Ok(s) = core::str::from_utf8(&n.data[1..=usize::from(n.data[0])]) {
                prop_assert_eq!(text, Some(s));
            }
        }
        let _ = parsed.to_string();
    }

    /// The same for ROUTE-REFRESH.
    #[test]
    fn route_refresh_round_trips(rr in arb_route_refresh()) {
        let bytes = emit_checked(rr.buffer_len(), |b| rr.emit(b));
        let parsed = RouteRefresh::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, rr);
        let again = emit_checked(parsed.buffer_len(), |b| parsed.emit(b));
        prop_assert_eq!(again, bytes);
        let _ = parsed.to_string();
    }

    /// Arbitrary bytes never make a parser panic; an error's offset lies within
    /// the message.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_any(&bytes)?;
    }

    /// Arbitrary bodies behind a good header reach past the header checks.
    #[test]
    fn arbitrary_bodies_never_panic(
        message_type in prop_oneof![Just(1u8), Just(3), Just(5), any::<u8>()],
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        check_any(&framed(message_type, &body))?;
    }

    /// OPENs with one byte changed, truncated or extended: never a panic, and
    /// whatever parses re-emits to bytes that parse to the same OPEN.
    #[test]
    fn mutated_opens_never_panic(
        owned in arb_open(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let bytes = owned.with(|open| {
            let mut b = vec![0u8; open.buffer_len()];
            open.emit(&mut b).map(|_| b)
        }).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut changed = bytes.clone();
        let i = at.index(changed.len());
        changed[i] = byte;
        check_any(&changed)?;
        let mut shorter = bytes.clone();
        shorter.truncate(cut.index(bytes.len()).max(19));
        check_any(&shorter)?;
        // A mutated Optional Parameters Length or parameter, with the header
        // length kept consistent.
        if let Some(body) = changed.get(19..) {
            check_any(&framed(1, body))?;
        }
    }

    /// Bytes past the length field are never read: the result is the same with
    /// and without them.
    #[test]
    fn bytes_past_the_length_are_not_read(
        owned in arb_open(),
        extra in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        owned.with(|open| {
            let mut bytes = vec![0u8; open.buffer_len()];
            open.emit(&mut bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let n = bytes.len();
            let plain_bytes = bytes.clone();
            let plain = Open::parse(&plain_bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            bytes.extend_from_slice(&extra);
            let longer = Open::parse(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(plain, longer);
            let again = emit_checked(longer.buffer_len(), |b| longer.emit(b));
            prop_assert_eq!(&again[..], &bytes[..n]);
            Ok(())
        })?;
    }
}

/// Runs every parser on `bytes`: no panic, errors within the message, and
/// an OPEN that parses re-emits to bytes that parse back to it.
fn check_any(bytes: &[u8]) -> Result<(), TestCaseError> {
    match Open::parse(bytes) {
        Ok(open) => {
            let _ = open.to_string();
            let caps: Vec<Capability<'_>> = open.capabilities.iter().collect();
            for c in &caps {
                prop_assert!(!c.to_string().is_empty());
            }
            let mut buf = vec![0u8; open.buffer_len()];
            let n = open
                .emit(&mut buf)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let again = Open::parse(&buf[..n]).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again, open);
        }
        Err(e) => {
            prop_assert!(e.offset <= bytes.len());
            let _ = (e.to_string(), e.data.resolve(bytes));
        }
    }
    match Notification::parse(bytes) {
        Ok(n) => {
            let _ = (n.to_string(), n.shutdown_communication());
        }
        Err(e) => prop_assert!(e.offset <= bytes.len()),
    }
    match RouteRefresh::parse(bytes) {
        Ok(rr) => {
            let _ = rr.to_string();
        }
        Err(e) => prop_assert!(e.offset <= bytes.len()),
    }
    Ok(())
}
