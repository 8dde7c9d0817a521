//! Deleting files by directory descriptor, so that a deletion stays in the tree it was given
//! even while someone who owns part of that tree swaps directories for symlinks under it.
//!
//! A path is walked from `/` one component at a time with `openat(O_NOFOLLOW | O_DIRECTORY)`:
//! no component may be a symlink, and each step is taken from the directory opened by the step
//! before, never by resolving the text again. The last name is removed with `unlinkat` relative
//! to its parent's descriptor. `clean_files` descends the same way and never enters a symlink
//! or another mounted filesystem. What a policy check decided about the path text beforehand is
//! not relied on: this walk is the guarantee.
//!
//! Between looking at a name (`fstatat`) and unlinking it, its owner can replace it; that is
//! harmless: `unlinkat` removes a name from the directory we hold, never anything a symlink
//! points to, and fails on a directory.

use globset::GlobMatcher;
use rustix::fs::{
    openat, statat, statx, unlinkat, AtFlags, Dir, FileType, Mode, OFlags, Stat, StatxAttributes,
    StatxFlags, CWD,
};
use rustix::io::Errno;
use std::collections::HashSet;
use std::ffi::{CString, OsStr};
use std::ops::ControlFlow;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Directories deeper than this below the cleaned path are not entered.
pub const MAX_DEPTH: usize = 64;
/// `clean_files` stops after examining this many entries, so one action stays bounded.
pub const MAX_ENTRIES: u64 = 2_000_000;

/// Why a deletion did not happen, in words fit for the attempt's record.
pub type Refusal = String;

/// Opens the directory `path` for reading, walking from `/` without following any symlink.
pub fn open_dir_nofollow(path: &Path) -> Result<OwnedFd, Refusal> {
    let names = plain_components(path)?;
    let mut dir =
        openat(CWD, "/", walk_flags(), Mode::empty()).map_err(|e| format!("cannot open /: {e}"))?;
    let mut walked = PathBuf::from("/");
    for name in &names {
        walked.push(OsStr::from_bytes(name.as_bytes()));
        dir = open_child_dir(dir.as_fd(), name).map_err(|why| why.describe(&walked))?;
    }
    // The walk opened each step as O_PATH (search permission is enough to pass through); the
    // directory itself is reopened for reading, relative to itself, so it cannot be swapped.
    openat(dir.as_fd(), ".", read_flags(), Mode::empty())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Removes one file (a regular file, socket or FIFO) at `path`. It refuses a directory, and a
/// symlink anywhere in the path, including the last name: a link is neither followed nor
/// removed, since what the policy judged was the link's target.
pub fn remove_file(path: &Path) -> Result<String, Refusal> {
    let Some(name) = path.file_name() else {
        return Err(format!("{} names no file", path.display()));
    };
    let parent = path.parent().unwrap_or(Path::new("/"));
    let dir = open_dir_nofollow(parent)?;
    let name = c_name(name)?;
    let stat = match statat(dir.as_fd(), &name, AtFlags::SYMLINK_NOFOLLOW) {
        Err(Errno::NOENT) => return Ok(format!("{} was already gone", path.display())),
        Err(e) => return Err(format!("{}: {e}", path.display())),
        Ok(stat) => stat,
    };
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile | FileType::Socket | FileType::Fifo => {}
        FileType::Directory => {
            return Err(format!(
                "{} is a directory; remove_file removes one file",
                path.display()
            ))
        }
        FileType::Symlink => {
            return Err(format!(
                "{} is a symlink; remove_file neither follows nor removes links",
                path.display()
            ))
        }
        other => {
            return Err(format!(
                "{} is a {other:?}; remove_file removes a regular file, socket or FIFO",
                path.display()
            ))
        }
    }
    match unlinkat(dir.as_fd(), &name, AtFlags::empty()) {
        Ok(()) => Ok(format!("removed {}", path.display())),
        Err(Errno::NOENT) => Ok(format!("{} was already gone", path.display())),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// What `clean_files` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub files: u64,
    pub bytes: u64,
    pub symlinks_skipped: u64,
    pub mounts_skipped: u64,
    pub too_deep: u64,
    /// Files some process holds open (a live log): never removed, since deleting them frees
    /// nothing while they stay open, and loses the evidence.
    pub open_skipped: u64,
    /// Live files [`Keep`] leaves alone: named by the service, written recently, or data.
    pub live_skipped: u64,
    /// Database directories [`Keep`] never enters.
    pub data_dirs_skipped: u64,
    pub errors: Vec<String>,
    /// Set when [`MAX_ENTRIES`] stopped the walk.
    pub stopped: bool,
}

impl Cleaned {
    /// "skipped 1 symlink, 1 mount point": what was left alone on purpose, if anything.
    pub fn skipped(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.symlinks_skipped, "symlink"),
            (self.mounts_skipped, "mount point"),
            (self.too_deep, "directory too deep"),
            (self.open_skipped, "file held open"),
            (self.live_skipped, "live file"),
            (self.data_dirs_skipped, "database directory"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
        .collect();
        (!parts.is_empty()).then(|| format!("skipped {}", parts.join(", ")))
    }
}

/// Live files `clean_files` leaves alone for a plan that no admin wrote and no person approved
/// (docs/agents.md, "Live files"), besides the files a process holds open, which it never
/// removes for anyone.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    /// (device, inode) of the files the check and its service name: its logs, pid files, the
    /// paths in its configuration.
    pub named: HashSet<(u64, u64)>,
    /// A file modified after this is being written: live.
    pub written_after: Option<SystemTime>,
    /// Data files (`dump.rdb`, `*.aof`, `*.sqlite`, …; see [`is_data_name`]) are kept and
    /// database directories (holding `PG_VERSION`) never entered.
    pub data: bool,
}

