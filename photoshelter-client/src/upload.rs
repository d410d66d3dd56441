//! Uploads: a byte source of known length streamed as multipart, retried without ever
//! creating a duplicate.
//!
//! When the outcome of an attempt is unknown (the connection broke after the body was sent,
//! a timeout, a 502/504), the client first looks in the target for an image with the same
//! file name and size uploaded since the attempt began, and returns it if there is one; only
//! if there is none does it upload again. "Since the attempt began" is judged on the server's
//! clock (estimated from `Date` headers) in the account time zone (`Session.tz`: `UTC`,
//! `Etc/GMT±N` and `±HH:MM` are understood; for other zone names the check widens to the
//! last 12 hours, the largest offset behind UTC).

use std::error::Error as StdError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::client::Client;
use crate::decode::{decode_v3, tf};
use crate::error::{Error, Result};
use crate::id::{CollectionId, GalleryId};
use crate::models::Image;
use crate::transport::{AttemptBody, Call, RetrySchedule, Version, may_retry, outcome_unknown};

type BoxError = Box<dyn StdError + Send + Sync>;
type ByteStream = BoxStream<'static, std::result::Result<Bytes, BoxError>>;
type Factory = Arc<dyn Fn() -> ByteStream + Send + Sync>;

/// Read size when streaming a file.
const CHUNK: usize = 128 * 1024;

/// What to upload: a byte source of known length and the file name to give it.
///
/// Sources from a path, a [`tokio::fs::File`], [`Bytes`] or a stream factory can be sent
/// again when a retry is needed; a one-shot [`stream`](UploadSource::stream) cannot, so its
/// upload is tried once (after a lost reply the client still looks for the image).
///
/// ```
/// use photoshelter_client::UploadSource;
///
/// let source = UploadSource::bytes("IMG_0001.jpg", vec![0xFF, 0xD8, 0xFF, 0xD9])?;
/// assert_eq!(source.len(), 4);
/// assert_eq!(source.file_name(), "IMG_0001.jpg");
/// assert!(UploadSource::bytes("bad\nname.jpg", vec![1]).is_err());
/// # Ok::<(), photoshelter_client::Error>(())
/// ```
pub struct UploadSource {
    kind: Kind,
    len: u64,
    file_name: String,
}

enum Kind {
    Path(PathBuf),
    File(tokio::fs::File),
    Bytes(Bytes),
    Factory(Factory),
    /// Why a std Mutex: it is only taken to move the stream out, never across an await.
    Once(Mutex<Option<ByteStream>>),
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Path(p) => format!("path {}", p.display()),
            Kind::File(_) => "file".to_owned(),
            Kind::Bytes(_) => "bytes".to_owned(),
            Kind::Factory(_) => "stream factory".to_owned(),
            Kind::Once(_) => "stream".to_owned(),
        };
        f.debug_struct("UploadSource")
            .field("kind", &kind)
            .field("len", &self.len)
            .field("file_name", &self.file_name)
            .finish()
    }
}

