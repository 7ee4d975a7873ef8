//! The io_uring instance: one ring, one thread. Operations are queued here with the
//! memory they lend to the kernel (socket addresses, `msghdr`s and `iovec`s, the
//! transmits themselves), and that memory is kept in this struct until the kernel
//! posts the operation's last completion: it is never the caller's to free early.
//!
//! A `user_data` is `kind << 56 | token`: the operation's kind and the runtime's
//! 32-bit token (a connection, a listener). Every completion without `F_MORE` ends one
//! operation; the count of live operations lets `Drop` wait for all of them.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use io_uring::{IoUring, cqueue, opcode, squeue, types};
use socket2::SockAddr;

use super::bufring::ProvidedBuffers;

/// What a completion is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Accept = 1,
    Recv = 2,
    Send = 3,
    Connect = 4,
    Timeout = 6,
    TimeoutUpdate = 7,
    Cancel = 8,
    Wake = 9,
}

impl Kind {
    fn from_u8(v: u8) -> Option<Kind> {
        Some(match v {
            1 => Kind::Accept,
            2 => Kind::Recv,
            3 => Kind::Send,
            4 => Kind::Connect,
            6 => Kind::Timeout,
            7 => Kind::TimeoutUpdate,
            8 => Kind::Cancel,
            9 => Kind::Wake,
            _ => return None,
        })
    }
}

fn user_data(kind: Kind, token: u32) -> u64 {
    (kind as u64) << 56 | u64::from(token)
}

/// One completion, as the event loop sees it.
pub(crate) enum Completion<T> {
    /// A multishot accept produced a connection (`Ok`) or failed; `more`: still armed.
    Accept {
        token: u32,
        result: io::Result<OwnedFd>,
        more: bool,
    },
    /// A multishot receive: `Ok(0)` is end of stream; `buffer` names the provided
    /// buffer holding `Ok(n)` bytes (read it with [`Ring::buffer`], then recycle it).
    Recv {
        token: u32,
        result: io::Result<usize>,
        buffer: Option<u16>,
        more: bool,
    },
    /// A send finished and the kernel no longer reads its buffers (for a zero-copy
    /// send: its notification arrived): `batch` is handed back.
    Send {
        token: u32,
        result: io::Result<usize>,
        batch: Vec<T>,
    },
    /// An outbound connect finished.
    Connect { token: u32, result: io::Result<()> },
    /// The single timeout expired.
    Timeout,
    /// The wake-up descriptor became readable.
    Wake { more: bool },
}

struct SendOp<T> {
    batch: Vec<T>,
    iov: Vec<libc::iovec>,
    msg: Box<libc::msghdr>,
    result: Option<i32>,
}

struct ConnectOp {
    addr: Box<SockAddr>,
}

/// Which optional setup flags the kernel accepted.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingFeatures {
    /// `IORING_SETUP_SINGLE_ISSUER` (6.0).
    pub single_issuer: bool,
    /// `IORING_SETUP_DEFER_TASKRUN` (6.1).
    pub defer_taskrun: bool,
    /// `IORING_SETUP_COOP_TASKRUN` (5.19).
    pub coop_taskrun: bool,
    /// `IORING_SETUP_SQPOLL`, when asked for.
    pub sqpoll: bool,
}

pub(crate) struct Ring<T: AsRef<[u8]>> {
    ring: IoUring,
    buffers: ProvidedBuffers,
    sends: HashMap<u32, SendOp<T>>,
    connects: HashMap<u32, ConnectOp>,
    timeout: Box<types::Timespec>,
    timeout_armed: bool,
    /// Entries that did not fit in the submission queue; pushed after the next submit.
    backlog: VecDeque<squeue::Entry>,
    /// Operations submitted (or queued) whose last completion has not come.
    live: usize,
    features: RingFeatures,
    completions: Vec<(u64, i32, u32)>,
    /// `iovec` arrays and `msghdr`s of finished sends, for the next ones.
    pool: Vec<(Vec<libc::iovec>, Box<libc::msghdr>)>,
}

