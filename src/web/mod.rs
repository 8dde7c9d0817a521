//! `serve`: the dashboard and its JSON API, on a small server of its own (`server.rs`) that
//! no client can freeze or kill.
//! Pages read through a read-only connection; the only writes are a person's decisions
//! (acknowledge, approve, dismiss, resolve), each one store transaction. The web process never
//! acts on the host: an approved plan is run by the next `fix`.

mod auth;
mod cache;
mod charts;
mod decisions;
mod fleet;
mod forms;
mod html;
mod listing;
mod pages;
mod patterns;
mod sd_notify;
mod server;
mod sessions;
mod silences;
mod throttle;
mod token;

use crate::config::Config;
use crate::exit::{EXIT_FAILURE, EXIT_USAGE};
// What reads a request's query and form, for the property tests (src/properties.rs).
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use auth::{Access, Caller};
use serde_json::json;
use server::{Method, Request, Response};
use std::cell::RefCell;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
#[cfg(test)]
pub(crate) use {
    forms::Form,
    listing::{api_filter, IncidentList},
    silences::requested as requested_silence,
};

/// Larger request bodies are refused (413): forms here are a note and a plan.
const MAX_BODY: usize = 64 * 1024;
const WORKERS: usize = 4;
/// The session cookie: a random session id, never the token.
const COOKIE: &str = "orchestrator_session";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0} without a token: anyone who reaches it could approve plans. Set [serve] token_file, or listen on 127.0.0.1"
    )]
    TokenRequired(SocketAddr),
    #[error("bad listen address `{0}`: expected IP:PORT, like 127.0.0.1:8888")]
    BadListen(String),
    // `cause`, not `source`: the message carries it, and `{:#}` must not print it twice.
    #[error("cannot read the token file {path}: {cause}")]
    TokenFile {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("the token file {0} is empty")]
    EmptyToken(PathBuf),
    #[error("cannot create the dashboard's token {path}: {cause}")]
    GeneratedToken {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("[context] redact: {0}")]
    BadRedact(regex::Error),
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, String),
    #[error("the dashboard on {0} stopped: {1}")]
    Stopped(SocketAddr, std::io::Error),
}

impl ServeError {
    /// A refused address or token is the user's to fix (2); a listener that cannot be opened,
    /// or a server that stopped, failed (1).
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::TokenRequired(_)
            | ServeError::BadListen(_)
            | ServeError::TokenFile { .. }
            | ServeError::EmptyToken(_)
            | ServeError::BadRedact(_) => EXIT_USAGE,
            ServeError::Listen(..)
            | ServeError::Stopped(..)
            | ServeError::GeneratedToken { .. } => EXIT_FAILURE,
        }
    }
}

pub struct Dashboard {
    config: Config,
    db: PathBuf,
    /// The address it listens on: where reads are open, the only name a request may address.
    listen: SocketAddr,
    access: Access,
    sessions: sessions::Sessions,
    throttle: throttle::Throttle,
    /// Shown only to a person who logged in, in every form they may send.
    csrf: String,
    /// The host's name in every page's header (`Config::host_name`: the name mail and alerts
    /// use), read once at start.
    host: String,
    /// The config's `[context] redact` rules with the built-in ones: what a person writes here
    /// (a note, a plan) is masked before it is stored, as on the command line.
    redactor: crate::redact::Redactor,
    /// Metrics cost a few aggregate queries; under load they are shared for a few seconds.
    metrics_cache: cache::Cached<u64, Metrics>,
    /// The overview's 30 days by outcome read every incident of the month: kept a minute.
    outcomes_cache: cache::Cached<i64, Vec<crate::store::DayOutcomes>>,
}

/// How long the overview's pictures are reused: they count whole days.
const OUTCOMES_TTL: Duration = Duration::from_secs(60);

/// How long computed metrics are reused.
const METRICS_TTL: Duration = Duration::from_secs(10);

