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
use std::collections::{HashMap, HashSet};
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
    let causes = Causes::of(rt.config, &active);
    let mut marked = Vec::new();
    for incident in active.values() {
        let Some(check) = rt.config.check(&incident.check) else {
            continue;
        };
        match causes.of_check(check) {
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

/// One step towards a failing check's root cause: the nearest failing check among its
/// dependencies (followed transitively, breadth first: direct ones in `depends_on` order, then
/// theirs), else the check leading its service group's incident (the oldest). The root is
/// reached by following steps until a check has none, or the walk comes back to a check it
/// passed (a loop through groups and dependencies: each of its checks is worked on).
///
/// Worked out for every check at once, each step and each dependency looked at once: linear
/// in checks plus dependencies, however deep the chains (a walk per incident was cubic in the
/// depth of a chain: a 3 000-deep one never finished).
struct Causes<'a> {
    config: &'a Config,
    /// Each check's place in `config.checks`.
    places: HashMap<&'a str, usize>,
    /// Per check: its first step and why, for checks with an active incident.
    step: Vec<Option<(usize, String)>>,
    /// Per check: where a walk through it ends (itself when it has no step or is on a loop).
    end: Vec<usize>,
    /// Per check: whether it is on a loop of steps.
    on_loop: Vec<bool>,
}

impl<'a> Causes<'a> {
    fn of(config: &'a Config, active: &Active) -> Causes<'a> {
        let checks = &config.checks;
        let places: HashMap<&str, usize> = checks
            .iter()
            .enumerate()
            .map(|(i, check)| (check.name.as_str(), i))
            .collect();
        let failing: Vec<bool> = checks
            .iter()
            .map(|check| active.contains_key(&check.name))
            .collect();
        let edges = Edges::of(config, &places);
        let nearest = nearest_failing(&edges, &failing);
        let leads = group_leads(checks, active);
        let step = (0..checks.len())
            .map(|i| {
                if !failing[i] {
                    return None;
                }
                let check = &checks[i];
                if let Some(Nearest { at, implicit, .. }) = nearest[i] {
                    let why = if implicit {
                        format!(
                            "`{}` keeps files on the filesystem `{}` watches (an implicit dependency)",
                            check.name, checks[at].name
                        )
                    } else {
                        format!("`{}` depends on `{}`", check.name, checks[at].name)
                    };
                    return Some((at, why));
                }
                let group = check.group()?;
                let lead = leads.get(group).map(|(_, lead)| *lead)?;
                (lead != i).then(|| {
                    let why = format!(
                        "`{}` and `{}` watch one service, `{group}`",
                        checks[lead].name, check.name
                    );
                    (lead, why)
                })
            })
            .collect();
        let mut causes = Causes {
            config,
            places,
            step,
            end: (0..checks.len()).collect(),
            on_loop: vec![false; checks.len()],
        };
        causes.follow_steps();
        causes
    }

    /// Fills `end` and `on_loop`, visiting each check once: a walk stops at a check already
    /// resolved, or at one on its own path (a loop, whose checks end at themselves).
    fn follow_steps(&mut self) {
        let count = self.step.len();
        let mut resolved = vec![false; count];
        let mut on_path = vec![false; count];
        for start in 0..count {
            let mut path = Vec::new();
            let mut at = start;
            while !resolved[at] && !on_path[at] {
                on_path[at] = true;
                path.push(at);
                match &self.step[at] {
                    Some((next, _)) => at = *next,
                    None => break,
                }
            }
            if on_path[at] && self.step[at].is_some() && !resolved[at] {
                // Back at a check of this walk with a step out of it: a loop from `at` on.
                let from = path.iter().position(|i| *i == at).unwrap_or(0);
                for &i in &path[from..] {
                    self.on_loop[i] = true;
                    resolved[i] = true;
                }
                path.truncate(from);
            }
            // What is left of the path ends where its next check ends, last first.
            for &i in path.iter().rev() {
                if !resolved[i] {
                    self.end[i] = match &self.step[i] {
                        Some((next, _)) => self.end[*next],
                        None => i,
                    };
                    resolved[i] = true;
                }
            }
            for &i in &path {
                on_path[i] = false;
            }
        }
    }

    /// The check whose incident explains `check`'s, if another one does.
    fn of_check(&self, check: &Check) -> Option<Cause<'a>> {
        let i = *self.places.get(check.name.as_str())?;
        if self.on_loop[i] {
            return None;
        }
        let (next, why) = self.step[i].as_ref()?;
        let root = self.end[*next];
        (root != i).then(|| Cause {
            root: self.config.checks[root].name.as_str(),
            why: why.clone(),
        })
    }
}

/// Every check's direct dependencies by place: those its `depends_on` names, in order, then
/// (implicitly) the `disk` checks watching a filesystem that holds one of its paths.
struct Edges(Vec<Vec<(usize, bool)>>);

impl Edges {
    fn of(config: &Config, places: &HashMap<&str, usize>) -> Edges {
        let disks = DiskChecks::of(config);
        Edges(
            config
                .checks
                .iter()
                .enumerate()
                .map(|(i, check)| {
                    let written = check
                        .depends_on
                        .iter()
                        .filter_map(|name| places.get(name.as_str()).copied())
                        .map(|j| (j, false));
                    let implicit = disks
                        .under(check)
                        .into_iter()
                        .filter_map(|name| places.get(name).copied())
                        .map(|j| (j, true));
                    let mut seen = HashSet::new();
                    written
                        .chain(implicit)
                        .filter(|&(j, _)| j != i && seen.insert(j))
                        .collect()
                })
                .collect(),
        )
    }
}

/// A check's nearest failing dependency: how far, which, and whether the way there passes an
/// implicit dependency (then the why says so).
#[derive(Debug, Clone, Copy)]
struct Nearest {
    distance: usize,
    at: usize,
    implicit: bool,
}

/// For each check, its nearest failing dependency, found by the first direct dependency, in
/// `depends_on` order (implicit ones after), that leads to one at the least distance: what a
/// breadth-first walk from the check meets first. Each check is solved once, after its
/// dependencies (depth first, on an explicit stack: a chain may be thousands deep).
fn nearest_failing(edges: &Edges, failing: &[bool]) -> Vec<Option<Nearest>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Solved,
    }
    let count = edges.0.len();
    let mut state = vec![State::New; count];
    let mut nearest: Vec<Option<Nearest>> = vec![None; count];
    for start in 0..count {
        if state[start] != State::New {
            continue;
        }
        let mut stack = vec![start];
        while let Some(&i) = stack.last() {
            if state[i] == State::New {
                state[i] = State::Open;
                stack.extend(
                    edges.0[i]
                        .iter()
                        .map(|&(j, _)| j)
                        .filter(|&j| state[j] == State::New),
                );
                continue;
            }
            stack.pop();
            if state[i] == State::Solved {
                continue;
            }
            // Every dependency is solved now (or open: a loop, which validation refuses and
            // which then counts as leading nowhere).
            let mut best: Option<Nearest> = None;
            for &(j, implicit) in &edges.0[i] {
                let candidate = if failing[j] {
                    Some(Nearest {
                        distance: 1,
                        at: j,
                        implicit,
                    })
                } else if state[j] == State::Solved {
                    nearest[j].map(|further| Nearest {
                        distance: further.distance + 1,
                        at: further.at,
                        implicit: implicit || further.implicit,
                    })
                } else {
                    None
                };
                if let Some(candidate) = candidate {
                    if best.is_none_or(|best| candidate.distance < best.distance) {
                        best = Some(candidate);
                    }
                }
            }
            nearest[i] = best;
            state[i] = State::Solved;
        }
    }
    nearest
}

