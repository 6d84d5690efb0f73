//! Versions: upload, read, yank, and download with `ETag`, `Range` and a file name.

use super::catalog_views::{VersionDetailView, VersionView};
use crate::AppState;
use crate::download::serve_download;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiUser, MaybeApiUser};
use crate::services::publisher_signing::{SIGNATURE_HEADER, decode_header};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
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
        .map_err(AppError::from)?;
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
