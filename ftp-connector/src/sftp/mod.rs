//! SFTP backend: [`SftpFs`], over russh (SSH) and russh-sftp (the SFTP v3 protocol).
//!
//! - `config.rs`: the settings, checked, from a URL plus `RemoteOptions`;
//! - `core.rs`: one SSH session (connect, login) and `map_sftp_error`;
//! - `hostkey.rs`: the host key check (pinned fingerprint, `known_hosts`);
//! - `pool.rs`: the session pool (several connections, several transfers on each);
//! - `backend.rs`: `SftpFs` and the small `RemoteFs` methods;
//! - `reader.rs`, `writer.rs`, `lister.rs`: pipelined reads, pipelined atomic writes,
//!   lazy directory listings.

mod backend;
mod config;
mod core;
mod hostkey;
mod lister;
mod pool;
mod reader;
mod writer;

pub use backend::SftpFs;
