//! scripts/install.sh staged into a temporary DESTDIR: every file under the staged root, the
//! live host untouched, nothing enabled, and back out.

use crate::common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The live places an install could change: their every entry, with its inode change time.
const LIVE: &[&str] = &[
    "/etc/systemd",
    "/etc/orchestrator",
    "/usr/local",
    "/opt",
    "/var/lib/orchestrator",
    "/var/lib/prometheus",
];

/// A recursive listing: path -> (kind, size, mtime, ctime), symlinks not followed.
fn snapshot(roots: &[&str]) -> BTreeMap<PathBuf, (u32, u64, i64, i64)> {
    fn walk(path: &Path, into: &mut BTreeMap<PathBuf, (u32, u64, i64, i64)>) {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        into.insert(
            path.to_path_buf(),
            (
                meta.mode() & 0o170000,
                meta.size(),
                meta.mtime(),
                meta.ctime(),
            ),
        );
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), into);
            }
        }
    }
    let mut listing = BTreeMap::new();
    for root in roots {
        walk(Path::new(root), &mut listing);
    }
    listing
}

/// Every regular file under `dir`, relative to it, as an absolute path of the staged root.
fn files_under(dir: &Path) -> Vec<String> {
    snapshot(&[dir.to_str().unwrap()])
        .into_iter()
        .filter(|(_, (kind, ..))| *kind == 0o100000)
        .map(|(path, _)| format!("/{}", path.strip_prefix(dir).unwrap().display()))
        .collect()
}

/// `Documentation=man:orchestrator-serve(1)` -> "man1/orchestrator-serve.1".
fn documented_man_pages(unit: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|line| line.strip_prefix("Documentation="))
        .flat_map(str::split_whitespace)
        .filter_map(|uri| uri.strip_prefix("man:"))
        .filter_map(|page| {
            let (name, section) = page.strip_suffix(')')?.split_once('(')?;
            Some(format!("man{section}/{name}.{section}"))
        })
        .collect()
}

/// A `systemctl` first on PATH that only records how it was called: the victim is the live
/// systemd state, which a staged install must never ask systemctl to change.
struct SystemctlRecorder {
    dir: tempfile::TempDir,
}

impl SystemctlRecorder {
    fn new() -> SystemctlRecorder {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("systemctl");
        let log = dir.path().join("calls");
        write_script(&script, &format!("echo \"$*\" >> {}\n", log.display()));
        SystemctlRecorder { dir }
    }

    fn path_env(&self) -> String {
        format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    fn calls(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("calls")).unwrap_or_default()
    }
}

