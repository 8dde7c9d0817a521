//! What the HTTP channels share: one request within an overall deadline, the answer sorted into
//! sent, transient or permanent, and the secrets they send read from a file or the environment.

use super::NotifyError;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// One HTTP request of a channel. `shown` names the endpoint in errors: a Slack URL is itself
/// the secret, so errors say `slack (hooks.slack.com)`, never the URL.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    pub shown: &'a str,
    pub headers: Vec<(&'static str, String)>,
    pub body: &'a str,
}

#[derive(Clone, Copy)]
pub enum Method {
    Post,
    Put,
}

/// Sends `request`; `deadline` bounds the whole exchange (connect, send, answer). A 2xx is
/// sent; 408, 429 and 5xx are worth retrying; any other 4xx says our request is wrong and
/// retrying cannot help. No answer, a refused connection or a timeout is transient.
pub fn send(request: &Request, deadline: Duration) -> Result<(), NotifyError> {
    // A 4xx/5xx is an answer whose words we keep, so statuses are not turned into errors.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(deadline))
        .http_status_as_error(false)
        .user_agent(concat!("orchestrator/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let transient = |err: ureq::Error| {
        let cause = cause_of(&err, deadline).replace(request.url, request.shown);
        NotifyError::Transient(format!("{}: {cause}", request.shown))
    };
    let response = match request.method {
        Method::Post => {
            let mut builder = agent.post(request.url);
            for (name, value) in &request.headers {
                builder = builder.header(*name, value);
            }
            builder.send(request.body).map_err(transient)?
        }
        Method::Put => {
            let mut builder = agent.put(request.url);
            for (name, value) in &request.headers {
                builder = builder.header(*name, value);
            }
            builder.send(request.body).map_err(transient)?
        }
    };
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let code = status.as_u16();
    let error = format!("{} answered {code}: {}", request.shown, excerpt(response));
    if status.is_client_error() && code != 408 && code != 429 {
        Err(NotifyError::Permanent(error))
    } else {
        Err(NotifyError::Transient(error))
    }
}

/// ureq names the kind before an I/O cause ("io: Connection refused"); keep the cause only.
fn cause_of(err: &ureq::Error, deadline: Duration) -> String {
    match err {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Timeout(_) => format!("no answer within {deadline:?}"),
        other => other.to_string(),
    }
}

/// The first 200 characters of an error answer, reading no more than 4 KiB of it.
fn excerpt(response: ureq::http::Response<ureq::Body>) -> String {
    let mut body = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(4096)
        .read_to_end(&mut body);
    String::from_utf8_lossy(&body)
        .chars()
        .take(200)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The larger a secret file may be; a token or a URL is far smaller.
const SECRET_FILE_LIMIT: u64 = 64 * 1024;

/// A channel's secret: the first line of `file`, else the variable's value, else None. A file
/// named but unreadable (or not a regular file) is a permanent failure: retrying cannot help
/// until the admin fixes it, and the error says so on the incident's page.
pub fn secret(file: Option<&Path>, variable: &str) -> Result<Option<String>, NotifyError> {
    let Some(path) = file else {
        return Ok(std::env::var(variable)
            .ok()
            .filter(|v| !v.trim().is_empty()));
    };
    let unreadable =
        |why: String| NotifyError::Permanent(format!("cannot read {}: {why}", path.display()));
    let opened = std::fs::File::open(path).map_err(|e| unreadable(e.to_string()))?;
    let metadata = opened.metadata().map_err(|e| unreadable(e.to_string()))?;
    if !metadata.is_file() {
        return Err(unreadable("not a regular file".into()));
    }
    let mut text = String::new();
    opened
        .take(SECRET_FILE_LIMIT)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(e.to_string()))?;
    let first = text.lines().next().unwrap_or("").trim().to_string();
    if first.is_empty() {
        return Err(unreadable("it is empty".into()));
    }
    Ok(Some(first))
}

/// The scheme and host of `url`, for naming an endpoint whose URL is a secret.
pub fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters: a path segment such as a
/// Matrix room id (`!abc:example.org`) or a transaction id.
pub fn path_segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_hides_the_path_and_the_credentials() {
        assert_eq!(
            origin("https://hooks.slack.com/services/T0/B0/SECRET"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            origin("http://u:p@127.0.0.1:8080/x?y"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn a_room_id_is_encoded_as_one_path_segment() {
        assert_eq!(path_segment("!abc:example.org"), "%21abc%3Aexample.org");
        assert_eq!(path_segment("orchestrator-4-ab12"), "orchestrator-4-ab12");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn a_secret_comes_from_its_file_first_line_and_a_bad_file_is_permanent() {
        let dir = std::env::temp_dir().join(format!("orch-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        std::fs::write(&file, "s3cret\n").unwrap();
        assert_eq!(
            secret(Some(&file), "ORCHESTRATOR_TEST_UNSET_VARIABLE").unwrap(),
            Some("s3cret".into())
        );
        std::fs::write(&file, "\n").unwrap();
        assert!(matches!(
            secret(Some(&file), "X"),
            Err(NotifyError::Permanent(_))
        ));
        assert!(matches!(
            secret(Some(&dir), "X"),
            Err(NotifyError::Permanent(e)) if e.contains("not a regular file")
        ));
        assert_eq!(
            secret(None, "ORCHESTRATOR_TEST_UNSET_VARIABLE").unwrap(),
            None
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
