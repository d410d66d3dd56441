//! `FtpFs` against the in-process libunftp server (FTP, explicit and implicit FTPS; MLSD and LIST),
//! pure-ftpd (FTP, FTPS, active mode; when `scripts/testbed start` runs it), and a
//! scripted fake server for what real servers will not do on demand: hostile listings,
//! lying `226` replies, `421`, refused `EPSV`, silence.

mod fake;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ftp_connector::conformance::{Fixture, LocalRaw};
use ftp_connector::{
    DataMode, Error, ErrorKind, FtpFs, RemoteFs, RemoteFsExt, RemoteOptions, RemotePath, RemoteUrl,
    WriteOptions, stream,
};
use futures::StreamExt;
use testbed::FtpServer;

use fake::{Fake, Script, Tls};

/// Connects to `url` (a password in it is used when the options have none).
async fn connect(url: &str, mut options: RemoteOptions) -> ftp_connector::Result<FtpFs> {
    let (url, password) = RemoteUrl::parse(url)?;
    if options.password.is_none() {
        options.password = password;
    }
    FtpFs::connect(url, options).await
}

/// Trust exactly `ca` for a certificate issued to `name`.
fn tls_options(ca: &Path, name: &str) -> RemoteOptions {
    let mut o = RemoteOptions::new().ca_certificate(ca);
    o.tls.use_system_roots = false;
    o.tls.server_name = Some(name.to_owned());
    o
}

fn path(p: &str) -> RemotePath {
    RemotePath::parse(p).unwrap()
}

/// Two connections (the second watches the first) plus raw access to the served folder.
/// A `\n` in a name splits an FTP listing line: no server can list it faithfully.
async fn fixture_for(
    url: &str,
    options: RemoteOptions,
    password: &str,
    root: Option<&Path>,
) -> Fixture {
    let options = options.password(password);
    let fs = connect(url, options.clone()).await.unwrap();
    let second = connect(url, options).await.unwrap();
    let mut fx = Fixture::new(fs)
        .with_second(second)
        .with_secrets(&[password])
        .with_unrepresentable(&["newline"]);
    if let Some(root) = root {
        fx = fx.with_raw(LocalRaw::new(root));
    }
    fx
}

/// The conformance fixture over an in-process server, which it keeps alive.
async fn server_fixture(server: FtpServer, options: RemoteOptions) -> Fixture {
    fixture_for(
        &server.url(),
        options,
        server.password(),
        Some(server.root()),
    )
    .await
    .keep_alive(server)
}

/// The conformance fixture over an in-process FTPS server (explicit or implicit),
/// trusting exactly its test CA.
async fn tls_fixture(server: FtpServer) -> Fixture {
    let options = tls_options(server.ca_cert_path().unwrap(), server.tls_server_name());
    server_fixture(server, options).await
}

mod in_process_ftp {
    use super::*;

    async fn fixture() -> Fixture {
        server_fixture(FtpServer::start().await.unwrap(), RemoteOptions::new()).await
    }

    ftp_connector::conformance_tests!(fixture);
}

/// The same server with MLSD/MLST turned off: `LIST` parsing, `SIZE`/`MDTM`/`CWD` stats.
mod in_process_list {
    use super::*;

    async fn fixture() -> Fixture {
        let mut options = RemoteOptions::new();
        options.ftp.use_mlsd = false;
        server_fixture(FtpServer::start().await.unwrap(), options)
            .await
            .with_large_file_size(16 * 1024 * 1024)
    }

    ftp_connector::conformance_tests!(fixture);
}

mod in_process_ftps {
    use super::*;

    async fn fixture() -> Fixture {
        tls_fixture(FtpServer::start_ftps().await.unwrap()).await
    }

    ftp_connector::conformance_tests!(fixture);
}

/// Implicit FTPS (`ftps+implicit://`): TLS from the first byte on control and data
/// connections, through the test bed's TLS front to libunftp.
mod in_process_ftps_implicit {
    use super::*;

