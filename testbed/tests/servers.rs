//! Proves every server of the test bed is real: a real client logs in, writes a file, reads it
//! back and lists it; wrong credentials and untrusted keys or certificates are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use suppaftp::list::ListParser;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::types::FileType;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// 300 000 bytes of every value, with LF and CR in it: ASCII mode would corrupt it.
fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(7919) % 251) as u8)
        .collect()
}

// ---------------------------------------------------------------- FTP / FTPS helpers

fn rustls_config_trusting(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::{CertificateDer, pem::PemObject as _};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

async fn ftp_connect(addr: std::net::SocketAddr) -> AsyncRustlsFtpStream {
    AsyncRustlsFtpStream::connect(addr).await.unwrap()
}

async fn ftps_connect(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    server_name: &str,
) -> suppaftp::FtpResult<AsyncRustlsFtpStream> {
    let connector = AsyncRustlsConnector::from(tokio_rustls::TlsConnector::from(
        rustls_config_trusting(ca_pem),
    ));
    ftp_connect(addr)
        .await
        .into_secure(connector, server_name)
        .await
}

/// Logs in, uploads, checks the bytes on disk (when the root is known), downloads, lists with
/// MLSD, checks SIZE and MDTM, removes the file.
async fn ftp_round_trip(
    mut ftp: AsyncRustlsFtpStream,
    user: &str,
    password: &str,
    root: Option<&Path>,
    name: &str,
) -> TestResult {
    ftp.login(user, password).await?;
    ftp.transfer_type(FileType::Binary).await?;
    let data = payload(300_000);

    let mut upload = ftp.put_with_stream(name).await?;
    upload.write_all(&data).await?;
    upload.finish().await?;
    if let Some(root) = root {
        assert_eq!(
            std::fs::read(root.join(name))?,
            data,
            "bytes on the server's disk"
        );
    }

    let mut download = ftp.retr_as_stream(name).await?;
    let mut back = Vec::new();
    download.read_to_end(&mut back).await?;
    download.finish().await?;
    assert_eq!(back.len(), data.len());
    assert!(back == data, "downloaded bytes differ");

    let listed = ftp
        .mlsd(None)
        .await?
        .iter()
        .map(|line| ListParser::parse_mlsd(line).unwrap())
        .find(|f| f.name() == name)
        .expect("uploaded file listed by MLSD");
    assert_eq!(listed.size(), data.len());
    assert_eq!(ftp.size(name).await?, data.len());
    ftp.mdtm(name).await?;

    ftp.rm(name).await?;
    assert!(ftp.size(name).await.is_err(), "file gone after DELE");
    ftp.quit().await?;
    Ok(())
}

// ---------------------------------------------------------------- in-process FTP

#[tokio::test]
async fn inprocess_ftp_round_trip() -> TestResult {
    let server = testbed::FtpServer::start().await?;
    assert_eq!(server.url(), format!("ftp://alice@{}/", server.addr()));
    assert!(server.ca_cert_pem().is_none() && server.cert_sha256().is_none());
    let ftp = ftp_connect(server.addr()).await;
    ftp_round_trip(
        ftp,
        server.user(),
        server.password(),
        Some(server.root()),
        "in.bin",
    )
    .await
}

#[tokio::test]
async fn inprocess_ftp_serves_planted_files_and_dirs() -> TestResult {
    let server = testbed::FtpServer::start().await?;
    std::fs::create_dir(server.root().join("sub"))?;
    std::fs::write(server.root().join("sub/planted.txt"), b"planted\n")?;

    let mut ftp = ftp_connect(server.addr()).await;
    ftp.login(server.user(), server.password()).await?;
    ftp.transfer_type(FileType::Binary).await?;
    let names: Vec<String> = ftp
        .mlsd(Some("sub"))
        .await?
        .iter()
        .map(|l| ListParser::parse_mlsd(l).unwrap().name().to_owned())
        .collect();
    assert_eq!(names, ["planted.txt"]);

    // REST: resume a download from an offset.
    ftp.resume_transfer(3).await?;
    let mut r = ftp.retr_as_stream("sub/planted.txt").await?;
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).await?;
    r.finish().await?;
    assert_eq!(tail, b"nted\n");
    ftp.quit().await?;
    Ok(())
}

