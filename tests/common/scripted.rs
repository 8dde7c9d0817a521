//! A scripted HTTP receiver for the channel tests that need no Python.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An HTTP receiver that answers each request with the next status of its script (the last
/// one repeats) and keeps every request as (request line, body): a JSON webhook, ntfy, Slack,
/// Matrix or Alertmanager as far as orchestrator can tell, in plain `cargo test`.
pub struct ScriptedSink {
    pub port: u16,
    requests: Arc<Mutex<Vec<(String, String)>>>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl ScriptedSink {
    pub fn start(statuses: &[u16]) -> ScriptedSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(
            statuses.iter().copied().collect::<VecDeque<_>>(),
        ));
        let (kept, script) = (requests.clone(), statuses.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let status = {
                    let mut script = script.lock().unwrap();
                    if script.len() > 1 {
                        script.pop_front().unwrap()
                    } else {
                        script.front().copied().unwrap_or(200)
                    }
                };
                kept.lock().unwrap().push((
                    request_line.trim().to_string(),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
                );
                let _ = reader.get_mut().write_all(reply.as_bytes());
            }
        });
        ScriptedSink {
            port,
            requests,
            statuses,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    pub fn answer(&self, status: u16) {
        *self.statuses.lock().unwrap() = [status].into_iter().collect();
    }
}
