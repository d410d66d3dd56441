//! Resource handlers (`client.galleries()`, …) and their owned request builders.

mod collections;
mod create;
mod galleries;
mod images;

pub use collections::{Collections, ListChildren};
pub use create::{CreateCollection, CreateGallery};
pub use galleries::{Galleries, GalleryImages, ListGalleries};
pub use images::{Images, LinkRequest, SearchImages};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::decode::decode_v3;
use crate::error::Result;
use crate::models::Mode;
use crate::transport::Call;

/// Sends a v3 call and decodes its `data`.
pub(crate) async fn fetch_v3<T: DeserializeOwned>(client: &Client, call: &Call) -> Result<T> {
    let (status, bytes) = client.inner.send_bytes(call).await?;
    decode_v3(&call.endpoint(), status, &bytes)
}

/// `POST mem/{collection|gallery}/{id}/visibility/update`.
pub(crate) async fn update_visibility(
    client: &Client,
    kind: &str,
    id: &str,
    mode: &Mode,
) -> Result<Mode> {
    #[derive(Deserialize)]
    struct Visibility {
        #[serde(default)]
        mode: Option<Mode>,
    }
    #[derive(Deserialize)]
    struct Data {
        #[serde(rename = "Visibility", default)]
        visibility: Option<Visibility>,
    }
    // Setting a mode twice has the same effect as once: safe to repeat.
    let call = Call::post_form(
        format!("mem/{kind}/{id}/visibility/update"),
        vec![("mode", mode.as_str().to_owned())],
    )
    .idempotent(true);
    let data: Data = fetch_v3(client, &call).await?;
    Ok(data
        .visibility
        .and_then(|v| v.mode)
        .unwrap_or_else(|| mode.clone()))
}
