//! sd_notify(3) for `Type=notify` and `WatchdogSec=`: a datagram to `$NOTIFY_SOCKET` saying
//! the dashboard is ready, then, while its loop turns, that it is alive. Without systemd the
//! variables are unset and this does nothing.

use std::ffi::OsStr;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

/// Sends `state` (like `READY=1`) if systemd asked for notifications; failures are logged,
/// never fatal: a missed notification is systemd's to act on.
pub fn notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    if let Err(err) = send(&path, state) {
        log::warn!("cannot notify systemd ({state}): {err}");
    }
}

fn send(path: &OsStr, state: &str) -> io::Result<()> {
    let socket = UnixDatagram::unbound()?;
    socket.send_to_addr(state.as_bytes(), &socket_addr(path)?)?;
    Ok(())
}

/// A path, or with a leading `@` a name in the abstract namespace.
fn socket_addr(path: &OsStr) -> io::Result<SocketAddr> {
    match path.as_bytes().strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None => SocketAddr::from_pathname(path),
    }
}

/// Pings `WATCHDOG=1` at half the interval systemd set, so one late turn is not a kill.
pub struct Watchdog {
    every: Duration,
    last: Option<Instant>,
}

impl Watchdog {
    pub fn from_env() -> Option<Watchdog> {
        let usec = std::env::var("WATCHDOG_USEC").ok()?;
        let pid = std::env::var("WATCHDOG_PID").ok();
        Watchdog::for_process(&usec, pid.as_deref(), std::process::id())
    }

    /// `WATCHDOG_PID`, when set, names the process meant; a child that inherited the
    /// variables must not ping for its parent.
    fn for_process(usec: &str, pid: Option<&str>, me: u32) -> Option<Watchdog> {
        if pid.is_some_and(|pid| pid.trim().parse::<u32>().ok() != Some(me)) {
            return None;
        }
        let usec: u64 = usec.trim().parse().ok().filter(|&n| n > 0)?;
        Some(Watchdog {
            every: Duration::from_micros(usec / 2),
            last: None,
        })
    }

    pub fn ping_if_due(&mut self) {
        if self.last.is_some_and(|last| last.elapsed() < self.every) {
            return;
        }
        notify("WATCHDOG=1");
        self.last = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_pings_at_half_the_interval_and_only_for_its_process() {
        let dog = Watchdog::for_process("30000000", None, 7).expect("a watchdog");
        assert_eq!(dog.every, Duration::from_secs(15));
        assert!(Watchdog::for_process("30000000", Some("7"), 7).is_some());
        assert!(Watchdog::for_process("30000000", Some("8"), 7).is_none());
        assert!(Watchdog::for_process("0", None, 7).is_none());
        assert!(Watchdog::for_process("soon", None, 7).is_none());
    }

    #[test]
    fn a_notification_reaches_a_path_socket_and_an_abstract_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        send(path.as_os_str(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");

        let name = format!("orchestrator-test-{}", std::process::id());
        let abstract_listener =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
                .unwrap();
        send(OsStr::new(&format!("@{name}")), "WATCHDOG=1").unwrap();
        let n = abstract_listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
    }
}