#[tokio::test]
async fn inprocess_ftp_refuses_wrong_password_and_user() -> TestResult {
    let server = testbed::FtpServer::start().await?;
    let mut ftp = ftp_connect(server.addr()).await;
    let err = ftp.login(server.user(), "wrong").await.unwrap_err();
    assert!(err.to_string().contains("530"), "{err}");
    let mut ftp = ftp_connect(server.addr()).await;
    let err = ftp.login("mallory", server.password()).await.unwrap_err();
    assert!(err.to_string().contains("530"), "{err}");
    Ok(())
}

#[tokio::test]
async fn inprocess_ftp_debug_hides_password() -> TestResult {
    let server = testbed::FtpServer::start_ftps().await?;
    let shown = format!("{server:?}");
    assert!(shown.contains(&server.addr().to_string()), "{shown}");
    assert!(!shown.contains(server.password()), "{shown}");
    Ok(())
}

#[tokio::test]
async fn inprocess_ftp_stops_on_drop() -> TestResult {
    let server = testbed::FtpServer::start().await?;
    let (addr, root) = (server.addr(), server.root().to_path_buf());
    drop(server);
    assert!(!root.exists(), "served directory removed");
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(refused, "listener still accepting after drop");
    Ok(())
}

#[tokio::test]
async fn inprocess_ftp_servers_run_side_by_side() -> TestResult {
    let (a, b) = tokio::try_join!(testbed::FtpServer::start(), testbed::FtpServer::start())?;
    assert_ne!(a.addr(), b.addr());
    assert_ne!(a.password(), b.password());
    let (ra, rb) = tokio::join!(
        ftp_round_trip(
            ftp_connect(a.addr()).await,
            a.user(),
            a.password(),
            Some(a.root()),
            "a.bin"
        ),
        ftp_round_trip(
            ftp_connect(b.addr()).await,
            b.user(),
            b.password(),
            Some(b.root()),
            "b.bin"
        ),
    );
    ra?;
    rb?;
    Ok(())
}

// ---------------------------------------------------------------- in-process FTPS

#[tokio::test]
async fn inprocess_ftps_round_trip_trusting_only_the_generated_ca() -> TestResult {
    let server = testbed::FtpServer::start_ftps().await?;
    assert_eq!(server.url(), format!("ftps://alice@{}/", server.addr()));
    let ca_from_file = std::fs::read_to_string(server.ca_cert_path().unwrap())?;
    assert_eq!(Some(ca_from_file.as_str()), server.ca_cert_pem());

    let ftp = ftps_connect(
        server.addr(),
        server.ca_cert_pem().unwrap(),
        server.tls_server_name(),
    )
    .await?;
    ftp_round_trip(
        ftp,
        server.user(),
        server.password(),
        Some(server.root()),
        "tls.bin",
    )
    .await?;

    // The certificate also verifies for the IP address.
    let ftp = ftps_connect(server.addr(), server.ca_cert_pem().unwrap(), "127.0.0.1").await?;
    ftp_round_trip(ftp, server.user(), server.password(), None, "ip.bin").await
}

