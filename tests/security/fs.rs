//! Deletions cannot be led outside their tree. A local user who owns a directory under a
//! cleaned path swaps a subdirectory for a symlink to a root-only directory, as fast as the
//! kernel allows, while orchestrator runs `clean_files` and `remove_file` through the real
//! binary; a tmpfs mounted inside the cleaned tree is never entered; and the state database is
//! readable by root alone.

use crate::common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;
const NOGROUP: u32 = 65534;

/// A config of checks that always fail (exit 2: critical), each with one configured remedy, so
/// that every `scan` + `fix` on a fresh database runs each remedy once.
fn remedies_config(remedies: &[(&str, String)]) -> String {
    let mut config = String::from("[cycle]\nsettle = \"0s\"\n\n[policy]\nreopen_within = \"0s\"\n");
    for (name, remedy) in remedies {
        config.push_str(&format!(
            "\n[[checks]]\nname = \"{name}\"\nkind = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"exit 2\"]\nremedy = [ {remedy} ]\n"
        ));
    }
    config
}

fn clean_remedy(path: &Path, glob: &str) -> String {
    format!(
        "{{ action = \"clean_files\", path = \"{}\", glob = \"{glob}\" }}",
        path.display()
    )
}

fn remove_remedy(path: &Path) -> String {
    format!(
        "{{ action = \"remove_file\", path = \"{}\" }}",
        path.display()
    )
}

/// Runs `scan` then `fix` on the database `db` (fresh databases run each remedy again) and
/// returns every attempt's recorded outcome, reason and output, joined.
fn scan_and_fix(host: &Host, db: &Path) -> String {
    run_phases(host, db, &["scan", "fix"])
}

fn run_phases(host: &Host, db: &Path, phases: &[&str]) -> String {
    for phase in phases {
        let output = host
            .command_with_db(db, &[phase])
            .output()
            .expect("run orchestrator");
        assert_eq!(
            output.status.code(),
            Some(0),
            "orchestrator {phase}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let conn = rusqlite::Connection::open(db).expect("open db");
    let mut statement = conn
        .prepare("SELECT outcome || ': ' || reason || ' | ' || output FROM attempts ORDER BY id")
        .expect("prepare");
    let outputs: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    outputs.join("\n")
}

fn write_files(dir: &Path, names: &[&str]) {
    for name in names {
        std::fs::write(dir.join(name), "x").expect("write file");
    }
}

fn missing(dir: &Path, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| !dir.join(n).exists())
        .map(|n| n.to_string())
        .collect()
}

fn chown_tree_to_nobody(path: &Path) {
    std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOGROUP)).expect("chown to nobody");
    if std::fs::symlink_metadata(path).expect("stat").is_dir() {
        for entry in std::fs::read_dir(path).expect("read_dir") {
            chown_tree_to_nobody(&entry.expect("entry").path());
        }
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// target/debug/examples/swap-racer, copied where `nobody` may run it (the build tree may not
/// be reachable for other users).
fn racer_bin(host: &Host) -> PathBuf {
    let built = orchestrator_bin()
        .parent()
        .expect("bin dir")
        .join("examples/swap-racer");
    if !built.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "swap-racer"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo build --example swap-racer");
        assert!(status.success(), "building swap-racer failed");
    }
    let copy = host.path("swap-racer");
    std::fs::copy(&built, &copy).expect("copy swap-racer");
    chmod(&copy, 0o755);
    copy
}

/// The attacker: `nobody` exchanging `a` and `b` in a tight loop for at most `limit`; killed
/// when dropped.
struct Racer(Child);

