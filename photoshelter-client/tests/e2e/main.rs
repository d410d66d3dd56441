//! End-to-end tests: the SDK against `photoshelter-emulator` over real HTTP on 127.0.0.1.
//! One binary, one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod browse;
mod common;
mod faults;
mod metadata;
mod provisional;
mod transfer;
