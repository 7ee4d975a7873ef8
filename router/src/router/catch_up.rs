//! Bounded output per peer: a member whose unsent output passes the limit drops
//! its queue and is brought up to date by walking its group's Adj-RIB-Out for the
//! entries newer than what it has; a joining member is synced the same way, then
//! sent End-of-RIB (RFC 4724 §2).

use super::*;

/// Where a catch-up walk of one family has got to.
#[derive(Clone, Copy, Debug)]
pub(super) enum Walk<P> {
    Start,
    After(P),
    Done,
}

/// [`Walk`] as a per-family value.
#[derive(Clone, Copy, Debug)]
pub(super) struct WalkKind;

impl FamilyKind for WalkKind {
    type Of<P: RoutePrefix> = Walk<P>;
}

/// Both families' walks, not begun.
pub(super) const WALKS_FROM_START: PerFamily<WalkKind> = PerFamily {
    ipv4: Walk::Start,
    ipv6: Walk::Start,
};

/// A member bringing itself up to date from its group's Adj-RIB-Out.
#[derive(Clone, Copy, Debug)]
pub(super) struct CatchUp {
    /// The member has every change up to this version.
    pub(super) from: Version,
    /// The group's version when this pass began.
    pub(super) started: Version,
    /// The member has never been sent anything: tombstones need not be sent.
    pub(super) initial: bool,
    /// Send End-of-RIB when done (the first sync of a session).
    pub(super) end_of_rib: bool,
    /// Each family's walk.
    pub(super) walks: PerFamily<WalkKind>,
}

#[derive(Debug, Default)]
pub(super) struct Output {
    pub(super) queue: VecDeque<(Arc<Message>, Version)>,
    pub(super) bytes: usize,
    pub(super) catch_up: Option<CatchUp>,
    /// Reported by [`Router::poll_ready_peer`] and not yet drained: set when
    /// output appears, cleared when [`Router::poll_transmit`] returns `None`.
    pub(super) reported: bool,
}

impl Output {
    /// Output appeared for `peer` (queued UPDATEs or a catch-up walk): it is
    /// reported once until drained.
    pub(super) fn note(&mut self, peer: PeerId, ready: &mut VecDeque<PeerId>) {
        if !self.reported {
            self.reported = true;
            ready.push_back(peer);
        }
    }
}

/// Entries walked per catch-up step.
pub(super) const WALK_CHUNK: usize = 512;

impl Router {
    /// One step of `peer`'s catch-up walk: fills its queue to half the limit from
    /// the Adj-RIB-Out; when the walk ends, starts another pass if the group moved
    /// on meanwhile, else rejoins the group's normal output.
    pub(super) fn continue_catch_up(&mut self, peer: PeerId) {
        let limit = self.config.output_limit;
        let Some(g) = self.peers[peer.0 as usize].group else {
            return;
        };
        let Some(group) = self.groups[g].take() else {
            return;
        };
        loop {
            let out = &self.peers[peer.0 as usize].output;
            let Some(cu) = out.catch_up else { break };
            if out.bytes >= limit / 2 {
                break;
            }
            let mut cu = cu;
            let progressed = self.walk_step::<Ipv4Prefix>(&group, peer, &mut cu)
                || self.walk_step::<Ipv6Prefix>(&group, peer, &mut cu);
            if progressed {
                self.peers[peer.0 as usize].output.catch_up = Some(cu);
                continue;
            }
            // Both families walked.
            if group.version == cu.started {
                if cu.end_of_rib {
                    self.push_end_of_rib::<Ipv4Prefix>(&group, peer);
                    self.push_end_of_rib::<Ipv6Prefix>(&group, peer);
                }
                self.peers[peer.0 as usize].output.catch_up = None;
                break;
            }
            self.peers[peer.0 as usize].output.catch_up = Some(CatchUp {
                from: cu.started,
                started: group.version,
                initial: false,
                end_of_rib: cu.end_of_rib,
                walks: WALKS_FROM_START,
            });
        }
        self.groups[g] = Some(group);
        self.purge_tombstones(g);
    }

