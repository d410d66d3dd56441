//! local backend tests.