impl Keep {
    fn keeps(&self, name: &CString, stat: &Stat) -> bool {
        let modified = UNIX_EPOCH + Duration::new(stat.st_mtime.max(0) as u64, 0);
        self.named.contains(&(stat.st_dev, stat.st_ino))
            || self.written_after.is_some_and(|after| modified > after)
            || (self.data && is_data_name(OsStr::from_bytes(name.as_bytes())))
    }
}

/// Names of files a database or a cache keeps its data in: never a candidate for freeing space.
pub fn is_data_name(name: &OsStr) -> bool {
    let name = name.to_string_lossy().to_lowercase();
    const EXTENSIONS: [&str; 12] = [
        ".rdb", ".aof", ".db", ".sqlite", ".sqlite3", ".ibd", ".frm", ".myd", ".myi", ".mdb",
        ".ldb", ".wt",
    ];
    EXTENSIONS.iter().any(|e| name.ends_with(e))
        || name.starts_with("ibdata")
        || name.starts_with("ib_logfile")
        || name.contains(".aof.")
}

/// A database's own directory: PostgreSQL's data directory holds `PG_VERSION`.
fn is_database_dir(dir: BorrowedFd) -> bool {
    statat(dir, "PG_VERSION", AtFlags::SYMLINK_NOFOLLOW).is_ok()
}

/// Removes regular files under `root` whose name matches `glob` and whose last change is at
/// least `older_than` ago, except what `keep` keeps. Subdirectories are entered by descriptor;
/// symlinks and other mounted filesystems are never entered, and no more than [`MAX_DEPTH`]
/// levels or [`MAX_ENTRIES`] entries are looked at.
pub fn clean_files(
    root: &Path,
    older_than: Duration,
    glob: &GlobMatcher,
    keep: &Keep,
) -> Result<Cleaned, Refusal> {
    let dir = open_dir_nofollow(root)?;
    let device = fstat_device(dir.as_fd()).map_err(|e| format!("{}: {e}", root.display()))?;
    if keep.data && is_database_dir(dir.as_fd()) {
        return Ok(Cleaned {
            data_dirs_skipped: 1,
            ..Cleaned::default()
        });
    }
    let mut walk = CleanWalk {
        glob,
        keep,
        cutoff: SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(UNIX_EPOCH),
        device,
        held_open: None,
        examined: 0,
        cleaned: Cleaned::default(),
    };
    walk.clean_dir(dir, root, 0);
    Ok(walk.cleaned)
}

struct CleanWalk<'a> {
    glob: &'a GlobMatcher,
    keep: &'a Keep,
    /// Files last modified after this are kept.
    cutoff: SystemTime,
    /// The cleaned root's filesystem: directories on another are mount points.
    device: u64,
    /// Inodes on the cleaned filesystem that some process holds open: read from every
    /// process's descriptors when the first file would be removed, not for a walk that
    /// removes nothing.
    held_open: Option<HashSet<u64>>,
    examined: u64,
    cleaned: Cleaned,
}

