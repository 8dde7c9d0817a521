//! Running checks (kinds and keys: man/orchestrator.toml.5). Each kind is one module here
//! holding its keys, their parsing, its probe and its description for agents ([`Kind`]);
//! `check_kinds!` below registers it. A new kind is its module, one line in that list and its
//! section of the man page. Every kind returns a `CheckResult` in the Nagios vocabulary;
//! `run_all` runs many at once, each under its own deadline.

pub mod host;
pub mod journal;
pub mod keys;
mod perfdata;

pub use keys::{KeyProblem, Keys};
pub use perfdata::{parse_perfdata, Perf};
// agents::runbook still reads this from here.
pub(crate) use crate::sys::systemd_is_running;

use crate::model::Status;
use serde::Serialize;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One kind of check: its name and keys, how it reads them, how it probes, how it is
/// described to agents.
pub trait Kind: Sized {
    /// The `kind = "..."` that selects it.
    const NAME: &'static str;
    /// The keys it takes besides the ones every check has.
    const KEYS: &'static [&'static str];
    /// The check's timeout when the config names none.
    const DEFAULT_TIMEOUT: crate::duration::Duration = crate::duration::Duration::from_secs(10);
    /// Whether it asks systemd: dropped from the embedded default on a host without it.
    const NEEDS_SYSTEMD: bool = false;
    /// Whether its probe keeps the deadline itself (a process under exec's timeout, an HTTP
    /// client's timeout). Otherwise the probe runs on a thread that is abandoned at the
    /// deadline.
    const KEEPS_DEADLINE: bool = false;

    /// Reads its keys; every problem is reported through `keys`, `None` when it cannot be built.
    fn parse(keys: &mut Keys) -> Option<Self>;
    /// Looks at the host once.
    fn probe(&self, deadline: Duration) -> CheckResult;
    /// Looks at the host with what the last scan remembered (`Memory::Null` when nothing),
    /// for the kinds whose verdict spans scans (a log's new lines, a process's CPU time over
    /// the interval). The result carries what to remember next in `CheckResult::memory`; only
    /// a scan's is kept ([`Look`]). The default forgets: it is [`Kind::probe`].
    fn probe_after(&self, deadline: Duration, _look: Look, _memory: &Memory) -> CheckResult {
        self.probe(deadline)
    }
    /// Its settings as facts for an agent's context (`check.details`).
    fn details(&self) -> serde_json::Value;
    /// The unit it watches, when the kind itself names one.
    fn unit(&self) -> Option<&str> {
        None
    }
}

/// What a kind remembers from one scan to the next (a log's inode and offset, a process's CPU
/// time and when it was read), as JSON the store keeps per check; `Null` when nothing.
pub type Memory = serde_json::Value;

/// Why a check runs. Only a scan moves what a kind remembers on; the other looks read from
/// where the last scan left off and leave it there, so a phase's re-check never eats the log
/// lines the next scan must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// A scan: the result counts and what the kind remembers is kept.
    Scan,
    /// A phase's look before it acts: has the fault the scan saw cleared since?
    Recheck,
    /// A look after a plan ran: is the fault gone now?
    Verify,
}

/// What the config layer needs to know of a kind before it has one.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub default_timeout: crate::duration::Duration,
    pub needs_systemd: bool,
    keeps_deadline: bool,
}

impl KindInfo {
    const fn of<K: Kind>() -> KindInfo {
        KindInfo {
            name: K::NAME,
            keys: K::KEYS,
            default_timeout: K::DEFAULT_TIMEOUT,
            needs_systemd: K::NEEDS_SYSTEMD,
            keeps_deadline: K::KEEPS_DEADLINE,
        }
    }

    pub fn named(name: &str) -> Option<&'static KindInfo> {
        KINDS.iter().find(|info| info.name == name)
    }
}

