//! Fault decorators for tests: wrap any [`RemoteFs`](crate::RemoteFs) to cut streams,
//! fail calls or add latency.
