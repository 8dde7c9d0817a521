//! `orchestrator mcp` under a real MCP client we did not write: the official Python SDK (`mcp`
//! from PyPI, pinned in scripts/test.sh, installed into target/mcp-venv). It lists the tools,
//! checks each is annotated read-only, and calls every one against a database whose incidents
//! were made by real phase runs; an agent that investigates through it fixes a fault that the
//! prompt alone cannot explain, in phase 2 and in phase 3; and `judge_plan` refuses an
//! out-of-policy plan with the words the policy gave when phase 2 refused the same plan.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// The tools, as clients list them.
const TOOLS: [&str; 13] = [
    "incident",
    "incidents",
    "run_check",
    "check_logs",
    "unit_journal",
    "listeners",
    "filesystem",
    "process",
    "similar_incidents",
    "patterns",
    "policy",
    "judge_plan",
    "runbook",
];

/// Writes the log of a service whose /health a maintenance flag holds at 500: the line that
/// says so comes first, then enough request lines that it lies far beyond the 4 KiB tail an
/// agent's prompt carries (the tool reads 48 KiB back).
fn write_log(host: &Host, service: &Service, secret: &str) -> std::path::PathBuf {
    let log = host.path("app.log");
    let mut text = format!(
        "2026-12-01T03:00:00Z ERROR maintenance flag {} holds /health at 500 until removed\n",
        service.state.join("unhealthy").display()
    );
    text.push_str(&format!(
        "2026-12-01T03:00:01Z INFO db connection password={secret} CUSTOMER-88231\n"
    ));
    for n in 0..400 {
        text.push_str(&format!(
            "2026-12-01T03:{:02}:{:02}Z INFO GET /health 500 in 0.2ms request={n:08x}\n",
            n / 60 % 60,
            n % 60
        ));
    }
    std::fs::write(&log, text).unwrap();
    log
}

