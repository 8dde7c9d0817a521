//! The dashboard's HTTP/1.1 server, built so that no client can freeze it or kill it.
//!
//! tiny_http 0.12 could not be made to hold this: its accept thread gives up for good on the
//! first accept error (`EMFILE` included), it starts one thread per connection with no cap,
//! reads a header line into memory without any size limit, and sets no socket timeouts; and
//! `Server::from_listener` takes a plain listener, so there is no place to put any of that in
//! front of it.
//!
//! Here one thread owns every socket, non-blocking, and polls them. A request is read whole
//! (head capped at [`Limits::max_head`], body at [`Limits::max_body`]) before a worker sees it,
//! so a slow or silent client holds a file descriptor and a small buffer, never a worker. Each
//! connection has a deadline to send its request and another to take its response. Past the
//! connection cap the oldest connection is closed to make room, so a new client always gets
//! in. Workers turn a complete request into bytes and hand them back; the loop writes them.
//! One request per connection (`Connection: close`): a dashboard needs no more.

use super::systemd::Watchdog;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one connection may cost, and how many there may be.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Request line and headers together; larger heads are refused with 431.
    pub max_head: usize,
    /// Larger announced bodies are refused with 413 before they are read.
    pub max_body: usize,
    /// From accept to the last byte of the body; then 408 and the connection is closed.
    pub read_deadline: Duration,
    /// From the response being ready to its last byte taken by the client.
    pub write_deadline: Duration,
    /// Open connections; a new one beyond this closes the oldest.
    pub max_connections: usize,
    pub workers: usize,
    /// A request unanswered this long means the workers are stuck: the server stops with an
    /// error, so the process exits and its supervisor starts a fresh one.
    pub stall_limit: Duration,
}

/// Descriptors kept free for the database (three per SQLite connection), the listener, the
/// wake-up pair and the log.
const RESERVED_FDS: u64 = 64;
const MAX_CONNECTIONS: usize = 256;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head: 16 * 1024,
            max_body: 64 * 1024,
            read_deadline: Duration::from_secs(10),
            write_deadline: Duration::from_secs(10),
            max_connections: connection_cap(open_file_limit()),
            workers: 4,
            stall_limit: Duration::from_secs(120),
        }
    }
}

fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// The cap fits under the open-file limit, so accepting never runs the process out of
/// descriptors on its own.
fn connection_cap(open_files: Option<u64>) -> usize {
    let room = open_files.map_or(u64::MAX, |n| n.saturating_sub(RESERVED_FDS) / 2);
    (room.max(8) as usize).min(MAX_CONNECTIONS)
}

const MAX_HEADERS: usize = 64;
const READ_CHUNK: usize = 8 * 1024;
/// The longest the loop sleeps: deadlines and the watchdog are checked at least this often.
const TICK: Duration = Duration::from_millis(250);
/// After `EMFILE` with nothing left to close, accepting pauses this long instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// How long, and how much, an answered client may still send before the connection is closed.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 4 << 20;
const RESOURCE_WARNING_EVERY: Duration = Duration::from_secs(10);
/// Connections accepted per turn, so reading and writing are not starved by a flood.
const ACCEPT_BATCH: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Other(String),
}

impl Method {
    fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "POST" => Method::Post,
            other => Method::Other(other.to_string()),
        }
    }
}

/// A request read whole: head and body are in memory, so handling it never waits on the client.
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The client's address, for throttling failed logins per source.
    peer: Option<IpAddr>,
}

