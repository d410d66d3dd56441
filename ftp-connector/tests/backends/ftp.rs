//! ftp backend tests.
