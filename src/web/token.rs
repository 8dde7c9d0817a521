//! The dashboard's secret: the token a person proves who they are with, and the one-time login
//! links derived from it.
//!
//! Without `[serve] token_file`, the first `serve` (or `serve --login-link`) generates a token
//! of 256 random bits into `DB.dashboard-token`, `0600` beside the database in its `0700`
//! directory: only whoever may read the state (root, under the shipped units) can use it. A
//! login link carries no token, only a code derived from it by HMAC-SHA256 that names its
//! expiry and a nonce: it works once, for [`LINK_TTL`], and shows nothing that outlives it in a
//! browser's history or a proxy's log.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How long a login link works.
pub const LINK_TTL: f64 = 10.0 * 60.0;

/// Bytes of randomness in a generated token (hex-encoded, twice as many characters).
const TOKEN_BYTES: usize = 32;

/// What a login link's code is a MAC of, besides its expiry and nonce: a MAC made for
/// anything else is no login code.
const LINK_PURPOSE: &[u8] = b"orchestrator dashboard login link\n";

/// Where the generated token of the database `db` lives.
pub fn generated_path(db: &Path) -> PathBuf {
    crate::store::private::beside(db, ".dashboard-token")
}

/// The generated token, created `0600` on first use. Two processes creating it at once agree:
/// the file is written under a temporary name and linked into place without replacing one
/// that appeared meanwhile, which is then read instead.
pub fn generated(db: &Path) -> std::io::Result<String> {
    let path = generated_path(db);
    match read_private(&path) {
        Ok(token) => return Ok(token),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::store::private::make_dir(dir)?;
    }
    let token = crate::random::random_hex(TOKEN_BYTES);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let mut staged = tempfile::Builder::new()
        .prefix(".dashboard-token.")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(dir.unwrap_or(Path::new(".")))?;
    writeln!(staged, "{token}")?;
    staged.as_file().sync_all()?;
    match staged.persist_noclobber(&path) {
        Ok(_) => {
            log::warn!(
                "generated the dashboard's token in {} (print a login link with `orchestrator serve --login-link`)",
                path.display()
            );
            Ok(token)
        }
        Err(err) if err.error.kind() == std::io::ErrorKind::AlreadyExists => read_private(&path),
        Err(err) => Err(err.error),
    }
}

/// The token in a file of ours, refusing a symlink or anything but a regular file, and an
/// empty one.
fn read_private(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let mut text = String::new();
    Read::by_ref(&mut file)
        .take(4096)
        .read_to_string(&mut text)?;
    let token = text.trim().to_string();
    if token.is_empty() {
        return Err(std::io::Error::other(format!(
            "{} is empty",
            path.display()
        )));
    }
    Ok(token)
}

/// A login code for `token`, valid until `now + LINK_TTL`: `EXPIRY.NONCE.MAC`.
pub fn login_code(token: &str, now: f64) -> String {
    let expiry = (now + LINK_TTL).ceil() as u64;
    let nonce = crate::random::random_hex(16);
    let mac = mac_of(token, expiry, &nonce).finalize().into_bytes();
    format!("{expiry}.{nonce}.{}", hex(&mac))
}

/// Why a login code was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeError {
    Malformed,
    Expired,
    Forged,
}

/// A code's nonce and expiry once its MAC is right and it has not expired; whether it was
/// used before is the caller's to know.
pub fn verify_code(token: &str, code: &str, now: f64) -> Result<(String, f64), CodeError> {
    let mut parts = code.split('.');
    let (Some(expiry), Some(nonce), Some(mac), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CodeError::Malformed);
    };
    let expiry: u64 = expiry.parse().map_err(|_| CodeError::Malformed)?;
    let mac = unhex(mac).ok_or(CodeError::Malformed)?;
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CodeError::Malformed);
    }
    // Constant time: the comparison says nothing about how much of a forged MAC was right.
    mac_of(token, expiry, nonce)
        .verify_slice(&mac)
        .map_err(|_| CodeError::Forged)?;
    let expiry = expiry as f64;
    // A code from a clock far ahead is as suspect as an expired one.
    if expiry <= now || expiry > now + LINK_TTL + 60.0 {
        return Err(CodeError::Expired);
    }
    Ok((nonce.to_string(), expiry))
}

fn mac_of(token: &str, expiry: u64, nonce: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; new_from_slice never fails for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(LINK_PURPOSE);
    mac.update(format!("{expiry}.{nonce}").as_bytes());
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_generated_token_is_private_random_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let token = generated(&db).unwrap();
        assert_eq!(token.len(), 64);
        let path = generated_path(&db);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            generated(&db).unwrap(),
            token,
            "the same token on the next start"
        );
        let other = tempfile::tempdir().unwrap();
        assert_ne!(generated(&other.path().join("state.db")).unwrap(), token);
        // Nothing staged is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_symlink_in_place_of_the_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(dir.path().join("elsewhere"), "planted\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), generated_path(&db)).unwrap();
        assert!(generated(&db).is_err());
    }

    #[test]
    fn a_login_code_works_until_it_expires_and_only_for_its_token() {
        let now = 1_800_000_000.0;
        let code = login_code("token-a", now);
        let (nonce, expiry) = verify_code("token-a", &code, now).unwrap();
        assert_eq!(nonce.len(), 32);
        assert_eq!(expiry, now + LINK_TTL);
        assert!(verify_code("token-a", &code, now + LINK_TTL - 1.0).is_ok());
        assert_eq!(
            verify_code("token-a", &code, now + LINK_TTL),
            Err(CodeError::Expired)
        );
        assert_eq!(verify_code("token-b", &code, now), Err(CodeError::Forged));
        // A later expiry with the same MAC is a forgery, not a longer life.
        let (_, rest) = code.split_once('.').unwrap();
        let stretched = format!("{}.{rest}", (now + LINK_TTL) as u64 + 1);
        assert_eq!(
            verify_code("token-a", &stretched, now),
            Err(CodeError::Forged)
        );
        for garbage in ["", "1.2", "x.y.z", "1.2.3.4", &format!("{code}0"), "9.é.00"] {
            assert!(verify_code("token-a", garbage, now).is_err(), "{garbage}");
        }
    }
}
