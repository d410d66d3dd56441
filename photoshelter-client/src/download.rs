//! Downloads: an image's original as a byte stream, from any offset, resumed with `Range`
//! when the connection breaks mid-body.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt};
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue,
    IF_RANGE, LAST_MODIFIED, RANGE,
};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::OwnedSemaphorePermit;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::id::ImageId;
use crate::retry::RetrySchedule;
use crate::transport::{Call, Reply};

/// A download; see [`Images::download`](crate::api::Images::download).
#[derive(Debug, Clone)]
#[must_use = "call `.send()` to start the download"]
pub struct DownloadRequest {
    client: Client,
    id: ImageId,
    offset: u64,
    resume: bool,
}

impl DownloadRequest {
    pub(crate) fn new(client: Client, id: ImageId) -> Self {
        Self {
            client,
            id,
            offset: 0,
            resume: true,
        }
    }

    /// Start at this byte (to continue an earlier partial download), with `Range`.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// Whether a connection that breaks mid-body is resumed from where it stopped, within
    /// the client's retry policy (default true). The policy bounds failures in a row: once
    /// bytes flow again its budget starts afresh, so a long download is resumed however long
    /// it has been running.
    pub fn resume(mut self, yes: bool) -> Self {
        self.resume = yes;
        self
    }

    /// Sends the request. Errors such as 404 are reported here; the body is then read by
    /// polling the returned [`Download`].
    #[tracing::instrument(skip(self), fields(image = %self.id, offset = self.offset))]
    pub async fn send(self) -> Result<Download> {
        let mut call = Call::get(format!("mem/image/{}/download", self.id));
        call.bounded = false;
        let schedule = RetrySchedule::new(&self.client.inner.retry);
        let mut body = Body {
            client: self.client,
            call,
            pos: self.offset,
            end: None,
            validator: None,
            stream: None,
            permit: None,
            schedule,
            progressed: false,
            resume: self.resume,
            done: false,
        };
        let (reply, conditional) = body.request().await?;
        let headers = reply.response.headers().clone();
        body.attach(reply, conditional)?;
        Ok(Download {
            file_name: headers
                .get(CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .and_then(disposition_file_name),
            content_type: headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            offset: self.offset,
            total_size: body.end,
            stream: futures::stream::try_unfold(body, |mut body| async move {
                Ok(body.next_chunk().await?.map(|chunk| (chunk, body)))
            })
            .boxed(),
        })
    }
}

/// An original being downloaded: a `Stream` of byte chunks, plus what the reply said.
pub struct Download {
    file_name: Option<String>,
    content_type: Option<String>,
    offset: u64,
    total_size: Option<u64>,
    stream: BoxStream<'static, Result<Bytes>>,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("offset", &self.offset)
            .field("total_size", &self.total_size)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The file name from `Content-Disposition`.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }
    /// The `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }
    /// The byte this download starts at.
    pub fn offset(&self) -> u64 {
        self.offset
    }
    /// The size of the whole original, when the server said.
    pub fn total_size(&self) -> Option<u64> {
        self.total_size
    }
    /// The bytes still to come from [`offset`](Self::offset), when known.
    pub fn remaining(&self) -> Option<u64> {
        self.total_size.map(|t| t.saturating_sub(self.offset))
    }

    /// Writes the rest of the body to `writer` and flushes it; returns the bytes written.
    #[tracing::instrument(skip_all, fields(file = ?self.file_name, offset = self.offset))]
    pub async fn copy_to<W: AsyncWrite + Unpin>(mut self, writer: &mut W) -> Result<u64> {
        let mut written = 0u64;
        let io = |source| Error::Io {
            path: "<download writer>".into(),
            source,
        };
        while let Some(chunk) = self.stream.next().await {
            let chunk = chunk?;
            writer.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
        }
        writer.flush().await.map_err(io)?;
        Ok(written)
    }
}

impl Stream for Download {
    type Item = Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}

/// The state behind a [`Download`] stream.
struct Body {
    client: Client,
    call: Call,
    /// The absolute offset of the next byte to hand out.
    pos: u64,
    /// The size of the whole original, when known.
    end: Option<u64>,
    /// `ETag` (or `Last-Modified`) of the first reply, sent as `If-Range` on resumption so a
    /// changed original is never spliced onto the old one.
    validator: Option<HeaderValue>,
    stream: Option<BoxStream<'static, reqwest::Result<Bytes>>>,
    /// The in-flight permit, held while the body is read.
    permit: Option<OwnedSemaphorePermit>,
    /// The retry budget for failures in a row; a fresh one starts once bytes flow again,
    /// so that a long download is resumed however long it has been running.
    schedule: RetrySchedule,
    /// Whether bytes arrived since the last failure.
    progressed: bool,
    resume: bool,
    done: bool,
}

