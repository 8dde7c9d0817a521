//! What orchestrator gives a command agent besides its prompt (the MCP config, the answer's
//! schema, placeholders, `env`), answers held to that schema, the admin's runbooks, and each
//! agent's track record: counted in `metrics`, `/metrics` and the dashboard, marked right or
//! wrong by a person, and weighing votes when `[consult] weigh_by_record` says so.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::Path;

/// A check that is critical while `HOST/NAME` exists: removing that file fixes it.
fn blocker_check(host: &Host, name: &str) -> String {
    format!(
        "[[checks]]\nname = \"{name}\"\nkind = \"file\"\npath = \"{}\"\nexists = false\n",
        host.path(name).display()
    )
}

fn remove(host: &Host, name: &str) -> Value {
    json!([{"action": "remove_file", "path": host.path(name)}])
}

/// An agent script that keeps its argv, environment files and prompt under `record`, then
/// prints `answer`.
fn recording_agent(host: &Host, name: &str, answer: &Value) -> String {
    let script = host.path(&format!("{name}.sh"));
    let answer_file = host.path(&format!("{name}.answer"));
    std::fs::write(&answer_file, answer.to_string()).unwrap();
    let record = host.path(name);
    write_script(
        &script,
        &format!(
            "for word in \"$@\"; do printf '%s\\n' \"$word\"; done > {r}.argv\n\
             cat > {r}.stdin\n\
             cp \"$ORCHESTRATOR_ANSWER_SCHEMA\" {r}.schema\n\
             cp \"$ORCHESTRATOR_MCP_CONFIG\" {r}.mcp\n\
             env > {r}.env\n\
             cat {answer}\n",
            r = record.display(),
            answer = answer_file.display()
        ),
    );
    script.display().to_string()
}

const POLICY: &str =
    "[policy]\nactions = [\"remove_file\", \"run\"]\ncommands = [[\"true\"]]\napprove = []\n";

fn policy_for(host: &Host) -> String {
    format!("{POLICY}paths = [\"{}/**\"]\n", host.dir.path().display())
}

#[test]
fn an_agent_gets_the_mcp_config_the_schema_and_its_placeholders_filled_in() {
    let host = Host::new();
    std::fs::write(host.path("blocker"), "").unwrap();
    let answer =
        json!({"diagnosis": "the blocker", "confidence": 0.9, "plan": remove(&host, "blocker")});
    let script = recording_agent(&host, "agent", &answer);
    host.write_config(&format!(
        "{}{}\n[agents.agent]\ncommand = [\"{script}\", \"--mcp-config\", \"{{mcp_config}}\", \"--schema={{answer_schema}}\", \"#{{incident}}\", \"{{mcp_command}}\"]\n\
         env = {{ SETTINGS = \"{{mcp_config}}\" }}\n[research]\nagent = \"agent\"\n",
        blocker_check(&host, "blocker"),
        policy_for(&host),
    ));
    for phase in ["scan", "fix", "research"] {
        host.run(&[phase]).ok();
    }
    assert!(!host.path("blocker").exists(), "the agent's plan ran");

    let schema: Value = serde_json::from_str(&host.run(&["agents", "schema"]).ok().stdout).unwrap();
    let given: Value =
        serde_json::from_str(&std::fs::read_to_string(host.path("agent.schema")).unwrap()).unwrap();
    assert_eq!(given, schema);
    assert_eq!(
        schema["required"],
        json!(["diagnosis", "confidence", "plan", "escalate"])
    );

    let mcp: Value =
        serde_json::from_str(&std::fs::read_to_string(host.path("agent.mcp")).unwrap()).unwrap();
    let server = &mcp["mcpServers"]["orchestrator"];
    assert_eq!(server["command"], orchestrator_bin().display().to_string());
    let db = std::fs::canonicalize(host.db_path()).unwrap();
    let config = std::fs::canonicalize(host.config_path()).unwrap();
    assert_eq!(
        server["args"],
        json!(["-c", config, "--db", db, "mcp", "--incident", "1"])
    );

    let argv = std::fs::read_to_string(host.path("agent.argv")).unwrap();
    let argv: Vec<&str> = argv.lines().collect();
    assert_eq!(argv[0], "--mcp-config");
    assert!(argv[1].ends_with("/mcp.json"), "{argv:?}");
    assert!(argv[2].starts_with("--schema=/") && argv[2].ends_with("/answer-schema.json"));
    assert_eq!(argv[3], "#1");
    assert!(argv[4].ends_with(" mcp --incident 1"), "{argv:?}");
    let env = std::fs::read_to_string(host.path("agent.env")).unwrap();
    assert_contains(&env, &format!("SETTINGS={}", argv[1]));
    assert_contains(&env, &format!("ORCHESTRATOR_MCP_CONFIG={}", argv[1]));
    assert_contains(&env, "ORCHESTRATOR_INCIDENT=1");
    // The workspace, the files in it with it, is gone once the agent answered.
    assert!(!Path::new(argv[1]).exists());
    let prompt = std::fs::read_to_string(host.path("agent.stdin")).unwrap();
    assert_contains(&prompt, "mcp__orchestrator__incident");
    assert_contains(&prompt, "ORCHESTRATOR_ANSWER_SCHEMA");
}

