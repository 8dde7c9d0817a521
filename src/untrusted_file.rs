//! Reading a file that a user other than root may control: a service's log, a pid file, a file
//! a log line names. This is the one way orchestrator reads such a file (docs/architecture.md,
//! "Files other users control"); nothing else opens them.
//!
//! A local user who owns the directory of a log can put a symlink to a root-only file there
//! (whose lines would then reach an agent's prompt and the dashboard), a FIFO (whose `open`
//! blocks until someone writes, with the cycle lock held), or point it at `/dev/zero` (an
//! endless read). So:
//! - the directories on the way are opened one at a time with `O_NOFOLLOW`; a symlink among
//!   them is followed only when root owns it (`/var/run` → `/run`), since nobody else can make
//!   one of those;
//! - the last name is never followed, and only a regular file is opened: it is looked at with
//!   `fstatat(AT_SYMLINK_NOFOLLOW)` first, then opened with `O_NOFOLLOW | O_NONBLOCK |
//!   O_CLOEXEC | O_NOCTTY` and checked again with `fstat` on the descriptor, so a FIFO, a
//!   device, a socket, a directory or a symlink is reported and never read (nor opened, but for
//!   the instant a swap takes, in which `O_NONBLOCK` keeps a FIFO from blocking);
//! - at most `max_bytes` are read (the head, or the tail of a log), and at most `max_lines`
//!   lines kept, so a file that grows while it is read cannot grow memory;
//! - the whole look runs on a helper thread that is abandoned at the deadline, so a file on a
//!   hung network or FUSE mount cannot hold a cycle either;
//! - the owner, mode, size and time of the file read are returned with its bytes: what the
//!   caller believes about the file comes from the one inode it read.

use rustix::fs::{openat, statat, AtFlags, FileType, Mode, OFlags, Stat, CWD};
use rustix::io::Errno;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// How long a look at one file may take, by default.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// Root-owned symlinks followed on the way to one file (the kernel's own limit is 40).
const MAX_LINKS: usize = 8;
/// Directory entries listed at most by [`list_dir`].
pub const MAX_ENTRIES: usize = 10_000;

/// What kind of file a name leads to, as `lstat` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Unknown,
}

impl Kind {
    fn of(stat: &Stat) -> Kind {
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::RegularFile => Kind::Regular,
            FileType::Directory => Kind::Directory,
            FileType::Symlink => Kind::Symlink,
            FileType::Fifo => Kind::Fifo,
            FileType::Socket => Kind::Socket,
            FileType::CharacterDevice => Kind::CharDevice,
            FileType::BlockDevice => Kind::BlockDevice,
            FileType::Unknown => Kind::Unknown,
        }
    }

    /// "a FIFO", for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Regular => "a regular file",
            Kind::Directory => "a directory",
            Kind::Symlink => "a symlink",
            Kind::Fifo => "a FIFO",
            Kind::Socket => "a socket",
            Kind::CharDevice => "a character device",
            Kind::BlockDevice => "a block device",
            Kind::Unknown => "a file of unknown kind",
        }
    }

    /// "file", "directory", "symlink", "other": the words of `facts`' path kinds.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Regular => "file",
            Kind::Directory => "directory",
            Kind::Symlink => "symlink",
            _ => "other",
        }
    }
}

/// The facts of one inode: what `lstat` (or `fstat` on the descriptor read) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub size: u64,
    /// Last modification, Unix seconds.
    pub modified: i64,
    pub device: u64,
    pub inode: u64,
}

impl Meta {
    fn of(stat: &Stat) -> Meta {
        Meta {
            kind: Kind::of(stat),
            uid: stat.st_uid,
            gid: stat.st_gid,
            mode: stat.st_mode & 0o7777,
            size: stat.st_size.max(0) as u64,
            modified: stat.st_mtime,
            device: stat.st_dev,
            inode: stat.st_ino,
        }
    }
}