/// Runs the Python client on `calls` against `orchestrator -c CONFIG --db DB mcp ARGS…`.
fn client(host: &Host, calls: &Value, server_args: &[&str]) -> Value {
    let calls_file = host.path("calls.json");
    std::fs::write(&calls_file, calls.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py");
    let out = Command::new("timeout")
        .arg("120")
        .arg(mcp_python())
        .arg(script)
        .arg(&calls_file)
        .arg("--")
        .arg(orchestrator_bin())
        .arg("-c")
        .arg(host.config_path())
        .arg("--db")
        .arg(host.db_path())
        .arg("mcp")
        .args(server_args)
        .output()
        .expect("run the MCP client");
    assert!(
        out.status.success(),
        "the MCP client failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

fn call_text<'a>(report: &'a Value, tool: &str) -> &'a str {
    let call = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tool"] == tool)
        .unwrap_or_else(|| panic!("no call of {tool}"));
    assert_eq!(call["is_error"], false, "{tool} failed: {}", call["text"]);
    call["text"].as_str().unwrap()
}

fn call_json(report: &Value, tool: &str) -> Value {
    serde_json::from_str(call_text(report, tool)).unwrap()
}

#[test]
fn a_real_mcp_client_lists_read_only_tools_and_calls_each_on_real_incidents() {
    require_system!(
        "a_real_mcp_client_lists_read_only_tools_and_calls_each_on_real_incidents",
        MCP_SDK
    );
    let host = Host::new();
    let service = Service::new(&host, "web");
    service.start();
    service.set_flag("unhealthy", "");
    let secret = "hunter2-correct-horse";
    let log = write_log(&host, &service, secret);
    // Phase 2's agent proposes what the policy refuses; phase 3's two agents give up.
    let refused = json!([
        {"action": "remove_file", "path": "/etc/passwd"},
        {"action": "restart_unit", "unit": "sshd"},
    ]);
    let answers = host.path("answers");
    std::fs::create_dir(&answers).unwrap();
    std::fs::write(
        answers.join("refused.json"),
        json!({"diagnosis": "clear the lot", "plan": refused}).to_string(),
    )
    .unwrap();
    std::fs::write(
        answers.join("escalate.json"),
        json!({"diagnosis": "no idea", "plan": [], "escalate": true}).to_string(),
    )
    .unwrap();
    let agent =
        |answer: &str| toml_array(&[answer_script(), answers.join(answer).display().to_string()]);
    host.write_config(&format!(
        r#"
[cycle]
settle = "100ms"

[[checks]]
name = "web"
kind = "http"
url = "{url}"
unit = "flaky-web.service"
logs = ["{log}"]
runbook = """
Known cause: a maintenance flag left behind by a deploy. Removing it is safe.
Call Dana (ext. 4242) if the flag comes back."""

[context]
redact = ["CUSTOMER-[0-9]+"]

[policy]
actions = ["remove_file"]
approve = []
paths = ["{host}/**"]
reopen_within = "0s"
max_attempts = 1

[agents.proposer]
command = {proposer}
[agents.a]
command = {giver_up}
[agents.b]
command = {giver_up}

[research]
agent = "proposer"

[consult]
agents = ["a", "b"]
quorum = 2
"#,
        url = service.url(),
        log = log.display(),
        host = host.dir.path().display(),
        proposer = agent("refused.json"),
        giver_up = agent("escalate.json"),
    ));
    // A first incident a person closed with a plan (learned), then the one agents worked on.
    host.run(&["scan"]).ok();
    let person_plan = json!([{"action": "remove_file", "path": host.path("other.lock")}]);
    host.run(&[
        "incidents",
        "resolve",
        "1",
        "--note",
        "removed a stale lock by hand",
        "--plan",
        &person_plan.to_string(),
    ])
    .ok();
    for phase in ["scan", "fix", "research", "consult", "escalate"] {
        host.run(&[phase]).ok();
    }
    assert_eq!(
        host.query_i64("SELECT id FROM incidents WHERE status = 'escalated'"),
        2
    );
    let policy_reason = host
        .query_text("SELECT reason FROM attempts WHERE incident = 2 AND source = 'agent:proposer'");
    let pid = service.pid().expect("the service runs");

    let calls = json!([
        ["incident", {}],
        ["incidents", {"active_only": false}],
        ["run_check", {"check": "web"}],
        ["check_logs", {"check": "web", "lines": 500}],
        ["unit_journal", {"check": "web"}],
        ["listeners", {"port": service.port}],
        ["filesystem", {"path": host.dir.path()}],
        ["process", {"pid": pid}],
        ["similar_incidents", {}],
        ["patterns", {"check": "web"}],
        ["policy", {}],
        ["judge_plan", {"plan": refused}],
        ["runbook", {}],
        ["incident", {"id": 99}],
        ["process", {"pid": -1}],
        ["filesystem", {"path": "relative/path"}],
        ["listeners", {"port": 70000}],
        ["check_logs", {"check": "no-such-check"}],
        ["judge_plan", {"plan": [{"action": "format_disk"}]}],
    ]);
    // A cycle holds its lock all along: the server never takes it, so it answers beside one.
    let lock = std::fs::File::open(host.path("state.db.lock")).unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    let report = client(&host, &calls, &["--incident", "2"]);
    drop(lock);

    assert_eq!(report["server"], "orchestrator");
    let tools = report["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOLS);
    for tool in tools {
        assert_eq!(tool["read_only"], true, "{tool}");
        assert_eq!(tool["destructive"], false, "{tool}");
        assert_eq!(tool["idempotent"], true, "{tool}");
        assert_eq!(tool["open_world"], false, "{tool}");
        assert_eq!(tool["input_schema"]["type"], "object", "{tool}");
    }

    let incident = call_json(&report, "incident");
    assert_eq!(incident["incident"]["id"], 2);
    assert_eq!(incident["incident"]["status"], "escalated");
    assert!(
        incident["events"].as_array().unwrap().len() >= 4,
        "{incident}"
    );
    let attempts = incident["attempts"].as_array().unwrap();
    assert!(
        attempts.iter().any(|a| a["outcome"] == "rejected"),
        "{incident}"
    );
    assert!(attempts
        .iter()
        .any(|a| a["source"].as_str().unwrap().starts_with("pattern:")));
    let votes = incident["consultations"].as_array().unwrap();
    assert_eq!(votes.len(), 3, "{incident}");
    assert!(votes.iter().all(|v| v.get("response").is_none()));
    assert_contains(
        incident["runbook"].as_str().unwrap(),
        "Call Dana (ext. 4242)",
    );
    assert!(incident["facts"].is_object(), "{incident}");

    let listed = call_json(&report, "incidents");
    assert_eq!(listed["incidents"].as_array().unwrap().len(), 2);

    let rerun = call_json(&report, "run_check");
    assert_eq!(rerun["status"], "critical");
    assert_contains(rerun["summary"].as_str().unwrap(), "500");
    // Re-running the check recorded nothing: the last scan's row is as it was.
    assert_eq!(host.query_i64("SELECT COUNT(*) FROM incidents"), 2);

    let logs = call_text(&report, "check_logs");
    assert_contains(logs, "maintenance flag");
    assert_contains(logs, "password=[REDACTED]");
    assert!(
        !logs.contains(secret),
        "a secret left through check_logs: {logs}"
    );
    assert!(
        !logs.contains("CUSTOMER-88231"),
        "[context] redact was not applied: {logs}"
    );

    let journal = call_json(&report, "unit_journal");
    assert_eq!(journal["unit"], "flaky-web.service");

    let listeners = call_json(&report, "listeners");
    let holders = listeners["listeners"].as_array().unwrap();
    assert!(holders.iter().any(|l| l["pid"] == pid), "{listeners}");

    let fs = call_json(&report, "filesystem");
    assert!(fs["total_bytes"].as_u64().unwrap() > 0, "{fs}");

    let process = call_json(&report, "process");
    assert_eq!(process["pid"], pid);
    assert_contains(process["cmdline"].as_str().unwrap(), "flaky-service");

    let similar = call_json(&report, "similar_incidents");
    let past = &similar["similar"][0];
    assert_eq!(past["id"], 1, "{similar}");
    assert_eq!(past["fixed_by_source"], "person");
    assert_eq!(past["fixed_by_plan"], person_plan);

    let patterns = call_json(&report, "patterns");
    assert_eq!(patterns["patterns"][0]["plan"], person_plan);

    let policy = call_json(&report, "policy");
    assert_eq!(policy["policy"]["allowed_actions"], json!(["remove_file"]));
    assert_eq!(policy["policy"]["incident_unit"], "flaky-web.service");

    // The same plan phase 2 saw refused: the same verdict, the same reasons, nothing run.
    let judged = call_json(&report, "judge_plan");
    assert_eq!(judged["verdict"], "rejected");
    let reasons: Vec<&str> = judged["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(reasons.len() >= 2, "{judged}");
    assert_eq!(
        format!("rejected by the policy: {}", reasons.join("; ")),
        policy_reason
    );
    assert_eq!(judged["already_tried"][0]["outcome"], "rejected");
    assert!(Path::new("/etc/passwd").exists());

    let runbook = call_json(&report, "runbook");
    assert_contains(runbook["runbook"].as_str().unwrap(), "maintenance flag");

    // Bad arguments are the tool's errors, with the reason, and the session goes on.
    let calls = report["calls"].as_array().unwrap();
    let refused: Vec<(&Value, &str)> = calls[13..]
        .iter()
        .zip([
            "no incident 99",
            "`pid` must be a positive process id",
            "`path` must be absolute",
            "`port` must be from 1 to 65535",
            "unknown check `no-such-check`; the config has: web",
        ])
        .collect();
    for (call, reason) in refused {
        assert_eq!(call["is_error"], true, "{call}");
        assert_contains(call["text"].as_str().unwrap(), reason);
    }
    let invalid: Value = serde_json::from_str(calls[18]["text"].as_str().unwrap()).unwrap();
    assert_eq!(invalid["verdict"], "invalid", "{invalid}");
    assert_contains(invalid["reasons"][0].as_str().unwrap(), "format_disk");
}

/// A host whose service answers 500 because of a maintenance flag named only far back in its
/// log; the test adds its agents and phases to the config.
fn flagged_host() -> (Host, Service) {
    let host = Host::new();
    let service = Service::new(&host, "web");
    service.start();
    service.set_flag("unhealthy", "");
    let log = write_log(&host, &service, "s3cr3t-value");
    host.write_config(&format!(
        r#"
[cycle]
settle = "100ms"

[[checks]]
name = "web"
kind = "http"
url = "{url}"
logs = ["{log}"]
paths = ["{state}"]

[policy]
actions = ["remove_file"]
approve = []
paths = ["{host}/**"]
"#,
        url = service.url(),
        log = log.display(),
        state = service.state.display(),
        host = host.dir.path().display(),
    ));
    (host, service)
}

fn investigator(host: &Host, name: &str, one_shot: bool) -> String {
    let mut argv = vec![
        mcp_python().display().to_string(),
        format!(
            "{}/tests/agents/investigator.py",
            env!("CARGO_MANIFEST_DIR")
        ),
    ];
    if one_shot {
        argv.push("--one-shot".into());
    }
    argv.push(host.path(name).display().to_string());
    format!(
        "[agents.{name}]\ncommand = {}\ntimeout = \"60s\"\n",
        toml_array(&argv)
    )
}

#[test]
fn an_agent_that_investigates_through_mcp_fixes_what_its_prompt_alone_cannot() {
    require_system!(
        "an_agent_that_investigates_through_mcp_fixes_what_its_prompt_alone_cannot",
        MCP_SDK
    );
    // Without tools: the prompt does not name the cause, so the agent must give up.
    let (host, service) = flagged_host();
    let one_shot = investigator(&host, "blind", true);
    let config = std::fs::read_to_string(host.config_path()).unwrap();
    host.write_config(&format!(
        "{config}\n{one_shot}\n[research]\nagent = \"blind\"\n"
    ));
    for phase in ["scan", "fix", "research"] {
        host.run(&[phase]).ok();
    }
    assert_eq!(
        host.query_text("SELECT vote FROM agent_consultations"),
        "abstained"
    );
    assert!(!service.healthy());
    let prompt = std::fs::read_to_string(host.path("blind.stdin")).unwrap();
    assert!(
        !prompt.contains("maintenance flag"),
        "the prompt names the cause"
    );
    drop(service);

    // Phase 2, with the MCP server orchestrator offers: fixed.
    let (host, service) = flagged_host();
    let agent = investigator(&host, "sleuth", false);
    let config = std::fs::read_to_string(host.config_path()).unwrap();
    host.write_config(&format!(
        "{config}\n{agent}\n[research]\nagent = \"sleuth\"\n"
    ));
    for phase in ["scan", "fix"] {
        host.run(&[phase]).ok();
    }
    let research = host.run(&["research"]).ok();
    assert_contains(&research.stdout, "fixed by agent:sleuth");
    assert!(service.healthy());
    assert_eq!(
        host.query_text("SELECT resolved_by FROM incidents WHERE id = 1"),
        "agent:sleuth"
    );
    let calls = std::fs::read_to_string(host.path("sleuth.calls")).unwrap();
    assert_eq!(calls, "incident\ncheck_logs\njudge_plan");
    drop(service);

    // Phase 3: two such agents agree through their tools.
    let (host, service) = flagged_host();
    let config = std::fs::read_to_string(host.config_path()).unwrap();
    host.write_config(&format!(
        "{config}\n{}\n{}\n[consult]\nagents = [\"holmes\", \"watson\"]\nquorum = 2\n",
        investigator(&host, "holmes", false),
        investigator(&host, "watson", false),
    ));
    for phase in ["scan", "fix", "research"] {
        host.run(&[phase]).ok();
    }
    let consult = host.run(&["consult"]).ok();
    assert_contains(&consult.stdout, "fixed by consensus (2/2)");
    assert!(service.healthy());
    for agent in ["holmes", "watson"] {
        let calls = std::fs::read_to_string(host.path(&format!("{agent}.calls"))).unwrap();
        assert_contains(&calls, "check_logs");
    }
}