fn check_name(name: String) -> Result<String> {
    if name.trim().is_empty() {
        return Err(Error::invalid("file_name", "is empty"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '/' || c == '\\' || c == '"')
    {
        return Err(Error::invalid(
            "file_name",
            format!(
                "`{}` contains a control character, a slash or a quote",
                name.escape_debug()
            ),
        ));
    }
    Ok(name)
}

impl UploadSource {
    /// A local file; its name becomes the uploaded file name. Reopened for each attempt.
    #[tracing::instrument(skip_all, fields(path = %path.as_ref().display()))]
    pub async fn path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        if !meta.is_file() {
            return Err(Error::invalid(
                "source",
                format!("{} is not a regular file", path.display()),
            ));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self {
            len: meta.len(),
            file_name: check_name(name)?,
            kind: Kind::Path(path),
        })
    }

    /// An open file, uploaded from its start under `file_name`.
    #[tracing::instrument(skip_all)]
    pub async fn file(file: tokio::fs::File, file_name: impl Into<String>) -> Result<Self> {
        let name = check_name(file_name.into())?;
        let meta = file.metadata().await.map_err(|source| Error::Io {
            path: PathBuf::from(&name),
            source,
        })?;
        Ok(Self {
            len: meta.len(),
            file_name: name,
            kind: Kind::File(file),
        })
    }

    /// Bytes in memory.
    pub fn bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Result<Self> {
        let bytes = bytes.into();
        Ok(Self {
            len: bytes.len() as u64,
            file_name: check_name(file_name.into())?,
            kind: Kind::Bytes(bytes),
        })
    }

    /// A one-shot stream of exactly `len` bytes. It cannot be replayed, so the upload is
    /// not retried (see [`UploadSource::from_fn`] for a replayable stream).
    pub fn stream<S, E>(file_name: impl Into<String>, len: u64, stream: S) -> Result<Self>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let boxed: ByteStream = stream.map_err(Into::into).boxed();
        Ok(Self {
            len,
            file_name: check_name(file_name.into())?,
            kind: Kind::Once(Mutex::new(Some(boxed))),
        })
    }

    /// A stream of exactly `len` bytes that `make` can produce again for each attempt.
    pub fn from_fn<F, S, E>(file_name: impl Into<String>, len: u64, make: F) -> Result<Self>
    where
        F: Fn() -> S + Send + Sync + 'static,
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let factory: Factory = Arc::new(move || make().map_err(Into::into).boxed());
        Ok(Self {
            len,
            file_name: check_name(file_name.into())?,
            kind: Kind::Factory(factory),
        })
    }

    /// The number of bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the source is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file name the image gets.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    fn replayable(&self) -> bool {
        !matches!(self.kind, Kind::Once(_))
    }

    /// A fresh body for one attempt, or `None` when a one-shot stream was already used.
    async fn open(&self) -> Result<Option<ByteStream>> {
        let len = self.len;
        Ok(Some(match &self.kind {
            Kind::Path(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?;
                let now = file
                    .metadata()
                    .await
                    .map_err(|source| Error::Io {
                        path: path.clone(),
                        source,
                    })?
                    .len();
                if now != len {
                    return Err(Error::invalid(
                        "source",
                        format!(
                            "{} changed size ({len} → {now} bytes) before upload",
                            path.display()
                        ),
                    ));
                }
                ReaderStream::with_capacity(file.take(len), CHUNK)
                    .map_err(BoxError::from)
                    .boxed()
            }
            Kind::File(file) => {
                let io = |source| Error::Io {
                    path: PathBuf::from(&self.file_name),
                    source,
                };
                let mut clone = file.try_clone().await.map_err(io)?;
                tokio::io::AsyncSeekExt::seek(&mut clone, std::io::SeekFrom::Start(0))
                    .await
                    .map_err(io)?;
                ReaderStream::with_capacity(clone.take(len), CHUNK)
                    .map_err(BoxError::from)
                    .boxed()
            }
            Kind::Bytes(bytes) => {
                futures::stream::once(futures::future::ready(Ok(bytes.clone()))).boxed()
            }
            Kind::Factory(make) => make(),
            Kind::Once(slot) => match slot.lock() {
                Ok(mut guard) => match guard.take() {
                    Some(stream) => stream,
                    None => return Ok(None),
                },
                Err(_) => return Ok(None),
            },
        }))
    }
}

/// Where an upload goes.
#[derive(Debug, Clone)]
pub(crate) enum UploadTarget {
    Gallery(GalleryId),
    Collection(CollectionId),
}

/// An upload; see [`Images::upload`](crate::api::Images::upload).
#[derive(Debug)]
#[must_use = "call `.send()` to upload"]
pub struct UploadRequest {
    client: Client,
    target: UploadTarget,
    source: UploadSource,
    searchable: Option<bool>,
}

impl UploadRequest {
    pub(crate) fn new(client: Client, target: UploadTarget, source: UploadSource) -> Self {
        Self {
            client,
            target,
            source,
            searchable: None,
        }
    }

    /// Whether the image shows up in searches (`f_searchable`).
    pub fn searchable(mut self, yes: bool) -> Self {
        self.searchable = Some(yes);
        self
    }

    fn form(&self, body: ByteStream) -> Result<Form> {
        let mut form = match &self.target {
            UploadTarget::Gallery(g) => Form::new().text("gallery_id", g.to_string()),
            UploadTarget::Collection(c) => Form::new().text("parent_id", c.to_string()),
        };
        if let Some(s) = self.searchable {
            form = form.text("f_searchable", tf(s));
        }
        let mime = mime_guess::from_path(&self.source.file_name).first_or_octet_stream();
        let part = Part::stream_with_length(reqwest::Body::wrap_stream(body), self.source.len)
            .file_name(self.source.file_name.clone())
            .mime_str(mime.essence_str())
            .map_err(|e| Error::invalid("file_name", format!("no usable content type: {e}")))?;
        Ok(form.part("file", part))
    }