/// Why a file was not read. The words are fit for a fact or a check's summary after the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("does not exist")]
    Missing,
    #[error("{} (owner uid {}); not followed", Kind::Symlink.describe(), .0.uid)]
    Symlink(Meta),
    #[error("{} (owner uid {}); not read", .0.kind.describe(), .0.uid)]
    NotRegular(Meta),
    #[error("{} on its way is a symlink owned by uid {uid}; not followed", .at.display())]
    LinkOnTheWay { at: PathBuf, uid: u32 },
    #[error("{} on its way is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("more than {MAX_LINKS} symlinks on its way")]
    TooManyLinks,
    #[error("is not an absolute path")]
    Relative,
    #[error("permission denied")]
    Denied,
    #[error("no answer within {0:?}; given up")]
    TimedOut(Duration),
    #[error("{0}")]
    Io(String),
}

impl Refusal {
    /// The file's own facts, when it exists but is not a regular file.
    pub fn meta(&self) -> Option<&Meta> {
        match self {
            Refusal::Symlink(meta) | Refusal::NotRegular(meta) => Some(meta),
            _ => None,
        }
    }
}

impl From<Errno> for Refusal {
    fn from(errno: Errno) -> Refusal {
        match errno {
            Errno::NOENT => Refusal::Missing,
            Errno::ACCESS | Errno::PERM => Refusal::Denied,
            other => Refusal::Io(std::io::Error::from(other).to_string()),
        }
    }
}

/// How much of a file to read, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_lines: usize,
    pub deadline: Duration,
}

impl Limits {
    pub const fn new(max_bytes: u64, max_lines: usize) -> Limits {
        Limits {
            max_bytes,
            max_lines,
            deadline: DEADLINE,
        }
    }
}

/// What was read of a regular file.
#[derive(Debug, Clone)]
pub struct Contents {
    pub meta: Meta,
    pub bytes: Vec<u8>,
    /// The file holds more than was kept (its head or its tail was cut).
    pub cut: bool,
}

impl Contents {
    /// The bytes as text; invalid UTF-8 is replaced, never an error.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// The facts of the file `path` names, its last name not followed (a symlink is a symlink).
pub fn look(path: &Path) -> Result<Meta, Refusal> {
    let path = path.to_path_buf();
    within(DEADLINE, move || look_now(&path))
}

/// [`look`] at each of `paths`, on one helper thread under one deadline (all `TimedOut` when
/// it runs out).
pub fn look_all(paths: &[PathBuf]) -> Vec<Result<Meta, Refusal>> {
    let owned = paths.to_vec();
    within(DEADLINE, move || {
        Ok(owned.iter().map(|p| look_now(p)).collect())
    })
    .unwrap_or_else(|why| paths.iter().map(|_| Err(why.clone())).collect())
}

fn look_now(path: &Path) -> Result<Meta, Refusal> {
    let (dir, name) = reach_parent(path)?;
    Ok(Meta::of(&statat(&dir, &name, AtFlags::SYMLINK_NOFOLLOW)?))
}

/// The first `max_bytes` of a regular file, at most `max_lines` lines of it.
pub fn read_head(path: &Path, limits: Limits) -> Result<Contents, Refusal> {
    let path = path.to_path_buf();
    within(limits.deadline, move || {
        let (mut file, meta) = open_regular(&path)?;
        let bytes = read_at_most(&mut file, limits.max_bytes)?;
        let (bytes, fewer_lines) = first_lines(bytes, limits.max_lines);
        let cut = fewer_lines || (bytes.len() as u64) < meta.size;
        Ok(Contents { meta, bytes, cut })
    })
}

/// The last `max_bytes` of a regular file (a log), whole lines only, at most `max_lines` of
/// them. A file that grows while it is read is read up to `max_bytes` past where it started.
pub fn read_tail(path: &Path, limits: Limits) -> Result<Contents, Refusal> {
    let path = path.to_path_buf();
    within(limits.deadline, move || {
        let (mut file, meta) = open_regular(&path)?;
        let start = meta.size.saturating_sub(limits.max_bytes);
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Refusal::Io(e.to_string()))?;
        let mut bytes = read_at_most(&mut file, limits.max_bytes)?;
        if start > 0 {
            // The first line began before `start`: drop its end.
            if let Some(newline) = bytes.iter().position(|b| *b == b'\n') {
                bytes.drain(..=newline);
            }
        }
        let (bytes, fewer_lines) = last_lines(bytes, limits.max_lines);
        Ok(Contents {
            meta,
            bytes,
            cut: start > 0 || fewer_lines,
        })
    })
}