/// The object-safe half of [`Kind`], for dispatch over [`CheckKind`].
trait Probe {
    fn info(&self) -> &'static KindInfo;
    fn probe(&self, deadline: Duration, look: Look, memory: &Memory) -> CheckResult;
    fn details(&self) -> serde_json::Value;
    fn unit(&self) -> Option<&str>;
}

/// Declares the kind modules and builds [`CheckKind`] (one variant per kind, holding the
/// kind's own struct) and [`KINDS`] from one list.
macro_rules! check_kinds {
    ($($variant:ident => $module:ident::$kind:ident,)*) => {
        $(pub mod $module;)*

        #[derive(Debug, Clone)]
        pub enum CheckKind {
            $($variant($module::$kind),)*
        }

        /// Every kind, in the order error messages list them.
        pub const KINDS: &[KindInfo] = &[$(KindInfo::of::<$module::$kind>(),)*];

        impl CheckKind {
            /// Builds the kind named `name` from its keys; `None` for an unknown name or when
            /// `keys` holds the problems.
            pub fn parse(name: &str, keys: &mut Keys) -> Option<CheckKind> {
                $(if name == <$module::$kind as Kind>::NAME {
                    return <$module::$kind as Kind>::parse(keys).map(CheckKind::$variant);
                })*
                None
            }

            fn as_probe(&self) -> &dyn Probe {
                match self {
                    $(CheckKind::$variant(kind) => kind,)*
                }
            }
        }

        $(impl Probe for $module::$kind {
            fn info(&self) -> &'static KindInfo {
                const INFO: KindInfo = KindInfo::of::<$module::$kind>();
                &INFO
            }
            fn probe(&self, deadline: Duration, look: Look, memory: &Memory) -> CheckResult {
                Kind::probe_after(self, deadline, look, memory)
            }
            fn details(&self) -> serde_json::Value {
                Kind::details(self)
            }
            fn unit(&self) -> Option<&str> {
                Kind::unit(self)
            }
        })*
    };
}

check_kinds! {
    Systemd => systemd::Systemd,
    SystemdFailed => systemd_failed::SystemdFailed,
    Http => http::Http,
    Tcp => tcp::Tcp,
    Disk => disk::Disk,
    Memory => memory::Memory,
    Load => load::Load,
    Process => process::Process,
    File => file::File,
    Command => command::Command,
    Log => log::Log,
    Certificate => certificate::Certificate,
    Resources => resources::Resources,
}

impl CheckKind {
    pub fn name(&self) -> &'static str {
        self.as_probe().info().name
    }

    pub fn needs_systemd(&self) -> bool {
        self.as_probe().info().needs_systemd
    }

    /// Its settings as facts for an agent's context.
    pub fn details(&self) -> serde_json::Value {
        self.as_probe().details()
    }

    /// The unit the kind itself names (a `systemd` check's), if any.
    pub fn unit(&self) -> Option<&str> {
        self.as_probe().unit()
    }

    fn probe(&self, deadline: Duration, look: Look, memory: &Memory) -> CheckResult {
        self.as_probe().probe(deadline, look, memory)
    }

    fn keeps_deadline(&self) -> bool {
        self.as_probe().info().keeps_deadline
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub status: Status,
    /// One line, as the first line of a plugin's output.
    pub summary: String,
    pub perfdata: Vec<Perf>,
    /// Longer output (a plugin's further lines, a failed unit list), bounded.
    pub output: String,
    pub duration_ms: u64,
    /// What the kind remembers for the next scan ([`Kind::probe_after`]); `None`: nothing new.
    #[serde(skip)]
    pub memory: Option<Memory>,
}

impl CheckResult {
    pub fn new(status: Status, summary: impl Into<String>) -> Self {
        CheckResult {
            status,
            summary: summary.into(),
            perfdata: Vec::new(),
            output: String::new(),
            duration_ms: 0,
            memory: None,
        }
    }

    pub fn ok(summary: impl Into<String>) -> Self {
        CheckResult::new(Status::Ok, summary)
    }

    pub fn critical(summary: impl Into<String>) -> Self {
        CheckResult::new(Status::Critical, summary)
    }

