//! The UPDATE message (RFC 4271 §4.3), validated in one walk per RFC 4271 §6.3
//! and RFC 7606, then read through cheap views; and [`UpdateBuilder`] to encode.
//!
//! [`Update::parse`] fails only where RFC 7606 calls for a session reset (or
//! AFI/SAFI disable). Lesser errors leave an `Update` whose
//! [`Update::treat_as_withdraw`] says its prefixes must be withdrawn, and whose
//! [`Update::discarded`] names the attributes dropped.
//!
//! Choices where the RFCs leave room (per-attribute ones are in
//! `attribute/validate.rs`):
//! - a malformed MP_REACH_NLRI / MP_UNREACH_NLRI whose AFI/SAFI can be read is
//!   reported with [`ErrorAction::AfiSafiDisable`] (RFC 7606 §7.11, §5.3), one too
//!   short to name its family with session reset. nexthop negotiates no way to
//!   stop one family alone, so callers reset the session for both; the action
//!   still names the family at fault. An AFI/SAFI nexthop does not parse (other
//!   than IPv4/IPv6 unicast/multicast) is treated the same way (RFC 4760 §7);
//! - an attribute list that overruns its length is treat-as-withdraw (RFC 7606
//!   §4); MP attributes after the point of overrun cannot be found, which is why
//!   RFC 7606 §5.1 asks senders to put them first ([`UpdateBuilder`] does);
//! - a treat-as-withdraw error in an UPDATE that has path attributes but no
//!   reachable NLRI becomes a session reset (RFC 7606 §5.2);
//! - NEXT_HOP in an UPDATE without classic NLRI is ignored (RFC 4760 §3): if
//!   malformed it is discarded rather than withdrawing the MP_REACH_NLRI routes;
//! - LOCAL_PREF is not required (RFC 7606 §3 (d) names only the mandatory
//!   attributes); AS_PATH and AS4_PATH are not merged (RFC 6793 §4.2.3).

mod builder;

pub use builder::UpdateBuilder;

use core::net::Ipv4Addr;

use super::Negotiated;
use super::attribute::validate::{self, Verdict};
use super::attribute::{
    Aggregator, AsPath, ClusterList, Communities, ExtendedCommunities, Items, LargeCommunities,
    MpReachNlri, MpUnreachNlri, Origin, PathAttribute, PrefixIter, RawAttribute, RawAttributes,
    Span, type_code,
};
use super::codes::{ErrorCode, header_subcode, update_subcode};
use super::error::{DecodeError, ErrorAction, ErrorData, ErrorKind};
use super::family::{Afi, Family};
use super::header::{HEADER_LEN, Header, MessageType};
use super::nlri::{self, NlriIter};

/// Slots in the index of kept attributes: one per attribute type nexthop knows.
const SLOTS: usize = 16;

/// The index slot of a known attribute type.
const fn slot(type_code: u8) -> Option<usize> {
    match type_code {
        1..=10 => Some(type_code as usize - 1),
        14..=18 => Some(type_code as usize - 4),
        32 => Some(15),
        _ => None,
    }
}

/// An error the walk found, kept small so the view stays small; the full
/// [`DecodeError`] is rebuilt when asked for (errors are rare, views are many).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Fault {
    /// The attribute at this offset failed its checks; running them again gives
    /// the error.
    Attribute(u16),
    /// The same, reported as attribute discard (NEXT_HOP without classic NLRI).
    Ignored(u16),
    /// A repeated attribute at this offset (RFC 7606 §3 (g)).
    Duplicate(u16),
    /// A missing mandatory attribute (RFC 7606 §3 (d)).
    Missing(u8),
    /// The attribute list overruns its length from this offset (RFC 7606 §4).
    Overrun(u16),
}

/// A set of attribute type codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TypeCodeSet([u64; 4]);

impl TypeCodeSet {
    /// Whether `type_code` is in the set.
    pub const fn contains(&self, type_code: u8) -> bool {
        (self.0[(type_code >> 6) as usize] >> (type_code & 63)) & 1 != 0
    }

    fn insert(&mut self, type_code: u8) {
        self.0[usize::from(type_code >> 6)] |= 1u64 << (type_code & 63);
    }

    /// Whether the set is empty.
    pub const fn is_empty(&self) -> bool {
        self.0[0] | self.0[1] | self.0[2] | self.0[3] == 0
    }

    /// The type codes, in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=255u8).filter(|&t| self.contains(t))
    }
}