    /// Uploads, retrying within the client's policy, and returns the new image record.
    #[tracing::instrument(skip(self), fields(file = %self.source.file_name, bytes = self.source.len))]
    pub async fn send(self) -> Result<Image> {
        let inner = &self.client.inner;
        let mut call = Call::new(Method::POST, Version::V3, "mem/image/upload");
        call.bounded = false; // a large file may take long; `read_timeout` guards silence
        call.idempotent = false;
        let endpoint = call.endpoint();
        let mut schedule = RetrySchedule::new(&inner.retry);
        let mut renewed = false;
        let mut lost: Option<SystemTime> = None;
        loop {
            // Server time when this attempt starts, less a margin for the `Date` header's
            // one-second resolution.
            let now = inner.server_now();
            let started = now
                .checked_sub(std::time::Duration::from_secs(2))
                .unwrap_or(now);
            let auth = inner.session_auth().await?;
            let Some(body) = self.source.open().await? else {
                return Err(Error::invalid(
                    "source",
                    "the one-shot upload stream was already used by an earlier attempt",
                ));
            };
            let form = self.form(body)?;
            let err = match inner
                .attempt(&call, AttemptBody::Multipart(form), Some(&auth))
                .await
            {
                Ok(reply) => {
                    let status = reply.response.status().as_u16();
                    match reply.response.bytes().await {
                        Ok(bytes) => {
                            #[derive(serde::Deserialize)]
                            struct Data {
                                #[serde(rename = "Image")]
                                image: Image,
                            }
                            return decode_v3::<Data>(&endpoint, status, &bytes).map(|d| d.image);
                        }
                        Err(e) => {
                            // Accepted, but the reply was lost: find the image, never re-send.
                            let err = Error::transport(&endpoint, e);
                            return match self.find_uploaded(started).await {
                                Ok(Some(image)) => Ok(image),
                                _ => Err(err),
                            };
                        }
                    }
                }
                Err(err) => err,
            };
            if !renewed && err.is_session_expired() && inner.renew_session(auth.generation).await? {
                renewed = true;
                continue;
            }
            let unknown = outcome_unknown(&err);
            if !unknown && !may_retry(false, &err) {
                return Err(err);
            }
            let Some(delay) = schedule.next_delay(&err) else {
                return Err(err);
            };
            tracing::debug!(error = %err, ?delay, unknown, "upload attempt failed");
            // Waiting first also gives a server that is still storing the file time to finish.
            tokio::time::sleep(delay).await;
            if unknown {
                let since = *lost.get_or_insert(started);
                match self.find_uploaded(since).await {
                    Ok(Some(image)) => {
                        tracing::info!(image = %image.id, "upload outcome was unknown; the image had arrived");
                        return Ok(image);
                    }
                    Ok(None) => tracing::debug!(
                        "upload outcome was unknown; the image is not there, uploading again"
                    ),
                    Err(lookup) => {
                        tracing::warn!(error = %lookup, "could not check whether the upload arrived; not uploading again");
                        return Err(err);
                    }
                }
            }
            if !self.source.replayable() {
                return Err(err);
            }
        }
    }

    /// Looks for an image with this file name and size, uploaded at or after `since`
    /// (server clock), in the target. Returns the newest match.
    async fn find_uploaded(&self, since: SystemTime) -> Result<Option<Image>> {
        let window = self.client.upload_window(since).await;
        let name = self.source.file_name.as_str();
        let len = self.source.len;
        let matches = move |img: &Image| {
            img.file_name.as_deref() == Some(name)
                && img.file_size.is_none_or(|s| s == len)
                && window.admits(img.uploaded_at.as_deref())
        };
        let mut best: Option<Image> = None;
        let mut consider = |img: Image| {
            if matches(&img)
                && best
                    .as_ref()
                    .is_none_or(|b| b.uploaded_at <= img.uploaded_at)
            {
                best = Some(img);
            }
        };
        match &self.target {
            UploadTarget::Gallery(gallery) => {
                let mut items: Pin<Box<_>> = Box::pin(
                    self.client
                        .galleries()
                        .images(gallery)
                        .extend_image()
                        .per_page(1000)
                        .items(),
                );
                while let Some(item) = items.try_next().await? {
                    if let Some(img) = item.image {
                        consider(img);
                    }
                }
            }
            UploadTarget::Collection(_) => {
                let mut items = Box::pin(self.client.images().search(name).per_page(1000).items());
                while let Some(img) = items.try_next().await? {
                    consider(img);
                }
            }
        }
        Ok(best)
    }
}

