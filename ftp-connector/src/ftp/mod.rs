//! FTP and FTPS (explicit `AUTH TLS` and implicit): [`FtpFs`].
//!
//! One folder, the same small files as every backend:
//!
//! - `config`: the URL and options, resolved and checked;
//! - `tls`: rustls configuration, roots, certificate pinning (feature `ftps`);
//! - `connect`: opening a control connection (TCP, TLS, login, modes);
//! - `core`: one control connection, its commands under timeouts, error mapping;
//! - `pool`: the connections of one server, shared by every operation;
//! - `parse`: `MLSD`/`MLST` facts, Unix and DOS `LIST` lines, `FEAT`;
//! - `backend`: [`FtpFs`] and the [`RemoteFs`](crate::RemoteFs) methods;
//! - `reader`, `writer`, `lister`: the streaming operations.

mod backend;
mod config;
mod connect;
mod core;
mod lister;
mod parse;
mod pool;
mod reader;
#[cfg(feature = "ftps")]
mod tls;
mod writer;

pub use backend::FtpFs;