/// Whether the peer is inside or outside our AS (and confederation): some
/// RFC 7606 rules differ (§7.2, §7.5, §7.9, §7.10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PeerType {
    /// An iBGP peer, or a peer in another member AS of our confederation.
    #[default]
    Internal,
    /// An eBGP peer outside our confederation.
    External,
}

/// A validated UPDATE message: a `Copy` view over the message bytes.
#[derive(Clone, Copy, Debug)]
pub struct Update<'a> {
    message: &'a [u8],
    negotiated: Negotiated,
    withdrawn_end: u16,
    withdrawn_count: u16,
    attributes_end: u16,
    /// Where the attribute walk stopped (before `attributes_end` after an
    /// overrun, RFC 7606 §4).
    walked_end: u16,
    nlri_count: u16,
    /// Offset of the kept occurrence of each known attribute; 0 when absent,
    /// discarded or malformed.
    index: [u16; SLOTS],
    discarded: TypeCodeSet,
    withdraw: Option<Fault>,
    discard_fault: Option<Fault>,
    external: bool,
    /// No attribute was repeated, discarded or dropped as malformed: every one
    /// up to `walked_end` is the kept occurrence of its type, so
    /// [`Update::attributes`] needs neither the index nor a set of seen types.
    all_kept: bool,
}

fn be16(message: &[u8], at: usize) -> Option<usize> {
    let b = message.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
}

fn duplicate(offset: usize, type_code: u8) -> DecodeError {
    DecodeError::reset(
        ErrorKind::DuplicateAttribute { type_code },
        offset,
        ErrorCode::UpdateMessage,
        update_subcode::MALFORMED_ATTRIBUTE_LIST,
        ErrorData::Empty,
    )
}

fn malformed_list(offset: usize) -> DecodeError {
    DecodeError::reset(
        ErrorKind::MalformedAttributeList,
        offset,
        ErrorCode::UpdateMessage,
        update_subcode::MALFORMED_ATTRIBUTE_LIST,
        ErrorData::Empty,
    )
}

impl<'a> Update<'a> {
    /// Parses and validates a whole UPDATE message (header included).
    ///
    /// Returns `Err` only for errors whose action is session reset or AFI/SAFI
    /// disable (RFC 7606 §2): the header, the Withdrawn Routes Length or Total Path
    /// Attribute Length not fitting the message (§6.3, 3/1), a malformed prefix in
    /// the withdrawn routes or NLRI field (3/10, RFC 7606 §5.3), MP_REACH_NLRI or
    /// MP_UNREACH_NLRI twice (3/1, RFC 7606 §3 (g)) or malformed (§7.11), an
    /// unrecognized well-known attribute (3/2), and a treat-as-withdraw error in
    /// an UPDATE with nothing reachable to withdraw (RFC 7606 §5.2). When several
    /// errors are found the most severe wins (RFC 7606 §3).
    ///
    /// This applies the rules for an internal peer (see [`Update::parse_from`]).
    pub fn parse(message: &'a [u8], negotiated: &Negotiated) -> Result<Self, DecodeError> {
        Self::parse_from(message, negotiated, PeerType::Internal)
    }