impl CleanWalk<'_> {
    fn clean_dir(&mut self, dir: OwnedFd, shown: &Path, depth: usize) {
        let names = match entry_names(dir.as_fd()) {
            Ok(names) => names,
            Err(e) => {
                return self
                    .cleaned
                    .errors
                    .push(format!("{}: {e}", shown.display()))
            }
        };
        for name in names {
            if self.examined >= MAX_ENTRIES {
                self.cleaned.stopped = true;
                return;
            }
            self.examined += 1;
            let path = shown.join(OsStr::from_bytes(name.as_bytes()));
            self.clean_entry(dir.as_fd(), &name, &path, depth);
        }
    }

    fn clean_entry(&mut self, dir: BorrowedFd, name: &CString, path: &Path, depth: usize) {
        let stat = match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => stat,
            // Gone since it was listed: nothing to do.
            Err(Errno::NOENT) => return,
            Err(e) => return self.cleaned.errors.push(format!("{}: {e}", path.display())),
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => self.enter(dir, name, path, depth),
            FileType::Symlink => self.cleaned.symlinks_skipped += 1,
            FileType::RegularFile if self.wanted(name, &stat) => {
                if self.is_held_open(stat.st_ino as u64) {
                    self.cleaned.open_skipped += 1;
                } else if self.keep.keeps(name, &stat) {
                    self.cleaned.live_skipped += 1;
                } else {
                    self.unlink(dir, name, path, &stat)
                }
            }
            _ => {}
        }
    }

    fn is_held_open(&mut self, inode: u64) -> bool {
        let device = self.device;
        self.held_open
            .get_or_insert_with(|| files_held_open(device))
            .contains(&inode)
    }

    fn wanted(&self, name: &CString, stat: &Stat) -> bool {
        // A modification time past what SystemTime holds is in the future: not old enough.
        let modified = UNIX_EPOCH.checked_add(Duration::from_secs(stat.st_mtime.max(0) as u64));
        modified.is_some_and(|modified| modified <= self.cutoff)
            && self.glob.is_match(OsStr::from_bytes(name.as_bytes()))
    }

    fn unlink(&mut self, dir: BorrowedFd, name: &CString, path: &Path, stat: &Stat) {
        match unlinkat(dir, name, AtFlags::empty()) {
            Ok(()) => {
                self.cleaned.files += 1;
                self.cleaned.bytes += stat.st_size.max(0) as u64;
            }
            Err(Errno::NOENT) => {}
            Err(e) => self.cleaned.errors.push(format!("{}: {e}", path.display())),
        }
    }

    fn enter(&mut self, dir: BorrowedFd, name: &CString, path: &Path, depth: usize) {
        if depth + 1 > MAX_DEPTH {
            self.cleaned.too_deep += 1;
            return;
        }
        let child = match openat(dir, name, read_flags(), Mode::empty()) {
            Ok(child) => child,
            // Swapped for a symlink (or something else) since we looked: not entered.
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => return self.cleaned.symlinks_skipped += 1,
            Err(Errno::NOENT) => return,
            Err(e) => return self.cleaned.errors.push(format!("{}: {e}", path.display())),
        };
        match self.is_mount_point(child.as_fd()) {
            Ok(true) => self.cleaned.mounts_skipped += 1,
            Ok(false) if self.keep.data && is_database_dir(child.as_fd()) => {
                self.cleaned.data_dirs_skipped += 1
            }
            Ok(false) => self.clean_dir(child, path, depth + 1),
            Err(e) => self.cleaned.errors.push(format!("{}: {e}", path.display())),
        }
    }

    /// Another filesystem, or the root of a bind mount of this one: asked of the directory we
    /// opened, not of its name.
    fn is_mount_point(&self, dir: BorrowedFd) -> rustix::io::Result<bool> {
        let stx = statx(dir, "", AtFlags::EMPTY_PATH, StatxFlags::BASIC_STATS)?;
        let device = rustix::fs::makedev(stx.stx_dev_major, stx.stx_dev_minor);
        let mount_root = stx
            .stx_attributes_mask
            .contains(StatxAttributes::MOUNT_ROOT)
            && stx.stx_attributes.contains(StatxAttributes::MOUNT_ROOT);
        Ok(device != self.device || mount_root)
    }
}

/// `clean_files` looks at no more open descriptors than this.
const MAX_OPEN_FDS: usize = 500_000;

