//! Installed rules and their evaluation, once per call.

use super::{FaultKind, FaultRule, FaultStatus};
use crate::error::Result;

const DEFAULT_PREFIX: &str = "/psapi/";

/// How a call must be answered instead of being handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Respond {
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    RateLimit {
        retry_after: u64,
    },
}

/// The faults that apply to one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    pub latency_ms: u64,
    pub respond: Option<Respond>,
    /// `Some(before_handler)`.
    pub drop: Option<bool>,
    pub expire_token: bool,
    /// Names of the fired rules' kinds, for the log.
    pub fired: Vec<&'static str>,
}

/// Installed rules; guarded by a `std::sync::Mutex` in `Shared`, evaluated once per call.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    rules: Vec<FaultStatus>,
    next_id: u64,
}

impl FaultSet {
    pub(crate) fn add(&mut self, rule: FaultRule) -> Result<u64> {
        rule.validate()?;
        self.next_id += 1;
        self.rules.push(FaultStatus {
            id: self.next_id,
            rule,
            matched: 0,
            fired: 0,
            active: true,
        });
        Ok(self.next_id)
    }

    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        before != self.rules.len()
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn list(&self) -> Vec<FaultStatus> {
        self.rules.clone()
    }

    /// The smallest `session_lifetime` in force.
    pub(crate) fn session_lifetime(&self) -> Option<u64> {
        self.rules
            .iter()
            .filter_map(|r| match r.rule.kind {
                FaultKind::SessionLifetime { calls } => Some(calls),
                _ => None,
            })
            .min()
    }

    /// Counts the call against every matching rule and says what to do with it.
    pub(crate) fn evaluate(&mut self, method: &str, path: &str, has_token: bool) -> Decision {
        let mut d = Decision::default();
        for r in &mut self.rules {
            let rule = &r.rule;
            if matches!(rule.kind, FaultKind::SessionLifetime { .. }) || !r.active {
                continue;
            }
            if !path.starts_with(rule.path_prefix.as_deref().unwrap_or(DEFAULT_PREFIX)) {
                continue;
            }
            if rule
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            if matches!(rule.kind, FaultKind::ExpireSession) && !has_token {
                continue;
            }
            r.matched += 1;
            if rule.every.is_some_and(|n| r.matched % n != 0) {
                continue;
            }
            r.fired += 1;
            if rule.count.is_some_and(|c| r.fired >= c) {
                r.active = false;
            }
            match rule.kind {
                FaultKind::Status {
                    status,
                    retry_after,
                } => {
                    d.fired.push("status");
                    d.respond.get_or_insert(Respond::Status {
                        status,
                        retry_after,
                    });
                }
                FaultKind::RateLimit { retry_after } => {
                    d.fired.push("rate_limit");
                    d.respond.get_or_insert(Respond::RateLimit { retry_after });
                }
                FaultKind::Latency { ms } => {
                    d.fired.push("latency");
                    d.latency_ms = d.latency_ms.saturating_add(ms);
                }
                FaultKind::Drop { before_handler } => {
                    d.fired.push("drop");
                    d.drop.get_or_insert(before_handler);
                }
                FaultKind::ExpireSession => {
                    d.fired.push("expire_session");
                    d.expire_token = true;
                }
                FaultKind::SessionLifetime { .. } => {}
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_and_count_combine() {
        let mut set = FaultSet::default();
        set.add(FaultRule::status(503).every(2).count(2)).unwrap();
        let fired: Vec<bool> = (0..8)
            .map(|_| {
                set.evaluate("GET", "/psapi/v3/mem/image/x", false)
                    .respond
                    .is_some()
            })
            .collect();
        assert_eq!(
            fired,
            [false, true, false, true, false, false, false, false]
        );
    }

    #[test]
    fn prefix_method_and_token_filters() {
        let mut set = FaultSet::default();
        set.add(
            FaultRule::drop_connection()
                .path_prefix("/psapi/v3/mem/image/upload")
                .method("post"),
        )
        .unwrap();
        set.add(FaultRule::expire_session().count(1)).unwrap();
        assert_eq!(
            set.evaluate("GET", "/psapi/v3/mem/image/upload", false)
                .drop,
            None
        );
        assert_eq!(
            set.evaluate("POST", "/psapi/v3/mem/gallery/insert", false),
            Decision::default()
        );
        let d = set.evaluate("POST", "/psapi/v3/mem/image/upload", true);
        assert_eq!(d.drop, Some(false));
        assert!(d.expire_token);
        assert!(
            !set.evaluate("GET", "/psapi/v3/mem/user/session", true)
                .expire_token,
            "count used up"
        );
    }

    #[test]
    fn rules_round_trip_as_json() {
        let json = r#"{"kind":"status","status":503,"count":3,"path_prefix":"/psapi/v3/mem/image/upload"}"#;
        let rule: FaultRule = serde_json::from_str(json).unwrap();
        assert_eq!(
            rule,
            FaultRule::status(503)
                .count(3)
                .path_prefix("/psapi/v3/mem/image/upload")
        );
        let rule: FaultRule = serde_json::from_str(r#"{"kind":"rate_limit","every":3}"#).unwrap();
        assert_eq!(rule, FaultRule::rate_limit(1).every(3));
        assert!(FaultSet::default().add(FaultRule::status(200)).is_err());
        assert!(
            FaultSet::default()
                .add(FaultRule::latency(1).every(0))
                .is_err()
        );
    }
}
