//! The download path, in one place: the API's download route and the web page's download link
//! both answer with [`serve_download`] (visibility, the version's state, `ETag`, `Range`, the
//! SHA-256 re-check as the bytes stream, the download count).

use crate::AppState;
use crate::blob::BlobKind;
use crate::error::{AppError, AppResult};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use souk_store::User;

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
