//! The request log served at `GET /_emulator/requests` and by [`crate::Emulator::request_log`].

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Entries kept; older ones are dropped first.
const CAPACITY: usize = 100_000;

/// Query parameters whose values are replaced by `REDACTED` in the log.
const SECRET_PARAMS: &[&str] = &["api_key", "auth_token", "token", "password", "access_token"];

/// One request the emulator received (admin calls under `/_emulator/` are not logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// HTTP method, e.g. `"POST"`.
    pub method: String,
    /// Path without the query, e.g. `"/psapi/v3/mem/image/upload"`.
    pub path: String,
    /// The query string with secret values (`api_key`, `auth_token`, `password`…) redacted.
    pub query: Option<String>,
    /// The response status; `None` when the connection was dropped without a response.
    pub status: Option<u16>,
    /// The injected fault that shaped this call, if any (`"status"`, `"rate_limit"`,
    /// `"latency"`, `"drop"`, `"expire_session"`).
    pub fault: Option<String>,
    /// True when the connection was reset without a response.
    pub dropped: bool,
}

/// A bounded log; guarded by a `std::sync::Mutex` in `Shared` (pushes are O(1), never awaited).
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<RequestRecord>,
    next_seq: u64,
}

impl RequestLog {
    pub(crate) fn push(&mut self, mut rec: RequestRecord) -> u64 {
        self.next_seq += 1;
        rec.seq = self.next_seq;
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(rec);
        self.next_seq
    }

    pub(crate) fn all(&self) -> Vec<RequestRecord> {
        self.entries.iter().cloned().collect()
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The query string with secret parameter values replaced.
pub(crate) fn redact_query(query: Option<&str>) -> Option<String> {
    let q = query?;
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        if SECRET_PARAMS.contains(&k.as_ref()) {
            out.append_pair(&k, "REDACTED");
        } else {
            out.append_pair(&k, &v);
        }
    }
    Some(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let q = redact_query(Some(
            "api_key=Abc123._XYZ&page=2&auth_token=tok123&password=hunter2",
        ));
        let q = q.unwrap();
        assert!(
            !q.contains("Abc123") && !q.contains("tok123") && !q.contains("hunter2"),
            "{q}"
        );
        assert!(q.contains("page=2"));
    }
}
