//! The router: every peer's routes in, the decision process, and every peer's
//! UPDATEs out (RFC 4271 §9: Phase 1 import, Phase 2 selection, Phase 3
//! dissemination), as a sans-IO state machine.
//!
//! Inputs are `handle_*` calls carrying `now`; outputs are taken with
//! [`Router::poll_transmit`]; [`Router::poll_timeout`] says when
//! [`Router::handle_timeout`] must next be called. Imported routes are decided in
//! batches at the next `handle_timeout`, and each update group's changes are sent at
//! most once per MinRouteAdvertisementInterval.

use crate::time::Duration;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::attributes::{AttrRef, AttributeStore, Attributes, FxHashMap, NextHop};
use crate::decision::{self, DecisionOptions, Reason, SelectionKey};
use crate::encode::UpdateEncoder;
use crate::export::{self, Local, Source, Target};
use crate::group::{
    Audience, Batch, Content, GroupKey, Message, OutPath, OutPaths, UpdateGroup, Version,
};
use crate::peer::{AddPathSend, FamilyParams, PeerConfig, SessionParams};
use crate::policy::Outcome;
use crate::prefix::{FamilyKind, IpPrefix, Ipv4Prefix, Ipv6Prefix, PerFamily, RoutePrefix, Same};
use crate::rib::{Change, Path, PeerId, Rib};
use crate::time::Instant;
use crate::wire::CoreEncoder;
use nexthop_core::wire::{DecodeError, Family};

mod catch_up;
mod dissemination;
mod import;
mod inspect;
mod reconfig;

pub use inspect::{Candidate, ExportExplanation, NotSent, Verdict};
pub use reconfig::Reconfigured;

use catch_up::{CatchUp, Output, WALKS_FROM_START, deliver};

/// The router's own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterConfig {
    /// Our AS.
    pub asn: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Our CLUSTER_ID (RFC 4456 §7); the router ID when `None`.
    pub cluster_id: Option<Ipv4Addr>,
    /// Decision process options.
    pub decision: DecisionOptions,
    /// LOCAL_PREF assumed for paths without one (RFC 4271 §5.1.5).
    pub default_local_pref: u32,
    /// Bytes of encoded output a peer may have waiting; past it the peer's queue is
    /// dropped and it catches up from the Adj-RIB-Out.
    pub output_limit: usize,
    /// Keep what each UPDATE says beside its bytes ([`Message::content`]), for
    /// simulation and inspection; on by default. A daemon turns it off: a peer
    /// needs only the bytes, and the copy would cost memory in every queue that
    /// the output limit, which counts bytes, does not see.
    pub keep_message_content: bool,
    /// Collect the prefixes whose best path changed, for
    /// [`Router::take_loc_rib_changes`] (a FIB or an API); off by default, since
    /// nobody would take them.
    pub report_loc_rib: bool,
}

impl RouterConfig {
    /// A router in AS `asn` with identifier `router_id` and default settings.
    pub fn new(asn: u32, router_id: Ipv4Addr) -> Self {
        RouterConfig {
            asn,
            router_id,
            cluster_id: None,
            decision: DecisionOptions::default(),
            default_local_pref: 100,
            output_limit: 1 << 20,
            report_loc_rib: false,
            keep_message_content: true,
        }
    }
}

/// Why an UPDATE could not be taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// No such peer.
    UnknownPeer,
    /// The peer's session is not Established.
    NotEstablished,
    /// The peer sent more prefixes than its `max_prefix`; the session should send
    /// Cease/Maximum Number of Prefixes Reached (RFC 4486 §4) and go down.
    MaxPrefix {
        /// The configured limit.
        limit: u32,
        /// The count reached.
        count: u32,
        /// The family of the UPDATE that passed it (for the Cease data, RFC 4486
        /// §4, and core's `Session::handle_max_prefix_exceeded`).
        family: Family,
    },
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::UnknownPeer => f.write_str("unknown peer"),
            ImportError::NotEstablished => f.write_str("session not established"),
            ImportError::MaxPrefix { limit, count, .. } => {
                write!(f, "maximum prefixes reached: {count} > {limit}")
            }
        }
    }
}

