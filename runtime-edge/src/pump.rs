//! The output pump: after every input to the speaker, a runtime drains its
//! outputs in the order the [`SansIo`] contract gives: socket commands, then the
//! connections with bytes to send and their transmits (while each connection's
//! unwritten output is under the bound: backpressure), again until none of them
//! gives anything (a `Close` can follow the NOTIFICATION a transmit handed out;
//! a failed write feeds the speaker an input). Written once here; a runtime
//! supplies only its mechanics through [`Pump`]: what a command does to its
//! sockets, where a connection's transmits are queued, and when they are
//! written (runtime-mio writes at once, runtime-uring at its next submission).

use crate::{Command, ConnKey, Instant, SansIo};

/// One connection's output as the pump sees it: the transmits the runtime holds
/// and has not written, and whether the speaker has more.
pub trait OutputQueue<T> {
    /// Bytes held and not yet written (in flight included).
    fn unwritten(&self) -> usize;
    /// Queues a transmit behind the others.
    fn push(&mut self, transmit: T);
    /// The speaker reported the connection ready and `poll_transmit` has not
    /// returned `None` since.
    fn wants_pull(&self) -> bool;
    /// Sets [`OutputQueue::wants_pull`].
    fn set_wants_pull(&mut self, more: bool);
}

/// The transmit type of a pump's speaker.
pub type TransmitOf<P> = <<P as Pump>::Speaker as SansIo>::Transmit;

/// A runtime's mechanics, for the pump: [`Pump::drain`] and [`Pump::pull`] are
/// the shared logic.
pub trait Pump {
    /// What it drives.
    type Speaker: SansIo;
    /// A connection's output queue.
    type Queue: OutputQueue<TransmitOf<Self>>;

    /// The speaker.
    fn speaker_mut(&mut self) -> &mut Self::Speaker;
    /// The speaker and `conn`'s output queue, when `conn` takes transmits now
    /// (connected, not closing or gone).
    fn output(&mut self, conn: ConnKey) -> Option<(&mut Self::Speaker, &mut Self::Queue)>;
    /// Most unwritten bytes per connection before pulling stops.
    fn output_bound(&self) -> usize;
    /// Carries out a socket command.
    fn command(&mut self, now: Instant, command: Command);
    /// `conn` has transmits queued (`unwritten` bytes): write them now, or at
    /// the next submission.
    fn to_write(&mut self, now: Instant, conn: ConnKey, unwritten: usize);
    /// Writes what [`Pump::to_write`] noted, if the runtime writes at once;
    /// whether that did anything (a failed write is an input to the speaker,
    /// whose outputs the pump then drains too).
    fn flush(&mut self, now: Instant) -> bool {
        let _ = now;
        false
    }

