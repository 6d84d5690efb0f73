//! Versions: upload, read, yank, and download with `ETag`, `Range` and a file name.

use super::catalog_views::{VersionDetailView, VersionView};
use crate::AppState;
use crate::blob::{BlobKind, StageError};
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiUser, MaybeApiUser};
use crate::services::publisher_signing::{SIGNATURE_HEADER, decode_header};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use souk_store::User;
use utoipa::ToSchema;

/// Every version of a module, newest first.
#[utoipa::path(operation_id = "list_versions", get, path = "/api/v1/modules/{name}/versions", tag = "versions",
    params(("name" = String, Path)),
    responses((status = 200, body = Vec<VersionView>), (status = 404, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    MaybeApiUser(viewer): MaybeApiUser,
    ApiPath(name): ApiPath<String>,
) -> AppResult<Json<Vec<VersionView>>> {
    let access = state
        .catalog
        .module(viewer.as_ref().map(|p| &p.user), &name)
        .await?;
    let versions = state.catalog.versions(&access).await?;
    Ok(Json(
        versions
            .iter()
            .map(|v| VersionView::new(&access.module.name, v))
            .collect(),
    ))
}

/// Turns a staging failure into its answer.
pub fn stage_error(e: StageError) -> AppError {
    match e {
        StageError::TooLarge { .. } => AppError::PayloadTooLarge,
        StageError::Body(m) => AppError::bad_request("upload_interrupted", m),
        StageError::Io(e) => AppError::internal(e),
    }
}

/// Uploads a version: the body is the package archive (`.tar.gz` or `.zip` with `souk.toml` at
/// its root). The first upload of a name creates the module under the manifest's publisher. The
/// answer comes at once with status `pending_checks`: the automated checks run in the background
/// and move the version to `published` or `pending_review` (see `GET .../checks`).
/// `Souk-Signature`, when sent, is the publisher's minisign signature of the body (the
/// `.minisig` file in standard base64); it must verify with one of the publisher's current keys.
#[utoipa::path(post, path = "/api/v1/modules/{name}/versions", tag = "versions", security(("bearer" = [])),
    params(("name" = String, Path),
        ("Souk-Signature" = Option<String>, Header, description = "The publisher's minisign signature of the package, base64 (standard) of the .minisig file")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The package archive"),
    responses(
        (status = 201, body = VersionDetailView),
        (status = 403, description = "Not a member of the publisher, or the publisher is suspended", body = ErrorEnvelope),
        (status = 409, description = "Version already published, or name taken", body = ErrorEnvelope),
        (status = 413, description = "Larger than packages.max_upload_bytes", body = ErrorEnvelope),
        (status = 422, description = "Not an archive, unsafe entry, bad manifest, unknown dependency; \
            a signature that is not one (invalid_signature), by a key that is not one of the publisher's \
            current keys (unknown_signing_key), or that does not verify (bad_signature)", body = ErrorEnvelope),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> AppResult<(StatusCode, Json<VersionDetailView>)> {
    // Refused from the route alone before a byte of the body is read.
    state.catalog.precheck_publish(&p.user, &name).await?;
    let limit = state.config.packages.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge);
    }
    let signature = headers
        .get(SIGNATURE_HEADER)
        .map(|v| decode_header(v.as_bytes()))
        .transpose()?;
    let staged = state
        .catalog
        .blobs()
        .stage(body.into_data_stream(), limit)
        .await
        .map_err(stage_error)?;
    if staged.size == 0 {
        return Err(crate::services::publish::not_an_archive(
            "the body is empty; send the package archive",
        ));
    }
    let (module, version) = state
        .catalog
        .publish(&p.user, &name, staged, &state.config.packages, signature)
        .await?;
    // This node's check worker starts on it at once; the answer says `pending_checks`.
    state.moderation.wake();
    Ok((
        StatusCode::CREATED,
        Json(VersionDetailView::new(&module.name, &version)),
    ))
}

/// One version with its manifest, README, changelog and files.
#[utoipa::path(operation_id = "get_version", get, path = "/api/v1/modules/{name}/versions/{version}", tag = "versions",
    params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = VersionDetailView), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeApiUser(viewer): MaybeApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Json<VersionDetailView>> {
    let access = state
        .catalog
        .module(viewer.as_ref().map(|p| &p.user), &name)
        .await?;
    let v = state.catalog.version(&access, &version).await?;
    Ok(Json(VersionDetailView::new(&access.module.name, &v)))
}

#[derive(Deserialize, ToSchema)]
pub struct YankRequest {
    /// Why, shown to everyone who looks at the version.
    pub reason: String,
}

