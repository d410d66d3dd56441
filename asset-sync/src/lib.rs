//! asset-sync
#![forbid(unsafe_code)]
