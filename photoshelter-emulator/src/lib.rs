//! photoshelter-emulator
#![forbid(unsafe_code)]
