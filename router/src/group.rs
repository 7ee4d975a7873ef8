//! Update groups: peers that would be sent exactly the same UPDATEs share one
//! group, which keeps one Adj-RIB-Out (RFC 4271 §3.2) and encodes each UPDATE once
//! for all its members.
//!
//! Every entry of the Adj-RIB-Out carries the version (flush number) at which it
//! last changed, and a withdrawn path stays as a tombstone until every member has
//! been sent its withdrawal, so a member that fell behind (or just joined) is brought up to date
//! by walking the Adj-RIB-Out for entries newer than what it has, instead of
//! replaying a queue of stale messages.

use crate::time::Duration;
use std::collections::VecDeque;

use smallvec::SmallVec;
use std::sync::Arc;

use crate::attributes::{AttrRef, FxHashMap};
use crate::chunk_map::ChunkMap;
use crate::encode::{EncodeParams, UpdateEncoder};
use crate::export::Target;
use crate::peer::AddPathSend;
use crate::policy::Policy;
use crate::prefix::{FamilyKind, Ipv4Prefix, Ipv6Prefix, PerFamily, RoutePrefix, Same};
use crate::rib::PeerId;
use crate::time::Instant;

/// Everything that makes two peers' output identical.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupKey {
    /// The kind of peer and our addresses on its sessions.
    pub target: Target,
    /// The export policy.
    pub export: Policy,
    /// The 4-octet AS capability.
    pub four_octet_as: bool,
    /// Per family: `None` if not negotiated, else the ADD-PATH send mode in
    /// effect (best only when the session did not negotiate sending).
    pub modes: PerFamily<Same<Option<AddPathSend>>>,
    /// Per family: the session negotiated sending ADD-PATH, so every NLRI
    /// carries a path identifier, whichever paths are sent (RFC 7911 §3).
    pub path_ids: PerFamily<Same<bool>>,
    /// The largest message the peers accept.
    pub max_message_len: usize,
    /// The MinRouteAdvertisementInterval.
    pub mrai: Duration,
}

impl GroupKey {
    /// The encoding parameters for the family of `P`.
    pub fn params<P: RoutePrefix>(&self) -> EncodeParams {
        EncodeParams {
            four_octet_as: self.four_octet_as,
            add_path: *self.path_ids.get::<P>(),
            max_message_len: self.max_message_len,
        }
    }

    /// The ADD-PATH send mode of `P`'s family; `None` if the family was not
    /// negotiated.
    pub fn mode<P: RoutePrefix>(&self) -> Option<AddPathSend> {
        *self.modes.get::<P>()
    }
}

/// One path as advertised to the group.
#[derive(Clone, Debug)]
pub struct OutPath {
    /// The path identifier sent (RFC 7911); 0 without ADD-PATH.
    pub out_id: u32,
    /// The peer the path was learned from.
    pub source: PeerId,
    /// Its path identifier there.
    pub source_path_id: u32,
    /// The flush at which this entry last changed.
    pub version: Version,
    /// The attributes sent; `None` for a withdrawn path kept as a tombstone.
    pub attrs: Option<AttrRef>,
}

const _: () = assert!(std::mem::size_of::<OutPath>() == 24);

/// A group's flush count, which versions its Adj-RIB-Out entries (32 bits: a
/// flush a second would take 136 years to wrap).
pub type Version = u32;

/// The paths advertised for one prefix: one, inline, without ADD-PATH.
pub type OutPaths = SmallVec<[OutPath; 1]>;

/// A group's state for one family.
#[derive(Debug)]
pub struct GroupFamily<P> {
    /// What the members have been sent, by prefix, in prefix order (so a walk can
    /// resume from a key).
    pub adj_rib_out: ChunkMap<P, OutPaths>,
    /// Prefixes changed since the last flush, possibly repeated (sorted and
    /// deduplicated when taken, or when repeats could have doubled it).
    pub pending: Vec<P>,
    pending_distinct: usize,
    /// Prefixes given a tombstone, with its version, oldest first, so tombstones
    /// are purged in time proportional to their number.
    pub tombstones: VecDeque<(P, Version)>,
    /// Prefixes of `adj_rib_out` with a live (not withdrawn) path.
    live: u32,
    /// Of those, the ones whose live paths all come from one peer, by peer: a
    /// member is not sent its own paths (split horizon), so it is advertised
    /// `live` less its own count.
    sole: FxHashMap<PeerId, u32>,
}

impl<P: RoutePrefix> Default for GroupFamily<P> {
    fn default() -> Self {
        GroupFamily {
            adj_rib_out: ChunkMap::new(),
            pending: Vec::new(),
            pending_distinct: 0,
            tombstones: VecDeque::new(),
            live: 0,
            sole: FxHashMap::default(),
        }
    }
}

