//! Root cause first: which active incident explains which. A check's failure is a symptom when
//! a check it depends on (`depends_on`, or implicitly a `disk` check watching the filesystem of
//! its paths, followed transitively) fails too, or when another check
//! of its service (`service`, else `unit`) already holds the incident: the group's first
//! incident leads, the others are its symptoms. Symptoms wait in phase 1 while their cause is
//! active (`Store::incidents_waiting`); phase 1 re-checks them once it closes.

use super::Runtime;
use crate::checks::{self, CheckResult};
use crate::config::{Check, CheckKind, Config};
use crate::model::Status;
use crate::store::{Incident, IncidentFilter};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Active incidents by check name.
type Active = HashMap<String, Incident>;

/// A check's failure explained by another check's: that check, and why.
#[derive(Debug, PartialEq)]
struct Cause<'a> {
    root: &'a str,
    why: String,
}

/// Works out the cause of every active incident and records it: marks new symptoms, releases
/// symptoms whose cause, still active, no longer explains them (the config changed). Returns
/// the incidents newly marked.
pub fn link_symptoms(rt: &mut Runtime) -> crate::store::Result<Vec<i64>> {
    let active = active_incidents(rt)?;
    let mut marked = Vec::new();
    for incident in active.values() {
        let Some(check) = rt.config.check(&incident.check) else {
            continue;
        };
        match cause_of(rt.config, check, &active) {
            Some(cause) => {
                let root = &active[cause.root];
                // Already linked: every scan finds it so; no write needed.
                if incident.caused_by == Some(root.id) {
                    continue;
                }
                let detail = format!("caused by #{} {}: {}", root.id, root.check, cause.why);
                if rt.store.mark_symptom(incident.id, root.id, &detail)? {
                    log::info!("incident {} ({}): {detail}", incident.id, check.name);
                    marked.push(incident.id);
                }
            }
            None => {
                let Some(old) = incident.caused_by else {
                    continue;
                };
                if active.values().any(|other| other.id == old) {
                    let reason = format!("#{old} no longer explains it: worked on by itself");
                    rt.store.release_symptom(incident.id, &reason)?;
                }
            }
        }
    }
    marked.sort_unstable();
    Ok(marked)
}

fn active_incidents(rt: &Runtime) -> crate::store::Result<Active> {
    let filter = IncidentFilter {
        active_only: true,
        ..IncidentFilter::default()
    };
    // Newest first: should a check hold two active incidents, the newest one counts.
    let mut active = Active::new();
    for incident in rt.store.incidents(&filter)? {
        active.entry(incident.check.clone()).or_insert(incident);
    }
    Ok(active)
}

/// The check whose incident explains `check`'s, if another one does.
fn cause_of<'a>(config: &'a Config, check: &'a Check, active: &Active) -> Option<Cause<'a>> {
    let mut seen = vec![check.name.as_str()];
    let (next, why) = first_cause(config, check, active)?;
    let mut root = next;
    while !seen.contains(&root) {
        seen.push(root);
        match config
            .check(root)
            .and_then(|c| first_cause(config, c, active))
        {
            Some((next, _)) => root = next,
            None => break,
        }
    }
    // A loop through groups and dependencies explains nothing: each is worked on.
    (root != check.name).then_some(Cause { root, why })
}

/// One step towards the root: a failing dependency first (the nearest, in `depends_on`
/// order), else the check leading the group's incident.
fn first_cause<'a>(
    config: &'a Config,
    check: &'a Check,
    active: &Active,
) -> Option<(&'a str, String)> {
    if let Some(dependency) = failing_dependency(config, check, active) {
        let why = if is_implicit(config, check, dependency) {
            format!(
                "`{}` keeps files on the filesystem `{dependency}` watches (an implicit dependency)",
                check.name
            )
        } else {
            format!("`{}` depends on `{dependency}`", check.name)
        };
        return Some((dependency, why));
    }
    let group = check.group()?;
    let lead = config
        .checks
        .iter()
        .filter(|c| c.group() == Some(group))
        .filter_map(|c| active.get(&c.name).map(|incident| (incident.id, c)))
        .min_by_key(|(id, _)| *id)?
        .1;
    (lead.name != check.name).then(|| {
        let why = format!(
            "`{}` and `{}` watch one service, `{group}`",
            lead.name, check.name
        );
        (lead.name.as_str(), why)
    })
}

/// The nearest check among `check`'s dependencies, direct first, then theirs, that has an
/// active incident.
fn failing_dependency<'a>(
    config: &'a Config,
    check: &'a Check,
    active: &Active,
) -> Option<&'a str> {
    dependencies(config, check)
        .into_iter()
        .find(|name| active.contains_key(*name))
}

/// Every check `check` depends on, transitively, nearest first (breadth first, each once):
/// those its `depends_on` names, and implicitly each `disk` check watching a filesystem that
/// holds one of its paths (see [`disks_under`]).
pub fn dependencies<'a>(config: &'a Config, check: &'a Check) -> Vec<&'a str> {
    reachable(config, check, true)
}

