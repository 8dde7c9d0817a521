//! The README's agent recipes against the real CLIs, installed from the npm registry and PyPI.
//! Nobody is logged in (HOME is an empty directory), so each recipe must get as far as its
//! authentication failure, and the recorded abstention must say so in the CLI's own words.
//!
//! Opt-in: `ORCHESTRATOR_AGENT_CLI_TESTS=1 cargo test --test integration agent_clis::`. It downloads, so it is
//! in neither `cargo test` nor `scripts/test.sh`, and it skips with the reason when the registry
//! cannot be reached. The CLIs are kept under `target/agent-clis/`, so a rerun is quick.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const AGENT_CLI_TESTS_VAR: &str = "ORCHESTRATOR_AGENT_CLI_TESTS";
const NPM_PACKAGES: [&str; 3] = [
    "@openai/codex",
    "@google/gemini-cli",
    "@anthropic-ai/claude-code",
];
/// Variables that would log a CLI in behind the test's back.
const CREDENTIALS: [&str; 10] = [
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "CODEX_HOME",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_GCA",
];

fn clis_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/agent-clis")
}

/// Say why a test does not run, past the harness's capture.
fn skip(name: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped agent CLI test {name}: {why}");
}

/// `argv` under coreutils' `timeout`, so no download or registry query can hang the test.
fn bounded(seconds: u32, argv: &[&str]) -> Option<std::process::Output> {
    Command::new("timeout")
        .arg(seconds.to_string())
        .args(argv)
        .output()
        .ok()
}

/// Whether the opt-in tests run; installs the CLIs once for all of them. The error says why not.
fn installed() -> Result<PathBuf, String> {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    INSTALLED.get_or_init(install).clone()
}

fn install() -> Result<PathBuf, String> {
    if !std::env::var_os(AGENT_CLI_TESTS_VAR).is_some_and(|v| v != "0" && !v.is_empty()) {
        return Err(format!(
            "it downloads the CLIs; set {AGENT_CLI_TESTS_VAR}=1 to run it"
        ));
    }
    let reachable = bounded(20, &["npm", "view", NPM_PACKAGES[0], "version"])
        .is_some_and(|out| out.status.success());
    if !reachable {
        return Err("the npm registry cannot be reached (`npm view` failed)".into());
    }
    let dir = clis_dir();
    let npm_prefix = dir.join("npm");
    let bin = npm_prefix.join("node_modules/.bin");
    if !NPM_PACKAGES.iter().all(|p| bin.join(cli_name(p)).exists()) {
        let mut argv = vec!["npm", "install", "--no-audit", "--no-fund", "--prefix"];
        let prefix = npm_prefix.to_str().unwrap();
        argv.push(prefix);
        argv.extend(NPM_PACKAGES);
        let out = bounded(600, &argv).expect("run npm");
        assert!(out.status.success(), "npm install failed: {out:?}");
    }
    let venv = dir.join("venv");
    if !venv.join("bin/llm").exists() {
        let out = bounded(120, &["python3", "-m", "venv", venv.to_str().unwrap()]).unwrap();
        assert!(out.status.success(), "python3 -m venv failed: {out:?}");
        let pip = venv.join("bin/pip");
        let out = bounded(600, &[pip.to_str().unwrap(), "install", "-q", "llm"]).unwrap();
        assert!(out.status.success(), "pip install llm failed: {out:?}");
    }
    Ok(dir)
}

fn cli_name(package: &str) -> &'static str {
    match package {
        "@openai/codex" => "codex",
        "@google/gemini-cli" => "gemini",
        _ => "claude",
    }
}

/// The recipe exactly as the README configures it: `[agents.NAME]`'s `command = [...]` line,
/// and its `env = {...}` line when it has one.
fn readme_recipe(name: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let header = format!("[agents.{name}]");
    let section = &readme[readme
        .find(&header)
        .unwrap_or_else(|| panic!("README has no {header}"))..];
    let lines: Vec<&str> = section
        .lines()
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("command = ") || line.starts_with("env = "))
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("command = ")),
        "README's {header} has no command"
    );
    lines.join("\n")
}

/// Runs the README's recipe NAME as the research agent on a failing check, with nobody logged
/// in, and returns the recorded abstention's reason.
fn research_with_recipe(name: &str, timeout: &str, env: &[(&str, &str)]) -> String {
    research_with(name, &readme_recipe(name), timeout, env)
}

