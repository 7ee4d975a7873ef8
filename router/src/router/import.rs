//! Phase 1 of the decision process (RFC 4271 §9.1.1): routes received from a
//! peer are checked for loops (§9.1.2, RFC 4456 §8), put through the peer's import
//! policy and installed in the Adj-RIB-In, each attribute set interned once.

use super::*;

impl Router {
    /// An UPDATE's routes of one family from `peer`: `withdrawn`, then `announced`
    /// with `attrs` (already merged with AS4_PATH for a 2-octet peer, see
    /// [`Attributes::merge_as4`]). `attrs` of `None` with announced prefixes means
    /// treat-as-withdraw (RFC 7606 §2). Path identifiers are 0 without ADD-PATH.
    pub fn handle_update<P: FamilyPrefix>(
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
        let rib = P::rib_mut(&mut self.ribs);
        for &(id, prefix) in withdrawn {
            if let Some(old) = rib.remove(prefix, peer, id) {
                self.store.release(old.attrs);
                p.prefixes[usize::from(P::IPV6)] -= 1;
            }
        }
        let checked = attrs.and_then(|mut a| {
            match import_check(&self.local, p, &a) {
                Some(why) => {
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
        let Some(attrs) = checked else {
            for &(id, prefix) in announced {
                if let Some(old) = rib.remove(prefix, peer, id) {
                    self.store.release(old.attrs);
                    p.prefixes[usize::from(P::IPV6)] -= 1;
                }
            }
            return Ok(());
        };
        let base = self.store.intern(attrs);
        for &(id, prefix) in announced {
            let attrs = match p.config.import.evaluate(&prefix.to_ip_prefix(), &base) {
                Outcome::Reject => {
                    if let Some(old) = rib.remove(prefix, peer, id) {
                        self.store.release(old.attrs);
                        p.prefixes[usize::from(P::IPV6)] -= 1;
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
            let path = Path {
                peer,
                path_id: id,
                attrs,
            };
            match rib.insert(prefix, path) {
                Some(old) => self.store.release(old.attrs),
                None => p.prefixes[usize::from(P::IPV6)] += 1,
            }
        }
        self.store.release(base);
        // Each family is held to the limit on its own (RFC 4486 §4 reports the
        // AFI/SAFI whose count passed it).
        let count = p.prefixes[usize::from(P::IPV6)];
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
                    family: if P::IPV6 {
                        Family::IPV6_UNICAST
                    } else {
                        Family::IPV4_UNICAST
                    },
                })
            }
            _ => Ok(()),
        }
    }

    /// Treat-as-withdraw (RFC 7606 §2): the UPDATE's prefixes from `peer` are
    /// withdrawn because its attributes were malformed.
    pub fn handle_treat_as_withdraw<P: FamilyPrefix>(
        &mut self,
        peer: PeerId,
        prefixes: &[(u32, P)],
        now: Instant,
    ) -> Result<(), ImportError> {
        self.handle_update(peer, prefixes, &[], None, now)
    }

    /// Originates `prefix` with `attrs` from this router (an empty AS_PATH; the
    /// next hop, if absent, is set per peer to our session address).
    pub fn originate<P: FamilyPrefix>(&mut self, prefix: P, mut attrs: Attributes, now: Instant) {
        self.now = now;
        attrs.normalize();
        let attrs = self.store.intern(attrs);
        let path = Path {
            peer: PeerId::LOCAL,
            path_id: 0,
            attrs,
        };
        if let Some(old) = P::rib_mut(&mut self.ribs).insert(prefix, path) {
            self.store.release(old.attrs);
        }
    }

    /// Stops originating `prefix`.
    pub fn withdraw_originated<P: FamilyPrefix>(&mut self, prefix: P, now: Instant) {
        self.now = now;
        if let Some(old) = P::rib_mut(&mut self.ribs).remove(prefix, PeerId::LOCAL, 0) {
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
