//! NOTIFICATION error codes and subcodes, named in the RFCs' words.
//!
//! RFC 4271 §4.5 and §6 (codes 1-6 and their subcodes), RFC 5492 §5 (Unsupported
//! Capability), RFC 6608 (FSM error subcodes), RFC 4486 and RFC 8538 (Cease
//! subcodes), RFC 7313 §5 (ROUTE-REFRESH Message Error), RFC 9234 (Role Mismatch).

use core::fmt;

/// A NOTIFICATION error code (RFC 4271 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorCode {
    /// 1: Message Header Error (§6.1).
    MessageHeader,
    /// 2: OPEN Message Error (§6.2).
    OpenMessage,
    /// 3: UPDATE Message Error (§6.3).
    UpdateMessage,
    /// 4: Hold Timer Expired (§6.5).
    HoldTimerExpired,
    /// 5: Finite State Machine Error (§6.6, RFC 6608).
    FiniteStateMachine,
    /// 6: Cease (§6.7, RFC 4486).
    Cease,
    /// 7: ROUTE-REFRESH Message Error (RFC 7313 §5).
    RouteRefreshMessage,
    /// Any other code, kept as received.
    Unknown(u8),
}

impl From<u8> for ErrorCode {
    fn from(v: u8) -> Self {
        match v {
            1 => ErrorCode::MessageHeader,
            2 => ErrorCode::OpenMessage,
            3 => ErrorCode::UpdateMessage,
            4 => ErrorCode::HoldTimerExpired,
            5 => ErrorCode::FiniteStateMachine,
            6 => ErrorCode::Cease,
            7 => ErrorCode::RouteRefreshMessage,
            other => ErrorCode::Unknown(other),
        }
    }
}

impl From<ErrorCode> for u8 {
    fn from(c: ErrorCode) -> u8 {
        match c {
            ErrorCode::MessageHeader => 1,
            ErrorCode::OpenMessage => 2,
            ErrorCode::UpdateMessage => 3,
            ErrorCode::HoldTimerExpired => 4,
            ErrorCode::FiniteStateMachine => 5,
            ErrorCode::Cease => 6,
            ErrorCode::RouteRefreshMessage => 7,
            ErrorCode::Unknown(v) => v,
        }
    }
}

impl ErrorCode {
    /// The code's name as the RFC spells it.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::MessageHeader => "Message Header Error",
            ErrorCode::OpenMessage => "OPEN Message Error",
            ErrorCode::UpdateMessage => "UPDATE Message Error",
            ErrorCode::HoldTimerExpired => "Hold Timer Expired",
            ErrorCode::FiniteStateMachine => "Finite State Machine Error",
            ErrorCode::Cease => "Cease",
            ErrorCode::RouteRefreshMessage => "ROUTE-REFRESH Message Error",
            ErrorCode::Unknown(_) => "Unknown error code",
        }
    }
}

/// Subcodes of Message Header Error (RFC 4271 §4.5).
pub mod header_subcode {
    /// 1: Connection Not Synchronized.
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    /// 2: Bad Message Length.
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    /// 3: Bad Message Type.
    pub const BAD_MESSAGE_TYPE: u8 = 3;
}

/// Subcodes of OPEN Message Error (RFC 4271 §4.5, RFC 5492, RFC 9234).
pub mod open_subcode {
    /// 1: Unsupported Version Number.
    pub const UNSUPPORTED_VERSION_NUMBER: u8 = 1;
    /// 2: Bad Peer AS.
    pub const BAD_PEER_AS: u8 = 2;
    /// 3: Bad BGP Identifier.
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    /// 4: Unsupported Optional Parameter.
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    /// 6: Unacceptable Hold Time.
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    /// 7: Unsupported Capability (RFC 5492 §5).
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    /// 11: Role Mismatch (RFC 9234).
    pub const ROLE_MISMATCH: u8 = 11;
}

/// Subcodes of UPDATE Message Error (RFC 4271 §4.5).
pub mod update_subcode {
    /// 1: Malformed Attribute List.
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    /// 2: Unrecognized Well-known Attribute.
    pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
    /// 3: Missing Well-known Attribute.
    pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
    /// 4: Attribute Flags Error.
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    /// 5: Attribute Length Error.
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    /// 6: Invalid ORIGIN Attribute.
    pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
    /// 8: Invalid NEXT_HOP Attribute.
    pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
    /// 9: Optional Attribute Error.
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    /// 10: Invalid Network Field.
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    /// 11: Malformed AS_PATH.
    pub const MALFORMED_AS_PATH: u8 = 11;
}

/// Subcodes of Finite State Machine Error (RFC 6608 §3).
pub mod fsm_subcode {
    /// 0: Unspecified Error.
    pub const UNSPECIFIED: u8 = 0;
    /// 1: Receive Unexpected Message in OpenSent State.
    pub const UNEXPECTED_MESSAGE_IN_OPEN_SENT: u8 = 1;
    /// 2: Receive Unexpected Message in OpenConfirm State.
    pub const UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM: u8 = 2;
    /// 3: Receive Unexpected Message in Established State.
    pub const UNEXPECTED_MESSAGE_IN_ESTABLISHED: u8 = 3;
}