/// Each service group's leader: the check holding its oldest active incident.
fn group_leads<'a>(checks: &'a [Check], active: &Active) -> HashMap<&'a str, (i64, usize)> {
    let mut leads: HashMap<&str, (i64, usize)> = HashMap::new();
    for (i, check) in checks.iter().enumerate() {
        let (Some(group), Some(incident)) = (check.group(), active.get(&check.name)) else {
            continue;
        };
        let lead = leads.entry(group).or_insert((incident.id, i));
        if incident.id < lead.0 {
            *lead = (incident.id, i);
        }
    }
    leads
}

/// Every check `check` depends on, transitively, nearest first (breadth first, each once):
/// those its `depends_on` names, and implicitly each `disk` check watching a filesystem that
/// holds one of its paths (see [`DiskChecks::under`]).
pub fn dependencies<'a>(config: &'a Config, check: &'a Check) -> Vec<&'a str> {
    reachable(config, check, Some(&DiskChecks::of(config)))
}

/// Whether `check` needs `dependency` only implicitly: no chain of `depends_on` reaches it.
pub fn is_implicit(config: &Config, check: &Check, dependency: &str) -> bool {
    !reachable(config, check, None).contains(&dependency)
}

fn reachable<'a>(
    config: &'a Config,
    check: &'a Check,
    disks: Option<&DiskChecks<'a>>,
) -> Vec<&'a str> {
    let mut found: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::from([check.name.as_str()]);
    let mut next = 0;
    let mut frontier = vec![check];
    while let Some(current) = frontier.get(next) {
        next += 1;
        let written = current.depends_on.iter().map(String::as_str);
        let implicit = disks.map(|disks| disks.under(current)).unwrap_or_default();
        for name in written.chain(implicit) {
            if !seen.insert(name) {
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

/// The `disk` checks of a config with the device of the filesystem each watches, looked up
/// once.
struct DiskChecks<'a>(Vec<(&'a str, u64)>);

impl<'a> DiskChecks<'a> {
    fn of(config: &'a Config) -> DiskChecks<'a> {
        DiskChecks(
            config
                .checks
                .iter()
                .filter_map(|c| match &c.kind {
                    CheckKind::Disk(disk) => Some((c.name.as_str(), device_of(&disk.path)?)),
                    _ => None,
                })
                .collect(),
        )
    }

    /// The `disk` checks watching a filesystem that holds one of `check`'s paths (its file or
    /// pid file, its logs): a full disk there explains its failure, so it depends on them
    /// without the admin writing it. A `disk` check itself depends on none this way.
    fn under(&self, check: &Check) -> Vec<&'a str> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let paths: Vec<&Path> = match &check.kind {
            CheckKind::Disk(_) => return Vec::new(),
            CheckKind::File(file) => vec![file.path.as_path()],
            CheckKind::Process(process) => process.pidfile.iter().map(PathBuf::as_path).collect(),
            _ => Vec::new(),
        }
        .into_iter()
        .chain(check.paths.iter().map(PathBuf::as_path))
        .chain(check.logs.iter().map(PathBuf::as_path))
        .collect();
        let devices: Vec<u64> = paths.iter().filter_map(|p| device_of(p)).collect();
        self.0
            .iter()
            .filter(|(name, device)| *name != check.name && devices.contains(device))
            .map(|(name, _)| *name)
            .collect()
    }
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
    // Run at once, as a scan runs them: a chain of slow checks costs one timeout, not their sum.
    let unseen: Vec<&Check> = names
        .iter()
        .filter(|name| !looked.0.contains_key(**name))
        .filter_map(|name| config.check(name))
        .collect();
    // Each from where the last scan stopped reading (a `log` check), moving nothing on.
    let looks: Vec<(&Check, checks::Memory)> = unseen
        .into_iter()
        .map(|dependency| Ok((dependency, rt.store.check_memory(&dependency.name)?)))
        .collect::<crate::store::Result<_>>()?;
    let results =
        crate::pool::map_bounded(&looks, config.cycle.parallelism, |(dependency, memory)| {
            checks::run_check(*dependency, checks::Look::Recheck, memory)
        });
    let unseen = looks.iter().map(|(dependency, _)| *dependency);
    let mut observed = false;
    for (dependency, result) in unseen.zip(results) {
        let result =
            result.unwrap_or_else(|| CheckResult::unknown("the dependency's check did not run"));
        if result.status != Status::Ok {
            rt.observe(dependency, &result)?;
            observed = true;
        }
        looked.0.insert(dependency.name.clone(), result);
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
        Causes::of(config, active)
            .of_check(config.check(check).unwrap())
            .map(|c| c.root)
    }

    const CHAIN: &str = "[[checks]]\nname = \"web\"\nkind = \"memory\"\ndepends_on = [\"app\"]\n\
        [[checks]]\nname = \"app\"\nkind = \"memory\"\ndepends_on = [\"db\"]\n\
        [[checks]]\nname = \"db\"\nkind = \"memory\"\n";

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
        let cause = Causes::of(&config, &all).of_check(redis).expect("a cause");
        assert_eq!(cause.root, "redis-disk");
        assert!(
            cause.why.contains("an implicit dependency"),
            "{}",
            cause.why
        );
        // Written first, then implicit: a failing `redis` explains `backup` by `depends_on`.
        let both = active(&[(1, "redis"), (3, "backup")]);
        let cause = Causes::of(&config, &both)
            .of_check(backup)
            .expect("a cause");
        assert_eq!(cause.root, "redis");
        assert!(!cause.why.contains("implicit"), "{}", cause.why);
    }

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

    /// The walk per incident that `Causes` replaced (cubic in a chain's depth), kept as the
    /// reference the one-pass result must equal.
    mod reference {
        use super::*;

        pub fn cause_of<'a>(
            config: &'a Config,
            check: &'a Check,
            active: &Active,
        ) -> Option<&'a str> {
            let mut seen = vec![check.name.as_str()];
            let mut root = first_cause(config, check, active)?;
            while !seen.contains(&root) {
                seen.push(root);
                match config
                    .check(root)
                    .and_then(|c| first_cause(config, c, active))
                {
                    Some(next) => root = next,
                    None => break,
                }
            }
            (root != check.name).then_some(root)
        }

        fn first_cause<'a>(
            config: &'a Config,
            check: &'a Check,
            active: &Active,
        ) -> Option<&'a str> {
            if let Some(dependency) = dependencies(config, check)
                .into_iter()
                .find(|name| active.contains_key(*name))
            {
                return Some(dependency);
            }
            let group = check.group()?;
            let lead = config
                .checks
                .iter()
                .filter(|c| c.group() == Some(group))
                .filter_map(|c| active.get(&c.name).map(|incident| (incident.id, c)))
                .min_by_key(|(id, _)| *id)?
                .1;
            (lead.name != check.name).then_some(lead.name.as_str())
        }
    }

    proptest::proptest! {
        // PROPTEST_CASES raises it for a longer hunt.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64)
        ))]

        /// Random graphs of up to 9 checks (dependencies only on later checks: no cycle),
        /// some in service groups, some failing with random incident ids: the one-pass causes
        /// are those of the walk per incident.
        #[test]
        fn the_one_pass_causes_are_those_of_the_walk_per_incident(
            checks in proptest::collection::vec(
                (proptest::collection::vec(0usize..9, 0..4), proptest::option::of(0usize..3), proptest::option::of(1i64..50)),
                1..10
            )
        ) {
            let n = checks.len();
            let mut text = String::new();
            let mut failing = Vec::new();
            for (i, (deps, group, incident)) in checks.iter().enumerate() {
                let deps: Vec<String> = deps
                    .iter()
                    .map(|d| i + 1 + d)
                    .filter(|d| *d < n)
                    .map(|d| format!("\"c{d}\""))
                    .collect();
                text.push_str(&format!(
                    "[[checks]]\nname = \"c{i}\"\nkind = \"memory\"\ndepends_on = [{}]\n",
                    deps.join(", ")
                ));
                if let Some(group) = group {
                    text.push_str(&format!("service = \"s{group}\"\n"));
                }
                if let Some(id) = incident {
                    failing.push((*id * 10 + i as i64, format!("c{i}")));
                }
            }
            let config = config(&text);
            let pairs: Vec<(i64, &str)> = failing.iter().map(|(id, c)| (*id, c.as_str())).collect();
            let active = active(&pairs);
            let causes = Causes::of(&config, &active);
            for (_, name) in &failing {
                let check = config.check(name).unwrap();
                proptest::prop_assert_eq!(
                    causes.of_check(check).map(|c| c.root),
                    reference::cause_of(&config, check, &active),
                    "{}", name
                );
            }
        }
    }
}