#[tokio::test]
async fn inprocess_ftps_refused_by_a_client_trusting_another_ca() -> TestResult {
    let server = testbed::FtpServer::start_ftps().await?;
    let other = testbed::FtpServer::start_ftps().await?;
    let err = ftps_connect(
        server.addr(),
        other.ca_cert_pem().unwrap(),
        server.tls_server_name(),
    )
    .await
    .err()
    .expect("handshake must fail against an untrusted CA");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    // Also for a name the certificate does not carry.
    let err = ftps_connect(server.addr(), server.ca_cert_pem().unwrap(), "example.com")
        .await
        .err()
        .expect("handshake must fail for a wrong name");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn inprocess_ftps_cert_sha256_pins_the_presented_certificate() -> TestResult {
    use tokio::io::AsyncBufReadExt as _;
    let server = testbed::FtpServer::start_ftps().await?;
    let mut control =
        tokio::io::BufReader::new(tokio::net::TcpStream::connect(server.addr()).await?);
    let mut line = String::new();
    control.read_line(&mut line).await?;
    assert!(line.starts_with("220"), "{line}");
    control.get_mut().write_all(b"AUTH TLS\r\n").await?;
    line.clear();
    control.read_line(&mut line).await?;
    assert!(line.starts_with("234"), "{line}");

    let connector =
        tokio_rustls::TlsConnector::from(rustls_config_trusting(server.ca_cert_pem().unwrap()));
    let name = rustls::pki_types::ServerName::try_from("localhost")?;
    let tls = connector.connect(name, control.into_inner()).await?;
    let presented = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    let digest = Sha256::digest(presented.as_ref());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(Some(hex), server.cert_sha256());
    Ok(())
}

// ---------------------------------------------------------------- pure-ftpd daemon

#[tokio::test]
async fn daemon_ftp_round_trip() -> TestResult {
    let Some(d) = testbed::daemon_ftp("daemon_ftp_round_trip") else {
        return Ok(());
    };
    ftp_round_trip(
        ftp_connect(d.addr).await,
        &d.user,
        &d.password,
        d.root.as_deref(),
        &format!("daemon-plain-{}.bin", std::process::id()),
    )
    .await
}

#[tokio::test]
async fn daemon_ftps_round_trip() -> TestResult {
    let Some(d) = testbed::daemon_ftp("daemon_ftps_round_trip") else {
        return Ok(());
    };
    let ca = std::fs::read_to_string(&d.ca_cert_path)?;
    let ftp = ftps_connect(d.addr, &ca, &d.tls_server_name).await?;
    ftp_round_trip(
        ftp,
        &d.user,
        &d.password,
        d.root.as_deref(),
        &format!("daemon-tls-{}.bin", std::process::id()),
    )
    .await
}

#[tokio::test]
async fn daemon_ftp_refuses_wrong_password() -> TestResult {
    let Some(d) = testbed::daemon_ftp("daemon_ftp_refuses_wrong_password") else {
        return Ok(());
    };
    let mut ftp = ftp_connect(d.addr).await;
    let err = ftp.login(d.user.as_str(), "wrong").await.unwrap_err();
    assert!(err.to_string().contains("530"), "{err}");
    Ok(())
}

// ---------------------------------------------------------------- SFTP helpers

use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;

/// A russh client that trusts exactly one host key fingerprint.
struct Pinned {
    fingerprint: String,
}

impl russh::client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(matches!(key, PublicKeyOrCertificate::PublicKey { key, .. }
            if key.fingerprint(HashAlg::Sha256).to_string() == self.fingerprint))
    }
}

enum Login<'a> {
    Password(&'a str),
    Key(Arc<PrivateKey>),
}

/// Connects with a pinned host key and logs in; keeps the SSH handle alive with the session.
async fn sftp_login(
    addr: std::net::SocketAddr,
    fingerprint: &str,
    user: &str,
    login: Login<'_>,
) -> Result<(russh::client::Handle<Pinned>, SftpSession), Box<dyn std::error::Error + Send + Sync>>
{
    let config = Arc::new(russh::client::Config::default());
    let pinned = Pinned {
        fingerprint: fingerprint.to_owned(),
    };
    let mut ssh = russh::client::connect(config, addr, pinned).await?;
    let accepted = match login {
        Login::Password(p) => ssh.authenticate_password(user, p).await?.success(),
        Login::Key(k) => ssh
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(k, None))
            .await?
            .success(),
    };
    if !accepted {
        return Err("authentication refused".into());
    }
    let channel = ssh.channel_open_session().await?;
    channel.request_subsystem(true, "sftp").await?;
    let sftp = SftpSession::new(channel.into_stream()).await?;
    Ok((ssh, sftp))
}