impl<T: AsRef<[u8]>> Ring<T> {
    /// A ring of `entries` submission slots with a provided-buffer ring of
    /// `buffers` buffers of `buffer_size` bytes.
    pub(crate) fn new(
        entries: u32,
        buffers: u16,
        buffer_size: u32,
        sqpoll_idle_ms: Option<u32>,
    ) -> io::Result<Self> {
        let (ring, features) = match sqpoll_idle_ms {
            Some(idle) => build_sqpoll(entries, idle)?,
            None => build(entries)?,
        };
        let buffers = ProvidedBuffers::new(&ring, 0, buffers, buffer_size)?;
        Ok(Ring {
            ring,
            buffers,
            sends: HashMap::new(),
            connects: HashMap::new(),
            timeout: Box::new(types::Timespec::new()),
            timeout_armed: false,
            backlog: VecDeque::new(),
            live: 0,
            features,
            completions: Vec::with_capacity(1024),
            pool: Vec::new(),
        })
    }

    /// Whether the single timeout is armed (its last completion has not come).
    pub(crate) fn timeout_armed(&self) -> bool {
        self.timeout_armed
    }

    pub(crate) fn features(&self) -> RingFeatures {
        self.features
    }

    fn push(&mut self, entry: squeue::Entry) {
        self.live += 1;
        if self.backlog.is_empty() {
            for attempt in 0..2 {
                // SAFETY: every pointer in `entry` is into storage this struct keeps
                // until the operation's last completion (`sends`, `connects`,
                // `timeout`, the provided buffers), or is a descriptor the runtime
                // closes only after that completion.
                if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                    return;
                }
                if attempt == 0 {
                    // The submission queue is full: submit now to make room.
                    let _ = self.ring.submit();
                }
            }
        }
        self.backlog.push_back(entry);
    }

    /// Arms a multishot accept on listener `fd`.
    pub(crate) fn accept(&mut self, token: u32, fd: RawFd) {
        let e = opcode::AcceptMulti::new(types::Fd(fd))
            .flags(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(Kind::Accept, token));
        self.push(e);
    }

    /// Arms a multishot receive on `fd` from the provided buffers.
    pub(crate) fn recv(&mut self, token: u32, fd: RawFd) {
        let e = opcode::RecvMulti::new(types::Fd(fd), self.buffers.group())
            .build()
            .user_data(user_data(Kind::Recv, token));
        self.push(e);
    }

    /// The bytes of provided buffer `bid` named by a receive completion.
    pub(crate) fn buffer(&self, bid: u16, len: usize) -> &[u8] {
        self.buffers.data(bid, len)
    }

    /// Hands buffer `bid` back to the kernel.
    pub(crate) fn recycle(&mut self, bid: u16) {
        self.buffers.recycle(bid);
    }

    /// Sends `batch` on `fd`, starting `offset` bytes into its first element, as one
    /// `sendmsg` (zero-copy when `zero_copy`). One send per token at a time: the
    /// batch comes back in [`Completion::Send`].
    pub(crate) fn send(
        &mut self,
        token: u32,
        fd: RawFd,
        batch: Vec<T>,
        offset: usize,
        zero_copy: bool,
    ) {
        debug_assert!(!self.sends.contains_key(&token));
        let (mut iov, mut msg) = self.pool.pop().unwrap_or_else(|| {
            // SAFETY: msghdr is plain old data; all-zero is a valid empty header.
            (Vec::new(), Box::new(unsafe { std::mem::zeroed() }))
        });
        iov.clear();
        for (i, t) in batch.iter().enumerate() {
            let bytes = t.as_ref();
            let bytes = if i == 0 {
                bytes.get(offset..).unwrap_or(&[])
            } else {
                bytes
            };
            if !bytes.is_empty() {
                iov.push(libc::iovec {
                    iov_base: bytes.as_ptr() as *mut libc::c_void,
                    iov_len: bytes.len(),
                });
            }
        }
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len() as _;
        let ud = user_data(Kind::Send, token);
        let entry = if zero_copy {
            opcode::SendMsgZc::new(types::Fd(fd), &*msg)
                .flags(libc::MSG_NOSIGNAL as u32)
                .build()
        } else {
            opcode::SendMsg::new(types::Fd(fd), &*msg)
                .flags(libc::MSG_NOSIGNAL as u32)
                .build()
        }
        .user_data(ud);
        // The iovecs point into the elements of `batch` (or the memory they own: an
        // `Arc`'s or a `Vec`'s heap data). The elements live in `batch`'s heap
        // buffer, which does not move when the `Vec` moves into the map and is not
        // touched until the last completion; `msg` and `iov` are heap allocations
        // that do not move either.
        self.sends.insert(
            token,
            SendOp {
                batch,
                iov,
                msg,
                result: None,
            },
        );
        self.push(entry);
    }

    /// Starts a connect of `fd` to `addr` (the runtime cancels it at its deadline).
    pub(crate) fn connect(&mut self, token: u32, fd: RawFd, addr: SockAddr) {
        let op = ConnectOp {
            addr: Box::new(addr),
        };
        let e = opcode::Connect::new(types::Fd(fd), op.addr.as_ptr().cast(), op.addr.len())
            .build()
            .user_data(user_data(Kind::Connect, token));
        self.connects.insert(token, op);
        self.push(e);
    }

    /// Cancels every operation of `token` of `kind`.
    pub(crate) fn cancel(&mut self, kind: Kind, token: u32) {
        let e = opcode::AsyncCancel2::new(
            types::CancelBuilder::user_data(user_data(kind, token)).all(),
        )
        .build()
        .user_data(user_data(Kind::Cancel, token));
        self.push(e);
    }

    /// Arms the single timeout to fire after `after`, or disarms it (`None`).
    pub(crate) fn set_timeout(&mut self, after: Option<Duration>) {
        match (after, self.timeout_armed) {
            (Some(d), armed) => {
                *self.timeout = types::Timespec::from(d);
                let e = if armed {
                    opcode::TimeoutUpdate::new(user_data(Kind::Timeout, 0), &*self.timeout)
                        .build()
                        .user_data(user_data(Kind::TimeoutUpdate, 0))
                } else {
                    self.timeout_armed = true;
                    opcode::Timeout::new(&*self.timeout)
                        .build()
                        .user_data(user_data(Kind::Timeout, 0))
                };
                self.push(e);
            }
            (None, true) => {
                let e = opcode::TimeoutRemove::new(user_data(Kind::Timeout, 0))
                    .build()
                    .user_data(user_data(Kind::TimeoutUpdate, 0));
                self.push(e);
            }
            (None, false) => {}
        }
    }

    /// Arms a multishot poll for readability of the wake-up descriptor `fd`.
    pub(crate) fn wake_on(&mut self, fd: RawFd) {
        let e = opcode::PollAdd::new(types::Fd(fd), libc::POLLIN as u32)
            .multi(true)
            .build()
            .user_data(user_data(Kind::Wake, 0));
        self.push(e);
    }

    /// Submits what is queued and, when `wait`, waits for at least one completion.
    pub(crate) fn submit(&mut self, wait: bool) -> io::Result<()> {
        loop {
            let want = usize::from(wait && self.backlog.is_empty());
            match self.ring.submit_and_wait(want) {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e)
                    if e.raw_os_error() == Some(libc::EBUSY)
                        || e.raw_os_error() == Some(libc::EAGAIN) =>
                {
                    // The completion queue is full: the caller reaps, then submits again.
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
            if self.backlog.is_empty() {
                return Ok(());
            }
            while let Some(entry) = self.backlog.pop_front() {
                // SAFETY: as in `push`: the entry's storage is kept until its completion.
                if unsafe { self.ring.submission().push(&entry) }.is_err() {
                    self.backlog.push_front(entry);
                    break;
                }
            }
        }
    }

    /// Takes every posted completion, in order, into `out`.
    pub(crate) fn reap(&mut self, out: &mut Vec<Completion<T>>) {
        self.completions.clear();
        self.completions.extend(
            self.ring
                .completion()
                .map(|c| (c.user_data(), c.result(), c.flags())),
        );
        for i in 0..self.completions.len() {
            let (ud, res, flags) = self.completions[i];
            let more = cqueue::more(flags);
            if !more {
                self.live = self.live.saturating_sub(1);
            }
            let token = ud as u32;
            let Some(kind) = Kind::from_u8((ud >> 56) as u8) else {
                continue;
            };
            let c = match kind {
                Kind::Accept => Completion::Accept {
                    token,
                    result: if res >= 0 {
                        // SAFETY: a successful accept's result is a new descriptor that
                        // nothing else in the process owns.
                        Ok(unsafe { OwnedFd::from_raw_fd(res) })
                    } else {
                        Err(io::Error::from_raw_os_error(-res))
                    },
                    more,
                },
                Kind::Recv => Completion::Recv {
                    token,
                    result: if res >= 0 {
                        Ok(res as usize)
                    } else {
                        Err(io::Error::from_raw_os_error(-res))
                    },
                    buffer: cqueue::buffer_select(flags),
                    more,
                },
                Kind::Send => {
                    if cqueue::notif(flags) {
                        // The zero-copy notification: the kernel is done with the pages.
                        match self.sends.remove(&token) {
                            Some(op) => self.send_done(token, op),
                            None => continue,
                        }
                    } else if more {
                        // Zero-copy result; the buffers stay lent until the notification.
                        if let Some(op) = self.sends.get_mut(&token) {
                            op.result = Some(res);
                        }
                        continue;
                    } else {
                        match self.sends.remove(&token) {
                            Some(mut op) => {
                                op.result = Some(res);
                                self.send_done(token, op)
                            }
                            None => continue,
                        }
                    }
                }
                Kind::Connect => {
                    self.connects.remove(&token);
                    Completion::Connect {
                        token,
                        result: if res >= 0 {
                            Ok(())
                        } else if res == -libc::ECANCELED {
                            // Cancelled by the runtime at the connect deadline.
                            Err(io::Error::from(io::ErrorKind::TimedOut))
                        } else {
                            Err(io::Error::from_raw_os_error(-res))
                        },
                    }
                }
                Kind::Timeout => {
                    self.timeout_armed = false;
                    if res == -libc::ETIME {
                        Completion::Timeout
                    } else {
                        continue;
                    }
                }
                Kind::Wake => Completion::Wake { more },
                Kind::TimeoutUpdate | Kind::Cancel => continue,
            };
            out.push(c);
        }
    }

    /// A send's last completion: its storage goes back to the pool, its batch to
    /// the caller.
    fn send_done(&mut self, token: u32, op: SendOp<T>) -> Completion<T> {
        let res = op.result.unwrap_or(-libc::ECANCELED);
        let SendOp {
            batch,
            mut iov,
            msg,
            ..
        } = op;
        iov.clear();
        if self.pool.len() < 256 && iov.capacity() <= 128 {
            self.pool.push((iov, msg));
        }
        Completion::Send {
            token,
            result: if res >= 0 {
                Ok(res as usize)
            } else {
                Err(io::Error::from_raw_os_error(-res))
            },
            batch,
        }
    }

    /// Cancels everything and waits (bounded) until the kernel has finished with all
    /// lent memory; false if it did not in time (the memory is then leaked).
    fn quiesce(&mut self) -> bool {
        let e = opcode::AsyncCancel2::new(types::CancelBuilder::any().all())
            .build()
            .user_data(user_data(Kind::Cancel, 0));
        self.push(e);
        let mut sink = Vec::new();
        for _ in 0..1000 {
            if self.live == 0 {
                return true;
            }
            let ts = types::Timespec::new().nsec(10_000_000);
            let args = types::SubmitArgs::new().timespec(&ts);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME) | Some(libc::EINTR)) => {}
                Err(_) => return false,
            }
            sink.clear();
            self.reap(&mut sink);
        }
        self.live == 0
    }
}

