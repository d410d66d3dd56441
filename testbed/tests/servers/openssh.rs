//! OpenSSH's `sftp` client against the in-process SFTP server.

use std::path::Path;

use tokio::io::AsyncWriteExt as _;

use super::{TestResult, payload};

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