impl Request {
    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The first header of that name, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body, whole and within [`Limits::max_body`] (a longer one was refused with 413).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The address the request came from; the unspecified address if the socket could not
    /// say (such requests share one throttle).
    pub fn peer(&self) -> IpAddr {
        self.peer
            .unwrap_or(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED))
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The bytes on the wire. A header whose name or value could break the framing (a line
    /// break, a control character) is left out rather than sent.
    fn into_bytes(self) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.body.len()
        );
        for (name, value) in &self.headers {
            if is_token(name) && is_field_value(value) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// What the bytes received so far amount to.
enum Parse {
    NeedMore { expects_continue: bool },
    Done(Request),
    Refuse(u16, &'static str),
}

fn parse_request(buf: &[u8], limits: &Limits) -> Parse {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let head_len = match head.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= limits.max_head => n,
        Ok(httparse::Status::Partial) if buf.len() <= limits.max_head => {
            return Parse::NeedMore {
                expects_continue: false,
            }
        }
        Ok(_) | Err(httparse::Error::TooManyHeaders) => {
            return Parse::Refuse(431, "request header fields too large")
        }
        Err(_) => return Parse::Refuse(400, "malformed request"),
    };
    let header = |name: &str| {
        head.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    if header("Transfer-Encoding").is_some() {
        return Parse::Refuse(411, "a request body needs a Content-Length");
    }
    let length = match header("Content-Length").map(|v| v.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Parse::Refuse(400, "bad Content-Length"),
    };
    if length > limits.max_body {
        return Parse::Refuse(413, "request body too large");
    }
    if buf.len() < head_len + length {
        let expects_continue =
            header("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        return Parse::NeedMore { expects_continue };
    }
    Parse::Done(Request {
        method: Method::from_token(head.method.unwrap_or("")),
        url: head.path.unwrap_or("/").to_string(),
        headers: head
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).into_owned();
                (h.name.to_string(), value)
            })
            .collect(),
        body: buf[head_len..head_len + length].to_vec(),
        peer: None,
    })
}

pub type Handler = dyn Fn(&mut Request) -> Response + Send + Sync;

/// Serves on `listener` until it fails; then returns why, so the process can exit non-zero.
pub fn serve(listener: TcpListener, limits: Limits, handler: Arc<Handler>) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let (wake_sender, wake_receiver) = UnixStream::pair()?;
    wake_sender.set_nonblocking(true)?;
    wake_receiver.set_nonblocking(true)?;
    let (job_sender, job_receiver) = mpsc::channel();
    let (reply_sender, reply_receiver) = mpsc::channel();
    let jobs = Arc::new(Mutex::new(job_receiver));
    for _ in 0..limits.workers.max(1) {
        let worker = Worker {
            jobs: jobs.clone(),
            replies: reply_sender.clone(),
            wake: wake_sender.try_clone()?,
            handler: handler.clone(),
        };
        std::thread::Builder::new()
            .name("serve-worker".into())
            .spawn(move || worker.run())?;
    }
    let mut event_loop = EventLoop {
        listener,
        limits,
        connections: HashMap::new(),
        next_id: 0,
        jobs: job_sender,
        replies: reply_receiver,
        wake: wake_receiver,
        accept_paused_until: None,
        last_resource_warning: None,
        workers: Progress {
            outstanding: 0,
            answered_at: Instant::now(),
            gone: false,
        },
    };
    super::systemd::notify("READY=1");
    let mut watchdog = Watchdog::from_env();
    loop {
        event_loop.turn()?;
        if let Some(watchdog) = watchdog.as_mut() {
            watchdog.ping_if_due();
        }
    }
}

struct Worker {
    jobs: Arc<Mutex<Receiver<(u64, Request)>>>,
    replies: Sender<(u64, Vec<u8>)>,
    wake: UnixStream,
    handler: Arc<Handler>,
}

impl Worker {
    fn run(self) {
        loop {
            let job = self
                .jobs
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .recv();
            let Ok((id, mut request)) = job else { return };
            // A bug in one page must not take a worker with it: that would stall the server.
            let response = catch_unwind(AssertUnwindSafe(|| (self.handler)(&mut request)))
                .unwrap_or_else(|_| Response::text(500, "internal error"));
            if self.replies.send((id, response.into_bytes())).is_err() {
                return;
            }
            // A full wake-up pipe already wakes the loop; the byte is not needed then.
            let _ = (&self.wake).write(&[1]);
        }
    }
}

enum State {
    Reading {
        buf: Vec<u8>,
        continued: bool,
    },
    /// Handed to the workers; nothing to do on the network until they answer.
    Working,
    Writing {
        out: Vec<u8>,
        done: usize,
        since: Instant,
    },
    /// Answered and our side shut: what the client still sends (the rest of a refused body)
    /// is read and dropped, so closing does not reset the connection and destroy the answer
    /// before the client has read it.
    Draining {
        until: Instant,
        left: usize,
    },
}

struct Connection {
    stream: TcpStream,
    opened: Instant,
    state: State,
}

/// What one poll found ready.
#[derive(Default)]
struct Ready {
    listener: bool,
    /// A worker has replies waiting.
    woken: bool,
    connections: Vec<(u64, PollFlags)>,
}

