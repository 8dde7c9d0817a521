//! `http` checks: a GET that must answer the expected status (and text), within the timeout.

use super::{CheckResult, Keys, Kind, Perf};
use serde_json::json;
use std::time::{Duration, Instant};

/// The largest response header a probe reads; a bigger one is CRITICAL, saying so.
const RESPONSE_HEADER_MAX: usize = 16 * 1024;
/// Room for the request: its line (the URL) and a few headers.
const REQUEST_BUFFER: usize = 8 * 1024;

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
    // A probe needs small buffers: ureq's 128 KiB each way are zero-filled per connection, and
    // a scan runs up to `parallelism` of them at once. The header limit stays below the input
    // buffer, so a bigger header is reported as one (nginx's own proxy default is 4 or 8 KiB).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        .input_buffer_size(RESPONSE_HEADER_MAX * 2)
        .max_response_header_size(RESPONSE_HEADER_MAX)
        .output_buffer_size(REQUEST_BUFFER)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A server on a free local port that answers one request with `header_bytes` of headers.
    fn answering_with_header_of(header_bytes: usize) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let padding = "x".repeat(header_bytes);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nX-Padding: {padding}\r\nContent-Length: 2\r\n\r\nok"
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        format!("http://{address}/health")
    }

    fn probe(url: String) -> CheckResult {
        let check = Http {
            url,
            expect_status: 200,
            contains: None,
        };
        http(&check, Duration::from_secs(5))
    }

    #[test]
    fn a_header_within_the_limit_is_read() {
        let result = probe(answering_with_header_of(RESPONSE_HEADER_MAX - 200));
        assert_eq!(result.status, crate::model::Status::Ok, "{}", result.summary);
    }

    #[test]
    fn a_header_over_the_limit_is_critical_and_says_so() {
        let result = probe(answering_with_header_of(RESPONSE_HEADER_MAX * 3));
        assert_eq!(result.status, crate::model::Status::Critical);
        assert!(
            result.summary.contains("header"),
            "the summary does not name the header: {}",
            result.summary
        );
    }
}