impl<T: AsRef<[u8]>> Drop for Ring<T> {
    fn drop(&mut self) {
        if !self.quiesce() {
            // The kernel may still read or write lent memory: leak it rather than free.
            std::mem::forget(std::mem::take(&mut self.sends));
            std::mem::forget(std::mem::take(&mut self.connects));
            let t = std::mem::replace(&mut self.timeout, Box::new(types::Timespec::new()));
            std::mem::forget(t);
        } else {
            self.buffers.unregister(&self.ring);
        }
    }
}

/// A ring whose submissions a kernel thread polls for (`IORING_SETUP_SQPOLL`),
/// polling `idle_ms` after the last before it sleeps. The task-run flags do not
/// go with it (the kernel refuses them: there is no task to interrupt).
fn build_sqpoll(entries: u32, idle_ms: u32) -> io::Result<(IoUring, RingFeatures)> {
    let mut b = IoUring::builder();
    b.setup_cqsize(entries.saturating_mul(8))
        .setup_sqpoll(idle_ms)
        .setup_single_issuer()
        .setup_submit_all();
    let ring = b.build(entries)?;
    Ok((
        ring,
        RingFeatures {
            single_issuer: true,
            sqpoll: true,
            ..RingFeatures::default()
        },
    ))
}

/// A ring with the fastest setup flags the kernel accepts.
fn build(entries: u32) -> io::Result<(IoUring, RingFeatures)> {
    let cq = entries.saturating_mul(8);
    let mut b = IoUring::builder();
    b.setup_cqsize(cq)
        .setup_single_issuer()
        .setup_defer_taskrun()
        .setup_coop_taskrun()
        .setup_submit_all();
    if let Ok(r) = b.build(entries) {
        return Ok((
            r,
            RingFeatures {
                single_issuer: true,
                defer_taskrun: true,
                coop_taskrun: true,
                sqpoll: false,
            },
        ));
    }
    let mut b = IoUring::builder();
    b.setup_cqsize(cq)
        .setup_single_issuer()
        .setup_coop_taskrun();
    if let Ok(r) = b.build(entries) {
        return Ok((
            r,
            RingFeatures {
                single_issuer: true,
                defer_taskrun: false,
                coop_taskrun: true,
                sqpoll: false,
            },
        ));
    }
    let mut b = IoUring::builder();
    b.setup_cqsize(cq).setup_coop_taskrun();
    if let Ok(r) = b.build(entries) {
        return Ok((
            r,
            RingFeatures {
                single_issuer: false,
                defer_taskrun: false,
                coop_taskrun: true,
                sqpoll: false,
            },
        ));
    }
    let mut b = IoUring::builder();
    b.setup_cqsize(cq);
    Ok((b.build(entries)?, RingFeatures::default()))
}

