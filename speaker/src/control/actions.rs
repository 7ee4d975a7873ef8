//! The operator's actions, sans-IO: disable (Cease 6/2 with the RFC 9003
//! shutdown communication, RFC 4486 §4), enable, reset (Cease 6/4, or soft:
//! ROUTE-REFRESH in, RFC 2918, and a re-send out), refresh, and graceful
//! shutdown (RFC 8326 §4) of one session or of all: the GRACEFUL_SHUTDOWN
//! community (and LOCAL_PREF 0) on what we send and on what we learned, then
//! the Cease from a speaker deadline.

use std::net::IpAddr;

use nexthop_control::{Action, ActionResult, ApiError, Direction};
use nexthop_core::session::State;
use nexthop_core::time::Duration;
use nexthop_core::wire::Family;
use nexthop_core::wire::codes::cease_subcode;
use nexthop_router::attributes::Community;
use nexthop_router::peer::PeerConfig;
use nexthop_router::policy::{Action as PolicyAction, Policy, Rule, Verdict};
use nexthop_router::router::Reconfigured;

use crate::{Instant, Speaker};

/// GRACEFUL_SHUTDOWN, 65535:0 (RFC 8326 §5).
pub(crate) const GRACEFUL_SHUTDOWN: Community = Community(0xffff_0000);

/// Seconds between the re-advertisement and the Cease when none is given.
pub(crate) const DEFAULT_GRACEFUL_AFTER_S: u64 = 60;

/// RFC 9003 §2: the shutdown communication's length is one octet.
const MAX_COMMUNICATION_LEN: usize = 255;

/// A graceful shutdown waiting for its Cease.
#[derive(Clone, Debug)]
pub(crate) struct GracefulShutdown {
    pub address: IpAddr,
    /// When the Cease goes out.
    pub at: Instant,
    /// The RFC 9003 communication of the Cease.
    pub message: String,
    /// The router's config for the peer meanwhile (the configured one with
    /// the graceful shutdown's actions).
    pub in_force: PeerConfig,
}

/// `policy` with the GRACEFUL_SHUTDOWN community (and LOCAL_PREF 0 with
/// `local_pref_zero`) added on every accepting rule, and on what the default
/// accepts (a last rule matching everything).
pub(crate) fn graceful_policy(policy: &Policy, local_pref_zero: bool) -> Policy {
    let mut actions = vec![PolicyAction::AddCommunity(GRACEFUL_SHUTDOWN)];
    if local_pref_zero {
        actions.push(PolicyAction::SetLocalPref(0));
    }
    let mut p = policy.clone();
    for rule in &mut p.rules {
        if rule.verdict == Verdict::Accept {
            rule.actions.extend(actions.iter().cloned());
        }
    }
    if p.default == Verdict::Accept {
        p.rules.push(Rule {
            matches: Vec::new(),
            actions,
            verdict: Verdict::Accept,
        });
    }
    p
}

fn done(message: String) -> Result<ActionResult, ApiError> {
    Ok(ActionResult { message })
}

