//! Every backend against the same conformance suite, in one test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "ftp")]
mod ftp;
mod local;
mod memory;
mod model;
#[cfg(feature = "sftp")]
mod sftp;
