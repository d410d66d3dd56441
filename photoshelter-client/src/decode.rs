//! Decoding: the one helper every reply body goes through (so errors name the JSON path),
//! the v3/v4 envelopes, and tolerant field deserializers (`"t"`/`"f"` booleans, numbers as
//! strings, one-or-many lists).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, SeqAccess, Visitor};

use crate::error::{ApiError, Error, Result};

/// Decodes `bytes` as `T`; a failure names the endpoint and the JSON path of the bad value.
pub(crate) fn decode<T: DeserializeOwned>(endpoint: &str, bytes: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| Error::Decode {
        endpoint: endpoint.to_owned(),
        path: err.path().to_string(),
        source: err.into_inner(),
    })?;
    de.end().map_err(|source| Error::Decode {
        endpoint: endpoint.to_owned(),
        path: ".".into(),
        source,
    })?;
    Ok(value)
}

/// The part of a v3 envelope read before the payload: `status` and `error`.
#[derive(Deserialize)]
struct V3Probe {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<V3ErrorBody>,
    #[serde(default)]
    #[allow(dead_code)] // read only to skip it cheaply
    data: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
pub(crate) struct V3ErrorBody {
    #[serde(default)]
    pub(crate) class: Option<String>,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

#[derive(Deserialize)]
struct V3Envelope<T> {
    data: T,
}

/// Decodes a v3 success body `{"status":"ok","data":…}` into the `data` payload `T`.
///
/// A 200 reply whose `status` is not `"ok"` becomes an [`Error::Api`] (some deployments
/// report errors that way).
pub(crate) fn decode_v3<T: DeserializeOwned>(
    endpoint: &str,
    status: u16,
    bytes: &[u8],
) -> Result<T> {
    let probe: V3Probe = decode(endpoint, bytes)?;
    if let Some(s) = probe.status.as_deref()
        && !s.eq_ignore_ascii_case("ok")
    {
        let err = probe.error.unwrap_or_default();
        return Err(Error::Api(Box::new(ApiError {
            endpoint: endpoint.to_owned(),
            status,
            class: err.class,
            message: err.message.unwrap_or_else(|| format!("status `{s}`")),
            retry_after: None,
        })));
    }
    let env: V3Envelope<T> = decode(endpoint, bytes)?;
    Ok(env.data)
}

/// Decodes a v4 body `{"data":…}` into `T`.
pub(crate) fn decode_v4<T: DeserializeOwned>(endpoint: &str, bytes: &[u8]) -> Result<T> {
    let env: V3Envelope<T> = decode(endpoint, bytes)?;
    Ok(env.data)
}

#[derive(Deserialize)]
struct V4ErrorEnvelope {
    #[serde(default)]
    errors: Vec<V4ErrorItem>,
}

#[derive(Deserialize)]
struct V4ErrorItem {
    #[serde(default, deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    detail: Option<String>,
}

/// Extracts the error class and message from an error body of either version.
/// Bodies that are not JSON (HTML error pages, empty 404s) give their first 200 characters.
pub(crate) fn error_details(bytes: &[u8]) -> (Option<String>, String) {
    if let Ok(v3) = serde_json::from_slice::<V3Probe>(bytes)
        && let Some(err) = v3.error
        && (err.class.is_some() || err.message.is_some())
    {
        return (err.class, err.message.unwrap_or_default());
    }
    if let Ok(v4) = serde_json::from_slice::<V4ErrorEnvelope>(bytes)
        && !v4.errors.is_empty()
    {
        let class = v4.errors.iter().find_map(|e| e.id.clone());
        let message = v4
            .errors
            .iter()
            .filter_map(|e| e.title.clone().or_else(|| e.detail.clone()))
            .collect::<Vec<_>>()
            .join("; ");
        return (class, message);
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    let cut: String = text.chars().take(200).collect();
    (None, cut)
}

// ---------------------------------------------------------------------------------------
// Tolerant field deserializers
// ---------------------------------------------------------------------------------------

/// Reads a JSON value that should be scalar as its text: strings stay, numbers and
/// booleans are formatted, `null` is `None`.
fn scalar_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        S(String),
        U(u64),
        I(i64),
        F(f64),
        B(bool),
    }
    Ok(match Option::<Scalar>::deserialize(d)? {
        None => None,
        Some(Scalar::S(s)) => Some(s),
        Some(Scalar::U(n)) => Some(n.to_string()),
        Some(Scalar::I(n)) => Some(n.to_string()),
        Some(Scalar::F(n)) => Some(n.to_string()),
        Some(Scalar::B(b)) => Some(b.to_string()),
    })
}

/// An optional string that also accepts numbers and booleans (kept as text).
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    scalar_text(d)
}

