//! Phase 1 of the decision process (RFC 4271 §9.1.1): an UPDATE received from a
//! peer is parsed by core (RFC 7606 applied), and its routes are checked for
//! loops (§9.1.2, RFC 4456 §8), put through the peer's import policy and
//! installed in the Adj-RIB-In, each attribute set interned once.

use super::*;
use crate::wire::{attributes_of, negotiated_of, next_hop_of, unicast, v4_of, v6_of};
use nexthop_core::wire::nlri::Prefix;
use nexthop_core::wire::update::{PeerType, Update};

impl Router {
    /// An UPDATE's routes of one family from `peer`: `withdrawn`, then `announced`
    /// with `attrs` (already merged with AS4_PATH for a 2-octet peer, see
    /// [`Attributes::merge_as4`]). `attrs` of `None` with announced prefixes means
    /// treat-as-withdraw (RFC 7606 §2). Path identifiers are 0 without ADD-PATH.
    pub fn handle_update<P: RoutePrefix>(
        &mut self,
        peer: PeerId,
        withdrawn: &[(u32, P)],
        announced: &[(u32, P)],
        attrs: Option<Attributes>,
        now: Instant,
    ) -> Result<(), ImportError> {
        self.now = now;
        let p = self
            .peers
            .get_mut(peer.0 as usize)
            .ok_or(ImportError::UnknownPeer)?;
        if p.session.is_none() {
            return Err(ImportError::NotEstablished);
        }
        let rib = self.ribs.get_mut::<P>();
        let rejected = p.rejected.get_mut::<P>();
        let keep = p.config.keep_received;
        for &(id, prefix) in withdrawn {
            if !rejected.is_empty() {
                rejected.remove(&(id, prefix));
            }
            if keep {
                forget_received(&mut self.store, p.received.get_mut::<P>(), prefix, id);
            }
            if let Some(old) = rib.remove(prefix, peer, id) {
                self.store.release(old.attrs);
                *p.prefixes.get_mut::<P>() -= 1;
            }
        }
        let mut loop_rejected = false;
        // The pre-policy copy, before the loop checks and import policy.
        let as_received = match (&attrs, keep) {
            (Some(a), true) if !announced.is_empty() => Some(self.store.intern(a.clone())),
            _ => None,
        };
        let received = p.received.get_mut::<P>();
        for &(id, prefix) in announced {
            match &as_received {
                Some(a) => {
                    let paths = received.get_or_insert_with(prefix, Default::default);
                    match paths.iter_mut().find(|(i, _)| *i == id) {
                        Some(slot) => {
                            let old = std::mem::replace(&mut slot.1, a.clone());
                            self.store.release(old);
                        }
                        None => paths.push((id, a.clone())),
                    }
                }
                // Treat-as-withdraw (RFC 7606 §2).
                None if keep => forget_received(&mut self.store, received, prefix, id),
                None => {}
            }
        }
        if let Some(a) = as_received {
            self.store.release(a);
        }
        let checked = attrs.and_then(|mut a| {
            match import_check(&self.local, p, &a) {
                Some(why) => {
                    loop_rejected = true;
                    self.stats.rejected_paths += announced.len() as u64;
                    tracing::debug!(
                        neighbor = %p.config.address,
                        reason = ?why,
                        prefixes = announced.len(),
                        "paths rejected on import"
                    );
                    None
                }
                None => {
                    a.normalize();
                    if !p.ibgp {
                        // RFC 4271 §5.1.5: LOCAL_PREF from an external peer is ignored.
                        a.local_pref = None;
                    }
                    Some(a)
                }
            }
        });
        let rejected = p.rejected.get_mut::<P>();
        let Some(attrs) = checked else {
            for &(id, prefix) in announced {
                // Rejected by a loop check: still announced. Treat-as-withdraw
                // (RFC 7606 §2): withdrawn.
                if loop_rejected {
                    rejected.insert((id, prefix));
                } else {
                    rejected.remove(&(id, prefix));
                }
                if let Some(old) = rib.remove(prefix, peer, id) {
                    self.store.release(old.attrs);
                    *p.prefixes.get_mut::<P>() -= 1;
                }
            }
            return Ok(());
        };
        let base = self.store.intern(attrs);
        for &(id, prefix) in announced {
            let attrs = match p.config.import.evaluate(&prefix.to_ip_prefix(), &base) {
                Outcome::Reject => {
                    rejected.insert((id, prefix));
                    if let Some(old) = rib.remove(prefix, peer, id) {
                        self.store.release(old.attrs);
                        *p.prefixes.get_mut::<P>() -= 1;
                    }
                    continue;
                }
                Outcome::Accept(None) => base.clone(),
                Outcome::Accept(Some(rule)) => {
                    let store = &mut self.store;
                    let policy = &p.config.import;
                    p.import_memo
                        .entry((base.addr(), rule))
                        .or_insert_with(|| {
                            let mut a = (*base).clone();
                            policy.apply(rule, &mut a);
                            (base.clone(), store.intern(a))
                        })
                        .1
                        .clone()
                }
            };
            // Most peers have nothing rejected: no lookup per accepted path.
            if !rejected.is_empty() {
                rejected.remove(&(id, prefix));
            }
            let path = Path {
                peer,
                path_id: id,
                attrs,
            };
            match rib.insert(prefix, path) {
                Some(old) => self.store.release(old.attrs),
                None => *p.prefixes.get_mut::<P>() += 1,
            }
        }
        self.store.release(base);
        // Each family is held to the limit on its own (RFC 4486 §4 reports the
        // AFI/SAFI whose count passed it).
        let count = *p.prefixes.get::<P>();
        match p.config.max_prefix {
            Some(limit) if count > limit => {
                tracing::warn!(
                    neighbor = %p.config.address,
                    limit,
                    count,
                    "maximum prefixes exceeded"
                );
                Err(ImportError::MaxPrefix {
                    limit,
                    count,
                    family: P::FAMILY,
                })
            }
            _ => Ok(()),
        }
    }

