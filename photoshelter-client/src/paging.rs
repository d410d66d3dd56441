//! Lazy paging: a list call becomes a `Stream` of pages (and of items) that sends nothing
//! until polled and owns a client clone, so it borrows nothing.

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{self, Stream, StreamExt, TryStreamExt};

use crate::client::Client;
use crate::error::Result;
use crate::models::Paging;
use crate::transport::Call;

/// The default and the largest page sizes (`per_page`).
pub(crate) const DEFAULT_PER_PAGE: u32 = 100;
pub(crate) const MAX_PER_PAGE: u32 = 1000;

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// This page's number (1-based).
    pub number: u32,
    /// The next page's number, when the server said more pages follow.
    pub next: Option<u32>,
}

/// Turns a reply body into a page's items and its `Paging` record.
pub(crate) type Extract<T> =
    Arc<dyn Fn(&str, u16, &Bytes) -> Result<(Vec<T>, Option<Paging>)> + Send + Sync>;

enum State {
    Start,
    Next(u32),
    Done,
}

/// The pages of `call`, requested one by one with `page`/`per_page` while `Paging.next`
/// says more follow.
pub(crate) fn pages<T: Send + 'static>(
    client: Client,
    call: Call,
    per_page: u32,
    extract: Extract<T>,
) -> impl Stream<Item = Result<Page<T>>> + Send + Unpin + 'static {
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    stream::try_unfold(
        (State::Start, client, call, extract),
        move |(state, client, call, extract)| async move {
            let number = match state {
                State::Start => 1,
                State::Next(n) => n,
                State::Done => return Ok(None),
            };
            let paged = call
                .clone()
                .query("page", number.to_string())
                .query("per_page", per_page.to_string());
            let (status, bytes) = client.inner.send_bytes(&paged).await?;
            let (items, paging) = extract(&paged.endpoint(), status, &bytes)?;
            // More pages follow only while `Paging.next` is present and moves forward; an empty
            // page also ends the list, so a confused server cannot make this loop forever.
            let next = paging
                .and_then(|p| p.next)
                .filter(|n| *n > number && !items.is_empty());
            tracing::debug!(endpoint = %paged.endpoint(), page = number, items = items.len(), ?next, "page");
            let state = next.map_or(State::Done, State::Next);
            Ok(Some((
                Page {
                    items,
                    number,
                    next,
                },
                (state, client, call, extract),
            )))
        },
    )
    // Boxed so that callers can use `.next()` without pinning it themselves.
    .boxed()
}

/// The items of [`pages`], flattened.
pub(crate) fn items<T: Send + 'static>(
    pages: impl Stream<Item = Result<Page<T>>> + Send + 'static,
) -> impl Stream<Item = Result<T>> + Send + Unpin + 'static {
    pages
        .map_ok(|page| stream::iter(page.items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}