    /// [`Update::parse`] for a peer of the given type: from an external peer
    /// LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are discarded (RFC 7606 §7.5,
    /// §7.9, §7.10) and an AS_PATH with confederation segments is malformed.
    pub fn parse_from(
        message: &'a [u8],
        negotiated: &Negotiated,
        peer: PeerType,
    ) -> Result<Self, DecodeError> {
        let header = Header::new_checked(message)?;
        let len = header.check(negotiated.max_message_len())?;
        if header.message_type() != MessageType::Update {
            return Err(DecodeError::reset(
                ErrorKind::BadMessageType {
                    message_type: message[18],
                },
                18,
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_TYPE,
                ErrorData::inline(&[message[18]]),
            ));
        }
        let Some(message) = message.get(..len) else {
            return Err(DecodeError::reset(
                ErrorKind::BadMessageLength { length: len as u16 },
                16,
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                ErrorData::span(16, 2),
            ));
        };
        // RFC 4271 §6.3: the two length fields must fit the message.
        let withdrawn_len = be16(message, HEADER_LEN).ok_or_else(|| malformed_list(HEADER_LEN))?;
        let withdrawn_end = HEADER_LEN + 2 + withdrawn_len;
        if withdrawn_end + 2 > len {
            return Err(malformed_list(HEADER_LEN));
        }
        let attributes_len =
            be16(message, withdrawn_end).ok_or_else(|| malformed_list(withdrawn_end))?;
        let attributes_start = withdrawn_end + 2;
        let attributes_end = attributes_start + attributes_len;
        if attributes_end > len {
            return Err(malformed_list(withdrawn_end));
        }
        let v4_add_path = negotiated.add_path_receive.contains(Family::IPV4_UNICAST);
        let withdrawn_count = nlri::check(
            message,
            HEADER_LEN + 2,
            withdrawn_end,
            Afi::Ipv4,
            v4_add_path,
        )?;

        let mut u = Update {
            message,
            negotiated: *negotiated,
            withdrawn_end: withdrawn_end as u16,
            withdrawn_count: withdrawn_count as u16,
            attributes_end: attributes_end as u16,
            walked_end: attributes_end as u16,
            nlri_count: 0,
            index: [0; SLOTS],
            discarded: TypeCodeSet::default(),
            withdraw: None,
            discard_fault: None,
            external: peer == PeerType::External,
            all_kept: true,
        };
        let mut seen = TypeCodeSet::default();
        let mut disable: Option<DecodeError> = None;
        let mut other_than_mp_unreach = false;
        let mut next_hop_error: Option<u16> = None;
        let mut at = attributes_start;
        while at < attributes_end {
            let Some((raw, size)) = RawAttribute::read(&message[at..attributes_end]) else {
                // RFC 7606 §4: the list overruns its length; the Total Path
                // Attribute Length still locates the NLRI.
                u.note_withdraw(Fault::Overrun(at as u16));
                u.walked_end = at as u16;
                break;
            };
            let tc = raw.type_code;
            other_than_mp_unreach |= tc != type_code::MP_UNREACH_NLRI;
            let span = Span {
                start: at,
                value: at + size - raw.value.len(),
                end: at + size,
            };
            if seen.contains(tc) {
                // RFC 7606 §3 (g).
                if matches!(tc, type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI) {
                    return Err(duplicate(at, tc));
                }
                u.note_discard(tc, Some(Fault::Duplicate(at as u16)));
                u.all_kept = false;
                at += size;
                continue;
            }
            seen.insert(tc);
            let fault = Fault::Attribute(at as u16);
            match validate::check(message, span, raw, negotiated, u.external) {
                Verdict::Valid => u.keep(tc, at),
                Verdict::Discard(e) => {
                    u.note_discard(tc, e.map(|_| fault));
                    u.all_kept = false;
                }
                // RFC 4760 §3: without classic NLRI, NEXT_HOP is ignored; its
                // verdict waits until the NLRI field is known.
                Verdict::Withdraw(_, _) if tc == type_code::NEXT_HOP => {
                    next_hop_error = Some(at as u16);
                    u.all_kept = false;
                }
                Verdict::Withdraw(_, readable) => {
                    u.note_withdraw(fault);
                    if readable {
                        u.keep(tc, at);
                    } else {
                        u.all_kept = false;
                    }
                }
                Verdict::Fatal(e) => {
                    u.all_kept = false;
                    if e.action == ErrorAction::SessionReset {
                        return Err(e);
                    }
                    disable.get_or_insert(e);
                }
            }
            at += size;
        }
        u.nlri_count = nlri::check(message, attributes_end, len, Afi::Ipv4, v4_add_path)? as u16;
        if let Some(e) = disable {
            return Err(e);
        }
        if let Some(at) = next_hop_error {
            if u.nlri_count > 0 {
                u.note_withdraw(Fault::Attribute(at));
            } else {
                u.note_discard(type_code::NEXT_HOP, Some(Fault::Ignored(at)));
            }
        }
        // RFC 7606 §3 (d): mandatory attributes, when there is NLRI. NEXT_HOP is
        // needed only for the classic NLRI field (RFC 4760 §3).
        if u.nlri_count > 0 || u.mp_reach_has_nlri() {
            let needed: &[u8] = if u.nlri_count > 0 {
                &[type_code::ORIGIN, type_code::AS_PATH, type_code::NEXT_HOP]
            } else {
                &[type_code::ORIGIN, type_code::AS_PATH]
            };
            if let Some(&missing) = needed.iter().find(|&&t| !seen.contains(t)) {
                u.note_withdraw(Fault::Missing(missing));
            }
        }
        // RFC 7606 §5.2: with path attributes but nothing reachable there is
        // nothing to treat as withdrawn; such an error resets the session.
        if let Some(f) = u.withdraw
            && u.nlri_count == 0
            && !seen.contains(type_code::MP_REACH_NLRI)
            && other_than_mp_unreach
        {
            return Err(u.error(f).with_action(ErrorAction::SessionReset));
        }
        Ok(u)
    }