/// What an Adj-RIB-Out entry counts as: `None` with no live path, else
/// `Some(Some(peer))` when every live path comes from `peer`, `Some(None)` when
/// they come from several.
pub fn out_class(entry: Option<&OutPaths>) -> Option<Option<PeerId>> {
    let mut live = entry?.iter().filter(|o| o.attrs.is_some());
    let first = live.next()?.source;
    Some(live.all(|o| o.source == first).then_some(first))
}

impl<P: RoutePrefix> GroupFamily<P> {
    /// Counts a change of one entry from class `before` to `after`
    /// ([`out_class`]).
    pub fn recount(&mut self, before: Option<Option<PeerId>>, after: Option<Option<PeerId>>) {
        if before == after {
            return;
        }
        if let Some(b) = before {
            self.live -= 1;
            if let Some(src) = b
                && let Some(n) = self.sole.get_mut(&src)
            {
                *n -= 1;
                if *n == 0 {
                    self.sole.remove(&src);
                }
            }
        }
        if let Some(a) = after {
            self.live += 1;
            if let Some(src) = a {
                *self.sole.entry(src).or_insert(0) += 1;
            }
        }
    }

    /// Prefixes advertised to `member`: those with a live path from a peer
    /// other than itself. O(1).
    pub fn advertised_to(&self, member: PeerId) -> u32 {
        self.live - self.sole.get(&member).copied().unwrap_or(0)
    }

    /// Notes that `prefix` must be looked at in the next flush.
    pub fn mark(&mut self, prefix: P) {
        self.pending.push(prefix);
        // A prefix flapping within one MRAI would otherwise grow the list without
        // bound: deduplicate once it has doubled since the last time.
        if self.pending.len() > 2 * self.pending_distinct + 1024 {
            self.pending.sort_unstable();
            self.pending.dedup();
            self.pending_distinct = self.pending.len();
        }
    }

    /// Drops tombstones (and emptied entries) of version `safe` or older: every
    /// member has been sent, or has dropped and will walk past, their withdrawal.
    pub fn purge_tombstones(&mut self, safe: Version) {
        while let Some(&(prefix, v)) = self.tombstones.front() {
            if v > safe {
                break;
            }
            self.tombstones.pop_front();
            if let Some(e) = self.adj_rib_out.get_mut(&prefix) {
                e.retain(|o| o.attrs.is_some() || o.version > safe);
                if e.is_empty() {
                    self.adj_rib_out.remove(&prefix);
                }
            }
        }
    }

    /// Takes the pending prefixes, in prefix order.
    pub fn take_pending(&mut self) -> Vec<P> {
        self.pending_distinct = 0;
        let mut v = std::mem::take(&mut self.pending);
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Export memo key: source attributes (by address), source peer and its BGP
/// Identifier at the time (it becomes ORIGINATOR_ID), export policy rule, and
/// whether the prefix is IPv6 (the exported next hop depends on the family).
pub type MemoKey = (usize, PeerId, u32, u16, bool);

/// An update group.
#[derive(Debug)]
pub struct UpdateGroup {
    /// What the members share.
    pub key: GroupKey,
    /// The members, in join order.
    pub members: Vec<PeerId>,
    /// The state of each family.
    pub families: PerFamily<GroupFamilyKind>,
    /// Number of flushes so far; the version of the newest Adj-RIB-Out entries.
    pub version: Version,
    /// When the next flush is due, if anything is pending.
    pub flush_at: Option<Instant>,
    /// When the last flush ran.
    pub last_flush: Option<Instant>,
    /// Exported attributes by source attributes, source peer and export rule, so a
    /// set is transformed once however many prefixes share it.
    pub memo: FxHashMap<MemoKey, (AttrRef, AttrRef)>,
}

impl UpdateGroup {
    /// An empty group for `key`.
    pub fn new(key: GroupKey) -> Self {
        UpdateGroup {
            key,
            members: Vec::new(),
            families: PerFamily::default(),
            version: 0,
            flush_at: None,
            last_flush: None,
            memo: FxHashMap::default(),
        }
    }

    /// Whether `peer` is a member.
    pub fn is_member(&self, peer: PeerId) -> bool {
        self.members.contains(&peer)
    }

    /// Schedules a flush: now if the last was at least an MRAI ago, else at the
    /// MRAI's end (RFC 4271 §9.2.1.1).
    pub fn schedule(&mut self, now: Instant) {
        if self.flush_at.is_none() {
            let earliest = self
                .last_flush
                .map_or(now, |t| t.saturating_add(self.key.mrai));
            self.flush_at = Some(earliest.max(now));
        }
    }
}

/// Which members a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Every member.
    All,
    /// Every member but one: the peer the path came from.
    AllExcept(PeerId),
    /// One member only.
    Only(PeerId),
}

impl Audience {
    /// Whether `peer` is in the audience.
    pub fn includes(self, peer: PeerId) -> bool {
        match self {
            Audience::All => true,
            Audience::AllExcept(p) => p != peer,
            Audience::Only(p) => p == peer,
        }
    }
}

/// The content of an UPDATE, for one family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update<P> {
    /// Withdrawn (path identifier, prefix) pairs.
    pub withdrawn: Vec<(u32, P)>,
    /// The attributes of the announced prefixes.
    pub attrs: Option<AttrRef>,
    /// Announced (path identifier, prefix) pairs.
    pub announced: Vec<(u32, P)>,
}

