//! metadata
#![forbid(unsafe_code)]
