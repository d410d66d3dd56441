//! Uploads: a byte source of known length streamed as multipart, retried without ever
//! creating a duplicate.
//!
//! When the outcome of an attempt is unknown (the connection broke after the body was sent,
//! a timeout, a 502/504), the client first looks in the target for an image with the same
//! file name and size uploaded since the attempt began, and returns it if there is one; only
//! if there is none does it upload again. It looks even when the retry policy has nothing
//! left (a long upload can spend its time budget in one attempt), so that an error always
//! means the image is not there. "Since the attempt began" is judged on the server's
//! clock (estimated from `Date` headers) in the account time zone (`Session.tz`: IANA names
//! such as `America/New_York` with their daylight-saving rules, `UTC`, `Etc/GMT±N` and
//! `±HH:MM`; for a zone name that is none of these the check widens to the last 12 hours,
//! the largest offset behind UTC). The window opens 2 s before the attempt (and `Date` has
//! one-second steps), so an image with the same name and size uploaded a few seconds before
//! it is taken as this upload's: the bias is against duplicates.

mod source;
mod window;

pub use source::UploadSource;

use std::pin::Pin;
use std::time::SystemTime;

use futures::stream::TryStreamExt;
use reqwest::Method;
use reqwest::multipart::{Form, Part};

use crate::client::Client;
use crate::decode::{decode_v3, tf};
use crate::error::{Error, Result};
use crate::id::{CollectionId, GalleryId};
use crate::models::Image;
use crate::retry::{RetrySchedule, may_retry, outcome_unknown};
use crate::transport::{AttemptBody, Call, Version};
use source::ByteStream;

/// The `Image` fields the unknown-outcome lookup reads.
const LOOKUP_FIELDS: &str = "image_id,file_name,file_size,uploaded_at";

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
        let mime = mime_guess::from_path(self.source.file_name()).first_or_octet_stream();
        let part = Part::stream_with_length(reqwest::Body::wrap_stream(body), self.source.len())
            .file_name(self.source.file_name().to_owned())
            .mime_str(mime.essence_str())
            .map_err(|e| Error::invalid("file_name", format!("no usable content type: {e}")))?;
        Ok(form.part("file", part))
    }

    /// Uploads, retrying within the client's policy, and returns the new image record.
    #[tracing::instrument(skip(self), fields(file = %self.source.file_name(), bytes = self.source.len()))]
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
                // Unreachable: a source that cannot be replayed ends the loop before this.
                return Err(Error::invalid(
                    "source",
                    "the one-shot upload stream was already read by an earlier attempt",
                ));
            };
            let form = self.form(body)?;
            let err = match inner
                .attempt(&call, AttemptBody::Multipart(form), Some(&auth))
                .await
            {
                Ok(reply) => {
                    // `read_all` frees the in-flight slot first: the lookup below needs one.
                    match reply.read_all().await {
                        (status, Ok(bytes)) => {
                            #[derive(serde::Deserialize)]
                            struct Data {
                                #[serde(rename = "Image")]
                                image: Image,
                            }
                            return decode_v3::<Data>(&endpoint, status, &bytes).map(|d| d.image);
                        }
                        (_, Err(e)) => {
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
                if self.source.replayable() {
                    continue;
                }
                return Err(err);
            }
            let unknown = outcome_unknown(&err);
            if !unknown && !may_retry(false, &err) {
                return Err(err);
            }
            let delay = schedule.next_delay(&err);
            tracing::debug!(error = %err, ?delay, unknown, "upload attempt failed");
            if !unknown && delay.is_none() {
                return Err(err);
            }
            // Waiting first also gives a server that is still storing the file time to finish.
            // An unknown outcome is looked into even when no retry is left: a caller told
            // only "failed" would upload the file again.
            tokio::time::sleep(delay.unwrap_or(inner.retry.min_delay)).await;
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
            if delay.is_none() || !self.source.replayable() {
                return Err(err);
            }
        }
    }

    /// Looks for an image with this file name and size, uploaded at or after `since`
    /// (server clock), in the target. Returns the newest match.
    async fn find_uploaded(&self, since: SystemTime) -> Result<Option<Image>> {
        let window = self.client.upload_window(since).await;
        let name = self.source.file_name();
        let len = self.source.len();
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
                // Only what the match needs: a page of 1000 stays small even when the
                // images carry long IPTC records.
                let mut items: Pin<Box<_>> = Box::pin(
                    self.client
                        .galleries()
                        .images(gallery)
                        .extend_image_fields(LOOKUP_FIELDS)
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