impl Speaker {
    /// Carries out an operator's action (see [`nexthop_control::Action`]).
    pub(crate) fn handle_action(
        &mut self,
        now: Instant,
        action: Action,
    ) -> Result<ActionResult, ApiError> {
        if self.shutting_down {
            return Err(ApiError::new(
                503,
                "shutting_down",
                "the speaker is shutting down",
            ));
        }
        match action {
            Action::Disable {
                neighbor,
                message,
                graceful,
                after_s,
            } => {
                let neighbor = self.known(neighbor)?;
                let message = message.unwrap_or_default();
                if message.len() > MAX_COMMUNICATION_LEN {
                    return Err(ApiError::bad_request(format!(
                        "shutdown message of {} bytes: RFC 9003 allows at most {MAX_COMMUNICATION_LEN}",
                        message.len()
                    )));
                }
                if graceful {
                    let after = after_s.unwrap_or(DEFAULT_GRACEFUL_AFTER_S);
                    if let Some(text) = self.start_graceful(now, neighbor, after, message.clone()) {
                        return done(text);
                    }
                }
                self.disable_now(now, neighbor, message);
                done(format!(
                    "neighbor {neighbor} disabled (Cease / Administrative Shutdown sent where a session was open); it stays down until enabled"
                ))
            }
            Action::Enable { neighbor } => {
                let neighbor = self.known(neighbor)?;
                let was_graceful = self.cancel_graceful(now, neighbor);
                let was_disabled = self.control.disabled.remove(&neighbor).is_some();
                if let Some(i) = self.peer_index(neighbor)
                    && self.peers[i]
                        .as_ref()
                        .is_some_and(|p| p.session.state() == State::Idle)
                {
                    self.start(i, now);
                }
                done(match (was_disabled, was_graceful) {
                    (true, _) => format!("neighbor {neighbor} enabled"),
                    (false, true) => format!("neighbor {neighbor}: graceful shutdown cancelled"),
                    (false, false) => format!("neighbor {neighbor} was not disabled"),
                })
            }
            Action::Reset {
                neighbor,
                soft: false,
            } => {
                let neighbor = self.known(neighbor)?;
                let i = self.enabled_peer(neighbor)?;
                if let Some(p) = self.peers[i].as_mut() {
                    p.session
                        .handle_manual_stop(now, cease_subcode::ADMINISTRATIVE_RESET, "");
                }
                self.drive(i, now);
                // A dynamic neighbour is forgotten with its connection: it
                // connects again by itself.
                if self.peers[i]
                    .as_ref()
                    .is_some_and(|p| p.spec.address == neighbor && !p.dynamic)
                {
                    self.start(i, now);
                }
                done(format!(
                    "neighbor {neighbor} reset (Cease / Administrative Reset); the session starts again"
                ))
            }
            Action::Reset {
                neighbor,
                soft: true,
            } => {
                let neighbor = self.known(neighbor)?;
                self.refresh(now, neighbor, true, true)?;
                done(format!(
                    "neighbor {neighbor}: ROUTE-REFRESH sent and our routes sent again"
                ))
            }
            Action::Refresh {
                neighbor,
                direction,
            } => {
                let neighbor = self.known(neighbor)?;
                let inbound = direction == Direction::In;
                self.refresh(now, neighbor, inbound, !inbound)?;
                done(if inbound {
                    format!("neighbor {neighbor}: ROUTE-REFRESH sent")
                } else {
                    format!("neighbor {neighbor}: our routes sent again")
                })
            }
            Action::GracefulShutdownAll { after_s } => {
                let at = now + Duration::from_secs(after_s);
                let addresses: Vec<IpAddr> =
                    self.peers_sorted().iter().map(|p| p.spec.address).collect();
                let mut n = 0;
                for a in addresses {
                    if !self.control.graceful.iter().any(|g| g.address == a)
                        && self
                            .start_graceful(now, a, after_s, String::new())
                            .is_some()
                    {
                        n += 1;
                    }
                }
                self.control.shutdown_at = Some(at);
                done(format!(
                    "graceful shutdown (RFC 8326): {n} sessions re-advertised with GRACEFUL_SHUTDOWN; every session ends in {after_s} s"
                ))
            }
        }
    }

    /// `address` canonical, when it is a neighbour (or a disabled address).
    fn known(&self, address: IpAddr) -> Result<IpAddr, ApiError> {
        let a = address.to_canonical();
        if self.by_addr.contains_key(&a) || self.control.disabled.contains_key(&a) {
            Ok(a)
        } else {
            Err(ApiError::unknown_neighbor(address))
        }
    }

