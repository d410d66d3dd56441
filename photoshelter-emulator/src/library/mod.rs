//! The account's library in memory: collections, galleries, images and their metadata.
//!
//! Everything here is synchronous and runs under the `RwLock` in [`crate::state::Shared`];
//! nothing here awaits, so the lock is never held across an `.await`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::ids::Kind;

mod edit;

/// Name of the gallery that `parent_id` uploads go into, created in the collection on first use.
pub(crate) const UPLOADS_GALLERY: &str = "Uploads";

/// Who may see public-facing visibility: `everyone`, `permission` or `private`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    Everyone,
    Permission,
    Private,
}

impl Mode {
    pub(crate) fn parse(s: &str) -> Option<Mode> {
        match s {
            "everyone" => Some(Mode::Everyone),
            "permission" => Some(Mode::Permission),
            "private" => Some(Mode::Private),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Everyone => "everyone",
            Mode::Permission => "permission",
            Mode::Private => "private",
        }
    }
}

/// A collection: holds collections and galleries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Collection {
    pub id: String,
    pub name: String,
    pub description: String,
    pub f_list: bool,
    pub mode: Mode,
    /// `None` = top level of its library.
    pub parent: Option<String>,
    /// `Some(org id)` when the object belongs to an organisation's library.
    pub org: Option<String>,
    pub created_at: String,
    pub modified_at: String,
    pub seq: u64,
}

/// A gallery: holds images (in upload/insertion order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Gallery {
    pub id: String,
    pub name: String,
    pub description: String,
    pub f_list: bool,
    pub mode: Mode,
    pub parent: Option<String>,
    pub org: Option<String>,
    pub created_at: String,
    pub modified_at: String,
    pub seq: u64,
    pub images: Vec<String>,
}

/// An image: its record, its IPTC fields and where its original lives in the data dir.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Image {
    pub id: String,
    pub file_name: String,
    pub file_size: u64,
    pub width: u32,
    pub height: u32,
    pub f_searchable: bool,
    pub model_released: bool,
    pub property_released: bool,
    pub rating: u8,
    pub uploaded_at: String,
    pub updated_at: String,
    pub iptc: BTreeMap<String, String>,
    pub org: Option<String>,
    pub galleries: Vec<String>,
    /// Path of the original, relative to the data directory.
    pub file: String,
    pub seq: u64,
}

/// Why a library operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LibError {
    NotFound {
        what: &'static str,
        id: String,
    },
    /// The object belongs to an organisation the caller has not entered.
    OrgContext {
        id: String,
    },
    Conflict {
        what: &'static str,
        name: String,
        parent: String,
    },
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// The caller's view: which organisation context it is in, or the emulator itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ctx {
    pub org: Option<String>,
    /// Seeding helpers and admin calls see everything.
    pub admin: bool,
}

impl Ctx {
    pub(crate) fn admin(org: Option<String>) -> Ctx {
        Ctx { org, admin: true }
    }

    fn allows(&self, id: &str, owner: &Option<String>) -> Result<(), LibError> {
        match owner {
            Some(org) if !self.admin && self.org.as_deref() != Some(org) => {
                Err(LibError::OrgContext { id: id.to_owned() })
            }
            _ => Ok(()),
        }
    }
}

/// Fields of a new collection or gallery.
#[derive(Debug, Clone)]
pub(crate) struct NewContainer {
    pub name: String,
    pub parent: Option<String>,
    pub description: String,
    pub f_list: bool,
    pub mode: Mode,
}

/// The whole library.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct Library {
    pub collections: HashMap<String, Collection>,
    pub galleries: HashMap<String, Gallery>,
    pub images: HashMap<String, Image>,
    pub next_seq: u64,
}

/// Current time in the wire format's `YYYY-MM-DD HH:MM:SS` (the account time zone is UTC).
pub(crate) fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn not_found(kind: Kind, id: &str) -> LibError {
    LibError::NotFound {
        what: kind.noun(),
        id: id.to_owned(),
    }
}

/// An object by id, when it exists and the caller's context may see it.
fn lookup<'a, T>(
    objects: &'a HashMap<String, T>,
    kind: Kind,
    ctx: &Ctx,
    id: &str,
    owner: impl Fn(&T) -> &Option<String>,
) -> Result<&'a T, LibError> {
    let object = objects.get(id).ok_or_else(|| not_found(kind, id))?;
    ctx.allows(id, owner(object))?;
    Ok(object)
}

