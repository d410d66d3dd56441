//! TLS for FTPS: one rustls client configuration per server (roots, verifier, pin), and for
//! each control connection its own session cache, shared with that connection's data
//! connections only. A data connection thus resumes the TLS session of *its* control
//! connection, which is what vsftpd (`require_ssl_reuse`), FileZilla Server and others
//! check; a session of another pooled connection would be refused.
//!
//! Versions: see [`TlsOptions`]. Each connection's session cache counts what the server
//! gave it to resume with ([`SessionsSeen`]); a first connection that negotiated TLS 1.3 and
//! received no ticket tells the backend to open its connections with TLS 1.2
//! ([`TlsSetup::tls12`]), whose sessions data connections resume.
//!
//! Roots: the platform's (through `rustls-platform-verifier`: the OS verifier on macOS and
//! Windows, the system store with webpki elsewhere) when `tls.use_system_roots`, plus every
//! PEM file in `tls.ca_certificates`. A `tls.pinned_sha256` is checked on top of normal
//! verification, never instead of it.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
    WebPkiServerVerifier,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, NamedGroup, OtherError, SignatureScheme,
    SupportedProtocolVersion,
};
use sha2::{Digest, Sha256};

use crate::config::{TlsOptions, TlsVersion};
use crate::error::{Error, Result};

/// TLS sessions kept for resumption per control connection (TLS 1.3 tickets are used
/// once each; the server sends new ones on every connection).
const SESSION_CACHE: usize = 16;

/// The rustls configuration of one server and the name its certificate must carry.
#[derive(Clone)]
pub(super) struct TlsSetup {
    pub(super) config: Arc<ClientConfig>,
    /// TLS 1.2 only, for servers that issue no TLS 1.3 tickets; `None` when the options
    /// fix the versions.
    pub(super) tls12: Option<Arc<ClientConfig>>,
    pub(super) server_name: String,
}

/// What a connection's session cache received from the server.
#[derive(Debug, Default)]
pub(super) struct SessionsSeen {
    tls12_sessions: AtomicUsize,
    tls13_tickets: AtomicUsize,
}

impl SessionsSeen {
    /// Whether data connections can resume this connection's session: it negotiated
    /// TLS 1.2 (a session id or ticket was stored) or received a TLS 1.3 ticket.
    pub(super) fn resumable(&self) -> bool {
        self.tls12_sessions.load(Ordering::Relaxed) > 0
            || self.tls13_tickets.load(Ordering::Relaxed) > 0
    }
}

/// rustls's in-memory session cache, counting what it is given.
#[derive(Debug)]
struct CountingStore {
    inner: ClientSessionMemoryCache,
    seen: Arc<SessionsSeen>,
}

impl ClientSessionStore for CountingStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.inner.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.inner.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.seen.tls12_sessions.fetch_add(1, Ordering::Relaxed);
        self.inner.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.inner.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.inner.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.seen.tls13_tickets.fetch_add(1, Ordering::Relaxed);
        self.inner.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.inner.take_tls13_ticket(server_name)
    }
}

/// Whether the processor encrypts AES-GCM in hardware.
fn aes_in_hardware() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// A TLS 1.2 ChaCha20-Poly1305 suite.
fn is_tls12_chacha(suite: &rustls::SupportedCipherSuite) -> bool {
    use rustls::CipherSuite as C;
    matches!(suite, rustls::SupportedCipherSuite::Tls12(_))
        && matches!(
            suite.suite(),
            C::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
                | C::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        )
}

/// The versions `min..=max` names.
fn versions(min: TlsVersion, max: TlsVersion) -> Vec<&'static SupportedProtocolVersion> {
    let mut v = Vec::new();
    if max >= TlsVersion::Tls13 {
        v.push(&rustls::version::TLS13);
    }
    if min <= TlsVersion::Tls12 {
        v.push(&rustls::version::TLS12);
    }
    v
}