fn status_of(e: &russh_sftp::client::error::Error) -> Option<StatusCode> {
    match e {
        russh_sftp::client::error::Error::Status(s) => Some(s.status_code),
        _ => None,
    }
}

/// mkdir, upload 700 kB (several packets), check the disk, download, list, stat, rename,
/// remove, rmdir.
async fn sftp_round_trip(sftp: &SftpSession, root: Option<&Path>, dir: &str) -> TestResult {
    sftp.create_dir(dir).await?;
    let path = format!("{dir}/photo.bin");
    let data = payload(700_000);

    let mut file = sftp.create(path.as_str()).await?;
    file.write_all(&data).await?;
    file.sync_all().await?; // fsync@openssh.com: both servers advertise it
    file.shutdown().await?;
    if let Some(root) = root {
        assert!(
            std::fs::read(root.join(&path))? == data,
            "bytes on the server's disk"
        );
    }

    let mut file = sftp.open(path.as_str()).await?;
    let mut back = Vec::new();
    file.read_to_end(&mut back).await?;
    assert_eq!(back.len(), data.len());
    assert!(back == data, "downloaded bytes differ");

    let listed: Vec<(String, Option<u64>)> = sftp
        .read_dir(dir)
        .await?
        .map(|e| (e.file_name(), e.metadata().size))
        .collect();
    assert_eq!(listed, [("photo.bin".to_owned(), Some(data.len() as u64))]);
    assert_eq!(
        sftp.metadata(path.as_str()).await?.size,
        Some(data.len() as u64)
    );

    let renamed = format!("{dir}/renamed.bin");
    sftp.rename(path.as_str(), renamed.as_str()).await?;
    assert!(!sftp.try_exists(path.as_str()).await?);
    sftp.remove_file(renamed.as_str()).await?;
    sftp.remove_dir(dir).await?;
    assert!(!sftp.try_exists(dir).await?);
    Ok(())
}

async fn inprocess_sftp_login(
    server: &testbed::SftpServer,
    login: Login<'_>,
) -> (russh::client::Handle<Pinned>, SftpSession) {
    sftp_login(
        server.addr(),
        server.host_key_fingerprint(),
        server.user(),
        login,
    )
    .await
    .unwrap()
}

// ---------------------------------------------------------------- in-process SFTP

#[tokio::test]
async fn inprocess_sftp_round_trip_with_password() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    sftp_round_trip(&sftp, Some(server.root()), "pw").await
}

#[tokio::test]
async fn inprocess_sftp_round_trip_with_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(server.client_key_path())?.permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "ssh refuses keys readable by others");
    let key = russh::keys::load_secret_key(server.client_key_path(), None)?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Key(Arc::new(key))).await;
    sftp_round_trip(&sftp, Some(server.root()), "key").await
}

#[tokio::test]
async fn inprocess_sftp_round_trip_with_encrypted_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let path = server.encrypted_client_key_path();
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path)?.permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        russh::keys::load_secret_key(path, None).is_err(),
        "key must be encrypted"
    );
    assert!(russh::keys::load_secret_key(path, Some("wrong")).is_err());
    let key = russh::keys::load_secret_key(path, Some(server.client_key_passphrase()))?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Key(Arc::new(key))).await;
    sftp_round_trip(&sftp, Some(server.root()), "enc").await
}