    /// Drains the speaker's outputs until it has none: commands, ready
    /// connections and their transmits, what writing them fed back.
    fn drain(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(command) = self.speaker_mut().poll_command() {
                progressed = true;
                self.command(now, command);
            }
            while let Some(conn) = self.speaker_mut().poll_ready() {
                progressed = true;
                let Some((_, q)) = self.output(conn) else {
                    continue;
                };
                q.set_wants_pull(true);
                if let Some(unwritten) = self.pull(now, conn) {
                    self.to_write(now, conn, unwritten);
                }
            }
            progressed |= self.flush(now);
            if !progressed {
                return;
            }
        }
    }

    /// Pulls `conn`'s transmits from the speaker while it has more and the
    /// connection's unwritten output is under the bound. Returns the unwritten
    /// bytes after, `None` when `conn` takes no transmits now.
    fn pull(&mut self, now: Instant, conn: ConnKey) -> Option<usize> {
        let bound = self.output_bound();
        let (speaker, q) = self.output(conn)?;
        while q.wants_pull() && q.unwritten() < bound {
            match speaker.poll_transmit(now, conn) {
                Some(t) => q.push(t),
                None => q.set_wants_pull(false),
            }
        }
        Some(q.unwritten())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, VecDeque};
    use std::net::SocketAddr;

    use super::*;
    use crate::Closed;

    /// A speaker whose outputs are scripted: each transmit is `size` bytes.
    #[derive(Default)]
    struct Script {
        commands: VecDeque<Command>,
        ready: VecDeque<ConnKey>,
        out: HashMap<ConnKey, VecDeque<Vec<u8>>>,
        /// Outputs to add when a connection is closed (the speaker's reaction).
        on_closed: Vec<ConnKey>,
        closed: Vec<ConnKey>,
    }

    impl SansIo for Script {
        type Transmit = Vec<u8>;
        fn listen_addresses(&self) -> Vec<SocketAddr> {
            Vec::new()
        }
        fn handle_accepted(&mut self, _: Instant, _: SocketAddr, _: SocketAddr) -> Option<ConnKey> {
            None
        }
        fn handle_connected(&mut self, _: Instant, _: ConnKey, _: SocketAddr) {}
        fn handle_connect_failed(&mut self, _: Instant, _: ConnKey) {}
        fn handle_read(&mut self, _: Instant, _: ConnKey, b: &[u8]) -> usize {
            b.len()
        }
        fn handle_closed(&mut self, _: Instant, conn: ConnKey, _: Closed) {
            self.closed.push(conn);
            for k in std::mem::take(&mut self.on_closed) {
                self.commands.push_back(Command::Close { conn: k });
            }
        }
        fn handle_timeout(&mut self, _: Instant) {}
        fn poll_command(&mut self) -> Option<Command> {
            self.commands.pop_front()
        }
        fn poll_ready(&mut self) -> Option<ConnKey> {
            self.ready.pop_front()
        }
        fn poll_transmit(&mut self, _: Instant, conn: ConnKey) -> Option<Vec<u8>> {
            self.out.get_mut(&conn)?.pop_front()
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
    }

    #[derive(Default)]
    struct Queue {
        held: Vec<Vec<u8>>,
        more: bool,
    }

    impl OutputQueue<Vec<u8>> for Queue {
        fn unwritten(&self) -> usize {
            self.held.iter().map(Vec::len).sum()
        }
        fn push(&mut self, t: Vec<u8>) {
            self.held.push(t);
        }
        fn wants_pull(&self) -> bool {
            self.more
        }
        fn set_wants_pull(&mut self, more: bool) {
            self.more = more;
        }
    }

    /// A runtime whose writes fail on the connections in `failing`.
    #[derive(Default)]
    struct Rt {
        speaker: Script,
        queues: HashMap<ConnKey, Queue>,
        log: Vec<String>,
        dirty: Vec<ConnKey>,
        failing: Vec<ConnKey>,
    }

    impl Pump for Rt {
        type Speaker = Script;
        type Queue = Queue;
        fn speaker_mut(&mut self) -> &mut Script {
            &mut self.speaker
        }
        fn output(&mut self, conn: ConnKey) -> Option<(&mut Script, &mut Queue)> {
            Some((&mut self.speaker, self.queues.get_mut(&conn)?))
        }
        fn output_bound(&self) -> usize {
            10
        }
        fn command(&mut self, _: Instant, command: Command) {
            if let Command::Close { conn } = command {
                self.queues.remove(&conn);
                self.log.push(format!("close {conn}"));
            }
        }
        fn to_write(&mut self, _: Instant, conn: ConnKey, unwritten: usize) {
            self.log.push(format!("write {conn} {unwritten}"));
            self.dirty.push(conn);
        }
        fn flush(&mut self, now: Instant) -> bool {
            let dirty = std::mem::take(&mut self.dirty);
            let wrote = !dirty.is_empty();
            for k in dirty {
                if self.failing.contains(&k) {
                    self.queues.remove(&k);
                    self.speaker.handle_closed(now, k, Closed::SendFailed);
                }
            }
            wrote
        }
    }

    #[test]
    fn ready_connections_are_pulled_up_to_the_bound_and_resume_later() {
        let (a, b) = (ConnKey(1), ConnKey(2));
        let mut rt = Rt::default();
        rt.queues.insert(a, Queue::default());
        rt.queues.insert(b, Queue::default());
        rt.speaker
            .out
            .insert(a, (0..5).map(|_| vec![0; 4]).collect());
        rt.speaker.out.insert(b, [vec![0; 3]].into());
        rt.speaker.ready.extend([a, b, ConnKey(9)]);
        rt.drain(Instant::ZERO);
        // a: 4+4+4 = 12 >= 10, stop; b: 3, then None.
        assert_eq!(rt.log, ["write c1 12", "write c2 3"]);
        assert!(rt.queues[&a].more, "a still wants to be pulled");
        assert!(!rt.queues[&b].more);
        // a's socket drained: pulling resumes where it stopped.
        rt.queues.get_mut(&a).unwrap().held.clear();
        assert_eq!(rt.pull(Instant::ZERO, a), Some(8));
        assert!(!rt.queues[&a].more);
        assert_eq!(rt.pull(Instant::ZERO, ConnKey(9)), None);
    }

    #[test]
    fn commands_come_first_and_what_a_failed_write_feeds_back_is_drained() {
        let (a, b) = (ConnKey(1), ConnKey(2));
        let mut rt = Rt::default();
        rt.queues.insert(a, Queue::default());
        rt.queues.insert(b, Queue::default());
        rt.failing.push(a);
        rt.speaker.out.insert(a, [vec![1; 2]].into());
        rt.speaker.ready.push_back(a);
        rt.speaker
            .commands
            .push_back(Command::Close { conn: ConnKey(7) });
        // When a's write fails, the speaker closes b.
        rt.speaker.on_closed.push(b);
        rt.drain(Instant::ZERO);
        assert_eq!(rt.log, ["close c7", "write c1 2", "close c2"]);
        assert_eq!(rt.speaker.closed, [a]);
        assert!(rt.queues.is_empty());
    }
}
