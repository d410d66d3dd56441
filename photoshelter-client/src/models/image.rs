use serde::{Deserialize, Serialize};

use crate::decode::{opt_bool, opt_num, opt_string};
use crate::id::ImageId;
use crate::models::{Extra, Iptc};

/// An image record (`data.Image`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Image {
    /// The image id.
    #[serde(rename = "image_id")]
    pub id: ImageId,
    /// The original's file name.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub file_name: Option<String>,
    /// The original's size in bytes.
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub file_size: Option<u64>,
    /// Width in pixels.
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub height: Option<u32>,
    /// Whether the image shows up in searches (`f_searchable`).
    #[serde(
        rename = "f_searchable",
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub searchable: Option<bool>,
    /// Whether a model release is on file.
    #[serde(
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub model_released: Option<bool>,
    /// Whether a property release is on file.
    #[serde(
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub property_released: Option<bool>,
    /// Star rating.
    #[serde(
        default,
        deserialize_with = "opt_num",
        skip_serializing_if = "Option::is_none"
    )]
    pub rating: Option<i32>,
    /// Upload time, `YYYY-MM-DD HH:MM:SS` in the account time zone.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub uploaded_at: Option<String>,
    /// Last change, `YYYY-MM-DD HH:MM:SS` in the account time zone.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated_at: Option<String>,
    /// The IPTC record, when asked for with the `Iptc` extension.
    #[serde(rename = "Iptc", default, skip_serializing_if = "Option::is_none")]
    pub iptc: Option<Iptc>,
    /// Other fields of the record.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A rendering URL of an image (`data.ImageLink`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct ImageLink {
    /// The URL of the rendition (`…/img-get2/I…/fit=WxH/…`).
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub link: Option<String>,
    /// A second URL for authorised viewing.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_link: Option<String>,
    /// A base URL for building other sizes.
    #[serde(
        default,
        deserialize_with = "opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub base: Option<String>,
}

/// One image's membership in a gallery (`data.GalleryImage[]`), with the extensions that
/// were asked for.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct GalleryImage {
    /// The image id.
    pub image_id: ImageId,
    /// Whether the image is visible in this gallery (`f_visible`).
    #[serde(
        rename = "f_visible",
        default,
        deserialize_with = "opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub visible: Option<bool>,
    /// The image record (`Image` extension).
    #[serde(rename = "Image", default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// A rendering URL (`ImageLink` extension).
    #[serde(rename = "ImageLink", default, skip_serializing_if = "Option::is_none")]
    pub link: Option<ImageLink>,
    /// IPTC placed beside the image rather than inside it (accepted for tolerance).
    #[serde(rename = "Iptc", default, skip_serializing_if = "Option::is_none")]
    pub iptc: Option<Iptc>,
}

impl GalleryImage {
    /// The IPTC record, wherever the server nested it (`Image.Iptc` or `Iptc`).
    pub fn iptc(&self) -> Option<&Iptc> {
        self.image
            .as_ref()
            .and_then(|i| i.iptc.as_ref())
            .or(self.iptc.as_ref())
    }

    /// The file name, when the `Image` extension was asked for.
    pub fn file_name(&self) -> Option<&str> {
        self.image.as_ref().and_then(|i| i.file_name.as_deref())
    }
}
