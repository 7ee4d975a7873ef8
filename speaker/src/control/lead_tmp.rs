// TEMPORARY (uncommitted): lets nexthopd compile before branch `speaker` lands.
use crate::{Instant, Speaker};
use nexthop_control::*;
use std::net::IpAddr;
impl Backend for Speaker {
    type Instant = Instant;
    fn status(&self, _now: Instant) -> Status {
        Status {
            version: String::new(),
            asn: self.config.router.asn,
            router_id: self.config.router.router_id,
            uptime_s: 0,
            runtime: String::new(),
            neighbors: self.by_addr.len(),
            established: 0,
            shutting_down: self.shutting_down,
        }
    }
    fn neighbors(&self, _now: Instant) -> Vec<NeighborSummary> {
        Vec::new()
    }
    fn neighbor(&self, _now: Instant, a: IpAddr) -> Result<NeighborDetail, ApiError> {
        Err(ApiError::unknown_neighbor(a))
    }
    fn check_routes(&self, q: &RouteQuery) -> Result<(), ApiError> {
        super::routes::check_routes(self, q)
    }
    fn routes(
        &self,
        now: Instant,
        q: &RouteQuery,
        c: &mut RouteCursor,
        max: usize,
        out: &mut Vec<Route>,
    ) -> Result<(), ApiError> {
        super::routes::routes(self, now, q, c, max, out)
    }
    fn route_summary(&self, q: &RouteQuery) -> Result<RouteSummary, ApiError> {
        super::routes::route_summary(self, q)
    }
    fn explain(&self, now: Instant, p: &str) -> Result<Explain, ApiError> {
        super::routes::explain(self, now, p)
    }
    fn explain_to(&self, now: Instant, p: &str, n: IpAddr) -> Result<ExplainTo, ApiError> {
        super::routes::explain_to(self, now, p, n)
    }
    fn act(&mut self, _now: Instant, _a: Action) -> Result<ActionResult, ApiError> {
        Err(ApiError::conflict("tmp"))
    }
    fn set_watching(&mut self, _on: bool) {}
    fn poll_event(&mut self) -> Option<WatchEvent> {
        None
    }
    fn metrics(&self, _now: Instant) -> MetricsSnapshot {
        MetricsSnapshot::default()
    }
}
