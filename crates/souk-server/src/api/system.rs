//! Liveness, readiness, metrics and the OpenAPI document.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    pub status: &'static str,
    /// Each dependency's state (readiness only): `ok` or what failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

#[derive(Serialize, ToSchema)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        checks: Vec::new(),
    })
}

/// Ready for traffic: the database answers, the data directory takes writes, the blob store
/// answers and, when NATS is configured, the bus is connected.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, body = Health), (status = 503, description = "A dependency is down", body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = match state.store.ping().await {
        Ok(()) => Check {
            name: "database",
            ok: true,
            detail: state.store.backend().into(),
        },
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database");
            Check {
                name: "database",
                ok: false,
                detail: "does not answer".into(),
            }
        }
    };
    let probe = state.config.data_dir.join(".readyz-probe");
    let written = tokio::fs::write(&probe, b"ok").await;
    let _ = tokio::fs::remove_file(&probe).await;
    let storage = match written {
        Ok(()) => Check {
            name: "storage",
            ok: true,
            detail: "data directory writable".into(),
        },
        Err(e) => {
            tracing::warn!(error = %e, "readiness: data directory");
            Check {
                name: "storage",
                ok: false,
                detail: "data directory not writable".into(),
            }
        }
    };
    let blobs = match state.catalog.blobs().check().await {
        Ok(()) => Check {
            name: "blobs",
            ok: true,
            detail: state.catalog.blobs().kind().into(),
        },
        Err(e) => {
            tracing::warn!(error = format!("{e:#}"), "readiness: blob store");
            Check {
                name: "blobs",
                ok: false,
                detail: format!(
                    "{} blob store does not answer",
                    state.catalog.blobs().kind()
                ),
            }
        }
    };
    let mut checks = vec![database, storage, blobs];
    // The bus, when one is configured (NATS): the embedded one cannot be down.
    if let Some(connected) = state.bus.connected() {
        checks.push(Check {
            name: "bus",
            ok: connected,
            detail: if connected {
                "nats connected".into()
            } else {
                "nats unreachable; events wait in the outbox".into()
            },
        });
    }
    let ok = checks.iter().all(|c| c.ok);
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ok { "ready" } else { "unavailable" },
            checks,
        }),
    )
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(state.store.pool_stats()),
    )
}

/// This document: OpenAPI 3.1 of every API route.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> impl IntoResponse {
    Json(super::openapi())
}
