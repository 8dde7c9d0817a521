//! Who could have written the evidence: the owners of the check's logs and their
//! directories, anyone where they are open to others, the unit's user. A path only the
//! evidence names is looked at only where all of them could look it up.

use super::*;

/// A stand-in uid for "any local user": a log or its directory others may write.
pub(super) const ANYONE: u32 = u32::MAX;

/// Who could have written the evidence a path was read from: the owner of each of the check's
/// logs and of its directory (who may replace it), anyone where either is writable by group
/// or others, and the unit's user (its journal; root when the unit names none). Check output
/// and attempt output come from processes orchestrator ran as root.
pub struct Writers {
    uids: BTreeSet<u32>,
}

impl Writers {
    pub(super) fn of(unit_user: Option<Option<String>>, logs: &LogLooks) -> Writers {
        let mut uids = logs.writers();
        if let Some(user) = unit_user {
            uids.insert(match user.as_deref() {
                None | Some("") | Some("root") => 0,
                Some(name) => crate::service_files::uid_of_user(name).unwrap_or(ANYONE),
            });
        }
        Writers { uids }
    }

    /// The paths the evidence names that may be looked at: every writer could look them up.
    pub(super) fn visible(&self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        let uids: Vec<u32> = self.uids.iter().copied().collect();
        untrusted_file::searchable_by_all(&uids, paths)
    }

    /// "written by uid 65534": the probe's note when someone other than root writes.
    pub(super) fn describe(&self) -> Option<String> {
        let others: Vec<String> = self
            .uids
            .iter()
            .filter(|uid| **uid != 0)
            .map(|uid| match *uid {
                ANYONE => "any user".to_string(),
                uid => format!("uid {uid}"),
            })
            .collect();
        (!others.is_empty()).then(|| format!("evidence written by {}", others.join(", ")))
    }
}

/// Each of the check's logs and its directory, looked at once (one helper thread).
pub(super) struct LogLooks {
    logs: Vec<(PathBuf, Result<untrusted_file::Meta, Refusal>)>,
    directories: Vec<Result<untrusted_file::Meta, Refusal>>,
}

impl LogLooks {
    pub(super) fn of(check: &Check) -> LogLooks {
        let mut paths: Vec<PathBuf> = check.logs.clone();
        paths.extend(
            check
                .logs
                .iter()
                .map(|log| log.parent().unwrap_or(Path::new("/")).to_path_buf()),
        );
        let mut looks = untrusted_file::look_all(&paths);
        let directories = looks.split_off(check.logs.len());
        LogLooks {
            logs: check.logs.iter().cloned().zip(looks).collect(),
            directories,
        }
    }

    /// The owner of each log and of its directory (who may replace it), and anyone where one
    /// of them is writable by group or others.
    pub(super) fn writers(&self) -> BTreeSet<u32> {
        self.logs
            .iter()
            .map(|(_, look)| look)
            .chain(&self.directories)
            .flat_map(|look| match look {
                Ok(meta) if meta.kind != Kind::Symlink && meta.mode & 0o022 != 0 => {
                    vec![meta.uid, ANYONE]
                }
                Ok(meta) => vec![meta.uid],
                Err(Refusal::Missing) => Vec::new(),
                Err(Refusal::LinkOnTheWay { uid, .. }) => vec![*uid],
                Err(_) => vec![ANYONE],
            })
            .collect()
    }

    /// The logs that are no regular file nor directory: reported, never read.
    pub(super) fn unread(&self) -> Vec<PathFact> {
        self.logs
            .iter()
            .filter_map(|(log, look)| {
                let refusal = match look {
                    Ok(meta) if matches!(meta.kind, Kind::Regular | Kind::Directory) => {
                        return None
                    }
                    Ok(meta) if meta.kind == Kind::Symlink => Refusal::Symlink(*meta),
                    Ok(meta) => Refusal::NotRegular(*meta),
                    Err(Refusal::Missing) => return None,
                    Err(refusal) => refusal.clone(),
                };
                let meta = refusal.meta().copied();
                Some(PathFact {
                    path: log.display().to_string(),
                    kind: meta.map(|m| m.kind.word().to_string()),
                    mode: meta.map(|m| format!("{:04o}", m.mode)),
                    uid: meta.map(|m| m.uid),
                    gid: meta.map(|m| m.gid),
                    problem: Some(refusal.to_string()),
                })
            })
            .take(MAX_PATHS)
            .collect()
    }
}
