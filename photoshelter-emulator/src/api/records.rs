//! v3 records built by hand from the reference (wire-format.md § 6), plus the `fields`
//! projection and the `extend` parameter.

use std::collections::HashSet;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{ApiError, ApiResult};
use crate::library::{Collection, Gallery, Image, Library};

/// The IPTC field names of wire-format.md § 8, always present in an `Iptc` record
/// (`null` when unset); other stored names are added after them.
pub(crate) const IPTC_FIELDS: [&str; 19] = [
    "title",
    "headline",
    "caption",
    "caption_writer",
    "keyword",
    "author",
    "author_title",
    "credit",
    "source",
    "copyright",
    "usage_terms",
    "special_instructions",
    "transmission_reference",
    "date_created",
    "sublocation",
    "city",
    "state",
    "country",
    "country_code",
];

pub(crate) fn tf(b: bool) -> &'static str {
    if b { "t" } else { "f" }
}

pub(crate) fn collection(lib: &Library, c: &Collection) -> Value {
    json!({
        "collection_id": c.id,
        "name": c.name,
        "description": c.description,
        "f_list": tf(c.f_list),
        "mode": c.mode.as_str(),
        "effective_mode": lib.effective_mode(c.mode, c.parent.as_deref()).as_str(),
        "created_at": c.created_at,
        "modified_at": c.modified_at,
    })
}

pub(crate) fn gallery(lib: &Library, g: &Gallery) -> Value {
    json!({
        "gallery_id": g.id,
        "name": g.name,
        "description": g.description,
        "f_list": tf(g.f_list),
        "mode": g.mode.as_str(),
        "effective_mode": lib.effective_mode(g.mode, g.parent.as_deref()).as_str(),
        "created_at": g.created_at,
        "modified_at": g.modified_at,
    })
}

/// Numbers are strings, as in the reference's examples (`"file_size":"1234"`).
pub(crate) fn image(i: &Image) -> Value {
    json!({
        "image_id": i.id,
        "file_name": i.file_name,
        "file_size": i.file_size.to_string(),
        "width": i.width.to_string(),
        "height": i.height.to_string(),
        "f_searchable": tf(i.f_searchable),
        "model_released": tf(i.model_released),
        "property_released": tf(i.property_released),
        "rating": i.rating.to_string(),
        "uploaded_at": i.uploaded_at,
        "updated_at": i.updated_at,
    })
}

/// The IPTC fields as a JSON object: every known name (null when unset), then extras.
pub(crate) fn iptc_fields(i: &Image) -> Map<String, Value> {
    let mut m = Map::new();
    for name in IPTC_FIELDS {
        m.insert(
            name.into(),
            i.iptc
                .get(name)
                .map_or(Value::Null, |v| Value::String(v.clone())),
        );
    }
    for (k, v) in &i.iptc {
        m.entry(k.clone())
            .or_insert_with(|| Value::String(v.clone()));
    }
    m
}

pub(crate) fn iptc(i: &Image) -> Value {
    let mut m = Map::new();
    m.insert("image_id".into(), Value::String(i.id.clone()));
    m.extend(iptc_fields(i));
    Value::Object(m)
}

/// `fields=a,b` projection (`*` or absent = all). Nested records (capitalised keys) stay.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(Option<HashSet<String>>);

impl Fields {
    pub(crate) fn parse(spec: Option<&str>) -> Fields {
        match spec.map(str::trim) {
            None | Some("") | Some("*") => Fields(None),
            Some(s) => Fields(Some(s.split(',').map(|f| f.trim().to_owned()).collect())),
        }
    }

    pub(crate) fn apply(&self, mut v: Value) -> Value {
        if let (Some(keep), Value::Object(m)) = (&self.0, &mut v) {
            m.retain(|k, _| keep.contains(k) || k.starts_with(|c: char| c.is_ascii_uppercase()));
        }
        v
    }
}

/// One entry of `extend`: `{"fields": "...", "params": {...}}`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtSpec {
    pub fields: Fields,
    pub params: Map<String, Value>,
}

/// The `extend` parameter: which related records to nest.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extend {
    pub image: Option<ExtSpec>,
    pub iptc: Option<ExtSpec>,
    pub link: Option<ExtSpec>,
}

impl Extend {
    /// Parses the JSON object; unknown record names are ignored (the service has many).
    pub(crate) fn parse(raw: Option<&str>) -> ApiResult<Extend> {
        let Some(raw) = raw.filter(|s| !s.trim().is_empty()) else {
            return Ok(Extend::default());
        };
        let v: Value = serde_json::from_str(raw)
            .map_err(|e| ApiError::invalid(format!("extend: not valid JSON ({e})")))?;
        let Value::Object(map) = v else {
            return Err(ApiError::invalid(
                "extend: expected a JSON object keyed by record name",
            ));
        };
        let spec = |name: &str| -> ApiResult<Option<ExtSpec>> {
            match map.get(name) {
                None => Ok(None),
                Some(Value::Object(o)) => {
                    let fields = match o.get("fields") {
                        None | Some(Value::Null) => Fields::default(),
                        Some(Value::String(s)) => Fields::parse(Some(s)),
                        Some(_) => {
                            return Err(ApiError::invalid(format!(
                                "extend.{name}.fields: expected a string"
                            )));
                        }
                    };
                    let params = match o.get("params") {
                        None | Some(Value::Null) => Map::new(),
                        Some(Value::Object(p)) => p.clone(),
                        Some(_) => {
                            return Err(ApiError::invalid(format!(
                                "extend.{name}.params: expected an object"
                            )));
                        }
                    };
                    Ok(Some(ExtSpec { fields, params }))
                }
                Some(_) => Err(ApiError::invalid(format!(
                    "extend.{name}: expected an object"
                ))),
            }
        };
        Ok(Extend {
            image: spec("Image")?,
            iptc: spec("Iptc")?,
            link: spec("ImageLink")?,
        })
    }
}