/// An optional number that may arrive as a JSON number or a string (`"1234"`); an empty
/// string is `None`.
pub(crate) fn opt_num<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    match scalar_text(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => s
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|e| de::Error::custom(format!("`{s}` is not a number: {e}"))),
    }
}

/// An optional boolean: `"t"`/`"f"`, `"true"`/`"false"`, `"1"`/`"0"`, `"y"`/`"n"`, JSON
/// booleans or 0/1.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<bool>, D::Error> {
    match scalar_text(d)? {
        None => Ok(None),
        Some(s) => match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "1" | "y" | "yes" => Ok(Some(true)),
            "f" | "false" | "0" | "n" | "no" => Ok(Some(false)),
            "" => Ok(None),
            other => Err(de::Error::custom(format!(
                "`{other}` is not a boolean (expected \"t\" or \"f\")"
            ))),
        },
    }
}

/// A list that may arrive as an array, a single object, `null` or be absent.
pub(crate) fn one_or_many<'de, D, T>(d: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct OneOrMany<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list or a single record")
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> std::result::Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(item) = seq.next_element()? {
                out.push(item);
            }
            Ok(out)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> std::result::Result<Vec<T>, A::Error> {
            let one = T::deserialize(de::value::MapAccessDeserializer::new(map))?;
            Ok(vec![one])
        }
    }
    d.deserialize_any(OneOrMany(PhantomData))
}

/// Serializes a boolean the v3 way.
pub(crate) fn tf(b: bool) -> &'static str {
    if b { "t" } else { "f" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Sample {
        #[serde(default, deserialize_with = "opt_num")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "opt_string")]
        s: Option<String>,
    }

    #[test]
    fn tolerant_scalars() {
        let v: Sample = decode("GET /x", br#"{"n":"12","b":"t","s":5,"extra":[1]}"#).unwrap();
        assert_eq!(
            (v.n, v.b, v.s.as_deref()),
            (Some(12), Some(true), Some("5"))
        );
        let v: Sample = decode("GET /x", br#"{"n":12,"b":false,"s":null}"#).unwrap();
        assert_eq!((v.n, v.b, v.s), (Some(12), Some(false), None));
        let v: Sample = decode("GET /x", br#"{"n":"","b":"f"}"#).unwrap();
        assert_eq!((v.n, v.b), (None, Some(false)));
    }

    #[test]
    fn bad_values_name_their_path() {
        let err = decode::<Sample>("GET /x", br#"{"n":"twelve"}"#).unwrap_err();
        match &err {
            Error::Decode { path, .. } => assert_eq!(path, "n"),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains("GET /x"), "{err}");
        let err = decode::<Sample>("GET /x", br#"{"b":"maybe"}"#).unwrap_err();
        assert!(err.to_string().contains("`b`"), "{err}");
    }

    #[test]
    fn v3_status_error_in_a_200_is_an_api_error() {
        let body =
            br#"{"status":"error","error":{"class":"NotFoundErr","message":"no such gallery"}}"#;
        let err = decode_v3::<serde_json::Value>("GET /g", 200, body).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound);
        assert_eq!(err.api().map(|a| a.message()), Some("no such gallery"));
    }

    #[test]
    fn error_details_of_both_versions_and_plain_text() {
        let v3 = br#"{"status":"error","error":{"class":"PermissionErr","message":"nope"}}"#;
        assert_eq!(
            error_details(v3),
            (Some("PermissionErr".into()), "nope".into())
        );
        let v4 = br#"{"errors":[{"id":"NotFound","status":"404","title":"a"},{"title":"b"}]}"#;
        assert_eq!(error_details(v4), (Some("NotFound".into()), "a; b".into()));
        assert_eq!(
            error_details(b"<html>Not Found</html>"),
            (None, "<html>Not Found</html>".into())
        );
    }
}