/// Checks the address and the token before anything listens (a usage error, exit 2).
pub fn prepare(
    config: Config,
    db: PathBuf,
    listen: &str,
) -> Result<(Dashboard, SocketAddr), ServeError> {
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| ServeError::BadListen(listen.to_string()))?;
    let access = match &config.serve.token_file {
        Some(path) => Access::Configured(configured_token(path)?),
        None if !addr.ip().is_loopback() => return Err(ServeError::TokenRequired(addr)),
        // A state disk that cannot take the token still lets the dashboard show what is
        // recorded; nobody can decide anything until it can be written.
        None => Access::Generated(
            token::generated(&db)
                .map_err(|err| {
                    log::error!(
                        "cannot create the dashboard's token {}: {err}; nobody can log in to decide anything until it can be written",
                        token::generated_path(&db).display()
                    )
                })
                .ok(),
        ),
    };
    let redactor =
        crate::redact::Redactor::new(&config.context.redact).map_err(ServeError::BadRedact)?;
    let csrf = crate::random::random_hex(32);
    let host = config.host_name();
    Ok((
        Dashboard {
            config,
            db,
            listen: addr,
            access,
            sessions: sessions::Sessions::default(),
            throttle: throttle::Throttle::default(),
            csrf,
            host,
            redactor,
            metrics_cache: cache::Cached::new(METRICS_TTL),
            outcomes_cache: cache::Cached::new(OUTCOMES_TTL),
        },
        addr,
    ))
}

/// The token of `[serve] token_file`, trimmed; an empty file is refused.
fn configured_token(path: &std::path::Path) -> Result<String, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ServeError::TokenFile {
        path: path.to_path_buf(),
        cause,
    })?;
    let token = text.trim().to_string();
    if token.is_empty() {
        return Err(ServeError::EmptyToken(path.to_path_buf()));
    }
    Ok(token)
}

/// How long a login link works, in seconds.
pub const LOGIN_LINK_TTL: f64 = token::LINK_TTL;

/// A one-time login link to the dashboard, valid for 10 minutes (`serve --login-link`), on
/// the token `serve` uses: `[serve] token_file`'s, or the one generated beside `db` (created
/// now if `serve` never ran). It names `base` (`http://LISTEN`, or where people reach the
/// dashboard).
pub fn login_link(config: &Config, db: &std::path::Path, base: &str) -> Result<String, ServeError> {
    let token = match &config.serve.token_file {
        Some(path) => configured_token(path)?,
        None => token::generated(db).map_err(|cause| ServeError::GeneratedToken {
            path: token::generated_path(db),
            cause,
        })?,
    };
    let code = token::login_code(&token, crate::clock::now());
    Ok(format!("{}/login?code={code}", base.trim_end_matches('/')))
}

/// Serves until the process is stopped, or returns why it could not go on (the listener
/// failed, the workers stalled) so the process exits non-zero and its supervisor restarts it.
pub fn run(dashboard: Dashboard, addr: SocketAddr) -> Result<(), ServeError> {
    let listener = TcpListener::bind(addr).map_err(|e| ServeError::Listen(addr, e.to_string()))?;
    let mut dashboard = dashboard;
    // Port 0 binds a free port: requests name that one.
    if let Ok(bound) = listener.local_addr() {
        dashboard.listen = bound;
    }
    let dashboard = Arc::new(dashboard);
    log::warn!(
        "dashboard listening on http://{addr}{}",
        if dashboard.reads_need_login() {
            " (token required)"
        } else {
            " (reads open on loopback; decisions need a login)"
        }
    );
    let limits = server::Limits {
        max_body: MAX_BODY,
        workers: WORKERS,
        ..server::Limits::default()
    };
    let handler = move |request: &mut Request| dashboard.handle(request);
    server::serve(listener, limits, Arc::new(handler)).map_err(|e| ServeError::Stopped(addr, e))
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn html(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body,
            headers: Vec::new(),
        }
    }
    fn json(value: &serde_json::Value) -> Reply {
        let value = crate::document::document(value);
        Reply {
            status: 200,
            content_type: "application/json",
            body: value.to_string(),
            headers: Vec::new(),
        }
    }
    fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_string(),
            headers: Vec::new(),
        }
    }
    fn redirect(to: &str) -> Reply {
        Reply {
            status: 303,
            content_type: "text/plain",
            body: String::new(),
            headers: vec![("Location".into(), to.into())],
        }
    }
    fn with_status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }
}

thread_local! {
    /// Each worker keeps its own read-only connection.
    static READER: RefCell<Option<Store>> = const { RefCell::new(None) };
}

