//! A decision's form: the body read within its bound, and the CSRF token and origin checked
//! before anything in it is believed.

use super::auth::constant_time_eq;
use super::server::Request;
use super::{Dashboard, Reply, MAX_BODY};
use std::io::Read;

pub(super) struct Form(Vec<(String, String)>);

impl Form {
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

pub(super) fn read_form(request: &mut Request) -> Result<Form, Reply> {
    if request.body_length().is_some_and(|n| n > MAX_BODY) {
        return Err(Reply::text(413, "request body too large"));
    }
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body);
    if read.is_err() || body.len() > MAX_BODY {
        return Err(Reply::text(413, "request body too large"));
    }
    Ok(Form(form_urlencoded::parse(&body).into_owned().collect()))
}

impl Dashboard {
    /// A decision's form, once its CSRF token and origin are checked.
    pub(super) fn checked_form(&self, request: &mut Request) -> Result<Form, Reply> {
        let form = read_form(request)?;
        let csrf_ok = form
            .get("csrf")
            .is_some_and(|given| constant_time_eq(given, &self.csrf));
        if !csrf_ok || !self.same_origin(request) {
            return Err(Reply::text(
                403,
                "forbidden: missing or wrong CSRF token, or a cross-site request",
            ));
        }
        Ok(form)
    }
}