    async fn fixture() -> Fixture {
        tls_fixture(FtpServer::start_ftps_implicit().await.unwrap()).await
    }

    ftp_connector::conformance_tests!(fixture);
}

/// pure-ftpd leaves names with control characters out of its listings altogether.
const PURE_FTPD_HIDES: &[&str] = &["carriage-return", "escape-sequence"];

mod pure_ftpd_ftp {
    use super::*;

    async fn fixture() -> Option<Fixture> {
        let d = testbed::daemon_ftp("ftp pure-ftpd conformance")?;
        let options = RemoteOptions::new();
        let fx = fixture_for(&d.ftp_url(), options, &d.password, d.root.as_deref()).await;
        Some(fx.with_unrepresentable(PURE_FTPD_HIDES))
    }

    ftp_connector::conformance_tests!(fixture);
}

mod pure_ftpd_ftps {
    use super::*;

    async fn fixture() -> Option<Fixture> {
        let d = testbed::daemon_ftp("ftps pure-ftpd conformance")?;
        let options = tls_options(&d.ca_cert_path, &d.tls_server_name);
        let fx = fixture_for(&d.ftps_url(), options, &d.password, d.root.as_deref()).await;
        Some(fx.with_unrepresentable(PURE_FTPD_HIDES))
    }

    ftp_connector::conformance_tests!(fixture);
}

// ---------------------------------------------------------------------------------------
// Logins and certificates.

/// The error, after checking that no secret leaked into its `Display` or `Debug`.
fn refused(r: ftp_connector::Result<FtpFs>, secrets: &[&str]) -> Error {
    let e = r.expect_err("the connection should have been refused");
    let shown = format!("{e} {e:?}");
    for s in secrets {
        assert!(!shown.contains(s), "a secret leaked into {shown}");
    }
    e
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_that_never_shows_a_password() {
    let server = FtpServer::start().await.unwrap();
    let bad = "not-the-password-1618";
    let e = refused(
        connect(&server.url(), RemoteOptions::new().password(bad)).await,
        &[bad, server.password()],
    );
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("alice"), "{e}");
    // In the URL it is just as secret.
    let url = server.url().replace("alice@", &format!("alice:{bad}@"));
    let e = refused(connect(&url, RemoteOptions::new()).await, &[bad]);
    assert_eq!(e.kind(), ErrorKind::Auth);
    // And a logged-in backend does not show the right one.
    let fs = connect(
        &server.url(),
        RemoteOptions::new().password(server.password()),
    )
    .await
    .unwrap();
    assert!(!format!("{fs:?}").contains(server.password()), "{fs:?}");
}

