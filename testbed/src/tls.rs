//! Test certificates: a throw-away CA and a `CA:FALSE` server leaf it signs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use sha2::{Digest as _, Sha256};

use crate::Result;

/// The name the server certificate is issued for (its SANs are this and `127.0.0.1`).
pub(crate) const TLS_SERVER_NAME: &str = "localhost";

/// Certificate files written for one server.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    /// PEM of the CA certificate (what clients trust).
    pub(crate) ca_pem: String,
    /// Path of the CA certificate PEM.
    pub(crate) ca_path: PathBuf,
    /// Path of the server certificate chain PEM (leaf only).
    pub(crate) cert_path: PathBuf,
    /// Path of the server private key PEM (mode 0600).
    pub(crate) key_path: PathBuf,
    /// Lowercase hex SHA-256 of the leaf certificate's DER.
    pub(crate) cert_sha256: String,
}

/// Generates a CA and a server certificate signed by it, and writes them into `dir`.
///
/// The leaf is an end-entity certificate (`CA:FALSE`, `serverAuth`) for `localhost` and
/// `127.0.0.1`: rustls/webpki refuses a CA certificate used as a server certificate.
pub(crate) fn generate(dir: &Path) -> Result<TlsFiles> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = name("photoshelter-ftp testbed CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

    let mut leaf_params =
        CertificateParams::new(vec![TLS_SERVER_NAME.to_owned(), "127.0.0.1".to_owned()])?;
    leaf_params.distinguished_name = name(TLS_SERVER_NAME);
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    std::fs::create_dir_all(dir)?;
    let files = TlsFiles {
        ca_pem: ca.pem(),
        ca_path: dir.join("ca.pem"),
        cert_path: dir.join("server.crt"),
        key_path: dir.join("server.key"),
        cert_sha256: crate::secret::hex(&Sha256::digest(leaf.der())),
    };
    std::fs::write(&files.ca_path, &files.ca_pem)?;
    std::fs::write(&files.cert_path, leaf.pem())?;
    write_private(&files.key_path, leaf_key.serialize_pem().as_bytes())?;
    Ok(files)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn
}

/// A rustls server configuration presenting the leaf of `files`, TLS 1.2 and 1.3, that lets
/// clients resume sessions both ways: a session cache (stateful, TLS 1.2 session ids and
/// TLS 1.3 tickets naming a cached session) and a ticketer (stateless tickets). FTPS data
/// connections resume the control connection's session this way.
pub(crate) fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(&files.cert_path)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&files.key_path)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(1024);
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new()?;
    Ok(Arc::new(config))
}

/// Writes a file readable by its owner only.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    Ok(())
}
