//! Changes to the library: creating containers, adding, moving and deleting images.

use super::{
    Collection, Ctx, Gallery, Image, LibError, Library, Mode, NewContainer, UPLOADS_GALLERY,
    not_found, now,
};
use crate::ids::{self, Kind};

impl Library {
    /// Checks a new collection or gallery (`kind`): its name, its parent, and that no
    /// sibling of the same kind has its name. Returns the organisation it belongs to.
    fn check_new(
        &self,
        kind: Kind,
        ctx: &Ctx,
        new: &NewContainer,
    ) -> Result<Option<String>, LibError> {
        if new.name.trim().is_empty()
            || new.name.chars().count() > 255
            || new.name.chars().any(char::is_control)
        {
            return Err(LibError::Invalid {
                field: "name",
                message: "must be 1 to 255 characters, without control characters".into(),
            });
        }
        let parent = new.parent.as_deref();
        let org = self.library_of(ctx, parent)?;
        let same = |p: &Option<String>, o: &Option<String>, name: &str| {
            p.as_deref() == parent && o == &org && name == new.name
        };
        let clash = match kind {
            Kind::Collection => self
                .collections
                .values()
                .any(|c| same(&c.parent, &c.org, &c.name)),
            _ => self
                .galleries
                .values()
                .any(|g| same(&g.parent, &g.org, &g.name)),
        };
        if clash {
            return Err(LibError::Conflict {
                what: kind.noun(),
                name: new.name.clone(),
                parent: parent.unwrap_or("root").to_owned(),
            });
        }
        Ok(org)
    }

    pub(crate) fn insert_collection(
        &mut self,
        ctx: &Ctx,
        new: NewContainer,
    ) -> Result<&Collection, LibError> {
        let org = self.check_new(Kind::Collection, ctx, &new)?;
        let (id, ts, seq) = (ids::new_id(Kind::Collection), now(), self.seq());
        let c = Collection {
            id: id.clone(),
            name: new.name,
            description: new.description,
            f_list: new.f_list,
            mode: new.mode,
            parent: new.parent,
            org,
            created_at: ts.clone(),
            modified_at: ts,
            seq,
        };
        Ok(self.collections.entry(id).or_insert(c))
    }

    pub(crate) fn insert_gallery(
        &mut self,
        ctx: &Ctx,
        new: NewContainer,
    ) -> Result<&Gallery, LibError> {
        let org = self.check_new(Kind::Gallery, ctx, &new)?;
        let (id, ts, seq) = (ids::new_id(Kind::Gallery), now(), self.seq());
        let g = Gallery {
            id: id.clone(),
            name: new.name,
            description: new.description,
            f_list: new.f_list,
            mode: new.mode,
            parent: new.parent,
            org,
            created_at: ts.clone(),
            modified_at: ts,
            seq,
            images: Vec::new(),
        };
        Ok(self.galleries.entry(id).or_insert(g))
    }

    /// The gallery a `parent_id` upload lands in: the collection's `Uploads` gallery.
    pub(crate) fn uploads_gallery(
        &mut self,
        ctx: &Ctx,
        collection: &str,
    ) -> Result<String, LibError> {
        self.collection(ctx, collection)?;
        if let Some(g) = self
            .galleries
            .values()
            .find(|g| g.parent.as_deref() == Some(collection) && g.name == UPLOADS_GALLERY)
        {
            return Ok(g.id.clone());
        }
        let new = NewContainer {
            name: UPLOADS_GALLERY.into(),
            parent: Some(collection.to_owned()),
            description: String::new(),
            f_list: false,
            mode: Mode::Private,
        };
        Ok(self.insert_gallery(ctx, new)?.id.clone())
    }

    /// Adds a stored image to a gallery (the gallery's owner becomes the image's owner).
    pub(crate) fn insert_image(
        &mut self,
        mut image: Image,
        gallery: &str,
    ) -> Result<&Image, LibError> {
        let g = self
            .galleries
            .get_mut(gallery)
            .ok_or_else(|| not_found(Kind::Gallery, gallery))?;
        g.images.push(image.id.clone());
        g.modified_at = now();
        image.org = g.org.clone();
        image.galleries = vec![gallery.to_owned()];
        image.seq = self.seq();
        let id = image.id.clone();
        Ok(self.images.entry(id).or_insert(image))
    }

    /// Adds an existing image to a gallery; a no-op when it is already there.
    pub(crate) fn link_image(
        &mut self,
        ctx: &Ctx,
        gallery: &str,
        image: &str,
    ) -> Result<(), LibError> {
        self.gallery(ctx, gallery)?;
        self.image(ctx, image)?;
        let already = self
            .images
            .get(image)
            .is_some_and(|i| i.galleries.iter().any(|g| g == gallery));
        if !already {
            if let Some(g) = self.galleries.get_mut(gallery) {
                g.images.push(image.to_owned());
                g.modified_at = now();
            }
            if let Some(i) = self.images.get_mut(image) {
                i.galleries.push(gallery.to_owned());
            }
        }
        Ok(())
    }

    /// Removes an image from a gallery (the image itself stays in the library).
    pub(crate) fn unlink_image(
        &mut self,
        ctx: &Ctx,
        gallery: &str,
        image: &str,
    ) -> Result<(), LibError> {
        self.gallery(ctx, gallery)?;
        self.image(ctx, image)?;
        let g = self
            .galleries
            .get_mut(gallery)
            .ok_or_else(|| not_found(Kind::Gallery, gallery))?;
        let before = g.images.len();
        g.images.retain(|i| i != image);
        if g.images.len() == before {
            return Err(not_found(Kind::Image, image));
        }
        g.modified_at = now();
        if let Some(i) = self.images.get_mut(image) {
            i.galleries.retain(|x| x != gallery);
        }
        Ok(())
    }

    /// Deletes an image everywhere; returns its original's relative path so it can be removed.
    pub(crate) fn delete_image(&mut self, ctx: &Ctx, image: &str) -> Result<String, LibError> {
        self.image(ctx, image)?;
        let removed = self
            .images
            .remove(image)
            .ok_or_else(|| not_found(Kind::Image, image))?;
        for gid in &removed.galleries {
            if let Some(g) = self.galleries.get_mut(gid) {
                g.images.retain(|i| i != image);
            }
        }
        Ok(removed.file)
    }
}
