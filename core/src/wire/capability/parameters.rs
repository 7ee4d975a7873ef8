//! The Optional Parameters field of an OPEN (RFC 4271 §4.2) in its two forms:
//! 1-octet lengths, or the extended form of RFC 9072 §2 with 2-octet lengths.
//! nexthop knows one parameter type, Capabilities (RFC 5492 §4).

use super::{CAPABILITIES_PARAMETER, Capabilities, validate};
use crate::wire::codes::{ErrorCode, open_subcode};
use crate::wire::error::{DecodeError, ErrorData, ErrorKind};

/// Optional Parameter type that marks the extended form (RFC 9072 §2).
pub const EXTENDED_LENGTH_PARAMETER: u8 = 255;

/// Offset of the (Non-Extended) Optional Parameters Length octet in an OPEN.
const OPT_PARM_LEN: usize = 28;
/// Where the parameters start in the RFC 4271 form.
const PARAMETERS: usize = 29;
/// Where they start in the extended form (RFC 9072 §2).
const EXTENDED_PARAMETERS: usize = 32;

/// Optional parameter lengths that do not add up: OPEN Message Error /
/// Unspecific (RFC 4271 §6.2: a recognized optional parameter that is malformed).
const fn malformed_parameters(offset: usize) -> DecodeError {
    DecodeError::reset(
        ErrorKind::MalformedOptionalParameters,
        offset,
        ErrorCode::OpenMessage,
        0,
        ErrorData::Empty,
    )
}

/// Reads and checks the Optional Parameters of `message`, a whole OPEN whose
/// Optional Parameters Length octet is `opt_parm_len`.
///
/// RFC 9072 §2: a non-zero length followed by type 255 is the extended form,
/// whose 2-octet length follows (the 1-octet length is then ignored). Either
/// length must cover the rest of the message exactly, and each parameter must
/// fit in it (else 2/0); a parameter other than Capabilities is 2/4; each
/// Capabilities parameter must hold well-formed capabilities (else 2/0).
pub(crate) fn parse(message: &[u8], opt_parm_len: u8) -> Result<Capabilities<'_>, DecodeError> {
    let rest = message.get(PARAMETERS..).unwrap_or_default();
    let extended = opt_parm_len != 0 && rest.first() == Some(&EXTENDED_LENGTH_PARAMETER);
    let (start, parameters) = if extended {
        let Some(&[l0, l1]) = rest.get(1..3) else {
            return Err(malformed_parameters(OPT_PARM_LEN));
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let parameters = rest.get(3..).unwrap_or_default();
        (
            EXTENDED_PARAMETERS,
            Some(parameters).filter(|p| p.len() == len),
        )
    } else {
        let len = usize::from(opt_parm_len);
        (PARAMETERS, Some(rest).filter(|p| p.len() == len))
    };
    let Some(parameters) = parameters else {
        return Err(malformed_parameters(OPT_PARM_LEN));
    };

    let mut walk = parameters;
    let mut count = 0;
    let mut only = &[][..];
    while !walk.is_empty() {
        let at = start + (parameters.len() - walk.len());
        let Some((parameter_type, value, header)) = next_parameter(&mut walk, extended) else {
            return Err(malformed_parameters(at));
        };
        if parameter_type != CAPABILITIES_PARAMETER {
            return Err(DecodeError::reset(
                ErrorKind::UnsupportedOptionalParameter { parameter_type },
                at,
                ErrorCode::OpenMessage,
                open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
                ErrorData::Empty,
            ));
        }
        validate(value, at + header)?;
        count += 1;
        only = value;
    }
    Ok(if count <= 1 {
        Capabilities::Wire(only)
    } else {
        Capabilities::Parameters {
            parameters,
            extended,
        }
    })
}

/// Splits the first optional parameter off `bytes`: type, value, and the length
/// of its header (2, or 3 in the extended form). `None` (and `bytes` emptied)
/// when it does not fit.
pub(crate) fn next_parameter<'a>(
    bytes: &mut &'a [u8],
    extended: bool,
) -> Option<(u8, &'a [u8], usize)> {
    let all: &'a [u8] = bytes;
    let (parameter_type, len, header) = match (all, extended) {
        (&[t, l, ..], false) => (t, usize::from(l), 2),
        (&[t, l0, l1, ..], true) => (t, usize::from(u16::from_be_bytes([l0, l1])), 3),
        _ => {
            *bytes = &[];
            return None;
        }
    };
    let Some((whole, rest)) = all.split_at_checked(header + len) else {
        *bytes = &[];
        return None;
    };
    *bytes = rest;
    Some((
        parameter_type,
        whole.get(header..).unwrap_or_default(),
        header,
    ))
}

/// How `capabilities_len` octets of capabilities are laid out after the BGP
/// Identifier: in one Capabilities parameter (none if there are none), in the
/// extended form only when that parameter would exceed 255 octets (RFC 9072 §2).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    capabilities_len: usize,
}

impl Layout {
    pub(crate) const fn new(capabilities_len: usize) -> Self {
        Layout { capabilities_len }
    }

