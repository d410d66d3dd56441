use std::sync::Arc;

use futures::Stream;
use serde::Deserialize;

use crate::api::fetch_v3;
use crate::client::Client;
use crate::decode::{decode_v3, one_or_many, tf};
use crate::download::DownloadRequest;
use crate::error::{Error, Result};
use crate::id::{CollectionId, GalleryId, ImageId};
use crate::models::{Gallery, Image, ImageLink, Iptc, Paging};
use crate::paging::{self, DEFAULT_PER_PAGE, Page};
use crate::transport::Call;
use crate::upload::{UploadRequest, UploadSource, UploadTarget};

/// Images: `client.images()`.
#[derive(Debug, Clone)]
pub struct Images {
    client: Client,
}

#[derive(Deserialize)]
struct ImageData {
    #[serde(rename = "Image")]
    image: Image,
}

#[derive(Deserialize)]
struct IptcData {
    /// `{"Iptc": {...}}` as chosen in wire-format.md …
    #[serde(rename = "Iptc", default)]
    keyed: Option<Iptc>,
    /// … or the fields directly under `data`, as older clients read them.
    #[serde(flatten)]
    bare: Iptc,
}

#[derive(Deserialize)]
struct ImageGalleries {
    #[serde(rename = "ImageGallery", default, deserialize_with = "one_or_many")]
    galleries: Vec<Gallery>,
}

#[derive(Deserialize)]
struct LinkData {
    #[serde(rename = "ImageLink")]
    link: ImageLink,
}

#[derive(Deserialize)]
struct SearchData {
    #[serde(rename = "Results", default, deserialize_with = "one_or_many")]
    results: Vec<Image>,
    #[serde(rename = "Paging", default)]
    paging: Option<Paging>,
}

impl Images {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// One image record (`GET mem/image/{id}`).
    #[tracing::instrument(skip(self), fields(image = %id))]
    pub async fn get(&self, id: &ImageId) -> Result<Image> {
        let data: ImageData = fetch_v3(&self.client, &Call::get(format!("mem/image/{id}"))).await?;
        Ok(data.image)
    }

    /// An image's IPTC record (`GET mem/image/{id}/iptc`).
    #[tracing::instrument(skip(self), fields(image = %id))]
    pub async fn iptc(&self, id: &ImageId) -> Result<Iptc> {
        let data: IptcData =
            fetch_v3(&self.client, &Call::get(format!("mem/image/{id}/iptc"))).await?;
        Ok(data.keyed.unwrap_or(data.bare))
    }

    /// The galleries holding an image (`GET mem/image/{id}/galleries`).
    #[tracing::instrument(skip(self), fields(image = %id))]
    pub async fn galleries(&self, id: &ImageId) -> Result<Vec<Gallery>> {
        let data: ImageGalleries = fetch_v3(
            &self.client,
            &Call::get(format!("mem/image/{id}/galleries")),
        )
        .await?;
        Ok(data.galleries)
    }

    /// A rendering URL of an image (`GET mem/image/{id}/link`).
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// let image = "I0000abcdefghijk".parse()?;
    /// let link = client.images().link(&image).size("1200x1200").mode("fit").send().await?;
    /// println!("{:?}", link.link);
    /// # Ok(()) }
    /// ```
    pub fn link(&self, id: &ImageId) -> LinkRequest {
        LinkRequest {
            client: self.client.clone(),
            id: id.clone(),
            size: None,
            mode: None,
            https: true,
        }
    }

    /// Searches images (`GET mem/image/search`): every word of `terms` must match the file
    /// name, title, caption or keywords.
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let hits: Vec<_> = client.images().search("harbour dawn").per_page(50).items().try_collect().await?;
    /// # let _ = hits; Ok(()) }
    /// ```
    pub fn search(&self, terms: impl Into<String>) -> SearchImages {
        SearchImages {
            client: self.client.clone(),
            terms: terms.into(),
            gallery: None,
            per_page: DEFAULT_PER_PAGE,
        }
    }

    /// Uploads a file into a gallery (`POST mem/image/upload`, multipart, streamed).
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use photoshelter_client::UploadSource;
    ///
    /// let gallery = "G0000abcdefghijk".parse()?;
    /// let source = UploadSource::path("shots/IMG_0001.jpg").await?;
    /// let image = client.images().upload(&gallery, source).searchable(true).send().await?;
    /// println!("uploaded {}", image.id);
    /// # Ok(()) }
    /// ```
    pub fn upload(&self, gallery: &GalleryId, source: UploadSource) -> UploadRequest {
        UploadRequest::new(
            self.client.clone(),
            UploadTarget::Gallery(gallery.clone()),
            source,
        )
    }

