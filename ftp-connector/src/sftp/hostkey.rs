//! Trusting the server: the russh client callback that checks its host key against a
//! pinned fingerprint or a `known_hosts` file.

use std::sync::Arc;

use russh::client;
use russh::keys::{HashAlg, PublicKey, PublicKeyOrCertificate};

use super::config::HostKeyPolicy;

/// The russh client callbacks: only the host key check matters.
pub(crate) struct Client {
    pub(crate) policy: Arc<HostKeyPolicy>,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// Why the SSH layer gave up.
#[derive(Debug)]
pub(crate) enum ClientError {
    Ssh(russh::Error),
    /// The host key was refused; the text says why and shows the fingerprint seen.
    Untrusted(String),
}

impl From<russh::Error> for ClientError {
    fn from(e: russh::Error) -> Self {
        ClientError::Ssh(e)
    }
}

impl client::Handler for Client {
    type Error = ClientError;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> std::result::Result<bool, ClientError> {
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // A host certificate is judged by the key it certifies (no CA support).
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::from(cert.public_key().clone()),
        };
        // known_hosts files are small; reading one inline is fine.
        check_host_key(&self.policy, &self.host, self.port, &key)
            .map_err(ClientError::Untrusted)?;
        Ok(true)
    }
}

/// Accepts `key` for `host:port` under `policy`, or says why not.
///
/// A pinned fingerprint must match. A `known_hosts` line for the host with another key
/// of the same type is always refused. A key found nowhere is refused unless the caller
/// opted in with `ssh.insecure_accept_unknown_host_key`.
pub(crate) fn check_host_key(
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    key: &PublicKey,
) -> std::result::Result<(), String> {
    let seen = key.fingerprint(HashAlg::Sha256).to_string();
    let seen_bare = seen.trim_start_matches("SHA256:").trim_end_matches('=');
    if let Some(pin) = &policy.pinned_sha256
        && pin != seen_bare
    {
        return Err(format!(
            "host key {seen} does not match the pinned fingerprint SHA256:{pin}"
        ));
    }
    let file = match (&policy.known_hosts, policy.default_known_hosts) {
        (Some(path), _) => Some(path.clone()),
        (None, true) => std::env::home_dir().map(|h| h.join(".ssh").join("known_hosts")),
        (None, false) => None,
    };
    let mut where_looked = String::new();
    if let Some(file) = file {
        where_looked = format!(" (not in {})", file.display());
        match russh::keys::check_known_hosts_path(host, port, key, &file) {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(russh::keys::Error::KeyChanged { line }) => {
                return Err(format!(
                    "host key {seen} differs from the one recorded at {}:{line}; \
                     the server was re-keyed or someone is in the middle",
                    file.display()
                ));
            }
            Err(e) => return Err(format!("cannot check {}: {e}", file.display())),
        }
    }
    if policy.pinned_sha256.is_some() {
        return Ok(());
    }
    if policy.accept_unknown {
        tracing::warn!(host, port, fingerprint = %seen, "accepting an unknown SSH host key (ssh.insecure_accept_unknown_host_key)");
        return Ok(());
    }
    Err(format!(
        "unknown host key {seen}{where_looked}; add it to known_hosts, pin it with \
         ssh.host_key_fingerprint, or set ssh.insecure_accept_unknown_host_key"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh::keys::PrivateKey;

    fn policy() -> HostKeyPolicy {
        HostKeyPolicy {
            pinned_sha256: None,
            known_hosts: None,
            default_known_hosts: false,
            accept_unknown: false,
        }
    }

    fn key() -> PublicKey {
        let k = PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
        k.public_key().clone()
    }

    #[test]
    fn host_keys_are_refused_unless_known_pinned_or_explicitly_accepted() {
        let k = key();
        let fp = k.fingerprint(HashAlg::Sha256).to_string();
        let err = check_host_key(&policy(), "h", 22, &k).unwrap_err();
        assert!(
            err.contains(&fp) && err.contains("insecure_accept_unknown_host_key"),
            "{err}"
        );

        let accept = HostKeyPolicy {
            accept_unknown: true,
            ..policy()
        };
        assert!(check_host_key(&accept, "h", 22, &k).is_ok());

        let pinned = HostKeyPolicy {
            pinned_sha256: Some(fp.trim_start_matches("SHA256:").into()),
            ..policy()
        };
        assert!(check_host_key(&pinned, "h", 22, &k).is_ok());
        // A pin that does not match is refused even when unknown keys are accepted.
        let other = HostKeyPolicy {
            accept_unknown: true,
            ..pinned
        };
        assert!(
            check_host_key(&other, "h", 22, &key())
                .unwrap_err()
                .contains("pinned")
        );
    }

    #[test]
    fn known_hosts_lines_are_matched_with_their_port() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        let k = key();
        let line = k.to_openssh().unwrap();
        std::fs::write(&file, format!("[127.0.0.1]:2222 {line}\n")).unwrap();
        let p = HostKeyPolicy {
            known_hosts: Some(file.clone()),
            ..policy()
        };
        assert!(check_host_key(&p, "127.0.0.1", 2222, &k).is_ok());
        // The same host on another port is unknown.
        assert!(
            check_host_key(&p, "127.0.0.1", 2223, &k)
                .unwrap_err()
                .contains("unknown")
        );
        // A different key for a recorded host is refused, even with the opt-in.
        let p = HostKeyPolicy {
            accept_unknown: true,
            ..p
        };
        let err = check_host_key(&p, "127.0.0.1", 2222, &key()).unwrap_err();
        assert!(err.contains("differs"), "{err}");
    }
}