/// Subcodes of Cease (RFC 4486 §4, RFC 8538 §5, RFC 9384).
pub mod cease_subcode {
    /// 1: Maximum Number of Prefixes Reached.
    pub const MAXIMUM_NUMBER_OF_PREFIXES_REACHED: u8 = 1;
    /// 2: Administrative Shutdown.
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    /// 3: Peer De-configured.
    pub const PEER_DECONFIGURED: u8 = 3;
    /// 4: Administrative Reset.
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    /// 5: Connection Rejected.
    pub const CONNECTION_REJECTED: u8 = 5;
    /// 6: Other Configuration Change.
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    /// 7: Connection Collision Resolution.
    pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
    /// 8: Out of Resources.
    pub const OUT_OF_RESOURCES: u8 = 8;
    /// 9: Hard Reset (RFC 8538).
    pub const HARD_RESET: u8 = 9;
    /// 10: BFD Down (RFC 9384).
    pub const BFD_DOWN: u8 = 10;
}

/// Subcodes of ROUTE-REFRESH Message Error (RFC 7313 §5).
pub mod route_refresh_subcode {
    /// 1: Invalid Message Length.
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// An error code with its subcode: what a NOTIFICATION says went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NotificationCode {
    /// The error code.
    pub code: ErrorCode,
    /// The subcode; 0 where the code defines none.
    pub subcode: u8,
}

impl NotificationCode {
    /// Builds a code from its wire values.
    pub fn from_wire(code: u8, subcode: u8) -> Self {
        NotificationCode {
            code: code.into(),
            subcode,
        }
    }

    /// A code with its subcode.
    pub const fn new(code: ErrorCode, subcode: u8) -> Self {
        NotificationCode { code, subcode }
    }

    /// Hold Timer Expired (4/0).
    pub const HOLD_TIMER_EXPIRED: NotificationCode =
        NotificationCode::new(ErrorCode::HoldTimerExpired, 0);

    /// The subcode's name as the RFC spells it, where it has one.
    pub const fn subcode_name(&self) -> Option<&'static str> {
        let s = self.subcode;
        Some(match self.code {
            ErrorCode::MessageHeader => match s {
                1 => "Connection Not Synchronized",
                2 => "Bad Message Length",
                3 => "Bad Message Type",
                _ => return None,
            },
            ErrorCode::OpenMessage => match s {
                0 => "Unspecific",
                1 => "Unsupported Version Number",
                2 => "Bad Peer AS",
                3 => "Bad BGP Identifier",
                4 => "Unsupported Optional Parameter",
                5 => "Authentication Failure (deprecated)",
                6 => "Unacceptable Hold Time",
                7 => "Unsupported Capability",
                11 => "Role Mismatch",
                _ => return None,
            },
            ErrorCode::UpdateMessage => match s {
                1 => "Malformed Attribute List",
                2 => "Unrecognized Well-known Attribute",
                3 => "Missing Well-known Attribute",
                4 => "Attribute Flags Error",
                5 => "Attribute Length Error",
                6 => "Invalid ORIGIN Attribute",
                7 => "AS Routing Loop (deprecated)",
                8 => "Invalid NEXT_HOP Attribute",
                9 => "Optional Attribute Error",
                10 => "Invalid Network Field",
                11 => "Malformed AS_PATH",
                _ => return None,
            },
            ErrorCode::FiniteStateMachine => match s {
                0 => "Unspecified Error",
                1 => "Receive Unexpected Message in OpenSent State",
                2 => "Receive Unexpected Message in OpenConfirm State",
                3 => "Receive Unexpected Message in Established State",
                _ => return None,
            },
            ErrorCode::Cease => match s {
                1 => "Maximum Number of Prefixes Reached",
                2 => "Administrative Shutdown",
                3 => "Peer De-configured",
                4 => "Administrative Reset",
                5 => "Connection Rejected",
                6 => "Other Configuration Change",
                7 => "Connection Collision Resolution",
                8 => "Out of Resources",
                9 => "Hard Reset",
                10 => "BFD Down",
                _ => return None,
            },
            ErrorCode::RouteRefreshMessage => match s {
                1 => "Invalid Message Length",
                _ => return None,
            },
            ErrorCode::HoldTimerExpired | ErrorCode::Unknown(_) => return None,
        })
    }
}

impl fmt::Display for NotificationCode {
    /// `4 (Hold Timer Expired) / 0`, or with the subcode's name where it has one:
    /// `6 (Cease) / 2 (Administrative Shutdown)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) / {}",
            u8::from(self.code),
            self.code.name(),
            self.subcode
        )?;
        if let Some(name) = self.subcode_name() {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}
