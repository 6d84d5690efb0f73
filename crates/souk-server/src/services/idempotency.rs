//! `Idempotency-Key` with Stripe's semantics, for every POST that moves money or creates an
//! order: the first request with a key runs and its answer is stored; a retry with the same key and
//! the same request gets the stored answer; the same key with a different request is refused (422);
//! a retry while the first is still running is refused (409). A request that fails with a server
//! error is not stored, so it can be retried.

use crate::error::{AppError, AppResult};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use souk_core::Timestamp;
use souk_store::{DynStore, StoreError};

pub const HEADER: &str = "idempotency-key";

/// Runs `handler` at most once per (`scope`, `key`). `request` is what identifies the request
/// (method, path and body); without a key the handler simply runs.
pub async fn run<F, Fut>(
    store: &DynStore,
    scope: &str,
    key: Option<&str>,
    request: &[u8],
    handler: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = AppResult<(StatusCode, serde_json::Value)>>,
{
    let Some(key) = key else {
        return respond(handler().await);
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return AppError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
        .into_response();
    }
    let request_hash = souk_core::secret::sha256_hex(request);
    match store
        .idempotency_claim(scope, key, &request_hash, Timestamp::now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => return replay(store, scope, key, &request_hash).await,
        Err(e) => return AppError::from(e).into_response(),
    }
    let result = handler().await;
    let stored = match &result {
        Ok((status, body)) => Some((status.as_u16(), body.to_string())),
        Err(e) if e.status().is_client_error() => Some((
            e.status().as_u16(),
            serde_json::to_string(&error_json(e)).unwrap_or_default(),
        )),
        Err(_) => None,
    };
    let saved = match stored {
        Some((status, body)) => store.idempotency_complete(scope, key, status, &body).await,
        None => store.idempotency_release(scope, key).await,
    };
    if let Err(e) = saved {
        tracing::error!(error = %e, "could not record the idempotent answer");
    }
    respond(result)
}

async fn replay(store: &DynStore, scope: &str, key: &str, request_hash: &str) -> Response {
    let record = match store.idempotency_get(scope, key).await {
        Ok(r) => r,
        Err(e) => return AppError::from(e).into_response(),
    };
    if record.request_hash != request_hash {
        return AppError::Validation(souk_core::ValidationError::new(
            "idempotency_key",
            "idempotency_key_reused",
            "was already used with a different request",
        ))
        .into_response();
    }
    match (record.response_status, record.response_body) {
        (Some(status), Some(body)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let body: serde_json::Value =
                serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
            let mut resp = (status, Json(body)).into_response();
            resp.headers_mut().insert(
                "idempotent-replayed",
                axum::http::HeaderValue::from_static("true"),
            );
            resp
        }
        _ => AppError::Conflict {
            field: "idempotency_key".into(),
            message: "a request with this Idempotency-Key is still in progress".into(),
        }
        .into_response(),
    }
}

fn error_json(e: &AppError) -> serde_json::Value {
    serde_json::json!({ "error": { "code": e.code(), "message": e.public_message(), "details": e.details() } })
}

fn respond(result: AppResult<(StatusCode, serde_json::Value)>) -> Response {
    match result {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
}
