//! A scripted FTP server on 127.0.0.1 for what real servers will not do on demand: list
//! hostile names (`..`, `a/b`, CR), lie about a cut transfer, fail with `421`, refuse
//! `EPSV`. It speaks just enough FTP for `FtpFs`, and records every command it receives.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What the fake server says and sends.
#[derive(Debug, Clone)]
pub(super) struct Script {
    /// The password it accepts.
    pub(super) password: String,
    /// The `FEAT` lines (without the `211` framing).
    pub(super) features: Vec<&'static str>,
    /// Whether `EPSV` is refused with `502` (then `PASV` works).
    pub(super) refuse_epsv: bool,
    /// The body of every `MLSD` and `LIST` (raw bytes, lines included).
    pub(super) listing: Vec<u8>,
    /// What `SIZE` answers for any file.
    pub(super) size: u64,
    /// What a `RETR` sends on the data connection.
    pub(super) body: Vec<u8>,
    /// The reply after a `RETR`'s data (`226 ...` even when the data was cut short).
    pub(super) retr_reply: &'static str,
    /// Answer the first `SIZE` of each connection that has not yet seen one with `421`
    /// and hang up, this many times in all.
    pub(super) fail_first_size: usize,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            password: "fake-secret-77".into(),
            features: vec![
                "MLST type*;size*;modify*;",
                "SIZE",
                "MDTM",
                "EPSV",
                "REST STREAM",
                "UTF8",
            ],
            refuse_epsv: false,
            listing: Vec::new(),
            size: 0,
            body: Vec::new(),
            retr_reply: "226 Transfer complete",
            fail_first_size: 0,
        }
    }
}

/// A running fake server.
pub(super) struct Fake {
    pub(super) port: u16,
    /// Every command line received, on every connection, in order.
    pub(super) commands: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    pub(super) async fn start(script: Script) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let commands = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(script.fail_first_size));
        let log = commands.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (script, log, failures) = (script.clone(), log.clone(), failures.clone());
                tokio::spawn(async move {
                    let _ = session(sock, script, log, failures).await;
                });
            }
        });
        Fake {
            port,
            commands,
            task,
        }
    }

    pub(super) fn url(&self) -> String {
        format!("ftp://bob@127.0.0.1:{}/", self.port)
    }

    pub(super) fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

async fn session(
    sock: TcpStream,
    script: Script,
    log: Arc<Mutex<Vec<String>>>,
    failures: Arc<Mutex<usize>>,
) -> std::io::Result<()> {
    let (read, mut write) = sock.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 fake server ready\r\n").await?;
    let mut data: Option<TcpListener> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']).to_owned();
        log.lock().unwrap().push(cmd.clone());
        let (verb, arg) = cmd.split_once(' ').unwrap_or((cmd.as_str(), ""));
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "USER" => "331 Password please".into(),
            "PASS" if arg == script.password => "230 Logged in".into(),
            "PASS" => "530 Login incorrect".into(),
            "TYPE" | "OPTS" | "NOOP" => "200 OK".into(),
            "FEAT" => {
                let mut r = String::from("211-Features:\r\n");
                for f in &script.features {
                    r.push_str(&format!(" {f}\r\n"));
                }
                r.push_str("211 End");
                r
            }
            "PWD" => "257 \"/\" is the current directory".into(),
            "CWD" if arg.ends_with(".jpg") => "550 Not a directory".into(),
            "CWD" => "250 OK".into(),
            "EPSV" if script.refuse_epsv => "502 EPSV not implemented".into(),
            "EPSV" => {
                let l = TcpListener::bind("127.0.0.1:0").await?;
                let p = l.local_addr()?.port();
                data = Some(l);
                format!("229 Entering Extended Passive Mode (|||{p}|)")
            }
            "PASV" => {
                let l = TcpListener::bind("127.0.0.1:0").await?;
                let p = l.local_addr()?.port();
                data = Some(l);
                // A hostile address: the client must connect to the control peer instead.
                format!(
                    "227 Entering Passive Mode (10,9,8,7,{},{})",
                    p / 256,
                    p % 256
                )
            }
            "SIZE" => {
                let fail = {
                    let mut f = failures.lock().unwrap();
                    let fail = *f > 0;
                    *f = f.saturating_sub(1);
                    fail
                };
                if fail {
                    write
                        .write_all(b"421 Service closing, try later\r\n")
                        .await?;
                    return Ok(());
                }
                format!("213 {}", script.size)
            }
            "MDTM" => "213 20261127150542".into(),
            "MLST" => format!(
                "250-Listing {arg}\r\n type=file;size={};modify=20261127150542; {arg}\r\n250 End",
                script.size
            ),
            "MLSD" | "LIST" | "RETR" => {
                let Some(l) = data.take() else {
                    write.write_all(b"425 Use EPSV first\r\n").await?;
                    continue;
                };
                write.write_all(b"150 Opening data connection\r\n").await?;
                let (mut d, _) = l.accept().await?;
                let (payload, done) = if verb.eq_ignore_ascii_case("RETR") {
                    (&script.body, script.retr_reply)
                } else {
                    (&script.listing, "226 Listing sent")
                };
                d.write_all(payload).await?;
                d.shutdown().await?;
                drop(d);
                done.into()
            }
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 Not implemented".into(),
        };
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\r\n").await?;
    }
}
