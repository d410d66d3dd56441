//! Implicit FTPS (TLS from the first byte) against the in-process server: suppaftp's implicit
//! mode for the round trip, a bare rustls client for what suppaftp cannot show (clear data
//! after `PROT C`, `FEAT`, the session each data connection resumed).

use std::net::SocketAddr;

use suppaftp::Mode;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use testbed::FtpServer;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::ftp::{ftp_round_trip, rustls_config_trusting};
use super::{TestResult, refuses_connections};

/// Fails a test that would otherwise hang (a data connection nobody answers, say).
async fn within<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), fut)
        .await
        .expect("no answer within 30 s")
}

async fn implicit_connect(
    server: &FtpServer,
    ca_pem: &str,
) -> suppaftp::FtpResult<AsyncRustlsFtpStream> {
    let connector = TlsConnector::from(rustls_config_trusting(ca_pem));
    AsyncRustlsFtpStream::connect_secure_implicit(
        server.addr(),
        AsyncRustlsConnector::from(connector),
        server.tls_server_name(),
    )
    .await
}

#[tokio::test]
async fn inprocess_ftps_implicit_round_trip_with_suppaftp() -> TestResult {
    let server = FtpServer::start_ftps_implicit().await?;
    assert_eq!(
        server.url(),
        format!("ftps+implicit://alice@{}/", server.addr())
    );
    let ca = server.ca_cert_pem().unwrap();

    let ftp = implicit_connect(&server, ca).await?;
    assert!(
        ftp.get_welcome_msg()
            .unwrap()
            .contains("testbed FTP server")
    );
    within(ftp_round_trip(
        ftp,
        server.user(),
        server.password(),
        Some(server.root()),
        "a.bin",
    ))
    .await?;

    let mut ftp = implicit_connect(&server, ca).await?;
    ftp.set_mode(Mode::ExtendedPassive);
    within(ftp_round_trip(
        ftp,
        server.user(),
        server.password(),
        Some(server.root()),
        "b.bin",
    ))
    .await?;

    // Upload, download and MLSD in each mode: six data connections, and every one resumed
    // the TLS session its control connection had made.
    let handshakes = server.data_tls_handshakes().unwrap();
    assert_eq!((handshakes.full, handshakes.resumed), (0, 6));
    Ok(())
}

#[tokio::test]
async fn inprocess_ftps_implicit_serves_sessions_side_by_side() -> TestResult {
    let server = FtpServer::start_ftps_implicit().await?;
    let ca = server.ca_cert_pem().unwrap();
    let (a, b) = tokio::try_join!(implicit_connect(&server, ca), implicit_connect(&server, ca))?;
    let (ra, rb) = within(async {
        tokio::join!(
            ftp_round_trip(
                a,
                server.user(),
                server.password(),
                Some(server.root()),
                "a.bin"
            ),
            ftp_round_trip(
                b,
                server.user(),
                server.password(),
                Some(server.root()),
                "b.bin"
            ),
        )
    })
    .await;
    ra?;
    rb?;
    Ok(())
}

#[tokio::test]
async fn inprocess_ftps_implicit_refuses_plain_text_wrong_ca_and_wrong_password() -> TestResult {
    let server = FtpServer::start_ftps_implicit().await?;

    // A plain FTP client never gets a greeting: the port speaks TLS only.
    let mut plain = TcpStream::connect(server.addr()).await?;
    plain.write_all(b"USER alice\r\n").await?;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        plain.read_to_end(&mut answer),
    )
    .await?;
    assert!(read.is_err() || !answer.starts_with(b"220"), "{answer:?}");

    let other = FtpServer::start_ftps_implicit().await?;
    let err = implicit_connect(&server, other.ca_cert_pem().unwrap())
        .await
        .err()
        .expect("a certificate from another CA must be refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );

    let mut ftp = implicit_connect(&server, server.ca_cert_pem().unwrap()).await?;
    let err = ftp.login(server.user(), "wrong").await.unwrap_err();
    assert!(err.to_string().contains("530"), "{err}");
    Ok(())
}

#[tokio::test]
async fn inprocess_ftps_implicit_stops_on_drop() -> TestResult {
    let server = FtpServer::start_ftps_implicit().await?;
    let mut ftp = implicit_connect(&server, server.ca_cert_pem().unwrap()).await?;
    ftp.login(server.user(), server.password()).await?;
    let (addr, root) = (server.addr(), server.root().to_path_buf());
    drop(server);
    assert!(!root.exists(), "served directory removed");
    assert!(
        refuses_connections(addr).await,
        "front still accepting after drop"
    );
    assert!(ftp.noop().await.is_err(), "open session cut");
    Ok(())
}

// ---------------------------------------------------------------- bare rustls client

/// A control connection spoken line by line.
struct Control {
    io: BufReader<TlsStream<TcpStream>>,
    tls: TlsConnector,
}

impl Control {
    async fn open(server: &FtpServer) -> Self {
        let tls = TlsConnector::from(rustls_config_trusting(server.ca_cert_pem().unwrap()));
        let tcp = TcpStream::connect(server.addr()).await.unwrap();
        let stream = tls.connect(server_name(), tcp).await.unwrap();
        let mut control = Self {
            io: BufReader::new(stream),
            tls,
        };
        assert!(control.reply().await.starts_with("220 "));
        control
    }