impl std::error::Error for ImportError {}

/// Why an UPDATE message was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateError {
    /// The message is malformed beyond treat-as-withdraw (RFC 7606 session reset
    /// or AFI/SAFI disable): send the NOTIFICATION it names and close.
    Decode(DecodeError),
    /// The router refused it (no session, or max-prefix).
    Import(ImportError),
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateError::Decode(e) => write!(f, "malformed UPDATE: {e}"),
            UpdateError::Import(e) => write!(f, "UPDATE refused: {e}"),
        }
    }
}

impl std::error::Error for UpdateError {}

/// Why a received path was not installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Our AS is in its AS_PATH (RFC 4271 §9.1.2).
    AsLoop,
    /// Its ORIGINATOR_ID is our router ID (RFC 4456 §8).
    OriginatorId,
    /// Our CLUSTER_ID is in its CLUSTER_LIST (RFC 4456 §8).
    ClusterList,
    /// An eBGP path whose first AS is not the peer's (enforce-first-AS).
    FirstAs,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// UPDATE messages encoded (one per message, however many peers get it).
    pub encoded_messages: u64,
    /// Paths rejected on import by loop detection or enforce-first-AS.
    pub rejected_paths: u64,
    /// Times a peer's output went over the limit and it was set to catch up.
    pub catch_ups: u64,
}

/// What the decision process and the export rules need of a peer.
#[derive(Clone, Copy, Debug)]
struct PeerFacts {
    ebgp: bool,
    rr_client: bool,
    router_id: Ipv4Addr,
    address: IpAddr,
}

#[derive(Debug)]
struct Peer {
    config: PeerConfig,
    ibgp: bool,
    session: Option<SessionParams>,
    group: Option<usize>,
    /// Prefixes accepted: each family has its own limit.
    prefixes: PerFamily<Same<u32>>,
    /// The paths the peer announces now that import policy or the loop checks
    /// rejected, so that what it sent is accepted plus these. Bounded by what
    /// it announces; cleared when its session goes down.
    rejected: PerFamily<RejectedKind>,
    /// With `config.keep_received`: every path it announces now, as received
    /// (before import policy), by prefix.
    received: PerFamily<ReceivedKind>,
    import_memo: FxHashMap<(usize, u16), (AttrRef, AttrRef)>,
    output: Output,
    removed: bool,
}

/// The (path identifier, prefix) pairs a peer announces that import rejected.
#[derive(Debug)]
pub struct RejectedKind;

impl FamilyKind for RejectedKind {
    type Of<P: RoutePrefix> = crate::attributes::FxHashSet<(u32, P)>;
}

/// The paths of one prefix as a peer sent them: (path identifier, attributes).
pub type ReceivedPaths = smallvec::SmallVec<[(u32, AttrRef); 1]>;

/// A peer's pre-policy Adj-RIB-In of one family.
#[derive(Debug)]
pub struct ReceivedKind;

impl FamilyKind for ReceivedKind {
    type Of<P: RoutePrefix> = crate::chunk_map::ChunkMap<P, ReceivedPaths>;
}

/// Gives back a pre-policy Adj-RIB-In's attribute references.
fn release_received(store: &mut AttributeStore, mut received: PerFamily<ReceivedKind>) {
    received.ipv4.retain(|_, v| {
        v.drain(..).for_each(|(_, a)| store.release(a));
        false
    });
    received.ipv6.retain(|_, v| {
        v.drain(..).for_each(|(_, a)| store.release(a));
        false
    });
}

/// [`Rib`] as what the router keeps per family.
#[derive(Debug)]
pub struct RibKind;

impl FamilyKind for RibKind {
    type Of<P: RoutePrefix> = Rib<P>;
}

/// The per-family tables.
pub type Ribs = PerFamily<RibKind>;