impl Body {
    /// Requests the body from `pos`; the flag tells whether `If-Range` was sent.
    async fn request(&mut self) -> Result<(Reply, bool)> {
        let mut call = self.call.clone();
        let mut conditional = false;
        if self.pos > 0 {
            let range = HeaderValue::from_str(&format!("bytes={}-", self.pos))
                .map_err(|e| Error::invalid("offset", e.to_string()))?;
            call.headers.push((RANGE, range));
            if let Some(v) = &self.validator {
                call.headers.push((IF_RANGE, v.clone()));
                conditional = true;
            }
        }
        Ok((self.client.inner.send(&call).await?, conditional))
    }

    /// Checks a reply against the position asked for and takes its body.
    fn attach(&mut self, reply: Reply, conditional: bool) -> Result<()> {
        let endpoint = reply.endpoint.clone();
        let headers = reply.response.headers();
        let status = reply.response.status();
        let mut skip = 0u64;
        if status == StatusCode::PARTIAL_CONTENT {
            let (start, total) = content_range(headers).ok_or_else(|| {
                Error::unexpected(&endpoint, "206 reply without a usable Content-Range")
            })?;
            if start != self.pos {
                return Err(Error::unexpected(
                    &endpoint,
                    format!(
                        "asked for bytes from {} but got them from {start}",
                        self.pos
                    ),
                ));
            }
            self.end = total.or(self.end);
        } else {
            if conditional {
                return Err(Error::unexpected(
                    &endpoint,
                    "the original changed while it was being downloaded",
                ));
            }
            // A full body although a range was asked for: skip to where we are.
            skip = self.pos;
            self.end = content_length(headers).or(self.end);
        }
        if self.validator.is_none() {
            self.validator = headers
                .get(ETAG)
                .or_else(|| headers.get(LAST_MODIFIED))
                .cloned();
        }
        let mut to_skip = skip;
        let stream = reply.response.bytes_stream().filter_map(move |chunk| {
            let out = match chunk {
                Ok(mut bytes) if to_skip > 0 => {
                    let n = to_skip.min(bytes.len() as u64);
                    to_skip -= n;
                    let rest =
                        bytes.split_off(usize::try_from(n).unwrap_or(usize::MAX).min(bytes.len()));
                    (!rest.is_empty()).then_some(Ok(rest))
                }
                other => Some(other),
            };
            futures::future::ready(out)
        });
        self.stream = Some(stream.boxed());
        self.permit = Some(reply.permit);
        Ok(())
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let Some(stream) = self.stream.as_mut() else {
                let (reply, conditional) = self.request().await?;
                self.attach(reply, conditional)?;
                continue;
            };
            let failure = match stream.next().await {
                Some(Ok(chunk)) => {
                    self.pos += chunk.len() as u64;
                    self.progressed |= !chunk.is_empty();
                    if let Some(end) = self.end
                        && self.pos > end
                    {
                        return Err(Error::unexpected(
                            &self.call.endpoint(),
                            format!("the body is longer than the {end} bytes announced"),
                        ));
                    }
                    return Ok(Some(chunk));
                }
                Some(Err(e)) => Error::transport(&self.call.endpoint(), e),
                None => match self.end {
                    Some(end) if self.pos < end => Error::unexpected(
                        &self.call.endpoint(),
                        format!("the body ended at byte {} of {end}", self.pos),
                    ),
                    _ => {
                        self.done = true;
                        self.stream = None;
                        self.permit = None;
                        return Ok(None);
                    }
                },
            };
            self.stream = None;
            self.permit = None;
            if !self.resume {
                return Err(failure);
            }
            if std::mem::take(&mut self.progressed) {
                self.schedule = RetrySchedule::new(&self.client.inner.retry);
            }
            let Some(delay) = self.schedule.next_delay(&failure) else {
                return Err(failure);
            };
            tracing::debug!(error = %failure, pos = self.pos, ?delay, "download interrupted; resuming");
            tokio::time::sleep(delay).await;
        }
    }
}

/// `Content-Range: bytes a-b/total` → (a, total).
fn content_range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?.trim();
    let rest = value.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The file name of `Content-Disposition: attachment; filename="…"` (or `filename*=UTF-8''…`).
fn disposition_file_name(value: &str) -> Option<String> {
    let mut plain = None;
    for part in value.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let encoded = v.split_once("''").map_or(v, |(_, e)| e);
            if let Ok(decoded) = percent_decode(encoded) {
                return Some(decoded);
            }
        } else if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_owned());
        }
    }
    plain
}

fn percent_decode(s: &str) -> std::result::Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or(())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| ())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_names() {
        assert_eq!(
            disposition_file_name(r#"attachment; filename="IMG 1.jpg""#).as_deref(),
            Some("IMG 1.jpg")
        );
        assert_eq!(
            disposition_file_name("attachment; filename=a.jpg; filename*=UTF-8''%C3%A9t%C3%A9.jpg")
                .as_deref(),
            Some("été.jpg")
        );
        assert_eq!(disposition_file_name("attachment"), None);
    }

    #[test]
    fn content_range_parses() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_RANGE,
            HeaderValue::from_static("bytes 100-199/1000"),
        );
        assert_eq!(content_range(&h), Some((100, Some(1000))));
        h.insert(CONTENT_RANGE, HeaderValue::from_static("bytes 100-199/*"));
        assert_eq!(content_range(&h), Some((100, None)));
    }
}