    const fn extended(&self) -> bool {
        2 + self.capabilities_len > 255
    }

    /// Bytes of the lengths and parameter header in front of the capabilities,
    /// the (Non-Extended) Optional Parameters Length octet included.
    pub(crate) const fn header_len(&self) -> usize {
        match self.capabilities_len {
            0 => 1,
            _ if self.extended() => 7,
            _ => 3,
        }
    }

    /// Bytes from the Optional Parameters Length octet to the end of the OPEN.
    pub(crate) const fn field_len(&self) -> usize {
        self.header_len() + self.capabilities_len
    }

    /// The bytes of [`Layout::header_len`]: `[0]`; `[2 + n, 2, n]`; or, extended,
    /// `[255, 255, (3 + n) as 2 octets, 2, n as 2 octets]`.
    pub(crate) fn header(&self) -> ([u8; 7], usize) {
        let n = self.capabilities_len;
        let mut h = [0u8; 7];
        if n == 0 {
            return (h, 1);
        }
        if self.extended() {
            let [e0, e1] = ((3 + n) as u16).to_be_bytes();
            let [n0, n1] = (n as u16).to_be_bytes();
            h = [
                255,
                EXTENDED_LENGTH_PARAMETER,
                e0,
                e1,
                CAPABILITIES_PARAMETER,
                n0,
                n1,
            ];
            (h, 7)
        } else {
            h[..3].copy_from_slice(&[(2 + n) as u8, CAPABILITIES_PARAMETER, n as u8]);
            (h, 3)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::wire::capability::Capability;
    use crate::wire::family::Family;
    use crate::wire::open::Open;
    use crate::wire::open::tests::{assert_error, open_bytes, with_params};

    /// §6.2: "If one of the Optional Parameters in the OPEN message is not
    /// supported, then the Error Subcode MUST be set to Unsupported Optional
    /// Parameter." Type 1 (Authentication, deprecated) is one.
    #[test]
    fn unsupported_optional_parameter_is_2_4() {
        // A capabilities parameter, then an Authentication parameter.
        let m = with_params(&[2, 2, 70, 0, 1, 3, 9, 9, 9]);
        assert_error(
            &m,
            ErrorKind::UnsupportedOptionalParameter { parameter_type: 1 },
            33,
            (2, 4),
            &[],
        );
    }

    /// §6.2: a recognized optional parameter that is malformed is OPEN Message
    /// Error / Unspecific (0). Optional Parameters Length past the message, or
    /// short of it, is such a case.
    #[test]
    fn optional_parameters_length_that_does_not_fit_is_2_0() {
        let kind = ErrorKind::MalformedOptionalParameters;
        // Length says 8, 4 bytes follow.
        let m = open_bytes(4, 90, 1, 8, &[2, 2, 70, 0]);
        assert_error(&m, kind, 28, (2, 0), &[]);
        // Length says 2, 4 bytes follow.
        let m = open_bytes(4, 90, 1, 2, &[2, 2, 70, 0]);
        assert_error(&m, kind, 28, (2, 0), &[]);
        // Length says 0, bytes follow.
        let m = open_bytes(4, 90, 1, 0, &[2, 0]);
        assert_error(&m, kind, 28, (2, 0), &[]);
    }

    /// A parameter whose own length runs past the Optional Parameters.
    #[test]
    fn parameter_length_past_the_field_is_2_0() {
        let m = with_params(&[2, 0, 2, 5, 70, 0]);
        assert_error(&m, ErrorKind::MalformedOptionalParameters, 31, (2, 0), &[]);
        // A lone type octet.
        let m = with_params(&[2, 0, 2]);
        assert_error(&m, ErrorKind::MalformedOptionalParameters, 31, (2, 0), &[]);
    }

    /// RFC 9072 §2: extended form whose 2-octet length does not fit the message,
    /// and one too short to hold that length.
    #[test]
    fn extended_length_that_does_not_fit_is_2_0() {
        let m = open_bytes(4, 90, 1, 255, &[255, 0, 9, 2, 0, 2, 70, 0]);
        assert_error(&m, ErrorKind::MalformedOptionalParameters, 28, (2, 0), &[]);
        let m = open_bytes(4, 90, 1, 2, &[255, 0]);
        assert_error(&m, ErrorKind::MalformedOptionalParameters, 28, (2, 0), &[]);
        // A parameter with a 2-octet length past the field.
        let m = open_bytes(4, 90, 1, 255, &[255, 0, 5, 2, 0, 9, 70, 0]);
        assert_error(&m, ErrorKind::MalformedOptionalParameters, 32, (2, 0), &[]);
    }

    /// RFC 5492 §4: a capability whose length runs past its parameter, or whose
    /// length does not fit its code, is malformed: 2/0 at the capability.
    #[test]
    fn malformed_capabilities_are_2_0() {
        for (caps, code, at) in [
            // 4-octet AS with 2 octets.
            (&[65u8, 2, 0, 1][..], 65u8, 0usize),
            // Multiprotocol with 3.
            (&[1, 3, 0, 1, 1], 1, 0),
            // Route refresh, extended message, enhanced route refresh with a value.
            (&[2, 1, 0], 2, 0),
            (&[6, 1, 0], 6, 0),
            (&[70, 1, 0], 70, 0),
            // ADD-PATH not a multiple of 4, after a good route refresh.
            (&[2, 0, 69, 5, 0, 1, 1, 1, 1], 69, 2),
            // Graceful Restart of 1 octet, and of 2 + 3.
            (&[64, 1, 0], 64, 0),
            (&[64, 5, 0, 90, 0, 1, 1], 64, 0),
            // Extended next hop not a multiple of 6.
            (&[5, 4, 0, 1, 0, 1], 5, 0),
            // Length past the parameter.
            (&[65, 4, 0, 0], 65, 0),
            // A lone code octet at the end.
            (&[2, 0, 70], 70, 2),
        ] {
            let mut params = Vec::from([2u8, caps.len() as u8]);
            params.extend_from_slice(caps);
            let m = with_params(&params);
            assert_error(
                &m,
                ErrorKind::MalformedCapability { code },
                31 + at,
                (2, 0),
                &[],
            );
        }
    }

    /// RFC 5492 §4: several capabilities in one parameter, or one per
    /// parameter (as older speakers send them), are the same list.
    #[test]
    fn one_parameter_or_several_give_the_same_capabilities() {
        let one = with_params(&[
            2, 14, // one Capabilities parameter
            1, 4, 0, 1, 0, 1, // MP ipv4-unicast
            2, 0, // route refresh
            65, 4, 0, 0, 0xfd, 0xe9, // 4-octet AS 65001
        ]);
        let several = with_params(&[
            2, 6, 1, 4, 0, 1, 0, 1, // MP ipv4-unicast
            2, 2, 2, 0, // route refresh
            2, 0, // an empty Capabilities parameter
            2, 6, 65, 4, 0, 0, 0xfd, 0xe9, // 4-octet AS 65001
        ]);
        let expected = [
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65001),
        ];
        let a = Open::parse(&one).unwrap();
        let b = Open::parse(&several).unwrap();
        assert!(a.capabilities.iter().eq(expected));
        assert!(b.capabilities.iter().eq(expected));
        assert!(matches!(
            b.capabilities,
            Capabilities::Parameters {
                extended: false,
                ..
            }
        ));
        assert_eq!(a, b);
        assert_eq!(b.asn(), 65001);
        // Re-emitted, both become the single-parameter form.
        let mut buf = [0xa5u8; 64];
        let n = b.emit(&mut buf).unwrap();
        assert_eq!(&buf[..n], &one[..]);
    }

    /// RFC 9072 §2: the extended form must be accepted even when the
    /// parameters would fit 255 octets, with several parameters too.
    #[test]
    fn extended_form_parses() {
        let m = open_bytes(
            4,
            90,
            1,
            255,
            &[255, 0, 12, 2, 0, 2, 2, 0, 2, 0, 4, 6, 0, 0, 0],
        );
        let open = Open::parse(&m).unwrap();
        assert!(matches!(
            open.capabilities,
            Capabilities::Parameters { extended: true, .. }
        ));
        assert!(open.capabilities.iter().eq([
            Capability::RouteRefresh,
            Capability::ExtendedMessage,
            Capability::Unknown {
                code: 0,
                value: &[]
            },
        ]));
        // One extended parameter: the Wire form.
        let m = open_bytes(4, 90, 1, 1, &[255, 0, 5, 2, 0, 2, 70, 0]);
        let open = Open::parse(&m).unwrap();
        assert_eq!(open.capabilities, Capabilities::Wire(&[70, 0]));
    }

    /// RFC 9072 §2: the extended form is emitted only when one Capabilities
    /// parameter would exceed 255 octets: 253 octets of capabilities stay in
    /// the RFC 4271 form, 254 do not.
    #[test]
    fn extended_form_only_past_255_octets() {
        let value = [7u8; 252];
        for (value_len, extended) in [(251usize, false), (252, true)] {
            let caps = [Capability::Unknown {
                code: 200,
                value: &value[..value_len],
            }];
            let caps: &[Capability<'_>] = &caps;
            let open = Open {
                my_as: 65001,
                hold_time: 90,
                bgp_identifier: 1,
                capabilities: Capabilities::List(caps),
            };
            let mut buf = [0xa5u8; 400];
            let n = open.emit(&mut buf).unwrap();
            assert_eq!(n, open.buffer_len());
            assert_eq!(usize::from(u16::from_be_bytes([buf[16], buf[17]])), n);
            if extended {
                assert_eq!(&buf[28..35], &[255, 255, 1, 1, 2, 0, 254]);
                assert_eq!(n, 29 + 3 + 3 + 254);
            } else {
                assert_eq!(&buf[28..31], &[255, 2, 253]);
                assert_eq!(n, 29 + 2 + 253);
            }
            assert!(buf[n..].iter().all(|&b| b == 0xa5));
            let parsed = Open::parse(&buf[..n]).unwrap();
            assert_eq!(parsed, open);
        }
    }
}