/// Yanks a version: it stays downloadable by exact version but is never "latest".
#[utoipa::path(post, path = "/api/v1/modules/{name}/versions/{version}/yank", tag = "versions", security(("bearer" = [])),
    params(("name" = String, Path), ("version" = String, Path)), request_body = YankRequest,
    responses((status = 200, body = VersionView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn yank(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
    ApiJson(req): ApiJson<YankRequest>,
) -> AppResult<Json<VersionView>> {
    let v = state
        .catalog
        .set_yanked(&p.actor(), &name, &version, Some(&req.reason))
        .await?;
    Ok(Json(VersionView::new(&name, &v)))
}

/// Unyanks a version.
#[utoipa::path(post, path = "/api/v1/modules/{name}/versions/{version}/unyank", tag = "versions", security(("bearer" = [])),
    params(("name" = String, Path), ("version" = String, Path)),
    responses((status = 200, body = VersionView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unyank(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Json<VersionView>> {
    let v = state
        .catalog
        .set_yanked(&p.actor(), &name, &version, None)
        .await?;
    Ok(Json(VersionView::new(&name, &v)))
}

/// The registry's signature of the package in minisign's format: check it with
/// `minisign -V -P KEY -m PACKAGE -x SIGNATURE` (KEY from `GET /api/v1/keys`) or `souk verify`.
#[utoipa::path(get, path = "/api/v1/modules/{name}/versions/{version}/signature", tag = "versions",
    params(("name" = String, Path), ("version" = String, Path)),
    responses(
        (status = 200, description = "The minisign signature file", content_type = "text/plain"),
        (status = 404, description = "No such version, or one published before signing", body = ErrorEnvelope),
    ))]
pub async fn signature(
    State(state): State<AppState>,
    MaybeApiUser(viewer): MaybeApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Response> {
    let access = state
        .catalog
        .module(viewer.as_ref().map(|p| &p.user), &name)
        .await?;
    let v = state.catalog.version(&access, &version).await?;
    let sig = v.registry_signature.ok_or(AppError::NotFound)?;
    let file = format!(
        "attachment; filename=\"{}-{}.{}.minisig\"",
        access.module.name, v.version, v.format
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&file).map_err(AppError::internal)?,
            ),
        ],
        sig,
    )
        .into_response())
}

/// The publisher's own signature of the package, in minisign's format, as it was uploaded and
/// checked: verify it with the key `publisher_key_id` names among
/// `GET /api/v1/publishers/{slug}/keys`, or with `souk verify`.
#[utoipa::path(get, path = "/api/v1/modules/{name}/versions/{version}/publisher-signature", tag = "versions",
    params(("name" = String, Path), ("version" = String, Path)),
    responses(
        (status = 200, description = "The minisign signature file", content_type = "text/plain"),
        (status = 404, description = "No such version (not_found), or it was published without a publisher signature (no_publisher_signature)", body = ErrorEnvelope),
    ))]
pub async fn publisher_signature(
    State(state): State<AppState>,
    MaybeApiUser(viewer): MaybeApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
) -> AppResult<Response> {
    let access = state
        .catalog
        .module(viewer.as_ref().map(|p| &p.user), &name)
        .await?;
    let v = state.catalog.version(&access, &version).await?;
    let sig = v.publisher_signature.ok_or_else(|| AppError::Missing {
        code: "no_publisher_signature",
        message: format!(
            "{} {} was published without a publisher signature",
            access.module.name, v.version
        ),
    })?;
    let file = format!(
        "attachment; filename=\"{}-{}.{}.publisher.minisig\"",
        access.module.name, v.version, v.format
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&file).map_err(AppError::internal)?,
            ),
        ],
        sig,
    )
        .into_response())
}

/// Raw package bytes, as the OpenAPI document describes them.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[expect(dead_code, reason = "only its schema is used")]
pub struct PackageBytes(Vec<u8>);

/// The package bytes, exactly as published. `ETag` is the quoted SHA-256; `Range` (one range)
/// and `If-None-Match` are honoured. With S3 and `s3.presign_downloads`, a redirect to a
/// short-lived presigned URL instead.
#[utoipa::path(get, path = "/api/v1/modules/{name}/versions/{version}/download", tag = "versions",
    params(("name" = String, Path), ("version" = String, Path)),
    responses(
        (status = 200, description = "The package: `application/gzip` for a .tar.gz, `application/zip` for a .zip",
            content((PackageBytes = "application/gzip"), (PackageBytes = "application/zip"))),
        (status = 206, description = "The requested range",
            content((PackageBytes = "application/gzip"), (PackageBytes = "application/zip"))),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 307, description = "Redirect to a presigned URL"),
        (status = 404, body = ErrorEnvelope),
        (status = 416, description = "Range not satisfiable"),
    ))]
