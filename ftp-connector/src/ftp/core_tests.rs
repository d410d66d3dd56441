use super::*;

fn reply(code: u32, text: &str) -> FtpError {
    FtpError::UnexpectedResponse(Response::new(
        Status::from(code),
        format!("{code} {text}\r\n").into_bytes(),
    ))
}

#[test]
fn transient_codes_are_retryable_and_550_is_not_found() {
    for code in [421, 425, 426, 450, 451] {
        let e = map_ftp_error(reply(code, "try later"), Operation::Read, "a.jpg");
        assert!(e.is_retryable(), "{code}: {e}");
    }
    let e = map_ftp_error(reply(550, "No such file"), Operation::Stat, "in/a.jpg");
    assert!(
        matches!(&e, Error::NotFound { path, .. } if path == "in/a.jpg"),
        "{e}"
    );
    assert!(!e.is_retryable());
}

#[test]
fn reply_text_decides_between_not_found_conflict_and_refusal() {
    let e = map_ftp_error(reply(550, "Directory not empty"), Operation::RemoveDir, "d");
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let e = map_ftp_error(reply(550, "Permission denied"), Operation::Write, "f");
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    let e = map_ftp_error(reply(530, "Not logged in"), Operation::List, "");
    assert_eq!(e.kind(), ErrorKind::Auth);
    let e = map_ftp_error(
        reply(502, "Command not implemented"),
        Operation::SetModified,
        "f",
    );
    assert_eq!(e.kind(), ErrorKind::Unsupported);
}

#[test]
fn unknown_codes_are_read_from_the_text_and_replies_are_cleaned() {
    let r = Response::new(
        Status::Unknown,
        b"534-Policy\r\n534 TLS required\x07\r\n".to_vec(),
    );
    assert_eq!(reply_code(&r), 534);
    assert_eq!(reply_text(&r), "Policy; TLS required?");
    let e = map_ftp_error(FtpError::UnexpectedResponse(r), Operation::Connect, "");
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
}

#[test]
fn resets_and_timeouts_are_transient() {
    let e = map_ftp_error(
        FtpError::ConnectionError(io::ErrorKind::ConnectionReset.into()),
        Operation::Read,
        "a",
    );
    assert!(e.is_retryable());
    let e = Fail::Timeout(Duration::from_secs(3)).at(Operation::List, "d");
    assert!(e.is_retryable());
    assert!(e.to_string().contains("3s"), "{e}");
}

#[test]
fn only_a_421_among_replies_breaks_the_connection() {
    assert!(breaks_connection(&reply(421, "bye")));
    assert!(!breaks_connection(&reply(550, "nope")));
    assert!(breaks_connection(&FtpError::BadResponse));
}
