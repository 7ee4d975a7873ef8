//! The OPEN and NOTIFICATION messages as the session sends and reads them
//! (RFC 4271 §4.2, §4.5; RFC 5492 capabilities; RFC 9003 shutdown communication).
//!
//! This is the seam between the FSM and the wire codec: the FSM asks for its OPEN
//! to be written from its config, and for the peer's OPEN as a small `Copy`
//! summary ([`PeerOpen`]) it can keep through OpenConfirm.

use crate::wire::codes::{ErrorCode, NotificationCode, open_subcode};
use crate::wire::error::{DecodeError, EncodeError, ErrorData, ErrorKind, Layer};
use crate::wire::family::{Family, FamilySet};
use crate::wire::header::{self, HEADER_LEN, MessageType};

use super::config::{AddPathConfig, SessionConfig};

/// AS_TRANS (RFC 6793 §9): the 2-octet AS of a speaker whose AS needs four.
pub const AS_TRANS: u16 = 23456;

/// Graceful restart as the peer advertised it (RFC 4724 §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GracefulRestartInfo {
    /// The Restart State bit: the peer has restarted.
    pub restarting: bool,
    /// Restart Time in seconds.
    pub restart_time: u16,
    /// Families whose forwarding state the peer preserves.
    pub families: FamilySet,
}

/// The capabilities the peer advertised, reduced to what negotiation needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerCapabilities {
    /// Multiprotocol families (RFC 4760).
    pub families: FamilySet,
    /// Whether any Multiprotocol capability was present; when none was, IPv4
    /// unicast is implied (RFC 4760 §8).
    pub multiprotocol: bool,
    /// Route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Extended messages (RFC 8654).
    pub extended_message: bool,
    /// The 4-octet AS capability's value (RFC 6793).
    pub four_octet_as: Option<u32>,
    /// ADD-PATH directions the peer can do (RFC 7911).
    pub add_path: AddPathConfig,
    /// Graceful restart (RFC 4724).
    pub graceful_restart: Option<GracefulRestartInfo>,
}

/// The peer's OPEN, as a `Copy` summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerOpen {
    /// The peer's AS: the 4-octet capability's value, else My Autonomous System.
    pub asn: u32,
    /// The peer's Hold Time.
    pub hold_time: u16,
    /// The peer's BGP Identifier.
    pub bgp_identifier: u32,
    /// The peer's capabilities.
    pub capabilities: PeerCapabilities,
}

fn open_error(kind: ErrorKind, offset: usize, subcode: u8, data: ErrorData) -> DecodeError {
    DecodeError::reset(kind, offset, ErrorCode::OpenMessage, subcode, data)
}

fn truncated(layer: Layer, offset: usize, required: usize, available: usize) -> DecodeError {
    open_error(
        ErrorKind::Truncated {
            layer,
            required,
            available,
        },
        offset,
        0,
        ErrorData::Empty,
    )
}

