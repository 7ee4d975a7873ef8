//! nexthopctl: the command line of nexthopd's control API.
//!
//! Talks HTTP/1.1 to nexthopd's Unix socket (`--socket`, `$NEXTHOP_SOCKET`,
//! default `/run/nexthopd/nexthopd.sock`) or its TCP listener (`--url`).
//! Tables for people; `--json` prints the API's JSON (a route dump as one JSON
//! array, printed as it streams; `watch` as JSON lines). Exit status: 0 done,
//! 1 error (one line: what went wrong), 2 usage.
#![deny(unsafe_code)]

mod http;
mod show;

use std::io::{BufRead, Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use nexthop_control::ErrorBody;

use http::{Endpoint, encode};

#[derive(Parser)]
#[command(
    name = "nexthopctl",
    version,
    about = "Control and inspect a running nexthopd"
)]
struct Cli {
    /// nexthopd's control socket.
    #[arg(
        long,
        env = "NEXTHOP_SOCKET",
        default_value = "/run/nexthopd/nexthopd.sock",
        global = true
    )]
    socket: PathBuf,
    /// The API over TCP instead (`[control] listen`), as http://HOST:PORT.
    #[arg(long, global = true)]
    url: Option<String>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The speaker at a glance.
    Status,
    /// Neighbours, routes.
    #[command(subcommand)]
    Show(Show),
    /// Every candidate path of PREFIX and the decision step each lost at; with
    /// --to, whether that neighbour is sent PREFIX and, if not, why.
    Explain {
        /// The prefix (192.0.2.0/24, 2001:db8::/32).
        prefix: String,
        /// The neighbour to explain the advertisement to.
        #[arg(long)]
        to: Option<IpAddr>,
    },
    /// Act on one neighbour.
    Neighbor {
        /// The neighbour's address.
        address: IpAddr,
        #[command(subcommand)]
        action: NeighborAction,
    },
    /// Shut the daemon down (every session with a Cease).
    Shutdown {
        /// First re-advertise every route with GRACEFUL_SHUTDOWN (RFC 8326).
        #[arg(long)]
        graceful: bool,
        /// Seconds between the re-advertisement and the Cease.
        #[arg(long, default_value_t = 60, requires = "graceful")]
        after: u64,
    },
    /// Re-read the config file (as SIGHUP), and show the result or the error.
    Reload,
    /// Stream session state changes and best-path changes as they happen.
    Watch {
        /// Only events about this neighbour.
        #[arg(long)]
        neighbor: Option<IpAddr>,
    },
}

#[derive(Subcommand)]
enum Show {
    /// One row per neighbour.
    Neighbors,
    /// Everything about one neighbour.
    Neighbor {
        /// The neighbour's address.
        address: IpAddr,
    },
    /// The Loc-RIB, or one neighbour's routes.
    Routes(RoutesArgs),
}

#[derive(Args)]
struct RoutesArgs {
    /// One prefix (or with --longest-match, an address or prefix to look up).
    prefix: Option<String>,
    /// The most specific route covering PREFIX.
    #[arg(long, requires = "prefix")]
    longest_match: bool,
    /// A neighbour's routes instead of the Loc-RIB.
    #[arg(long)]
    neighbor: Option<IpAddr>,
    /// What the neighbour sent, after import policy (the default with --neighbor).
    #[arg(long, requires = "neighbor", group = "view")]
    received: bool,
    /// What the neighbour sent, before import policy.
    #[arg(long, requires = "neighbor", group = "view")]
    received_pre: bool,
    /// What we send the neighbour.
    #[arg(long, requires = "neighbor", group = "view")]
    advertised: bool,
    /// One address family.
    #[arg(long, value_enum)]
    family: Option<FamilyArg>,
    /// Counts only.
    #[arg(long)]
    summary: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum FamilyArg {
    Ipv4,
    Ipv6,
}

#[derive(Subcommand)]
enum NeighborAction {
    /// Stop the session (Cease 6/2) and keep it down, across reloads, until enabled.
    Disable {
        /// The shutdown communication sent with the Cease (RFC 9003).
        #[arg(long)]
        message: Option<String>,
        /// First re-advertise its routes with GRACEFUL_SHUTDOWN (RFC 8326).
        #[arg(long)]
        graceful: bool,
        /// Seconds between the re-advertisement and the Cease.
        #[arg(long, requires = "graceful")]
        after: Option<u64>,
    },
    /// Let a disabled neighbour's session start again.
    Enable,
    /// Reset the session (Cease 6/4); --soft keeps it and exchanges the routes again.
    Reset {
        /// Route refresh in, re-send out, session kept.
        #[arg(long)]
        soft: bool,
    },
    /// Exchange the routes again in one direction.
    Refresh {
        /// `in`: ask the neighbour (ROUTE-REFRESH); `out`: send ours again.
        #[arg(value_parser = ["in", "out"])]
        direction: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "nexthopctl: {e}");
            ExitCode::from(1)
        }
    }
}

