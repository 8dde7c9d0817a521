//! The bounds a config is held to besides each value's own type, each refused by `config check`
//! with the number it allows (orchestrator.toml(5), LIMITS). Durations are bounded where they
//! are parsed: at most `Duration::LIMIT` (100 years), and `Duration::WAIT_LIMIT` (24h) for a
//! timeout or a wait inside a cycle.

/// Checks in one config. Every walk over the checks and their `depends_on` is linear in
/// checks plus dependencies (a chain as deep as the checks it has costs no more); this keeps
/// that work, and the rows one scan writes, bounded.
pub const MAX_CHECKS: usize = 10_000;

/// Names in one check's `depends_on`: with [`MAX_CHECKS`], at most a million dependencies.
pub const MAX_DEPENDS_ON: usize = 100;

/// Characters in a name a person reads in tables, pages and mails: a check's `name` and
/// `service`, an agent's name.
pub const MAX_NAME: usize = 200;

/// Why `name` is refused as `what` ("a check name"): longer than [`MAX_NAME`]. The message
/// does not repeat the name: the problem's key and line say which one it is.
pub fn name_too_long(what: &str, name: &str) -> Option<String> {
    let length = name.chars().count();
    (length > MAX_NAME)
        .then(|| format!("{what} is at most {MAX_NAME} characters; this one has {length}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_is_refused_with_its_length() {
        assert_eq!(name_too_long("a check name", &"é".repeat(MAX_NAME)), None);
        assert_eq!(
            name_too_long("a check name", &"n".repeat(70_000)).as_deref(),
            Some("a check name is at most 200 characters; this one has 70000")
        );
    }
}
