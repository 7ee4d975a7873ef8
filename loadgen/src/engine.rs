//! The run: one thread, one mio poll, every simulated peer a [`Speaker`].
//!
//! Phases: connect every session; once all are Established (and after the
//! start delay) the senders write their pre-encoded UPDATEs; receivers count
//! until each holds the full table; then, if asked, the senders withdraw part
//! and the receivers count down; then the sessions are kept for the hold time
//! and closed with a Cease (RFC 4486 §4, Administrative Shutdown).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant as StdInstant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use nexthop_core::session::{Event, LocalCapabilities, Session, SessionConfig};
use nexthop_core::time::{Duration as CoreDuration, Instant};
use nexthop_core::wire::update::{PeerType, Update};
use nexthop_core::wire::{Family, FamilySet, Negotiated};

use crate::Usage;
use crate::routes::{EncodedRoutes, FinalLengths, PrefixPlan, SenderRoutes, encode_sender};
use crate::scenario::{Phase, Progress, Report, Scenario, bind_addr};
use crate::speaker::Speaker;
use crate::table::PrefixTable;

/// Tokens per peer: two connections and a listener.
const TOKENS_PER_PEER: usize = 4;
/// Between two progress reports.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

enum Role {
    Sender {
        index: u32,
        routes: EncodedRoutes,
        announce: Rc<Vec<u8>>,
        withdraw: Rc<Vec<u8>>,
        /// Streams queued in this session (re-sent after a reset).
        queued: u8,
    },
    Receiver {
        index: u32,
        table: PrefixTable,
    },
}

struct Peer {
    speaker: Speaker,
    listener: Option<TcpListener>,
    role: Role,
    established: bool,
}

fn families(s: &Scenario) -> FamilySet {
    let mut f = FamilySet::EMPTY;
    f.insert(Family::IPV4_UNICAST);
    if s.ipv6_prefixes > 0 {
        f.insert(Family::IPV6_UNICAST);
    }
    f
}

fn session_config(s: &Scenario, i: u32) -> SessionConfig {
    let ip = s.peer_addr(i);
    let mut c = SessionConfig::new(s.dut.ip(), s.peer_asn(i), ip.to_bits());
    c.remote_asn = Some(s.dut_asn);
    c.hold_time = s.hold_time;
    c.keepalive_time = CoreDuration::from_secs(u64::from(s.hold_time / 3).max(1));
    c.passive_tcp_establishment = s.passive;
    c.connect_retry_time = CoreDuration::from_secs(1);
    c.rng_seed = s.seed ^ u64::from(i);
    let fams = families(s);
    c.capabilities = LocalCapabilities {
        families: fams,
        route_refresh: true,
        four_octet_as: true,
        ..LocalCapabilities::default()
    };
    if s.add_path {
        c.capabilities.add_path.receive = fams;
        c.capabilities.add_path.send = fams;
    }
    c
}

/// What the senders' streams are encoded for before any session is up.
fn assumed_negotiated(s: &Scenario) -> Negotiated {
    let fams = if s.add_path {
        families(s)
    } else {
        FamilySet::EMPTY
    };
    Negotiated {
        four_octet_as: true,
        extended_message: false,
        add_path_receive: fams,
        add_path_send: fams,
    }
}

fn sender_routes(s: &Scenario, index: u32) -> SenderRoutes {
    SenderRoutes {
        index,
        asn: s.peer_asn(index),
        ebgp: !s.ibgp,
        next_hop: s.sender_next_hop(index),
        next_hop_v6: s.sender_next_hop_v6(index),
        per_update: s.per_update,
        seed: s.seed,
    }
}

struct Clock(StdInstant);

impl Clock {
    fn now(&self) -> Instant {
        // Offset so that no deadline is ever at zero.
        Instant::from_millis(1000 + self.0.elapsed().as_millis() as u64)
    }
}

/// Timing of one phase of counting.
#[derive(Default)]
struct Count {
    start: Option<StdInstant>,
    first: Option<StdInstant>,
    last: Option<StdInstant>,
    complete: Vec<Option<StdInstant>>,
    done: Option<StdInstant>,
    sent: Option<StdInstant>,
}

/// Runs `scenario`, reporting progress to `progress`.
pub fn run(scenario: &Scenario, progress: impl FnMut(Progress)) -> io::Result<Report> {
    run_with_stop(scenario, progress, &AtomicBool::new(false))
}

