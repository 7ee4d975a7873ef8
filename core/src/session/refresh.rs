//! Asking the peer to send its routes again: the ROUTE-REFRESH request (RFC 2918
//! §3, §4), an application mutator of the session. The message goes out through
//! [`Session::poll_transmit`] like every other the session writes.
//!
//! A request is the Normal subtype (0) whether or not Enhanced Route Refresh was
//! negotiated: RFC 7313 §4 keeps subtype 0 for the request and gives BoRR and EoRR
//! to the speaker that answers it.

use core::fmt;

use crate::wire::family::Family;

use super::Session;
use super::log::SessionLog;

/// Why [`Session::request_route_refresh`] refused to ask for a route refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteRefreshError {
    /// The session is not Established: there is no session to send it on.
    NotEstablished,
    /// The Route Refresh Capability was not advertised by both sides (RFC 2918
    /// §4: a speaker may send ROUTE-REFRESH only if it received the capability).
    NotAdvertised,
    /// The family was not negotiated on this session (RFC 2918 §4: the AFI/SAFI
    /// must be one the peer advertised).
    FamilyNotNegotiated(Family),
}

impl fmt::Display for RouteRefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteRefreshError::NotEstablished => f.write_str("session not Established"),
            RouteRefreshError::NotAdvertised => {
                f.write_str("route refresh capability not advertised by both sides")
            }
            RouteRefreshError::FamilyNotNegotiated(family) => {
                write!(f, "family {family} not negotiated")
            }
        }
    }
}

impl core::error::Error for RouteRefreshError {}

impl<L: SessionLog> Session<L> {
    // ----- application mutators -------------------------------------------------

    /// Asks the peer to send its routes of `family` again (RFC 2918 §3, a Normal
    /// request): a ROUTE-REFRESH is queued on the Established connection and
    /// written by [`Session::poll_transmit`]. Requests for a family not sent yet
    /// are one message. Refused, with nothing queued, unless the session is
    /// Established, both sides advertised the Route Refresh Capability and
    /// `family` was negotiated (RFC 2918 §4).
    pub fn request_route_refresh(&mut self, family: Family) -> Result<(), RouteRefreshError> {
        let slot = self
            .established_slot()
            .ok_or(RouteRefreshError::NotEstablished)?;
        let Some(c) = self.connections[slot].as_mut() else {
            return Err(RouteRefreshError::NotEstablished);
        };
        let info = c.info.ok_or(RouteRefreshError::NotEstablished)?;
        if !info.route_refresh {
            return Err(RouteRefreshError::NotAdvertised);
        }
        if !info.families.contains(family) {
            return Err(RouteRefreshError::FamilyNotNegotiated(family));
        }
        c.route_refresh.insert(family);
        Ok(())
    }
}