/// The hook that gives the interior cost to a NEXT_HOP (RFC 4271 §9.1.2.2 (e)),
/// or `None` when the NEXT_HOP is unresolvable and the path must be left out of
/// the decision (§9.1.2).
pub type IgpCost = Box<dyn Fn(&NextHop) -> Option<u32> + Send>;

/// Read-only context of the decision and export steps.
struct Ctx<'a> {
    local: &'a Local,
    facts: &'a [PeerFacts],
    igp_cost: Option<&'a IgpCost>,
    options: &'a DecisionOptions,
}

impl Ctx<'_> {
    fn facts(&self, peer: PeerId) -> PeerFacts {
        match self.facts.get(peer.0 as usize) {
            Some(f) if peer != PeerId::LOCAL => *f,
            _ => PeerFacts {
                ebgp: false,
                rr_client: false,
                router_id: self.local.router_id,
                address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            },
        }
    }

    /// The path's selection key, or `None` when the IGP-cost hook says its
    /// NEXT_HOP is unresolvable (RFC 4271 §9.1.2: left out of the decision).
    fn key_of(&self, path: &Path) -> Option<SelectionKey> {
        let f = self.facts(path.peer);
        let a = &path.attrs;
        let igp_cost = match (self.igp_cost, &a.next_hop) {
            (Some(hook), Some(nh)) => hook(nh)?,
            _ => 0,
        };
        Some(SelectionKey {
            local_pref: a.local_pref.unwrap_or(self.local.default_local_pref),
            locally_originated: path.peer == PeerId::LOCAL,
            as_path_len: a.as_path.route_selection_len(),
            origin: a.origin.code(),
            med: a.med.unwrap_or(0),
            neighbor_as: a.as_path.neighbor_as(),
            ebgp: f.ebgp,
            igp_cost,
            router_id: u32::from(a.originator_id.unwrap_or(f.router_id)),
            cluster_list_len: a.cluster_list.len() as u32,
            peer_address: f.address,
        })
    }

    fn source(&self, peer: PeerId) -> Source {
        if peer == PeerId::LOCAL {
            return Source::Local;
        }
        let f = self.facts(peer);
        if f.ebgp {
            Source::Ebgp
        } else {
            Source::Ibgp {
                client: f.rr_client,
                router_id: f.router_id,
            }
        }
    }
}

/// The routing half of a BGP speaker.
pub struct Router {
    config: RouterConfig,
    local: Local,
    peers: Vec<Peer>,
    facts: Vec<PeerFacts>,
    store: AttributeStore,
    ribs: Ribs,
    groups: Vec<Option<UpdateGroup>>,
    group_index: FxHashMap<GroupKey, usize>,
    encoder: CoreEncoder,
    igp_cost: Option<IgpCost>,
    now: Instant,
    stats: Stats,
    swept_at: usize,
    loc_rib_changes: Vec<IpPrefix>,
    /// Peers whose output went from nothing to something, for
    /// [`Router::poll_ready_peer`].
    ready: VecDeque<PeerId>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("config", &self.config)
            .field("peers", &self.peers.len())
            .field("groups", &self.group_index.len())
            .field("attribute_sets", &self.store.len())
            .finish()
    }
}

impl Router {
    /// A router with no peers and no routes.
    pub fn new(config: RouterConfig) -> Self {
        let local = Local {
            asn: config.asn,
            router_id: config.router_id,
            cluster_id: config.cluster_id.unwrap_or(config.router_id),
            default_local_pref: config.default_local_pref,
        };
        Router {
            config,
            local,
            peers: Vec::new(),
            facts: Vec::new(),
            store: AttributeStore::new(),
            ribs: Ribs::default(),
            groups: Vec::new(),
            group_index: FxHashMap::default(),
            encoder: CoreEncoder,
            igp_cost: None,
            now: Instant::ZERO,
            stats: Stats::default(),
            swept_at: 0,
            loc_rib_changes: Vec::new(),
            ready: VecDeque::new(),
        }
    }

    // ----- getters -----

    /// The router's settings.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The table of `P`'s family.
    pub fn rib<P: RoutePrefix>(&self) -> &Rib<P> {
        self.ribs.get::<P>()
    }