/// [`run`], ending early (sessions closed with a Cease, the report marked
/// incomplete unless it already was complete) once `stop` is set, e.g. on
/// Ctrl-C.
pub fn run_with_stop(
    scenario: &Scenario,
    mut progress: impl FnMut(Progress),
    stop: &AtomicBool,
) -> io::Result<Report> {
    scenario.validate().map_err(io::Error::other)?;
    let plan = scenario.plan().map_err(io::Error::other)?;
    let usage_start = Usage::of_this_thread();
    let started = StdInstant::now();
    let clock = Clock(started);

    // The final best paths' lengths, for iBGP runs of overlapping senders:
    // a route reflector passes AS_PATH on unchanged (RFC 4456 §10). Not with
    // ADD-PATH, where the receivers get every path, not the best one.
    let finals =
        if scenario.final_paths && scenario.ibgp && scenario.senders > 0 && !scenario.add_path {
            FinalLengths::new(&plan, scenario.seed).map(Arc::new)
        } else {
            None
        };
    // Pre-encode every sender's UPDATEs before any socket opens.
    let assumed = assumed_negotiated(scenario);
    let mut poll = Poll::new()?;
    let mut peers: Vec<Peer> = Vec::with_capacity(scenario.peers() as usize);
    for i in 0..scenario.peers() {
        let role = if scenario.is_sender(i) {
            let routes = encode_sender(
                &plan,
                &sender_routes(scenario, i),
                scenario.withdraw,
                &assumed,
            );
            Role::Sender {
                index: i,
                announce: Rc::new(routes.announce.bytes.clone()),
                withdraw: Rc::new(routes.withdraw.bytes.clone()),
                routes,
                queued: 0,
            }
        } else {
            let table = PrefixTable::new(plan.total());
            Role::Receiver {
                index: i - scenario.senders,
                table: match &finals {
                    Some(f) => table.with_final(Arc::clone(f)),
                    None => table,
                },
            }
        };
        let ip = scenario.peer_addr(i);
        let speaker = Speaker::new(
            Session::new(session_config(scenario, i)),
            bind_addr(ip),
            scenario.dut,
            i as usize * TOKENS_PER_PEER,
        );
        let listener = if scenario.passive {
            let addr = SocketAddr::new(IpAddr::V4(ip), scenario.dut.port());
            let mut l = TcpListener::bind(addr)?;
            poll.registry().register(
                &mut l,
                Token(i as usize * TOKENS_PER_PEER + 2),
                Interest::READABLE,
            )?;
            Some(l)
        } else {
            None
        };
        peers.push(Peer {
            speaker,
            listener,
            role,
            established: false,
        });
    }

    let mut run = Run {
        scenario,
        plan,
        phase: Phase::Connecting,
        timers: BinaryHeap::new(),
        events: Vec::new(),
        established: 0,
        established_at: None,
        announce: Count::default(),
        withdraw: Count::default(),
        drops: 0,
        cpu_at_start: Duration::ZERO,
        cpu_at_converged: None,
        hold_until: None,
        counts_at_convergence: Vec::new(),
        stale: 0,
        final_tracked: finals.is_some(),
        final_done: None,
    };
    let receivers = scenario.receivers as usize;
    run.announce.complete = vec![None; receivers];
    run.withdraw.complete = vec![None; receivers];

    let encoded = started.elapsed();
    let connecting = StdInstant::now();
    // Sessions start `connect_interval` apart (all at once by default).
    let mut started_sessions = 0usize;
    let mut start_due = |peers: &mut [Peer], run: &mut Run<'_>, registry: &mio::Registry| {
        let now = clock.now();
        let elapsed = connecting.elapsed();
        while started_sessions < peers.len()
            && scenario.connect_interval * started_sessions as u32 <= elapsed
        {
            let i = started_sessions;
            peers[i].speaker.session.handle_manual_start(now);
            run.drive(&mut peers[i], i, now, registry);
            started_sessions += 1;
        }
        (started_sessions < peers.len())
            .then(|| (scenario.connect_interval * started_sessions as u32).saturating_sub(elapsed))
    };
    let mut next_start = start_due(&mut peers, &mut run, poll.registry());

    let deadline = started + scenario.timeout;
    let mut events = Events::with_capacity(4096);
    let mut last_progress: Option<StdInstant> = None;
    let mut last_phase = run.phase;
    let total_bytes: u64 = peers
        .iter()
        .map(|p| match &p.role {
            Role::Sender {
                announce, withdraw, ..
            } => (announce.len() + withdraw.len()) as u64,
            Role::Receiver { .. } => 0,
        })
        .sum();

    while run.phase != Phase::Done {
        let wall = StdInstant::now();
        let now = clock.now();
        let mut wait = PROGRESS_EVERY;
        if let Some(Reverse((t, _))) = run.timers.peek() {
            let ms = t.saturating_sub(now.total_millis());
            wait = wait.min(Duration::from_millis(ms));
        }
        // Past the hold time (still waiting for final best paths) the wait is
        // not capped by it, or the loop would spin.
        if let Some(h) = run.hold_until
            && h > wall
        {
            wait = wait.min(h - wall);
        }
        if let Some(d) = next_start {
            wait = wait.min(d);
        }
        match poll.poll(&mut events, Some(wait)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let now = clock.now();
        for ev in events.iter() {
            let t = ev.token().0;
            let (i, slot) = (t / TOKENS_PER_PEER, t % TOKENS_PER_PEER);
            if slot == 2 {
                run.accept_all(&mut peers[i], now, poll.registry());
                run.drive(&mut peers[i], i, now, poll.registry());
                continue;
            }
            let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
            let writable = ev.is_writable() || ev.is_write_closed() || ev.is_error();
            run.on_ready(
                &mut peers[i],
                slot,
                readable,
                writable,
                now,
                poll.registry(),
            );
            run.drive(&mut peers[i], i, now, poll.registry());
        }
        // Timers.
        while let Some(&Reverse((t, i))) = run.timers.peek() {
            if t > now.total_millis() {
                break;
            }
            run.timers.pop();
            let p = &mut peers[i];
            if p.speaker.armed.is_some_and(|a| a.total_millis() == t) {
                p.speaker.armed = None;
                p.speaker.session.handle_timeout(now);
                run.drive(p, i, now, poll.registry());
            }
        }
        if next_start.is_some() {
            next_start = start_due(&mut peers, &mut run, poll.registry());
        }
        run.advance(&mut peers, now, poll.registry());
        let wall = StdInstant::now();
        if wall >= deadline || stop.load(Ordering::Relaxed) {
            run.phase = Phase::Done;
        }
        let due = last_progress.is_none_or(|t| wall.duration_since(t) >= PROGRESS_EVERY);
        if due || run.phase != last_phase {
            last_progress = Some(wall);
            last_phase = run.phase;
            progress(run.progress(&peers, started, total_bytes));
        }
    }

    // Close every session with a Cease.
    let now = clock.now();
    for (i, p) in peers.iter_mut().enumerate() {
        p.speaker
            .session
            .handle_manual_stop(now, 2, "load generator done");
        run.drive(p, i, now, poll.registry());
    }

    let usage = Usage::of_this_thread();
    let mut report = run.report(&peers, started, usage_start, usage);
    report.encode_time = encoded;
    report.established = run.established_at.map(|t| t.duration_since(connecting));
    Ok(report)
}