fn install(destdir: &Path, args: &[&str], systemctl: &SystemctlRecorder) -> Output {
    Command::new("bash")
        .arg(format!("{}/scripts/install.sh", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .args(["--binary", orchestrator_bin().to_str().unwrap()])
        // DESTDIR from the environment, as `make install DESTDIR=...` users pass it.
        .env("DESTDIR", destdir)
        .env("PATH", systemctl.path_env())
        .output()
        .expect("run install.sh")
}

#[track_caller]
fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "install.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_staged_install_with_a_prefix_lands_under_destdir_and_changes_nothing_live() {
    let destdir = tempfile::tempdir().unwrap();
    let at = |p: &str| destdir.path().join(p.trim_start_matches('/'));
    let systemctl = SystemctlRecorder::new();
    let live_before = snapshot(LIVE);

    let out = install(destdir.path(), &["--prefix", "/opt/orch"], &systemctl);
    assert_success(&out);

    // Everything under the prefix, the state and the metrics textfile directories too
    // (autotools' localstatedir: PREFIX/var), nothing else made even empty.
    let staged = files_under(destdir.path());
    for file in &staged {
        assert!(
            file.starts_with("/opt/orch/"),
            "{file} is outside the prefix"
        );
    }
    for dir in snapshot(&[destdir.path().to_str().unwrap()]).keys() {
        let dir = format!("/{}", dir.strip_prefix(destdir.path()).unwrap().display());
        assert!(
            "/opt/orch".starts_with(&dir) || dir.starts_with("/opt/orch/"),
            "{dir} was made outside the prefix"
        );
    }
    assert!(!at("/var").exists(), "/var was made outside the prefix");
    for file in [
        "/opt/orch/bin/orchestrator",
        "/opt/orch/lib/systemd/system/orchestrator.service",
        "/opt/orch/lib/systemd/system/orchestrator.timer",
        "/opt/orch/lib/systemd/system/orchestrator-dashboard.service",
        "/opt/orch/lib/systemd/system/orchestrator-failure@.service",
        "/opt/orch/share/man/man1/orchestrator.1",
        "/opt/orch/share/man/man1/orchestrator-scan.1",
        "/opt/orch/share/man/man5/orchestrator.toml.5",
        "/opt/orch/share/bash-completion/completions/orchestrator",
        "/opt/orch/etc/orchestrator/orchestrator.toml",
        "/opt/orch/share/doc/orchestrator/examples/orchestrator.toml",
    ] {
        assert!(staged.iter().any(|f| f == file), "{file} was not installed");
    }
    // The example is the one orchestrator.toml(5) points to, and the default config is the
    // embedded one whole (with its systemd check, whatever host ran install.sh), naming the
    // database under the prefix.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        std::fs::read(at(
            "/opt/orch/share/doc/orchestrator/examples/orchestrator.toml"
        ))
        .unwrap(),
        std::fs::read(repo.join("examples/orchestrator.toml")).unwrap()
    );
    let config =
        std::fs::read_to_string(at("/opt/orch/etc/orchestrator/orchestrator.toml")).unwrap();
    assert!(
        config.starts_with(&std::fs::read_to_string(repo.join("src/config/default.toml")).unwrap()),
        "{config}"
    );
    assert_contains(&config, "kind = \"systemd-failed\"");
    assert_contains(
        &config,
        "[state]\ndb = \"/opt/orch/var/lib/orchestrator/orchestrator.db\"\n",
    );
    assert_contains(
        &std::fs::read_to_string(repo.join("man/orchestrator.toml.5")).unwrap(),
        "share/doc/orchestrator/examples/orchestrator.toml",
    );
    // Every shipped unit is installed, a unit added to systemd/ later included.
    for unit in std::fs::read_dir(format!("{}/systemd", env!("CARGO_MANIFEST_DIR"))).unwrap() {
        let name = unit.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".service") || name.ends_with(".timer") {
            let file = format!("/opt/orch/lib/systemd/system/{name}");
            assert!(staged.contains(&file), "{file} was not installed");
        }
    }
    assert!(at("/opt/orch/var/lib/prometheus/node-exporter").is_dir());
    let state_mode = std::fs::metadata(at("/opt/orch/var/lib/orchestrator"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(state_mode, 0o700, "the state directory is {state_mode:o}");

    // The units run the installed binary with the installed config (not in /etc, so -c).
    let unit =
        std::fs::read_to_string(at("/opt/orch/lib/systemd/system/orchestrator.service")).unwrap();
    assert_contains(
        &unit,
        "ExecStart=/opt/orch/bin/orchestrator -c /opt/orch/etc/orchestrator/orchestrator.toml scan",
    );
    assert!(!unit.contains("/usr/local/bin"), "{unit}");
    // The metrics go to the textfile directory under the prefix; systemd makes a
    // StateDirectory= only under /var/lib, so the unit names none (install.sh made it).
    assert_contains(
        &unit,
        "metrics --textfile /opt/orch/var/lib/prometheus/node-exporter/orchestrator.prom\n",
    );
    assert!(!unit.contains("StateDirectory"), "{unit}");
    assert!(
        !unit.replace("/opt/orch/var/lib/", "").contains("/var/lib/"),
        "{unit}"
    );
    // The state is root's alone: the directory, and whatever the cycle creates in it.
    assert_contains(&unit, "UMask=0077");
    let dashboard = std::fs::read_to_string(at(
        "/opt/orch/lib/systemd/system/orchestrator-dashboard.service",
    ))
    .unwrap();
    assert_contains(
        &dashboard,
        "ExecStart=/opt/orch/bin/orchestrator -c /opt/orch/etc/orchestrator/orchestrator.toml serve",
    );
    assert_contains(
        &dashboard,
        "\nReadWritePaths=/opt/orch/var/lib/orchestrator\n",
    );

    // Every man page a unit's Documentation= names is installed (systemd-analyze verify runs
    // with --man=no in tests/systemd.rs: its container has no man).
    for unit in staged.iter().filter(|f| f.contains("/lib/systemd/system/")) {
        let text = std::fs::read_to_string(at(unit)).unwrap();
        for page in documented_man_pages(&text) {
            assert!(
                staged.contains(&format!("/opt/orch/share/man/{page}")),
                "{unit} names man page {page}, which is not installed"
            );
        }
    }
    // man finds the pages where they were put.
    let man = Command::new("man")
        .arg("-M")
        .arg(at("/opt/orch/share/man"))
        .args(["-w", "5", "orchestrator.toml"])
        .output();
    if let Ok(man) = man {
        assert_contains(
            &String::from_utf8_lossy(&man.stdout),
            "/opt/orch/share/man/man5/orchestrator.toml.5",
        );
    }
    assert_contains(&unit, "OnFailure=orchestrator-failure@%n.service");
    let on_failure = std::fs::read_to_string(at(
        "/opt/orch/lib/systemd/system/orchestrator-failure@.service",
    ))
    .unwrap();
    assert_contains(
        &on_failure,
        "ExecStart=/opt/orch/bin/orchestrator -c /opt/orch/etc/orchestrator/orchestrator.toml notify-failure %i",
    );
    // The installed binary accepts the installed config, and finds the state under the prefix.
    let check = Command::new(at("/opt/orch/bin/orchestrator"))
        .arg("-c")
        .arg(at("/opt/orch/etc/orchestrator/orchestrator.toml"))
        .args(["config", "check"])
        .output()
        .unwrap();
    assert_success(&check);
    assert_contains(
        &String::from_utf8_lossy(&check.stdout),
        "database: /opt/orch/var/lib/orchestrator/orchestrator.db",
    );
    assert_passes_strict(&at("/opt/orch/etc/orchestrator/orchestrator.toml"));
    assert_passes_strict(&at(
        "/opt/orch/share/doc/orchestrator/examples/orchestrator.toml",
    ));

    // A second install keeps the admin's config; uninstall removes the rest and keeps it.
    std::fs::write(
        at("/opt/orch/etc/orchestrator/orchestrator.toml"),
        "# mine\n",
    )
    .unwrap();
    assert_success(&install(
        destdir.path(),
        &["--prefix", "/opt/orch"],
        &systemctl,
    ));
    assert_eq!(
        std::fs::read_to_string(at("/opt/orch/etc/orchestrator/orchestrator.toml")).unwrap(),
        "# mine\n"
    );
    let out = install(
        destdir.path(),
        &["--prefix", "/opt/orch", "--uninstall"],
        &systemctl,
    );
    assert_success(&out);
    assert_eq!(
        files_under(destdir.path()),
        vec!["/opt/orch/etc/orchestrator/orchestrator.toml".to_string()],
        "uninstall keeps the config and removes everything else"
    );

    assert_eq!(systemctl.calls(), "", "a staged install ran systemctl");
    let live_after = snapshot(LIVE);
    let changed: Vec<_> = live_before
        .keys()
        .chain(live_after.keys())
        .filter(|p| live_before.get(*p) != live_after.get(*p))
        .collect();
    assert!(
        changed.is_empty(),
        "a staged install changed the live host: {changed:?}"
    );
}

#[test]
fn enable_into_a_staged_root_is_refused_before_anything_is_written() {
    let destdir = tempfile::tempdir().unwrap();
    let systemctl = SystemctlRecorder::new();
    let out = install(destdir.path(), &["--enable"], &systemctl);
    assert_eq!(out.status.code(), Some(2));
    assert_contains(
        &String::from_utf8_lossy(&out.stderr),
        "--enable with DESTDIR refused: the staged root is not the running system",
    );
    assert_eq!(systemctl.calls(), "");
    assert_eq!(files_under(destdir.path()), Vec::<String>::new());
}

#[test]
fn the_default_prefix_uses_etc_and_an_upgrade_removes_units_an_older_install_left_in_etc() {
    let destdir = tempfile::tempdir().unwrap();
    let at = |p: &str| destdir.path().join(p.trim_start_matches('/'));
    let put = |p: &str, text: &str| {
        std::fs::create_dir_all(at(p).parent().unwrap()).unwrap();
        std::fs::write(at(p), text).unwrap();
    };
    // An older install wrote its units into /etc/systemd/system, where they would shadow the
    // new ones; the admin's own unit beside them is the victim that must survive.
    put(
        "/etc/systemd/system/orchestrator.timer",
        "[Timer]\nOnBootSec=1min\nPersistent=true\n",
    );
    put(
        "/etc/systemd/system/admin.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    put(
        "/usr/local/share/orchestrator/install-manifest",
        "/usr/local/bin/orchestrator\n/etc/systemd/system/orchestrator.timer\n",
    );
    let systemctl = SystemctlRecorder::new();
    assert_success(&install(destdir.path(), &[], &systemctl));

    assert!(!at("/etc/systemd/system/orchestrator.timer").exists());
    assert_eq!(
        std::fs::read_to_string(at("/etc/systemd/system/admin.service")).unwrap(),
        "[Service]\nExecStart=/bin/true\n"
    );
    // /usr/local: the config where the binary looks without -c, the units where systemd looks.
    assert!(at("/etc/orchestrator/orchestrator.toml").is_file());
    let unit =
        std::fs::read_to_string(at("/usr/local/lib/systemd/system/orchestrator.service")).unwrap();
    assert_contains(&unit, "ExecStart=/usr/local/bin/orchestrator scan\n");
    assert!(at("/usr/local/bin/orchestrator").is_file());
    // /usr/local is the system's: the state under /var, made by systemd's StateDirectory= too.
    assert!(at("/var/lib/orchestrator").is_dir());
    assert!(at("/var/lib/prometheus/node-exporter").is_dir());
    assert_contains(&unit, "StateDirectory=orchestrator\n");
    assert_contains(
        &unit,
        "metrics --textfile /var/lib/prometheus/node-exporter/orchestrator.prom\n",
    );
    assert!(at("/usr/local/share/doc/orchestrator/examples/orchestrator.toml").is_file());
    let config = std::fs::read_to_string(at("/etc/orchestrator/orchestrator.toml")).unwrap();
    assert!(!config.contains("[state]"), "{config}");
    assert_eq!(systemctl.calls(), "");
}

#[test]
fn localstatedir_puts_the_state_and_the_textfile_where_it_says() {
    let destdir = tempfile::tempdir().unwrap();
    let at = |p: &str| destdir.path().join(p.trim_start_matches('/'));
    let systemctl = SystemctlRecorder::new();
    let live_before = snapshot(LIVE);
    assert_success(&install(
        destdir.path(),
        &["--prefix", "/opt/orch", "--localstatedir", "/srv/orch"],
        &systemctl,
    ));
    let mode = std::fs::metadata(at("/srv/orch/lib/orchestrator"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o700);
    assert!(at("/srv/orch/lib/prometheus/node-exporter").is_dir());
    assert!(!at("/opt/orch/var").exists() && !at("/var").exists());
    let unit =
        std::fs::read_to_string(at("/opt/orch/lib/systemd/system/orchestrator.service")).unwrap();
    assert_contains(
        &unit,
        "metrics --textfile /srv/orch/lib/prometheus/node-exporter/orchestrator.prom\n",
    );
    let config =
        std::fs::read_to_string(at("/opt/orch/etc/orchestrator/orchestrator.toml")).unwrap();
    assert_contains(
        &config,
        "db = \"/srv/orch/lib/orchestrator/orchestrator.db\"",
    );
    let relative = install(destdir.path(), &["--localstatedir", "srv"], &systemctl);
    assert_eq!(relative.status.code(), Some(2));
    assert_eq!(systemctl.calls(), "");
    assert_eq!(
        snapshot(LIVE),
        live_before,
        "a staged install changed the live host"
    );
}