    pub fn unknown(summary: impl Into<String>) -> Self {
        CheckResult::new(Status::Unknown, summary)
    }

    pub fn with_perf(mut self, perf: Vec<Perf>) -> Self {
        self.perfdata = perf;
        self
    }

    pub fn with_output(mut self, output: impl Into<String>) -> Self {
        self.output = output.into();
        self
    }

    pub fn with_memory(mut self, memory: Memory) -> Self {
        self.memory = Some(memory);
        self
    }

    pub fn warning(summary: impl Into<String>) -> Self {
        CheckResult::new(Status::Warning, summary)
    }
}

/// What running a check needs: a name for its thread, a kind to probe, a deadline.
/// `config::Check` is one; checks never name the config, which is built on them.
pub trait Runnable: Sync {
    fn name(&self) -> &str;
    fn kind(&self) -> &CheckKind;
    fn deadline(&self) -> Duration;
}

/// Runs one check under its timeout, with what the last scan remembered of it. A probe that
/// overruns is reported CRITICAL (a service that does not answer in time is down for its
/// users); its thread is left to finish alone.
pub fn run_check<C: Runnable>(check: &C, look: Look, memory: &Memory) -> CheckResult {
    let started = Instant::now();
    let deadline = check.deadline();
    let mut result = if check.kind().keeps_deadline() {
        check.kind().probe(deadline, look, memory)
    } else {
        with_deadline(check.name(), check.kind().clone(), deadline, look, memory)
    };
    result.duration_ms = started.elapsed().as_millis() as u64;
    result
}

fn with_deadline(
    name: &str,
    kind: CheckKind,
    deadline: Duration,
    look: Look,
    memory: &Memory,
) -> CheckResult {
    let (tx, rx) = mpsc::channel();
    let memory = memory.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("check-{name}"))
        .spawn(move || {
            let _ = tx.send(kind.probe(deadline, look, &memory));
        });
    if let Err(err) = spawned {
        return CheckResult::unknown(format!("cannot start the check: {err}"));
    }
    match rx.recv_timeout(deadline) {
        Ok(result) => result,
        Err(_) => CheckResult::critical(format!(
            "check timed out after {:.1}s",
            deadline.as_secs_f64()
        )),
    }
}

/// Runs every check as a scan, at most `parallelism` at once, each with what the last scan
/// remembered of it (`memories[i]` for `checks[i]`; missing is `Null`), and returns results in
/// config order.
pub fn run_all<C: Runnable>(
    checks: &[C],
    memories: &[Memory],
    parallelism: usize,
) -> Vec<CheckResult> {
    let indexed: Vec<(usize, &C)> = checks.iter().enumerate().collect();
    crate::pool::map_bounded(&indexed, parallelism, |(i, check)| {
        run_check(
            *check,
            Look::Scan,
            memories.get(*i).unwrap_or(&Memory::Null),
        )
    })
    .into_iter()
    .map(|r| r.unwrap_or_else(|| CheckResult::unknown("the check did not run")))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kind is defined once, in its module; its man section is the one other place, and this
    /// keeps the two in step.
    #[test]
    fn the_man_page_names_every_kind_and_its_keys() {
        let man = include_str!("../../man/orchestrator.toml.5");
        for kind in KINDS {
            let name = kind.name.replace('-', "\\-");
            assert!(
                man.contains(&format!("\\fB{name}\\fR")),
                "man/orchestrator.toml.5 lacks the `{}` kind",
                kind.name
            );
            for key in kind.keys {
                assert!(
                    man.contains(&format!("\\fB{key}\\fR")),
                    "man/orchestrator.toml.5 lacks `{key}` of the `{}` kind",
                    kind.name
                );
            }
        }
    }

    #[test]
    fn kind_names_and_keys_are_unique() {
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        for kind in KINDS {
            let mut keys = kind.keys.to_vec();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), kind.keys.len(), "{}", kind.name);
        }
    }
}