/// The entries of the directory `path` (itself not followed if a symlink) with their own
/// `lstat`, at most [`MAX_ENTRIES`], in no particular order.
pub fn list_dir(path: &Path) -> Result<Vec<(OsString, Meta)>, Refusal> {
    let path = path.to_path_buf();
    within(DEADLINE, move || {
        let (parent, name) = reach_parent(&path)?;
        let meta = Meta::of(&statat(&parent, &name, AtFlags::SYMLINK_NOFOLLOW)?);
        if meta.kind != Kind::Directory {
            return Err(not_followed(meta));
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let dir = openat(&parent, &name, flags, Mode::empty())?;
        let mut entries = Vec::new();
        for entry in rustix::fs::Dir::read_from(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if entries.len() >= MAX_ENTRIES {
                break;
            }
            if let Ok(stat) = statat(&dir, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) {
                entries.push((OsStr::from_bytes(name).to_os_string(), Meta::of(&stat)));
            }
        }
        Ok(entries)
    })
}

/// The `paths` every user in `uids` could look up: with search permission on every directory
/// from `/` to the nearest existing directory holding the path (after symlinks are resolved,
/// as the kernel would for that user). Only the owner's and others' bits are read, never the
/// group's: a user's groups are not known here, and a "no" only withholds a fact. Root may
/// look up anything. Looked at on one helper thread under one deadline; none when it runs out.
pub fn searchable_by_all(uids: &[u32], paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let uids: Vec<u32> = uids.iter().copied().filter(|uid| *uid != 0).collect();
    if uids.is_empty() {
        return paths;
    }
    within(DEADLINE, move || {
        Ok(paths
            .into_iter()
            .filter(|path| uids.iter().all(|uid| search_permission(*uid, path)))
            .collect())
    })
    .unwrap_or_default()
}

fn search_permission(uid: u32, path: &Path) -> bool {
    let Some(dir) = path
        .parent()
        .and_then(|p| p.ancestors().find(|a| a.is_dir()))
        .and_then(|p| p.canonicalize().ok())
    else {
        return false;
    };
    dir.ancestors().all(|ancestor| {
        std::fs::metadata(ancestor).is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            let bits = if m.uid() == uid { 0o100 } else { 0o001 };
            m.is_dir() && m.mode() & bits != 0
        })
    })
}

/// Runs `work` on a helper thread and waits at most `deadline` for it. A look stuck in the
/// kernel (a hung mount) is left behind on its thread; the caller goes on.
fn within<T: Send + 'static>(
    deadline: Duration,
    work: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("untrusted-file".into())
        .spawn(move || {
            let _ = sender.send(work());
        })
        .map_err(|e| Refusal::Io(format!("cannot start a reader thread: {e}")))?;
    match receiver.recv_timeout(deadline) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Refusal::TimedOut(deadline)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(Refusal::Io("the reader thread died".into()))
        }
    }
}

/// Opens `path` for reading if, and only if, it is a regular file: looked at first, opened
/// without following or blocking, and looked at again through the descriptor.
fn open_regular(path: &Path) -> Result<(std::fs::File, Meta), Refusal> {
    let (dir, name) = reach_parent(path)?;
    let before = Meta::of(&statat(&dir, &name, AtFlags::SYMLINK_NOFOLLOW)?);
    if before.kind != Kind::Regular {
        return Err(not_followed(before));
    }
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = match openat(&dir, &name, flags, Mode::empty()) {
        Ok(fd) => fd,
        // Swapped for a symlink since we looked.
        Err(Errno::LOOP) => {
            let now = Meta::of(&statat(&dir, &name, AtFlags::SYMLINK_NOFOLLOW)?);
            return Err(not_followed(now));
        }
        Err(e) => return Err(e.into()),
    };
    let meta = Meta::of(&rustix::fs::fstat(&fd)?);
    if meta.kind != Kind::Regular {
        return Err(not_followed(meta));
    }
    Ok((std::fs::File::from(fd), meta))
}

fn not_followed(meta: Meta) -> Refusal {
    if meta.kind == Kind::Symlink {
        Refusal::Symlink(meta)
    } else {
        Refusal::NotRegular(meta)
    }
}

