//! Who may talk to the dashboard: the token (bearer or cookie, compared in constant time),
//! the login form, the Host check that stops DNS rebinding without a token, and the
//! same-origin check every form's CSRF token comes with.

use super::forms::read_form;
use super::server::{Method, Request};
use super::{pages, Dashboard, Reply, COOKIE, LOGIN_FRAME};
use std::net::SocketAddr;

impl Dashboard {
    pub(super) fn authenticated(&self, request: &Request) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = request
            .header("Authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let cookie = request.header("Cookie").and_then(|cookies| {
            cookies
                .split(';')
                .filter_map(|c| c.trim().split_once('='))
                .find(|(k, _)| *k == COOKIE)
                .map(|(_, v)| v)
        });
        [bearer, cookie]
            .into_iter()
            .flatten()
            .any(|given| constant_time_eq(given, token))
    }

    pub(super) fn login(&self, request: &mut Request, method: &Method) -> Reply {
        if *method == Method::Get {
            return Reply::html(pages::login("", &LOGIN_FRAME));
        }
        let form = read_form(request);
        match (&self.token, form.get("token")) {
            (Some(token), Some(given)) if constant_time_eq(given, token) => {
                let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
                Reply {
                    headers: vec![
                        ("Set-Cookie".into(), cookie),
                        ("Location".into(), "/".into()),
                    ],
                    ..Reply::redirect("/")
                }
            }
            (None, _) => Reply::redirect("/"),
            _ => {
                Reply::html(pages::login("That token is not right.", &LOGIN_FRAME)).with_status(403)
            }
        }
    }

    /// Without a token, anyone who reaches the loopback address is trusted, so the request must
    /// also be *meant* for this dashboard. A DNS-rebinding page reaches 127.0.0.1 under its own
    /// name and the browser sends that name as Host (and as Origin, so the same-origin check
    /// alone would pass, and the page could read the CSRF token). Every path is refused,
    /// /health and /metrics too: what they tell is not for other sites to read. With a token,
    /// any Host is fine (remote access goes through proxies and names); the token guards it.
    pub(super) fn addressed_to_us(&self, request: &Request) -> Result<(), Reply> {
        if self.token.is_some() {
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
