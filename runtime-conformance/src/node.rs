//! A speaker on a backend, on its own thread, and the configs tests give it.

use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant as StdInstant};

use nexthop_runtime_edge::{Options, SansIo};
use nexthop_speaker::config::Config;
use nexthop_speaker::config::file::{ConfigFile, Neighbor};
use nexthop_speaker::{Instant, Speaker};

use crate::backend::{Backend, Driver};

/// A job run on the node's thread between two loop turns; `true` ends the loop.
type Job<S> = Box<dyn FnOnce(&mut dyn Driver<S>) -> bool + Send>;

/// A speaker (by default nexthop's) running on a backend on its own thread.
pub struct Node<S: 'static = Speaker> {
    name: String,
    jobs: mpsc::Sender<Job<S>>,
    thread: Option<JoinHandle<()>>,
    listen: Vec<SocketAddr>,
}

/// How long a turn waits at most: the time a job waits for the loop.
const TURN: Duration = Duration::from_millis(5);

impl Node<Speaker> {
    /// Starts `config` on backend `B` with output bound `output_bound`.
    pub fn start<B: Backend>(name: &str, config: Config, output_bound: usize) -> Node {
        let options = Options {
            output_bound,
            ..Options::default()
        };
        Node::spawn::<B>(
            name,
            move || Speaker::new(config, Instant::ZERO),
            options,
            || {},
        )
        .unwrap_or_else(|e| panic!("{}-{name}: cannot start: {e}", B::NAME))
    }

    /// The session state of neighbour `address`.
    pub fn state(&self, address: IpAddr) -> Option<crate::State> {
        self.query(move |d| d.speaker().session_state(address))
    }

    /// Neighbours in Established.
    pub fn established(&self) -> usize {
        self.query(|d| {
            d.speaker()
                .neighbors()
                .iter()
                .filter(|(_, s)| *s == crate::State::Established)
                .count()
        })
    }
}

impl<S: SansIo + 'static> Node<S> {
    /// Starts the speaker `make` builds on backend `B` with `options`, on a
    /// thread of its own that first runs `before` (to restrict what the thread
    /// may do, say). `Err`: the runtime did not start, and why.
    pub fn spawn<B: Backend>(
        name: &str,
        make: impl FnOnce() -> S + Send + 'static,
        options: Options,
        before: impl FnOnce() + Send + 'static,
    ) -> Result<Node<S>, String> {
        let (jobs, rx) = mpsc::channel::<Job<S>>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread_name = format!("{}-{name}", B::NAME);
        let thread = std::thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                before();
                let speaker = make();
                let mut driver = match B::start(speaker, options) {
                    Ok(d) => d,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(driver.local_addresses()));
                loop {
                    loop {
                        match rx.try_recv() {
                            Ok(job) => {
                                if job(&mut *driver) {
                                    return;
                                }
                            }
                            Err(mpsc::TryRecvError::Empty) => break,
                            Err(mpsc::TryRecvError::Disconnected) => return,
                        }
                    }
                    if let Err(e) = driver.turn(TURN) {
                        panic!("{thread_name}: turn failed: {e}");
                    }
                }
            })
            .expect("spawn node thread");
        let listen = match ready_rx.recv() {
            Ok(Ok(l)) => l,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => return Err("the thread died while starting".into()),
        };
        Ok(Node {
            name: format!("{}-{name}", B::NAME),
            jobs,
            thread: Some(thread),
            listen,
        })
    }

    /// The listeners' addresses.
    pub fn listen(&self) -> &[SocketAddr] {
        &self.listen
    }

    /// Runs `f` on the node's thread between two turns and returns its result.
    pub fn query<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Driver<S>) -> R + Send + 'static,
    ) -> R {
        let (tx, rx) = mpsc::channel();
        let job: Job<S> = Box::new(move |d| {
            let _ = tx.send(f(d));
            false
        });
        self.jobs
            .send(job)
            .unwrap_or_else(|_| panic!("{}: loop ended", self.name));
        rx.recv()
            .unwrap_or_else(|_| panic!("{}: loop ended", self.name))
    }

    /// Waits, at most `limit`, until `pred` holds of the node's runtime; panics
    /// naming `what` when it does not.
    pub fn wait_until(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&dyn Driver<S>) -> bool + Send + Sync + Clone + 'static,
    ) {
        let start = StdInstant::now();
        loop {
            let p = pred.clone();
            if self.query(move |d| p(d)) {
                return;
            }
            if start.elapsed() > limit {
                panic!("{}: not reached within {limit:?}: {what}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the loop until the returned guard is dropped: the node reads nothing
    /// and sends nothing meanwhile.
    pub fn pause(&self) -> Paused {
        let (tx, rx) = mpsc::channel::<()>();
        let (entered_tx, entered_rx) = mpsc::channel::<()>();
        let job: Job<S> = Box::new(move |_| {
            let _ = entered_tx.send(());
            let _ = rx.recv();
            false
        });
        self.jobs
            .send(job)
            .unwrap_or_else(|_| panic!("{}: loop ended", self.name));
        let _ = entered_rx.recv();
        Paused { _resume: tx }
    }

    /// Administrative shutdown (Cease 6/2 with `communication` to every peer), then
    /// the loop turns until the speaker is shut down and every socket is closed, at
    /// most `limit`; returns whether it got there.
    pub fn shutdown(mut self, communication: &str, limit: Duration) -> bool {
        let communication = communication.to_string();
        let (tx, rx) = mpsc::channel();
        let job: Job<S> = Box::new(move |d| {
            d.input(&mut |s, now| s.handle_shutdown(now, &communication));
            let start = StdInstant::now();
            let done = loop {
                if d.speaker().is_shut_down() && d.open_connections() == 0 {
                    break true;
                }
                if start.elapsed() > limit {
                    break false;
                }
                if d.turn(TURN).is_err() {
                    break false;
                }
            };
            let _ = tx.send(done);
            true
        });
        self.jobs
            .send(job)
            .unwrap_or_else(|_| panic!("{}: loop ended", self.name));
        let done = rx.recv().unwrap_or(false);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        done
    }

    /// Stops the loop and drops the runtime without a word to the peers: the
    /// kernel closes every socket (a FIN each), as when the process dies.
    pub fn crash(mut self) {
        let _ = self.jobs.send(Box::new(|_| true));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl<S: 'static> Drop for Node<S> {
    fn drop(&mut self) {
        let _ = self.jobs.send(Box::new(|_| true));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Keeps a [`Node`] paused while alive.
pub struct Paused {
    _resume: mpsc::Sender<()>,
}

/// What nexthopd makes of `file`; panics naming the error and showing the text.
pub fn config(file: &ConfigFile) -> Config {
    file.config()
        .unwrap_or_else(|e| panic!("{e}\n{}", file.to_toml()))
}

/// A config file: AS `asn`, BGP Identifier `router_id` (an IPv4 address),
/// listening on `listen`.
pub fn router(asn: u32, router_id: IpAddr, listen: &[SocketAddr]) -> ConfigFile {
    let IpAddr::V4(id) = router_id else {
        panic!("{router_id}: a BGP Identifier is an IPv4 address");
    };
    let mut file = ConfigFile::new(asn, id);
    file.router.listen = Some(listen.to_vec());
    file
}

/// A `[[neighbor]]` at `address`, dialled on `port`.
pub fn neighbor(address: IpAddr, remote_asn: u32, port: u16) -> Neighbor {
    Neighbor::new(address, remote_asn).port(port)
}