    /// Whether the kept MP_REACH_NLRI has prefixes: its value runs past AFI,
    /// SAFI, next hop length, next hop and Reserved octet. (The walk kept it only
    /// if its next hop was readable, so this agrees with [`Update::mp_reach`]
    /// without decoding the next hop.)
    fn mp_reach_has_nlri(&self) -> bool {
        self.value(type_code::MP_REACH_NLRI)
            .is_some_and(|v| v.get(3).is_some_and(|&nh| v.len() > 5 + usize::from(nh)))
    }

    fn keep(&mut self, type_code: u8, at: usize) {
        if let Some(s) = slot(type_code) {
            self.index[s] = at as u16;
        }
    }

    fn note_withdraw(&mut self, f: Fault) {
        self.withdraw.get_or_insert(f);
    }

    fn note_discard(&mut self, type_code: u8, f: Option<Fault>) {
        self.discarded.insert(type_code);
        if self.discard_fault.is_none() {
            self.discard_fault = f;
        }
    }

    /// The full error for a fault the walk recorded.
    fn error(&self, fault: Fault) -> DecodeError {
        match fault {
            Fault::Attribute(at) | Fault::Ignored(at) => {
                let at = usize::from(at);
                let end = usize::from(self.walked_end);
                let e = self
                    .message
                    .get(at..end)
                    .and_then(RawAttribute::read)
                    .and_then(|(raw, size)| {
                        let span = Span {
                            start: at,
                            value: at + size - raw.value.len(),
                            end: at + size,
                        };
                        match validate::check(
                            self.message,
                            span,
                            raw,
                            &self.negotiated,
                            self.external,
                        ) {
                            Verdict::Discard(Some(e))
                            | Verdict::Withdraw(e, _)
                            | Verdict::Fatal(e) => Some(e),
                            Verdict::Valid | Verdict::Discard(None) => None,
                        }
                    })
                    .unwrap_or_else(|| malformed_list(at));
                if let Fault::Ignored(_) = fault {
                    e.with_action(ErrorAction::AttributeDiscard)
                } else {
                    e
                }
            }
            Fault::Duplicate(at) => {
                let at = usize::from(at);
                let tc = self.message.get(at + 1).copied().unwrap_or(0);
                duplicate(at, tc).with_action(ErrorAction::AttributeDiscard)
            }
            Fault::Missing(tc) => DecodeError::reset(
                ErrorKind::MissingWellKnownAttribute { type_code: tc },
                usize::from(self.withdrawn_end),
                ErrorCode::UpdateMessage,
                update_subcode::MISSING_WELL_KNOWN_ATTRIBUTE,
                ErrorData::inline(&[tc]),
            )
            .with_action(ErrorAction::TreatAsWithdraw),
            Fault::Overrun(at) => {
                malformed_list(usize::from(at)).with_action(ErrorAction::TreatAsWithdraw)
            }
        }
    }

