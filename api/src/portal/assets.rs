//! The portal's stylesheet and htmx, vendored in `assets/` and served from the binary with
//! a long cache life (their URLs carry a hash of the content).

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "assets/"]
#[include = "*.css"]
#[include = "*.js"]
struct Assets;

/// `/assets/<hash>/<file>`: the hash changes when the file does, so it may be cached long.
pub async fn serve(Path((_, file)): Path<(String, String)>) -> Response {
    let Some(asset) = Assets::get(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let media = if file.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        "text/javascript; charset=utf-8"
    };
    (
        [
            (CONTENT_TYPE, media),
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.data,
    )
        .into_response()
}

/// The URL of an asset, with the hash of its content.
pub fn url(file: &'static str) -> &'static str {
    static URLS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    let urls = URLS.get_or_init(|| {
        Assets::iter()
            .filter_map(|name| {
                let asset = Assets::get(&name)?;
                let hash: String = asset.metadata.sha256_hash()[..6]
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect();
                Some((name.to_string(), format!("/assets/{hash}/{name}")))
            })
            .collect()
    });
    urls.iter()
        .find(|(name, _)| name == file)
        .map(|(_, url)| url.as_str())
        .unwrap_or("/assets/missing")
}