fn endpoint(cli: &Cli) -> Result<Endpoint, String> {
    match &cli.url {
        Some(u) => {
            let rest = u
                .strip_prefix("http://")
                .ok_or_else(|| format!("--url {u}: expected http://HOST:PORT"))?;
            Ok(Endpoint::Tcp(rest.trim_end_matches('/').to_string()))
        }
        None => Ok(Endpoint::Unix(cli.socket.clone())),
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let to = endpoint(cli)?;
    let json = cli.json;
    match &cli.command {
        Command::Status => {
            let v = get(&to, "/v1/status")?;
            print(json, &v, show::status)
        }
        Command::Show(Show::Neighbors) => {
            let v = get(&to, "/v1/neighbors")?;
            print(json, &v, show::neighbors)
        }
        Command::Show(Show::Neighbor { address }) => {
            let v = get(
                &to,
                &format!("/v1/neighbors/{}", encode(&address.to_string())),
            )?;
            print(json, &v, show::neighbor)
        }
        Command::Show(Show::Routes(a)) => routes(&to, json, a),
        Command::Explain { prefix, to: None } => {
            let v = get(&to, &format!("/v1/explain?prefix={}", encode(prefix)))?;
            print(json, &v, show::explain)
        }
        Command::Explain {
            prefix,
            to: Some(n),
        } => {
            let v = get(
                &to,
                &format!(
                    "/v1/explain?prefix={}&to={}",
                    encode(prefix),
                    encode(&n.to_string())
                ),
            )?;
            print(json, &v, show::explain_to)
        }
        Command::Neighbor { address, action } => {
            let (what, body) = match action {
                NeighborAction::Disable {
                    message,
                    graceful,
                    after,
                } => (
                    "disable",
                    serde_json::json!({"message": message, "graceful": graceful, "after_s": after}),
                ),
                NeighborAction::Enable => ("enable", serde_json::json!({})),
                NeighborAction::Reset { soft } => ("reset", serde_json::json!({"soft": soft})),
                NeighborAction::Refresh { direction } => {
                    ("refresh", serde_json::json!({"direction": direction}))
                }
            };
            let v = post(
                &to,
                &format!("/v1/neighbors/{}/{what}", encode(&address.to_string())),
                &body.to_string(),
            )?;
            print(json, &v, show::message)
        }
        Command::Shutdown { graceful, after } => {
            let body = serde_json::json!({"graceful": graceful, "after_s": after});
            let v = post(&to, "/v1/shutdown", &body.to_string())?;
            print(json, &v, show::message)
        }
        Command::Reload => {
            let v = post(&to, "/v1/reload", "{}")?;
            print(json, &v, show::reload)
        }
        Command::Watch { neighbor } => {
            let target = match neighbor {
                Some(n) => format!("/v1/watch?neighbor={}", encode(&n.to_string())),
                None => "/v1/watch".to_string(),
            };
            let r = ok(http::request(&to, "GET", &target, None)?)?;
            stream_lines(r.body, true, |line, out| {
                if json {
                    writeln!(out, "{line}")
                } else {
                    match serde_json::from_str(line) {
                        Ok(ev) => writeln!(out, "{}", show::event(&ev)),
                        Err(_) => writeln!(out, "{line}"),
                    }
                }
            })
        }
    }
}

fn routes(to: &Endpoint, json: bool, a: &RoutesArgs) -> Result<(), String> {
    let mut q = Vec::new();
    if let Some(p) = &a.prefix {
        q.push(format!("prefix={}", encode(p)));
    }
    if a.longest_match {
        q.push("longest_match=true".into());
    }
    if let Some(n) = a.neighbor {
        q.push(format!("neighbor={}", encode(&n.to_string())));
        let view = if a.advertised {
            "advertised"
        } else if a.received_pre {
            "received_pre"
        } else {
            "received"
        };
        q.push(format!("view={view}"));
    }
    if let Some(f) = a.family {
        q.push(format!(
            "family={}",
            match f {
                FamilyArg::Ipv4 => "ipv4",
                FamilyArg::Ipv6 => "ipv6",
            }
        ));
    }
    if a.summary {
        q.retain(|p| !p.starts_with("prefix=") && !p.starts_with("longest_match="));
        let target = format!("/v1/routes/summary?{}", q.join("&"));
        let v = get(to, &target)?;
        return print(json, &v, show::summary);
    }
    let target = format!("/v1/routes?{}", q.join("&"));
    let r = ok(http::request(to, "GET", &target, None)?)?;
    // The daemon writes one route per line: `[`, `,` or nothing before it,
    // `]` at the end. Printed as they come.
    let mut header = false;
    let mut count = 0u64;
    stream_lines(r.body, false, |line, out| {
        if json {
            return writeln!(out, "{line}");
        }
        let t = line.trim_start_matches(['[', ',']).trim_end_matches(']');
        if t.trim().is_empty() {
            if !header && count == 0 && line.contains(']') {
                writeln!(out, "no routes")?;
            }
            return Ok(());
        }
        let route: nexthop_control::Route = serde_json::from_str(t)
            .map_err(|e| std::io::Error::other(format!("bad route from the daemon: {e}")))?;
        if !header {
            writeln!(out, "{}", show::ROUTE_HEADER)?;
            header = true;
        }
        count += 1;
        writeln!(out, "{}", show::route(&route))
    })
}

/// Reads `body` line by line (as it streams), hands each to `f` with stdout;
/// flushes after every line when `flush_each_line`.
fn stream_lines(
    mut body: Box<dyn BufRead>,
    flush_each_line: bool,
    mut f: impl FnMut(&str, &mut dyn Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = String::new();
    loop {
        line.clear();
        match body.read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {
                if let Err(e) = f(line.trim_end_matches(['\r', '\n']), &mut out) {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(());
                    }
                    return Err(e.to_string());
                }
                // Events are shown as they happen; a dump is written in
                // buffer-sized pieces.
                if flush_each_line {
                    let _ = out.flush();
                }
            }
            Err(e) => {
                let _ = out.flush();
                return Err(e.to_string());
            }
        }
    }
    out.flush().or_else(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Ok(())
        } else {
            Err(e.to_string())
        }
    })
}