#[tokio::test]
async fn the_real_password_goes_on_the_wire_and_nowhere_else() {
    let script = Script::default();
    let pw = script.password.clone();
    let fake = Fake::start(script).await;
    let fs = connect(&fake.url(), RemoteOptions::new().password(&pw))
        .await
        .unwrap();
    assert!(fake.commands().contains(&format!("PASS {pw}")));
    assert!(!format!("{fs:?}").contains(&pw));
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_before_login() {
    let server = FtpServer::start_ftps().await.unwrap();
    // The platform roots do not know the test CA.
    let mut options = RemoteOptions::new().password(server.password());
    options.tls.server_name = Some(server.tls_server_name().to_owned());
    let e = refused(connect(&server.url(), options).await, &[server.password()]);
    assert!(matches!(e, Error::Untrusted { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.to_string().contains("certificate"), "{e}");
    // A name the certificate does not carry is refused too, even with the right CA.
    let options = tls_options(server.ca_cert_path().unwrap(), "photos.example.com")
        .password(server.password());
    let e = refused(connect(&server.url(), options).await, &[]);
    assert!(matches!(e, Error::Untrusted { .. }), "{e:?}");
}

#[tokio::test]
async fn a_pinned_certificate_must_match_as_well_as_verify() {
    let server = FtpServer::start_ftps().await.unwrap();
    let base = tls_options(server.ca_cert_path().unwrap(), server.tls_server_name())
        .password(server.password());
    let pin = server.cert_sha256().unwrap();

    let mut good = base.clone();
    good.tls.pinned_sha256 = Some(pin.clone());
    let fs = connect(&server.url(), good).await.unwrap();
    fs.write(
        &path("pinned.txt"),
        stream::once("ok"),
        &WriteOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        &fs.read_to_bytes(&path("pinned.txt")).await.unwrap()[..],
        b"ok"
    );

    let mut wrong = base.clone();
    wrong.tls.pinned_sha256 = Some("00".repeat(32));
    let e = refused(connect(&server.url(), wrong).await, &[]);
    assert!(matches!(e, Error::Untrusted { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&pin),
        "names the certificate seen: {e}"
    );

    // A pin never replaces verification: with the right pin but no trusted root, refused.
    let mut unverified = RemoteOptions::new().password(server.password());
    unverified.tls.server_name = Some(server.tls_server_name().to_owned());
    unverified.tls.pinned_sha256 = Some(pin);
    refused(connect(&server.url(), unverified).await, &[]);
}

#[tokio::test]
async fn implicit_ftps_protects_control_and_data_from_the_first_byte() {
    let fake = Fake::start(Script {
        tls: Tls::Implicit,
        size: 1000,
        body: vec![9; 1000],
        listing: b"type=file;size=1000; a.jpg\r\n".to_vec(),
        ..Script::default()
    })
    .await;
    let url = format!("ftps+implicit://bob@127.0.0.1:{}/", fake.port);
    let options =
        tls_options(fake.cert_path.as_deref().unwrap(), "localhost").password("fake-secret-77");
    let fs = connect(&url, options).await.unwrap();
    assert_eq!(fs.backend(), "ftps");
    let listed: Vec<_> = fs.list(&RemotePath::ROOT).collect().await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(fs.read_to_bytes(&path("a.jpg")).await.unwrap().len(), 1000);
    let cmds = fake.commands();
    assert!(cmds.iter().any(|c| c == "PBSZ 0") && cmds.iter().any(|c| c == "PROT P"));
    assert!(!cmds.iter().any(|c| c.starts_with("AUTH")), "{cmds:?}");
    let log = fake.log.lock().unwrap();
    assert_eq!((log.resumed, log.refused), (2, 0));
}

#[tokio::test]
async fn every_data_connection_resumes_its_own_control_connections_tls_session() {
    // Like vsftpd with require_ssl_reuse: each control connection has its own session
    // cache, and a data connection that does not resume that session is refused.
    let fake = Fake::start(Script {
        tls: Tls::Explicit,
        size: 100_000,
        body: vec![1; 100_000],
        ..Script::default()
    })
    .await;
    let options = tls_options(fake.cert_path.as_deref().unwrap(), "localhost")
        .password("fake-secret-77")
        .max_connections(3);
    let fs = Arc::new(connect(&fake.url(), options).await.unwrap());
    let reads = (0..9).map(|_| {
        let fs = fs.clone();
        async move { fs.read_to_bytes(&path("a.jpg")).await.map(|b| b.len()) }
    });
    for r in futures::future::join_all(reads).await {
        assert_eq!(r.unwrap(), 100_000);
    }
    let logins = fake
        .commands()
        .iter()
        .filter(|c| c.starts_with("USER"))
        .count();
    assert!(logins > 1, "the reads should have used several connections");
    let log = fake.log.lock().unwrap();
    assert_eq!((log.resumed, log.refused), (9, 0));
    // The server issues TLS 1.3 tickets: nothing to change.
    assert!(
        log.control_versions
            .iter()
            .all(|v| *v == rustls::ProtocolVersion::TLSv1_3)
    );
}

/// Reads `a.jpg` `n` times at once over up to 2 connections.
async fn read_n(fs: &Arc<FtpFs>, n: usize) -> Vec<ftp_connector::Result<usize>> {
    let reads = (0..n).map(|_| {
        let fs = fs.clone();
        async move { fs.read_to_bytes(&path("a.jpg")).await.map(|b| b.len()) }
    });
    futures::future::join_all(reads).await
}

#[tokio::test]
async fn a_tls13_server_without_tickets_is_spoken_to_in_tls12_so_data_connections_resume() {
    // pure-ftpd's way: TLS 1.3 without session tickets. Here, as with vsftpd, a data
    // connection must also resume its control connection's session.
    let script = Script {
        tls: Tls::Explicit,
        size: 10_000,
        body: vec![1; 10_000],
        tls13_tickets: false,
        ..Script::default()
    };
    let fake = Fake::start(script.clone()).await;
    let options = tls_options(fake.cert_path.as_deref().unwrap(), "localhost")
        .password("fake-secret-77")
        .max_connections(2);
    let fs = Arc::new(connect(&fake.url(), options).await.unwrap());
    for r in read_n(&fs, 6).await {
        assert_eq!(r.unwrap(), 10_000);
    }
    assert!(fs.list(&path("in")).next().await.is_none());
    {
        let log = fake.log.lock().unwrap();
        assert_eq!((log.resumed, log.refused), (7, 0));
        // The first connection found no ticket; every later one is TLS 1.2.
        let v = &log.control_versions;
        assert_eq!(v[0], rustls::ProtocolVersion::TLSv1_3);
        assert!(
            v.len() >= 2
                && v[1..]
                    .iter()
                    .all(|v| *v == rustls::ProtocolVersion::TLSv1_2),
            "{v:?}"
        );
    }

    // With the versions fixed, nothing changes them: TLS 1.3, and every data connection
    // is a full handshake, which this server refuses.
    let fake = Fake::start(script).await;
    let mut fixed = tls_options(fake.cert_path.as_deref().unwrap(), "localhost")
        .password("fake-secret-77")
        .max_connections(2);
    fixed.tls.max_version = Some(ftp_connector::TlsVersion::Tls13);
    let fs = Arc::new(connect(&fake.url(), fixed).await.unwrap());
    assert!(read_n(&fs, 2).await.iter().all(|r| r.is_err()));
    let log = fake.log.lock().unwrap();
    assert_eq!(log.resumed, 0);
    assert!(log.refused >= 2);
    assert!(
        log.control_versions
            .iter()
            .all(|v| *v == rustls::ProtocolVersion::TLSv1_3)
    );
}

#[tokio::test]
async fn a_ticketless_server_that_refuses_tls12_keeps_tls13() {
    let fake = Fake::start(Script {
        tls: Tls::Explicit,
        size: 10_000,
        body: vec![1; 10_000],
        tls13_tickets: false,
        tls13_only: true,
        require_reuse: false,
        ..Script::default()
    })
    .await;
    let options = tls_options(fake.cert_path.as_deref().unwrap(), "localhost")
        .password("fake-secret-77")
        .max_connections(2);
    let fs = Arc::new(connect(&fake.url(), options).await.unwrap());
    for r in read_n(&fs, 4).await {
        assert_eq!(r.unwrap(), 10_000);
    }
    let log = fake.log.lock().unwrap();
    assert_eq!((log.full, log.refused), (4, 0));
    // The refused TLS 1.2 attempt never logged in: only TLS 1.3 control connections.
    assert!(
        log.control_versions
            .iter()
            .all(|v| *v == rustls::ProtocolVersion::TLSv1_3)
    );
}

// ---------------------------------------------------------------------------------------
// Hostile and broken servers.

fn hostile_listing() -> Vec<u8> {
    [
        &b"type=cdir;modify=20261127150542; .\r\n"[..],
        b"type=pdir;modify=20261127150542; ..\r\n",
        b"type=file;size=3;modify=20261127150542; good.jpg\r\n",
        b"type=dir;modify=20261127150542; good dir\r\n",
        b"type=file;size=1; ..\r\n",
        b"type=dir; ../../etc\r\n",
        b"type=file;size=1; a/b.jpg\r\n",
        b"type=file;size=1; bad\rDELE good.jpg\r\n",
        b"type=file;size=1; caf\xe9.jpg\r\n",
        b"this line is not MLSD at all\r\n",
        b"type=file;size=5; last.jpg\r\n",
    ]
    .concat()
}

#[tokio::test]
async fn hostile_names_in_a_listing_are_reported_and_never_followed() {
    let fake = Fake::start(Script {
        listing: hostile_listing(),
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    let items: Vec<_> = fs.list(&path("in")).collect().await;
    let names: Vec<String> = items
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|e| e.path.as_str().to_owned()))
        .collect();
    assert_eq!(names, ["in/good.jpg", "in/good dir", "in/last.jpg"]);
    let errors: Vec<&Error> = items.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 6, "{errors:?}");
    let invalid = errors
        .iter()
        .filter(|e| matches!(e, Error::InvalidName { dir, .. } if dir == "in"))
        .count();
    assert_eq!(invalid, 5, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.to_string().contains("not MLSD at all"))
    );

    // A walk reports the same and descends only into the good folder.
    let walk = ftp_connector::WalkOptions::new().max_depth(2);
    let walked: Vec<_> = fs.walk(&path("in"), walk).collect().await;
    assert!(walked.iter().any(|r| r.is_err()));
    for cmd in fake.commands() {
        assert!(!cmd.contains(".."), "followed a hostile name: {cmd}");
        assert!(!cmd.starts_with("DELE"), "injected a command: {cmd}");
    }
    assert!(fake.commands().iter().any(|c| c == "MLSD /in/good dir"));
}

#[tokio::test]
async fn hostile_names_in_list_lines_are_reported_too() {
    let listing = [
        &b"total 4\r\n"[..],
        b"drwxr-xr-x 2 u g 4096 Nov 27 15:05 .\r\n",
        b"-rw-r--r-- 1 u g 12 Nov 27 15:05 ok photo.jpg\r\n",
        b"-rw-r--r-- 1 u g 1 Nov 27 15:05 ..\r\n",
        b"-rw-r--r-- 1 u g 1 Nov 27 15:05 x\x1b[2Jy\r\n",
        b"11-27-26  03:05PM       <DIR>          Windows Dir\r\n",
    ]
    .concat();
    let fake = Fake::start(Script {
        listing,
        features: vec!["SIZE", "MDTM", "EPSV"],
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    assert!(!fs.capabilities().list_has_mlsd);
    let items: Vec<_> = fs.list(&RemotePath::ROOT).collect().await;
    let ok: Vec<String> = items
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|e| e.path.as_str().to_owned()))
        .collect();
    assert_eq!(ok, ["ok photo.jpg", "Windows Dir"]);
    assert_eq!(items.iter().filter(|r| r.is_err()).count(), 2);
    // LIST goes to the current directory, never as an argument the server might glob.
    assert!(fake.commands().iter().any(|c| c == "CWD /"));
    assert!(fake.commands().iter().any(|c| c == "LIST -a"));
}

#[tokio::test]
async fn a_cut_download_is_never_a_silent_short_file() {
    // The server announces 1000 bytes, sends 400, then claims success.
    let fake = Fake::start(Script {
        size: 1000,
        body: vec![7; 400],
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    let r = fs.read_to_bytes(&path("a.jpg")).await;
    match r {
        Err(
            e @ Error::Truncated {
                received: 400,
                expected: 1000,
                ..
            },
        ) => assert!(e.is_retryable()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_listed_file_is_copied_with_two_commands_and_still_never_short() {
    // The listing says 1000 bytes; the server sends 400 and claims success.
    let fake = Fake::start(Script {
        size: 1000,
        body: vec![7; 400],
        listing: b"type=file;size=1000;modify=20260101120000; a.jpg\r\n".to_vec(),
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    let entry = fs.list(&path("in")).next().await.unwrap().unwrap();
    assert_eq!(entry.size, Some(1000));
    let before = fake.commands().len();
    let dst = ftp_connector::MemoryFs::new();
    let err = fs
        .copy_entry_to(
            &entry,
            &dst,
            &path("a.jpg"),
            &ftp_connector::CopyOptions::new()
                .max_attempts(1)
                .max_resumes(0),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                received: 400,
                expected: 1000,
                ..
            }
        ),
        "{err}"
    );
    assert!(!dst.exists(&path("a.jpg")).await.unwrap());
    let sent: Vec<String> = fake.commands()[before..]
        .iter()
        .map(|c| c.split(' ').next().unwrap_or("").to_owned())
        .filter(|c| c != "NOOP")
        .collect();
    assert_eq!(sent, ["EPSV", "RETR"], "{:?}", fake.commands());

    // `read_with` and a known size: no SIZE, the same check.
    let opts = ftp_connector::ReadOptions::new().size(1000);
    let mut s = fs.read_with(&path("in/a.jpg"), &opts).await.unwrap();
    let mut got = 0;
    let end = loop {
        match s.next().await {
            Some(Ok(c)) => got += c.len(),
            Some(Err(e)) => break e,
            None => panic!("a short file ended without an error"),
        }
    };
    assert_eq!(got, 400);
    assert!(matches!(end, Error::Truncated { .. }), "{end}");
    assert!(
        !fake
            .commands()
            .iter()
            .any(|c| c.starts_with("SIZE") || c.starts_with("MLST"))
    );
}

#[tokio::test]
async fn a_file_that_grew_past_its_size_is_read_to_its_end() {
    // SIZE (or the listing) says 1000; the data goes on to 3 MB.
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let fake = Fake::start(Script {
        size: 1000,
        body: body.clone(),
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    let got = fs.read_to_bytes(&path("a.jpg")).await.unwrap();
    assert!(got == body, "{} bytes", got.len());
    let opts = ftp_connector::ReadOptions::new().size(1000);
    let mut s = fs.read_with(&path("a.jpg"), &opts).await.unwrap();
    let mut n = 0;
    while let Some(c) = s.next().await {
        n += c.unwrap().len();
    }
    assert_eq!(n, 3_000_000);
}

#[tokio::test]
async fn a_426_after_the_data_fails_the_read_however_many_bytes_arrived() {
    let fake = Fake::start(Script {
        size: 1000,
        body: vec![7; 1000],
        retr_reply: "426 Connection closed; transfer aborted",
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    let e = fs.read_to_bytes(&path("a.jpg")).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("426"), "{e}");
}

#[tokio::test]
async fn a_421_is_retried_once_on_a_fresh_connection() {
    let fake = Fake::start(Script {
        size: 42,
        fail_first_size: 1,
        features: vec!["SIZE", "MDTM", "EPSV"],
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    let e = fs.stat(&path("a.jpg")).await.unwrap();
    assert_eq!(e.size, Some(42));
    let logins = fake
        .commands()
        .iter()
        .filter(|c| c.starts_with("USER"))
        .count();
    assert_eq!(logins, 2, "{:?}", fake.commands());
}

#[tokio::test]
async fn a_refused_epsv_falls_back_to_pasv_at_the_control_address() {
    let fake = Fake::start(Script {
        refuse_epsv: true,
        listing: b"type=file;size=3; a.jpg\r\n".to_vec(),
        ..Script::default()
    })
    .await;
    let fs = connect(&fake.url(), RemoteOptions::new().password("fake-secret-77"))
        .await
        .unwrap();
    // PASV names 10.9.8.7; the client must still reach the server at 127.0.0.1.
    for _ in 0..2 {
        let names: Vec<_> = fs.list(&RemotePath::ROOT).collect().await;
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].is_ok(), "{names:?}");
    }
    let epsv = fake.commands().iter().filter(|c| *c == "EPSV").count();
    assert_eq!(epsv, 1, "EPSV is not tried again once refused");
}

#[tokio::test]
async fn a_silent_server_times_out_instead_of_hanging() {
    // A server that accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let mut options = RemoteOptions::new().password("x");
    options.timeouts.connect = Duration::from_millis(300);
    let started = Instant::now();
    let e = connect(&format!("ftp://bob@127.0.0.1:{port}/"), options)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(10));
    hold.abort();
}

// ---------------------------------------------------------------------------------------
// The pool.

#[tokio::test]
async fn connections_are_reused_and_capped() {
    let fake = Fake::start(Script {
        size: 5,
        ..Script::default()
    })
    .await;
    let options = RemoteOptions::new()
        .password("fake-secret-77")
        .max_connections(2);
    let fs = Arc::new(connect(&fake.url(), options).await.unwrap());
    assert_eq!(fs.capabilities().max_concurrency, Some(2));
    for _ in 0..5 {
        fs.stat(&path("a.jpg")).await.unwrap();
    }
    let logins = || {
        fake.commands()
            .iter()
            .filter(|c| c.starts_with("USER"))
            .count()
    };
    assert_eq!(logins(), 1, "sequential calls reuse one connection");
    let calls = (0..8).map(|_| {
        let fs = fs.clone();
        async move { fs.read_to_bytes(&path("a.jpg")).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap_err(); // SIZE says 5, RETR sends nothing: each read fails, none hangs.
    }
    assert!(logins() <= 2, "never more than the cap: {}", logins());
    assert!(fs.idle_connections() <= 2, "{}", fs.idle_connections());
}

#[tokio::test]
async fn idle_connections_are_checked_with_noop_and_closed_when_too_old() {
    let fake = Fake::start(Script {
        size: 5,
        ..Script::default()
    })
    .await;
    let count = |prefix: &str| {
        fake.commands()
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    };
    // Checked before every reuse.
    let mut options = RemoteOptions::new().password("fake-secret-77");
    options.pool.health_check_after = Duration::ZERO;
    let fs = connect(&fake.url(), options.clone()).await.unwrap();
    for _ in 0..3 {
        fs.stat(&path("a.jpg")).await.unwrap();
    }
    assert_eq!((count("USER"), count("NOOP")), (1, 3));
    // Never reused: every call logs in afresh.
    options.pool.idle_timeout = Duration::ZERO;
    let fs = connect(&fake.url(), options).await.unwrap();
    for _ in 0..3 {
        fs.stat(&path("a.jpg")).await.unwrap();
    }
    assert_eq!(count("USER"), 1 + 1 + 3);
}

#[tokio::test]
async fn a_read_dropped_half_way_does_not_poison_the_pool() {
    let server = FtpServer::start().await.unwrap();
    let fs = connect(
        &server.url(),
        RemoteOptions::new().password(server.password()),
    )
    .await
    .unwrap();
    let p = path("big.bin");
    fs.write(&p, stream::generated(5, 8 << 20), &WriteOptions::new())
        .await
        .unwrap();
    for _ in 0..3 {
        let mut s = fs.read(&p, 0).await.unwrap();
        let first = s.next().await.unwrap().unwrap();
        assert!(!first.is_empty());
        drop(s);
        // The next calls work: the half-read connection was closed, not reused.
        assert_eq!(fs.stat(&p).await.unwrap().size, Some(8 << 20));
    }
    let whole = fs.read_to_bytes(&p).await.unwrap();
    assert_eq!(whole.len(), 8 << 20);
}

#[tokio::test]
async fn files_can_be_read_while_their_listing_is_consumed_on_a_single_connection() {
    let server = FtpServer::start().await.unwrap();
    let options = RemoteOptions::new()
        .password(server.password())
        .max_connections(1);
    let fs = connect(&server.url(), options).await.unwrap();
    for i in 0..3 {
        let p = path(&format!("f{i}.jpg"));
        fs.write(&p, stream::once(format!("body {i}")), &WriteOptions::new())
            .await
            .unwrap();
    }
    let consume = async {
        let mut listing = fs.list(&RemotePath::ROOT);
        let mut read = 0;
        while let Some(e) = listing.next().await {
            let e = e.unwrap();
            assert!(
                fs.read_to_bytes(&e.path)
                    .await
                    .unwrap()
                    .starts_with(b"body")
            );
            read += 1;
        }
        read
    };
    let read = tokio::time::timeout(Duration::from_secs(30), consume)
        .await
        .expect("the listing held the only connection");
    assert_eq!(read, 3);
}

#[tokio::test]
async fn active_mode_moves_data_too() {
    let Some(d) = testbed::daemon_ftp("ftp active mode") else {
        return;
    };
    let mut options = RemoteOptions::new().password(&d.password);
    options.ftp.data_mode = DataMode::Active;
    let fs = connect(&d.ftp_url(), options).await.unwrap();
    let dir = path(&format!("active-{:08x}", rand::random::<u32>()));
    fs.create_dir_all(&dir).await.unwrap();
    let p = dir.join("a.bin").unwrap();
    fs.write(&p, stream::generated(3, 300_000), &WriteOptions::new())
        .await
        .unwrap();
    assert_eq!(fs.read_to_bytes(&p).await.unwrap().len(), 300_000);
    assert_eq!(fs.list(&dir).collect::<Vec<_>>().await.len(), 1);
    fs.remove_file(&p).await.unwrap();
    fs.remove_dir(&dir).await.unwrap();
}

// ---------------------------------------------------------------------------------------
// Throughput sanity check (not a benchmark; prints MB/s, asserts only correctness).
//
// cargo test -p ftp-connector --test backends ftp::throughput -- --ignored --nocapture --exact

async fn round_trip(label: &str, fs: &FtpFs) {
    const SIZE: u64 = 100 * 1000 * 1000;
    let p = path(&format!("throughput-{:08x}.bin", rand::random::<u32>()));
    let t = Instant::now();
    // One 1 MiB chunk sent again and again: generating bytes in a debug build would be
    // slower than the transfer being measured.
    let chunk = bytes::Bytes::from(vec![0x5A; 1 << 20]);
    let body = futures::stream::iter((0..SIZE.div_ceil(1 << 20)).map(move |i| {
        let len = (SIZE - i * (1 << 20)).min(1 << 20) as usize;
        Ok(chunk.slice(..len))
    }))
    .boxed();
    fs.write(&p, body, &WriteOptions::new().expected_len(SIZE))
        .await
        .unwrap();
    let up = t.elapsed();
    let t = Instant::now();
    let mut s = fs.read(&p, 0).await.unwrap();
    let mut n = 0u64;
    while let Some(c) = s.next().await {
        n += c.unwrap().len() as u64;
    }
    let down = t.elapsed();
    assert_eq!(n, SIZE);
    fs.remove_file(&p).await.unwrap();
    let mbps = |d: Duration| SIZE as f64 / 1e6 / d.as_secs_f64();
    println!(
        "{label:<24} 100 MB up {:>7.0} MB/s   down {:>7.0} MB/s",
        mbps(up),
        mbps(down)
    );
}

#[tokio::test]
#[ignore = "throughput sanity check; run with --ignored --nocapture"]
async fn throughput() {
    let server = FtpServer::start().await.unwrap();
    let fs = connect(
        &server.url(),
        RemoteOptions::new().password(server.password()),
    )
    .await
    .unwrap();
    round_trip("in-process FTP", &fs).await;
    let server = FtpServer::start_ftps().await.unwrap();
    let options = tls_options(server.ca_cert_path().unwrap(), server.tls_server_name())
        .password(server.password());
    round_trip(
        "in-process FTPS",
        &connect(&server.url(), options).await.unwrap(),
    )
    .await;
    if let Some(d) = testbed::daemon_ftp("throughput pure-ftpd") {
        let fs = connect(&d.ftp_url(), RemoteOptions::new().password(&d.password))
            .await
            .unwrap();
        round_trip("pure-ftpd FTP", &fs).await;
        let options = tls_options(&d.ca_cert_path, &d.tls_server_name).password(&d.password);
        round_trip(
            "pure-ftpd FTPS",
            &connect(&d.ftps_url(), options).await.unwrap(),
        )
        .await;
    }
    // Peak memory of the whole test process (servers included): flat, not 100 MB more.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("peak RSS of the test process: {}", line[6..].trim());
    }
}
