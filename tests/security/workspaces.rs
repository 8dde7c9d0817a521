//! A consultation killed in the middle: orchestrator is SIGKILLed while its agent thinks, again
//! and again. The victim is the host's privacy and its disk: each workspace holds a context
//! file with the incident, its facts and its logs. No workspace may be left behind, and none
//! may sit in a shared `/tmp`.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// How many cycles are killed while their agent is being asked.
const KILLED_CYCLES: usize = 6;

/// The workspaces orchestrator keeps beside the database.
fn workspaces(host: &Host) -> Vec<PathBuf> {
    match std::fs::read_dir(host.path("state.db.agents")) {
        Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Issue 18, item 8: a crash loop during consultations leaves no workspace. Each killed cycle's
/// workspace is removed by the next run that takes the cycle lock, so at most the last one is
/// there between runs, and none once the next run has started.
#[test]
fn cycles_killed_during_consultations_leave_no_workspace_behind() {
    let host = Host::new();
    let record = host.path("asked");
    // The agent says where its context file is, then thinks for a minute (it is the process
    // orchestrator started: it dies with orchestrator).
    let agent = host.path("slow-agent.sh");
    write_script(
        &agent,
        &format!(
            "cat > /dev/null\necho \"$ORCHESTRATOR_CONTEXT\" >> {}\nexec sleep 60\n",
            record.display()
        ),
    );
    host.write_config(&format!(
        "{}\n[agents.slow]\ncommand = [\"{}\"]\ntimeout = \"2m\"\n[research]\nagent = \"slow\"\n",
        file_check("backup", host.path("backup.tar").display()),
        agent.display()
    ));
    let asked = || -> Vec<PathBuf> {
        std::fs::read_to_string(&record)
            .unwrap_or_default()
            .lines()
            .map(|context| Path::new(context).parent().unwrap().to_path_buf())
            .collect()
    };
    for round in 1..=KILLED_CYCLES {
        let mut cycle = host
            .command(&["cycle"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a cycle");
        wait_until(
            &format!("the agent of cycle {round} is asked"),
            Duration::from_secs(30),
            || asked().len() == round,
        );
        cycle.kill().expect("SIGKILL the cycle");
        cycle.wait().unwrap();
        let left = workspaces(&host);
        assert!(
            left.len() <= 1,
            "after {round} killed cycles, {} workspaces: {left:?}",
            left.len()
        );
    }
    // The next run that takes the cycle lock removes what the last killed one left.
    host.run(&["scan"]).ok();
    let workspaces_dir = host.path("state.db.agents");
    for (round, workspace) in asked().iter().enumerate() {
        assert!(
            workspace.starts_with(&workspaces_dir),
            "cycle {}'s workspace {} is not in the state directory",
            round + 1,
            workspace.display()
        );
        assert!(
            !workspace.exists(),
            "cycle {}'s workspace {} was left behind",
            round + 1,
            workspace.display()
        );
    }
    assert_eq!(workspaces(&host), Vec::<PathBuf>::new());
}