    /// The best path to `prefix` and the decision step that chose it.
    pub fn best<P: RoutePrefix>(&self, prefix: &P) -> Option<(&Path, Reason)> {
        self.ribs.get::<P>().best(prefix)
    }

    /// The prefixes whose best path changed (appeared, went, or became another
    /// path or other attributes) since the last call, each once per decision
    /// batch, when [`RouterConfig::report_loc_rib`] is on. Look each up with
    /// [`Router::best`].
    pub fn take_loc_rib_changes(&mut self) -> Vec<IpPrefix> {
        std::mem::take(&mut self.loc_rib_changes)
    }

    /// Number of distinct attribute sets stored.
    pub fn attribute_sets(&self) -> usize {
        self.store.len()
    }

    /// The update group `peer` belongs to while its session is up.
    pub fn group_of(&self, peer: PeerId) -> Option<usize> {
        self.peers.get(peer.0 as usize)?.group
    }

    /// Number of update groups.
    pub fn group_count(&self) -> usize {
        self.group_index.len()
    }

    /// What `peer`'s update group has advertised for `prefix`.
    pub fn adj_rib_out<P: RoutePrefix>(&self, peer: PeerId, prefix: &P) -> &[OutPath] {
        self.group_of(peer)
            .and_then(|g| self.groups[g].as_ref())
            .and_then(|g| g.families.get::<P>().adj_rib_out.get(prefix))
            .map_or(&[], |e| e.as_slice())
    }

    /// `peer`'s Adj-RIB-Out (its update group's) after `after`, in prefix
    /// order: a cursor for dumps. Withdrawn paths kept as tombstones have no
    /// attributes.
    pub fn adj_rib_out_after<P: RoutePrefix>(
        &self,
        peer: PeerId,
        after: Option<&P>,
    ) -> impl Iterator<Item = (&P, &[OutPath])> {
        self.group_of(peer)
            .and_then(|g| self.groups[g].as_ref())
            .into_iter()
            .flat_map(move |g| g.families.get::<P>().adj_rib_out.iter_after(after))
            .map(|(p, e)| (p, e.as_slice()))
    }

    /// Bytes of encoded output waiting for `peer`.
    pub fn pending_output(&self, peer: PeerId) -> usize {
        self.peers
            .get(peer.0 as usize)
            .map_or(0, |p| p.output.bytes)
    }

    /// Whether `peer` is being brought up to date from its group's Adj-RIB-Out.
    pub fn is_catching_up(&self, peer: PeerId) -> bool {
        self.peers
            .get(peer.0 as usize)
            .is_some_and(|p| p.output.catch_up.is_some())
    }

    /// Whether `peer` is internal (iBGP).
    pub fn is_internal(&self, peer: PeerId) -> bool {
        self.peers.get(peer.0 as usize).is_some_and(|p| p.ibgp)
    }

    /// What `peer`'s session negotiated, while it is up.
    pub fn session(&self, peer: PeerId) -> Option<&SessionParams> {
        self.peers.get(peer.0 as usize)?.session.as_ref()
    }

    /// Paths of `P`'s family that `peer` announces now: those accepted plus
    /// those its import policy or the loop checks rejected (RFC 4271 §9.1.1's
    /// input). O(1).
    pub fn received_count<P: RoutePrefix>(&self, peer: PeerId) -> u32 {
        self.peers.get(peer.0 as usize).map_or(0, |p| {
            *p.prefixes.get::<P>() + p.rejected.get::<P>().len() as u32
        })
    }

    /// Prefixes of `P`'s family in `peer`'s Adj-RIB-Out: its update group's,
    /// less those whose only paths it sent itself (split horizon). O(1).
    pub fn advertised_count<P: RoutePrefix>(&self, peer: PeerId) -> u32 {
        self.group_of(peer)
            .and_then(|g| self.groups[g].as_ref())
            .map_or(0, |g| g.families.get::<P>().advertised_to(peer))
    }