fn read_at_most(file: &mut std::fs::File, max_bytes: u64) -> Result<Vec<u8>, Refusal> {
    let mut bytes = Vec::new();
    file.take(max_bytes)
        .read_to_end(&mut bytes)
        .map_err(|e| Refusal::Io(e.to_string()))?;
    Ok(bytes)
}

/// The first `max` lines of `bytes`, and whether there were more.
fn first_lines(mut bytes: Vec<u8>, max: usize) -> (Vec<u8>, bool) {
    let end = match max {
        0 => Some(0),
        _ => bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(max - 1)
            .map(|(at, _)| at + 1),
    };
    match end {
        Some(end) if end < bytes.len() => {
            bytes.truncate(end);
            (bytes, true)
        }
        _ => (bytes, false),
    }
}

/// The last `max` lines of `bytes`, and whether there were more.
fn last_lines(mut bytes: Vec<u8>, max: usize) -> (Vec<u8>, bool) {
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    let start = match max {
        0 => Some(bytes.len()),
        _ => body
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, b)| **b == b'\n')
            .nth(max - 1)
            .map(|(at, _)| at + 1),
    };
    match start {
        Some(start) if start > 0 => {
            bytes.drain(..start);
            (bytes, true)
        }
        _ => (bytes, false),
    }
}