#[tokio::test]
async fn inprocess_sftp_refuses_wrong_password_user_and_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let (addr, fp) = (server.addr(), server.host_key_fingerprint());
    let wrong = sftp_login(addr, fp, server.user(), Login::Password("wrong")).await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    let wrong = sftp_login(addr, fp, "mallory", Login::Password(server.password())).await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    let stranger = PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519)?;
    let wrong = sftp_login(addr, fp, server.user(), Login::Key(Arc::new(stranger))).await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_client_pinning_another_host_key_is_refused() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let other = testbed::SftpServer::start().await?;
    assert_ne!(server.host_key_fingerprint(), other.host_key_fingerprint());
    let result = sftp_login(
        server.addr(),
        other.host_key_fingerprint(),
        server.user(),
        Login::Password(server.password()),
    )
    .await;
    assert!(result.is_err(), "connected despite an unknown host key");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_known_hosts_and_fingerprint_match_the_host_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let line = std::fs::read_to_string(server.known_hosts_path())?;
    let prefix = format!("[127.0.0.1]:{} ", server.addr().port());
    let key = russh::keys::PublicKey::from_openssh(line.trim().strip_prefix(&prefix).unwrap())?;
    assert_eq!(
        key.fingerprint(HashAlg::Sha256).to_string(),
        server.host_key_fingerprint()
    );
    // russh's own known_hosts checker accepts it for this host and port.
    assert!(russh::keys::check_known_hosts_path(
        "127.0.0.1",
        server.addr().port(),
        &key,
        server.known_hosts_path()
    )?);
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_debug_hides_secrets() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let shown = format!("{server:?}");
    assert!(shown.contains(server.host_key_fingerprint()), "{shown}");
    assert!(!shown.contains(server.password()), "{shown}");
    assert!(!shown.contains(server.client_key_passphrase()), "{shown}");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_confines_paths_to_the_root() -> TestResult {
    let outside = tempfile::tempdir()?;
    std::fs::write(outside.path().join("secret.txt"), b"outside")?;
    let server = testbed::SftpServer::start().await?;
    std::os::unix::fs::symlink(outside.path(), server.root().join("escape"))?;
    std::os::unix::fs::symlink(
        outside.path().join("new.txt"),
        server.root().join("dangling"),
    )?;
    std::fs::write(server.root().join("inside.txt"), b"inside")?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;

    fn denied<T>(r: Result<T, russh_sftp::client::error::Error>) -> bool {
        status_of(&r.err().expect("must fail")) == Some(StatusCode::PermissionDenied)
    }
    assert!(denied(sftp.open("../inside.txt").await.map(drop)));
    assert!(denied(sftp.open("/../etc/passwd").await.map(drop)));
    assert!(denied(sftp.open("a/../../x").await.map(drop)));
    assert!(denied(sftp.canonicalize("..").await));
    assert!(denied(sftp.read_dir("/..").await.map(drop)));
    assert!(denied(sftp.rename("inside.txt", "../inside.txt").await));
    // A symlink out of the root: neither read, listed, nor written through.
    assert!(denied(sftp.open("escape/secret.txt").await.map(drop)));
    assert!(denied(sftp.read_dir("escape").await.map(drop)));
    assert!(denied(sftp.create("escape/planted.txt").await.map(drop)));
    assert!(denied(sftp.create("dangling").await.map(drop)));
    assert!(!outside.path().join("planted.txt").exists());
    assert!(!outside.path().join("new.txt").exists());

    // Absolute paths are inside the root: /etc/passwd is not the host's file.
    let r = sftp.open("/etc/passwd").await.map(drop);
    assert_eq!(status_of(&r.err().unwrap()), Some(StatusCode::NoSuchFile));
    assert_eq!(sftp.read("/inside.txt").await?, b"inside");
    assert_eq!(sftp.canonicalize("a/b/../c/.").await?, "/a/c");
    assert_eq!(sftp.canonicalize(".").await?, "/");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_rename_does_not_replace_and_attrs_are_kept() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    std::fs::write(server.root().join("a.txt"), b"a")?;
    std::fs::write(server.root().join("b.txt"), b"bb")?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;

    let r = sftp.rename("a.txt", "b.txt").await;
    assert_eq!(status_of(&r.err().unwrap()), Some(StatusCode::Failure));
    assert_eq!(std::fs::read(server.root().join("b.txt"))?, b"bb");

    // setstat: mtime and permissions are applied on disk and reported back by stat.
    let mut attrs = russh_sftp::protocol::FileAttributes::empty();
    attrs.mtime = Some(1_000_000_000);
    attrs.atime = Some(1_000_000_000);
    attrs.permissions = Some(0o640);
    sftp.set_metadata("a.txt", attrs).await?;
    let on_disk = std::fs::metadata(server.root().join("a.txt"))?;
    assert_eq!(
        on_disk.modified()?,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000)
    );
    let md = sftp.metadata("a.txt").await?;
    assert_eq!(md.mtime, Some(1_000_000_000));
    assert_eq!(md.size, Some(1));
    assert_eq!(md.permissions.map(|p| p & 0o777), Some(0o640));
    assert!(md.is_regular());
    assert!(sftp.metadata("/").await?.is_dir());
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_lists_large_directories_in_batches() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    for i in 0..150 {
        std::fs::write(server.root().join(format!("f{i:03}")), b"x")?;
    }
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    let mut names: Vec<String> = sftp.read_dir("/").await?.map(|e| e.file_name()).collect();
    names.sort();
    let expected: Vec<String> = (0..150).map(|i| format!("f{i:03}")).collect();
    assert_eq!(names, expected);
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_serves_non_utf8_names_lossily() -> TestResult {
    use std::os::unix::ffi::OsStrExt as _;
    let server = testbed::SftpServer::start().await?;
    let raw = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
    std::fs::write(server.root().join(raw), b"x")?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    let names: Vec<String> = sftp.read_dir("/").await?.map(|e| e.file_name()).collect();
    assert_eq!(names, ["caf\u{fffd}.jpg"]);
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_stops_on_drop() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    let (addr, root) = (server.addr(), server.root().to_path_buf());
    drop(server);
    assert!(!root.exists(), "served directory removed");
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(refused, "listener still accepting after drop");
    // The open session was disconnected too.
    sftp.set_timeout(2);
    assert!(sftp.metadata("/").await.is_err());
    Ok(())
}

