//! Encoding UPDATE messages (RFC 4271 §4.3) into a caller's buffer, packing as
//! many prefixes as the session's largest message allows (RFC 8654).
//!
//! Order of calls: withdrawn prefixes, then path attributes (typed, or bytes
//! encoded once for an update group), then either classic NLRI or an
//! MP_REACH_NLRI / MP_UNREACH_NLRI opened with `begin_mp_*` and filled with
//! `mp_nlri` (then classic NLRI may still follow), then [`UpdateBuilder::finish`].

use super::super::Negotiated;
use super::super::attribute::{Flags, MpNextHop, PathAttribute, type_code};
use super::super::error::EncodeError;
use super::super::family::{Afi, Family};
use super::super::header::{self, HEADER_LEN, MessageType};
use super::super::nlri::{Nlri, Prefix};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Withdrawn,
    Attributes,
    Mp,
    Nlri,
}

#[derive(Clone, Copy, Debug)]
struct OpenMp {
    /// Offset of the attribute's flags octet.
    start: usize,
    /// Whether the header has the 2-octet length (once the value passes 255).
    extended: bool,
    family: Family,
    add_path: bool,
}

/// Builds one UPDATE message in a caller's buffer.
///
/// Nothing is written to the buffer where a call returns an error or `Ok(false)`.
#[derive(Debug)]
pub struct UpdateBuilder<'b> {
    buf: &'b mut [u8],
    max_len: usize,
    four_octet_as: bool,
    v4_add_path: bool,
    add_path_send: super::super::FamilySet,
    phase: Phase,
    pos: usize,
    withdrawn_end: usize,
    attributes_end: usize,
    mp: Option<OpenMp>,
    mp_used: bool,
}

impl<'b> UpdateBuilder<'b> {
    /// A builder for a session with `negotiated` parameters (ADD-PATH "send"
    /// families decide whether prefixes carry path identifiers).
    pub fn new(buf: &'b mut [u8], negotiated: &Negotiated) -> Result<Self, EncodeError> {
        let min = HEADER_LEN + 4;
        if buf.len() < min {
            return Err(EncodeError::InsufficientSize { required: min });
        }
        Ok(UpdateBuilder {
            buf,
            max_len: negotiated.max_message_len(),
            four_octet_as: negotiated.four_octet_as,
            v4_add_path: negotiated.add_path_send.contains(Family::IPV4_UNICAST),
            add_path_send: negotiated.add_path_send,
            phase: Phase::Withdrawn,
            pos: HEADER_LEN + 2,
            withdrawn_end: HEADER_LEN + 2,
            attributes_end: 0,
            mp: None,
            mp_used: false,
        })
    }

    /// Bytes still free for content, keeping room for the Total Path Attribute
    /// Length field while withdrawn routes are written.
    fn room(&self) -> usize {
        let limit = self.max_len.min(self.buf.len());
        let reserve = if self.phase == Phase::Withdrawn { 2 } else { 0 };
        limit.saturating_sub(self.pos + reserve)
    }

    /// An error for `n` more bytes that do not fit.
    fn too_big(&self, n: usize) -> EncodeError {
        let total = self.pos + n + if self.phase == Phase::Withdrawn { 2 } else { 0 };
        if total > self.max_len {
            EncodeError::TooLong {
                length: total,
                max: self.max_len,
            }
        } else {
            EncodeError::InsufficientSize { required: total }
        }
    }

    fn check_nlri(n: &Nlri, afi: Afi, add_path: bool) -> Result<(), EncodeError> {
        let afi_ok = matches!(
            (n.prefix, afi),
            (Prefix::V4(_), Afi::Ipv4) | (Prefix::V6(_), Afi::Ipv6)
        );
        if !afi_ok {
            return Err(EncodeError::Invalid {
                what: "prefix of another address family",
            });
        }
        if n.path_id.is_some() != add_path {
            return Err(EncodeError::Invalid {
                what: "path identifier presence does not match ADD-PATH",
            });
        }
        Ok(())
    }

    fn put_nlri(&mut self, n: &Nlri) -> bool {
        if n.buffer_len() > self.room() {
            return false;
        }
        let pos = self.pos;
        self.pos += n.emit(&mut self.buf[pos..]).unwrap_or(0);
        true
    }

