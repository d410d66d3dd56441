use futures::Stream;
use serde::Deserialize;
use std::sync::Arc;

use crate::api::create::CreateCollection;
use crate::api::{fetch_v3, update_visibility};
use crate::client::Client;
use crate::decode::{decode_v3, one_or_many};
use crate::error::Result;
use crate::id::CollectionId;
use crate::models::{Child, Collection, Gallery, Mode, Paging};
use crate::paging::{self, DEFAULT_PER_PAGE, Page};
use crate::transport::Call;

/// Collections: `client.collections()`.
#[derive(Debug, Clone)]
pub struct Collections {
    client: Client,
}

#[derive(Deserialize)]
pub(crate) struct CollectionData {
    #[serde(rename = "Collection")]
    pub(crate) collection: Collection,
}

#[derive(Deserialize, Default)]
struct ChildrenLists {
    #[serde(rename = "Collection", default, deserialize_with = "one_or_many")]
    collections: Vec<Collection>,
    #[serde(rename = "Gallery", default, deserialize_with = "one_or_many")]
    galleries: Vec<Gallery>,
}

#[derive(Deserialize)]
struct ChildrenData {
    #[serde(rename = "Children", default)]
    children: Option<ChildrenLists>,
    #[serde(rename = "Paging", default)]
    paging: Option<Paging>,
}

impl Collections {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// One collection (`GET mem/collection/{id}`); [`CollectionId::root()`] is the top.
    #[tracing::instrument(skip(self), fields(collection = %id))]
    pub async fn get(&self, id: &CollectionId) -> Result<Collection> {
        let data: CollectionData =
            fetch_v3(&self.client, &Call::get(format!("mem/collection/{id}"))).await?;
        Ok(data.collection)
    }

    /// The children of a collection (`GET mem/collection/{id}/children`): sub-collections
    /// first, then galleries, page by page.
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use futures::TryStreamExt;
    /// use photoshelter_client::{Child, CollectionId};
    ///
    /// let top: Vec<Child> = client.collections().children(&CollectionId::root()).per_page(200).items().try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn children(&self, id: &CollectionId) -> ListChildren {
        ListChildren {
            client: self.client.clone(),
            id: id.clone(),
            per_page: DEFAULT_PER_PAGE,
        }
    }

    /// Creates a collection (`POST mem/collection/insert`).
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use photoshelter_client::Mode;
    ///
    /// let archive = client.collections().create("Archive 2024").description("All of 2024").mode(Mode::Private).send().await?;
    /// let events = client.collections().create("Events").parent(&archive.id).send().await?;
    /// # let _ = events; Ok(()) }
    /// ```
    pub fn create(&self, name: impl Into<String>) -> CreateCollection {
        CreateCollection::new(self.client.clone(), name.into())
    }

    /// Sets who may see a collection (`POST mem/collection/{id}/visibility/update`);
    /// returns the mode the server reports.
    #[tracing::instrument(skip(self), fields(collection = %id, mode = %mode))]
    pub async fn set_visibility(&self, id: &CollectionId, mode: Mode) -> Result<Mode> {
        update_visibility(&self.client, "collection", id.as_str(), &mode).await
    }
}

/// Lists a collection's children; see [`Collections::children`].
#[derive(Debug, Clone)]
#[must_use = "a list request does nothing until its stream is polled"]
pub struct ListChildren {
    client: Client,
    id: CollectionId,
    per_page: u32,
}

impl ListChildren {
    /// Items per page (1–1000, default 100).
    pub fn per_page(mut self, n: u32) -> Self {
        self.per_page = n;
        self
    }

    /// The pages, requested lazily.
    pub fn pages(self) -> impl Stream<Item = Result<Page<Child>>> + Send + Unpin + 'static {
        let call = Call::get(format!("mem/collection/{}/children", self.id));
        let extract: paging::Extract<Child> =
            Arc::new(|endpoint: &str, status: u16, bytes: &bytes::Bytes| {
                let data: ChildrenData = decode_v3(endpoint, status, bytes)?;
                let lists = data.children.unwrap_or_default();
                let items = lists
                    .collections
                    .into_iter()
                    .map(Child::Collection)
                    .chain(lists.galleries.into_iter().map(Child::Gallery))
                    .collect();
                Ok((items, data.paging))
            });
        paging::pages(self.client, call, self.per_page, extract)
    }

    /// The children one by one, requested lazily page by page.
    pub fn items(self) -> impl Stream<Item = Result<Child>> + Send + Unpin + 'static {
        paging::items(self.pages())
    }
}
