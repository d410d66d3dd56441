//! photoshelter-client
#![forbid(unsafe_code)]