/// Whether io_uring can run this runtime here: `Err` with a one-line reason.
pub(crate) fn probe() -> Result<RingFeatures, String> {
    if let Ok(s) = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled") {
        match s.trim() {
            "0" | "" => {}
            "2" => return Err("io_uring is disabled (kernel.io_uring_disabled = 2)".into()),
            v => {
                // 1: only processes in the io_uring_group (or with CAP_SYS_ADMIN) may use it.
                let _ = v;
            }
        }
    }
    let (ring, features) = match build(8) {
        Ok(r) => r,
        Err(e) => {
            return Err(match e.raw_os_error() {
                Some(libc::ENOSYS) => {
                    "io_uring_setup is not available (ENOSYS: kernel without io_uring, or blocked)"
                        .into()
                }
                Some(libc::EPERM) => {
                    "io_uring_setup refused (EPERM: seccomp filter or kernel.io_uring_disabled)"
                        .into()
                }
                _ => format!("io_uring_setup failed: {e}"),
            });
        }
    };
    let mut p = io_uring::Probe::new();
    if let Err(e) = ring.submitter().register_probe(&mut p) {
        return Err(format!("io_uring opcode probe failed: {e}"));
    }
    for (code, name) in [
        (opcode::AcceptMulti::CODE, "accept"),
        (opcode::RecvMulti::CODE, "recv"),
        (opcode::SendMsg::CODE, "sendmsg"),
        (opcode::Connect::CODE, "connect"),
        (opcode::Timeout::CODE, "timeout"),
        (opcode::AsyncCancel2::CODE, "cancel"),
        (opcode::PollAdd::CODE, "poll"),
    ] {
        if !p.is_supported(code) {
            return Err(format!(
                "io_uring lacks the {name} operation (kernel too old)"
            ));
        }
    }
    if !kernel_at_least(6, 0) {
        return Err(
            "kernel older than 6.0: no multishot receive with provided buffer rings".into(),
        );
    }
    match ProvidedBuffers::new(&ring, 0, 1, 64) {
        Ok(mut b) => b.unregister(&ring),
        Err(e) => return Err(format!("io_uring provided buffer rings unavailable: {e}")),
    }
    Ok(features)
}

fn kernel_at_least(major: u32, minor: u32) -> bool {
    let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return true;
    };
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let maj = parts
        .next()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(0);
    let min = parts
        .next()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(0);
    (maj, min) >= (major, minor)
}