pub async fn download(
    State(state): State<AppState>,
    MaybeApiUser(viewer): MaybeApiUser,
    ApiPath((name, version)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> AppResult<Response> {
    serve_download(
        &state,
        viewer.as_ref().map(|p| &p.user),
        &name,
        &version,
        &headers,
    )
    .await
}

/// A parsed `Range` header against a blob of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a single `bytes=` range. Several ranges, or a header we cannot read, are answered with
/// the whole body, which RFC 9110 allows.
fn parse_range(value: Option<&str>, size: u64) -> RangeAsk {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // A suffix: the last N bytes.
        match end.parse::<u64>() {
            Ok(0) => return RangeAsk::Unsatisfiable,
            Ok(n) => (size.saturating_sub(n), size.saturating_sub(1)),
            Err(_) => return RangeAsk::Whole,
        }
    } else {
        let Ok(s) = start.parse::<u64>() else {
            return RangeAsk::Whole;
        };
        let e = if end.is_empty() {
            size.saturating_sub(1)
        } else {
            match end.parse::<u64>() {
                Ok(e) if e >= s => e.min(size.saturating_sub(1)),
                _ => return RangeAsk::Whole,
            }
        };
        (s, e)
    };
    if size == 0 || range.0 >= size {
        return RangeAsk::Unsatisfiable;
    }
    RangeAsk::Part(range.0, range.1)
}

/// Serves a version's package to `viewer` (shared by the API and the web pages).
pub async fn serve_download(
    state: &AppState,
    viewer: Option<&User>,
    name: &str,
    version: &str,
    headers: &HeaderMap,
) -> AppResult<Response> {
    let access = state.catalog.module(viewer, name).await?;
    let module = &access.module;
    let v = state.catalog.version(&access, version).await?;
    if v.status == souk_store::VersionStatus::Quarantined && !access.staff {
        return Err(AppError::Denied {
            code: "version_quarantined",
            message: format!(
                "{} {} was pulled from the marketplace by its moderators and cannot be downloaded{}",
                module.name,
                v.version,
                v.status_reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        });
    }
    let etag = format!("\"{}\"", v.sha256);
    let private = module.visibility == souk_store::Visibility::Private;
    let cache = if private {
        "private, max-age=3600"
    } else {
        "public, max-age=31536000, immutable"
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
        )
            .into_response());
    }
    let blobs = state.catalog.blobs();
    if let Some(url) = blobs
        .presigned_download(BlobKind::Package, &v.sha256)
        .await
        .map_err(AppError::internal)?
    {
        state.downloads.record(v.id);
        return Ok((
            StatusCode::TEMPORARY_REDIRECT,
            [
                (header::LOCATION, url.to_string()),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response());
    }
    let size = v.size as u64;
    // `If-Range` with another validator means the client's partial copy is stale: send it all.
    let range_header = match headers.get(header::IF_RANGE).and_then(|h| h.to_str().ok()) {
        Some(tag) if tag.trim() != etag => None,
        _ => headers.get(header::RANGE).and_then(|h| h.to_str().ok()),
    };
    let ask = parse_range(range_header, size);
    if ask == RangeAsk::Unsatisfiable {
        return Ok((
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{size}"))],
        )
            .into_response());
    }
    let (status, range) = match ask {
        RangeAsk::Part(s, e) => (StatusCode::PARTIAL_CONTENT, Some(s..e + 1)),
        _ => (StatusCode::OK, None),
    };
    // A download is counted once: the whole file, or the range that starts it.
    if range.as_ref().is_none_or(|r| r.start == 0) {
        state.downloads.record(v.id);
    }
    let stream = blobs
        .read(BlobKind::Package, &v.sha256, range.clone())
        .await
        .map_err(|e| match e.downcast_ref::<crate::blob::BlobCorrupt>() {
            Some(_) => AppError::ServerFault {
                code: "blob_corrupt",
                message: "the stored package no longer matches its SHA-256, so it is not served; \
                          the server has logged it for its operators"
                    .into(),
            },
            None => AppError::internal(e),
        })?;
    let (content_type, ext) = if v.format == "zip" {
        ("application/zip", "zip")
    } else {
        ("application/gzip", "tar.gz")
    };
    let length = range.as_ref().map_or(size, |r| r.end - r.start);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, tag);
    }
    // Names and versions are restricted to characters that need no quoting or encoding.
    if let Ok(cd) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}-{}.{ext}\"",
        module.name, v.version
    )) {
        h.insert(header::CONTENT_DISPOSITION, cd);
    }
    if let Some(r) = &range
        && let Ok(cr) = HeaderValue::from_str(&format!("bytes {}-{}/{size}", r.start, r.end - 1))
    {
        h.insert(header::CONTENT_RANGE, cr);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::{RangeAsk, parse_range};

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), RangeAsk::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=90-"), 100), RangeAsk::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), RangeAsk::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-500"), 100), RangeAsk::Part(0, 99));
        assert_eq!(
            parse_range(Some("bytes=50-5000"), 100),
            RangeAsk::Part(50, 99)
        );
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=-0"), 100), RangeAsk::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("bytes=9-3"), 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("items=0-3"), 100), RangeAsk::Whole);
    }
}