    /// `peer`'s paths of `P`'s family as received, before import policy, for
    /// the prefixes after `after` in prefix order (a cursor); empty unless its
    /// configuration has `keep_received`.
    pub fn received_after<P: RoutePrefix>(
        &self,
        peer: PeerId,
        after: Option<&P>,
    ) -> impl Iterator<Item = (&P, &[(u32, AttrRef)])> {
        self.peers
            .get(peer.0 as usize)
            .into_iter()
            .flat_map(move |p| p.received.get::<P>().iter_after(after))
            .map(|(p, v)| (p, v.as_slice()))
    }

    /// Whether `peer` keeps its received paths before import policy.
    pub fn keeps_received(&self, peer: PeerId) -> bool {
        self.peers
            .get(peer.0 as usize)
            .is_some_and(|p| p.config.keep_received)
    }

    /// Paths of `P`'s family accepted from `peer`. O(1).
    pub fn accepted_count<P: RoutePrefix>(&self, peer: PeerId) -> u32 {
        self.peers
            .get(peer.0 as usize)
            .map_or(0, |p| *p.prefixes.get::<P>())
    }

    /// Number of prefixes accepted from `peer`, both families.
    pub fn prefix_count(&self, peer: PeerId) -> u32 {
        self.peers
            .get(peer.0 as usize)
            .map_or(0, |p| p.prefixes.ipv4 + p.prefixes.ipv6)
    }

    // ----- configuration -----

    /// Adds a neighbour; its session starts down.
    pub fn add_peer(&mut self, config: PeerConfig) -> PeerId {
        let id = PeerId(self.peers.len() as u32);
        let ibgp = config.remote_asn == self.config.asn;
        self.facts.push(PeerFacts {
            ebgp: !ibgp,
            rr_client: ibgp && config.route_reflector_client,
            router_id: Ipv4Addr::UNSPECIFIED,
            address: config.address,
        });
        self.peers.push(Peer {
            config,
            ibgp,
            session: None,
            group: None,
            prefixes: PerFamily::both(0),
            rejected: PerFamily::default(),
            received: PerFamily::default(),
            import_memo: FxHashMap::default(),
            output: Output::default(),
            removed: false,
        });
        id
    }

    /// Removes a neighbour (a configuration reload dropped it): its session is
    /// taken down as by [`Router::handle_session_down`] and never comes up again.
    /// Its id is not reused.
    pub fn remove_peer(&mut self, peer: PeerId, now: Instant) {
        self.handle_session_down(peer, now);
        if let Some(p) = self.peers.get_mut(peer.0 as usize) {
            p.removed = true;
        }
    }

    /// Sets the IGP-cost hook of the decision process (§9.1.2.2 (e)).
    pub fn set_igp_cost(&mut self, hook: IgpCost) {
        self.igp_cost = Some(hook);
        self.ribs.ipv4.mark_all();
        self.ribs.ipv6.mark_all();
    }

    /// The IGP changed: every prefix is decided again at the next
    /// [`Router::handle_timeout`] with the hook's new answers.
    pub fn handle_igp_change(&mut self, now: Instant) {
        self.now = now;
        self.ribs.ipv4.mark_all();
        self.ribs.ipv6.mark_all();
    }

    // ----- inputs -----

    /// The session with `peer` reached Established with `params`: the peer joins
    /// the update group of its kind and is sent the whole table, then End-of-RIB.
    pub fn handle_session_up(&mut self, peer: PeerId, params: SessionParams, now: Instant) {
        self.now = now;
        let Some(p) = self.peers.get_mut(peer.0 as usize) else {
            return;
        };
        if p.session.is_some() || p.removed {
            return;
        }
        p.session = Some(params);
        self.facts[peer.0 as usize].router_id = params.remote_id;
        let key = self.group_key(peer, &params);
        let g = match self.group_index.get(&key) {
            Some(&g) => g,
            None => self.create_group(key),
        };
        let group = self.groups[g].as_mut().expect("indexed group exists");
        group.members.push(peer);
        tracing::info!(
            neighbor = %self.peers[peer.0 as usize].config.address,
            group = g,
            members = group.members.len(),
            "session up, joined update group"
        );
        let p = &mut self.peers[peer.0 as usize];
        p.group = Some(g);
        p.output.catch_up = Some(CatchUp {
            from: 0,
            started: group.version,
            initial: true,
            end_of_rib: true,
            walks: WALKS_FROM_START,
        });
        p.output.note(peer, &mut self.ready);
    }