struct EventLoop {
    listener: TcpListener,
    limits: Limits,
    connections: HashMap<u64, Connection>,
    /// Never reused, so a reply for a connection closed meanwhile finds nothing to write to.
    next_id: u64,
    jobs: Sender<(u64, Request)>,
    replies: Receiver<(u64, Vec<u8>)>,
    wake: UnixStream,
    accept_paused_until: Option<Instant>,
    last_resource_warning: Option<Instant>,
    workers: Progress,
}

/// Whether the workers keep up. Counted apart from connections, which may be closed
/// meanwhile: a stall must show even when its requests' clients have gone.
struct Progress {
    /// Requests handed over and not yet answered.
    outstanding: usize,
    /// The last answer, or when the first of the outstanding requests was handed over.
    answered_at: Instant,
    /// Every worker thread has ended: nothing will ever be answered again.
    gone: bool,
}

impl EventLoop {
    /// One poll and everything it reports; an error means the listener is gone.
    fn turn(&mut self) -> io::Result<()> {
        self.check_workers()?;
        let now = Instant::now();
        let accepting = self.accept_paused_until.is_none_or(|until| now >= until);
        if accepting {
            self.accept_paused_until = None;
        }
        let ready = self.wait(accepting)?;
        if ready.woken {
            self.take_replies();
        }
        for (id, flags) in ready.connections {
            self.on_ready(id, flags);
        }
        if ready.listener {
            self.accept()?;
        }
        self.expire();
        Ok(())
    }

    /// Polls the listener, the wake-up pipe and every connection waiting on the network.
    fn wait(&mut self, accepting: bool) -> io::Result<Ready> {
        let mut ids = Vec::with_capacity(self.connections.len());
        let mut fds = Vec::with_capacity(self.connections.len() + 2);
        let listen_for = if accepting {
            PollFlags::IN
        } else {
            PollFlags::empty()
        };
        fds.push(PollFd::new(&self.listener, listen_for));
        fds.push(PollFd::new(&self.wake, PollFlags::IN));
        for (id, connection) in &self.connections {
            let interest = match connection.state {
                State::Reading { .. } => PollFlags::IN,
                State::Writing { .. } => PollFlags::OUT,
                State::Draining { .. } => PollFlags::IN,
                State::Working => continue,
            };
            ids.push(*id);
            fds.push(PollFd::new(&connection.stream, interest));
        }
        let sleep = if accepting { TICK } else { ACCEPT_BACKOFF };
        let timeout = Timespec::try_from(sleep).unwrap_or_default();
        match poll(&mut fds, Some(&timeout)) {
            Ok(_) => {}
            Err(Errno::INTR) => return Ok(Ready::default()),
            Err(err) => return Err(err.into()),
        }
        let listener = fds[0].revents();
        if listener.contains(PollFlags::NVAL) {
            return Err(io::Error::other("the listening socket is no longer open"));
        }
        let connections = ids
            .into_iter()
            .zip(&fds[2..])
            .filter(|(_, fd)| !fd.revents().is_empty())
            .map(|(id, fd)| (id, fd.revents()))
            .collect();
        Ok(Ready {
            listener: !listener.is_empty(),
            woken: !fds[1].revents().is_empty(),
            connections,
        })
    }

    fn take_replies(&mut self) {
        let mut drain = [0u8; 256];
        while matches!((&self.wake).read(&mut drain), Ok(n) if n > 0) {}
        while let Ok((id, out)) = self.replies.try_recv() {
            self.workers.outstanding -= 1;
            self.workers.answered_at = Instant::now();
            if let Some(connection) = self.connections.get_mut(&id) {
                connection.state = State::Writing {
                    out,
                    done: 0,
                    since: Instant::now(),
                };
                self.write(id);
            }
        }
    }

    fn on_ready(&mut self, id: u64, flags: PollFlags) {
        let Some(connection) = self.connections.get(&id) else {
            return;
        };
        match connection.state {
            State::Reading { .. } => self.read(id),
            State::Writing { .. } => self.write(id),
            State::Draining { .. } => self.drain(id),
            State::Working => {}
        }
        if flags.contains(PollFlags::NVAL) {
            self.connections.remove(&id);
        }
    }