/// An error answer as its one-line message.
fn ok(r: http::Response) -> Result<http::Response, String> {
    if r.status < 300 {
        return Ok(r);
    }
    let status = r.status;
    let mut body = String::new();
    let _ = r.body.take(64 * 1024).read_to_string(&mut body);
    Err(match serde_json::from_str::<ErrorBody>(&body) {
        Ok(e) => e.error.message,
        Err(_) => format!("the daemon answered {status}: {}", body.trim()),
    })
}

fn get(to: &Endpoint, target: &str) -> Result<serde_json::Value, String> {
    body_json(ok(http::request(to, "GET", target, None)?)?)
}

fn post(to: &Endpoint, target: &str, body: &str) -> Result<serde_json::Value, String> {
    body_json(ok(http::request(to, "POST", target, Some(body))?)?)
}

fn body_json(mut r: http::Response) -> Result<serde_json::Value, String> {
    let mut s = String::new();
    r.body
        .read_to_string(&mut s)
        .map_err(|e| format!("reading the answer: {e}"))?;
    serde_json::from_str(&s).map_err(|e| format!("the daemon's answer is not JSON ({e}): {s}"))
}

fn print(
    json: bool,
    v: &serde_json::Value,
    table: fn(&serde_json::Value) -> Result<String, String>,
) -> Result<(), String> {
    let text = if json {
        serde_json::to_string_pretty(v).map_err(|e| e.to_string())?
    } else {
        table(v)?
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{}", text.trim_end()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.to_string()),
        _ => Ok(()),
    }
}
