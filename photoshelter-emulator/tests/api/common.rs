//! Helpers shared by the API tests: an emulator plus a plain reqwest client, and
//! hand-built JPEGs with APP13 (IPTC-IIM) and APP1 (XMP) segments.

use photoshelter_emulator::{Emulator, EmulatorBuilder};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

pub(crate) struct Api {
    pub(crate) emu: Emulator,
    pub(crate) http: reqwest::Client,
    pub(crate) token: Option<String>,
}

impl Api {
    pub(crate) async fn start() -> Api {
        Self::with(Emulator::builder()).await
    }

    pub(crate) async fn with(b: EmulatorBuilder) -> Api {
        let emu = b.start().await.expect("emulator starts");
        Api {
            emu,
            http: reqwest::Client::new(),
            token: None,
        }
    }

    /// Logged in as the default user.
    pub(crate) async fn logged_in() -> Api {
        let mut api = Self::start().await;
        api.login().await;
        api
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/psapi/v3/{}", self.emu.base_url(), path)
    }

    pub(crate) fn v4_url(&self, path: &str) -> String {
        format!("{}/psapi/v4.0/{}", self.emu.base_url(), path)
    }

    /// A request with the API key and (when logged in) the token.
    pub(crate) fn req(&self, method: Method, url: String) -> RequestBuilder {
        let mut r = self
            .http
            .request(method, url)
            .header("X-PS-Api-Key", self.emu.api_key());
        if let Some(t) = &self.token {
            r = r.header("X-PS-Auth-Token", t);
        }
        r
    }

    pub(crate) async fn login(&mut self) {
        let (status, body) = send(self.req(Method::POST, self.url("mem/authenticate")).form(&[
            ("email", self.emu.email()),
            ("password", self.emu.password()),
            ("mode", "token"),
        ]))
        .await;
        assert_eq!(status, 200, "{body}");
        self.token = Some(body["data"]["token"].as_str().expect("token").to_owned());
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.req(Method::GET, self.url(path))).await
    }

    pub(crate) async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        send(self.req(Method::POST, self.url(path)).form(form)).await
    }

    pub(crate) async fn upload(
        &self,
        gallery: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("gallery_id", gallery.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
            );
        send(
            self.req(Method::POST, self.url("mem/image/upload"))
                .multipart(form),
        )
        .await
    }
}

/// Sends and decodes a JSON body (Null when the body is empty).
pub(crate) async fn send(r: RequestBuilder) -> (StatusCode, Value) {
    let resp = r.send().await.expect("response");
    let status = resp.status();
    let bytes = resp.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("JSON body: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// Asserts a v3 error envelope.
#[track_caller]
pub(crate) fn assert_v3_error(status: StatusCode, body: &Value, want_status: u16, class: &str) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["error"]["class"], class, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Asserts a v4 error envelope.
#[track_caller]
pub(crate) fn assert_v4_error(status: StatusCode, body: &Value, want_status: u16, class: &str) {
    assert_eq!(status.as_u16(), want_status, "{body}");
    let e = &body["errors"][0];
    assert_eq!(e["id"], class, "{body}");
    assert_eq!(e["status"], want_status.to_string(), "{body}");
    assert!(e["title"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, marker];
    v.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// One IIM dataset.
pub(crate) fn iim(record: u8, number: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![0x1C, record, number];
    v.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// A small JPEG: SOI, optional APP13 (Photoshop 3.0 / 8BIM 0x0404 holding `iim_block`),
/// optional APP1 XMP, SOF0 with the given size, SOS and some fake scan data, EOI.
pub(crate) fn jpeg(
    width: u16,
    height: u16,
    iim_block: Option<&[u8]>,
    xmp: Option<&str>,
) -> Vec<u8> {
    let mut f = vec![0xFF, 0xD8];
    f.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    if let Some(block) = iim_block {
        let mut p = b"Photoshop 3.0\0".to_vec();
        p.extend_from_slice(b"8BIM\x04\x04\0\0");
        p.extend_from_slice(&u32::try_from(block.len()).unwrap().to_be_bytes());
        p.extend_from_slice(block);
        if block.len() % 2 == 1 {
            p.push(0);
        }
        f.extend(segment(0xED, &p));
    }
    if let Some(x) = xmp {
        let mut p = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        p.extend_from_slice(x.as_bytes());
        f.extend(segment(0xE1, &p));
    }
    let [wh, wl] = width.to_be_bytes();
    let [hh, hl] = height.to_be_bytes();
    f.extend(segment(
        0xC0,
        &[8, hh, hl, wh, wl, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1],
    ));
    f.extend(segment(0xDA, &[3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0]));
    f.extend((0..2048u32).map(|i| (i * 7 % 251) as u8));
    f.extend([0xFF, 0xD9]);
    f
}

/// An XMP packet with the given rdf:Description body.
pub(crate) fn xmp(body: &str) -> String {
    format!(
        r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
  xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/">{body}</rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#
    )
}
