//! The binary: `--help`, and a real run that prints credentials and stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_photoshelter-emulator");

#[test]
fn help_lists_flags_and_the_credentials_note() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--port",
        "--data-dir",
        "--snapshot",
        "--rate-limit-every",
        "--latency-ms",
        "--error-every",
        "--drop-upload-every",
        "--session-lifetime",
        "--fault",
        "--organization",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
    assert!(
        help.contains("printing them is this tool's purpose"),
        "{help}"
    );
}

#[test]
fn bad_fault_json_fails_with_a_message() {
    let out = Command::new(BIN)
        .args(["--port", "0", "--fault", "{oops"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fault"));
}

#[tokio::test]
async fn run_prints_credentials_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--rate-limit-every", "1000", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.starts_with("Press Ctrl-C");
            out.push(line);
            if done {
                break;
            }
        }
        out
    })
    .await
    .unwrap();
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(name)
                    .map(|v| v.trim_start_matches([' ', ':']).trim().to_owned())
            })
            .unwrap_or_else(|| panic!("{name} missing in {lines:?}"))
    };
    let base = field("base URL");
    let key = field("API key");
    let (email, password) = (field("email"), field("password"));
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(lines.iter().any(|l| l.contains("rate_limit")), "{lines:?}");

    let resp = reqwest::Client::new()
        .post(format!("{base}/psapi/v3/mem/authenticate"))
        .header("X-PS-Api-Key", &key)
        .form(&[
            ("email", email.as_str()),
            ("password", password.as_str()),
            ("mode", "token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(dir.path().join("emulator-snapshot.json").exists());
}
