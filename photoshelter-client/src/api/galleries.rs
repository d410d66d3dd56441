use std::sync::Arc;

use futures::Stream;
use serde::Deserialize;

use crate::api::create::CreateGallery;
use crate::api::{fetch_v3, update_visibility};
use crate::client::Client;
use crate::decode::{decode_v3, one_or_many};
use crate::error::Result;
use crate::id::{CollectionId, GalleryId};
use crate::models::{Gallery, GalleryImage, Mode, Paging};
use crate::paging::{self, DEFAULT_PER_PAGE, Page};
use crate::transport::Call;

/// Galleries: `client.galleries()`.
#[derive(Debug, Clone)]
pub struct Galleries {
    client: Client,
}

#[derive(Deserialize)]
pub(crate) struct GalleryData {
    #[serde(rename = "Gallery")]
    pub(crate) gallery: Gallery,
}

#[derive(Deserialize)]
struct GalleryList {
    #[serde(rename = "Gallery", default, deserialize_with = "one_or_many")]
    galleries: Vec<Gallery>,
    #[serde(rename = "Paging", default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct GalleryImageList {
    #[serde(rename = "GalleryImage", default, deserialize_with = "one_or_many")]
    images: Vec<GalleryImage>,
    #[serde(rename = "Paging", default)]
    paging: Option<Paging>,
}

impl Galleries {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// One gallery (`GET mem/gallery/{id}`).
    #[tracing::instrument(skip(self), fields(gallery = %id))]
    pub async fn get(&self, id: &GalleryId) -> Result<Gallery> {
        let data: GalleryData =
            fetch_v3(&self.client, &Call::get(format!("mem/gallery/{id}"))).await?;
        Ok(data.gallery)
    }

    /// Lists galleries (`GET mem/gallery/query`), optionally those under one collection.
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let parent = "C0000abcdefghijk".parse()?;
    /// let galleries: Vec<_> = client.galleries().list().parent(&parent).items().try_collect().await?;
    /// # let _ = galleries; Ok(()) }
    /// ```
    pub fn list(&self) -> ListGalleries {
        ListGalleries {
            client: self.client.clone(),
            parent: None,
            per_page: DEFAULT_PER_PAGE,
        }
    }

    /// The images of a gallery (`GET mem/gallery/{id}/images`), with the `Image`, `Iptc`
    /// and `ImageLink` extensions on request, in one call per page.
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let gallery = "G0000abcdefghijk".parse()?;
    /// let mut items = Box::pin(client.galleries().images(&gallery).per_page(500).extend_iptc().items());
    /// while let Some(item) = items.try_next().await? {
    ///     println!("{} {:?}", item.image_id, item.iptc().and_then(|i| i.title.as_deref()));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn images(&self, id: &GalleryId) -> GalleryImages {
        GalleryImages {
            client: self.client.clone(),
            id: id.clone(),
            per_page: DEFAULT_PER_PAGE,
            image: false,
            image_fields: None,
            iptc: false,
            link_size: None,
        }
    }

    /// Creates a gallery (`POST mem/gallery/insert`).
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use photoshelter_client::Mode;
    ///
    /// let parent = "C0000abcdefghijk".parse()?;
    /// let gallery = client.galleries().create("Staging").parent(&parent).listed(false).mode(Mode::Private).send().await?;
    /// # let _ = gallery; Ok(()) }
    /// ```
    pub fn create(&self, name: impl Into<String>) -> CreateGallery {
        CreateGallery::new(self.client.clone(), name.into())
    }

    /// Sets who may see a gallery (`POST mem/gallery/{id}/visibility/update`); returns the
    /// mode the server reports.
    #[tracing::instrument(skip(self), fields(gallery = %id, mode = %mode))]
    pub async fn set_visibility(&self, id: &GalleryId, mode: Mode) -> Result<Mode> {
        update_visibility(&self.client, "gallery", id.as_str(), &mode).await
    }
}

/// Lists galleries; see [`Galleries::list`].
#[derive(Debug, Clone)]
#[must_use = "a list request does nothing until its stream is polled"]
pub struct ListGalleries {
    client: Client,
    parent: Option<CollectionId>,
    per_page: u32,
}

