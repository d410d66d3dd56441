//! The control-line rules of the front: commands it answers itself, and the passive
//! replies it rewrites.

use std::sync::atomic::{AtomicBool, Ordering};

/// Per-session flags shared by the two relay directions (both run in the session's task).
#[derive(Debug)]
pub(super) struct Flags {
    /// `PROT P` (the default for implicit FTPS) rather than `PROT C`.
    private: AtomicBool,
    /// The client sent `FEAT` and its reply has not ended yet.
    feat: AtomicBool,
}

impl Flags {
    pub(super) fn new() -> Self {
        Self {
            private: AtomicBool::new(true),
            feat: AtomicBool::new(false),
        }
    }

    /// Whether data connections are protected (`PROT P`).
    pub(super) fn private(&self) -> bool {
        self.private.load(Ordering::Relaxed)
    }

    /// Whether the reply that just ended answered `FEAT`; clears the mark.
    pub(super) fn take_feat(&self) -> bool {
        self.feat.swap(false, Ordering::Relaxed)
    }
}

/// The front's own answer to `line`, or `None` to forward it.
pub(super) fn local_reply(line: &[u8], flags: &Flags) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
    let reply = match verb.to_ascii_uppercase().as_str() {
        "PBSZ" => "200 PBSZ=0".to_owned(),
        "PROT" => match arg.trim().to_ascii_uppercase().as_str() {
            "P" => {
                flags.private.store(true, Ordering::Relaxed);
                "200 Data connections are protected (TLS)".to_owned()
            }
            "C" => {
                flags.private.store(false, Ordering::Relaxed);
                "200 Data connections are clear (no TLS)".to_owned()
            }
            other => format!("504 PROT {other} is not supported; use P or C"),
        },
        "AUTH" => "534 TLS is already in use (implicit FTPS)".to_owned(),
        "CCC" => "534 The control connection stays protected".to_owned(),
        "PORT" | "EPRT" => "502 Active mode is not offered here; use PASV or EPSV".to_owned(),
        "FEAT" => {
            flags.feat.store(true, Ordering::Relaxed);
            return None;
        }
        _ => return None,
    };
    Some(reply + "\r\n")
}

/// A `227` or `229` reply and the libunftp port it names.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Passive {
    extended: bool,
    pub(super) port: u16,
}

impl Passive {
    pub(super) fn rewritten(&self, port: u16) -> String {
        if self.extended {
            format!("229 Entering Extended Passive Mode (|||{port}|)\r\n")
        } else {
            format!(
                "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                port >> 8,
                port & 0xff
            )
        }
    }
}

/// Parses `227 … (h1,h2,h3,h4,p1,p2)` and `229 … (|||port|)`.
pub(super) fn passive_reply(line: &[u8]) -> Option<Passive> {
    let text = std::str::from_utf8(line).ok()?;
    let inner = |text: &str| {
        let open = text.find('(')?;
        let close = open + text[open..].find(')')?;
        Some(text[open + 1..close].to_owned())
    };
    if text.starts_with("227 ") {
        let numbers: Vec<u16> = inner(text)?
            .split(',')
            .map(|n| n.trim().parse::<u8>().map(u16::from))
            .collect::<std::result::Result<_, _>>()
            .ok()?;
        let [_, _, _, _, hi, lo] = numbers[..] else {
            return None;
        };
        Some(Passive {
            extended: false,
            port: hi << 8 | lo,
        })
    } else if text.starts_with("229 ") {
        let inner = inner(text)?;
        let port = inner.strip_prefix("|||")?.strip_suffix('|')?.parse().ok()?;
        Some(Passive {
            extended: true,
            port,
        })
    } else {
        None
    }
}

/// `NNN ` ends a reply (`NNN-` opens a multi-line one; other lines continue it).
pub(super) fn is_final_line(line: &[u8]) -> bool {
    line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit) && line[3] == b' '
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_replies_are_parsed_and_rewritten() {
        let p = passive_reply(b"227 Entering Passive Mode (127,0,0,1,78,32)\r\n").unwrap();
        assert_eq!(
            p,
            Passive {
                extended: false,
                port: 78 * 256 + 32
            }
        );
        assert_eq!(
            p.rewritten(40000),
            "227 Entering Passive Mode (127,0,0,1,156,64)\r\n"
        );
        let p = passive_reply(b"229 Entering Extended Passive Mode (|||15123|)\r\n").unwrap();
        assert_eq!(
            p,
            Passive {
                extended: true,
                port: 15123
            }
        );
        assert_eq!(
            p.rewritten(7),
            "229 Entering Extended Passive Mode (|||7|)\r\n"
        );
        assert!(passive_reply(b"227 (1,2,3)\r\n").is_none());
        assert!(passive_reply(b"227 (1,2,3,4,5,300)\r\n").is_none());
        assert!(passive_reply(b"229 (|||x|)\r\n").is_none());
        assert!(passive_reply(b"226 Transfer complete (1,2,3,4,5,6)\r\n").is_none());
    }

    #[test]
    fn tls_commands_are_answered_locally() {
        let f = Flags::new();
        assert_eq!(local_reply(b"PBSZ 0\r\n", &f).unwrap(), "200 PBSZ=0\r\n");
        assert!(local_reply(b"prot c\r\n", &f).unwrap().starts_with("200 "));
        assert!(!f.private());
        assert!(local_reply(b"PROT P\r\n", &f).unwrap().starts_with("200 "));
        assert!(f.private());
        assert!(local_reply(b"PROT S\r\n", &f).unwrap().starts_with("504 "));
        assert!(
            local_reply(b"AUTH TLS\r\n", &f)
                .unwrap()
                .starts_with("534 ")
        );
        assert!(
            local_reply(b"EPRT |1|127.0.0.1|5000|\r\n", &f)
                .unwrap()
                .starts_with("502 ")
        );
        assert_eq!(local_reply(b"RETR a.jpg\r\n", &f), None);
        assert_eq!(local_reply(b"FEAT\r\n", &f), None);
        assert!(f.take_feat() && !f.take_feat());
    }

    #[test]
    fn final_reply_lines_are_told_apart() {
        assert!(is_final_line(b"211 END\r\n"));
        assert!(!is_final_line(b"211-Extensions supported:\r\n"));
        assert!(!is_final_line(b" MLSD\r\n"));
        assert!(!is_final_line(b"21\r\n"));
    }
}
