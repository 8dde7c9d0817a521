//! orchestrator: a self-healing toolkit for Linux hosts. How it is built: docs/architecture.md;
//! agents, plans and the policy: docs/agents.md; the reference for users: man/.
//!
//! Layers, lowest first (a module never imports a higher one): `duration`, `clock`, `model`,
//! `exec`, `random`, `redact` → `config`, `checks`, `actions`, `learning` → `store`, `lock` →
//! `phases` → `commands` (with `cli`). The intent, not yet the fact: docs/architecture.md
//! ("Layers and data flow") lists the imports that break it.

pub mod actions;
pub mod agents;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod duration;
pub mod exec;
pub mod journal;
pub mod learning;
pub mod lock;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod phases;
pub mod policy;
pub mod pool;
pub mod random;
pub mod redact;
pub mod store;
pub mod web;