    /// `peer` asked for our routes again (ROUTE-REFRESH, RFC 2918 §4): its group's
    /// Adj-RIB-Out is re-sent to it by a walk, as at session start.
    pub fn handle_route_refresh(&mut self, peer: PeerId, now: Instant) {
        self.now = now;
        let Some(g) = self.group_of(peer) else {
            return;
        };
        let Some(group) = self.groups[g].as_ref() else {
            return;
        };
        let out = &mut self.peers[peer.0 as usize].output;
        let end_of_rib = out.catch_up.is_some_and(|c| c.end_of_rib);
        out.catch_up = Some(CatchUp {
            from: 0,
            started: group.version,
            initial: true,
            end_of_rib,
            walks: WALKS_FROM_START,
        });
        out.note(peer, &mut self.ready);
    }

    /// The session with `peer` went down: its routes are withdrawn (RFC 4271 §9.1,
    /// the routes of a closed session are unfeasible), its output discarded.
    pub fn handle_session_down(&mut self, peer: PeerId, now: Instant) {
        self.now = now;
        let Some(p) = self.peers.get_mut(peer.0 as usize) else {
            return;
        };
        if p.session.take().is_none() {
            return;
        }
        p.prefixes = PerFamily::both(0);
        p.rejected = PerFamily::default();
        let received = std::mem::take(&mut p.received);
        release_received(&mut self.store, received);
        p.output = Output::default();
        p.import_memo.clear();
        if let Some(g) = p.group.take() {
            let mut empty = false;
            if let Some(group) = self.groups[g].as_mut() {
                group.members.retain(|&m| m != peer);
                empty = group.members.is_empty();
            }
            if empty {
                if let Some(group) = self.groups[g].take() {
                    self.group_index.remove(&group.key);
                }
            } else {
                self.purge_tombstones(g);
            }
        }
        self.ribs.ipv4.flush_peer(peer, &mut self.store);
        self.ribs.ipv6.flush_peer(peer, &mut self.store);
    }

    // ----- timers -----

