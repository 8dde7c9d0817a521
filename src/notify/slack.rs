//! Slack's incoming webhook: a POST of `{"text": …}` to the URL Slack gave, which is itself
//! the secret (read from `url_file` or ORCHESTRATOR_SLACK_URL, never stored; errors name only
//! its host). Slack has no idempotency key: a message whose answer was lost may show twice.

use super::{clipped, http, NotifyError, Outbound};
use crate::config::{SlackConfig, SLACK_URL_VARIABLE};
use serde_json::json;
use std::time::Duration;

/// Slack cuts a message's text at 40 000 characters; far less is readable.
const TEXT_LIMIT: usize = 12_000;

pub fn post(
    config: &SlackConfig,
    message: &Outbound,
    deadline: Duration,
) -> Result<(), NotifyError> {
    let url = http::secret(config.url_file.as_deref(), SLACK_URL_VARIABLE)?.ok_or_else(|| {
        NotifyError::Permanent(format!(
            "no Slack URL: neither `url_file` nor {SLACK_URL_VARIABLE} gives one"
        ))
    })?;
    let text = clipped(&escaped(&message.body), TEXT_LIMIT);
    let shown = format!("slack ({})", http::origin(&url));
    http::send(
        &http::Request {
            method: http::Method::Post,
            url: &url,
            shown: &shown,
            headers: vec![("Content-Type", "application/json".to_string())],
            body: &json!({ "text": text }).to_string(),
        },
        deadline,
    )
}

/// Slack reads `<…>` as a link or a mention and `&` as an entity; a summary is plain text.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_summary_cannot_mention_the_channel() {
        assert_eq!(
            super::escaped("<!channel> a & b > c"),
            "&lt;!channel&gt; a &amp; b &gt; c"
        );
    }
}