    /// Adds a withdrawn IPv4 unicast prefix (§4.3 Withdrawn Routes); `Ok(false)`
    /// when it does not fit the message.
    pub fn withdraw(&mut self, n: &Nlri) -> Result<bool, EncodeError> {
        if self.phase != Phase::Withdrawn {
            return Err(EncodeError::Invalid {
                what: "withdrawn routes after path attributes",
            });
        }
        Self::check_nlri(n, Afi::Ipv4, self.v4_add_path)?;
        let fit = self.put_nlri(n);
        self.withdrawn_end = self.pos;
        Ok(fit)
    }

    fn enter_attributes(&mut self) -> Result<(), EncodeError> {
        match self.phase {
            Phase::Withdrawn => {
                self.withdrawn_end = self.pos;
                self.pos += 2;
                self.phase = Phase::Attributes;
                Ok(())
            }
            Phase::Attributes => Ok(()),
            Phase::Mp | Phase::Nlri => Err(EncodeError::Invalid {
                what: "path attributes after NLRI",
            }),
        }
    }

    fn check_attributes_open(&self) -> Result<(), EncodeError> {
        if matches!(self.phase, Phase::Mp | Phase::Nlri) {
            return Err(EncodeError::Invalid {
                what: "path attributes after NLRI",
            });
        }
        Ok(())
    }

    /// Adds a typed path attribute.
    pub fn attribute(&mut self, a: &PathAttribute<'_>) -> Result<(), EncodeError> {
        self.check_attributes_open()?;
        let n = a.buffer_len(self.four_octet_as);
        if n > self.room_after_attr_start() {
            return Err(self.too_big(n));
        }
        self.enter_attributes()?;
        let pos = self.pos;
        self.pos += a.emit(&mut self.buf[pos..], self.four_octet_as)?;
        Ok(())
    }

