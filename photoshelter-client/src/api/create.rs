//! Creating a collection or a gallery (`POST mem/{collection|gallery}/insert`): one
//! request builder, generated for each.

use crate::api::collections::CollectionData;
use crate::api::fetch_v3;
use crate::api::galleries::GalleryData;
use crate::client::Client;
use crate::decode::tf;
use crate::error::{Error, Result};
use crate::id::CollectionId;
use crate::models::{Collection, Gallery, Mode};
use crate::transport::Call;

macro_rules! create_request {
    (
        $(#[$doc:meta])* $name:ident => $record:ident, noun = $noun:literal,
        path = $path:literal, reply = |$data:ident: $data_ty:ty| $take:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        #[must_use = concat!("call `.send()` to create the ", $noun)]
        pub struct $name {
            client: Client,
            name: String,
            parent: Option<CollectionId>,
            description: Option<String>,
            listed: Option<bool>,
            mode: Option<Mode>,
        }

        impl $name {
            pub(crate) fn new(client: Client, name: String) -> Self {
                Self {
                    client,
                    name,
                    parent: None,
                    description: None,
                    listed: None,
                    mode: None,
                }
            }
            /// The parent collection (default: the top of the tree).
            pub fn parent(mut self, parent: &CollectionId) -> Self {
                self.parent = Some(parent.clone());
                self
            }
            /// A description.
            pub fn description(mut self, text: impl Into<String>) -> Self {
                self.description = Some(text.into());
                self
            }
            /// Whether it is listed on the public website.
            pub fn listed(mut self, yes: bool) -> Self {
                self.listed = Some(yes);
                self
            }
            /// Who may see it.
            pub fn mode(mut self, mode: Mode) -> Self {
                self.mode = Some(mode);
                self
            }

            /// Creates it. Not repeated after an unknown outcome (it is not idempotent).
            #[tracing::instrument(skip(self), fields(name = %self.name))]
            pub async fn send(self) -> Result<$record> {
                if self.name.trim().is_empty() {
                    return Err(Error::invalid("name", concat!("a ", $noun, " needs a name")));
                }
                let mut form = vec![("name", self.name)];
                if let Some(p) = self.parent.filter(|p| !p.is_root()) {
                    form.push(("parent", p.to_string()));
                }
                if let Some(d) = self.description {
                    form.push(("description", d));
                }
                if let Some(l) = self.listed {
                    form.push(("f_list", tf(l).to_owned()));
                }
                if let Some(m) = self.mode {
                    form.push(("mode", m.as_str().to_owned()));
                }
                let $data: $data_ty = fetch_v3(&self.client, &Call::post_form($path, form)).await?;
                Ok($take)
            }
        }
    };
}

create_request!(
    /// Creates a collection; see [`Collections::create`](crate::Collections::create).
    CreateCollection => Collection, noun = "collection", path = "mem/collection/insert",
    reply = |data: CollectionData| data.collection
);

create_request!(
    /// Creates a gallery; see [`Galleries::create`](crate::Galleries::create).
    CreateGallery => Gallery, noun = "gallery", path = "mem/gallery/insert",
    reply = |data: GalleryData| data.gallery
);