/// Whether `check` needs `dependency` only implicitly: no chain of `depends_on` reaches it.
pub fn is_implicit(config: &Config, check: &Check, dependency: &str) -> bool {
    !reachable(config, check, false).contains(&dependency)
}

fn reachable<'a>(config: &'a Config, check: &'a Check, implicit: bool) -> Vec<&'a str> {
    let mut found: Vec<&str> = Vec::new();
    let mut next = 0;
    let mut frontier = vec![check];
    while let Some(current) = frontier.get(next) {
        next += 1;
        let written = current.depends_on.iter().map(String::as_str);
        let disks = if implicit {
            disks_under(config, current)
        } else {
            Vec::new()
        };
        for name in written.chain(disks) {
            if name == check.name || found.contains(&name) {
                continue;
            }
            found.push(name);
            if let Some(dependency) = config.check(name) {
                frontier.push(dependency);
            }
        }
    }
    found
}

/// The `disk` checks watching a filesystem that holds one of `check`'s paths (its file or pid
/// file, its logs): a full disk there explains its failure, so it depends on them without the
/// admin writing it. A `disk` check itself depends on none this way.
fn disks_under<'a>(config: &'a Config, check: &Check) -> Vec<&'a str> {
    let paths: Vec<&Path> = match &check.kind {
        CheckKind::Disk(_) => return Vec::new(),
        CheckKind::File(file) => vec![file.path.as_path()],
        CheckKind::Process(process) => process.pidfile.iter().map(PathBuf::as_path).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .chain(check.logs.iter().map(PathBuf::as_path))
    .collect();
    let devices: Vec<u64> = paths.iter().filter_map(|p| device_of(p)).collect();
    if devices.is_empty() {
        return Vec::new();
    }
    config
        .checks
        .iter()
        .filter(|c| c.name != check.name)
        .filter(|c| match &c.kind {
            CheckKind::Disk(disk) => device_of(&disk.path).is_some_and(|d| devices.contains(&d)),
            _ => false,
        })
        .map(|c| c.name.as_str())
        .collect()
}

/// The device of the filesystem holding `path`: its own, or its nearest existing ancestor's
/// (a log not written yet is on its directory's filesystem).
fn device_of(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    path.ancestors()
        .find_map(|p| std::fs::symlink_metadata(p).ok())
        .map(|meta| meta.dev())
}

/// What phase 1 saw of dependencies in one pass over the waiting incidents: each is run once,
/// however many incidents depend on it, and a failing one is recorded once.
#[derive(Default)]
pub struct Looked(HashMap<String, CheckResult>);

