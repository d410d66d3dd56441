//! photoshelter-ftp
#![forbid(unsafe_code)]
pub use asset_metadata as metadata;
pub use asset_sync as sync;
pub use ftp_connector as remote;
pub use photoshelter_client as photoshelter;