    /// Treat-as-withdraw (RFC 7606 §2): the UPDATE's prefixes from `peer` are
    /// withdrawn because its attributes were malformed.
    pub fn handle_treat_as_withdraw<P: RoutePrefix>(
        &mut self,
        peer: PeerId,
        prefixes: &[(u32, P)],
        now: Instant,
    ) -> Result<(), ImportError> {
        self.handle_update(peer, prefixes, &[], None, now)
    }

    /// Originates `prefix` with `attrs` from this router (an empty AS_PATH; the
    /// next hop, if absent, is set per peer to our session address).
    pub fn originate<P: RoutePrefix>(&mut self, prefix: P, mut attrs: Attributes, now: Instant) {
        self.now = now;
        attrs.normalize();
        let attrs = self.store.intern(attrs);
        let path = Path {
            peer: PeerId::LOCAL,
            path_id: 0,
            attrs,
        };
        if let Some(old) = self.ribs.get_mut::<P>().insert(prefix, path) {
            self.store.release(old.attrs);
        }
    }

    /// Stops originating `prefix`.
    pub fn withdraw_originated<P: RoutePrefix>(&mut self, prefix: P, now: Instant) {
        self.now = now;
        if let Some(old) = self.ribs.get_mut::<P>().remove(prefix, PeerId::LOCAL, 0) {
            self.store.release(old.attrs);
        }
    }
}

/// The import checks of RFC 4271 §9.1.2 and RFC 4456 §8, and enforce-first-AS.
fn import_check(local: &Local, p: &Peer, a: &Attributes) -> Option<Rejection> {
    if a.as_path.contains(local.asn) {
        return Some(Rejection::AsLoop);
    }
    if a.originator_id == Some(local.router_id) {
        return Some(Rejection::OriginatorId);
    }
    if a.cluster_list.contains(&local.cluster_id) {
        return Some(Rejection::ClusterList);
    }
    if !p.ibgp && p.config.enforce_first_as && a.as_path.neighbor_as() != Some(p.config.remote_asn)
    {
        return Some(Rejection::FirstAs);
    }
    None
}