/// Phase 1 looks before it acts: runs the checks `check` depends on now (those not `looked` at
/// yet in this pass). A failing one is recorded like a scan's result (its incident opens) and
/// this incident is linked to it. Returns the first failing dependency and its result.
pub fn dependency_down(
    rt: &mut Runtime,
    check: &Check,
    looked: &mut Looked,
) -> crate::store::Result<Option<(String, CheckResult)>> {
    let config = rt.config;
    let names = dependencies(config, check);
    let mut observed = false;
    for &name in &names {
        let Some(dependency) = config.check(name) else {
            continue;
        };
        if looked.0.contains_key(name) {
            continue;
        }
        let result = checks::run_check(dependency);
        if result.status != Status::Ok {
            rt.observe(dependency, &result)?;
            observed = true;
        }
        looked.0.insert(name.to_string(), result);
    }
    if observed {
        link_symptoms(rt)?;
    }
    Ok(names.into_iter().find_map(|name| {
        let result = looked.0.get(name)?;
        (result.status != Status::Ok).then(|| (name.to_string(), result.clone()))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now;
    use crate::model::{IncidentStatus, Severity};

    fn config(text: &str) -> Config {
        Config::parse("test.toml", text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn incident(id: i64, check: &str) -> Incident {
        Incident {
            id,
            check: check.to_string(),
            signature: String::new(),
            severity: Severity::Critical,
            status: IncidentStatus::Open,
            phase: crate::model::Phase::Fix,
            summary: String::new(),
            evidence: String::new(),
            occurrences: 1,
            detected_at: now(),
            last_seen_at: now(),
            resolved_at: None,
            resolved_phase: None,
            resolved_by: None,
            reopened: 0,
            flapping: false,
            handoff: None,
            caused_by: None,
        }
    }

    fn active(list: &[(i64, &str)]) -> Active {
        list.iter()
            .map(|(id, check)| (check.to_string(), incident(*id, check)))
            .collect()
    }

    fn root<'a>(config: &'a Config, check: &str, active: &Active) -> Option<&'a str> {
        cause_of(config, config.check(check).unwrap(), active).map(|c| c.root)
    }

    const CHAIN: &str = "[[checks]]\nname = \"web\"\nkind = \"memory\"\ndepends_on = [\"app\"]\n\
        [[checks]]\nname = \"app\"\nkind = \"memory\"\ndepends_on = [\"db\"]\n\
        [[checks]]\nname = \"db\"\nkind = \"memory\"\n";

    #[test]
    fn the_deepest_failing_dependency_is_the_root() {
        let config = config(CHAIN);
        let all = active(&[(1, "web"), (2, "app"), (3, "db")]);
        assert_eq!(root(&config, "web", &all), Some("db"));
        assert_eq!(root(&config, "app", &all), Some("db"));
        assert_eq!(root(&config, "db", &all), None);
    }

    #[test]
    fn a_dependency_counts_through_a_healthy_one() {
        let config = config(CHAIN);
        let some = active(&[(1, "web"), (3, "db")]);
        assert_eq!(root(&config, "web", &some), Some("db"));
        let alone = active(&[(1, "web")]);
        assert_eq!(root(&config, "web", &alone), None);
    }

    #[test]
    fn the_first_incident_of_a_service_leads_its_group() {
        let config = config(
            "[[checks]]\nname = \"http\"\nkind = \"memory\"\nservice = \"toy\"\n\
             [[checks]]\nname = \"pid\"\nkind = \"memory\"\nunit = \"toy.service\"\nservice = \"toy\"\n\
             [[checks]]\nname = \"other\"\nkind = \"memory\"\n",
        );
        let both = active(&[(7, "http"), (5, "pid"), (6, "other")]);
        assert_eq!(root(&config, "http", &both), Some("pid"));
        assert_eq!(root(&config, "pid", &both), None);
        assert_eq!(root(&config, "other", &both), None);
    }

    #[test]
    fn a_dependency_two_incidents_share_is_run_and_recorded_once_in_a_pass() {
        let (dir, mut store, _) = crate::store::store_with_incident();
        let config = config(&format!(
            "[[checks]]\nname = \"web\"\nkind = \"memory\"\ndepends_on = [\"db\"]\n\
             [[checks]]\nname = \"api\"\nkind = \"memory\"\ndepends_on = [\"db\"]\n\
             [[checks]]\nname = \"db\"\nkind = \"file\"\npath = \"{}/db-up\"\n",
            dir.path().display()
        ));
        let mut rt = Runtime {
            config: &config,
            store: &mut store,
            dry_run: false,
        };
        let mut looked = Looked::default();
        for name in ["web", "api"] {
            let down = dependency_down(&mut rt, config.check(name).unwrap(), &mut looked).unwrap();
            assert_eq!(
                down.map(|(dependency, _)| dependency).as_deref(),
                Some("db")
            );
        }
        let filter = IncidentFilter {
            check: Some("db".into()),
            ..IncidentFilter::default()
        };
        let db = rt.store.incidents(&filter).unwrap();
        assert_eq!(db.len(), 1);
        assert_eq!(db[0].occurrences, 1, "one failure, seen once: {db:?}");
    }

    #[test]
    fn a_check_on_a_filesystem_a_disk_check_watches_depends_on_it_implicitly() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let config = config(&format!(
            "[[checks]]\nname = \"redis\"\nkind = \"tcp\"\naddress = \"127.0.0.1:9\"\nlogs = [\"{d}/log/redis.log\"]\n\
             [[checks]]\nname = \"backup\"\nkind = \"file\"\npath = \"{d}/backup.tar\"\ndepends_on = [\"redis\"]\n\
             [[checks]]\nname = \"kernel\"\nkind = \"file\"\npath = \"/proc/version\"\n\
             [[checks]]\nname = \"redis-disk\"\nkind = \"disk\"\npath = \"{d}\"\n"
        ));
        let redis = config.check("redis").unwrap();
        assert_eq!(dependencies(&config, redis), ["redis-disk"]);
        assert!(is_implicit(&config, redis, "redis-disk"));
        let backup = config.check("backup").unwrap();
        assert_eq!(dependencies(&config, backup), ["redis", "redis-disk"]);
        assert!(!is_implicit(&config, backup, "redis"));
        // On another filesystem (procfs), and the disk check itself: none.
        assert!(dependencies(&config, config.check("kernel").unwrap()).is_empty());
        assert!(dependencies(&config, config.check("redis-disk").unwrap()).is_empty());
        let all = active(&[(1, "redis"), (2, "redis-disk")]);
        let cause = cause_of(&config, redis, &all).expect("a cause");
        assert_eq!(cause.root, "redis-disk");
        assert!(
            cause.why.contains("an implicit dependency"),
            "{}",
            cause.why
        );
    }

    #[test]
    fn a_loop_through_a_group_and_a_dependency_explains_nothing() {
        let config = config(
            "[[checks]]\nname = \"a\"\nkind = \"memory\"\nservice = \"s\"\ndepends_on = [\"c\"]\n\
             [[checks]]\nname = \"c\"\nkind = \"memory\"\nservice = \"s\"\n",
        );
        let both = active(&[(1, "a"), (2, "c")]);
        // `a` leads the group and depends on `c`, its own symptom: neither waits for the other.
        assert_eq!(root(&config, "a", &both), None);
        assert_eq!(root(&config, "c", &both), None);
    }
}