/// The inodes on `device` that a process holds open, from the links in /proc/*/fd. A
/// process that starts meanwhile is not seen: the guard is for the live logs of the service
/// and its neighbours, which were open before the plan ran.
fn files_held_open(device: u64) -> HashSet<u64> {
    let mut held = HashSet::new();
    let mut seen = 0;
    // An unreadable /proc leaves nothing known to be open.
    let _ = crate::sys::each_open_fd(|_, fd_dir, fd| {
        seen += 1;
        if seen > MAX_OPEN_FDS {
            return ControlFlow::Break(());
        }
        // The descriptor's own stat: the open file, whatever its name is now.
        if let Ok(stat) = statat(fd_dir, fd, AtFlags::empty()) {
            if FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile
                && stat.st_dev == device
            {
                held.insert(stat.st_ino);
            }
        }
        ControlFlow::Continue(())
    });
    held
}

/// Why one step of a walk failed.
enum StepError {
    Symlink,
    NotDirectory,
    Other(Errno),
}

impl StepError {
    fn describe(&self, walked: &Path) -> Refusal {
        match self {
            StepError::Symlink => format!(
                "{} is a symlink; deletions never follow links (write the path without them)",
                walked.display()
            ),
            StepError::NotDirectory => format!("{} is not a directory", walked.display()),
            StepError::Other(e) => format!("{}: {e}", walked.display()),
        }
    }
}

fn open_child_dir(dir: BorrowedFd, name: &CString) -> Result<OwnedFd, StepError> {
    match openat(dir, name, walk_flags(), Mode::empty()) {
        Ok(child) => Ok(child),
        Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
            // Say which it was; if it changed meanwhile, either answer is a refusal.
            match statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink => {
                    Err(StepError::Symlink)
                }
                _ => Err(StepError::NotDirectory),
            }
        }
        Err(e) => Err(StepError::Other(e)),
    }
}

/// The components of an absolute path with no `..`, as C strings (`.` components vanish).
fn plain_components(path: &Path) -> Result<Vec<CString>, Refusal> {
    if !path.is_absolute() {
        return Err(format!("path `{}` is not absolute", path.display()));
    }
    let mut names = Vec::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(name) => names.push(c_name(name)?),
            Component::ParentDir | Component::Prefix(_) => {
                return Err(format!("path `{}` contains `..`", path.display()))
            }
        }
    }
    Ok(names)
}

fn c_name(name: &OsStr) -> Result<CString, Refusal> {
    CString::new(name.as_bytes()).map_err(|_| format!("{name:?} contains a NUL byte"))
}

