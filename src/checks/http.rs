//! `http` checks: a GET that must answer the expected status (and text), within the timeout.

use super::{CheckResult, Keys, Kind, Perf};
use serde_json::json;
use std::time::{Duration, Instant};

/// `kind = "http"`.
#[derive(Debug, Clone)]
pub struct Http {
    pub url: String,
    pub expect_status: u16,
    /// Text the body must contain.
    pub contains: Option<String>,
}

impl Kind for Http {
    const NAME: &'static str = "http";
    const KEYS: &'static [&'static str] = &["url", "expect_status", "contains"];
    const KEEPS_DEADLINE: bool = true;

    fn parse(keys: &mut Keys) -> Option<Self> {
        let url = keys.require("url");
        let expect_status = keys.get("expect_status").unwrap_or(200);
        let contains = keys.get("contains");
        Some(Http {
            url: url?,
            expect_status,
            contains,
        })
    }

    fn probe(&self, deadline: Duration) -> CheckResult {
        http(self, deadline)
    }

    fn port(&self) -> Option<u16> {
        port_of(&self.url)
    }
    fn details(&self) -> serde_json::Value {
        json!({ "url": self.url, "expect_status": self.expect_status, "contains": self.contains, "port": port_of(&self.url) })
    }
}

/// The port of `http://host:port/…` or `host:port`, with the scheme's default.
pub fn port_of(address: &str) -> Option<u16> {
    let (scheme, rest) = address.split_once("://").unwrap_or(("", address));
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    match authority.rsplit_once(':') {
        Some((_, port)) if !port.ends_with(']') => port.parse().ok(),
        _ => match scheme {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        },
    }
}

fn http(check: &Http, timeout: Duration) -> CheckResult {
    let Http {
        url,
        expect_status,
        contains,
    } = check;
    // Every status is an answer to judge, not an error; a redirect is judged, not followed.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into();
    let started = Instant::now();
    let response = match agent.get(url).call() {
        Ok(response) => response,
        Err(err) => {
            return CheckResult::critical(format!("{url}: {}", transport_error(&err, timeout)))
        }
    };
    let status = response.status().as_u16();
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

fn transport_error(err: &ureq::Error, timeout: Duration) -> String {
    match err {
        // ureq names the kind before the cause ("io: Connection refused"); keep the cause only.
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(_) => format!("timed out after {timeout:?}"),
        other => other.to_string(),
    }
}

fn read_body(response: ureq::http::Response<ureq::Body>) -> String {
    use std::io::Read;
    let mut body = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(256 * 1024)
        .read_to_end(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}
