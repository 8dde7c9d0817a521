//! Who may talk to the dashboard: a person proves who they are with the token (a bearer header,
//! the login form, or a one-time login link derived from it) and gets a session; failed logins
//! are throttled; the Host check stops DNS rebinding where reads are open; and every form's
//! CSRF token comes with a same-origin check (`forms.rs`).

use super::forms::read_form;
use super::server::{Method, Request};
use super::sessions::SESSION_TTL;
use super::token;
use super::{pages, Dashboard, Reply, COOKIE, LOGIN_FRAME};
use std::net::SocketAddr;
use std::time::Instant;

/// How the dashboard knows a person.
pub(super) enum Access {
    /// `[serve] token_file`: every request needs the token, reads too; any Host is served
    /// (proxies, remote names), the token guards it.
    Configured(String),
    /// The default: reads are open on loopback to requests addressed to the dashboard, every
    /// decision needs a login with the token generated in the state directory. `None` when it
    /// could not be created (a read-only state disk): nobody can log in, nothing is decided.
    Generated(Option<String>),
}

/// What a request proved about who sends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Caller {
    /// Logged in (a session cookie) or holding the token (a bearer header).
    Person,
    Anonymous,
}

const LOGIN_HINT: &str = "root prints a one-time login link with `orchestrator serve --login-link`";

impl Dashboard {
    fn token(&self) -> Option<&str> {
        match &self.access {
            Access::Configured(token) => Some(token),
            Access::Generated(token) => token.as_deref(),
        }
    }

    pub(super) fn reads_need_login(&self) -> bool {
        matches!(self.access, Access::Configured(_))
    }

    /// Who sends `request`. A bearer header that is not the token is a failed login: counted,
    /// and refused (401, or 429 once its source is throttled). A session cookie that names no
    /// live session is no guess worth counting (it is 256 random bits; a restart ends them
    /// all): the caller is simply anonymous.
    pub(super) fn caller(&self, request: &Request) -> Result<Caller, Reply> {
        let bearer = request
            .header("Authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(given) = bearer {
            return self
                .check_token(request, given)
                .map(|()| Caller::Person)
                .map_err(|reply| match reply.status {
                    429 => reply,
                    _ => Reply::text(401, "that bearer token is not the dashboard's token"),
                });
        }
        let now = crate::clock::now();
        let session = request.header("Cookie").and_then(|cookies| {
            cookies
                .split(';')
                .filter_map(|c| c.trim().split_once('='))
                .find(|(k, _)| *k == COOKIE)
                .map(|(_, v)| v)
        });
        match session {
            Some(id) if self.sessions.valid(id, now) => Ok(Caller::Person),
            _ => Ok(Caller::Anonymous),
        }
    }

    /// Checks a token given to log in, under the throttle.
    fn check_token(&self, request: &Request, given: &str) -> Result<(), Reply> {
        self.admit(request)?;
        match self.token() {
            Some(token) if constant_time_eq(given, token) => {
                self.throttle.succeeded(request.peer());
                Ok(())
            }
            _ => {
                self.throttle.failed(request.peer(), Instant::now());
                Err(self.login_page("That token is not right.", 403))
            }
        }
    }

    /// 429 while the request's source (or everyone) has failed too often.
    fn admit(&self, request: &Request) -> Result<(), Reply> {
        self.throttle
            .admit(request.peer(), Instant::now())
            .map_err(|wait| {
                let seconds = wait.as_secs().max(1);
                Reply {
                    headers: vec![("Retry-After".into(), seconds.to_string())],
                    ..Reply::text(
                        429,
                        &format!(
                            "too many failed logins: try again in {seconds} s (the limits: {} per address and {} in all within {} minutes)",
                            super::throttle::PER_SOURCE,
                            super::throttle::GLOBAL,
                            super::throttle::WINDOW.as_secs() / 60
                        ),
                    )
                }
            })
    }