impl Racer {
    fn start(bin: &Path, a: &Path, b: &Path, limit: Duration) -> Racer {
        let child = Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg(bin)
            .arg(a)
            .arg(b)
            .arg(limit.as_secs_f64().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start swap-racer as nobody");
        let mut racer = Racer(child);
        // It is racing once the names it swaps have been seen traded (slow under heavy I/O:
        // renames wait for the journal).
        let original = std::fs::symlink_metadata(a).expect("stat a").ino();
        wait_until("the racer swaps", Duration::from_secs(20), || {
            assert!(racer.still_running(), "the racer exited before racing");
            std::fs::symlink_metadata(a).map(|m| m.ino()).ok() != Some(original)
        });
        racer
    }

    fn still_running(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Racer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The attacker's layout: `allowed` (owned by `nobody`, the tree the remedies clean) holds
/// `sub`, a real directory, and `link`, a symlink to `victim`, a root-only 0700 directory.
struct RaceTree {
    allowed: PathBuf,
    sub: PathBuf,
    link: PathBuf,
    steady: PathBuf,
    victim: PathBuf,
}

const VICTIM_FILES: [&str; 4] = ["secret-1.tmp", "secret-2.tmp", "secret-3.tmp", "victim.pid"];
const STEADY_FILES: [&str; 3] = ["old-1.tmp", "old-2.tmp", "old-3.tmp"];

impl RaceTree {
    fn plant(host: &Host) -> RaceTree {
        // The test's own directory is root's 0700: let `nobody` through, not in.
        chmod(host.dir.path(), 0o711);
        let allowed = host.path("allowed");
        let victim = host.path("victim");
        let tree = RaceTree {
            sub: allowed.join("sub"),
            link: allowed.join("link"),
            steady: allowed.join("steady"),
            allowed,
            victim,
        };
        std::fs::create_dir_all(&tree.sub).expect("sub");
        std::fs::create_dir_all(&tree.steady).expect("steady");
        std::os::unix::fs::symlink(&tree.victim, &tree.link).expect("link");
        write_files(&tree.sub, &["cache-1.tmp", "cache-2.tmp"]);
        chown_tree_to_nobody(&tree.allowed);
        std::fs::create_dir(&tree.victim).expect("victim dir");
        chmod(&tree.victim, 0o700);
        write_files(&tree.victim, &VICTIM_FILES);
        tree
    }

    /// Files a round must clean: in a directory nobody swaps, so their removal is certain.
    /// The steady files are an hour old: an agent's `clean_files` leaves files written in the
    /// last 15 minutes (they may be live logs).
    fn refill_steady(&self) {
        write_files(&self.steady, &STEADY_FILES);
        let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        for name in STEADY_FILES {
            std::fs::File::options()
                .write(true)
                .open(self.steady.join(name))
                .expect("open steady file")
                .set_modified(hour_ago)
                .expect("age steady file");
        }
    }
}

#[test]
fn a_racing_symlink_swap_never_leads_a_remedy_out_of_its_tree() {
    crate::require_system!(
        "a_racing_symlink_swap_never_leads_a_remedy_out_of_its_tree",
        Need::Root,
        Need::Program("/usr/bin/setpriv", "util-linux")
    );
    let host = Host::new();
    let tree = RaceTree::plant(&host);
    host.write_config(&remedies_config(&[
        ("race-clean", clean_remedy(&tree.allowed, "*.tmp")),
        ("race-remove", remove_remedy(&tree.sub.join("victim.pid"))),
    ]));
    race(&host, &tree, &["scan", "fix"]);
}

/// The same race against an agent's plan, which the policy judges first: whatever the policy
/// saw when it resolved the path, the deletion itself must not follow the swap.
#[test]
fn a_racing_symlink_swap_never_leads_an_agents_plan_out_of_its_tree() {
    crate::require_system!(
        "a_racing_symlink_swap_never_leads_an_agents_plan_out_of_its_tree",
        Need::Root,
        Need::Program("/usr/bin/setpriv", "util-linux")
    );
    let host = Host::new();
    let tree = RaceTree::plant(&host);
    let agent = canned_agent(
        &host,
        &[
            (
                "race-clean",
                format!(
                    r#"[{{"action": "clean_files", "path": "{}", "glob": "*.tmp"}}]"#,
                    tree.allowed.display()
                ),
            ),
            (
                "race-remove",
                format!(
                    r#"[{{"action": "remove_file", "path": "{}"}}]"#,
                    tree.sub.join("victim.pid").display()
                ),
            ),
        ],
    );
    let mut config = remedies_config(&[]);
    // The pid file is a word of the check's own command: tied to its service by the config,
    // so the agent's `remove_file` runs without a person and meets the race.
    for check in ["race-clean", "race-remove"] {
        config.push_str(&format!(
            "\n[[checks]]\nname = \"{check}\"\nkind = \"command\"\ncommand = [\"/bin/sh\", \"-c\", \"exit 2\", \"sh\", \"{}\"]\n",
            tree.sub.join("victim.pid").display()
        ));
    }
    config = config.replace(
        "[policy]\n",
        &format!(
            "[policy]\nactions = [\"clean_files\", \"remove_file\"]\npaths = [\"{}\", \"{}/**\"]\n",
            tree.allowed.display(),
            tree.allowed.display()
        ),
    );
    config.push_str(&format!(
        "\n[agents.canned]\ncommand = [\"/bin/sh\", \"{}\"]\ntimeout = \"10s\"\n\n[research]\nagent = \"canned\"\n",
        agent.display()
    ));
    host.write_config(&config);
    race(&host, &tree, &["scan", "fix", "research"]);
}

/// An agent that answers each check's incident with its own plan: the prompt on stdin names
/// the check.
fn canned_agent(host: &Host, plans: &[(&str, String)]) -> PathBuf {
    let mut script = String::from("prompt=$(cat)\n");
    for (check, plan) in plans {
        let answer = host.path(&format!("{check}.answer"));
        std::fs::write(
            &answer,
            format!(r#"{{"diagnosis": "stale files", "confidence": 0.9, "plan": {plan}}}"#),
        )
        .expect("write answer");
        script.push_str(&format!(
            "case \"$prompt\" in *{check}*) exec cat '{}';; esac\n",
            answer.display()
        ));
    }
    script.push_str("exit 1\n");
    let path = host.path("agent.sh");
    std::fs::write(&path, script).expect("write agent");
    path
}

/// Runs `phases` on a fresh database round after round, for a bounded time, while `nobody`
/// swaps `sub` and `link`. Every round the victim must be whole and the steady files gone; over
/// all rounds, some deletion must have met the symlink and been refused for it, naming it.
fn race(host: &Host, tree: &RaceTree, phases: &[&str]) {
    let racer_limit = Duration::from_secs(45);
    let mut racer = Racer::start(&racer_bin(host), &tree.sub, &tree.link, racer_limit);
    let (mut rounds, mut walk_refusals, mut policy_refusals) = (0, 0, 0);
    let started = Instant::now();
    // 10 s of rounds, and at least 5 of them on a loaded machine, while the racer (45 s) runs.
    let enough = |rounds: u32, elapsed: Duration| {
        rounds >= 40
            || (rounds >= 5 && elapsed >= Duration::from_secs(10))
            || elapsed >= Duration::from_secs(35)
    };
    while !enough(rounds, started.elapsed()) {
        rounds += 1;
        tree.refill_steady();
        let outputs = run_phases(host, &host.path(&format!("round-{rounds}.db")), phases);
        let lost = missing(&tree.victim, &VICTIM_FILES);
        assert!(
            lost.is_empty(),
            "round {rounds}: the root-only directory lost {lost:?} through the swapped symlink\n{outputs}"
        );
        let kept = STEADY_FILES.len() - missing(&tree.steady, &STEADY_FILES).len();
        assert_eq!(
            kept, 0,
            "round {rounds}: clean_files left files it should have removed\n{outputs}"
        );
        // The deletion met the symlink itself, or (for agents' plans) the policy saw it.
        walk_refusals += outputs.matches("is a symlink").count();
        policy_refusals += outputs.matches("is not under [policy] paths").count();
    }
    assert!(
        racer.still_running(),
        "the racer stopped early: the race was not run"
    );
    eprintln!(
        "{rounds} rounds in {:?}; refused on meeting the symlink: {walk_refusals} by the walk, \
         {policy_refusals} by the policy",
        started.elapsed()
    );
    drop(racer);
    assert!(rounds >= 5, "only {rounds} rounds ran in the time given");
    assert!(
        walk_refusals + policy_refusals > 0,
        "in {rounds} rounds no deletion was refused for meeting the symlink: the race never hit"
    );
}

/// A tmpfs mounted under `path`; unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(path: &Path) -> Mount {
        std::fs::create_dir_all(path).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "orchestrator-test"])
            .arg(path)
            .status()
            .expect("run mount");
        assert!(status.success(), "mount -t tmpfs failed");
        Mount(path.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn clean_files_never_crosses_into_a_mounted_filesystem() {
    crate::require_system!(
        "clean_files_never_crosses_into_a_mounted_filesystem",
        Need::Root
    );
    let host = Host::new();
    let tree = host.path("logs");
    let mount = Mount::tmpfs(&tree.join("mnt"));
    write_files(&mount.0, &["victim.log"]);
    write_files(&tree, &["old.log"]);
    host.write_config(&remedies_config(&[("logs", clean_remedy(&tree, "*.log"))]));

    let outputs = scan_and_fix(&host, &host.db_path());
    assert!(
        mount.0.join("victim.log").exists(),
        "clean_files deleted a file on the mounted filesystem\n{outputs}"
    );
    assert!(
        !tree.join("old.log").exists(),
        "the tree itself was not cleaned\n{outputs}"
    );
    assert_contains(&outputs, "mount point");
}

/// What every `cargo test` checks, as any user: the walk does not enter a symlinked
/// subdirectory, and refuses a symlink in the path it was given, naming it.
#[test]
fn deletions_do_not_follow_symlinks_and_say_so() {
    let host = Host::new();
    let tree = host.path("tree");
    let outside = host.path("outside");
    std::fs::create_dir_all(tree.join("real")).expect("tree");
    std::fs::create_dir_all(&outside).expect("outside");
    write_files(&outside, &["keep.tmp", "keep.pid"]);
    write_files(&tree.join("real"), &["gone.tmp"]);
    std::os::unix::fs::symlink(&outside, tree.join("linked")).expect("dir link");
    std::os::unix::fs::symlink(outside.join("keep.pid"), tree.join("file.pid")).expect("link");
    host.write_config(&remedies_config(&[
        ("clean", clean_remedy(&tree, "*.tmp")),
        ("through", remove_remedy(&tree.join("linked/keep.pid"))),
        ("last", remove_remedy(&tree.join("file.pid"))),
    ]));

    let outputs = scan_and_fix(&host, &host.db_path());
    assert!(
        !tree.join("real/gone.tmp").exists(),
        "clean_files removed nothing\n{outputs}"
    );
    assert_eq!(
        missing(&outside, &["keep.tmp", "keep.pid"]),
        Vec::<String>::new(),
        "a deletion followed a symlink\n{outputs}"
    );
    assert!(
        tree.join("file.pid").symlink_metadata().is_ok(),
        "remove_file removed a symlink it should have refused\n{outputs}"
    );
    // `linked` and `file.pid`: neither entered nor removed.
    assert_contains(&outputs, "skipped 2 symlinks");
    assert_contains(
        &outputs,
        &format!("{} is a symlink", tree.join("linked").display()),
    );
    assert_contains(
        &outputs,
        &format!("{} is a symlink", tree.join("file.pid").display()),
    );
}
/// The database, its WAL files and the lock file after one cycle.
fn state_files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", ".lock"]
        .iter()
        .map(|suffix| PathBuf::from(format!("{}{suffix}", db.display())))
        .collect()
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Runs a scan with a database in a directory orchestrator must create.
fn scan_into_new_directory(host: &Host) -> PathBuf {
    let db = host.path("state/nested/state.db");
    host.write_config(&remedies_config(&[]));
    let output = host
        .command_with_db(&db, &["scan"])
        .output()
        .expect("run orchestrator");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    db
}

/// Holds a connection open, as the dashboard does, so that the -wal and -shm files exist to be
/// looked at. SQLite gives them the database file's own mode, whoever opens it.
fn open_wal(db: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).expect("open db");
    let _: i64 = conn
        .query_row("SELECT COUNT(*) FROM cycles", [], |r| r.get(0))
        .expect("read");
    conn
}

#[test]
fn the_state_database_is_created_private() {
    let host = Host::new();
    let db = scan_into_new_directory(&host);
    let _open = open_wal(&db);
    for file in state_files(&db) {
        assert_eq!(mode_of(&file), 0o600, "{} is not 0600", file.display());
    }
    for dir in [host.path("state"), host.path("state/nested")] {
        assert_eq!(mode_of(&dir), 0o700, "{} is not 0700", dir.display());
    }
}

#[test]
fn nobody_cannot_read_the_state_database() {
    crate::require_system!(
        "nobody_cannot_read_the_state_database",
        Need::Root,
        Need::Program("/usr/bin/setpriv", "util-linux")
    );
    let host = Host::new();
    chmod(host.dir.path(), 0o755);
    let db = scan_into_new_directory(&host);
    let _open = open_wal(&db);
    // Even with the directories opened to everyone, the files themselves stay closed.
    chmod(&host.path("state"), 0o755);
    chmod(&host.path("state/nested"), 0o755);
    for file in state_files(&db) {
        let read = Command::new("setpriv")
            .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
            .arg("cat")
            .arg(&file)
            .output()
            .expect("run cat as nobody");
        assert!(!read.status.success(), "nobody read {}", file.display());
        assert_contains(&String::from_utf8_lossy(&read.stderr), "Permission denied");
    }
}
