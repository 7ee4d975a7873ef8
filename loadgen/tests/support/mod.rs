//! BIRD 2 as the device under test of a scenario, through nexthop-interop's
//! BIRD driver: the route reflector (or route server) of the scenario's peers,
//! in a run directory of its own, stopped by PID when dropped.

use nexthop_interop::{Bird, RunDir, SpeakerConfig};
use nexthop_loadgen::Scenario;

/// BIRD for `s`, in run directory `loadgen-<test>`; `None` (the test is
/// skipped, saying why) where BIRD is not installed, a failure under CI.
pub fn start_bird(test: &str, s: &Scenario) -> Option<(RunDir, Bird)> {
    if !(nexthop_test_support::require("bird") && nexthop_test_support::require("birdc")) {
        return None;
    }
    let run = RunDir::new(&format!("loadgen-{test}")).unwrap();
    let cfg = SpeakerConfig::for_scenario(s).unwrap();
    let bird = Bird::start(&run, cfg).unwrap_or_else(|e| panic!("{e}"));
    Some((run, bird))
}