    /// `GET /login` shows the form; `GET /login?code=…[&next=/PATH]` is a login link (then the
    /// page `next` names, on this dashboard only); `POST /login` the form.
    pub(super) fn login(&self, request: &mut Request, method: &Method, query: &str) -> Reply {
        let param = |name: &str| {
            form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let code = param("code");
        let next = param("next")
            .filter(|path| is_local_path(path))
            .unwrap_or_else(|| "/".to_string());
        let outcome = match (method, code) {
            (Method::Get, None) => return self.login_page("", 200),
            (Method::Get, Some(code)) => self.check_link(request, &code),
            (Method::Post, _) => {
                let form = read_form(request);
                let given = form.get("token").unwrap_or_default().trim().to_string();
                self.check_token(request, &given)
            }
            _ => return Reply::text(405, "method not allowed"),
        };
        match outcome {
            Ok(()) => self.open_session(&next),
            Err(refusal) => refusal,
        }
    }

    /// A login link is checked even while logins are throttled: its code is a 256-bit MAC
    /// no guesser can hit, and root must never be locked out by someone else's failures.
    fn check_link(&self, request: &Request, code: &str) -> Result<(), Reply> {
        let Some(token) = self.token() else {
            return Err(self.login_page(
                "Nobody can log in: the dashboard has no token (see its log).",
                503,
            ));
        };
        let now = crate::clock::now();
        let verified = token::verify_code(token, code, now)
            .ok()
            .filter(|(nonce, expiry)| self.sessions.use_link(nonce, *expiry, now));
        if verified.is_none() {
            self.throttle.failed(request.peer(), Instant::now());
            return Err(self.login_page(
                "That login link is not valid: it works once, for 10 minutes. Ask root for a new one.",
                403,
            ));
        }
        self.throttle.succeeded(request.peer());
        Ok(())
    }

    /// A new session in an `HttpOnly; SameSite=Strict` cookie, then the page at `next`.
    fn open_session(&self, next: &str) -> Reply {
        let id = self.sessions.open(crate::clock::now());
        let cookie = format!(
            "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            SESSION_TTL as u64
        );
        Reply {
            headers: vec![
                ("Set-Cookie".into(), cookie),
                ("Location".into(), next.into()),
            ],
            ..Reply::text(303, "")
        }
    }

    fn login_page(&self, message: &str, status: u16) -> Reply {
        Reply::html(pages::login(message, LOGIN_HINT, &LOGIN_FRAME)).with_status(status)
    }

    /// A decision asked for by someone who has not logged in.
    pub(super) fn login_required(&self) -> Reply {
        Reply::text(
            401,
            &format!(
                "log in first: decisions need a person who proved who they are (open /login; {LOGIN_HINT})"
            ),
        )
    }

    /// Where reads are open, anyone who reaches the loopback address may read, so the request
    /// must also be *meant* for this dashboard. A DNS-rebinding page reaches 127.0.0.1 under its
    /// own name and the browser sends that name as Host (and as Origin, so the same-origin check
    /// alone would pass, and the page could read what a person sees). Every path is refused,
    /// /health, /metrics and /login too: what they tell is not for other sites to read. With
    /// `[serve] token_file`, any Host is fine (remote access goes through proxies and names);
    /// the token guards every request.
    pub(super) fn addressed_to_us(&self, request: &Request) -> Result<(), Reply> {
        if self.reads_need_login() {
            return Ok(());
        }
        let host = request.header("Host").unwrap_or("");
        if names_listener(host, self.listen) {
            return Ok(());
        }
        let port = self.listen.port();
        Err(Reply::text(
            421,
            &format!(
                "misdirected request: Host `{host}` is not this dashboard. Without [serve] token_file \
                 only requests addressed to {} or localhost:{port} are answered (a page served \
                 under another name could be a DNS-rebinding attack)",
                self.listen
            ),
        ))
    }

    /// Same-origin check: a browser's Origin (or Referer) must name the host it talks to.
    pub(super) fn same_origin(&self, request: &Request) -> bool {
        let host = request.header("Host").unwrap_or("");
        let from = request
            .header("Origin")
            .or_else(|| request.header("Referer"));
        match from {
            None => true,
            Some(origin) => origin
                .split_once("://")
                .map(|(_, rest)| rest.split('/').next() == Some(host))
                .unwrap_or(false),
        }
    }
}

/// A path on this dashboard, never another site (`//host`, `/\\host`) nor a header break: where
/// a login link may send the browser.
pub(super) fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.bytes().all(|b| b.is_ascii_graphic())
}

pub(super) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whether a Host header names the listen address itself or `localhost` on its port, as a
/// browser on this host would send it (without the port when it is 80).
pub(super) fn names_listener(host: &str, listen: SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let port = listen.port();
    let ip = match listen {
        SocketAddr::V4(v4) => v4.ip().to_string(),
        SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
    };
    [ip, "localhost".to_string()]
        .iter()
        .any(|name| host == format!("{name}:{port}") || (port == 80 && host == *name))
}