impl Dashboard {
    fn handle(&self, request: &mut Request) -> Response {
        let reply = self.route(request);
        let security = [
            ("Content-Type", reply.content_type),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("Cache-Control", "no-store"),
        ];
        let headers = security
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .chain(reply.headers)
            .collect();
        Response {
            status: reply.status,
            headers,
            body: reply.body.into_bytes(),
        }
    }

    fn route(&self, request: &mut Request) -> Reply {
        let url = request.url().to_string();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let segments: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let method = request.method().clone();
        if let Err(refusal) = self.addressed_to_us(request) {
            return refusal;
        }
        if segments == ["login"] {
            return self.login(request, &method, query);
        }
        let caller = match self.caller(request) {
            Ok(caller) => caller,
            Err(refusal) => return refusal,
        };
        if caller == Caller::Anonymous && self.reads_need_login() {
            return match segments.first() {
                Some(&"api") | Some(&"health") | Some(&"metrics") => {
                    Reply::text(401, "a token is required (Authorization: Bearer TOKEN)")
                }
                _ if method == Method::Get => Reply::redirect("/login"),
                _ => Reply::text(401, "a token is required"),
            };
        }
        if caller == Caller::Anonymous && method != Method::Get {
            return self.login_required();
        }
        // The CSRF token, and with it every form, only for a person who may decide.
        let csrf = (caller == Caller::Person).then_some(self.csrf.as_str());
        match (method, segments.as_slice()) {
            (Method::Get, []) => self.read(|s| {
                let today = charts::today();
                let per_day = self
                    .outcomes_cache
                    .get(today, || s.outcomes_per_day(charts::first_day_at(today)))?;
                let metrics = self.metrics(s, WEEK)?;
                pages::overview(s, &metrics, &per_day, today, &self.frame(s)?).map(Reply::html)
            }),
            (Method::Get, ["incidents"]) => match listing::IncidentList::parse(query) {
                Ok(list) => {
                    self.read(|s| pages::incidents(s, &list, &self.frame(s)?).map(Reply::html))
                }
                Err(problem) => Reply::text(400, &problem),
            },
            (Method::Get, ["incidents", id]) => match id.parse() {
                Ok(id) => self.read(|s| {
                    pages::incident(s, id, csrf, &self.config, &self.frame(s)?).map(Reply::html)
                }),
                Err(_) => Reply::text(404, "no such incident"),
            },
            (Method::Get, ["patterns"]) => {
                self.read(|s| patterns::page_html(s, &self.csrf, &self.frame(s)?).map(Reply::html))
            }
            (Method::Post, ["patterns", id, action]) => self.pattern_change(request, id, action),
            (Method::Get, ["checks"]) => {
                self.read(|s| pages::checks(s, &self.frame(s)?).map(Reply::html))
            }
            (Method::Get, ["fleet"]) => self.fleet(),
            (Method::Get, ["health"]) => self.health(),
            (Method::Get, ["metrics"]) => self.read(|s| {
                let mut totals = s.totals(self.config.serve.stale_after.as_secs_f64())?;
                totals.breaker = s.breaker(&self.config.policy.budget)?;
                Ok(Reply {
                    content_type: "text/plain; version=0.0.4",
                    ..Reply::text(
                        200,
                        &crate::metrics::prometheus(&totals, &s.check_states()?, &self.host),
                    )
                })
            }),
            (Method::Get, ["api", "metrics"]) => self.read(|s| {
                let mut document =
                    serde_json::to_value(self.metrics(s, since(query))?).unwrap_or_default();
                document["host"] = self.host.clone().into();
                Ok(Reply::json(&document))
            }),
            (Method::Get, ["api", "incidents"]) => match listing::api_filter(query) {
                Ok(filter) => self.read(|s| {
                    Ok(Reply::json(&json!({
                        "incidents": s.incidents(&filter)?,
                        "total": s.count_incidents(&filter)?,
                        "limit": filter.limit,
                        "offset": filter.offset,
                    })))
                }),
                Err(problem) => Reply::text(400, &problem),
            },
            (Method::Get, ["api", "incidents", id]) => match id.parse::<i64>() {
                Ok(id) => self.read(|s| {
                    Ok(Reply::json(
                        &serde_json::to_value(s.incident_record(id)?).unwrap_or_default(),
                    ))
                }),
                Err(_) => Reply::text(404, "no such incident"),
            },
            (Method::Post, ["incidents", id, action]) => self.decide(request, id, action),
            (Method::Get, ["silences"]) => self.read(|s| {
                silences::page_html(s, &self.config, csrf, &self.frame(s)?).map(Reply::html)
            }),
            (Method::Post, ["silences"]) => {
                self.silence(request, |s, form| silences::add(s, &self.config, form))
            }
            (Method::Post, ["silences", id, "expire"]) => {
                self.silence(request, |s, _| silences::expire(s, id))
            }
            (Method::Get, _) => Reply::text(404, "not found"),
            _ => Reply::text(405, "method not allowed"),
        }
    }