/// Parses an OPEN (the whole message, header included) into its summary.
pub fn parse_open(message: &[u8]) -> Result<PeerOpen, DecodeError> {
    let fixed = message.get(HEADER_LEN..HEADER_LEN + 10).ok_or(truncated(
        Layer::Open,
        HEADER_LEN,
        10,
        message.len().saturating_sub(HEADER_LEN),
    ))?;
    let version = fixed[0];
    if version != 4 {
        return Err(open_error(
            ErrorKind::UnsupportedVersion { version },
            HEADER_LEN,
            open_subcode::UNSUPPORTED_VERSION_NUMBER,
            ErrorData::inline(&[0, 4]),
        ));
    }
    let my_as = u16::from_be_bytes([fixed[1], fixed[2]]);
    let hold_time = u16::from_be_bytes([fixed[3], fixed[4]]);
    let bgp_identifier = u32::from_be_bytes([fixed[5], fixed[6], fixed[7], fixed[8]]);
    let opt_len = usize::from(fixed[9]);
    let params_at = HEADER_LEN + 10;
    let params = message
        .get(params_at..params_at + opt_len)
        .ok_or(truncated(
            Layer::OptionalParameter,
            params_at,
            opt_len,
            message.len().saturating_sub(params_at),
        ))?;
    let mut caps = PeerCapabilities::default();
    let mut rest = params;
    let mut at = params_at;
    while !rest.is_empty() {
        let (head, body) = rest.split_at_checked(2).ok_or(truncated(
            Layer::OptionalParameter,
            at,
            2,
            rest.len(),
        ))?;
        let (ptype, plen) = (head[0], head[1]);
        let plen = usize::from(plen);
        let value =
            body.get(..plen)
                .ok_or(truncated(Layer::OptionalParameter, at, plen, body.len()))?;
        if ptype != 2 {
            return Err(open_error(
                ErrorKind::UnsupportedOptionalParameter {
                    parameter_type: ptype,
                },
                at,
                open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
                ErrorData::Empty,
            ));
        }
        parse_capabilities(value, at + 2, &mut caps)?;
        rest = &body[plen..];
        at += 2 + plen;
    }
    let asn = caps.four_octet_as.unwrap_or(u32::from(my_as));
    Ok(PeerOpen {
        asn,
        hold_time,
        bgp_identifier,
        capabilities: caps,
    })
}

fn parse_capabilities(
    mut rest: &[u8],
    mut at: usize,
    caps: &mut PeerCapabilities,
) -> Result<(), DecodeError> {
    while !rest.is_empty() {
        let (head, body) =
            rest.split_at_checked(2)
                .ok_or(truncated(Layer::Capability, at, 2, rest.len()))?;
        let (code, len) = (head[0], usize::from(head[1]));
        let v = body
            .get(..len)
            .ok_or(truncated(Layer::Capability, at, len, body.len()))?;
        let malformed = || {
            open_error(
                ErrorKind::MalformedCapability { code },
                at,
                0,
                ErrorData::Empty,
            )
        };
        match code {
            1 => {
                let [a0, a1, _, safi] = *v else {
                    return Err(malformed());
                };
                caps.multiprotocol = true;
                caps.families
                    .insert(Family::from_wire(u16::from_be_bytes([a0, a1]), safi));
            }
            2 => caps.route_refresh = true,
            6 => caps.extended_message = true,
            70 => caps.enhanced_route_refresh = true,
            65 => {
                let [a, b, c, d] = *v else {
                    return Err(malformed());
                };
                caps.four_octet_as = Some(u32::from_be_bytes([a, b, c, d]));
            }
            69 => {
                if v.len() % 4 != 0 {
                    return Err(malformed());
                }
                for item in v.chunks_exact(4) {
                    let f = Family::from_wire(u16::from_be_bytes([item[0], item[1]]), item[2]);
                    if item[3] & 1 != 0 {
                        caps.add_path.receive.insert(f);
                    }
                    if item[3] & 2 != 0 {
                        caps.add_path.send.insert(f);
                    }
                }
            }
            64 => {
                if v.len() < 2 || (v.len() - 2) % 4 != 0 {
                    return Err(malformed());
                }
                let mut gr = GracefulRestartInfo {
                    restarting: v[0] & 0x80 != 0,
                    restart_time: u16::from_be_bytes([v[0] & 0x0f, v[1]]),
                    families: FamilySet::EMPTY,
                };
                for item in v[2..].chunks_exact(4) {
                    gr.families.insert(Family::from_wire(
                        u16::from_be_bytes([item[0], item[1]]),
                        item[2],
                    ));
                }
                caps.graceful_restart = Some(gr);
            }
            _ => {}
        }
        rest = &body[len..];
        at += 2 + len;
    }
    Ok(())
}