/// `image_size` and `image_mode` of an image link.
#[derive(Debug, Clone)]
pub(crate) struct LinkParams {
    pub size: String,
    pub mode: String,
}

impl LinkParams {
    pub(crate) const DEFAULT_SIZE: &'static str = "1000x1000";

    pub(crate) fn parse(size: Option<&str>, mode: Option<&str>) -> ApiResult<LinkParams> {
        let size = size.unwrap_or(Self::DEFAULT_SIZE);
        let dim = |s: &str| s.parse::<u32>().is_ok_and(|n| (1..=10_000).contains(&n));
        let valid = match size.split_once('x') {
            Some(("", h)) => dim(h),
            Some((w, h)) => dim(w) && dim(h),
            None => dim(size),
        };
        if !valid {
            return Err(ApiError::invalid(format!(
                "image_size: expected WxH, xH or W (1 to 10000 pixels), got {size:?}"
            )));
        }
        let mode = mode.unwrap_or("fit");
        if mode != "fit" && mode != "fill" {
            return Err(ApiError::invalid(format!(
                "image_mode: expected \"fit\" or \"fill\", got {mode:?}"
            )));
        }
        Ok(LinkParams {
            size: size.to_owned(),
            mode: mode.to_owned(),
        })
    }

    pub(crate) fn from_spec(spec: &ExtSpec) -> ApiResult<LinkParams> {
        let get = |k: &str| spec.params.get(k).and_then(Value::as_str);
        Self::parse(get("image_size"), get("image_mode"))
    }
}

/// The file name's stem as a URL slug.
fn slug(file_name: &str) -> String {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
    let mut out = String::new();
    for c in stem.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "image".into()
    } else {
        out.into()
    }
}

/// The `sec=` signature of an image's `auth_link`.
pub(crate) fn link_signature(secret: &str, image_id: &str) -> String {
    let digest = Sha256::digest(format!("{secret}:{image_id}").as_bytes());
    let hex = hex::encode(digest);
    hex.get(..16).unwrap_or(&hex).to_owned()
}

/// `ImageLink`: `link`, `auth_link` and `base` on the emulator's own `/img-get2/` paths.
pub(crate) fn image_link(base_url: &str, secret: &str, i: &Image, p: &LinkParams) -> Value {
    let base = format!("{base_url}/img-get2/{}/", i.id);
    let tail = format!("{}={}/{}.jpg", p.mode, p.size, slug(&i.file_name));
    json!({
        "link": format!("{base}{tail}"),
        "auth_link": format!("{base}sec={}/{tail}", link_signature(secret, &i.id)),
        "base": base,
    })
}

/// An `Image` record with the `Iptc` and `ImageLink` extensions nested in it.
pub(crate) fn image_extended(
    base_url: &str,
    secret: &str,
    i: &Image,
    fields: &Fields,
    iptc_spec: Option<&ExtSpec>,
    link: Option<&LinkParams>,
) -> Value {
    let mut v = fields.apply(image(i));
    if let Value::Object(m) = &mut v {
        if let Some(spec) = iptc_spec {
            m.insert("Iptc".into(), spec.fields.apply(iptc(i)));
        }
        if let Some(p) = link {
            m.insert("ImageLink".into(), image_link(base_url, secret, i, p));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("My Photo (1).JPG"), "my-photo-1");
        assert_eq!(slug("..."), "image");
        assert_eq!(slug("été.jpg"), "t");
    }

    #[test]
    fn link_params() {
        assert!(LinkParams::parse(Some("500x500"), None).is_ok());
        assert!(LinkParams::parse(Some("x700"), Some("fill")).is_ok());
        assert!(LinkParams::parse(Some("800"), None).is_ok());
        assert!(LinkParams::parse(Some("0x5"), None).is_err());
        assert!(LinkParams::parse(Some("big"), None).is_err());
        assert!(LinkParams::parse(None, Some("crop")).is_err());
    }

    #[test]
    fn extend_parsing() {
        let e = Extend::parse(Some(r#"{"Image":{"fields":"image_id"},"Iptc":{"fields":"*"},"ImageLink":{"params":{"image_size":"500x500"}},"Other":{}}"#)).unwrap();
        assert!(e.image.is_some() && e.iptc.is_some() && e.link.is_some());
        assert!(Extend::parse(Some("{not json")).is_err());
        assert!(Extend::parse(Some("[1]")).is_err());
        assert!(Extend::parse(Some(r#"{"Image":3}"#)).is_err());
    }
}
