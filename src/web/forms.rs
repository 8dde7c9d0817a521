//! A decision's form: the body read within its bound, and the CSRF token and origin checked
//! before anything in it is believed.

use super::auth::constant_time_eq;
use super::server::Request;
use super::{Dashboard, Reply};

pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// A urlencoded body, as it came: any bytes make some form.
    pub(crate) fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The form in a request's body; the server has already refused a body over `MAX_BODY` (413).
pub(super) fn read_form(request: &Request) -> Form {
    Form::parse(request.body())
}

impl Dashboard {
    /// A decision's form, once its CSRF token and origin are checked.
    pub(super) fn checked_form(&self, request: &mut Request) -> Result<Form, Reply> {
        let form = read_form(request);
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