/// As [`research_with_recipe`], with the recipe given.
fn research_with(name: &str, recipe: &str, timeout: &str, env: &[(&str, &str)]) -> String {
    let dir = installed().unwrap();
    let host = Host::new();
    let home = host.path("home");
    std::fs::create_dir(&home).unwrap();
    host.write_config(&format!(
        r#"
[[checks]]
name = "broken"
kind = "command"
command = ["sh", "-c", "echo CRITICAL - down; exit 2"]

[agents.{name}]
{recipe}
timeout = "{timeout}"

[research]
agent = "{name}"
"#,
    ));
    host.run(&["scan"]).ok();
    host.run(&["fix"]).ok();
    let path = format!(
        "{}:{}:{}",
        dir.join("npm/node_modules/.bin").display(),
        dir.join("venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut research = host.command(&["--json", "research"]);
    research.env("PATH", path).env("HOME", &home);
    for variable in CREDENTIALS {
        research.env_remove(variable);
    }
    research.envs(env.iter().copied());
    let out = research.output().unwrap();
    assert!(out.status.success(), "research failed: {out:?}");
    let vote = host.query_text("SELECT vote FROM agent_consultations");
    assert_eq!(
        vote, "abstained",
        "nobody is logged in, yet {name} answered"
    );
    host.query_text("SELECT error FROM agent_consultations")
}

fn assert_names_one_of(reason: &str, words: &[&str]) {
    assert!(
        words.iter().any(|w| reason.contains(w)),
        "the reason names none of {words:?}: {reason}"
    );
}

macro_rules! require_clis {
    ($name:expr) => {
        if let Err(why) = installed() {
            skip($name, &why);
            return;
        }
    };
}

#[test]
fn claude_reports_it_is_not_logged_in() {
    require_clis!("claude_reports_it_is_not_logged_in");
    let reason = research_with_recipe("claude", "60s", &[]);
    assert_contains(&reason, "the agent exited with status 1: Not logged in");
}

#[test]
fn gemini_asks_for_an_auth_method() {
    require_clis!("gemini_asks_for_an_auth_method");
    let reason = research_with_recipe("gemini", "60s", &[]);
    assert_contains(&reason, "Please set an Auth method");
    assert_contains(&reason, "GEMINI_API_KEY");
}

/// With a key, Gemini gets past its login and would refuse an untrusted directory without
/// `--skip-trust`; the fake key then fails at Google's API (offline: "An unexpected critical
/// error occurred" after its retries, or the timeout).
#[test]
fn gemini_with_a_key_trusts_its_directory() {
    require_clis!("gemini_with_a_key_trusts_its_directory");
    let reason = research_with_recipe("gemini", "20s", &[("GEMINI_API_KEY", "not-a-real-key")]);
    assert!(
        !reason.contains("trusted directory"),
        "the recipe needs --skip-trust: {reason}"
    );
    assert_names_one_of(
        &reason,
        &["API key", "API_KEY_INVALID", "critical error", "timed out"],
    );
}

/// Codex learns that nobody is logged in only from OpenAI's answer (401); offline it retries
/// until its timeout. Either way it must get past its git-repository refusal.
#[test]
fn codex_runs_outside_a_git_repository() {
    require_clis!("codex_runs_outside_a_git_repository");
    let reason = research_with_recipe("codex", "20s", &[]);
    assert!(
        !reason.contains("skip-git-repo-check") && !reason.contains("trusted directory"),
        "the recipe needs --skip-git-repo-check: {reason}"
    );
    assert_names_one_of(&reason, &["401", "Unauthorized", "login", "timed out"]);
}

#[test]
fn llm_asks_for_a_key() {
    require_clis!("llm_asks_for_a_key");
    let reason = research_with_recipe("llm", "60s", &[]);
    assert_contains(&reason, "No key found");
    assert_contains(&reason, "OPENAI_API_KEY");
}

/// Claude Code reads the MCP config and the answer's schema before it asks for a login: with
/// the recipe's files it reaches "Not logged in" (above); with a missing config or a schema that
/// is not JSON it stops at them, in its own words. So the recipe's flags and what orchestrator
/// writes for them are accepted.
#[test]
fn claude_reads_the_mcp_config_and_the_schema_before_its_login() {
    require_clis!("claude_reads_the_mcp_config_and_the_schema_before_its_login");
    let recipe = readme_recipe("claude");
    assert_contains(&recipe, "\"--mcp-config\", \"{mcp_config}\"");
    assert_contains(&recipe, "\"--json-schema\", \"{answer_schema_json}\"");
    let missing = recipe.replace("{mcp_config}", "/nonexistent/mcp.json");
    let reason = research_with("claude", &missing, "60s", &[]);
    assert_contains(&reason, "MCP config file not found: /nonexistent/mcp.json");
    let garbage = recipe.replace("{answer_schema_json}", "not json");
    let reason = research_with("claude", &garbage, "60s", &[]);
    assert_contains(&reason, "--json-schema is not valid JSON");
}

/// Codex reads `--output-schema` and the `-c mcp_servers.orchestrator=…` table before it calls
/// OpenAI (where nobody logged in ends it, above).
#[test]
fn codex_reads_the_output_schema_and_the_mcp_server_before_its_login() {
    require_clis!("codex_reads_the_output_schema_and_the_mcp_server_before_its_login");
    let recipe = readme_recipe("codex");
    let missing = recipe.replace("{answer_schema}", "/nonexistent/schema.json");
    let reason = research_with("codex", &missing, "20s", &[]);
    assert_contains(
        &reason,
        "Failed to read output schema file /nonexistent/schema.json",
    );
    let bad_server = recipe.replace("{mcp_server_toml}", "{command = 12}");
    let reason = research_with("codex", &bad_server, "20s", &[]);
    assert_contains(&reason, "mcp_servers.orchestrator.command");
}

/// llm reads `--schema` (the schema file orchestrator writes) before it looks for a key.
#[test]
fn llm_reads_the_schema_before_its_key() {
    require_clis!("llm_reads_the_schema_before_its_key");
    let recipe = readme_recipe("llm");
    assert_contains(&recipe, "\"--schema\", \"{answer_schema}\"");
    let missing = recipe.replace("{answer_schema}", "/nonexistent/schema.json");
    let reason = research_with("llm", &missing, "60s", &[]);
    assert_contains(&reason, "Invalid schema");
}