impl ListGalleries {
    /// Only galleries directly under this collection.
    pub fn parent(mut self, parent: &CollectionId) -> Self {
        self.parent = Some(parent.clone());
        self
    }
    /// Items per page (1–1000, default 100).
    pub fn per_page(mut self, n: u32) -> Self {
        self.per_page = n;
        self
    }
    /// The pages, requested lazily.
    pub fn pages(self) -> impl Stream<Item = Result<Page<Gallery>>> + Send + Unpin + 'static {
        let mut call = Call::get("mem/gallery/query");
        if let Some(parent) = &self.parent {
            call = call.query("parent", parent.as_str());
        }
        let extract: paging::Extract<Gallery> =
            Arc::new(|endpoint: &str, status: u16, bytes: &bytes::Bytes| {
                let data: GalleryList = decode_v3(endpoint, status, bytes)?;
                Ok((data.galleries, data.paging))
            });
        paging::pages(self.client, call, self.per_page, extract)
    }
    /// The galleries one by one.
    pub fn items(self) -> impl Stream<Item = Result<Gallery>> + Send + Unpin + 'static {
        paging::items(self.pages())
    }
}

/// Lists a gallery's images; see [`Galleries::images`].
#[derive(Debug, Clone)]
#[must_use = "a list request does nothing until its stream is polled"]
pub struct GalleryImages {
    client: Client,
    id: GalleryId,
    per_page: u32,
    image: bool,
    /// The `Image` fields asked for (`None`: all of them).
    image_fields: Option<&'static str>,
    iptc: bool,
    link_size: Option<String>,
}

impl GalleryImages {
    /// Items per page (1–1000, default 100).
    pub fn per_page(mut self, n: u32) -> Self {
        self.per_page = n;
        self
    }
    /// Include each image's record (`Image` extension): file name, size, dimensions…
    pub fn extend_image(mut self) -> Self {
        self.image = true;
        self
    }
    /// Include each image's record and its IPTC (`Image` + `Iptc` extensions).
    pub fn extend_iptc(mut self) -> Self {
        self.image = true;
        self.iptc = true;
        self
    }
    /// Include each image's record with only these fields (`fields` projection), to keep
    /// the replies of a long listing small.
    pub(crate) fn extend_image_fields(mut self, fields: &'static str) -> Self {
        self.image = true;
        self.image_fields = Some(fields);
        self
    }
    /// Include a rendering URL of this size (`ImageLink` extension; `WxH` or `xH`).
    pub fn extend_link(mut self, image_size: impl Into<String>) -> Self {
        self.link_size = Some(image_size.into());
        self
    }

    pub(crate) fn extend_json(&self) -> Option<String> {
        let mut ext = serde_json::Map::new();
        if self.image {
            let fields = self.image_fields.unwrap_or("*");
            ext.insert("Image".into(), serde_json::json!({ "fields": fields }));
        }
        if self.iptc {
            ext.insert("Iptc".into(), serde_json::json!({"fields": "*"}));
        }
        if let Some(size) = &self.link_size {
            ext.insert(
                "ImageLink".into(),
                serde_json::json!({"params": {"image_size": size, "f_https_link": "t"}}),
            );
        }
        (!ext.is_empty()).then(|| serde_json::Value::Object(ext).to_string())
    }

    /// The pages, requested lazily.
    pub fn pages(self) -> impl Stream<Item = Result<Page<GalleryImage>>> + Send + Unpin + 'static {
        let mut call = Call::get(format!("mem/gallery/{}/images", self.id));
        if let Some(ext) = self.extend_json() {
            call = call.query("extend", ext);
        }
        let extract: paging::Extract<GalleryImage> =
            Arc::new(|endpoint: &str, status: u16, bytes: &bytes::Bytes| {
                let data: GalleryImageList = decode_v3(endpoint, status, bytes)?;
                Ok((data.images, data.paging))
            });
        paging::pages(self.client, call, self.per_page, extract)
    }
    /// The images one by one.
    pub fn items(self) -> impl Stream<Item = Result<GalleryImage>> + Send + Unpin + 'static {
        paging::items(self.pages())
    }
}