    /// Adds path attributes already encoded (flags, type, length, value each),
    /// such as an update group's shared attributes.
    pub fn raw_attributes(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.check_attributes_open()?;
        if bytes.len() > self.room_after_attr_start() {
            return Err(self.too_big(bytes.len()));
        }
        self.enter_attributes()?;
        let pos = self.pos;
        self.buf[pos..pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
        Ok(())
    }

    /// Room for attribute bytes once the attribute field has begun.
    fn room_after_attr_start(&self) -> usize {
        if matches!(self.phase, Phase::Mp | Phase::Nlri) {
            return 0;
        }
        self.room()
    }

    fn begin_mp(
        &mut self,
        type_code: u8,
        family: Family,
        next_hop: Option<MpNextHop>,
    ) -> Result<(), EncodeError> {
        self.check_attributes_open()?;
        if self.mp_used {
            return Err(EncodeError::Invalid {
                what: "one MP attribute per UPDATE",
            });
        }
        if !super::super::attribute::family_supported(family) {
            return Err(EncodeError::Invalid {
                what: "address family not supported",
            });
        }
        let nh = next_hop.map_or(0, |h| h.wire_len() + 2);
        let n = 3 + 3 + nh;
        if n > self.room_after_attr_start() {
            return Err(self.too_big(n));
        }
        self.enter_attributes()?;
        let start = self.pos;
        let out = &mut self.buf[start..start + n];
        out[0] = Flags::OPTIONAL;
        out[1] = type_code;
        out[3..5].copy_from_slice(&u16::from(family.afi).to_be_bytes());
        out[5] = family.safi.into();
        if let Some(h) = next_hop {
            out[6] = h.wire_len() as u8;
            h.write(&mut out[7..]);
            out[n - 1] = 0;
        }
        self.pos += n;
        self.phase = Phase::Mp;
        self.mp_used = true;
        self.mp = Some(OpenMp {
            start,
            extended: false,
            family,
            add_path: self.add_path_send.contains(family),
        });
        Ok(())
    }

    /// Opens an MP_REACH_NLRI for `family` with `next_hop` (RFC 4760 §3); fill it
    /// with [`UpdateBuilder::mp_nlri`].
    pub fn begin_mp_reach(
        &mut self,
        family: Family,
        next_hop: MpNextHop,
    ) -> Result<(), EncodeError> {
        self.begin_mp(type_code::MP_REACH_NLRI, family, Some(next_hop))
    }

    /// Opens an MP_UNREACH_NLRI for `family` (RFC 4760 §4); fill it with
    /// [`UpdateBuilder::mp_nlri`].
    pub fn begin_mp_unreach(&mut self, family: Family) -> Result<(), EncodeError> {
        self.begin_mp(type_code::MP_UNREACH_NLRI, family, None)
    }

    /// Adds a prefix to the open MP attribute; `Ok(false)` when it does not fit.
    pub fn mp_nlri(&mut self, n: &Nlri) -> Result<bool, EncodeError> {
        let (Phase::Mp, Some(mp)) = (self.phase, self.mp) else {
            return Err(EncodeError::Invalid {
                what: "no open MP attribute",
            });
        };
        Self::check_nlri(n, mp.family.afi, mp.add_path)?;
        let header = if mp.extended { 4 } else { 3 };
        let value_len = self.pos + n.buffer_len() - (mp.start + header);
        if value_len > usize::from(u16::MAX) {
            return Ok(false);
        }
        if !mp.extended && value_len > 255 {
            // The value outgrows a 1-octet length: move it up for a 2-octet one.
            if n.buffer_len() + 1 > self.room() {
                return Ok(false);
            }
            self.buf.copy_within(mp.start + 3..self.pos, mp.start + 4);
            self.buf[mp.start] |= Flags::EXTENDED_LENGTH;
            self.pos += 1;
            self.mp = Some(OpenMp {
                extended: true,
                ..mp
            });
        }
        Ok(self.put_nlri(n))
    }

    /// Closes the open MP attribute: writes its length and moves it to the front
    /// of the attributes (RFC 7606 §5.1).
    fn close_mp(&mut self) {
        let Some(mp) = self.mp.take() else { return };
        if mp.extended {
            let value_len = (self.pos - (mp.start + 4)) as u16;
            self.buf[mp.start + 2..mp.start + 4].copy_from_slice(&value_len.to_be_bytes());
        } else {
            self.buf[mp.start + 2] = (self.pos - (mp.start + 3)) as u8;
        }
        let attributes_start = self.withdrawn_end + 2;
        let mp_len = self.pos - mp.start;
        self.buf[attributes_start..self.pos].rotate_right(mp_len);
    }

    /// Adds an IPv4 unicast prefix to the NLRI field; `Ok(false)` when it does
    /// not fit.
    pub fn nlri(&mut self, n: &Nlri) -> Result<bool, EncodeError> {
        Self::check_nlri(n, Afi::Ipv4, self.v4_add_path)?;
        match self.phase {
            Phase::Withdrawn => {
                if n.buffer_len() > self.room() {
                    return Ok(false);
                }
                self.enter_attributes()?;
                self.attributes_end = self.pos;
            }
            Phase::Attributes => self.attributes_end = self.pos,
            Phase::Mp => {
                self.close_mp();
                self.attributes_end = self.pos;
            }
            Phase::Nlri => {}
        }
        self.phase = Phase::Nlri;
        Ok(self.put_nlri(n))
    }

    /// Writes the header and length fields; returns the message length.
    pub fn finish(mut self) -> Result<usize, EncodeError> {
        match self.phase {
            Phase::Withdrawn => {
                self.enter_attributes()?;
                self.attributes_end = self.pos;
            }
            Phase::Attributes => self.attributes_end = self.pos,
            Phase::Mp => {
                self.close_mp();
                self.attributes_end = self.pos;
            }
            Phase::Nlri => {}
        }
        let w = self.withdrawn_end;
        let withdrawn_len = (w - (HEADER_LEN + 2)) as u16;
        self.buf[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&withdrawn_len.to_be_bytes());
        let attributes_len = (self.attributes_end - (w + 2)) as u16;
        self.buf[w..w + 2].copy_from_slice(&attributes_len.to_be_bytes());
        header::emit(self.buf, self.pos, MessageType::Update)?;
        Ok(self.pos)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for UpdateBuilder<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "UpdateBuilder {{ length: {=usize} }}", self.pos);
    }
}
