//! nexthopd, the nexthop BGP daemon.
//!
//! `nexthopd run --config FILE` runs the speaker on the runtime the config names
//! (`[router] runtime`; without it io_uring where the kernel allows it, else
//! mio); `nexthopd check --config FILE` validates a configuration and exits.
//! Both refuse a config that asks for a socket option this build cannot apply
//! (TCP-MD5 or GTSM with the portable socket options), naming the neighbour and
//! the key. Logs go through `tracing`: readable text
//! on stderr by default, JSON lines with `--log-format json`, levels from
//! `RUST_LOG` (default `info`). SIGTERM and SIGINT shut every session down with a
//! Cease (administrative shutdown, RFC 9003 communication) and exit 0; SIGHUP
//! re-reads the config and applies it, keeping the running one if it is invalid.
#![deny(unsafe_code)]

mod control;
mod lab;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use nexthop_speaker::config::{self, Config};

#[derive(Parser)]
#[command(name = "nexthopd", version, about = "the nexthop BGP daemon")]
struct Cli {
    /// Log format: readable text, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, fields as keys.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a configuration file and exit: 0 when valid, 1 with the error otherwise.
    Check {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Run the daemon.
    Run {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Benchmark a route reflector on loopback: nexthopd as a child process,
    /// simulated iBGP clients, progress bars and a summary table.
    Lab(lab::LabArgs),
}

/// Reads and validates `path`: the config itself (the error names the key and
/// the line), and whether this build can apply its neighbours' socket options
/// (the error names the neighbour and the key).
pub fn load(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let cfg = Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    nexthop_runtime_edge::check(&nexthop_speaker::peer_socket_rules(&cfg))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(cfg)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lab(args) => lab::run(args),
        Command::Check { config } => match load(&config) {
            Ok(c) => {
                println!(
                    "{}: valid: AS {}, router ID {}, {} neighbors, {} dynamic ranges, {} originated prefixes",
                    config.display(),
                    c.router.asn,
                    c.router.router_id,
                    c.neighbors.len(),
                    c.dynamic_neighbors.len(),
                    c.originate.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("nexthopd: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Run { config: path } => {
            let cfg = match load(&path) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("nexthopd: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // io_uring where the kernel allows it; mio otherwise, unless the config
            // demanded uring.
            let uring = match cfg.router.runtime {
                Some(config::RuntimeKind::Mio) => false,
                demanded => match nexthop_runtime_uring::probe() {
                    Ok(_) => true,
                    Err(why) if demanded.is_some() => {
                        eprintln!(
                            "nexthopd: {}: runtime = \"uring\", but io_uring cannot be used here: {why}",
                            path.display()
                        );
                        return ExitCode::from(2);
                    }
                    Err(why) => {
                        eprintln!("nexthopd: io_uring cannot be used here ({why}); running on mio");
                        false
                    }
                },
            };
            run::init_logging(cli.log_format);
            let result = if uring {
                run::run_uring(&path, cfg)
            } else {
                run::run_mio(&path, cfg)
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "nexthopd stopped");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config with a TCP-MD5 key and a minimum TTL loads where the build can
    /// apply them, and is refused, naming the neighbour and the key, where it
    /// cannot (`--features portable-fallback`).
    #[test]
    fn a_config_is_checked_against_the_socket_options_of_this_build() {
        let path = std::env::temp_dir().join(format!("nexthopd-check-{}.toml", std::process::id()));
        let text = "[router]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_asn = 65001\nmd5_key = \"k\"\nmin_ttl = 255\n";
        std::fs::write(&path, text).expect("write the config");
        let loaded = load(&path);
        let _ = std::fs::remove_file(&path);
        if nexthop_runtime_edge::sockopt::PORTABLE_FALLBACK {
            let e = loaded.expect_err("the portable build took a TCP-MD5 key");
            assert!(
                e.contains("neighbor 192.0.2.2: md5_key: TCP-MD5 (RFC 2385) is not available"),
                "{e}"
            );
        } else {
            assert_eq!(loaded.expect("this build applies both").neighbors.len(), 1);
        }
    }
}
