//! How large a request body each route takes, in one place, and the check that refuses a body
//! whose declared `Content-Length` is over it before a byte of it is read.
//!
//! Most routes take small JSON or form bodies (`http.max_body_bytes`); package uploads take up to
//! `packages.max_upload_bytes`, image uploads up to [`MAX_IMAGE_BYTES`] (a web form adds room for
//! its other fields). The extractors enforce the same limits while they read (for bodies sent
//! without a length); the check here answers a declared oversize at once, with or without
//! `Expect: 100-continue`, instead of waiting for a body that may never come.

use crate::AppState;
use crate::config::Config;
use crate::error::AppError;
use crate::services::catalog::MAX_IMAGE_BYTES;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Room for a web form's other fields (CSRF token, names) beside its file.
pub const FORM_OVERHEAD_BYTES: usize = 64 * 1024;

/// The most a request to the route `path` (as routed, e.g. `/api/v1/modules/{name}/versions`)
/// may send.
pub fn limit_for(config: &Config, path: &str) -> usize {
    let package = usize::try_from(config.packages.max_upload_bytes).unwrap_or(usize::MAX);
    match path {
        "/api/v1/modules/{name}/versions" => package,
        "/portal/modules/{name}/versions" => package.saturating_add(FORM_OVERHEAD_BYTES),
        "/api/v1/publishers/{slug}/logo"
        | "/api/v1/modules/{name}/icon"
        | "/api/v1/modules/{name}/screenshots" => MAX_IMAGE_BYTES,
        "/portal/publishers/{slug}/logo"
        | "/portal/modules/{name}/icon"
        | "/portal/modules/{name}/screenshots" => MAX_IMAGE_BYTES + FORM_OVERHEAD_BYTES,
        _ => config.http.max_body_bytes,
    }
}

/// Answers 413 `payload_too_large` (the envelope under `/api`, the error page elsewhere) when
/// the declared `Content-Length` is over the route's limit.
pub async fn refuse_declared_oversize(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(declared) = declared {
        let path = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("", MatchedPath::as_str);
        let limit = limit_for(&state.config, path);
        if declared > limit as u64 {
            return if crate::wants_json(req.uri().path()) {
                AppError::PayloadTooLarge.into_response()
            } else {
                crate::web::error_page(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("The request is larger than this page takes ({limit} bytes)."),
                )
            };
        }
    }
    next.run(req).await
}
