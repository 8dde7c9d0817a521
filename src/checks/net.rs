//! `http` and `tcp` checks.

use super::{CheckResult, Perf};
use crate::config::CheckKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

pub fn tcp(address: &str, timeout: Duration) -> CheckResult {
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

pub fn http(kind: &CheckKind, timeout: Duration) -> CheckResult {
    let CheckKind::Http {
        url,
        expect_status,
        contains,
    } = kind
    else {
        return CheckResult::unknown("not an http check");
    };
    let agent = ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .build();
    let started = Instant::now();
    let response = match agent.get(url).call() {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(err)) => {
            return CheckResult::critical(format!("{url}: {}", transport_error(&err)))
        }
    };
    let status = response.status();
    let body = read_body(response);
    let secs = started.elapsed().as_secs_f64();
    let perf = vec![
        Perf::new("time", secs, "s"),
        Perf::new("size", body.len() as f64, "B"),
    ];
    if status != *expect_status {
        let excerpt: String = body.chars().take(200).collect();
        return CheckResult::critical(format!(
            "HTTP {status} from {url} (expected {expect_status})"
        ))
        .with_perf(perf)
        .with_output(excerpt);
    }
    if let Some(needle) = contains {
        if !body.contains(needle.as_str()) {
            return CheckResult::critical(format!(
                "HTTP {status} from {url} but the body lacks {needle:?}"
            ))
            .with_perf(perf);
        }
    }
    CheckResult::ok(format!("HTTP {status} from {url} in {secs:.3}s")).with_perf(perf)
}

fn transport_error(err: &ureq::Transport) -> String {
    let text = err.to_string();
    // ureq prefixes the URL again; keep the cause only.
    text.rsplit_once(": ")
        .map(|(_, cause)| cause.to_string())
        .unwrap_or(text)
}

fn read_body(response: ureq::Response) -> String {
    use std::io::Read;
    let mut body = Vec::new();
    let _ = response
        .into_reader()
        .take(256 * 1024)
        .read_to_end(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}