// ---------------------------------------------------------------- OpenSSH client

/// Runs OpenSSH's `sftp` against `addr` with `commands` on stdin; returns (ok, stdout+stderr).
async fn openssh_sftp(
    addr: std::net::SocketAddr,
    user: &str,
    known_hosts: &Path,
    auth: &[&str],
    env: &[(&str, &Path)],
    batch: Option<&Path>,
    commands: &str,
) -> (bool, String) {
    let mut cmd = tokio::process::Command::new("sftp");
    cmd.args(["-q", "-P", &addr.port().to_string()])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args(["-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"])
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "ConnectTimeout=10",
        ])
        .args(auth)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(batch) = batch {
        cmd.arg("-b").arg(batch);
    }
    cmd.arg(format!("{user}@127.0.0.1"));
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(commands.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn have_openssh_sftp(test: &str) -> bool {
    let found = std::process::Command::new("sftp")
        .arg("-h")
        .output()
        .is_ok();
    if !found {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {test}: OpenSSH sftp not installed"
        );
    }
    found
}

#[tokio::test]
async fn openssh_sftp_works_against_inprocess_server_with_key() -> TestResult {
    if !have_openssh_sftp("openssh_sftp_works_against_inprocess_server_with_key") {
        return Ok(());
    }
    let server = testbed::SftpServer::start().await?;
    let local = tempfile::tempdir()?;
    let data = payload(600_000);
    std::fs::write(local.path().join("up.bin"), &data)?;
    std::fs::write(server.root().join("existing.txt"), b"old")?;
    let batch = local.path().join("batch");
    let l = local.path().display();
    std::fs::write(
        &batch,
        format!(
            "pwd\nmkdir up\ncd up\nput {l}/up.bin photo.bin\nls -l\nget photo.bin {l}/down.bin\n\
             rename photo.bin renamed.bin\nchmod 600 renamed.bin\nls\ncd ..\n\
             rename up/renamed.bin existing.txt\n-cd ..\npwd\n-get ../../etc/passwd {l}/passwd\n\
             -ls /..\nmkdir d1\nrmdir d1\nls -la\n"
        ),
    )?;
    let key = server.client_key_path().display().to_string();
    let (ok, out) = openssh_sftp(
        server.addr(),
        server.user(),
        server.known_hosts_path(),
        &[
            "-i",
            &key,
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
        ],
        &[],
        Some(&batch),
        "",
    )
    .await;
    assert!(ok, "sftp batch failed:\n{out}");
    assert!(std::fs::read(local.path().join("down.bin"))? == data, "get");
    // posix-rename (advertised) replaces the target, like OpenSSH's server.
    assert!(
        std::fs::read(server.root().join("existing.txt"))? == data,
        "rename"
    );
    let mode = std::fs::metadata(server.root().join("existing.txt"))?.permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600,
        "chmod"
    );
    assert!(out.contains("path escapes root"), "escape reported:\n{out}");
    assert!(!local.path().join("passwd").exists(), "nothing escaped");
    assert!(out.contains("photo.bin"), "ls -l longname:\n{out}");
    assert!(out.contains("Remote working directory: /\n"), "{out}");
    Ok(())
}

