//! Changing a neighbour's configuration while its session is up (a configuration
//! reload): export changes move the peer to the update group of its new kind,
//! withdrawing what the new group does not send and re-sending the rest; import
//! changes need the peer's routes again (ROUTE-REFRESH, RFC 2918), since the
//! Adj-RIB-In keeps routes after import policy only.

use super::*;

/// What a configuration change needs of the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reconfigured {
    /// Done; nothing more is needed.
    Applied,
    /// Done, but the import side changed: the session should send ROUTE-REFRESH
    /// (RFC 2918) so the peer's routes go through the new import policy.
    RouteRefreshNeeded,
    /// The address or AS changed: nothing was applied; the session must be reset
    /// (and the neighbour re-added).
    ResetNeeded,
}

impl Router {
    /// Replaces `peer`'s configuration.
    pub fn reconfigure_peer(
        &mut self,
        peer: PeerId,
        config: PeerConfig,
        now: Instant,
    ) -> Reconfigured {
        self.now = now;
        let Some(p) = self.peers.get(peer.0 as usize) else {
            return Reconfigured::ResetNeeded;
        };
        let old = &p.config;
        if old.address != config.address || old.remote_asn != config.remote_asn {
            return Reconfigured::ResetNeeded;
        }
        let import_changed = old.import != config.import
            || old.max_prefix != config.max_prefix
            || old.enforce_first_as != config.enforce_first_as;
        let role_changed = old.route_reflector_client != config.route_reflector_client;
        let ibgp = p.ibgp;
        let p = &mut self.peers[peer.0 as usize];
        p.config = config;
        p.import_memo.clear();
        self.facts[peer.0 as usize].rr_client = ibgp && p.config.route_reflector_client;
        if let Some(session) = p.session {
            self.regroup(peer, &session);
        }
        if role_changed {
            // The peer's own routes are now reflected differently: every group
            // looks at every prefix again.
            self.reexport_all(now);
        }
        if import_changed && self.peers[peer.0 as usize].session.is_some() {
            Reconfigured::RouteRefreshNeeded
        } else {
            Reconfigured::Applied
        }
    }

    /// Moves `peer` to the group its configuration now calls for: withdraws what
    /// the old group had sent that the new one does not, then walks the new
    /// group's Adj-RIB-Out as for a route refresh.
    fn regroup(&mut self, peer: PeerId, session: &SessionParams) {
        let Some(old) = self.peers[peer.0 as usize].group else {
            return;
        };
        let key = self.group_key(peer, session);
        if self.groups[old].as_ref().is_some_and(|g| g.key == key) {
            return;
        }
        let new = match self.group_index.get(&key) {
            Some(&g) => g,
            None => self.create_group(key),
        };
        let (Some(old_group), Some(new_group)) = (self.groups[old].take(), self.groups[new].take())
        else {
            return;
        };
        self.withdraw_left_behind::<Ipv4Prefix>(peer, &old_group, &new_group);
        self.withdraw_left_behind::<Ipv6Prefix>(peer, &old_group, &new_group);
        let mut old_group = old_group;
        let mut new_group = new_group;
        old_group.members.retain(|&m| m != peer);
        new_group.members.push(peer);
        let out = &mut self.peers[peer.0 as usize].output;
        // Messages still queued carry the old group's versions: count them as
        // older than anything of the new group's.
        for (_, v) in out.queue.iter_mut() {
            *v = 0;
        }
        let end_of_rib = out.catch_up.is_some_and(|c| c.end_of_rib);
        out.catch_up = Some(CatchUp {
            from: 0,
            started: new_group.version,
            initial: true,
            end_of_rib,
            walks: WALKS_FROM_START,
        });
        out.note(peer, &mut self.ready);
        self.peers[peer.0 as usize].group = Some(new);
        tracing::info!(
            neighbor = %self.peers[peer.0 as usize].config.address,
            from = old,
            to = new,
            "configuration changed, moved to another update group"
        );
        if old_group.members.is_empty() {
            self.group_index.remove(&old_group.key);
        } else {
            self.groups[old] = Some(old_group);
        }
        self.groups[new] = Some(new_group);
    }

    /// Queues for `peer` the withdrawal of every path `old` has (or had, for
    /// tombstones) that `new` does not advertise under the same identifier.
    fn withdraw_left_behind<P: RoutePrefix>(
        &mut self,
        peer: PeerId,
        old: &UpdateGroup,
        new: &UpdateGroup,
    ) {
        if old.key.mode::<P>().is_none() {
            return;
        }
        let new_out = &new.families.get::<P>().adj_rib_out;
        let mut batch: Batch<P> = Batch::default();
        for (prefix, paths) in &old.families.get::<P>().adj_rib_out {
            let kept = new_out.get(prefix);
            for o in paths.iter() {
                let still = kept
                    .is_some_and(|k| k.iter().any(|n| n.attrs.is_some() && n.out_id == o.out_id));
                if !still {
                    batch.withdraw(Audience::Only(peer), o.out_id, *prefix);
                }
            }
        }
        let params = old.key.params::<P>();
        let version = new.version;
        let out = &mut self.peers[peer.0 as usize].output;
        let keep = self.config.keep_message_content;
        let encoded = batch.encode(
            &mut self.encoder,
            &params,
            keep,
            |_| true,
            |_, msg| {
                out.bytes += msg.bytes.len();
                out.queue.push_back((msg, version));
            },
        );
        self.stats.encoded_messages += encoded;
    }

    /// Every group looks at every prefix again at its next flush.
    fn reexport_all(&mut self, now: Instant) {
        for group in self.groups.iter_mut().flatten() {
            mark_table::<Ipv4Prefix>(&self.ribs, group);
            mark_table::<Ipv6Prefix>(&self.ribs, group);
            group.schedule(now);
        }
    }
}