    /// Accepts what is waiting. Running out of descriptors closes the oldest connection and
    /// tries again later; any other failure of the listener itself ends the server.
    fn accept(&mut self) -> io::Result<()> {
        for _ in 0..ACCEPT_BATCH {
            match self.listener.accept() {
                Ok((stream, _)) => self.admit(stream),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if out_of_resources(&err) => {
                    self.warn_once_in_a_while(&err);
                    if !self.evict_oldest() {
                        self.accept_paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
                    }
                    return Ok(());
                }
                Err(err) if failed_connection(&err) => continue,
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// A flood would otherwise write one line per connection.
    fn warn_once_in_a_while(&mut self, err: &io::Error) {
        if self
            .last_resource_warning
            .is_some_and(|at| at.elapsed() < RESOURCE_WARNING_EVERY)
        {
            return;
        }
        log::warn!("dashboard: cannot accept ({err}); closing the oldest connections to make room");
        self.last_resource_warning = Some(Instant::now());
    }

    fn admit(&mut self, stream: TcpStream) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        let _ = stream.set_nodelay(true);
        while self.connections.len() >= self.limits.max_connections {
            if !self.evict_oldest() {
                return;
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.connections.insert(
            id,
            Connection {
                stream,
                opened: Instant::now(),
                state: State::Reading {
                    buf: Vec::new(),
                    continued: false,
                },
            },
        );
    }

    /// Closes the connection open longest, preferring one still sending its request (where
    /// idle and slow clients sit) or one already answered.
    fn evict_oldest(&mut self) -> bool {
        let oldest = |idle_only: bool| {
            self.connections
                .iter()
                .filter(|(_, c)| {
                    !idle_only || matches!(c.state, State::Reading { .. } | State::Draining { .. })
                })
                .min_by_key(|(_, c)| c.opened)
                .map(|(id, _)| *id)
        };
        match oldest(true).or_else(|| oldest(false)) {
            Some(id) => {
                self.connections.remove(&id);
                true
            }
            None => false,
        }
    }

    fn read(&mut self, id: u64) {
        let Some(connection) = self.connections.get_mut(&id) else {
            return;
        };
        let State::Reading { buf, continued } = &mut connection.state else {
            return;
        };
        let mut chunk = [0u8; READ_CHUNK];
        let outcome = loop {
            match connection.stream.read(&mut chunk) {
                Ok(0) => break None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break None,
            }
            match parse_request(buf, &self.limits) {
                Parse::NeedMore { expects_continue } => {
                    if expects_continue && !*continued {
                        // Small enough for an empty send buffer; a client that misses it
                        // sends the body after its own short wait anyway.
                        let _ = connection.stream.write(b"HTTP/1.1 100 Continue\r\n\r\n");
                        *continued = true;
                    }
                }
                done_or_refused => break Some(done_or_refused),
            }
        };
        match outcome {
            // The client left before its request was complete.
            None => {
                self.connections.remove(&id);
            }
            Some(Parse::Done(mut request)) => {
                request.peer = connection.stream.peer_addr().ok().map(|a| a.ip());
                connection.state = State::Working;
                if self.jobs.send((id, request)).is_err() {
                    self.workers.gone = true;
                    self.connections.remove(&id);
                    return;
                }
                if self.workers.outstanding == 0 {
                    self.workers.answered_at = Instant::now();
                }
                self.workers.outstanding += 1;
            }
            Some(Parse::Refuse(status, why)) => self.refuse(id, status, why),
            Some(Parse::NeedMore { .. }) => unreachable!("the read loop only breaks when done"),
        }
    }

    /// Answers with an error and closes; the rest of the request is never read.
    fn refuse(&mut self, id: u64, status: u16, why: &str) {
        if let Some(connection) = self.connections.get_mut(&id) {
            connection.state = State::Writing {
                out: Response::text(status, why).into_bytes(),
                done: 0,
                since: Instant::now(),
            };
            self.write(id);
        }
    }

    fn write(&mut self, id: u64) {
        let Some(connection) = self.connections.get_mut(&id) else {
            return;
        };
        let State::Writing { out, done, .. } = &mut connection.state else {
            return;
        };
        while *done < out.len() {
            match connection.stream.write(&out[*done..]) {
                Ok(0) => break,
                Ok(n) => *done += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        if *done < out.len() || connection.stream.shutdown(Shutdown::Write).is_err() {
            self.connections.remove(&id);
            return;
        }
        connection.state = State::Draining {
            until: Instant::now() + LINGER,
            left: LINGER_BYTES,
        };
    }

    /// Reads and drops what the client still sends until it closes its side, within bounds.
    fn drain(&mut self, id: u64) {
        let Some(connection) = self.connections.get_mut(&id) else {
            return;
        };
        let State::Draining { left, .. } = &mut connection.state else {
            return;
        };
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            match connection.stream.read(&mut chunk) {
                Ok(n) if n > 0 && n < *left => *left -= n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // Closed by the client, the budget spent, or an error: done.
                _ => break,
            }
        }
        self.connections.remove(&id);
    }

    /// Closes connections past their deadline; one that never finished its request is told
    /// why first, if its socket takes the few bytes at once.
    fn expire(&mut self) {
        let limits = &self.limits;
        let expired: Vec<u64> = self
            .connections
            .iter()
            .filter(|(_, c)| match &c.state {
                State::Reading { .. } => c.opened.elapsed() > limits.read_deadline,
                State::Writing { since, .. } => since.elapsed() > limits.write_deadline,
                State::Draining { until, .. } => Instant::now() > *until,
                State::Working => false,
            })
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(mut connection) = self.connections.remove(&id) {
                if let State::Reading { .. } = connection.state {
                    let timeout = Response::text(408, "request timeout: the request took too long");
                    let _ = connection.stream.write(&timeout.into_bytes());
                }
            }
        }
    }

    /// Workers that answer nothing for this long while requests wait are stuck (a hung
    /// database, a bug): better to exit and be restarted than to take requests forever.
    fn check_workers(&self) -> io::Result<()> {
        if self.workers.gone {
            return Err(io::Error::other("every worker thread has ended"));
        }
        if self.workers.outstanding > 0
            && self.workers.answered_at.elapsed() > self.limits.stall_limit
        {
            return Err(io::Error::other(format!(
                "no worker has answered for {:?} with {} requests waiting",
                self.limits.stall_limit, self.workers.outstanding
            )));
        }
        Ok(())
    }
}

/// The process or the system is out of descriptors or memory: a condition that passes.
fn out_of_resources(err: &io::Error) -> bool {
    matches!(
        Errno::from_io_error(err),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    )
}

/// Errors accept(2) reports for the one connection it was taking, not for the listener.
fn failed_connection(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Interrupted
        || matches!(
            Errno::from_io_error(err),
            Some(
                Errno::CONNABORTED
                    | Errno::PROTO
                    | Errno::NOPROTOOPT
                    | Errno::HOSTDOWN
                    | Errno::NONET
                    | Errno::HOSTUNREACH
                    | Errno::OPNOTSUPP
                    | Errno::NETUNREACH
                    | Errno::NETDOWN
                    | Errno::PERM
            )
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_head: 64,
            max_body: 10,
            ..Limits::default()
        }
    }

    fn done(bytes: &[u8]) -> Request {
        match parse_request(bytes, &limits()) {
            Parse::Done(request) => request,
            Parse::NeedMore { .. } => panic!("wanted more after {bytes:?}"),
            Parse::Refuse(status, why) => panic!("refused {status} {why}"),
        }
    }

    fn refused(bytes: &[u8]) -> u16 {
        match parse_request(bytes, &limits()) {
            Parse::Refuse(status, _) => status,
            _ => panic!("not refused: {bytes:?}"),
        }
    }

    #[test]
    fn a_complete_request_carries_method_url_headers_and_body() {
        let request =
            done(b"POST /a?b=1 HTTP/1.1\r\nhost: x\r\nContent-Length: 3\r\n\r\nabcIGNORED");
        assert_eq!(request.method(), &Method::Post);
        assert_eq!(request.url(), "/a?b=1");
        assert_eq!(request.header("Host"), Some("x"));
        assert_eq!(request.body().len(), 3);
        assert_eq!(request.body(), b"abc");
    }

    #[test]
    fn an_announced_body_not_yet_sent_waits_and_may_ask_to_continue() {
        let head = b"POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nab";
        assert!(matches!(
            parse_request(head, &limits()),
            Parse::NeedMore {
                expects_continue: true
            }
        ));
        assert!(matches!(
            parse_request(b"GET / HTTP/1.1\r\nHost: x", &limits()),
            Parse::NeedMore {
                expects_continue: false
            }
        ));
    }

    #[test]
    fn oversized_heads_and_bodies_and_unframed_bodies_are_refused() {
        let long = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(100));
        assert_eq!(refused(long.as_bytes()), 431);
        let complete_but_long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(100));
        assert_eq!(refused(complete_but_long.as_bytes()), 431);
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"),
            413
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            411
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            400
        );
        assert_eq!(refused(b"GET\x01 / HTTP/1.1\r\n\r\n"), 400);
    }

