//! Reading an agent's answer (docs/agents.md, "The answer"): one JSON object with `diagnosis`, `confidence`,
//! `plan` (and optionally `escalate`), accepted bare, inside a ```json fence, or inside the
//! Claude CLI's `{"result": "..."}` envelope. Anything else is unparsable: an abstention. An
//! envelope marked `"is_error": true` carries the CLI's own failure ("Not logged in · Please run
//! /login") in `result`: [`error_envelope`] reads it, so the abstention says why.

use serde_json::{json, Value};

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
    if let Some(problem) = schema_problem(&object) {
        return Err(format!(
            "the answer does not match its schema (`orchestrator agents schema`): {problem}"
        ));
    }
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

/// Where an answer object breaks its schema's types: a field of the wrong JSON type. Missing
/// fields take their defaults and unknown ones are ignored, as before the schema; a plan's
/// actions are judged against the vocabulary later (an unknown action makes the plan invalid,
/// not the answer).
fn schema_problem(object: &Value) -> Option<String> {
    let wrong = |key: &str, expected: &str, ok: fn(&Value) -> bool| {
        object
            .get(key)
            .filter(|v| !v.is_null() && !ok(v))
            .map(|_| format!("`{key}` must be {expected}"))
    };
    wrong("diagnosis", "a string", Value::is_string)
        .or_else(|| wrong("confidence", "a number from 0 to 1", Value::is_number))
        .or_else(|| wrong("plan", "a list of actions", Value::is_array))
        .or_else(|| wrong("escalate", "true or false", Value::is_boolean))
}

/// The JSON Schema of the answer object (`orchestrator agents schema`), generated from the action
/// vocabulary: what a CLI that enforces a schema (`claude --json-schema`, `codex exec
/// --output-schema`, `llm --schema`, ollama's `--format`) holds the model to. It is written for
/// the strictest of them (OpenAI's strict structured outputs): every object lists all its
/// properties as required and allows no others, and a field the plan may leave out is
/// nullable (`null` means left out, as [`parse`] and the plan's parser read it).
pub fn answer_schema() -> Value {
    use crate::actions::vocabulary::{FieldDefault, FieldType};
    use crate::actions::ACTIONS;
    let actions: Vec<Value> = ACTIONS
        .iter()
        .map(|spec| {
            let mut properties = serde_json::Map::new();
            properties.insert(
                "action".into(),
                json!({"type": "string", "enum": [spec.name()], "description": spec.effect}),
            );
            for field in spec.fields {
                let mut schema = match field.ty {
                    FieldType::Argv => json!({"type": "array", "items": {"type": "string"}}),
                    FieldType::Pid => json!({"type": "integer"}),
                    _ => json!({"type": "string"}),
                };
                if !field.allowed.is_empty() && field.ty != FieldType::Signal {
                    schema["enum"] = json!(field.allowed);
                }
                if field.default != FieldDefault::Required {
                    let ty = schema["type"].clone();
                    schema["type"] = json!([ty, "null"]);
                }
                schema["description"] = json!(field.meaning);
                properties.insert(field.name.into(), schema);
            }
            let required: Vec<&String> = properties.keys().collect();
            json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            })
        })
        .collect();
    json!({
        "title": "orchestrator agent answer",
        "type": "object",
        "properties": {
            "diagnosis": {"type": "string", "description": "what is wrong, in one or two plain sentences"},
            "confidence": {"type": "number", "description": "from 0 to 1: how sure the diagnosis and the plan are"},
            "plan": {
                "type": "array",
                "description": "the actions to run in order (at most 10); empty when escalating",
                "items": {"anyOf": actions},
            },
            "escalate": {"type": "boolean", "description": "true when a person should decide (then the plan is empty)"},
        },
        "required": ["diagnosis", "confidence", "plan", "escalate"],
        "additionalProperties": false,
    })
}

/// What a CLI reported it spent on one answer: Claude Code's JSON envelope carries
/// `total_cost_usd` and `usage` (`input_tokens`, `output_tokens`, and the cache's
/// `cache_creation_input_tokens` and `cache_read_input_tokens`, counted as input). Other CLIs
/// print no such envelope; then nothing is known.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