    /// The whole message, header included.
    pub const fn message(&self) -> &'a [u8] {
        self.message
    }

    /// The session parameters it was parsed with.
    pub const fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// The error that makes every prefix of this UPDATE withdrawn, if any
    /// (RFC 7606 §2 "treat-as-withdraw"): the first one found. The caller
    /// withdraws [`Update::withdrawn`], [`Update::nlri`] and the prefixes of
    /// [`Update::mp_reach`] and [`Update::mp_unreach`] (see
    /// [`Update::all_withdrawn`] and [`Update::all_announced`]).
    ///
    /// The walk keeps only where the error was; this rebuilds the full error.
    pub fn treat_as_withdraw(&self) -> Option<DecodeError> {
        self.withdraw.map(|f| self.error(f))
    }

    /// Attributes that were discarded (RFC 7606 "attribute discard", duplicates
    /// per §3 (g), AS4_* from a 4-octet peer): their type codes.
    pub const fn discarded(&self) -> TypeCodeSet {
        self.discarded
    }

    /// The first attribute-discard error, for the log.
    pub fn discard_error(&self) -> Option<DecodeError> {
        self.discard_fault.map(|f| self.error(f))
    }

    /// The whole message this view reads, header included.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.message
    }

    /// The withdrawn routes field (classic IPv4 unicast, ADD-PATH per session).
    pub fn withdrawn(&self) -> NlriIter<'a> {
        let field = &self.message[HEADER_LEN + 2..usize::from(self.withdrawn_end)];
        NlriIter::new_unchecked(
            field,
            usize::from(self.withdrawn_count),
            Afi::Ipv4,
            self.v4_add_path(),
        )
    }

    /// The NLRI field (classic IPv4 unicast, ADD-PATH per session).
    pub fn nlri(&self) -> NlriIter<'a> {
        let field = &self.message[usize::from(self.attributes_end)..];
        NlriIter::new_unchecked(
            field,
            usize::from(self.nlri_count),
            Afi::Ipv4,
            self.v4_add_path(),
        )
    }

    fn v4_add_path(&self) -> bool {
        self.negotiated
            .add_path_receive
            .contains(Family::IPV4_UNICAST)
    }

    /// The path attributes field as received (duplicates and discarded ones
    /// included), each with its offset in the message.
    pub fn raw_attributes(&self) -> RawAttributes<'a> {
        let start = usize::from(self.withdrawn_end) + 2;
        RawAttributes::new(
            &self.message[start..usize::from(self.attributes_end)],
            start,
        )
    }

    /// The typed attributes, in received order, without discarded, duplicate or
    /// malformed ones.
    pub fn attributes(&self) -> Attributes<'a> {
        let start = usize::from(self.withdrawn_end) + 2;
        Attributes {
            raw: RawAttributes::new(&self.message[start..usize::from(self.walked_end)], start),
            index: self.index,
            seen: TypeCodeSet::default(),
            negotiated: self.negotiated,
            all_kept: self.all_kept,
        }
    }

    /// The kept occurrence of an attribute nexthop knows (see
    /// [`PathAttribute`]); `None` for other type codes.
    pub fn attribute(&self, type_code: u8) -> Option<RawAttribute<'a>> {
        let at = usize::from(self.index[slot(type_code)?]);
        if at == 0 {
            return None;
        }
        RawAttribute::read(self.message.get(at..)?).map(|(a, _)| a)
    }

    fn value(&self, type_code: u8) -> Option<&'a [u8]> {
        self.attribute(type_code).map(|a| a.value)
    }

    fn value_u32(&self, type_code: u8) -> Option<u32> {
        Some(u32::from_be_bytes(*self.value(type_code)?.first_chunk()?))
    }

    /// ORIGIN.
    pub fn origin(&self) -> Option<Origin> {
        self.value(type_code::ORIGIN)?.first().map(|&o| o.into())
    }

    /// AS_PATH, in the session's AS number width.
    pub fn as_path(&self) -> Option<AsPath<'a>> {
        Some(AsPath::Wire {
            bytes: self.value(type_code::AS_PATH)?,
            four_octet: self.negotiated.four_octet_as,
        })
    }

    /// NEXT_HOP.
    pub fn next_hop(&self) -> Option<Ipv4Addr> {
        self.value_u32(type_code::NEXT_HOP).map(Ipv4Addr::from_bits)
    }

    /// MULTI_EXIT_DISC.
    pub fn med(&self) -> Option<u32> {
        self.value_u32(type_code::MULTI_EXIT_DISC)
    }

    /// LOCAL_PREF.
    pub fn local_pref(&self) -> Option<u32> {
        self.value_u32(type_code::LOCAL_PREF)
    }

    /// Whether ATOMIC_AGGREGATE is present.
    pub fn atomic_aggregate(&self) -> bool {
        self.attribute(type_code::ATOMIC_AGGREGATE).is_some()
    }

    /// AGGREGATOR.
    pub fn aggregator(&self) -> Option<Aggregator> {
        Aggregator::read(
            self.value(type_code::AGGREGATOR)?,
            self.negotiated.four_octet_as,
        )
    }

    /// COMMUNITIES.
    pub fn communities(&self) -> Option<Communities<'a>> {
        self.value(type_code::COMMUNITIES).map(Items::Wire)
    }

    /// ORIGINATOR_ID.
    pub fn originator_id(&self) -> Option<Ipv4Addr> {
        self.value_u32(type_code::ORIGINATOR_ID)
            .map(Ipv4Addr::from_bits)
    }

    /// CLUSTER_LIST.
    pub fn cluster_list(&self) -> Option<ClusterList<'a>> {
        self.value(type_code::CLUSTER_LIST).map(Items::Wire)
    }

    /// EXTENDED_COMMUNITIES.
    pub fn extended_communities(&self) -> Option<ExtendedCommunities<'a>> {
        self.value(type_code::EXTENDED_COMMUNITIES).map(Items::Wire)
    }

    /// LARGE_COMMUNITY.
    pub fn large_communities(&self) -> Option<LargeCommunities<'a>> {
        self.value(type_code::LARGE_COMMUNITY).map(Items::Wire)
    }

    /// AS4_PATH (kept only on a 2-octet-AS session, RFC 6793 §4.2.3).
    pub fn as4_path(&self) -> Option<AsPath<'a>> {
        Some(AsPath::Wire {
            bytes: self.value(type_code::AS4_PATH)?,
            four_octet: true,
        })
    }

    /// AS4_AGGREGATOR (kept only on a 2-octet-AS session).
    pub fn as4_aggregator(&self) -> Option<Aggregator> {
        Aggregator::read(self.value(type_code::AS4_AGGREGATOR)?, true)
    }

    /// MP_REACH_NLRI, wherever it was in the list.
    pub fn mp_reach(&self) -> Option<MpReachNlri<'a>> {
        MpReachNlri::new_unchecked(self.value(type_code::MP_REACH_NLRI)?, &self.negotiated)
    }

    /// MP_UNREACH_NLRI, wherever it was in the list.
    pub fn mp_unreach(&self) -> Option<MpUnreachNlri<'a>> {
        MpUnreachNlri::new_unchecked(self.value(type_code::MP_UNREACH_NLRI)?, &self.negotiated)
    }

    /// Every prefix announced: the NLRI field, then MP_REACH_NLRI's.
    pub fn all_announced(&self) -> core::iter::Chain<NlriIter<'a>, PrefixIter<'a>> {
        let mp = match self.mp_reach() {
            Some(m) => m.nlri.iter(),
            None => super::attribute::Prefixes::List(&[]).iter(),
        };
        self.nlri().chain(mp)
    }

    /// Every prefix withdrawn: the withdrawn routes field, then MP_UNREACH_NLRI's.
    pub fn all_withdrawn(&self) -> core::iter::Chain<NlriIter<'a>, PrefixIter<'a>> {
        let mp = match self.mp_unreach() {
            Some(m) => m.withdrawn.iter(),
            None => super::attribute::Prefixes::List(&[]).iter(),
        };
        self.withdrawn().chain(mp)
    }

    /// The family whose End-of-RIB marker this is (RFC 4724 §2): an empty UPDATE
    /// for IPv4 unicast; for another family an UPDATE whose only attribute is an
    /// MP_UNREACH_NLRI with no prefixes.
    pub fn is_end_of_rib(&self) -> Option<Family> {
        if self.message.len() == HEADER_LEN + 4 {
            return Some(Family::IPV4_UNICAST);
        }
        if self.withdrawn_count != 0 || self.nlri_count != 0 {
            return None;
        }
        let mut attrs = self.raw_attributes();
        let (_, only) = attrs.next()?;
        if attrs.next().is_some() || only.type_code != type_code::MP_UNREACH_NLRI {
            return None;
        }
        let m = self.mp_unreach()?;
        m.withdrawn.is_empty().then_some(m.family)
    }
}

