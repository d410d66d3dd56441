//! Image records, IPTC, galleries, links and search (wire-format.md § 7).

use axum::Extension;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::browse::ctx;
use super::records::{self, Extend, Fields, LinkParams};
use super::{ApiError, ApiResult, Paging, Params, check_id, ok, ok_page};
use crate::ids::Kind;
use crate::state::{AppState, SessionCtx};

/// `GET mem/image/{id}` (with `fields`, and `extend` for `Iptc`/`ImageLink`).
pub(crate) async fn image(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    check_id(&id, Kind::Image)?;
    let ext = Extend::parse(p.get("extend"))?;
    let link = ext.link.as_ref().map(LinkParams::from_spec).transpose()?;
    let lib = state.lib();
    let img = lib.image(&ctx(&s), &id)?;
    let rec = records::image_extended(
        &state.base_url,
        &state.link_secret,
        img,
        &Fields::parse(p.get("fields")),
        ext.iptc.as_ref(),
        link.as_ref(),
    );
    Ok(ok(json!({"Image": rec})))
}

/// `GET mem/image/{id}/iptc`.
pub(crate) async fn iptc(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    check_id(&id, Kind::Image)?;
    let lib = state.lib();
    let img = lib.image(&ctx(&s), &id)?;
    Ok(ok(
        json!({"Iptc": Fields::parse(p.get("fields")).apply(records::iptc(img))}),
    ))
}

/// `GET mem/image/{id}/galleries`: the galleries holding the image.
pub(crate) async fn galleries(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
) -> ApiResult {
    check_id(&id, Kind::Image)?;
    let lib = state.lib();
    let img = lib.image(&ctx(&s), &id)?;
    let list: Vec<Value> = img
        .galleries
        .iter()
        .filter_map(|g| lib.galleries.get(g))
        .map(|g| records::gallery(&lib, g))
        .collect();
    Ok(ok(json!({"ImageGallery": list})))
}

/// `GET mem/image/{id}/link` with `image_size`, `image_mode`, `f_https_link`.
pub(crate) async fn link(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    check_id(&id, Kind::Image)?;
    let lp = LinkParams::parse(p.get("image_size"), p.get("image_mode"))?;
    // Accepted for compatibility; the emulator serves plain HTTP.
    p.flag("f_https_link")?;
    let lib = state.lib();
    let img = lib.image(&ctx(&s), &id)?;
    Ok(ok(
        json!({"ImageLink": records::image_link(&state.base_url, &state.link_secret, img, &lp)}),
    ))
}

/// `terms` as words, or as a JSON array of strings.
fn parse_terms(raw: &str) -> ApiResult<Vec<String>> {
    let raw = raw.trim();
    let terms: Vec<String> = if raw.starts_with('[') {
        serde_json::from_str::<Vec<String>>(raw)
            .map_err(|e| ApiError::invalid(format!("terms: not a JSON array of strings ({e})")))?
            .iter()
            .flat_map(|t| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .collect()
    } else {
        raw.split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if terms.is_empty() {
        return Err(ApiError::invalid(
            "terms: at least one search word is required",
        ));
    }
    Ok(terms)
}

/// `GET mem/image/search` with `terms`, optional `gallery_id`, paging and `extend`.
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    p: Params,
) -> ApiResult {
    let terms = parse_terms(
        p.get("terms")
            .ok_or_else(|| ApiError::invalid("terms: required"))?,
    )?;
    let gallery = p.get("gallery_id");
    if let Some(g) = gallery {
        check_id(g, Kind::Gallery)?;
    }
    let paging = Paging::from_params(&p)?;
    let ext = Extend::parse(p.get("extend"))?;
    let link = ext.link.as_ref().map(LinkParams::from_spec).transpose()?;
    let fields = match &ext.image {
        Some(spec) => spec.fields.clone(),
        None => Fields::parse(p.get("fields")),
    };
    let lib = state.lib();
    let hits = lib.search(&ctx(&s), &terms, gallery)?;
    let (page, more) = paging.slice(&hits);
    let list: Vec<Value> = page
        .iter()
        .map(|i| {
            records::image_extended(
                &state.base_url,
                &state.link_secret,
                i,
                &fields,
                ext.iptc.as_ref(),
                link.as_ref(),
            )
        })
        .collect();
    Ok(ok_page("Results", Value::from(list), more))
}