/// The usage in `text` when the whole output is one JSON envelope that reports it, whether it
/// holds an answer or an error (a failed run was paid for too).
pub fn usage(text: &str) -> Usage {
    let Ok(value) = serde_json::from_str::<Value>(text.trim()) else {
        return Usage::default();
    };
    let count = |key: &str| {
        value
            .get("usage")
            .and_then(|u| u.get(key))
            .and_then(Value::as_i64)
            .filter(|n| *n >= 0)
    };
    let input = [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .filter_map(|key| count(key))
    .reduce(|a, b| a.saturating_add(b));
    Usage {
        input_tokens: input,
        output_tokens: count("output_tokens"),
        cost_usd: value
            .get("total_cost_usd")
            .and_then(Value::as_f64)
            .filter(|c| c.is_finite() && *c >= 0.0),
    }
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
        // Claude Code with `--json-schema` puts the validated answer in `structured_output`.
        if let Some(inner) = value.get("structured_output").filter(|v| is_answer(v)) {
            return Some(inner.clone());
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
    fn claudes_structured_output_and_its_usage_are_read() {
        let envelope = json!({
            "type": "result", "is_error": false, "result": "",
            "structured_output": serde_json::from_str::<Value>(ANSWER).unwrap(),
            "total_cost_usd": 0.0421,
            "usage": {"input_tokens": 12, "cache_creation_input_tokens": 300,
                      "cache_read_input_tokens": 1000, "output_tokens": 85},
        })
        .to_string();
        assert_eq!(parse(&envelope).unwrap().diagnosis, "stale worker");
        let spent = usage(&envelope);
        assert_eq!(spent.input_tokens, Some(1312));
        assert_eq!(spent.output_tokens, Some(85));
        assert_eq!(spent.cost_usd, Some(0.0421));
        assert_eq!(usage(ANSWER), Usage::default());
        assert_eq!(usage("not json"), Usage::default());
    }

    #[test]
    fn an_answer_of_the_wrong_types_is_refused_with_the_field() {
        let wrong = r#"{"diagnosis": "x", "confidence": "high", "plan": []}"#;
        let err = parse(wrong).unwrap_err();
        assert!(err.contains("`confidence` must be a number"), "{err}");
        let plan = r#"{"plan": {"action": "restart_unit"}}"#;
        assert!(parse(plan).unwrap_err().contains("`plan` must be a list"));
        // Nulls and unknown keys are tolerated, as before.
        let loose = r#"{"diagnosis": null, "confidence": null, "plan": [], "why": 1}"#;
        assert!(parse(loose).is_ok());
    }

    #[test]
    fn the_schema_is_strict_and_every_action_of_the_vocabulary_fits_it() {
        let schema = answer_schema();
        assert_eq!(schema["additionalProperties"], json!(false));
        let actions = schema["properties"]["plan"]["items"]["anyOf"]
            .as_array()
            .unwrap();
        assert_eq!(actions.len(), crate::actions::ACTIONS.len());
        for action in actions {
            let properties = action["properties"].as_object().unwrap();
            let required: Vec<&str> = action["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(required.len(), properties.len(), "{action}");
            // A plan written with every optional field null parses as the vocabulary's plan.
            let mut written = serde_json::Map::new();
            for (name, field) in properties {
                let value = if name == "action" {
                    field["enum"][0].clone()
                } else if field["type"].is_array() {
                    Value::Null
                } else if field["type"] == "array" {
                    json!(["/bin/true"])
                } else {
                    json!("/var/log/x")
                };
                written.insert(name.clone(), value);
            }
            let plan = json!([written]);
            serde_json::from_value::<crate::actions::Plan>(plan.clone())
                .unwrap_or_else(|e| panic!("{plan}: {e}"));
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("I think you should reboot").is_err());
        assert!(parse("{\"diagnosis\": \"no plan key\"}").is_err());
        assert!(parse("\u{0}\u{1}binary").is_err());
    }
}
