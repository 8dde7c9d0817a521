//! orchestrator: a self-healing toolkit for Linux hosts. See DESIGN.md for the contract.
//!
//! Layers, lowest first (a module never imports a higher one): `duration`, `clock`, `model`,
//! `exec`, `random`, `redact` → `config`, `checks`, `actions`, `learning` → `store`, `lock` → `phases` →
//! `commands` (with `cli`).

pub mod actions;
pub mod agents;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod duration;
pub mod exec;
pub mod learning;
pub mod lock;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod phases;
pub mod policy;
pub mod random;
pub mod redact;
pub mod store;
pub mod web;