/// What a message says, beside its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// An IPv4 unicast UPDATE.
    Ipv4(Update<Ipv4Prefix>),
    /// An IPv6 unicast UPDATE.
    Ipv6(Update<Ipv6Prefix>),
    /// End-of-RIB (RFC 4724 §2) for IPv4 (`false`) or IPv6 (`true`) unicast.
    EndOfRib {
        /// The family is IPv6.
        ipv6: bool,
    },
}

/// One or more encoded UPDATEs, back to back, shared by every peer they go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The messages as they go on the wire.
    pub bytes: Box<[u8]>,
    /// What each says, in order (for simulation and inspection; the wire carries
    /// `bytes`). Empty when not kept
    /// ([`crate::router::RouterConfig::keep_message_content`] off); an
    /// End-of-RIB always says so.
    pub content: Vec<Content>,
}

impl Message {
    /// Whether this is (or ends with) an End-of-RIB marker.
    pub fn is_end_of_rib(&self) -> bool {
        matches!(self.content.last(), Some(Content::EndOfRib { .. }))
    }

    /// The UPDATEs in `bytes`, each a whole message.
    pub fn updates(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = &self.bytes[..];
        std::iter::from_fn(move || {
            let len = nexthop_core::wire::header::frame(rest, usize::MAX).ok()??;
            let (one, tail) = rest.split_at(len);
            rest = tail;
            Some(one)
        })
    }
}

/// [`GroupFamily`] as what a group keeps per family.
#[derive(Debug)]
pub struct GroupFamilyKind;

impl FamilyKind for GroupFamilyKind {
    type Of<P: RoutePrefix> = GroupFamily<P>;
}

/// The constructor of [`Content`] for each family's [`Update`].
struct UpdateKind;

impl FamilyKind for UpdateKind {
    type Of<P: RoutePrefix> = fn(Update<P>) -> Content;
}

/// The [`Content`] variant of each family's UPDATE.
const CONTENT: PerFamily<UpdateKind> = PerFamily {
    ipv4: Content::Ipv4,
    ipv6: Content::Ipv6,
};

/// (path identifier, prefix) pairs.
pub type Nlri<P> = Vec<(u32, P)>;

/// Changes collected in one flush or walk step, grouped for packing: withdrawals
/// by audience, announcements by attribute set and audience.
#[derive(Debug)]
pub struct Batch<P> {
    withdraw: Vec<(Audience, Nlri<P>)>,
    announce: Vec<(AttrRef, Audience, Nlri<P>)>,
    index: FxHashMap<(usize, Audience), usize>,
    last: Option<((usize, Audience), usize)>,
}

impl<P: RoutePrefix> Default for Batch<P> {
    fn default() -> Self {
        Batch {
            withdraw: Vec::new(),
            announce: Vec::new(),
            index: FxHashMap::default(),
            last: None,
        }
    }
}

impl<P: RoutePrefix> Batch<P> {
    /// Adds a withdrawal.
    pub fn withdraw(&mut self, audience: Audience, id: u32, prefix: P) {
        match self.withdraw.iter_mut().find(|(a, _)| *a == audience) {
            Some((_, v)) => v.push((id, prefix)),
            None => self.withdraw.push((audience, vec![(id, prefix)])),
        }
    }

