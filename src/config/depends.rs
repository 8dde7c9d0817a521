//! `depends_on` across checks: every name must be a configured check, and the graph must have
//! no cycle (a cycle would leave every check of it waiting for another to be fixed first).

use super::check::Check;
use super::error::{Problem, Source};
use std::collections::HashMap;
use std::ops::Range;

/// Checks `depends_on` of every check; `tables` holds each check's table span, in order.
pub(super) fn validate(
    source: &Source,
    checks: &[Check],
    tables: &[Range<usize>],
    problems: &mut Vec<Problem>,
) {
    let index: HashMap<&str, usize> = checks
        .iter()
        .enumerate()
        .map(|(i, check)| (check.name.as_str(), i))
        .collect();
    let mut known = true;
    for (check, table) in checks.iter().zip(tables) {
        for dependency in &check.depends_on {
            let message = if dependency == &check.name {
                format!("check `{}` depends on itself", check.name)
            } else if !index.contains_key(dependency.as_str()) {
                format!(
                    "check `{}` depends on `{dependency}`, which is not a configured check",
                    check.name
                )
            } else {
                continue;
            };
            known = false;
            problems.push(problem_at(source, table, message));
        }
    }
    // A cycle is only looked for among names that exist: one problem at a time.
    if known {
        if let Some(cycle) = find_cycle(checks, &index) {
            let mut names: Vec<String> = cycle.iter().map(|i| checks[*i].name.clone()).collect();
            // A long cycle is named by its ends: the message stays readable.
            if names.len() > 12 {
                let left_out = names.len() - 10;
                names.splice(5..names.len() - 5, [format!("… {left_out} more …")]);
            }
            let message = format!(
                "`depends_on` forms a cycle: {} (a check cannot wait for itself to be fixed first)",
                names.join(" -> ")
            );
            problems.push(problem_at(source, &tables[cycle[0]], message));
        }
    }
}

fn problem_at(source: &Source, table: &Range<usize>, message: String) -> Problem {
    let span = source
        .key_span(table, "depends_on")
        .or_else(|| Some(table.clone()));
    Problem::at(source, span, Some("depends_on"), message)
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    OnPath,
    Done,
}

/// The first cycle found by a depth-first walk in config order, as check indexes with the
/// first one repeated at the end (`web -> app -> db -> web`). The walk keeps its own stack: a
/// chain may be as deep as the config has checks.
fn find_cycle(checks: &[Check], index: &HashMap<&str, usize>) -> Option<Vec<usize>> {
    let mut marks = vec![Mark::New; checks.len()];
    (0..checks.len()).find_map(|start| walk(start, checks, index, &mut marks))
}

/// From `start`: each frame of `path` is a check and how many of its dependencies were
/// followed so far.
fn walk(
    start: usize,
    checks: &[Check],
    index: &HashMap<&str, usize>,
    marks: &mut [Mark],
) -> Option<Vec<usize>> {
    if marks[start] != Mark::New {
        return None;
    }
    marks[start] = Mark::OnPath;
    let mut path: Vec<(usize, usize)> = vec![(start, 0)];
    while let Some((at, followed)) = path.last_mut() {
        let at = *at;
        let Some(dependency) = checks[at].depends_on.get(*followed) else {
            marks[at] = Mark::Done;
            path.pop();
            continue;
        };
        *followed += 1;
        let next = *index.get(dependency.as_str())?;
        match marks[next] {
            Mark::Done => {}
            Mark::OnPath => {
                let from = path.iter().position(|(i, _)| *i == next)?;
                let mut cycle: Vec<usize> = path[from..].iter().map(|(i, _)| *i).collect();
                cycle.push(next);
                return Some(cycle);
            }
            Mark::New => {
                marks[next] = Mark::OnPath;
                path.push((next, 0));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn problems(checks: &[(&str, &str)]) -> Vec<String> {
        let text: String = checks
            .iter()
            .map(|(name, deps)| {
                format!("[[checks]]\nname = \"{name}\"\nkind = \"memory\"\ndepends_on = {deps}\n\n")
            })
            .collect();
        match Config::parse("test.toml", &text) {
            Ok(_) => vec![],
            Err(err) => err.problems(),
        }
    }

    #[test]
    fn a_chain_is_valid() {
        assert!(problems(&[("web", "[\"app\"]"), ("app", "[\"db\"]"), ("db", "[]")]).is_empty());
    }

    #[test]
    fn an_unknown_dependency_names_file_line_and_key() {
        let found = problems(&[("app", "[\"db\"]")]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("test.toml:4:"), "{}", found[0]);
        assert!(found[0].contains("key `depends_on`"), "{}", found[0]);
        assert!(
            found[0].contains("`db`, which is not a configured check"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn a_cycle_is_named_in_full() {
        let found = problems(&[
            ("web", "[\"app\"]"),
            ("app", "[\"db\"]"),
            ("db", "[\"web\"]"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("web -> app -> db -> web"), "{}", found[0]);
    }

    #[test]
    fn a_chain_of_10000_is_walked_without_recursion() {
        let chain: Vec<(String, String)> = (0..10_000)
            .map(|i| {
                let deps = if i < 9_999 {
                    format!("[\"c{}\"]", i + 1)
                } else {
                    "[\"c0\"]".to_string()
                };
                (format!("c{i}"), deps)
            })
            .collect();
        let named: Vec<(&str, &str)> = chain
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_str()))
            .collect();
        let found = problems(&named);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("cycle: c0 -> c1 -> c2 -> c3 -> c4 -> … 9991 more … -> c9996 -> c9997 -> c9998 -> c9999 -> c0 ("),
            "{}",
            found[0]
        );
    }

    #[test]
    fn a_check_depending_on_itself_is_refused() {
        let found = problems(&[("db", "[\"db\"]")]);
        assert!(found[0].contains("`db` depends on itself"), "{found:?}");
    }
}
