//! The emulator over real HTTP on 127.0.0.1, driven by reqwest (not by the SDK).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod auth;
mod browse;
mod cli;
mod create;
mod faults;
mod metadata;
mod snapshot;
mod transfer;
mod v4;