/// Families a [`FamilySet`] can hold, in a fixed order, for emitting.
const FAMILIES: [Family; 4] = [
    Family::IPV4_UNICAST,
    Family::IPV6_UNICAST,
    Family {
        afi: crate::wire::Afi::Ipv4,
        safi: crate::wire::Safi::Multicast,
    },
    Family {
        afi: crate::wire::Afi::Ipv6,
        safi: crate::wire::Safi::Multicast,
    },
];

/// A capability TLV writer that only counts when `out` is `None`.
struct Writer<'b> {
    out: Option<&'b mut [u8]>,
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(out) = self.out.as_deref_mut()
            && let Some(dst) = out.get_mut(self.len..self.len + bytes.len())
        {
            dst.copy_from_slice(bytes);
        }
        self.len += bytes.len();
    }
}

fn write_capabilities(config: &SessionConfig, w: &mut Writer<'_>) {
    let c = &config.capabilities;
    for f in FAMILIES.iter().filter(|f| c.families.contains(**f)) {
        let afi = u16::from(f.afi).to_be_bytes();
        w.put(&[1, 4, afi[0], afi[1], 0, u8::from(f.safi)]);
    }
    if c.route_refresh {
        w.put(&[2, 0]);
    }
    if c.extended_message {
        w.put(&[6, 0]);
    }
    if let Some(time) = c.graceful_restart {
        let t = (time & 0x0fff).to_be_bytes();
        let n = FAMILIES.iter().filter(|f| c.families.contains(**f)).count();
        w.put(&[64, (2 + 4 * n) as u8, t[0], t[1]]);
        for f in FAMILIES.iter().filter(|f| c.families.contains(**f)) {
            let afi = u16::from(f.afi).to_be_bytes();
            w.put(&[afi[0], afi[1], u8::from(f.safi), 0]);
        }
    }
    if c.four_octet_as || config.local_asn > u32::from(u16::MAX) {
        let a = config.local_asn.to_be_bytes();
        w.put(&[65, 4, a[0], a[1], a[2], a[3]]);
    }
    let ap = c.add_path;
    let n = FAMILIES
        .iter()
        .filter(|f| ap.receive.contains(**f) || ap.send.contains(**f))
        .count();
    if n > 0 {
        w.put(&[69, (4 * n) as u8]);
        for f in FAMILIES.iter() {
            let mode = u8::from(ap.receive.contains(*f)) | (u8::from(ap.send.contains(*f)) << 1);
            if mode != 0 {
                let afi = u16::from(f.afi).to_be_bytes();
                w.put(&[afi[0], afi[1], u8::from(f.safi), mode]);
            }
        }
    }
    if c.enhanced_route_refresh {
        w.put(&[70, 0]);
    }
}

/// Writes our OPEN (header included); returns its length.
pub fn emit_open(config: &SessionConfig, buffer: &mut [u8]) -> Result<usize, EncodeError> {
    let mut count = Writer { out: None, len: 0 };
    write_capabilities(config, &mut count);
    let caps_len = count.len;
    if caps_len > 253 {
        return Err(EncodeError::TooLong {
            length: caps_len,
            max: 253,
        });
    }
    let opt_len = if caps_len == 0 { 0 } else { caps_len + 2 };
    let total = HEADER_LEN + 10 + opt_len;
    if buffer.len() < total {
        return Err(EncodeError::InsufficientSize { required: total });
    }
    header::emit(buffer, total, MessageType::Open)?;
    let my_as = u16::try_from(config.local_asn).unwrap_or(AS_TRANS);
    let b = &mut buffer[HEADER_LEN..total];
    b[0] = 4;
    b[1..3].copy_from_slice(&my_as.to_be_bytes());
    b[3..5].copy_from_slice(&config.hold_time.to_be_bytes());
    b[5..9].copy_from_slice(&config.router_id.to_be_bytes());
    b[9] = opt_len as u8;
    if opt_len > 0 {
        b[10] = 2;
        b[11] = caps_len as u8;
        let mut w = Writer {
            out: Some(&mut b[12..]),
            len: 0,
        };
        write_capabilities(config, &mut w);
    }
    Ok(total)
}