    /// Walks one chunk of `P`'s Adj-RIB-Out for `peer`; false when the family's
    /// walk is already done.
    pub(super) fn walk_step<P: RoutePrefix>(
        &mut self,
        group: &UpdateGroup,
        peer: PeerId,
        cu: &mut CatchUp,
    ) -> bool {
        let walk = *cu.walks.get::<P>();
        let adj = &group.families.get::<P>().adj_rib_out;
        let range = match walk {
            Walk::Done => return false,
            Walk::Start => adj.iter_after(None),
            Walk::After(k) => adj.iter_after(Some(&k)),
        };
        let mut batch: Batch<P> = Batch::default();
        let mut last = None;
        let mut n = 0;
        for (prefix, entry) in range.take(WALK_CHUNK) {
            last = Some(*prefix);
            n += 1;
            for o in entry.iter().filter(|o| o.version > cu.from) {
                match &o.attrs {
                    Some(a) if o.source != peer => {
                        batch.announce(Audience::Only(peer), a, o.out_id, *prefix)
                    }
                    _ if !cu.initial => batch.withdraw(Audience::Only(peer), o.out_id, *prefix),
                    _ => {}
                }
            }
        }
        *cu.walks.get_mut::<P>() = match last {
            Some(k) if n == WALK_CHUNK => Walk::After(k),
            _ => Walk::Done,
        };
        let params = group.key.params::<P>();
        let version = group.version;
        let p = &mut self.peers[peer.0 as usize];
        let keep = self.config.keep_message_content;
        let encoded = batch.encode(
            &mut self.encoder,
            &params,
            keep,
            |_| true,
            |_, msg| {
                p.output.bytes += msg.bytes.len();
                p.output.queue.push_back((msg, version));
            },
        );
        self.stats.encoded_messages += encoded;
        true
    }

    /// Queues `P`'s End-of-RIB for `peer`, if its group carries the family.
    pub(super) fn push_end_of_rib<P: RoutePrefix>(&mut self, group: &UpdateGroup, peer: PeerId) {
        if group.key.mode::<P>().is_none() {
            return;
        }
        let version = group.version;
        let mut bytes = Vec::new();
        self.encoder.end_of_rib::<P>(&mut bytes);
        let msg = Arc::new(Message {
            bytes: bytes.into(),
            content: vec![Content::EndOfRib { ipv6: P::IPV6 }],
        });
        let out = &mut self.peers[peer.0 as usize].output;
        out.bytes += msg.bytes.len();
        out.queue.push_back((msg, version));
    }

    /// Drops the group's tombstones that every member is past: each member has
    /// everything up to its catch-up start, or up to the version before the oldest
    /// message still in its queue, or else all of it.
    pub(super) fn purge_tombstones(&mut self, g: usize) {
        let Some(group) = self.groups[g].as_mut() else {
            return;
        };
        let safe = group
            .members
            .iter()
            .map(|m| {
                let out = &self.peers[m.0 as usize].output;
                match (&out.catch_up, out.queue.front()) {
                    (Some(cu), _) => cu.from,
                    (None, Some((_, v))) => v.saturating_sub(1),
                    (None, None) => group.version,
                }
            })
            .min()
            .unwrap_or(group.version);
        group.families.ipv4.purge_tombstones(safe);
        group.families.ipv6.purge_tombstones(safe);
    }
}

/// Hands `msg` to a member; a member whose output goes over `limit` drops its
/// queue and will catch up from the Adj-RIB-Out instead.
pub(super) fn deliver(
    peer: PeerId,
    p: &mut Peer,
    msg: &Arc<Message>,
    version: Version,
    limit: usize,
    stats: &mut Stats,
    ready: &mut VecDeque<PeerId>,
) {
    let out = &mut p.output;
    if out.catch_up.is_some() {
        // It fell behind earlier in this flush; the walk will cover this message.
        return;
    }
    out.note(peer, ready);
    out.bytes += msg.bytes.len();
    out.queue.push_back((msg.clone(), version));
    if out.bytes > limit {
        let oldest = out.queue.front().map_or(version, |(_, v)| *v);
        // An End-of-RIB still queued must still be sent after the walk.
        let end_of_rib = out.queue.iter().any(|(m, _)| m.is_end_of_rib());
        tracing::info!(
            neighbor = %p.config.address,
            queued = out.bytes,
            limit,
            "output over its limit, catching up from the Adj-RIB-Out"
        );
        out.queue.clear();
        out.bytes = 0;
        stats.catch_ups += 1;
        out.catch_up = Some(CatchUp {
            from: oldest.saturating_sub(1),
            started: version,
            initial: false,
            end_of_rib,
            walks: WALKS_FROM_START,
        });
    }
}