#[tokio::test]
async fn openssh_sftp_works_against_inprocess_server_with_password() -> TestResult {
    if !have_openssh_sftp("openssh_sftp_works_against_inprocess_server_with_password") {
        return Ok(());
    }
    use std::os::unix::fs::PermissionsExt as _;
    let server = testbed::SftpServer::start().await?;
    let local = tempfile::tempdir()?;
    let askpass = local.path().join("askpass.sh");
    std::fs::write(
        &askpass,
        format!("#!/bin/sh\necho '{}'\n", server.password()),
    )?;
    std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o700))?;
    std::fs::write(local.path().join("up.txt"), b"via password\n")?;

    let (ok, out) = openssh_sftp(
        server.addr(),
        server.user(),
        server.known_hosts_path(),
        &[
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password",
            "-o",
            "NumberOfPasswordPrompts=1",
        ],
        &[
            ("SSH_ASKPASS", askpass.as_path()),
            ("SSH_ASKPASS_REQUIRE", Path::new("force")),
            ("DISPLAY", Path::new(":0")),
        ],
        None,
        &format!("put {}/up.txt up.txt\nls\n", local.path().display()),
    )
    .await;
    assert!(ok, "sftp failed:\n{out}");
    assert_eq!(
        std::fs::read(server.root().join("up.txt"))?,
        b"via password\n"
    );
    Ok(())
}

// ---------------------------------------------------------------- OpenSSH daemon

#[tokio::test]
async fn daemon_sftp_round_trip_with_key() -> TestResult {
    let Some(d) = testbed::daemon_sftp("daemon_sftp_round_trip_with_key") else {
        return Ok(());
    };
    let key = russh::keys::load_secret_key(&d.key_path, None)?;
    let (_ssh, sftp) = sftp_login(
        d.addr,
        &d.host_key_fingerprint,
        &d.user,
        Login::Key(Arc::new(key)),
    )
    .await?;
    sftp_round_trip(
        &sftp,
        d.root.as_deref(),
        &format!("key-{}", std::process::id()),
    )
    .await
}

#[tokio::test]
async fn daemon_sftp_round_trip_with_password() -> TestResult {
    let Some(d) = testbed::daemon_sftp("daemon_sftp_round_trip_with_password") else {
        return Ok(());
    };
    let (_ssh, sftp) = sftp_login(
        d.addr,
        &d.host_key_fingerprint,
        &d.user,
        Login::Password(&d.password),
    )
    .await?;
    sftp_round_trip(
        &sftp,
        d.root.as_deref(),
        &format!("pw-{}", std::process::id()),
    )
    .await
}

#[tokio::test]
async fn daemon_sftp_refuses_wrong_password_and_wrong_host_key() -> TestResult {
    let Some(d) = testbed::daemon_sftp("daemon_sftp_refuses_wrong_password_and_wrong_host_key")
    else {
        return Ok(());
    };
    let wrong = sftp_login(
        d.addr,
        &d.host_key_fingerprint,
        &d.user,
        Login::Password("wrong"),
    )
    .await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    let bogus = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(
        sftp_login(d.addr, bogus, &d.user, Login::Password(&d.password))
            .await
            .is_err()
    );
    Ok(())
}