    #[test]
    fn headers_that_could_split_the_response_are_dropped() {
        let response = Response {
            status: 303,
            headers: vec![
                ("Location".into(), "/x\r\nSet-Cookie: evil=1".into()),
                ("Bad Name".into(), "v".into()),
                ("X-Ok".into(), "fine".into()),
            ],
            body: b"hi".to_vec(),
        };
        let text = String::from_utf8(response.into_bytes()).unwrap();
        assert!(text.starts_with("HTTP/1.1 303 See Other\r\nContent-Length: 2\r\n"));
        assert!(text.contains("X-Ok: fine\r\n"));
        assert!(!text.contains("evil") && !text.contains("Bad Name"));
        assert!(text.ends_with("\r\n\r\nhi"));
    }

    /// `serve` on a loopback port in a thread of its own; its error, if it stops, on the channel.
    fn start(
        limits: Limits,
        handler: impl Fn(&mut Request) -> Response + Send + Sync + 'static,
    ) -> (std::net::SocketAddr, Receiver<io::Error>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (stopped, why) = mpsc::channel();
        std::thread::spawn(move || {
            if let Err(err) = serve(listener, limits, Arc::new(handler)) {
                let _ = stopped.send(err);
            }
        });
        (addr, why)
    }

    fn send(addr: std::net::SocketAddr, path: &str) -> TcpStream {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        stream
    }

    fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut answer = String::new();
        send(addr, path).read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn a_panicking_page_answers_500_and_its_worker_lives_on() {
        let one_worker = Limits {
            workers: 1,
            ..Limits::default()
        };
        let (addr, _) = start(one_worker, |request| {
            assert_ne!(request.url(), "/boom", "a bug in a page");
            Response::text(200, "fine")
        });
        assert!(get(addr, "/boom").starts_with("HTTP/1.1 500"));
        let after = get(addr, "/next");
        assert!(
            after.starts_with("HTTP/1.1 200") && after.ends_with("fine"),
            "{after}"
        );
    }

    #[test]
    fn workers_that_never_answer_stop_the_server_with_the_reason() {
        let impatient = Limits {
            workers: 1,
            stall_limit: Duration::from_millis(300),
            ..Limits::default()
        };
        let (addr, stopped) = start(impatient, |_| {
            std::thread::sleep(Duration::from_secs(60));
            Response::text(200, "too late")
        });
        let _client = send(addr, "/hangs");
        let why = stopped
            .recv_timeout(Duration::from_secs(3))
            .expect("the server stops when its workers stall");
        assert!(why.to_string().contains("no worker has answered"), "{why}");
    }

    #[test]
    fn a_client_that_never_reads_is_cut_off_at_the_write_deadline() {
        const BIG: usize = 32 << 20;
        let quick = Limits {
            write_deadline: Duration::from_millis(300),
            ..Limits::default()
        };
        let (addr, _) = start(quick, |request| Response {
            status: 200,
            headers: Vec::new(),
            body: vec![b'x'; if request.url() == "/big" { BIG } else { 2 }],
        });
        let mut slow = send(addr, "/big");
        std::thread::sleep(Duration::from_millis(1500));
        let mut taken = 0;
        let mut chunk = vec![0u8; 1 << 16];
        while let Ok(n @ 1..) = slow.read(&mut chunk) {
            taken += n;
        }
        assert!(
            taken < BIG,
            "the whole body was kept for a client that did not read"
        );
        assert!(get(addr, "/small").starts_with("HTTP/1.1 200"));
    }

    #[test]
    fn the_connection_cap_fits_under_the_open_file_limit() {
        assert_eq!(connection_cap(Some(1024)), 256);
        assert_eq!(connection_cap(Some(256)), 96);
        assert_eq!(connection_cap(Some(10)), 8);
        assert_eq!(connection_cap(None), MAX_CONNECTIONS);
    }
}