#[test]
fn an_answer_of_the_wrong_types_is_an_abstention_that_names_the_field() {
    let host = Host::new();
    std::fs::write(host.path("blocker"), "").unwrap();
    let answer =
        json!({"diagnosis": "the blocker", "confidence": "very", "plan": remove(&host, "blocker")});
    let script = recording_agent(&host, "agent", &answer);
    host.write_config(&format!(
        "{}{}\n[agents.agent]\ncommand = [\"{script}\"]\n[research]\nagent = \"agent\"\n",
        blocker_check(&host, "blocker"),
        policy_for(&host),
    ));
    for phase in ["scan", "fix", "research"] {
        host.run(&[phase]).ok();
    }
    assert!(host.path("blocker").exists(), "a malformed answer ran");
    assert_eq!(
        host.query_text("SELECT vote FROM agent_consultations"),
        "abstained"
    );
    assert_contains(
        &host.query_text("SELECT error FROM agent_consultations"),
        "does not match its schema (`orchestrator agents schema`): `confidence` must be a number",
    );
}

/// The README's local-model recipe, run as written against a stand-in `ollama` that keeps its
/// arguments and answers as a model held to the schema would.
#[test]
fn the_local_model_recipe_hands_ollama_the_answer_schema() {
    let host = Host::new();
    std::fs::write(host.path("blocker"), "").unwrap();
    let bin = host.path("bin");
    std::fs::create_dir(&bin).unwrap();
    let answer = json!({"diagnosis": "the blocker", "confidence": 0.7,
                        "plan": remove(&host, "blocker"), "escalate": false});
    std::fs::write(host.path("ollama.answer"), answer.to_string()).unwrap();
    write_script(
        &bin.join("ollama"),
        &format!(
            "for word in \"$@\"; do printf '%s\\n' \"$word\"; done > {dir}/ollama.argv\ncat > {dir}/ollama.stdin\ncat {dir}/ollama.answer\n",
            dir = host.dir.path().display()
        ),
    );
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme
        .find("[agents.local]")
        .expect("README has [agents.local]")..];
    let recipe: Vec<&str> = section
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    host.write_config(&format!(
        "{}{}\n[agents.local]\n{}\n[research]\nagent = \"local\"\n",
        blocker_check(&host, "blocker"),
        policy_for(&host),
        recipe.join("\n"),
    ));
    host.run(&["scan"]).ok();
    host.run(&["fix"]).ok();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = host
        .command(&["research"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!host.path("blocker").exists(), "the local model's plan ran");
    let argv = std::fs::read_to_string(host.path("ollama.argv")).unwrap();
    let argv: Vec<&str> = argv.lines().collect();
    assert_eq!(&argv[..2], ["run", "llama3.1:8b"]);
    let format = argv
        .iter()
        .position(|w| *w == "--format")
        .expect("--format");
    let schema: Value = serde_json::from_str(argv[format + 1]).expect("--format is a JSON schema");
    let printed: Value =
        serde_json::from_str(&host.run(&["agents", "schema"]).ok().stdout).unwrap();
    assert_eq!(schema, printed);
    assert_contains(
        &std::fs::read_to_string(host.path("ollama.stdin")).unwrap(),
        "<<<UNTRUSTED-DATA ",
    );
}

