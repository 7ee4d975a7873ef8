//! Packet capture on `lo` with tshark, limited to the BGP port and the test's own
//! addresses, then decoded by tshark's BGP dissector: a third independent view
//! of what went over a session (message types per direction).

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::{Error, Result, RunDir, wait_until};
use nexthop_test_support::process::{Daemon, run, tail_file};

/// How long `stop` waits before stopping tshark, for its last packets.
const FLUSH: Duration = Duration::from_millis(1200);

/// One BGP message seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireMessage {
    /// Sender.
    pub src: SocketAddrV4,
    /// Receiver.
    pub dst: SocketAddrV4,
    /// BGP message type (RFC 4271 §4.1): 1 OPEN, 2 UPDATE, 3 NOTIFICATION,
    /// 4 KEEPALIVE, 5 ROUTE-REFRESH.
    pub kind: u8,
}

/// A running capture; stopped on drop.
#[derive(Debug)]
pub struct Capture {
    daemon: Option<Daemon>,
    file: PathBuf,
    out: PathBuf,
    port: u16,
}

impl Capture {
    /// Captures TCP `port` traffic to or from any of `hosts` (127.0.0.0/8 only).
    pub fn start(run_dir: &RunDir, name: &str, hosts: &[Ipv4Addr], port: u16) -> Result<Capture> {
        if hosts.is_empty() || hosts.iter().any(|h| !h.is_loopback()) {
            return Err(Error::new("capture: give one or more 127.x addresses"));
        }
        let dir = run_dir.subdir(&format!("capture-{name}"))?;
        let file = dir.join("bgp.pcapng");
        let hosts: Vec<String> = hosts.iter().map(|h| format!("host {h}")).collect();
        let filter = format!("tcp port {port} and ({})", hosts.join(" or "));
        let mut cmd = Command::new("tshark");
        cmd.args(["-i", "lo", "-l", "-q", "-f", &filter, "-w"])
            .arg(&file);
        let mut d = Daemon::spawn("tshark", &dir, cmd)?;
        let out = dir.join("tshark.out");
        let ready = wait_until(Duration::from_secs(10), "tshark to start capturing", || {
            !d.is_running() || tail_file(&out, 20).contains("Capturing on")
        });
        if ready.is_err() || !d.is_running() {
            let o = d.output_tail(20);
            drop(d);
            return Err(Error::new(format!("tshark did not start: {o}")));
        }
        Ok(Capture {
            daemon: Some(d),
            file,
            out,
            port,
        })
    }

    /// Stops capturing (tshark writes out its file on SIGTERM).
    pub fn stop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            // dumpcap hands packets over in blocks; what is still in the kernel's
            // block when it stops is lost. Give the last block time to close.
            std::thread::sleep(FLUSH);
            d.terminate(Duration::from_secs(5));
        }
    }

    /// Stops the capture and decodes the BGP messages in it, in order.
    pub fn messages(&mut self) -> Result<Vec<WireMessage>> {
        self.stop();
        let file = self.file.to_string_lossy().into_owned();
        let decode_as = format!("tcp.port=={},bgp", self.port);
        let mut args = vec!["-r", file.as_str(), "-Y", "bgp", "-T", "fields"];
        if self.port != 179 {
            args.extend(["-d", decode_as.as_str()]);
        }
        args.extend([
            "-e",
            "ip.src",
            "-e",
            "tcp.srcport",
            "-e",
            "ip.dst",
            "-e",
            "tcp.dstport",
            "-e",
            "bgp.type",
        ]);
        let text = run("tshark", &args, Duration::from_secs(30))
            .map_err(|e| Error::new(format!("{e}\n{}", tail_file(&self.out, 10))))?;
        let mut out = Vec::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 5 {
                continue;
            }
            let (Ok(sa), Ok(sp), Ok(da), Ok(dp)) = (
                f[0].parse::<Ipv4Addr>(),
                f[1].parse::<u16>(),
                f[2].parse::<Ipv4Addr>(),
                f[3].parse::<u16>(),
            ) else {
                continue;
            };
            // Several messages in one segment: "4,2,2".
            for k in f[4].split(',').filter_map(|k| k.trim().parse::<u8>().ok()) {
                out.push(WireMessage {
                    src: SocketAddrV4::new(sa, sp),
                    dst: SocketAddrV4::new(da, dp),
                    kind: k,
                });
            }
        }
        Ok(out)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}
