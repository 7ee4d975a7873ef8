//! The runtime driving nexthop's speaker: [`SansIo`] for [`Speaker`], and the
//! per-peer socket options its config asks of connections peers open to us.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use nexthop_speaker::config::Config;
use nexthop_speaker::{Closed, Command, ConnKey, Instant, Speaker, Transmit};

use crate::{PeerSockOpts, SansIo};

impl SansIo for Speaker {
    type Transmit = Transmit;

    fn listen_addresses(&self) -> Vec<SocketAddr> {
        Speaker::listen_addresses(self)
    }
    fn handle_accepted(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<ConnKey> {
        Speaker::handle_accepted(self, now, local, remote)
    }
    fn handle_connected(&mut self, now: Instant, conn: ConnKey, local: SocketAddr) {
        Speaker::handle_connected(self, now, conn, local)
    }
    fn handle_connect_failed(&mut self, now: Instant, conn: ConnKey) {
        Speaker::handle_connect_failed(self, now, conn)
    }
    fn handle_read(&mut self, now: Instant, conn: ConnKey, bytes: &[u8]) -> usize {
        Speaker::handle_read(self, now, conn, bytes)
    }
    fn handle_closed(&mut self, now: Instant, conn: ConnKey, reason: Closed) {
        Speaker::handle_closed(self, now, conn, reason)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Speaker::handle_timeout(self, now)
    }
    fn poll_command(&mut self) -> Option<Command> {
        Speaker::poll_command(self)
    }
    fn poll_ready(&mut self) -> Option<ConnKey> {
        Speaker::poll_ready(self)
    }
    fn poll_transmit(&mut self, now: Instant, conn: ConnKey) -> Option<Transmit> {
        Speaker::poll_transmit(self, now, conn)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Speaker::poll_timeout(self)
    }
    fn handle_shutdown(&mut self, now: Instant, communication: &str) {
        Speaker::handle_shutdown(self, now, communication)
    }
    fn is_shut_down(&self) -> bool {
        Speaker::is_shut_down(self)
    }
    fn peer_socket_options(&self) -> HashMap<IpAddr, PeerSockOpts> {
        peer_options(self.config())
    }
}

/// The TCP-MD5 keys and GTSM minimum TTLs of `config`'s neighbours, for
/// [`crate::Runtime::set_peer_options`] (connections they open to us).
pub fn peer_options(config: &Config) -> HashMap<IpAddr, PeerSockOpts> {
    config
        .neighbors
        .iter()
        .filter(|n| n.md5_key.is_some() || n.min_ttl.is_some())
        .map(|n| {
            let opts = PeerSockOpts {
                md5_key: n.md5_key.as_ref().map(|k| k.as_bytes().to_vec()),
                min_ttl: n.min_ttl,
            };
            (n.address.to_canonical(), opts)
        })
        .collect()
}