impl Router {
    /// An UPDATE message (header included) from `peer`: parsed by core with the
    /// session's parameters and the peer's type (RFC 7606 rules for external
    /// peers), then taken as [`Router::handle_update_message`] does.
    pub fn handle_update_bytes(
        &mut self,
        peer: PeerId,
        message: &[u8],
        now: Instant,
    ) -> Result<(), UpdateError> {
        let s = self
            .session(peer)
            .ok_or(UpdateError::Import(ImportError::NotEstablished))?;
        let negotiated = negotiated_of(s);
        let peer_type = if self.is_internal(peer) {
            PeerType::Internal
        } else {
            PeerType::External
        };
        let update =
            Update::parse_from(message, &negotiated, peer_type).map_err(UpdateError::Decode)?;
        self.handle_update_message(peer, &update, now)
            .map_err(UpdateError::Import)
    }

    /// An UPDATE from `peer`, parsed by core with the session's [`Negotiated`]
    /// parameters: its IPv4 and IPv6 unicast withdrawals and announcements go to
    /// [`Router::handle_update`], withdrawn instead when RFC 7606 asks for
    /// treat-as-withdraw. End-of-RIB markers and other families are ignored.
    pub fn handle_update_message(
        &mut self,
        peer: PeerId,
        update: &Update<'_>,
        now: Instant,
    ) -> Result<(), ImportError> {
        let four_octet_as = self
            .session(peer)
            .ok_or(ImportError::NotEstablished)?
            .four_octet_as;
        let mut w4: Vec<(u32, Ipv4Prefix)> = update.withdrawn().filter_map(|n| v4_of(&n)).collect();
        let mut a4: Vec<(u32, Ipv4Prefix)> = update.nlri().filter_map(|n| v4_of(&n)).collect();
        let mut w6: Vec<(u32, Ipv6Prefix)> = Vec::new();
        let mut a6: Vec<(u32, Ipv6Prefix)> = Vec::new();
        if let Some(mp) = update.mp_unreach().filter(|m| unicast(m.family)) {
            for n in mp.withdrawn.iter() {
                match n.prefix {
                    Prefix::V4(_) => w4.extend(v4_of(&n)),
                    Prefix::V6(_) => w6.extend(v6_of(&n)),
                }
            }
        }
        let mut mp_next_hop = None;
        if let Some(mp) = update.mp_reach().filter(|m| unicast(m.family)) {
            mp_next_hop = Some(next_hop_of(mp.next_hop));
            for n in mp.nlri.iter() {
                match n.prefix {
                    Prefix::V4(_) => a4.extend(v4_of(&n)),
                    Prefix::V6(_) => a6.extend(v6_of(&n)),
                }
            }
        }
        let attrs = (update.treat_as_withdraw().is_none() && !(a4.is_empty() && a6.is_empty()))
            .then(|| attributes_of(update, four_octet_as));
        // One owned set per family; copied only when the UPDATE carries both.
        let (v4_attrs, v6_attrs) = match attrs {
            None => (None, None),
            Some(a) if a6.is_empty() => (Some(a), None),
            Some(a) if a4.is_empty() => (None, Some(a)),
            Some(a) => (Some(a.clone()), Some(a)),
        };
        let v4_attrs = v4_attrs.map(|mut a| {
            // IPv4 prefixes in MP_REACH_NLRI take its next hop (RFC 4760 §3).
            if update.nlri().next().is_none()
                && let Some(nh) = mp_next_hop
            {
                a.next_hop = Some(nh);
            }
            a
        });
        let v6_attrs = v6_attrs.map(|mut a| {
            a.next_hop = mp_next_hop;
            a
        });
        let r4 = if w4.is_empty() && a4.is_empty() {
            Ok(())
        } else {
            self.handle_update(peer, &w4, &a4, v4_attrs, now)
        };
        let r6 = if w6.is_empty() && a6.is_empty() {
            Ok(())
        } else {
            self.handle_update(peer, &w6, &a6, v6_attrs, now)
        };
        r4.and(r6)
    }
}

/// Drops `prefix`'s path `id` from a pre-policy Adj-RIB-In.
fn forget_received<P: RoutePrefix>(
    store: &mut AttributeStore,
    received: &mut crate::chunk_map::ChunkMap<P, ReceivedPaths>,
    prefix: P,
    id: u32,
) {
    if let Some(paths) = received.get_mut(&prefix)
        && let Some(i) = paths.iter().position(|(j, _)| *j == id)
    {
        store.release(paths.remove(i).1);
        if paths.is_empty() {
            received.remove(&prefix);
        }
    }
}