    /// One whole reply, multi-line ones included.
    async fn reply(&mut self) -> String {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            assert!(
                self.io.read_line(&mut line).await.unwrap() > 0,
                "closed: {text}"
            );
            text.push_str(&line);
            if line.len() >= 4 && text.as_bytes()[..3] == line.as_bytes()[..3] && &line[3..4] == " "
            {
                return text;
            }
        }
    }

    async fn cmd(&mut self, command: &str) -> String {
        self.io
            .get_mut()
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        self.reply().await
    }

    /// `EPSV`, a connection to the port it names, then `command`, answered by `150`. Like
    /// suppaftp and curl, TLS on the data connection starts after that reply.
    async fn open_data(&mut self, command: &str) -> TcpStream {
        let reply = self.cmd("EPSV").await;
        let port: u16 = reply
            .split("(|||")
            .nth(1)
            .and_then(|r| r.split('|').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{reply}"));
        let tcp = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .unwrap();
        assert!(self.cmd(command).await.starts_with("150 "));
        tcp
    }

    /// `EPSV`, then `command` on a clear or TLS data connection; returns the bytes and,
    /// for TLS, whether the handshake resumed a session.
    async fn transfer(&mut self, command: &str, protected: bool) -> (Vec<u8>, Option<bool>) {
        let tcp = self.open_data(command).await;
        let mut data = Vec::new();
        let resumed = if protected {
            let mut tls = within(self.tls.connect(server_name(), tcp)).await.unwrap();
            let resumed = tls.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
            within(tls.read_to_end(&mut data)).await.unwrap();
            Some(resumed)
        } else {
            let mut tcp = tcp;
            within(tcp.read_to_end(&mut data)).await.unwrap();
            None
        };
        assert!(self.reply().await.starts_with("226 "));
        (data, resumed)
    }
}

fn server_name() -> rustls::pki_types::ServerName<'static> {
    rustls::pki_types::ServerName::try_from("localhost").unwrap()
}

#[tokio::test]
async fn inprocess_ftps_implicit_answers_tls_commands_and_honours_prot() -> TestResult {
    let server = FtpServer::start_ftps_implicit().await?;
    std::fs::write(server.root().join("planted.txt"), b"planted over TLS\n")?;
    let mut control = Control::open(&server).await;

    let feat = control.cmd("FEAT").await;
    assert!(feat.contains("\r\n PBSZ\r\n PROT\r\n211 "), "{feat}");
    assert!(
        feat.contains(" MLSD\r\n"),
        "libunftp's own features pass through: {feat}"
    );
    assert!(control.cmd("AUTH TLS").await.starts_with("534 "));
    assert!(
        control
            .cmd("PORT 127,0,0,1,200,10")
            .await
            .starts_with("502 ")
    );
    assert!(
        control
            .cmd(&format!("USER {}", server.user()))
            .await
            .starts_with("331 ")
    );
    let pass = format!("PASS {}", server.password());
    assert!(control.cmd(&pass).await.starts_with("230 "));
    assert!(control.cmd("TYPE I").await.starts_with("200 "));
    assert!(control.cmd("PBSZ 0").await.starts_with("200 "));

    // Data is protected by default; the data connection resumes the control session.
    let (data, resumed) = control.transfer("RETR planted.txt", true).await;
    assert_eq!(data, b"planted over TLS\n");
    assert_eq!(resumed, Some(true));

    // PROT C: the next data connection is clear text.
    assert!(control.cmd("PROT C").await.starts_with("200 "));
    let (listing, _) = control.transfer("MLSD", false).await;
    let listing = String::from_utf8(listing)?;
    assert!(listing.contains("; planted.txt\r\n"), "{listing}");

    assert!(control.cmd("PROT P").await.starts_with("200 "));
    let (data, resumed) = control.transfer("RETR planted.txt", true).await;
    assert_eq!((data.len(), resumed), (17, Some(true)));
    assert!(control.cmd("PROT S").await.starts_with("504 "));
    assert!(control.cmd("QUIT").await.starts_with("221 "));

    let handshakes = server.data_tls_handshakes().unwrap();
    assert_eq!((handshakes.full, handshakes.resumed), (0, 2));
    Ok(())
}

#[tokio::test]
async fn inprocess_ftps_implicit_counts_a_data_connection_that_does_not_resume() -> TestResult {
    let server = FtpServer::start_ftps_implicit().await?;
    std::fs::write(server.root().join("x.txt"), b"x")?;
    let mut control = Control::open(&server).await;
    control.cmd(&format!("USER {}", server.user())).await;
    control.cmd(&format!("PASS {}", server.password())).await;
    // A client with a fresh session store cannot resume: the front counts a full handshake.
    control.tls = TlsConnector::from(rustls_config_trusting(server.ca_cert_pem().unwrap()));
    let (data, resumed) = control.transfer("RETR x.txt", true).await;
    assert_eq!((data.as_slice(), resumed), (&b"x"[..], Some(false)));
    let handshakes = server.data_tls_handshakes().unwrap();
    assert_eq!((handshakes.full, handshakes.resumed), (1, 0));
    Ok(())
}

#[tokio::test]
async fn inprocess_ftps_implicit_a_reset_upload_fails_at_once() -> TestResult {
    let server = FtpServer::start_ftps_implicit().await?;
    let mut control = Control::open(&server).await;
    control.cmd(&format!("USER {}", server.user())).await;
    control.cmd(&format!("PASS {}", server.password())).await;
    let tcp = control.open_data("STOR cut.bin").await;
    let mut tls = within(control.tls.connect(server_name(), tcp)).await?;
    tls.write_all(&[7; 100_000]).await?;
    tls.flush().await?;
    // A connection that dies rather than ends: libunftp must hear of it and fail the upload.
    tls.get_ref().0.set_zero_linger()?;
    drop(tls);
    let reply = control.reply().await;
    assert!(reply.starts_with('4') || reply.starts_with('5'), "{reply}");
    assert!(control.cmd("NOOP").await.starts_with("200 "));
    Ok(())
}