    /// Adds an announcement.
    pub fn announce(&mut self, audience: Audience, attrs: &AttrRef, id: u32, prefix: P) {
        let key = (attrs.addr(), audience);
        // Neighbouring prefixes mostly share attributes: skip the lookup then.
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let i = *self.index.entry(key).or_insert_with(|| {
                    self.announce.push((attrs.clone(), audience, Vec::new()));
                    self.announce.len() - 1
                });
                self.last = Some((key, i));
                i
            }
        };
        self.announce[i].2.push((id, prefix));
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.withdraw.is_empty() && self.announce.is_empty()
    }

    /// Encodes the batch, withdrawals first, as many prefixes per message as fit,
    /// skipping audiences for which `wanted` says no one listens; returns how
    /// many UPDATEs were encoded. Consecutive UPDATEs for the same audience are
    /// handed to `deliver` together, back to back in one [`Message`] of at most
    /// [`COALESCE_BYTES`] (or one UPDATE, if larger; with Extended Messages,
    /// RFC 8654, one UPDATE can be up to 65535 octets), so a member's output holds
    /// one entry per run rather than per UPDATE and the runtime sends the run as
    /// one contiguous slice. Each UPDATE's [`Content`] is kept if `keep_content`.
    pub fn encode<E: UpdateEncoder>(
        self,
        encoder: &mut E,
        params: &EncodeParams,
        keep_content: bool,
        mut wanted: impl FnMut(Audience) -> bool,
        mut deliver: impl FnMut(Audience, Arc<Message>),
    ) -> u64 {
        let mut count = 0;
        let mut run = Run::default();
        for (audience, nlri) in self.withdraw {
            if !wanted(audience) {
                continue;
            }
            let mut rest = &nlri[..];
            while !rest.is_empty() {
                let bytes = run.open(audience, &mut deliver);
                let at = bytes.len();
                let n = encoder.withdraw(params, rest, bytes);
                if n == 0 {
                    bytes.truncate(at);
                    break;
                }
                run.appended(at, &mut deliver);
                if keep_content {
                    run.content.push(CONTENT.get::<P>()(Update {
                        withdrawn: rest[..n].to_vec(),
                        attrs: None,
                        announced: Vec::new(),
                    }));
                }
                rest = &rest[n..];
                count += 1;
            }
        }
        for (attrs, audience, nlri) in self.announce {
            if !wanted(audience) {
                continue;
            }
            let encoded = encoder.path_attributes(params, &attrs);
            let mut rest = &nlri[..];
            while !rest.is_empty() {
                let bytes = run.open(audience, &mut deliver);
                let at = bytes.len();
                let n = encoder.announce(params, &attrs, &encoded, rest, bytes);
                if n == 0 {
                    // The attributes leave no room for a prefix: not sendable.
                    bytes.truncate(at);
                    break;
                }
                run.appended(at, &mut deliver);
                if keep_content {
                    run.content.push(CONTENT.get::<P>()(Update {
                        withdrawn: Vec::new(),
                        attrs: Some(attrs.clone()),
                        announced: rest[..n].to_vec(),
                    }));
                }
                rest = &rest[n..];
                count += 1;
            }
        }
        run.close(&mut deliver);
        count
    }
}

/// Most bytes of consecutive UPDATEs for one audience put in one [`Message`].
pub const COALESCE_BYTES: usize = 64 * 1024;

/// The UPDATEs being gathered into one [`Message`] for one audience.
#[derive(Default)]
struct Run {
    audience: Option<Audience>,
    bytes: Vec<u8>,
    content: Vec<Content>,
}

impl Run {
    /// The buffer the next UPDATE for `audience` is appended to: this run's,
    /// unless it is for another audience, in which case the run is delivered
    /// and a new one begun.
    fn open(
        &mut self,
        audience: Audience,
        deliver: &mut impl FnMut(Audience, Arc<Message>),
    ) -> &mut Vec<u8> {
        if self.audience != Some(audience) {
            self.close(deliver);
            self.audience = Some(audience);
            self.bytes = Vec::with_capacity(4096);
        }
        &mut self.bytes
    }

    /// After an UPDATE was appended at `at`: if it took the run past
    /// [`COALESCE_BYTES`], the run before it is delivered and the UPDATE begins
    /// the next one (so a run is at most `COALESCE_BYTES`, or one UPDATE).
    fn appended(&mut self, at: usize, deliver: &mut impl FnMut(Audience, Arc<Message>)) {
        if self.bytes.len() <= COALESCE_BYTES || at == 0 {
            return;
        }
        let audience = self.audience;
        let next = self.bytes.split_off(at);
        self.close(deliver);
        self.audience = audience;
        self.bytes = next;
    }

    /// Delivers the run, if it holds anything.
    fn close(&mut self, deliver: &mut impl FnMut(Audience, Arc<Message>)) {
        let Some(audience) = self.audience.take() else {
            return;
        };
        let bytes = std::mem::take(&mut self.bytes);
        if bytes.is_empty() {
            return;
        }
        deliver(
            audience,
            Arc::new(Message {
                bytes: bytes.into_boxed_slice(),
                content: std::mem::take(&mut self.content),
            }),
        );
    }
}
