//! `tcp` checks: the address accepts a connection within the timeout.

use super::http::port_of;
use super::{CheckResult, Keys, Kind, Perf};
use serde_json::json;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// `kind = "tcp"`.
#[derive(Debug, Clone)]
pub struct Tcp {
    /// `host:port`.
    pub address: String,
}

impl Kind for Tcp {
    const NAME: &'static str = "tcp";
    const KEYS: &'static [&'static str] = &["address"];

    fn parse(keys: &mut Keys) -> Option<Self> {
        Some(Tcp {
            address: keys.require("address")?,
        })
    }

    // Name resolution has no timeout of its own: the probe runs on a thread of its own.
    fn probe(&self, deadline: Duration) -> CheckResult {
        tcp(&self.address, deadline)
    }

    fn port(&self) -> Option<u16> {
        port_of(&self.address)
    }
    fn details(&self) -> serde_json::Value {
        json!({ "address": self.address, "port": port_of(&self.address) })
    }
}

fn tcp(address: &str, timeout: Duration) -> CheckResult {
    let started = Instant::now();
    let addrs = match address.to_socket_addrs() {
        Ok(addrs) => addrs.collect::<Vec<_>>(),
        Err(err) => return CheckResult::critical(format!("cannot resolve {address}: {err}")),
    };
    let mut last_error = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => {
                let secs = started.elapsed().as_secs_f64();
                return CheckResult::ok(format!("{address} accepts connections ({:.3}s)", secs))
                    .with_perf(vec![Perf::new("time", secs, "s")]);
            }
            Err(err) => last_error = Some(err),
        }
    }
    match last_error {
        Some(err) => CheckResult::critical(format!("{address}: {err}")),
        None => CheckResult::critical(format!("{address} resolves to no address")),
    }
}
