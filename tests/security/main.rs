//! The security suite: each test performs an attack for real against the built binary (a
//! rebinding-shaped request, a symlink race run as `nobody`, a glob escape, a hostile log line,
//! an escaping grandchild, a local user at the dashboard, a crash loop during consultations),
//! plants a victim, and asserts that the victim survives and that the refusal names its reason. The README's safety section states what these prove.

#[path = "../common/mod.rs"]
mod common;

mod children;
mod extremes;
mod files;
mod fs;
mod policy;
mod secrets;
mod web;
mod workspaces;
