//! The contract between a runtime and the sans-IO speaker: [`SansIo`], the inputs
//! and outputs every runtime (runtime-mio, runtime-uring, a test's virtual
//! network) drives, its implementation for [`Speaker`], and the per-peer socket
//! options ([`PeerSockOpts`], RFC 2385 TCP-MD5 and RFC 5082 GTSM) a runtime puts
//! on connections peers open to us.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::config::Config;
use crate::{Closed, Command, ConnKey, Instant, Speaker, Transmit};

/// What a runtime drives: the sans-IO speaker's inputs and outputs. After every
/// input the runtime drains the outputs: commands, then ready connections and
/// their transmits, again until none gives anything (the order the [`Speaker`]
/// documents).
pub trait SansIo {
    /// Bytes to write, owned or shared; kept alive until the kernel has taken them.
    type Transmit: AsRef<[u8]>;
    /// Where to listen.
    fn listen_addresses(&self) -> Vec<SocketAddr>;
    /// A connection was accepted; `None`: close it at once.
    fn handle_accepted(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<ConnKey>;
    /// An outbound connect completed.
    fn handle_connected(&mut self, now: Instant, conn: ConnKey, local: SocketAddr);
    /// An outbound connect failed or timed out.
    fn handle_connect_failed(&mut self, now: Instant, conn: ConnKey);
    /// Bytes arrived; returns how many were consumed.
    fn handle_read(&mut self, now: Instant, conn: ConnKey, bytes: &[u8]) -> usize;
    /// The connection is gone.
    fn handle_closed(&mut self, now: Instant, conn: ConnKey, reason: Closed);
    /// Timers at or before `now` run.
    fn handle_timeout(&mut self, now: Instant);
    /// The next socket command.
    fn poll_command(&mut self) -> Option<Command>;
    /// A connection with bytes to send.
    fn poll_ready(&mut self) -> Option<ConnKey>;
    /// The next bytes to write on `conn`.
    fn poll_transmit(&mut self, now: Instant, conn: ConnKey) -> Option<Self::Transmit>;
    /// When `handle_timeout` is next due.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Administrative shutdown of every session (a speaker without sessions has
    /// nothing to do).
    fn handle_shutdown(&mut self, now: Instant, communication: &str) {
        let _ = (now, communication);
    }
    /// After `handle_shutdown`: every NOTIFICATION handed out, every connection
    /// closed.
    fn is_shut_down(&self) -> bool {
        true
    }
    /// TCP-MD5 keys and GTSM minimum TTLs of the configured peers, for inbound
    /// connections (outbound ones get theirs with each [`Command::Connect`]). A
    /// runtime applies them when it starts, and again after a reload.
    fn peer_socket_options(&self) -> HashMap<IpAddr, PeerSockOpts> {
        HashMap::new()
    }
}

/// Per-peer socket options the speaker's commands do not carry for inbound
/// connections: the TCP-MD5 key (RFC 2385) goes on every listener of the peer's
/// family, the GTSM minimum TTL (RFC 5082) on each connection accepted from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerSockOpts {
    /// TCP-MD5 key (RFC 2385).
    pub md5_key: Option<Vec<u8>>,
    /// GTSM minimum TTL (RFC 5082).
    pub min_ttl: Option<u8>,
}

/// The TCP-MD5 keys and GTSM minimum TTLs of `config`'s neighbours, keyed by
/// their canonical address (an IPv4-mapped IPv6 address as IPv4).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_neighbours_with_a_key_or_a_minimum_ttl_get_socket_options() {
        let config = Config::from_toml(
            r#"
[router]
asn = 65000
router_id = "192.0.2.1"

[[neighbor]]
address = "::ffff:192.0.2.2"
remote_asn = 65001
md5_key = "s3cret"

[[neighbor]]
address = "2001:db8::3"
remote_asn = 65002
min_ttl = 254

[[neighbor]]
address = "192.0.2.4"
remote_asn = 65003
"#,
        )
        .unwrap();
        let peers = peer_options(&config);
        assert_eq!(peers.len(), 2);
        let mapped: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(
            peers[&mapped],
            PeerSockOpts {
                md5_key: Some(b"s3cret".to_vec()),
                min_ttl: None
            },
            "an IPv4-mapped address is keyed as IPv4"
        );
        let v6: IpAddr = "2001:db8::3".parse().unwrap();
        assert_eq!(peers[&v6].min_ttl, Some(254));
        assert_eq!(peers[&v6].md5_key, None);
    }
}
