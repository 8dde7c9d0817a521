//! Matrix through the client-server API: `PUT /_matrix/client/v3/rooms/{room}/send/
//! m.room.message/{txnId}` with the access token as a bearer token. The message's idempotency
//! key is the transaction id, so a resend after a crash is the same event to the homeserver
//! (it answers with the first one's id and shows it once).

use super::{clipped, http, NotifyError, Outbound};
use crate::config::{MatrixConfig, MATRIX_TOKEN_VARIABLE};
use serde_json::json;
use std::time::Duration;

/// A Matrix event may be 64 KiB in all.
const BODY_LIMIT: usize = 30_000;

pub fn send(
    config: &MatrixConfig,
    message: &Outbound,
    deadline: Duration,
) -> Result<(), NotifyError> {
    let token =
        http::secret(config.token_file.as_deref(), MATRIX_TOKEN_VARIABLE)?.ok_or_else(|| {
            NotifyError::Permanent(format!(
            "no Matrix access token: neither `token_file` nor {MATRIX_TOKEN_VARIABLE} gives one"
        ))
        })?;
    let url = format!(
        "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
        config.homeserver.trim_end_matches('/'),
        http::path_segment(&config.room),
        http::path_segment(&message.key)
    );
    let shown = format!(
        "matrix {} room {}",
        http::origin(&config.homeserver),
        config.room
    );
    let body = json!({ "msgtype": "m.text", "body": clipped(&message.body, BODY_LIMIT) });
    http::send(
        &http::Request {
            method: http::Method::Put,
            url: &url,
            shown: &shown,
            headers: vec![
                ("Content-Type", "application/json".to_string()),
                ("Authorization", format!("Bearer {token}")),
            ],
            body: &body.to_string(),
        },
        deadline,
    )
}