impl fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSetup")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsSetup {
    /// Loads the roots and builds the verifier; bad files and bad pins are reported with
    /// the option key that names them.
    pub(super) fn new(options: &TlsOptions, host: &str) -> Result<Self> {
        // Name the provider explicitly: a process-wide default may be absent or ambiguous.
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        if aes_in_hardware() {
            // Over TLS 1.2 the server picks the suite, and some (pure-ftpd) put
            // ChaCha20-Poly1305 first: three times the CPU of AES-GCM per byte where the
            // processor has AES instructions. Every TLS 1.2 server offers AES-GCM.
            provider.cipher_suites.retain(|s| !is_tls12_chacha(s));
        }
        let provider = Arc::new(provider);
        let server_name = options
            .server_name
            .clone()
            .unwrap_or_else(|| host.to_owned());
        ServerName::try_from(server_name.clone())
            .map_err(|e| Error::config("tls.server_name", format!("{server_name:?}: {e}")))?;

        let mut extra = Vec::new();
        for path in &options.ca_certificates {
            let key = "tls.ca_certificates";
            let before = extra.len();
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| Error::config(key, format!("{}: {e}", path.display())))?
            {
                extra.push(
                    cert.map_err(|e| Error::config(key, format!("{}: {e}", path.display())))?,
                );
            }
            if extra.len() == before {
                return Err(Error::config(
                    key,
                    format!("{}: no PEM certificate in the file", path.display()),
                ));
            }
        }

        let verifier: Arc<dyn ServerCertVerifier> = if options.use_system_roots {
            Arc::new(
                rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
                    .map_err(|e| Error::config("tls.use_system_roots", e.to_string()))?,
            )
        } else {
            if extra.is_empty() {
                return Err(Error::config(
                    "tls.ca_certificates",
                    "no root certificate to trust: give ca_certificates or set use_system_roots",
                ));
            }
            let mut roots = rustls::RootCertStore::empty();
            for cert in extra {
                roots
                    .add(cert)
                    .map_err(|e| Error::config("tls.ca_certificates", e.to_string()))?;
            }
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| Error::config("tls.ca_certificates", e.to_string()))?
        };
        let verifier: Arc<dyn ServerCertVerifier> = match &options.pinned_sha256 {
            Some(pin) => Arc::new(PinnedVerifier {
                inner: verifier,
                pin: parse_pin(pin)?,
            }),
            None => verifier,
        };

        let build = |versions: &[&'static SupportedProtocolVersion]| -> Result<ClientConfig> {
            Ok(ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(versions)
                .map_err(|e| Error::config("tls", e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(verifier.clone())
                .with_no_client_auth())
        };
        let max = options.max_version.unwrap_or(TlsVersion::Tls13);
        let config = build(&versions(options.min_version, max))?;
        let tls12 = match (options.max_version, options.min_version) {
            (None, TlsVersion::Tls12) => Some(Arc::new(build(&[&rustls::version::TLS12])?)),
            _ => None,
        };
        Ok(TlsSetup {
            config: Arc::new(config),
            tls12,
            server_name,
        })
    }

    /// A connector for one new control connection: this configuration (TLS 1.2 only
    /// with `tls12`, where allowed) with a session cache of its own, which suppaftp then
    /// uses for that connection's data connections; and what that cache receives.
    pub(super) fn connector(
        &self,
        tls12: bool,
    ) -> (suppaftp::tokio::AsyncRustlsConnector, Arc<SessionsSeen>) {
        let base = match (&self.tls12, tls12) {
            (Some(c), true) => c,
            _ => &self.config,
        };
        let mut config = (**base).clone();
        let seen = Arc::new(SessionsSeen::default());
        config.resumption = rustls::client::Resumption::store(Arc::new(CountingStore {
            inner: ClientSessionMemoryCache::new(SESSION_CACHE),
            seen: seen.clone(),
        }));
        let connector = suppaftp::tokio::AsyncRustlsConnector::from(
            tokio_rustls::TlsConnector::from(Arc::new(config)),
        );
        (connector, seen)
    }

    /// Whether the options leave room for the switch to TLS 1.2.
    pub(super) fn can_fall_back(&self) -> bool {
        self.tls12.is_some()
    }
}

/// `AB:cd:…` or `abcd…` (64 hex digits) → 32 bytes.
fn parse_pin(pin: &str) -> Result<[u8; 32]> {
    let hex: String = pin
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    let bad = || Error::config("tls.pinned_sha256", "expected 64 hex digits (`:` allowed)");
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Normal verification, then the end-entity certificate's SHA-256 must equal the pin.
#[derive(Debug)]
struct PinnedVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    pin: [u8; 32],
}

/// The error a pin mismatch is reported with (rustls prints it with `Debug`).
struct PinMismatch {
    seen: String,
}

impl fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "certificate SHA-256 {} does not match tls.pinned_sha256",
            self.seen
        )
    }
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for PinMismatch {}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let seen = Sha256::digest(end_entity.as_ref());
        if seen.as_slice() != self.pin {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch {
                    seen: to_hex(&seen),
                })),
            )));
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_accept_colons_and_case_and_refuse_garbage() {
        let hex = "AB".repeat(32);
        assert_eq!(parse_pin(&hex).unwrap(), [0xab; 32]);
        let colons: Vec<String> = (0..32).map(|_| "ab".to_owned()).collect();
        assert_eq!(parse_pin(&colons.join(":")).unwrap(), [0xab; 32]);
        for bad in ["", "abcd", &"zz".repeat(32), &"é".repeat(64)] {
            let e = parse_pin(bad).unwrap_err();
            assert!(matches!(&e, Error::InvalidConfig { key, .. } if key == "tls.pinned_sha256"));
        }
    }

    #[test]
    fn tls12_chacha_is_not_offered_where_aes_runs_in_hardware() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(&ca, ck.cert.pem()).unwrap();
        let o = TlsOptions {
            use_system_roots: false,
            ca_certificates: vec![ca],
            ..TlsOptions::default()
        };
        let setup = TlsSetup::new(&o, "localhost").unwrap();
        for config in [&setup.config, setup.tls12.as_ref().unwrap()] {
            let suites = &config.crypto_provider().cipher_suites;
            let tls12_chacha = suites.iter().any(is_tls12_chacha);
            assert_eq!(tls12_chacha, !aes_in_hardware());
            assert!(
                suites
                    .iter()
                    .any(|s| matches!(s, rustls::SupportedCipherSuite::Tls12(_)))
            );
        }
        // Only the automatic mode keeps a TLS 1.2 configuration aside.
        let fixed = TlsOptions {
            max_version: Some(TlsVersion::Tls13),
            ..o
        };
        assert!(!TlsSetup::new(&fixed, "localhost").unwrap().can_fall_back());
    }

    #[test]
    fn missing_or_empty_ca_files_name_the_key() {
        let mut o = TlsOptions {
            use_system_roots: false,
            ..TlsOptions::default()
        };
        let e = TlsSetup::new(&o, "localhost").unwrap_err();
        assert!(matches!(&e, Error::InvalidConfig { key, .. } if key == "tls.ca_certificates"));
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        o.ca_certificates = vec![empty, dir.path().join("missing.pem")];
        let e = TlsSetup::new(&o, "localhost").unwrap_err();
        assert!(e.to_string().contains("empty.pem"), "{e}");
    }
}
