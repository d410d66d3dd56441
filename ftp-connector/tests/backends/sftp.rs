//! sftp backend tests.