    fn read(&self, render: impl FnOnce(&Store) -> Result<Reply, StoreError>) -> Reply {
        READER.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                match Store::open_readonly(&self.db) {
                    Ok(store) => *slot = Some(store),
                    Err(err) => return Reply::text(503, &format!("database unavailable: {err}")),
                }
            }
            let Some(store) = slot.as_ref() else {
                return Reply::text(503, "database unavailable");
            };
            let rendered = render(store);
            // A snapshot (read-only or full state disk) is read afresh for each page, so a
            // remount or freed space shows at once.
            if store.is_snapshot() {
                *slot = None;
            }
            match rendered {
                Ok(reply) => reply,
                Err(StoreError::NoIncident(id)) => Reply::text(404, &format!("no incident {id}")),
                Err(err) => {
                    *slot = None;
                    Reply::text(500, &format!("database error: {err}"))
                }
            }
        })
    }

    /// The header of every page: the host's name, when the last cycle finished and whether
    /// that is too long ago, by the rule `/health` answers with.
    fn frame(&self, store: &Store) -> Result<html::Frame, StoreError> {
        let stale_after = self.config.serve.stale_after.as_secs_f64();
        let finished_at = store.last_cycle_finished_at()?;
        Ok(html::Frame {
            host: self.host.clone(),
            fleet: self.config.fleet.is_some(),
            cycle: Some(html::CycleState {
                finished_at,
                stale: !cycle_is_fresh(finished_at, crate::clock::now(), stale_after),
                stale_after,
            }),
        })
    }

    /// Computed at most once per TTL: the lock is held while computing, so a burst of requests
    /// waits for one computation instead of running one each.
    fn metrics(&self, store: &Store, since: f64) -> Result<Metrics, StoreError> {
        self.metrics_cache.get(since as u64, || {
            let mut metrics = crate::metrics::compute(store, since)?;
            metrics.circuit_breaker = store.breaker(&self.config.policy.budget)?;
            Ok(metrics)
        })
    }

    /// The fleet page, from the central database (bounded by `[fleet] connect_timeout` and
    /// `statement_timeout`); 404 without `[fleet]`, 503 saying why when it cannot be read.
    fn fleet(&self) -> Reply {
        let Some(fleet) = &self.config.fleet else {
            return Reply::text(404, "no [fleet] database is configured on this host");
        };
        let view = match crate::fleet::FleetView::read(fleet) {
            Ok(view) => view,
            Err(err) => return Reply::text(503, &format!("the fleet page cannot be shown: {err}")),
        };
        self.read(|s| Ok(Reply::html(fleet::page_html(fleet, &view, &self.frame(s)?))))
    }

    /// 200 with `"status": "ok"` only when the database reads and a cycle finished within
    /// `[serve] stale_after`; a stopped timer or a cycle that keeps failing is a 503 "stale".
    fn health(&self) -> Reply {
        let stale_after = self.config.serve.stale_after.as_secs_f64();
        let reply = self.read(|s| {
            let finished_at = s.last_cycle_finished_at()?;
            let fresh = cycle_is_fresh(finished_at, crate::clock::now(), stale_after);
            let body = json!({
                "status": if fresh { "ok" } else { "stale" },
                "database": true,
                "last_cycle_finished_at": finished_at,
                "stale_after_seconds": stale_after,
                "open_escalations": s.count_open_escalations()?,
                // Open: [policy] budget is reached and new plans wait for a person. A state of
                // the healer, not of the dashboard: the status code does not change.
                "circuit_breaker": s.breaker(&self.config.policy.budget)?,
            });
            Ok(Reply::json(&body).with_status(if fresh { 200 } else { 503 }))
        });
        // A JSON reply is a verdict on the cycle (ok or stale); anything else is a database error.
        if reply.content_type == "application/json" {
            return reply;
        }
        Reply::json(&json!({ "status": "error", "database": false, "error": reply.body }))
            .with_status(503)
    }
}