#[test]
fn a_runbook_reaches_the_prompt_the_dashboard_and_the_mail() {
    let host = Host::new();
    std::fs::write(host.path("blocker"), "").unwrap();
    std::fs::create_dir(host.path("runbooks")).unwrap();
    std::fs::write(
        host.path("runbooks/blocker.md"),
        "# blocker\nKnown cause: the nightly export leaves it. Safe to remove.\nCall Ana, ext. 4711. token=s3cr3t-runbook\n",
    )
    .unwrap();
    let answer = json!({"diagnosis": "?", "plan": [], "escalate": true});
    let script = recording_agent(&host, "agent", &answer);
    host.write_config(&format!(
        "{}{}\n[agents.agent]\ncommand = [\"{script}\"]\n[research]\nagent = \"agent\"\n\
         [escalation]\nemail = {{ to = [\"ops@example.com\"], from = \"o@example.com\", smtp = \"smtp://127.0.0.1:9\" }}\n",
        blocker_check(&host, "blocker"),
        policy_for(&host),
    ));
    host.run(&["cycle"]).ok();
    let prompt = std::fs::read_to_string(host.path("agent.stdin")).unwrap();
    let runbook_at = prompt
        .find("Call Ana, ext. 4711.")
        .expect("the runbook is in the prompt");
    assert!(
        runbook_at < prompt.find("<<<UNTRUSTED-DATA ").unwrap(),
        "given as guidance, before the data"
    );
    assert!(!prompt.contains("s3cr3t-runbook"), "the runbook is masked");
    let mail = host.query_text("SELECT body FROM notifications WHERE channel = 'email'");
    assert_contains(&mail, "Call Ana, ext. 4711.");
    assert!(!mail.contains("s3cr3t-runbook"));
    let dashboard = Dashboard::start(&host);
    let page = http_agent()
        .get(&dashboard.url("/incidents/1"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert_contains(&page, "Call Ana, ext. 4711.");
    assert!(!page.contains("s3cr3t-runbook"));

    // An inline runbook wins over the file; a file that is too large is a config error.
    std::fs::write(host.path("runbooks/blocker.md"), "x".repeat(20 * 1024)).unwrap();
    let check = host.run(&["config", "check"]);
    assert_eq!(check.status, 2, "{}", check.stderr);
    assert_contains(&check.stderr, "runbooks/blocker.md");
    assert_contains(&check.stderr, "larger than 16384 bytes");
    let config = std::fs::read_to_string(host.config_path()).unwrap();
    host.write_config(&config.replacen(
        "exists = false\n",
        "exists = false\nrunbook = \"inline words\"\n",
        1,
    ));
    host.run(&["config", "check"]).ok();
}

/// An agent that answers as Claude Code does with `--output-format json --json-schema`: the
/// answer in `structured_output`, its cost and tokens beside it.
fn claude_like(host: &Host, name: &str, plan: &Value) -> String {
    let envelope = json!({
        "type": "result", "subtype": "success", "is_error": false, "result": "",
        "structured_output": {"diagnosis": "the blocker file", "confidence": 0.9, "plan": plan, "escalate": false},
        "total_cost_usd": 0.0125,
        "usage": {"input_tokens": 100, "cache_read_input_tokens": 900, "output_tokens": 50},
    });
    std::fs::write(host.path(&format!("{name}.json")), envelope.to_string()).unwrap();
    toml_array(&[
        answer_script(),
        host.path(&format!("{name}.json")).display().to_string(),
    ])
}

#[test]
fn the_track_record_counts_fixes_refusals_tokens_cost_and_a_persons_verdict() {
    let host = Host::new();
    std::fs::write(host.path("blocker"), "").unwrap();
    std::fs::write(host.path("other"), "").unwrap();
    host.write_config(&format!(
        "{}{}{}\n[agents.claude]\ncommand = {}\n[agents.bold]\ncommand = {}\n[research]\nagent = \"claude\"\n",
        blocker_check(&host, "blocker"),
        blocker_check(&host, "other"),
        policy_for(&host),
        claude_like(&host, "claude", &remove(&host, "blocker")),
        claude_like(&host, "bold", &json!([{"action": "remove_file", "path": "/etc/passwd"}])),
    ));
    host.run(&["scan"]).ok();
    host.run(&["fix"]).ok();
    // Incident 1 (blocker): the plan fixes it. Incident 2 (other): the same agent's plan would
    // remove incident 1's file, which nothing ties to `other`: held for a person, not run.
    host.run(&["research"]).ok();
    assert!(!host.path("blocker").exists());
    assert_eq!(
        host.query_text("SELECT resolved_by FROM incidents WHERE id = 1"),
        "agent:claude"
    );
    assert_eq!(
        host.query_i64("SELECT phase FROM incidents WHERE id = 2"),
        4
    );
    // Phase 3's bolder agent on a third incident (no research agent this time): refused by the
    // policy.
    std::fs::write(host.path("third"), "").unwrap();
    host.write_config(&format!(
        "{}{}{}{}\n[agents.claude]\ncommand = {}\n[agents.bold]\ncommand = {}\n[consult]\nagents = [\"bold\"]\nquorum = 1\n",
        blocker_check(&host, "blocker"),
        blocker_check(&host, "other"),
        blocker_check(&host, "third"),
        policy_for(&host),
        claude_like(&host, "claude", &remove(&host, "blocker")),
        claude_like(&host, "bold", &json!([{"action": "remove_file", "path": "/etc/passwd"}])),
    ));
    for phase in ["scan", "fix", "research", "consult"] {
        host.run(&[phase]).ok();
    }
    assert!(Path::new("/etc/passwd").exists());

    let feedback = host
        .run(&[
            "incidents",
            "feedback",
            "1",
            "--agent",
            "claude",
            "good",
            "--note",
            "spot on",
        ])
        .ok();
    assert_contains(&feedback.stdout, "marked good");
    let nobody = host.run(&["incidents", "feedback", "1", "--agent", "nobody", "bad"]);
    assert_eq!(nobody.status, 3, "{}", nobody.stderr);
    assert_contains(
        &nobody.stderr,
        "agent `nobody` was not asked about incident 1",
    );
    host.run(&["incidents", "feedback", "3", "--agent", "bold", "bad"])
        .ok();

    let metrics = host.run(&["--json", "metrics"]).ok().json();
    let agents = metrics["agents"].as_array().unwrap();
    let claude = agents.iter().find(|a| a["agent"] == "claude").unwrap();
    let expected = json!({
        "agent": "claude", "consultations": 2, "incidents": 2, "proposed": 2, "fixed": 1,
        "refused": 0, "abstained": 0, "input_tokens": 2000, "output_tokens": 100,
        "cost_usd": 0.025, "good": 1, "bad": 0,
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&claude[key], value, "{key} in {claude}");
    }
    assert_eq!(claude["tokens_per_incident"], 1050.0);
    assert_eq!(claude["cost_usd_per_incident"], 0.0125);
    let bold = agents.iter().find(|a| a["agent"] == "bold").unwrap();
    assert_eq!(
        (
            bold["proposed"].as_i64(),
            bold["refused"].as_i64(),
            bold["bad"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );

    let table = host.run(&["metrics"]).ok().stdout;
    assert_contains(&table, "AGENT");
    assert_contains(&table, "$0.0125");

    // The counters since the database began say the same.
    let prometheus = host.run(&["metrics", "--prometheus"]).ok().stdout;
    for line in [
        "orchestrator_agent_consultations_total{agent=\"claude\"} 2",
        "orchestrator_agent_fixes_total{agent=\"claude\"} 1",
        "orchestrator_agent_proposals_total{agent=\"claude\"} 2",
        "orchestrator_agent_refused_total{agent=\"bold\"} 1",
        "orchestrator_agent_tokens_total{agent=\"claude\",direction=\"input\"} 2000",
        "orchestrator_agent_cost_usd_total{agent=\"claude\"} 0.025",
        "orchestrator_agent_feedback{agent=\"claude\",verdict=\"good\"} 1",
        "orchestrator_agent_feedback{agent=\"bold\",verdict=\"bad\"} 1",
    ] {
        assert_contains(&prometheus, line);
    }

    // On the dashboard: the votes' cost, the verdict, and a person's mark through its form.
    let dashboard = Dashboard::start(&host);
    let http = http_agent();
    // A person logged in, as decisions need.
    let cookie = dashboard.login(&host);
    let page = |path: &str| {
        http.get(&dashboard.url(path))
            .header("Cookie", &cookie)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap()
    };
    let incident = page("/incidents/2");
    assert_contains(&incident, "Were the diagnoses right?");
    assert_contains(&incident, "1050 tokens, $0.0125");
    let csrf = csrf_of(&incident);
    let marked = http
        .post(&dashboard.url("/incidents/2/feedback"))
        .header("Cookie", &cookie)
        .send_pairs(&[
            ("csrf", csrf.as_str()),
            ("agent", "claude"),
            ("verdict", "bad"),
        ])
        .unwrap();
    assert_eq!(marked.status(), 303);
    let forged = http
        .post(&dashboard.url("/incidents/2/feedback"))
        .header("Cookie", &cookie)
        .send_pairs(&[("csrf", "wrong"), ("agent", "claude"), ("verdict", "good")])
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(
        host.query_text("SELECT verdict || ' ' || by FROM agent_feedback WHERE incident = 2 AND agent = 'claude'"),
        "bad dashboard"
    );
    assert_contains(&page("/"), "Agents' track record");
    let shown = host.run(&["incidents", "show", "2"]).ok().stdout;
    assert_contains(&shown, "feedback: agent claude bad (by dashboard)");
}

/// Three agents; `a` and `b` propose a plan that does not fix, `c` the one that does. Before,
/// people marked `c` right twice and `a`, `b` wrong: weighed by record, `c`'s plan wins alone.
fn vote_with_records(weigh: bool) -> Host {
    let host = Host::new();
    for name in ["one", "two", "three"] {
        std::fs::write(host.path(name), "").unwrap();
    }
    let answers = |agent: &str, plan: &Value| {
        let dir = host.path(&format!("answers-{agent}"));
        std::fs::create_dir(&dir).unwrap();
        let give_up = json!({"diagnosis": "?", "plan": [], "escalate": true}).to_string();
        std::fs::write(dir.join("1"), &give_up).unwrap();
        std::fs::write(dir.join("2"), &give_up).unwrap();
        let answer = json!({"diagnosis": "this", "plan": plan}).to_string();
        for n in 3..6 {
            std::fs::write(dir.join(n.to_string()), &answer).unwrap();
        }
        toml_array(&[answer_script(), dir.display().to_string()])
    };
    // A plan the policy lets run and that fixes nothing (a file nothing ties to the check would
    // be held for a person instead of run).
    let wrong = json!([{"action": "run", "argv": ["true"]}]);
    let right = remove(&host, "three");
    host.write_config(&format!(
        "{}{}{policy}max_attempts = 1\n\
         [agents.a]\ncommand = {a}\n[agents.b]\ncommand = {b}\n[agents.c]\ncommand = {c}\n\
         [consult]\nagents = [\"a\", \"b\", \"c\"]\nquorum = 1\nweigh_by_record = {weigh}\n",
        blocker_check(&host, "one"),
        blocker_check(&host, "two"),
        policy = policy_for(&host),
        a = answers("a", &wrong),
        b = answers("b", &wrong),
        c = answers("c", &right),
    ));
    for phase in ["scan", "fix", "research", "consult"] {
        host.run(&[phase]).ok();
    }
    for (incident, agent, verdict) in [
        ("1", "c", "good"),
        ("2", "c", "good"),
        ("1", "a", "bad"),
        ("2", "b", "bad"),
    ] {
        host.run(&["incidents", "feedback", incident, "--agent", agent, verdict])
            .ok();
    }
    let config = std::fs::read_to_string(host.config_path()).unwrap();
    host.write_config(&format!("{}{config}", blocker_check(&host, "three")));
    for phase in ["scan", "fix", "research", "consult"] {
        host.run(&[phase]).ok();
    }
    host
}

#[test]
fn votes_weigh_by_the_agents_records_only_when_the_config_says_so() {
    let counted = vote_with_records(false);
    assert!(counted.path("three").exists(), "two votes beat one");
    assert_eq!(
        counted
            .query_text("SELECT outcome FROM attempts WHERE incident = 3 AND source = 'consensus'"),
        "not_fixed"
    );
    let weighed = vote_with_records(true);
    assert!(!weighed.path("three").exists(), "the better record won");
    assert_eq!(
        weighed.query_text("SELECT resolved_by FROM incidents WHERE id = 3"),
        "consensus"
    );
    assert_eq!(
        weighed.query_text("SELECT agreement FROM agent_consultations WHERE incident = 3 LIMIT 1"),
        "1/3"
    );
}