/// Iterator over the typed attributes of an [`Update`].
#[derive(Clone, Debug)]
pub struct Attributes<'a> {
    raw: RawAttributes<'a>,
    index: [u16; SLOTS],
    seen: TypeCodeSet,
    negotiated: Negotiated,
    all_kept: bool,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = PathAttribute<'a>;

    #[inline]
    fn next(&mut self) -> Option<PathAttribute<'a>> {
        if self.all_kept {
            // Every attribute is the kept one of its type (an unknown type
            // comes back as `Unknown` from `from_validated` too).
            let (_, raw) = self.raw.next()?;
            return Some(PathAttribute::from_validated(raw, &self.negotiated));
        }
        loop {
            let (at, raw) = self.raw.next()?;
            let tc = raw.type_code;
            if self.seen.contains(tc) {
                continue;
            }
            self.seen.insert(tc);
            if let Some(s) = slot(tc) {
                if usize::from(self.index[s]) != at {
                    continue;
                }
                return Some(PathAttribute::from_validated(raw, &self.negotiated));
            }
            return Some(PathAttribute::Unknown(raw));
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Update<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(
            f,
            "Update {{ length: {=usize}, withdrawn: {=u16}, nlri: {=u16}, treat_as_withdraw: {}, discarded: {} }}",
            self.message.len(),
            self.withdrawn_count,
            self.nlri_count,
            self.treat_as_withdraw(),
            self.discarded
        );
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Attributes<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "Attributes");
    }
}
