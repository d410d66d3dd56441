//! memory backend tests.
