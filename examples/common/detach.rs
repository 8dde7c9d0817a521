//! What the example services share: `--daemon` starts the service detached and returns once
//! its `/health` answers (exit 0), or once it died, with its own last words last (exit 1), as
//! an init script's `start` does.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts this program again without `--daemon`, detached, and waits for it on `port`. A
/// failed start's words go to `words`: stdout for a restart script whose output must end with
/// them (a remedy's output is quoted from its end), or stderr.
pub fn start_detached(name: &str, port: u16, mut words: impl Write) -> ! {
    let fail = |why: String| -> ! {
        eprintln!("{name}: {why}");
        std::process::exit(2)
    };
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(e.to_string()));
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--daemon")
        .collect();
    let errors = std::env::temp_dir().join(format!("{name}-start-{}.err", std::process::id()));
    let err_file = File::create(&errors).unwrap_or_else(|e| fail(e.to_string()));
    let mut child = Command::new(exe)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| fail(format!("cannot start: {e}")));
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let reason = std::fs::read_to_string(&errors).unwrap_or_default();
            let _ = std::fs::remove_file(&errors);
            let _ = write!(words, "{name} exited ({status}):\n{reason}");
            let _ = words.flush();
            std::process::exit(1);
        }
        if healthy(port) {
            let _ = std::fs::remove_file(&errors);
            println!("{name} started, pid {}", child.id());
            std::process::exit(0);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("{name} did not answer within 10s");
    std::process::exit(1)
}

/// Whether `GET /health` on the port answers 200.
pub fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = stream.write_all(b"GET /health HTTP/1.0\r\n\r\n");
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.0 200")
}