    /// When [`Router::handle_timeout`] must next be called: now, when decisions
    /// are pending; else the next group flush.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ribs.ipv4.pending() > 0 || self.ribs.ipv6.pending() > 0 {
            return Some(self.now);
        }
        self.groups
            .iter()
            .flatten()
            .filter_map(|g| g.flush_at)
            .min()
    }

    /// Runs the decision process on what changed, and flushes the update groups
    /// that are due. Early or repeated calls do only what is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.decide::<Ipv4Prefix>();
        self.decide::<Ipv6Prefix>();
        for g in 0..self.groups.len() {
            let due = self.groups[g]
                .as_ref()
                .and_then(|g| g.flush_at)
                .is_some_and(|t| t <= now);
            if due {
                self.flush_group(g, now);
            }
        }
        if self.store.len() > 2 * self.swept_at + 1024 {
            self.sweep();
        }
    }

    /// Frees memo entries and attribute sets no path uses any more.
    pub fn sweep(&mut self) {
        for g in self.groups.iter_mut().flatten() {
            g.memo
                .retain(|_, (src, out)| src.users() > 2 && out.users() > 2);
        }
        for p in &mut self.peers {
            p.import_memo.retain(|_, (_, out)| out.users() > 2);
        }
        self.store.sweep();
        self.swept_at = self.store.len();
    }

    // ----- outputs -----

    /// The next message to write to `peer`, if any. While the peer is catching up,
    /// this continues its walk of the Adj-RIB-Out as its queue drains.
    #[must_use]
    pub fn poll_transmit(&mut self, peer: PeerId) -> Option<Arc<Message>> {
        let limit = self.config.output_limit;
        let p = self.peers.get(peer.0 as usize)?;
        if p.output.catch_up.is_some() && p.output.bytes < limit / 2 {
            self.continue_catch_up(peer);
        }
        let out = &mut self.peers[peer.0 as usize].output;
        let Some((msg, _)) = out.queue.pop_front() else {
            out.reported = false;
            return None;
        };
        out.bytes -= msg.bytes.len();
        Some(msg)
    }

    /// The next peer whose output went from nothing to something (UPDATEs
    /// queued for it, or a walk of its group's Adj-RIB-Out begun: a new session,
    /// a route refresh, a new update group) since [`Router::poll_transmit`] last
    /// returned `None` for it. Each such peer is named once, so the caller does
    /// not scan every peer after an input: drain this after every input and
    /// timeout, then call `poll_transmit` for each peer named until `None`
    /// (later, when the peer can take more, if it cannot now). A peer whose
    /// session went down meanwhile may still be named; `poll_transmit` then
    /// gives nothing.
    #[must_use]
    pub fn poll_ready_peer(&mut self) -> Option<PeerId> {
        self.ready.pop_front()
    }

    // ----- internals -----

    fn group_key(&self, peer: PeerId, s: &SessionParams) -> GroupKey {
        let c = &self.peers[peer.0 as usize].config;
        let ibgp = self.peers[peer.0 as usize].ibgp;
        let mode = |f: FamilyParams| {
            f.enabled.then_some(if f.add_path_send {
                c.add_path_send
            } else {
                AddPathSend::BestOnly
            })
        };
        GroupKey {
            target: Target {
                ibgp,
                rr_client: ibgp && c.route_reflector_client,
                rs_client: !ibgp && c.route_server_client,
                local_v4: c.local_v4.or(match s.local_address {
                    Some(IpAddr::V4(a)) => Some(a),
                    _ => None,
                }),
                local_v6: c.local_v6.or(match s.local_address {
                    Some(IpAddr::V6(a)) => Some(a),
                    _ => None,
                }),
            },
            export: c.export.clone(),
            four_octet_as: s.four_octet_as,
            modes: PerFamily {
                ipv4: mode(s.ipv4),
                ipv6: mode(s.ipv6),
            },
            path_ids: PerFamily {
                ipv4: s.ipv4.enabled && s.ipv4.add_path_send,
                ipv6: s.ipv6.enabled && s.ipv6.add_path_send,
            },
            max_message_len: s.max_message_len,
            mrai: c.mrai.unwrap_or(if ibgp {
                Duration::from_secs(5)
            } else {
                Duration::from_secs(30)
            }),
        }
    }

    /// A new group, with its Adj-RIB-Out computed from the Loc-RIB.
    fn create_group(&mut self, key: GroupKey) -> usize {
        let mut group = UpdateGroup::new(key.clone());
        mark_table::<Ipv4Prefix>(&self.ribs, &mut group);
        mark_table::<Ipv6Prefix>(&self.ribs, &mut group);
        let g = match self.groups.iter().position(Option::is_none) {
            Some(free) => {
                self.groups[free] = Some(group);
                free
            }
            None => {
                self.groups.push(Some(group));
                self.groups.len() - 1
            }
        };
        self.group_index.insert(key, g);
        self.flush_group(g, self.now);
        if let Some(group) = self.groups[g].as_mut() {
            // Filling the table sent nothing, so it starts no MRAI.
            group.last_flush = None;
        }
        g
    }
}

/// Marks every prefix of `P`'s table for `group`'s next flush, if the group
/// carries the family.
fn mark_table<P: RoutePrefix>(ribs: &Ribs, group: &mut UpdateGroup) {
    if group.key.mode::<P>().is_none() {
        return;
    }
    let family = group.families.get_mut::<P>();
    for (p, _) in ribs.get::<P>().iter() {
        family.mark(*p);
    }
}