fn receiver_counts(peers: &[Peer]) -> Vec<u32> {
    peers
        .iter()
        .filter_map(|p| match &p.role {
            Role::Receiver { table, .. } => Some(table.count()),
            Role::Sender { .. } => None,
        })
        .collect()
}

struct Run<'s> {
    scenario: &'s Scenario,
    plan: PrefixPlan,
    phase: Phase,
    timers: BinaryHeap<Reverse<(u64, usize)>>,
    events: Vec<Event>,
    established: u32,
    established_at: Option<StdInstant>,
    announce: Count,
    withdraw: Count,
    drops: u32,
    cpu_at_start: Duration,
    cpu_at_converged: Option<Duration>,
    hold_until: Option<StdInstant>,
    counts_at_convergence: Vec<u32>,
    stale: u64,
    /// Receivers track final best paths.
    final_tracked: bool,
    /// When every receiver first held every prefix's final best path.
    final_done: Option<StdInstant>,
}

impl Run<'_> {
    fn expected(&self) -> u32 {
        match self.phase {
            Phase::Withdrawing | Phase::Holding | Phase::Done if self.scenario.withdraw > 0.0 => {
                self.plan.remaining_after_withdraw(self.scenario.withdraw)
            }
            _ => self.plan.total(),
        }
    }

    fn counting(&mut self) -> Option<&mut Count> {
        match self.phase {
            Phase::Announcing => Some(&mut self.announce),
            Phase::Withdrawing => Some(&mut self.withdraw),
            _ => None,
        }
    }

    fn accept_all(&mut self, p: &mut Peer, now: Instant, registry: &mio::Registry) {
        let Some(l) = p.listener.as_ref() else { return };
        loop {
            match l.accept() {
                Ok((stream, from)) if from.ip() == self.scenario.dut.ip() => {
                    p.speaker.accept(now, stream, registry);
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => return,
            }
        }
    }

    fn on_ready(
        &mut self,
        p: &mut Peer,
        slot: usize,
        readable: bool,
        writable: bool,
        now: Instant,
        registry: &mio::Registry,
    ) {
        let expected = self.expected();
        let plan = self.plan;
        let peer_type = if self.scenario.ibgp {
            PeerType::Internal
        } else {
            PeerType::External
        };
        let phase_counting = matches!(self.phase, Phase::Announcing | Phase::Withdrawing);
        let Peer { speaker, role, .. } = p;
        match role {
            Role::Sender { .. } => {
                // Whatever the DUT sends a sender is framed by the session and dropped.
                speaker.on_ready(now, slot, readable, writable, registry, &mut |_, _| Ok(()));
            }
            Role::Receiver { index, table } => {
                let idx = *index as usize;
                let mut first = false;
                let mut changed = false;
                speaker.on_ready(
                    now,
                    slot,
                    readable,
                    writable,
                    registry,
                    &mut |bytes, neg| {
                        let u = Update::parse_from(bytes, neg, peer_type)?;
                        let a = table.apply(&u, &plan);
                        first |= a.added > 0;
                        changed |= a.added + a.removed > 0;
                        Ok(())
                    },
                );
                if changed && phase_counting {
                    let count = table.count();
                    let t = StdInstant::now();
                    if let Some(c) = self.counting() {
                        if first && c.first.is_none() {
                            c.first = Some(t);
                        }
                        c.last = Some(t);
                        let done = &mut c.complete[idx];
                        if count == expected {
                            done.get_or_insert(t);
                        } else {
                            *done = None;
                        }
                    }
                }
            }
        }
    }

    /// Drains peer `i`'s session and handles its events.
    fn drive(&mut self, p: &mut Peer, i: usize, now: Instant, registry: &mio::Registry) {
        self.events.clear();
        let mut events = std::mem::take(&mut self.events);
        for _ in 0..8 {
            p.speaker.drive(now, registry, &mut events);
            if events.is_empty() {
                break;
            }
            for e in events.drain(..) {
                self.on_event(p, e, now);
            }
        }
        self.events = events;
        let next = p.speaker.session.poll_timeout();
        if next != p.speaker.armed {
            p.speaker.armed = next;
            if let Some(t) = next {
                self.timers.push(Reverse((t.total_millis(), i)));
            }
        }
    }

    fn on_event(&mut self, p: &mut Peer, e: Event, _now: Instant) {
        match e {
            Event::Established { info, .. } => {
                if !p.established {
                    p.established = true;
                    self.established += 1;
                }
                if let Role::Sender {
                    index,
                    routes,
                    announce,
                    withdraw,
                    queued,
                } = &mut p.role
                {
                    if routes.negotiated.four_octet_as != info.negotiated.four_octet_as
                        || routes.negotiated.add_path_send != info.negotiated.add_path_send
                    {
                        let mut neg = info.negotiated;
                        neg.extended_message = false;
                        *routes = encode_sender(
                            &self.plan,
                            &sender_routes(self.scenario, *index),
                            self.scenario.withdraw,
                            &neg,
                        );
                        *announce = Rc::new(routes.announce.bytes.clone());
                        *withdraw = Rc::new(routes.withdraw.bytes.clone());
                    }
                    // A sender that comes back mid-run sends again what it had sent.
                    let q = *queued;
                    *queued = 0;
                    if q >= 1 {
                        Self::queue(p, 1);
                    }
                    if q >= 2 {
                        Self::queue(p, 2);
                    }
                }
            }
            Event::Down {
                was_established, ..
            } => {
                if p.established {
                    p.established = false;
                    self.established -= 1;
                }
                if was_established && self.phase != Phase::Done {
                    self.drops += 1;
                    if let Role::Receiver { table, .. } = &mut p.role {
                        table.clear();
                    }
                }
            }
            Event::RouteRefreshRequested { .. } => {
                if let Role::Sender { queued, .. } = &mut p.role {
                    let q = *queued;
                    *queued = 0;
                    for n in 1..=q {
                        Self::queue(p, n);
                    }
                }
            }
            Event::StateChanged { .. } => {}
        }
    }

    /// Queues stream `n` (1: announcements, 2: withdrawals) on a sender.
    fn queue(p: &mut Peer, n: u8) {
        let Peer { speaker, role, .. } = p;
        if let Role::Sender {
            announce,
            withdraw,
            queued,
            ..
        } = role
        {
            let data = if n == 1 { announce } else { withdraw };
            if data.is_empty() || speaker.send_bulk(data.clone()) {
                *queued = (*queued).max(n);
            }
        }
    }

    fn all_complete(&self, peers: &[Peer], expected: u32) -> bool {
        let receivers_done = peers.iter().all(|p| match &p.role {
            Role::Receiver { table, .. } => table.count() == expected,
            Role::Sender { .. } => true,
        });
        let senders_done = peers.iter().all(|p| p.speaker.bulk_done());
        receivers_done && (self.scenario.receivers > 0 || senders_done)
    }

    fn start_streams(&mut self, peers: &mut [Peer], n: u8, now: Instant, reg: &mio::Registry) {
        for (i, p) in peers.iter_mut().enumerate() {
            if matches!(p.role, Role::Sender { .. }) {
                Self::queue(p, n);
                self.drive(p, i, now, reg);
            }
        }
    }

    /// Moves the run from phase to phase.
    fn advance(&mut self, peers: &mut [Peer], now: Instant, reg: &mio::Registry) {
        let t = StdInstant::now();
        let all_up = self.established == self.scenario.peers();
        if self.established_at.is_none() && all_up {
            self.established_at = Some(t);
        }
        match self.phase {
            Phase::Connecting => {
                if let Some(at) = self.established_at
                    && all_up
                    && t.duration_since(at) >= self.scenario.start_delay
                {
                    self.phase = Phase::Announcing;
                    self.stale = receiver_counts(peers).iter().map(|&c| u64::from(c)).sum();
                    self.announce.start = Some(StdInstant::now());
                    self.cpu_at_start = Usage::of_this_thread().cpu;
                    self.start_streams(peers, 1, now, reg);
                }
            }
            Phase::Announcing => {
                if self.announce.sent.is_none() && peers.iter().all(|p| p.speaker.bulk_done()) {
                    self.announce.sent = Some(t);
                }
                if self.announce.done.is_none() && self.all_complete(peers, self.plan.total()) {
                    self.announce.done = Some(t);
                    self.cpu_at_converged = Some(Usage::of_this_thread().cpu);
                    self.counts_at_convergence = receiver_counts(peers);
                }
                self.check_final(peers, t);
                if self.announce.done.is_some() {
                    if self.scenario.withdraw > 0.0 && self.scenario.senders > 0 {
                        // The withdrawal changes the best paths: it waits
                        // for the final ones.
                        if !self.awaiting_final() {
                            self.phase = Phase::Withdrawing;
                            self.withdraw.start = Some(StdInstant::now());
                            self.start_streams(peers, 2, now, reg);
                        }
                    } else {
                        self.enter_holding(t);
                    }
                }
            }
            Phase::Withdrawing => {
                if self.withdraw.sent.is_none() && peers.iter().all(|p| p.speaker.bulk_done()) {
                    self.withdraw.sent = Some(t);
                }
                let expected = self.expected();
                if self.all_complete(peers, expected) {
                    self.withdraw.done = Some(t);
                    self.enter_holding(t);
                }
            }
            Phase::Holding => {
                self.check_final(peers, t);
                // Held past the hold time until the final best paths are in
                // (or the run's timeout).
                if self.hold_until.is_none_or(|h| t >= h) && !self.awaiting_final() {
                    self.phase = Phase::Done;
                }
            }
            Phase::Done => {}
        }
    }

    /// Whether final best paths are tracked and not yet all in (before any
    /// withdrawal, which changes them).
    fn awaiting_final(&self) -> bool {
        self.final_tracked && self.final_done.is_none() && self.withdraw.start.is_none()
    }

    /// Notes the first time every receiver holds every prefix's final path.
    fn check_final(&mut self, peers: &[Peer], t: StdInstant) {
        if !self.awaiting_final() {
            return;
        }
        let total = self.plan.total();
        let all = peers.iter().all(|p| match &p.role {
            Role::Receiver { table, .. } => table.final_count() == total,
            Role::Sender { .. } => true,
        });
        if all {
            self.final_done = Some(t);
        }
    }

    fn enter_holding(&mut self, t: StdInstant) {
        self.phase = Phase::Holding;
        self.hold_until = Some(t + self.scenario.hold);
    }

    fn progress(&self, peers: &[Peer], started: StdInstant, total_bytes: u64) -> Progress {
        let expected = self.expected();
        let received = receiver_counts(peers);
        Progress {
            phase: self.phase,
            elapsed: started.elapsed(),
            established: self.established,
            sessions: self.scenario.peers(),
            expected,
            receivers_complete: received.iter().filter(|&&c| c == expected).count() as u32,
            received,
            sent_bytes: (
                peers.iter().map(|p| p.speaker.counters.bulk_bytes).sum(),
                total_bytes,
            ),
        }
    }

    fn report(&self, peers: &[Peer], started: StdInstant, u0: Usage, u1: Usage) -> Report {
        let a = &self.announce;
        let since = |t: Option<StdInstant>| Some(t?.saturating_duration_since(a.start?));
        let convergence = since(a.done);
        let complete = a.done.is_some()
            && (!self.final_tracked || self.final_done.is_some())
            && (self.scenario.withdraw <= 0.0 || self.withdraw.done.is_some());
        let expected = self.plan.total();
        let routes_received = if a.done.is_some() {
            u64::from(expected) * u64::from(self.scenario.receivers)
        } else {
            peers
                .iter()
                .map(|p| match &p.role {
                    Role::Receiver { table, .. } => u64::from(table.count()),
                    Role::Sender { .. } => 0,
                })
                .sum()
        };
        let routes_per_sec = match convergence {
            Some(c) if !c.is_zero() => routes_received as f64 / c.as_secs_f64(),
            _ => 0.0,
        };
        let mut updates_sent = 0u64;
        let mut bytes_sent = 0u64;
        let (mut updates_received, mut bytes_received, mut unexpected) = (0u64, 0u64, 0u64);
        for p in peers {
            match &p.role {
                Role::Sender { .. } => {
                    bytes_sent += p.speaker.counters.bulk_bytes;
                    updates_sent += p.speaker.counters.bulk_messages;
                }
                Role::Receiver { table, .. } => {
                    updates_received += p.speaker.counters.updates_received;
                    bytes_received += p.speaker.counters.bytes_read;
                    unexpected += table.unexpected;
                }
            }
        }
        let update_errors = peers
            .iter()
            .map(|p| p.speaker.counters.update_errors)
            .sum::<u64>();
        let w = &self.withdraw;
        Report {
            sessions: self.scenario.peers(),
            senders: self.scenario.senders,
            receivers: self.scenario.receivers,
            expected,
            expected_after_withdraw: (self.scenario.withdraw > 0.0)
                .then(|| self.plan.remaining_after_withdraw(self.scenario.withdraw)),
            established: self.established_at.map(|t| t.duration_since(started)),
            encode_time: Duration::ZERO,
            complete,
            first_prefix: since(a.first),
            last_prefix: since(a.last),
            convergence,
            final_tracked: self.final_tracked,
            final_convergence: since(self.final_done),
            send_time: since(a.sent),
            routes_received,
            routes_per_sec,
            receiver_complete: a.complete.iter().map(|t| since(*t)).collect(),
            received_at_convergence: self.counts_at_convergence.clone(),
            received: receiver_counts(peers),
            stale_prefixes: self.stale,
            withdraw_convergence: w
                .done
                .and_then(|d| Some(d.saturating_duration_since(w.start?))),
            updates_sent,
            bytes_sent,
            updates_received,
            bytes_received,
            session_drops: self.drops,
            unexpected_prefixes: unexpected,
            update_errors,
            cpu: u1.cpu.saturating_sub(u0.cpu),
            cpu_convergence: self
                .cpu_at_converged
                .map_or(Duration::ZERO, |c| c.saturating_sub(self.cpu_at_start)),
            peak_rss: u1.peak_rss,
            wall: started.elapsed(),
        }
    }
}
