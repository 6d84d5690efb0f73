//! Static assets, embedded in the binary. Files whose name carries their version (htmx) are
//! cached for a year as immutable: a new version is a new address. The others are cached for an
//! hour, since their address stays the same when they change.
//!
//! `htmx.min.js` is htmx 2.0.11 (<https://htmx.org>, BSD Zero Clause License, which asks for no
//! notice), taken unchanged from the `htmx.org@2.0.11` npm package's `dist/htmx.min.js`. To
//! upgrade, replace the file and bump [`HTMX_VERSION`] and the path in `templates/base.html`.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The embedded htmx release; its file is served as `htmx-{HTMX_VERSION}.min.js`.
pub const HTMX_VERSION: &str = "2.0.11";

const HOUR: &str = "public, max-age=3600";
const FOREVER: &str = "public, max-age=31536000, immutable";

/// Name, content type, cache policy, body.
const ASSETS: &[(&str, &str, &str, &str)] = &[
    (
        "souk.css",
        "text/css; charset=utf-8",
        HOUR,
        include_str!("../../assets/souk.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        HOUR,
        include_str!("../../assets/favicon.svg"),
    ),
    (
        "htmx-2.0.11.min.js",
        "text/javascript; charset=utf-8",
        FOREVER,
        include_str!("../../assets/htmx.min.js"),
    ),
];

pub async fn serve(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, ..)| *name == path) {
        Some((_, mime, cache, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, *cache),
            ],
            *body,
        )
            .into_response(),
        None => super::error_page(StatusCode::NOT_FOUND, "There is no such file."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_htmx_file_is_named_for_its_version() {
        let name = format!("htmx-{HTMX_VERSION}.min.js");
        let (_, _, cache, body) = ASSETS.iter().find(|(n, ..)| *n == name).unwrap();
        assert_eq!(*cache, FOREVER);
        assert!(body.starts_with("var htmx=function()"));
        assert!(body.contains(&format!(r#"version:"{HTMX_VERSION}""#)));
        // The template links the same address.
        let base = include_str!("../../templates/base.html");
        assert!(base.contains(&format!(r#"src="/assets/{name}" defer"#)));
    }
}
