//! Request-shape tests: the SDK against a wiremock server answering with JSON fixtures that
//! follow the PhotoShelter reference and `docs/wire-format.md`. Each test has its own
//! server; a catch-all mounted last answers 500 naming the request that was expected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

mod auth;
mod browse;
mod download;
mod errors;
mod provisional;
mod upload;
