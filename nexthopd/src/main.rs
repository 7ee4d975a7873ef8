//! nexthopd, the nexthop BGP daemon.
//!
//! `nexthopd check --config FILE` validates a configuration and exits; `run`
//! arrives with the runtime (issue 5), `lab` with the load generator (issue 7).
#![deny(unsafe_code)]

use nexthop_speaker::config;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "nexthopd", version, about = "the nexthop BGP daemon")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a configuration file and exit: 0 when valid, 1 with the error otherwise.
    Check {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config } => {
            let text = match std::fs::read_to_string(&config) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("nexthopd: cannot read {}: {e}", config.display());
                    return ExitCode::FAILURE;
                }
            };
            match config::Config::from_toml(&text) {
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
                    eprintln!("nexthopd: {}: {e}", config.display());
                    ExitCode::FAILURE
                }
            }
        }
    }
}