    /// Uploads a file into a collection (`parent_id`); the service files it in a gallery.
    pub fn upload_to_collection(
        &self,
        collection: &CollectionId,
        source: UploadSource,
    ) -> UploadRequest {
        UploadRequest::new(
            self.client.clone(),
            UploadTarget::Collection(collection.clone()),
            source,
        )
    }

    /// Downloads an image's original (`GET mem/image/{id}/download`) as a byte stream.
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// let image = "I0000abcdefghijk".parse()?;
    /// let mut file = tokio::fs::File::create("original.jpg").await.map_err(|e| photoshelter_client::Error::Io { path: "original.jpg".into(), source: e })?;
    /// let bytes = client.images().download(&image).send().await?.copy_to(&mut file).await?;
    /// # let _ = bytes; Ok(()) }
    /// ```
    pub fn download(&self, id: &ImageId) -> DownloadRequest {
        DownloadRequest::new(self.client.clone(), id.clone())
    }
}

/// Asks for a rendering URL; see [`Images::link`].
#[derive(Debug, Clone)]
#[must_use = "call `.send()` to get the link"]
pub struct LinkRequest {
    client: Client,
    id: ImageId,
    size: Option<String>,
    mode: Option<String>,
    https: bool,
}

impl LinkRequest {
    /// The size: `WxH` (`500x500`) or `xH` (`x700`).
    pub fn size(mut self, size: impl Into<String>) -> Self {
        self.size = Some(size.into());
        self
    }
    /// How the image is fitted: `fit` (default) or `fill` (cropped).
    pub fn mode(mut self, mode: impl Into<String>) -> Self {
        self.mode = Some(mode.into());
        self
    }
    /// Whether the URL is https (default true).
    pub fn https(mut self, yes: bool) -> Self {
        self.https = yes;
        self
    }
    /// Asks for it.
    #[tracing::instrument(skip(self), fields(image = %self.id))]
    pub async fn send(self) -> Result<ImageLink> {
        let mut call = Call::get(format!("mem/image/{}/link", self.id));
        if let Some(size) = self.size {
            let ok = size.split_once('x').is_some_and(|(w, h)| {
                (w.is_empty() || w.parse::<u32>().is_ok()) && h.parse::<u32>().is_ok()
            });
            if !ok {
                return Err(Error::invalid(
                    "image_size",
                    format!("`{size}` is not `WxH` or `xH`"),
                ));
            }
            call = call.query("image_size", size);
        }
        if let Some(mode) = self.mode {
            call = call.query("image_mode", mode);
        }
        call = call.query("f_https_link", tf(self.https));
        let data: LinkData = fetch_v3(&self.client, &call).await?;
        Ok(data.link)
    }
}

/// Searches images; see [`Images::search`].
#[derive(Debug, Clone)]
#[must_use = "a list request does nothing until its stream is polled"]
pub struct SearchImages {
    client: Client,
    terms: String,
    gallery: Option<GalleryId>,
    per_page: u32,
}

impl SearchImages {
    /// Only images in this gallery.
    pub fn gallery(mut self, gallery: &GalleryId) -> Self {
        self.gallery = Some(gallery.clone());
        self
    }
    /// Items per page (1–1000, default 100).
    pub fn per_page(mut self, n: u32) -> Self {
        self.per_page = n;
        self
    }
    /// The pages, requested lazily.
    pub fn pages(self) -> impl Stream<Item = Result<Page<Image>>> + Send + Unpin + 'static {
        let mut call = Call::get("mem/image/search").query("terms", self.terms);
        if let Some(gallery) = &self.gallery {
            call = call.query("gallery_id", gallery.as_str());
        }
        let extract: paging::Extract<Image> =
            Arc::new(|endpoint: &str, status: u16, bytes: &bytes::Bytes| {
                let data: SearchData = decode_v3(endpoint, status, bytes)?;
                Ok((data.results, data.paging))
            });
        paging::pages(self.client, call, self.per_page, extract)
    }
    /// The images one by one.
    pub fn items(self) -> impl Stream<Item = Result<Image>> + Send + Unpin + 'static {
        paging::items(self.pages())
    }
}
