//! End-to-end tests of the SDK against photoshelter-emulator over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