/// Passing through: search permission suffices, nothing is followed.
fn walk_flags() -> OFlags {
    OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

fn read_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

fn fstat_device(dir: BorrowedFd) -> rustix::io::Result<u64> {
    Ok(rustix::fs::fstat(dir)?.st_dev)
}

/// Every name in a directory but `.` and `..`, read before any is removed.
fn entry_names(dir: BorrowedFd) -> rustix::io::Result<Vec<CString>> {
    let mut names = Vec::new();
    for entry in Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(glob: &str) -> GlobMatcher {
        globset::Glob::new(glob).unwrap().compile_matcher()
    }

    #[test]
    fn relative_and_dotdot_paths_are_refused() {
        assert!(open_dir_nofollow(Path::new("tmp"))
            .unwrap_err()
            .contains("not absolute"));
        assert!(open_dir_nofollow(Path::new("/tmp/../etc"))
            .unwrap_err()
            .contains("`..`"));
    }

    #[test]
    fn cleans_matching_files_and_skips_symlinked_directories() {
        let base = tempfile::tempdir().unwrap();
        let tree = base.path().join("tree");
        let outside = base.path().join("outside");
        std::fs::create_dir_all(tree.join("a/b")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        for file in ["x.tmp", "a/y.tmp", "a/b/z.tmp", "a/keep.log"] {
            std::fs::write(tree.join(file), "12").unwrap();
        }
        std::fs::write(outside.join("w.tmp"), "1").unwrap();
        std::os::unix::fs::symlink(&outside, tree.join("a/link")).unwrap();
        std::os::unix::fs::symlink(outside.join("w.tmp"), tree.join("l.tmp")).unwrap();

        let cleaned =
            clean_files(&tree, Duration::ZERO, &matcher("*.tmp"), &Keep::default()).unwrap();
        assert_eq!((cleaned.files, cleaned.bytes), (3, 6));
        assert_eq!(cleaned.symlinks_skipped, 2);
        assert_eq!(cleaned.skipped().unwrap(), "skipped 2 symlinks");
        assert!(tree.join("a/keep.log").exists());
        assert!(outside.join("w.tmp").exists());
        assert!(tree.join("l.tmp").symlink_metadata().is_ok());
    }

    #[test]
    fn a_file_a_process_holds_open_is_never_removed() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::write(tree.path().join("app.log.1"), "old").unwrap();
        let live = tree.path().join("app.log");
        std::fs::write(&live, "live").unwrap();
        let _open = std::fs::File::open(&live).unwrap();
        let cleaned =
            clean_files(tree.path(), Duration::ZERO, &matcher("*"), &Keep::default()).unwrap();
        assert_eq!((cleaned.files, cleaned.open_skipped), (1, 1));
        assert!(live.exists());
        assert_eq!(cleaned.skipped().unwrap(), "skipped 1 file held open");
    }

    #[test]
    fn live_files_data_files_and_database_directories_are_kept() {
        use std::os::unix::fs::MetadataExt;
        let tree = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - Duration::from_secs(7200);
        let write_old = |name: &str| {
            let path = tree.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x").unwrap();
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(old)
                .unwrap();
            path
        };
        let rotated = write_old("redis-server.log.1");
        let named = write_old("redis-server.log");
        let dump = write_old("dump.rdb");
        let pg = write_old("pg/base/1/1259");
        write_old("pg/PG_VERSION");
        let fresh = tree.path().join("app.log.2");
        std::fs::write(&fresh, "now").unwrap();
        let meta = std::fs::metadata(&named).unwrap();
        let keep = Keep {
            named: [(meta.dev(), meta.ino())].into_iter().collect(),
            written_after: Some(SystemTime::now() - Duration::from_secs(900)),
            data: true,
        };
        let cleaned = clean_files(tree.path(), Duration::ZERO, &matcher("*"), &keep).unwrap();
        assert!(!rotated.exists());
        for kept in [&named, &dump, &pg, &fresh] {
            assert!(kept.exists(), "{}", kept.display());
        }
        assert_eq!((cleaned.files, cleaned.live_skipped), (1, 3));
        assert_eq!(
            cleaned.skipped().unwrap(),
            "skipped 3 live files, 1 database directory"
        );
        let pg_root = clean_files(
            &tree.path().join("pg"),
            Duration::ZERO,
            &matcher("*"),
            &keep,
        );
        assert_eq!(pg_root.unwrap().data_dirs_skipped, 1);
    }

    #[test]
    fn young_files_are_kept() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::write(tree.path().join("new.tmp"), "1").unwrap();
        let walks = crate::sys::fd_walks_on_this_thread();
        let cleaned = clean_files(
            tree.path(),
            Duration::from_secs(3600),
            &matcher("*"),
            &Keep::default(),
        )
        .unwrap();
        assert_eq!(cleaned.files, 0);
        assert!(tree.path().join("new.tmp").exists());
        assert_eq!(
            crate::sys::fd_walks_on_this_thread(),
            walks,
            "a clean that removes nothing read every process's descriptors"
        );
    }

    #[test]
    fn a_symlinked_root_or_parent_is_refused() {
        let base = tempfile::tempdir().unwrap();
        let real = base.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("f"), "1").unwrap();
        let link = base.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();

        let why = clean_files(&link, Duration::ZERO, &matcher("*"), &Keep::default()).unwrap_err();
        assert!(why.contains("is a symlink"), "{why}");
        let why = remove_file(&link.join("f")).unwrap_err();
        assert!(
            why.contains(&format!("{} is a symlink", link.display())),
            "{why}"
        );
        assert!(real.join("f").exists());
    }

    #[test]
    fn remove_file_removes_files_and_refuses_links_and_directories() {
        let base = tempfile::tempdir().unwrap();
        let file = base.path().join("f.pid");
        std::fs::write(&file, "1").unwrap();
        std::os::unix::fs::symlink(&file, base.path().join("l")).unwrap();
        assert!(remove_file(&base.path().join("l"))
            .unwrap_err()
            .contains("is a symlink"));
        assert!(remove_file(base.path())
            .unwrap_err()
            .contains("is a directory"));
        assert!(remove_file(&file).unwrap().starts_with("removed"));
        assert!(!file.exists());
        assert!(remove_file(&file).unwrap().contains("already gone"));
    }
}
