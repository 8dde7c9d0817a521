//! Unguessable values from the kernel's random source: CSRF tokens, and the nonce that marks
//! where untrusted data ends in an agent's prompt.

/// `bytes` random bytes from getrandom(2) as lowercase hex (twice as many characters).
/// getrandom(2) blocks only until the kernel's pool is first seeded, at boot; after that it
/// never fails on Linux, so a failure is a broken host and worth a panic, not a guessable value.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::getrandom(&mut buffer).expect("the kernel's random source (getrandom(2)) failed");
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_of_the_asked_length_and_never_the_same() {
        let a = random_hex(16);
        let b = random_hex(16);
        assert_eq!(a.len(), 32);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }
}
