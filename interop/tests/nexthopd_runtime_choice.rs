//! nexthopd's choice of runtime when io_uring cannot be used (README, "Runtime"):
//! a config that demands `runtime = "uring"` exits 2 with the reason; a config
//! without the key says why in one line and runs on mio.
//!
//! io_uring is made unavailable to the child only: a seccomp filter installed
//! between fork and exec makes `io_uring_setup`, `io_uring_enter` and
//! `io_uring_register` fail with EPERM (the global sysctl `io_uring_disabled` is
//! never touched). nexthopd listens on 127.0.0.231 ports 10231-10232 (no root needed).

#![deny(unsafe_code)]

use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use nexthop_interop::{Daemon, RunDir, wait_until};
use nexthop_speaker::config::RuntimeKind;
use nexthop_speaker::config::file::ConfigFile;
use nexthop_test_support::nexthopd::binary as nexthopd_binary;
use nexthop_test_support::procfs::is_listening as listening;

fn is_listening(ip: std::net::IpAddr, port: u16) -> bool {
    listening(std::net::SocketAddr::new(ip, port))
}

const ADDR: &str = "127.0.0.231";
/// The fallback test's port; the refusal test checks nothing listens on its own.
const PORT: u16 = 10231;
const REFUSED_PORT: u16 = 10232;

/// nexthopd's config (the typed builder): no neighbour, one listener, `runtime`
/// set when given.
fn config(runtime: Option<RuntimeKind>, port: u16) -> String {
    let mut f = ConfigFile::new(65231, "192.0.2.231".parse().unwrap())
        .listen(format!("{ADDR}:{port}").parse().unwrap());
    if let Some(r) = runtime {
        f = f.runtime(r);
    }
    f.to_toml()
}

#[allow(unsafe_code)]
mod no_io_uring {
    //! A seccomp filter (cBPF, `SECCOMP_SET_MODE_FILTER`) that answers the three
    //! io_uring system calls with EPERM and allows everything else.
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    /// AUDIT_ARCH_X86_64 (linux/audit.h): the filter only matches this ABI.
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    /// io_uring_setup, io_uring_enter, io_uring_register on x86_64.
    const IO_URING_SYSCALLS: [u32; 3] = [425, 426, 427];
    /// Offsets in `struct seccomp_data`: `nr`, then `arch`.
    const NR: u32 = 0;
    const ARCH: u32 = 4;

    fn stmt(code: u32, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt,
            jf,
            k,
        }
    }

    /// The program: another ABI is allowed; the io_uring calls get EPERM.
    fn program() -> Vec<libc::sock_filter> {
        let ld = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
        let ret = libc::BPF_RET | libc::BPF_K;
        vec![
            stmt(ld, ARCH),
            jeq(AUDIT_ARCH_X86_64, 0, 4), // -> allow
            stmt(ld, NR),
            jeq(IO_URING_SYSCALLS[0], 3, 0), // -> EPERM
            jeq(IO_URING_SYSCALLS[1], 2, 0),
            jeq(IO_URING_SYSCALLS[2], 1, 0),
            stmt(ret, libc::SECCOMP_RET_ALLOW),
            stmt(ret, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
        ]
    }

    /// Installs the filter in the child of `cmd` before it runs the program.
    pub fn deny_io_uring(cmd: &mut Command) {
        if !cfg!(target_arch = "x86_64") {
            panic!("the seccomp filter of this test knows x86_64 system call numbers only");
        }
        let filter = program();
        // SAFETY: the closure runs in the forked child before exec; it only makes
        // two system calls on memory (`filter`, `prog`) that the closure owns, and
        // allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                let prog = libc::sock_fprog {
                    len: filter.len() as u16,
                    filter: filter.as_ptr() as *mut libc::sock_filter,
                };
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let r = libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &prog as *const libc::sock_fprog,
                );
                if r != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

/// `nexthopd run` on `toml`, io_uring denied, as a guarded process.
fn start(run: &RunDir, name: &str, toml: &str) -> (Daemon, std::path::PathBuf) {
    let conf = run.path().join(format!("{name}.toml"));
    std::fs::write(&conf, toml).unwrap();
    let mut cmd = Command::new(nexthopd_binary().unwrap());
    cmd.arg("run").arg("--config").arg(&conf);
    cmd.env("NEXTHOP_SOCKET", run.path().join(format!("{name}.sock")));
    no_io_uring::deny_io_uring(&mut cmd);
    let d = Daemon::spawn(name, run.path(), cmd).unwrap();
    (d, run.path().join(format!("{name}.out")))
}

/// Waits (bounded, only against a hang) until `d` has exited; its status.
fn wait_exit(d: &mut Daemon) -> ExitStatus {
    wait_until(Duration::from_secs(15), "nexthopd to exit", || {
        !d.is_running()
    })
    .unwrap_or_else(|e| panic!("{e}: {}", d.output_tail(20)));
    d.terminate(Duration::ZERO)
        .expect("the process was started and not yet reaped")
}

fn output(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn demanded_uring_without_io_uring_exits_2_with_the_reason() {
    let run = RunDir::new("nexthopd_uring_denied").unwrap();
    let (mut d, out) = start(
        &run,
        "demanded",
        &config(Some(RuntimeKind::Uring), REFUSED_PORT),
    );
    let status = wait_exit(&mut d);
    let text = output(&out);
    assert_eq!(status.code(), Some(2), "exit status {status}: {text}");
    assert!(
        text.contains("runtime = \"uring\", but io_uring cannot be used here")
            && text.contains("EPERM"),
        "the reason (io_uring_setup refused with EPERM) is not said: {text}"
    );
    assert!(
        !is_listening(ADDR.parse().unwrap(), REFUSED_PORT),
        "something listens on {ADDR}:{REFUSED_PORT} after the refusal"
    );
}

#[test]
fn without_the_key_nexthopd_says_why_and_runs_on_mio() {
    let run = RunDir::new("nexthopd_uring_fallback").unwrap();
    let (mut d, out) = start(&run, "fallback", &config(None, PORT));
    wait_until(Duration::from_secs(15), "nexthopd to listen", || {
        is_listening(ADDR.parse().unwrap(), PORT)
    })
    .unwrap_or_else(|e| panic!("{e}: {}", d.output_tail(20)));
    let text = output(&out);
    let why: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("io_uring cannot be used here"))
        .collect();
    assert_eq!(why.len(), 1, "one line saying why: {text}");
    assert!(
        why[0].contains("EPERM") && why[0].contains("running on mio"),
        "{}",
        why[0]
    );
    assert!(
        text.lines()
            .any(|l| l.contains("nexthopd starting") && l.contains("runtime=\"mio\"")),
        "the start line does not name mio: {text}"
    );
    let status = d.terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM: {}", output(&out));
}