impl Library {
    pub(crate) fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub(crate) fn collection(&self, ctx: &Ctx, id: &str) -> Result<&Collection, LibError> {
        lookup(&self.collections, Kind::Collection, ctx, id, |c| &c.org)
    }

    pub(crate) fn gallery(&self, ctx: &Ctx, id: &str) -> Result<&Gallery, LibError> {
        lookup(&self.galleries, Kind::Gallery, ctx, id, |g| &g.org)
    }

    pub(crate) fn image(&self, ctx: &Ctx, id: &str) -> Result<&Image, LibError> {
        lookup(&self.images, Kind::Image, ctx, id, |i| &i.org)
    }

    /// The organisation whose library `parent` (a collection id, `None` = top level) is in.
    pub(crate) fn library_of(
        &self,
        ctx: &Ctx,
        parent: Option<&str>,
    ) -> Result<Option<String>, LibError> {
        match parent {
            Some(p) => Ok(self.collection(ctx, p)?.org.clone()),
            None => Ok(ctx.org.clone()),
        }
    }

    /// Children of a collection (`None` = the top level of the caller's library), each kind
    /// in creation order.
    pub(crate) fn children(
        &self,
        ctx: &Ctx,
        parent: Option<&str>,
    ) -> Result<(Vec<&Collection>, Vec<&Gallery>), LibError> {
        let org = self.library_of(ctx, parent)?;
        let mut cols: Vec<&Collection> = self
            .collections
            .values()
            .filter(|c| c.parent.as_deref() == parent && c.org == org)
            .collect();
        cols.sort_by_key(|c| c.seq);
        let mut gals: Vec<&Gallery> = self
            .galleries
            .values()
            .filter(|g| g.parent.as_deref() == parent && g.org == org)
            .collect();
        gals.sort_by_key(|g| g.seq);
        Ok((cols, gals))
    }

    /// Galleries directly under `parent`, or every gallery of the caller's library.
    pub(crate) fn galleries_in(
        &self,
        ctx: &Ctx,
        parent: Option<&str>,
    ) -> Result<Vec<&Gallery>, LibError> {
        let mut gals: Vec<&Gallery> = match parent {
            Some(p) => {
                self.collection(ctx, p)?;
                self.galleries
                    .values()
                    .filter(|g| g.parent.as_deref() == Some(p))
                    .collect()
            }
            None => self
                .galleries
                .values()
                .filter(|g| g.org == ctx.org)
                .collect(),
        };
        gals.sort_by_key(|g| g.seq);
        Ok(gals)
    }

    /// The most restrictive mode of the object and its ancestors.
    pub(crate) fn effective_mode(&self, mode: Mode, parent: Option<&str>) -> Mode {
        let mut eff = mode;
        let mut parent: Option<String> = parent.map(str::to_owned);
        // Bounded walk: a corrupt snapshot with a cycle cannot loop forever.
        for _ in 0..64 {
            let Some(p) = parent.as_deref().and_then(|p| self.collections.get(p)) else {
                break;
            };
            eff = eff.max(p.mode);
            parent = p.parent.clone();
        }
        eff
    }

    /// Images whose file name, title, caption or keywords contain every term
    /// (case-insensitive), optionally only in one gallery, in upload order.
    pub(crate) fn search(
        &self,
        ctx: &Ctx,
        terms: &[String],
        gallery: Option<&str>,
    ) -> Result<Vec<&Image>, LibError> {
        let terms: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
        let matches = |img: &Image| {
            let hay = [
                Some(img.file_name.as_str()),
                img.iptc.get("title").map(String::as_str),
                img.iptc.get("caption").map(String::as_str),
                img.iptc.get("keyword").map(String::as_str),
            ]
            .iter()
            .flatten()
            .map(|s| s.to_lowercase())
            .collect::<Vec<_>>()
            .join("\n");
            terms.iter().all(|t| hay.contains(t.as_str()))
        };
        let mut out: Vec<&Image> = match gallery {
            Some(g) => self
                .gallery(ctx, g)?
                .images
                .iter()
                .filter_map(|id| self.images.get(id))
                .filter(|i| matches(i))
                .collect(),
            None => {
                let mut v: Vec<&Image> = self
                    .images
                    .values()
                    .filter(|i| ctx.admin || i.org.is_none() || i.org == ctx.org)
                    .filter(|i| matches(i))
                    .collect();
                v.sort_by_key(|i| i.seq);
                v
            }
        };
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }
}