    fn enabled_peer(&self, address: IpAddr) -> Result<usize, ApiError> {
        if self.control.is_disabled(address) {
            return Err(ApiError::conflict(format!(
                "neighbor {address} is disabled: enable it first"
            )));
        }
        self.peer_index(address)
            .ok_or_else(|| ApiError::conflict(format!("neighbor {address} has no session")))
    }

    /// Stops `address` with Cease 6/2 and `message`, and keeps it down.
    fn disable_now(&mut self, now: Instant, address: IpAddr, message: String) {
        // The configured policy comes back before the Cease: the UPDATEs it
        // makes are dropped with the session, never sent.
        self.cancel_graceful(now, address);
        if let Some(i) = self.peer_index(address)
            && let Some(p) = self.peers[i].as_mut()
        {
            tracing::info!(neighbor = %address, communication = %message, "disabled by the operator");
            p.session
                .handle_manual_stop(now, cease_subcode::ADMINISTRATIVE_SHUTDOWN, &message);
            self.drive(i, now);
        }
        self.control.disabled.insert(address, message);
    }

    /// RFC 8326 §4 for the session with `address`: what we send it gets
    /// GRACEFUL_SHUTDOWN (and LOCAL_PREF 0 toward an iBGP peer), what it sent
    /// us gets LOCAL_PREF 0 and GRACEFUL_SHUTDOWN (through ROUTE-REFRESH where
    /// it supports it), and the Cease follows `after_s` later. `None` when it
    /// is not Established (nothing to move away from: disable it at once).
    fn start_graceful(
        &mut self,
        now: Instant,
        address: IpAddr,
        after_s: u64,
        message: String,
    ) -> Option<String> {
        let i = self.peer_index(address)?;
        let p = self.peers[i].as_mut()?;
        p.established?;
        self.control.graceful.retain(|g| g.address != address);
        let internal = self.router.is_internal(p.router_peer);
        let mut cfg = p.spec.router.clone();
        cfg.export = graceful_policy(&cfg.export, internal);
        cfg.import = graceful_policy(&cfg.import, true);
        let info = p.session.session_info().copied();
        let mut text = format!(
            "neighbor {address}: graceful shutdown (RFC 8326): routes re-advertised with GRACEFUL_SHUTDOWN{}; Cease in {after_s} s",
            if internal { " and LOCAL_PREF 0" } else { "" }
        );
        match self
            .router
            .reconfigure_peer(p.router_peer, cfg.clone(), now)
        {
            Reconfigured::RouteRefreshNeeded => match info.filter(|i| i.route_refresh) {
                Some(info) => {
                    for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
                        if info.families.contains(f)
                            && let Err(e) = p.session.request_route_refresh(f)
                        {
                            tracing::warn!(neighbor = %address, family = %f, error = %e, "route refresh not sent");
                        }
                    }
                }
                None => text.push_str(
                    "; its own routes keep their LOCAL_PREF: it does not support route refresh (RFC 2918)",
                ),
            },
            Reconfigured::Applied | Reconfigured::ResetNeeded => {}
        }
        self.control.graceful.push(GracefulShutdown {
            address,
            at: now + Duration::from_secs(after_s),
            message,
            in_force: cfg,
        });
        self.drive(i, now);
        self.take_router_output();
        Some(text)
    }

    /// Ends a graceful shutdown of `address` before its Cease: the configured
    /// policy again. Whether one was running.
    fn cancel_graceful(&mut self, now: Instant, address: IpAddr) -> bool {
        let Some(k) = self
            .control
            .graceful
            .iter()
            .position(|g| g.address == address)
        else {
            return false;
        };
        self.control.graceful.swap_remove(k);
        if let Some(i) = self.peer_index(address)
            && let Some(p) = self.peers[i].as_mut()
        {
            let info = p.session.session_info().copied();
            if self
                .router
                .reconfigure_peer(p.router_peer, p.spec.router.clone(), now)
                == Reconfigured::RouteRefreshNeeded
                && let Some(info) = info.filter(|i| i.route_refresh)
            {
                for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
                    if info.families.contains(f) {
                        let _ = p.session.request_route_refresh(f);
                    }
                }
            }
            self.drive(i, now);
            self.take_router_output();
        }
        true
    }

    /// ROUTE-REFRESH for each negotiated family (`inbound`) and our routes
    /// again (`outbound`).
    fn refresh(
        &mut self,
        now: Instant,
        address: IpAddr,
        inbound: bool,
        outbound: bool,
    ) -> Result<(), ApiError> {
        let i = self.enabled_peer(address)?;
        let Some(p) = self.peers[i].as_mut() else {
            return Err(ApiError::unknown_neighbor(address));
        };
        let state = p.session.state();
        let info = match (p.established, p.session.session_info().copied()) {
            (Some(_), Some(info)) => info,
            _ => {
                return Err(ApiError::conflict(format!(
                    "neighbor {address} is not Established (it is {state})"
                )));
            }
        };
        if inbound {
            if !info.route_refresh {
                return Err(ApiError::conflict(format!(
                    "neighbor {address} did not advertise route refresh (RFC 2918): its routes cannot be asked for again; a hard reset can"
                )));
            }
            for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
                if info.families.contains(f) {
                    p.session
                        .request_route_refresh(f)
                        .map_err(|e| ApiError::conflict(format!("neighbor {address}: {e}")))?;
                }
            }
        }
        if outbound {
            self.router.handle_route_refresh(p.router_peer, now);
        }
        self.drive(i, now);
        self.take_router_output();
        Ok(())
    }

    /// After a reload: a graceful shutdown running on a neighbour whose
    /// configured policy changed goes on with the new policy plus its actions.
    pub(crate) fn reapply_graceful(&mut self, now: Instant) {
        for k in 0..self.control.graceful.len() {
            let address = self.control.graceful[k].address;
            let Some(i) = self.peer_index(address) else {
                continue;
            };
            let Some(p) = self.peers[i].as_mut().filter(|p| p.established.is_some()) else {
                continue;
            };
            let internal = self.router.is_internal(p.router_peer);
            let mut cfg = p.spec.router.clone();
            cfg.export = graceful_policy(&cfg.export, internal);
            cfg.import = graceful_policy(&cfg.import, true);
            if cfg == self.control.graceful[k].in_force {
                continue;
            }
            let info = p.session.session_info().copied();
            if self
                .router
                .reconfigure_peer(p.router_peer, cfg.clone(), now)
                == Reconfigured::RouteRefreshNeeded
                && let Some(info) = info.filter(|i| i.route_refresh)
            {
                for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
                    if info.families.contains(f) {
                        let _ = p.session.request_route_refresh(f);
                    }
                }
            }
            self.control.graceful[k].in_force = cfg;
            self.drive(i, now);
        }
        self.take_router_output();
    }

    /// After a reload: disabled addresses that are neither configured nor in a
    /// dynamic range are forgotten (an operator cannot enable what is gone).
    pub(crate) fn forget_unconfigured_disabled(&mut self) {
        if self.control.disabled.is_empty() {
            return;
        }
        let config = &self.config;
        self.control.disabled.retain(|&a, _| {
            config.neighbors.iter().any(|n| n.address == a)
                || crate::neighbor::dynamic_neighbor_for(config, a).is_some()
        });
    }

    /// Graceful-shutdown deadlines due at `now`.
    pub(crate) fn handle_control_timeout(&mut self, now: Instant) {
        if self.control.shutdown_at.is_some_and(|t| t <= now) {
            self.control.shutdown_at = None;
            self.control.graceful.clear();
            self.handle_shutdown(now, "graceful shutdown (RFC 8326)");
            return;
        }
        while let Some(k) = self.control.graceful.iter().position(|g| g.at <= now) {
            let g = self.control.graceful[k].clone();
            self.disable_now(now, g.address, g.message);
        }
    }
}
