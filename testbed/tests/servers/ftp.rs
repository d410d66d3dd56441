//! FTP and explicit FTPS: the in-process libunftp server and the pure-ftpd daemon.

use std::path::Path;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use suppaftp::list::ListParser;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::types::FileType;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{TestResult, payload, refuses_connections};

// ---------------------------------------------------------------- FTP / FTPS helpers

pub(super) fn rustls_config_trusting(ca_pem: &str) -> Arc<rustls::ClientConfig> {
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
pub(super) async fn ftp_round_trip(
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
    assert!(
        refuses_connections(addr).await,
        "listener still accepting after drop"
    );
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