/// Opens the directory holding `path`'s last name by walking from `/` one name at a time,
/// following only root-owned symlinks; returns it and the last name.
fn reach_parent(path: &Path) -> Result<(OwnedFd, OsString), Refusal> {
    if !path.is_absolute() {
        return Err(Refusal::Relative);
    }
    let mut names: VecDeque<OsString> = names_of(path);
    let Some(last) = names.pop_back() else {
        // `/` itself: its parent is itself.
        return Ok((open_root()?, OsString::from(".")));
    };
    let mut dir = open_root()?;
    let mut walked = PathBuf::from("/");
    let mut links = 0;
    while let Some(name) = names.pop_front() {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match openat(&dir, &name, flags, Mode::empty()) {
            Ok(child) => {
                dir = child;
                walked.push(&name);
            }
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => {
                let stat = statat(&dir, &name, AtFlags::SYMLINK_NOFOLLOW)?;
                let at = walked.join(&name);
                if Kind::of(&stat) != Kind::Symlink {
                    return Err(Refusal::NotADirectory(at));
                }
                if stat.st_uid != 0 {
                    return Err(Refusal::LinkOnTheWay {
                        at,
                        uid: stat.st_uid,
                    });
                }
                links += 1;
                if links > MAX_LINKS {
                    return Err(Refusal::TooManyLinks);
                }
                let target = rustix::fs::readlinkat(&dir, &name, Vec::new())?;
                let target = PathBuf::from(OsStr::from_bytes(target.to_bytes()));
                if target.is_absolute() {
                    dir = open_root()?;
                    walked = PathBuf::from("/");
                }
                for name in names_of(&target).into_iter().rev() {
                    names.push_front(name);
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((dir, last))
}

fn open_root() -> Result<OwnedFd, Refusal> {
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    Ok(openat(CWD, "/", flags, Mode::empty())?)
}

/// The names of a path's components (`.` dropped; `..` kept: it is a name the kernel resolves
/// in the directory held, never a symlink).
fn names_of(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn limits(bytes: u64, lines: usize) -> Limits {
        Limits::new(bytes, lines)
    }

    #[test]
    fn a_regular_file_is_read_with_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
        let head = read_head(&path, limits(1024, 100)).unwrap();
        assert_eq!(head.text(), "one\ntwo\nthree\n");
        assert!(!head.cut);
        assert_eq!(head.meta.uid, rustix::process::geteuid().as_raw());
        assert_eq!(head.meta.kind, Kind::Regular);
        let two = read_head(&path, limits(1024, 2)).unwrap();
        assert_eq!((two.text().as_str(), two.cut), ("one\ntwo\n", true));
    }

    #[test]
    fn a_tail_is_whole_lines_within_the_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "first line\nsecond\nthird\nfourth\n").unwrap();
        let tail = read_tail(&path, limits(16, 100)).unwrap();
        assert_eq!(tail.text(), "third\nfourth\n");
        assert!(tail.cut);
        let two = read_tail(&path, limits(1024, 2)).unwrap();
        assert_eq!(two.text(), "third\nfourth\n");
        let all = read_tail(&path, limits(1024, 100)).unwrap();
        assert_eq!((all.text().len(), all.cut), (31, false));
        let unterminated = dir.path().join("partial.log");
        std::fs::write(&unterminated, "a\nb\nc").unwrap();
        assert_eq!(
            read_tail(&unterminated, limits(64, 2)).unwrap().text(),
            "b\nc"
        );
    }

    #[test]
    fn a_symlink_a_fifo_and_a_device_are_reported_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "root only\n").unwrap();
        let link = dir.path().join("link.log");
        symlink(&secret, &link).unwrap();
        let err = read_tail(&link, limits(1024, 10)).unwrap_err();
        assert!(matches!(err, Refusal::Symlink(_)), "{err:?}");
        assert!(
            err.to_string().starts_with("a symlink (owner uid "),
            "{err}"
        );
        let zero = dir.path().join("zero.pid");
        symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_head(&zero, limits(1024, 1)),
            Err(Refusal::Symlink(_))
        ));
        let fifo = dir.path().join("fifo.log");
        rustix::fs::mknodat(CWD, &fifo, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
        let err = read_tail(&fifo, limits(1024, 10)).unwrap_err();
        assert!(err.to_string().starts_with("a FIFO (owner uid "), "{err}");
        let device = read_head(Path::new("/dev/null"), limits(1024, 1)).unwrap_err();
        assert!(
            device.to_string().starts_with("a character device"),
            "{device}"
        );
        assert_eq!(
            read_head(&dir.path().join("none"), limits(1, 1)).unwrap_err(),
            Refusal::Missing
        );
        assert_eq!(look(&link).unwrap().kind, Kind::Symlink);
    }

    #[test]
    fn only_root_owned_symlinks_are_followed_on_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("app.pid"), "42\n").unwrap();
        let via = dir.path().join("via");
        symlink(&real, &via).unwrap();
        let through = read_head(&via.join("app.pid"), limits(64, 1));
        if rustix::process::geteuid().is_root() {
            // Root made the link: followed, as /var/run → /run is.
            assert_eq!(through.unwrap().text(), "42\n");
            std::os::unix::fs::lchown(&via, Some(65534), Some(65534)).unwrap();
            let refused = read_head(&via.join("app.pid"), limits(64, 1)).unwrap_err();
            assert!(
                refused
                    .to_string()
                    .ends_with("is a symlink owned by uid 65534; not followed"),
                "{refused}"
            );
        } else {
            assert!(matches!(through, Err(Refusal::LinkOnTheWay { .. })));
        }
        assert_eq!(
            read_head(Path::new("relative.pid"), limits(1, 1)).unwrap_err(),
            Refusal::Relative
        );
    }

    #[test]
    fn a_directory_is_listed_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.log"), "abc").unwrap();
        symlink("/etc", dir.path().join("etc")).unwrap();
        let mut entries = list_dir(dir.path()).unwrap();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let kinds: Vec<(String, Kind, u64)> = entries
            .iter()
            .map(|(n, m)| (n.to_string_lossy().into_owned(), m.kind, m.size))
            .collect();
        assert_eq!(kinds[0], ("a.log".to_string(), Kind::Regular, 3));
        assert_eq!(kinds[1].1, Kind::Symlink);
        let link = dir.path().join("etc");
        assert!(matches!(list_dir(&link), Err(Refusal::Symlink(_))));
    }

    #[test]
    fn search_permission_is_read_from_every_directory_on_the_way() {
        let searchable_by =
            |uid: u32, path: &str| searchable_by_all(&[uid], vec![PathBuf::from(path)]).len() == 1;
        assert!(searchable_by(0, "/root/anything"));
        // /proc/1/fd is root's alone (0500), whatever a test runs as.
        assert!(!searchable_by(65534, "/proc/1/fd/0"));
        assert!(searchable_by(65534, "/etc/hostname"));
        assert!(searchable_by(65534, "/etc/no-such-dir/x"));
        let both = searchable_by_all(
            &[0, 65534],
            vec![
                PathBuf::from("/proc/1/fd/0"),
                PathBuf::from("/etc/hostname"),
            ],
        );
        assert_eq!(both, vec![PathBuf::from("/etc/hostname")]);
    }
}
