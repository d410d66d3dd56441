//! Collections, galleries and gallery images (wire-format.md § 7).

use axum::Extension;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::records::{self, Extend, Fields, LinkParams};
use super::{ApiResult, Paging, Params, check_id, ok, ok_page};
use crate::ids::Kind;
use crate::library::{Ctx, Library};
use crate::state::{AppState, SessionCtx};

pub(crate) fn ctx(s: &SessionCtx) -> Ctx {
    Ctx {
        org: s.org.clone(),
        admin: false,
    }
}

/// `root` or a collection id.
fn parent_arg(id: &str) -> ApiResult<Option<&str>> {
    if id == "root" {
        return Ok(None);
    }
    check_id(id, Kind::Collection)?;
    Ok(Some(id))
}

fn root_record(lib: &Library, c: &Ctx) -> Value {
    let created = lib
        .collections
        .values()
        .filter(|x| x.org == c.org)
        .map(|x| x.created_at.as_str())
        .min()
        .unwrap_or("1970-01-01 00:00:00")
        .to_owned();
    json!({
        "collection_id": "root",
        "name": "root",
        "description": "",
        "f_list": "t",
        "mode": "everyone",
        "effective_mode": "everyone",
        "created_at": created,
        "modified_at": created,
    })
}

/// `GET mem/collection/{id}` (`root` allowed).
pub(crate) async fn collection(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let parent = parent_arg(&id)?;
    let lib = state.lib();
    let rec = match parent {
        None => root_record(&lib, &ctx(&s)),
        Some(id) => records::collection(&lib, lib.collection(&ctx(&s), id)?),
    };
    Ok(ok(
        json!({"Collection": Fields::parse(p.get("fields")).apply(rec)}),
    ))
}

/// `GET mem/collection/{id}/children` (`root` allowed): collections first, then galleries,
/// paged over the combined list.
pub(crate) async fn children(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let parent = parent_arg(&id)?;
    let paging = Paging::from_params(&p)?;
    let lib = state.lib();
    let (cols, gals) = lib.children(&ctx(&s), parent)?;
    let fields = Fields::parse(p.get("fields"));
    let all: Vec<Value> = cols
        .iter()
        .map(|c| records::collection(&lib, c))
        .chain(gals.iter().map(|g| records::gallery(&lib, g)))
        .collect();
    let (page, more) = paging.slice(&all);
    let (mut c_out, mut g_out) = (Vec::new(), Vec::new());
    for v in page {
        let is_collection = v.get("collection_id").is_some();
        let v = fields.apply(v.clone());
        if is_collection {
            c_out.push(v)
        } else {
            g_out.push(v)
        }
    }
    Ok(ok_page(
        "Children",
        json!({"Collection": c_out, "Gallery": g_out}),
        more,
    ))
}

/// `GET mem/gallery/{id}`.
pub(crate) async fn gallery(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    check_id(&id, Kind::Gallery)?;
    let lib = state.lib();
    let g = lib.gallery(&ctx(&s), &id)?;
    Ok(ok(
        json!({"Gallery": Fields::parse(p.get("fields")).apply(records::gallery(&lib, g))}),
    ))
}

/// `GET mem/gallery/query` with optional `parent`.
pub(crate) async fn gallery_query(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    p: Params,
) -> ApiResult {
    let parent = match p.get("parent") {
        None => None,
        Some(id) => parent_arg(id)?,
    };
    let paging = Paging::from_params(&p)?;
    let lib = state.lib();
    let c = ctx(&s);
    let gals = match parent {
        Some(_) => lib.galleries_in(&c, parent)?,
        // `parent=root` lists the top level only; no parent lists every gallery.
        None if p.get("parent").is_some() => lib.children(&c, None)?.1,
        None => lib.galleries_in(&c, None)?,
    };
    let (page, more) = paging.slice(&gals);
    let fields = Fields::parse(p.get("fields"));
    let list: Vec<Value> = page
        .iter()
        .map(|g| fields.apply(records::gallery(&lib, g)))
        .collect();
    Ok(ok_page("Gallery", Value::from(list), more))
}

/// `GET mem/gallery/{id}/images` with `extend` for `Image`, `Iptc` and `ImageLink`.
pub(crate) async fn gallery_images(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    check_id(&id, Kind::Gallery)?;
    let paging = Paging::from_params(&p)?;
    let ext = Extend::parse(p.get("extend"))?;
    let link = ext.link.as_ref().map(LinkParams::from_spec).transpose()?;
    let fields = Fields::parse(p.get("fields"));
    let lib = state.lib();
    let g = lib.gallery(&ctx(&s), &id)?;
    let (page, more) = paging.slice(&g.images);
    let mut list = Vec::with_capacity(page.len());
    for image_id in page {
        let Some(img) = lib.images.get(image_id) else {
            continue;
        };
        let mut row = fields.apply(json!({"image_id": img.id, "f_visible": "t"}));
        if ext.image.is_some() || ext.iptc.is_some() {
            let image_fields = match &ext.image {
                Some(spec) => spec.fields.clone(),
                None => Fields::parse(Some("image_id")),
            };
            row["Image"] = records::image_extended(
                &state.base_url,
                &state.link_secret,
                img,
                &image_fields,
                ext.iptc.as_ref(),
                None,
            );
        }
        if let Some(lp) = &link {
            row["ImageLink"] = records::image_link(&state.base_url, &state.link_secret, img, lp);
        }
        list.push(row);
    }
    Ok(ok_page("GalleryImage", Value::from(list), more))
}
