//! **Provisional** v4 writes: IPTC update, gallery membership, image delete, gallery update.
//!
//! PhotoShelter's v3 API has no call for these. The v4 endpoints used here are known from a
//! single unverified source, and their request and reply bodies are this crate's choice in
//! the documented v4 style (`docs/wire-format.md` section 9). They work against
//! `photoshelter-emulator`; confirm them on your own account with the live test suite
//! (`PHOTOSHELTER_LIVE_WRITE=1`) before relying on them. Their shape may change in a minor
//! release.

use serde::Deserialize;
use serde_json::json;

use crate::client::Client;
use crate::decode::{decode, decode_v4};
use crate::error::{Error, Result};
use crate::id::{GalleryId, ImageId};
use crate::models::{Gallery, Iptc, IptcPatch};
use crate::transport::{Call, CallBody, Version};
use reqwest::Method;

/// The provisional v4 writes: `client.provisional()`. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Provisional {
    client: Client,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    attributes: serde_json::Map<String, serde_json::Value>,
}

fn v4(method: Method, path: String, body: Option<serde_json::Value>) -> Call {
    let mut call = Call::new(method, Version::V4, path);
    if let Some(b) = body {
        call.body = CallBody::Json(b);
    }
    call
}

impl Provisional {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    async fn send(&self, call: &Call) -> Result<(u16, bytes::Bytes)> {
        self.client.inner.send_bytes(call).await
    }

    /// Updates an image's IPTC (`PATCH media/{id}/iptc`): fields set in the patch are
    /// overwritten, cleared ones emptied, others kept. Returns the whole record after the
    /// change. *Provisional.*
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// use photoshelter_client::IptcPatch;
    ///
    /// let image = "I0000abcdefghijk".parse()?;
    /// let iptc = client.provisional().update_iptc(&image, &IptcPatch::new().caption("Harbour at dawn")).await?;
    /// assert_eq!(iptc.caption.as_deref(), Some("Harbour at dawn"));
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip(self, patch), fields(image = %id))]
    pub async fn update_iptc(&self, id: &ImageId, patch: &IptcPatch) -> Result<Iptc> {
        if patch.is_empty() {
            return Err(Error::invalid("patch", "changes nothing"));
        }
        let body = json!({"data": {"type": "iptc", "attributes": patch}});
        let call = v4(Method::PATCH, format!("media/{id}/iptc"), Some(body));
        let (_, bytes) = self.send(&call).await?;
        let resource: Resource = decode_v4(&call.endpoint(), &bytes)?;
        let attributes = serde_json::Value::Object(resource.attributes).to_string();
        decode(
            &format!("{} (data.attributes)", call.endpoint()),
            attributes.as_bytes(),
        )
    }

    /// Adds existing images to a gallery (`POST galleries/{id}/children`). Adding an image
    /// that is already there changes nothing, so this call is retried like a read.
    /// *Provisional.*
    #[tracing::instrument(skip(self, images), fields(gallery = %gallery, count = images.len()))]
    pub async fn add_to_gallery(&self, gallery: &GalleryId, images: &[ImageId]) -> Result<()> {
        if images.is_empty() {
            return Err(Error::invalid("images", "no image to add"));
        }
        let data: Vec<_> = images
            .iter()
            .map(|i| json!({"type": "image", "id": i}))
            .collect();
        let call = v4(
            Method::POST,
            format!("galleries/{gallery}/children"),
            Some(json!({ "data": data })),
        )
        .idempotent(true);
        self.send(&call).await?;
        Ok(())
    }

    /// Removes an image from a gallery (`DELETE galleries/{id}/children/{image}`); the image
    /// stays in the library. *Provisional.*
    #[tracing::instrument(skip(self), fields(gallery = %gallery, image = %image))]
    pub async fn remove_from_gallery(&self, gallery: &GalleryId, image: &ImageId) -> Result<()> {
        let call = v4(
            Method::DELETE,
            format!("galleries/{gallery}/children/{image}"),
            None,
        )
        .idempotent(false);
        self.send(&call).await?;
        Ok(())
    }

    /// Deletes an image from the library (`DELETE media/{id}`). *Provisional.*
    #[tracing::instrument(skip(self), fields(image = %id))]
    pub async fn delete_image(&self, id: &ImageId) -> Result<()> {
        let call = v4(Method::DELETE, format!("media/{id}"), None).idempotent(false);
        self.send(&call).await?;
        Ok(())
    }

    /// Changes a gallery's name, description or listing (`PATCH galleries/{id}`).
    /// *Provisional.*
    ///
    /// ```no_run
    /// # async fn demo(client: photoshelter_client::Client) -> photoshelter_client::Result<()> {
    /// let id = "G0000abcdefghijk".parse()?;
    /// let gallery = client.provisional().update_gallery(&id).name("Published").listed(true).send().await?;
    /// # let _ = gallery; Ok(()) }
    /// ```
    pub fn update_gallery(&self, id: &GalleryId) -> UpdateGallery {
        UpdateGallery {
            client: self.client.clone(),
            id: id.clone(),
            attributes: serde_json::Map::new(),
        }
    }
}

/// Changes a gallery; see [`Provisional::update_gallery`]. *Provisional.*
#[derive(Debug, Clone)]
#[must_use = "call `.send()` to change the gallery"]
pub struct UpdateGallery {
    client: Client,
    id: GalleryId,
    attributes: serde_json::Map<String, serde_json::Value>,
}

impl UpdateGallery {
    /// A new name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.attributes.insert("name".into(), name.into().into());
        self
    }
    /// A new description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.attributes
            .insert("description".into(), text.into().into());
        self
    }
    /// Whether it is listed on the public website (sent as a JSON boolean, as v4 attributes are).
    pub fn listed(mut self, yes: bool) -> Self {
        self.attributes.insert("f_list".into(), yes.into());
        self
    }

    /// Sends the change and returns the gallery as it is afterwards.
    #[tracing::instrument(skip(self), fields(gallery = %self.id))]
    pub async fn send(self) -> Result<Gallery> {
        if self.attributes.is_empty() {
            return Err(Error::invalid("update_gallery", "changes nothing"));
        }
        if self
            .attributes
            .get("name")
            .and_then(|v| v.as_str())
            .is_some_and(|n| n.trim().is_empty())
        {
            return Err(Error::invalid("name", "a gallery needs a name"));
        }
        let body = json!({"data": {"type": "gallery", "attributes": self.attributes}});
        let call = v4(Method::PATCH, format!("galleries/{}", self.id), Some(body));
        let (_, bytes) = self.client.inner.send_bytes(&call).await?;
        let resource: Resource = decode_v4(&call.endpoint(), &bytes)?;
        let mut record = resource.attributes;
        let id = resource.id.unwrap_or_else(|| self.id.to_string());
        record.insert("gallery_id".into(), id.into());
        let text = serde_json::Value::Object(record).to_string();
        decode(
            &format!("{} (data.attributes)", call.endpoint()),
            text.as_bytes(),
        )
    }
}
