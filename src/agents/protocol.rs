//! Reading an agent's answer (docs/agents.md, "The answer"): one JSON object with `diagnosis`, `confidence`,
//! `plan` (and optionally `escalate`), accepted bare, inside a ```json fence, or inside the
//! Claude CLI's `{"result": "..."}` envelope. Anything else is unparsable: an abstention. An
//! envelope marked `"is_error": true` carries the CLI's own failure ("Not logged in · Please run
//! /login") in `result`: [`error_envelope`] reads it, so the abstention says why.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct RawAnswer {
    pub diagnosis: String,
    pub confidence: Option<f64>,
    /// The plan as the agent wrote it; typed (and possibly rejected) later.
    pub plan: Value,
    pub escalate: bool,
}

pub fn parse(text: &str) -> Result<RawAnswer, String> {
    let object = find_answer(text, 0)
        .ok_or_else(|| "no JSON answer with a `plan` in the agent's output".to_string())?;
    let diagnosis = object
        .get("diagnosis")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let confidence = object
        .get("confidence")
        .and_then(Value::as_f64)
        .map(|c| c.clamp(0.0, 1.0));
    let escalate = object
        .get("escalate")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let plan = object
        .get("plan")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    Ok(RawAnswer {
        diagnosis,
        confidence,
        plan,
        escalate,
    })
}

/// The reason inside an error envelope (`{"type": "result", "is_error": true, "result": "..."}`),
/// if the whole output is one; `None` for anything else, answers included.
pub fn error_envelope(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text.trim()).ok()?;
    if value.get("is_error").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let said = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .map(str::to_string)
    };
    // An error without a message still has a kind (`error_max_turns`, `error_during_execution`).
    Some(
        said("result")
            .or_else(|| said("subtype"))
            .unwrap_or_else(|| "an error without a message".to_string()),
    )
}

fn is_answer(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.contains_key("plan") || o.contains_key("escalate"))
}

/// Tries, in order: the whole text as JSON (unwrapping a `result` envelope), fenced blocks,
/// then the outermost `{…}` span. `depth` bounds envelope nesting.
fn find_answer(text: &str, depth: u8) -> Option<Value> {
    if depth > 3 {
        return None;
    }
    let trimmed = text.trim();
    if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
        if is_answer(&value) {
            return Some(value);
        }
        if let Some(inner) = value.get("result").and_then(Value::as_str) {
            return find_answer(inner, depth + 1);
        }
        if let Some(inner) = value.get("response").and_then(Value::as_str) {
            return find_answer(inner, depth + 1);
        }
    }
    for block in fenced_blocks(trimmed) {
        if let Ok(value) = serde_json::from_str::<Value>(block.trim()) {
            if is_answer(&value) {
                return Some(value);
            }
        }
    }
    let (start, end) = (trimmed.find('{')?, trimmed.rfind('}')?);
    let value: Value = serde_json::from_str(trimmed.get(start..=end)?).ok()?;
    is_answer(&value).then_some(value)
}

fn fenced_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let body_start = after.find('\n').map(|n| n + 1).unwrap_or(0);
        let body = &after[body_start..];
        let Some(close) = body.find("```") else { break };
        blocks.push(&body[..close]);
        rest = &body[close + 3..];
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str =
        r#"{"diagnosis": "stale worker", "confidence": 0.8, "plan": [{"action": "restart_unit"}]}"#;

    #[test]
    fn accepts_bare_fenced_and_enveloped_answers() {
        let bare = parse(ANSWER).unwrap();
        assert_eq!(bare.diagnosis, "stale worker");
        let fenced = parse(&format!(
            "Here is my answer:\n```json\n{ANSWER}\n```\nGood luck."
        ))
        .unwrap();
        assert_eq!(fenced, bare);
        let envelope =
            serde_json::json!({"type": "result", "result": format!("```json\n{ANSWER}\n```")})
                .to_string();
        assert_eq!(parse(&envelope).unwrap(), bare);
    }

    #[test]
    fn an_error_envelope_gives_its_reason() {
        let not_logged_in = r#"{"type":"result","subtype":"success","is_error":true,"duration_ms":85,"result":"Not logged in · Please run /login","session_id":"285e"}"#;
        assert_eq!(
            error_envelope(not_logged_in).as_deref(),
            Some("Not logged in · Please run /login")
        );
        let no_message = r#"{"type":"result","subtype":"error_max_turns","is_error":true}"#;
        assert_eq!(
            error_envelope(no_message).as_deref(),
            Some("error_max_turns")
        );
        let bare = r#"{"type":"result","is_error":true,"result":"  "}"#;
        assert_eq!(
            error_envelope(bare).as_deref(),
            Some("an error without a message")
        );
    }

    #[test]
    fn answers_and_garbage_are_not_error_envelopes() {
        let success =
            serde_json::json!({"type": "result", "is_error": false, "result": ANSWER}).to_string();
        assert_eq!(error_envelope(&success), None);
        assert!(parse(&success).is_ok());
        assert_eq!(error_envelope(ANSWER), None);
        assert_eq!(error_envelope("Error: is_error true"), None);
        assert_eq!(error_envelope(""), None);
        // Only the whole output counts: an answer quoting an envelope is still an answer.
        let quoted = r#"{"diagnosis": "saw {\"is_error\": true}", "plan": []}"#;
        assert_eq!(error_envelope(quoted), None);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("I think you should reboot").is_err());
        assert!(parse("{\"diagnosis\": \"no plan key\"}").is_err());
        assert!(parse("\u{0}\u{1}binary").is_err());
    }
}