/// Writes a NOTIFICATION (header included); returns its length.
pub fn emit_notification(
    code: NotificationCode,
    data: &[u8],
    buffer: &mut [u8],
) -> Result<usize, EncodeError> {
    let total = HEADER_LEN + 2 + data.len();
    if total > header::MAX_MESSAGE_LEN {
        return Err(EncodeError::TooLong {
            length: total,
            max: header::MAX_MESSAGE_LEN,
        });
    }
    if buffer.len() < total {
        return Err(EncodeError::InsufficientSize { required: total });
    }
    header::emit(buffer, total, MessageType::Notification)?;
    buffer[HEADER_LEN] = u8::from(code.code);
    buffer[HEADER_LEN + 1] = code.subcode;
    buffer[HEADER_LEN + 2..total].copy_from_slice(data);
    Ok(total)
}

/// Reads a NOTIFICATION's code and data (the header has been checked).
pub fn parse_notification(message: &[u8]) -> (NotificationCode, &[u8]) {
    match message.get(HEADER_LEN..) {
        Some([code, subcode, data @ ..]) => (NotificationCode::from_wire(*code, *subcode), data),
        _ => (NotificationCode::from_wire(0, 0), &[]),
    }
}

/// Builds a Cease data field carrying a shutdown communication (RFC 9003 §2): a
/// length octet and up to 255 octets of UTF-8, cut at a character boundary.
pub fn shutdown_communication(text: &str, buffer: &mut [u8; 256]) -> usize {
    let mut n = text.len().min(255);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    buffer[0] = n as u8;
    buffer[1..=n].copy_from_slice(&text.as_bytes()[..n]);
    n + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr};

    /// The seed log's OPEN (entry 16): AS 4200000001, hold 6, id 1, MP 1/1, route
    /// refresh, 4-octet AS, ADD-PATH 1/1 receive.
    #[test]
    fn seed_open_bytes() {
        let seed: [u8; 51] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0, 0x33, 1, 4, 0x5b, 0xa0, 0, 6, 0, 0, 0, 1, 0x16, 2, 0x14, 1, 4, 0, 1, 0,
            1, 2, 0, 0x41, 4, 0xfa, 0x56, 0xea, 1, 0x45, 4, 0, 1, 1, 1,
        ];
        let mut config = SessionConfig::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4_200_000_001, 1);
        config
            .capabilities
            .add_path
            .receive
            .insert(Family::IPV4_UNICAST);
        let mut buf = [0xa5u8; 64];
        let n = emit_open(&config, &mut buf).unwrap();
        assert_eq!(&buf[..n], &seed[..]);
        assert_eq!(buf[n], 0xa5);
        let open = parse_open(&seed).unwrap();
        assert_eq!(open.asn, 4_200_000_001);
        assert_eq!(open.hold_time, 6);
        assert_eq!(open.bgp_identifier, 1);
        assert!(
            open.capabilities
                .add_path
                .receive
                .contains(Family::IPV4_UNICAST)
        );
        assert!(open.capabilities.route_refresh);
    }

    #[test]
    fn notification_round_trip() {
        let mut buf = [0xa5u8; 32];
        let n = emit_notification(NotificationCode::HOLD_TIMER_EXPIRED, &[], &mut buf).unwrap();
        assert_eq!(&buf[16..n], &[0, 21, 3, 4, 0]);
        assert_eq!(
            parse_notification(&buf[..n]),
            (NotificationCode::HOLD_TIMER_EXPIRED, &[][..])
        );
        assert_eq!(
            emit_notification(NotificationCode::HOLD_TIMER_EXPIRED, &[], &mut buf[..20]),
            Err(EncodeError::InsufficientSize { required: 21 })
        );
    }
}