/// The earliest upload time (in the account's local time, as `uploaded_at` is written)
/// that can belong to an attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UploadWindow {
    earliest_local: NaiveDateTime,
    earliest_utc: DateTime<Utc>,
}

impl UploadWindow {
    fn admits(&self, uploaded_at: Option<&str>) -> bool {
        let Some(text) = uploaded_at.map(str::trim) else {
            // No timestamp to judge by: same name and size in the same place is taken as ours.
            return true;
        };
        if let Ok(exact) = DateTime::parse_from_rfc3339(text) {
            return exact.with_timezone(&Utc) >= self.earliest_utc;
        }
        match NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        {
            Ok(local) => local >= self.earliest_local,
            Err(_) => true,
        }
    }
}

/// The offset of a time zone name from UTC, in seconds, for the forms that need no
/// time-zone database: `UTC`, `GMT`, `Z`, `Etc/GMT±N`, `±HH:MM`, `UTC±H`.
pub(crate) fn fixed_offset(tz: &str) -> Option<i64> {
    let tz = tz.trim();
    let upper = tz.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "UTC"
            | "GMT"
            | "Z"
            | "ZULU"
            | "UNIVERSAL"
            | "ETC/UTC"
            | "ETC/GMT"
            | "ETC/UNIVERSAL"
            | "ETC/ZULU"
            | "GMT0"
            | "UCT"
            | "ETC/UCT"
    ) {
        return Some(0);
    }
    // POSIX-style `Etc/GMT+5` means five hours *behind* UTC.
    if let Some(rest) = upper.strip_prefix("ETC/GMT") {
        return parse_signed_offset(rest).map(|s| -s);
    }
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper);
    parse_signed_offset(rest)
}

fn parse_signed_offset(s: &str) -> Option<i64> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

impl Client {
    /// The upload window for an attempt that began at `since` (server clock).
    async fn upload_window(&self, since: SystemTime) -> UploadWindow {
        let tz = self
            .inner
            .account_tz
            .get_or_init(|| async {
                match self.session().await {
                    Ok(session) => session.tz,
                    Err(err) => {
                        tracing::debug!(error = %err, "account time zone unknown");
                        None
                    }
                }
            })
            .await;
        let earliest_utc: DateTime<Utc> = since.into();
        // Unknown zone: our upload's local time is at least UTC − 12 h.
        let offset = tz.as_deref().and_then(fixed_offset).unwrap_or(-12 * 3600);
        let earliest_local = (earliest_utc + chrono::Duration::seconds(offset)).naive_utc();
        UploadWindow {
            earliest_local,
            earliest_utc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets() {
        assert_eq!(fixed_offset("UTC"), Some(0));
        assert_eq!(fixed_offset("Etc/GMT+5"), Some(-5 * 3600));
        assert_eq!(fixed_offset("+05:30"), Some(5 * 3600 + 1800));
        assert_eq!(fixed_offset("UTC-0800"), Some(-8 * 3600));
        assert_eq!(fixed_offset("America/New_York"), None);
        assert_eq!(fixed_offset("+25"), None);
    }

    #[test]
    fn window_admits_only_later_uploads() {
        let since: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
        let w = UploadWindow {
            earliest_local: (since + chrono::Duration::hours(2)).naive_utc(),
            earliest_utc: since,
        };
        assert!(w.admits(Some("2026-03-01 14:00:05")));
        assert!(!w.admits(Some("2026-03-01 13:59:59")));
        assert!(w.admits(Some("2026-03-01T12:00:01Z")));
        assert!(!w.admits(Some("2026-03-01T11:00:00Z")));
        assert!(w.admits(None));
    }
}
