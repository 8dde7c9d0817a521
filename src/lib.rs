//! orchestrator: a self-healing toolkit for Linux hosts. How it is built: docs/architecture.md;
//! agents, plans and the policy: docs/agents.md; the reference for users: man/.
//!
//! Layers, lowest first (a module never imports a higher one, and no import goes round a loop):
//! `duration`, `clock`, `model`, `sys`, `untrusted_file`, `pidfile`, `exec`, `pool`, `random`,
//! `redact`, `journal`, `learning`, `evidence`, `document`, `exit` → `actions`, `checks`,
//! `config`, `service_files`, `policy` → `store`, `lock`,
//! `facts` → `agents`, `notify`, `metrics`, `fleet` → `phases` → `web`, `mcp`, `commands` (with
//! `cli`). The fact, checked: `scripts/module-graph.sh` counts cycles and upward imports, and
//! tests/layers.rs fails on any.

pub(crate) mod actions;
pub(crate) mod agents;
pub(crate) mod checks;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod commands;
pub(crate) mod config;
pub(crate) mod document;
pub(crate) mod duration;
pub(crate) mod evidence;
pub(crate) mod exec;
pub(crate) mod exit;
pub(crate) mod facts;
pub(crate) mod fleet;
pub mod journal;
pub(crate) mod learning;
pub(crate) mod lock;
pub(crate) mod mcp;
pub(crate) mod metrics;
pub(crate) mod model;
pub(crate) mod notify;
pub(crate) mod phases;
pub(crate) mod pidfile;
pub(crate) mod policy;
pub(crate) mod pool;
#[cfg(test)]
mod properties;
pub(crate) mod random;
pub(crate) mod redact;
pub(crate) mod service_files;
pub(crate) mod store;
pub(crate) mod sys;
pub(crate) mod untrusted_file;
pub(crate) mod web;

// What the binary and the examples use; everything else is crate-private, so the compiler
// reports an item nobody calls.
pub use actions::fs::clean_files;
// Each action described once: for tests that compare documentation (man pages) against it.
pub use actions::vocabulary::{
    vocabulary as action_vocabulary, ActionSpec, Field, FieldDefault, FieldType, ACTIONS,
};
pub use clock::mark_start;
pub use commands::run;
pub use exec::become_subreaper;
pub use facts::time_gathering as time_facts;