/// Whether the last cycle finished recently enough; never having finished one is not fresh.
fn cycle_is_fresh(finished_at: Option<f64>, now: f64, stale_after: f64) -> bool {
    finished_at.is_some_and(|at| now - at <= stale_after)
}

/// `?since=DURATION` of `/api/metrics`: a week when absent or not a duration.
pub(crate) fn since(query: &str) -> f64 {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "since")
        .and_then(|(_, v)| v.parse::<crate::duration::Duration>().ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or(WEEK)
}

/// Before the token, a page tells nothing about the host: not its name, not its cycles.
const LOGIN_FRAME: html::Frame = html::Frame {
    host: String::new(),
    fleet: false,
    cycle: None,
};

const WEEK: f64 = 7.0 * 86_400.0;

#[cfg(test)]
mod tests {
    use super::auth::names_listener;
    use super::{cycle_is_fresh, prepare, ServeError};
    use crate::exit::{EXIT_FAILURE, EXIT_USAGE};

    #[test]
    fn a_refused_address_or_token_is_the_users_to_fix_and_the_rest_a_failure() {
        let addr: std::net::SocketAddr = "0.0.0.0:8888".parse().unwrap();
        let usage = [
            ServeError::TokenRequired(addr),
            ServeError::BadListen("x".into()),
            ServeError::TokenFile {
                path: "t".into(),
                cause: std::io::Error::from(std::io::ErrorKind::NotFound),
            },
            ServeError::EmptyToken("t".into()),
        ];
        for err in usage {
            assert_eq!(err.exit_code(), EXIT_USAGE, "{err}");
        }
        let failures = [
            ServeError::Listen(addr, "in use".into()),
            ServeError::Stopped(addr, std::io::Error::from(std::io::ErrorKind::Other)),
        ];
        for err in failures {
            assert_eq!(err.exit_code(), EXIT_FAILURE, "{err}");
        }
    }

    #[test]
    fn a_token_file_that_cannot_be_read_names_its_cause_once() {
        let mut config = crate::config::Config::parse("t.toml", "").unwrap();
        config.serve.token_file = Some("/nonexistent/token".into());
        let Err(err) = prepare(config, "state.db".into(), "127.0.0.1:0") else {
            panic!("a missing token file was accepted");
        };
        let said = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(said.matches("(os error 2)").count(), 1, "{said}");
    }

    #[test]
    fn a_cycle_is_fresh_within_stale_after_and_never_without_one() {
        assert!(cycle_is_fresh(Some(1000.0), 1000.0 + 900.0, 900.0));
        assert!(!cycle_is_fresh(Some(1000.0), 1000.0 + 901.0, 900.0));
        assert!(!cycle_is_fresh(None, 1000.0, 900.0));
    }

    #[test]
    fn a_login_link_leads_only_to_a_page_of_this_dashboard() {
        for ours in ["/", "/incidents/1", "/silences?x=1"] {
            assert!(super::auth::is_local_path(ours), "{ours}");
        }
        for other in [
            "",
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "/a\r\nSet-Cookie: x",
            "incidents",
        ] {
            assert!(!super::auth::is_local_path(other), "{other:?}");
        }
    }

    #[test]
    fn only_the_listen_address_and_localhost_are_our_names() {
        let v4 = "127.0.0.1:8888".parse().unwrap();
        for ours in ["127.0.0.1:8888", "localhost:8888", "LocalHost:8888"] {
            assert!(names_listener(ours, v4), "{ours}");
        }
        for other in [
            "evil.example:8888",
            "127.0.0.1:8889",
            "127.0.0.1",
            "localhost",
            "localhost.:8888",
            "127.0.0.2:8888",
            "",
            "127.0.0.1:8888.evil.example",
        ] {
            assert!(!names_listener(other, v4), "{other}");
        }
        let v6 = "[::1]:8888".parse().unwrap();
        assert!(names_listener("[::1]:8888", v6));
        assert!(!names_listener("::1:8888", v6));
        let default_port = "127.0.0.1:80".parse().unwrap();
        assert!(names_listener("127.0.0.1", default_port));
        assert!(names_listener("localhost:80", default_port));
        assert!(!names_listener("evil.example", default_port));
    }
}
