//! Souk's server: the JSON API, the web UI and background work, over a store chosen at start-up.
//!
//! Layering: handlers in [`api`] and [`web`] extract and render; [`services`] hold the rules;
//! the store (`souk-store`) persists. Nothing below this crate knows about HTTP.

pub mod api;
pub mod blob;
pub mod body_limits;
pub mod bus;
pub mod checks;
pub mod config;
pub mod demo;
pub mod download;
pub mod error;
pub mod extract;
pub mod files;
pub mod jobs;
pub mod metrics;
pub mod policy;
pub mod search;
pub mod services;
pub mod signing;
pub mod state;
pub mod views;
pub mod web;

pub use config::{Config, Layers};
pub use state::{AppState, ServerKeys};

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use error::AppError;
use souk_core::Timestamp;
use souk_store::DynStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

/// Opens the database the configuration names (creating the data directory for the default
/// SQLite file) and applies pending migrations. Errors are one line naming the problem.
/// Every HTTPS client in Souk (S3, the CLI's registry client) uses rustls with ring. reqwest is
/// built without a bundled provider so that aws-lc (a C library that needs cmake) stays out of
/// the build; this installs ring process-wide. Call it before the first client is built.
pub fn install_crypto_provider() {
    // Err only means a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub async fn open_store(config: &Config, migrate: bool) -> anyhow::Result<DynStore> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let url = config.effective_database_url();
    let store: DynStore = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Arc::new(
            souk_store_postgres::PostgresStore::connect(&url, config.database_max_connections)
                .await?,
        )
    } else {
        Arc::new(souk_store_sqlite::SqliteStore::connect(&url).await?)
    };
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
}

#[derive(Clone, Copy)]
struct HexRequestId;

impl MakeRequestId for HexRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&hex::encode(souk_core::secret::random_bytes::<8>()))
            .ok()
            .map(RequestId::new)
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API, web UI, fallbacks and the middleware stack.
pub fn app(state: AppState) -> Router {
    // The reference page at /api/docs renders the API's document; `web` gets it from here
    // rather than importing `api`.
    let web = web::router(&state.config)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::context,
        ))
        .layer(axum::Extension(web::docs::ApiDocument(api::openapi())));
    let csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
               form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    Router::new()
        .merge(api::router())
        .merge(web)
        .merge(web::assets_router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), search_sees_own_writes))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            body_limits::refuse_declared_oversize,
        ))
        .layer(DefaultBodyLimit::max(state.config.http.max_body_bytes))
        // Packages and images are compressed already; gzip would only burn CPU and break ranges.
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new()
                .and(NotForContentType::const_new("application/gzip"))
                .and(NotForContentType::const_new("application/zip"))
                .and(NotForContentType::const_new("application/octet-stream")),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp)))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.http.request_timeout_secs),
        ))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            AppError::internal(anyhow::anyhow!("a handler panicked")).into_response()
        }))
        .layer(axum::middleware::from_fn(envelope_bare_errors))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, HexRequestId))
        .with_state(state)
}

/// After a request that may have changed the catalog succeeds, this node's search index takes in
/// the change before the answer goes out: whoever publishes or edits and then searches on the
/// same node sees their change. Other nodes pick it up from the change log within
/// `search.follow_interval_ms`.
async fn search_sees_own_writes(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let writes = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let resp = next.run(req).await;
    if writes && (resp.status().is_success() || resp.status().is_redirection()) {
        // Whatever the write announced goes out on the bus now, not at the relay's next tick.
        state.relay.wake();
    }
    if writes
        && (resp.status().is_success() || resp.status().is_redirection())
        && let Err(e) = state.search.sync().await
    {
        tracing::warn!(
            error = format!("{e:#}"),
            "search index could not take in a change"
        );
    }
    resp
}

pub(crate) fn wants_json(path: &str) -> bool {
    path.starts_with("/api/") && path != "/api/docs"
}

/// Layers below the handlers (the timeout, the panic catcher) answer errors with an empty body,
/// and axum's own extractor rejections (a form, a path or a query string that does not parse)
/// with plain text. Under `/api` those become the error envelope like every other error; on the
/// web, the HTML error page.
async fn envelope_bare_errors(req: Request, next: axum::middleware::Next) -> Response {
    let api = wants_json(req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE);
    let plain = content_type
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(content_type.is_none() || plain) || !(status.is_client_error() || status.is_server_error())
    {
        return resp;
    }
    let reason = status
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase();
    let headers = resp.headers().clone();
    // A rejection's text says what was wrong (for a 4xx only: a 5xx body may hold internals).
    let said = if plain && status.is_client_error() {
        axum::body::to_bytes(resp.into_body(), 4096)
            .await
            .ok()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|s| !s.is_empty())
    } else {
        None
    };
    let message = said.unwrap_or_else(|| reason.clone());
    let mut answer = if api {
        let code = reason.replace(' ', "_");
        let body = serde_json::json!({ "error": { "code": code, "message": message } });
        (status, axum::Json(body)).into_response()
    } else {
        web::error_page(status, &message)
    };
    // What the bare answer said in its headers still holds (`Content-Range` on a 416, `Allow`,
    // `Retry-After`); only the body's own headers are the new body's.
    for (name, value) in &headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if wants_json(uri.path()) {
        AppError::NotFound.into_response()
    } else {
        web::error_page(StatusCode::NOT_FOUND, "There is nothing at this address.")
    }
}

async fn method_not_allowed(uri: axum::http::Uri) -> Response {
    if wants_json(uri.path()) {
        AppError::MethodNotAllowed.into_response()
    } else {
        web::error_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "This page does not take that kind of request.",
        )
    }
}

/// Deletes expired sessions, old login failures, old idempotency keys and old search-change
/// rows, and sweeps blobs and files nothing refers to, at start and then hourly. Safe on any
/// number of nodes at once: each is an idempotent delete.
async fn prune_forever(store: DynStore, blobs: blob::BlobStore, login_window_secs: i64) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match blobs.sweep(&store, blob::ORPHAN_GRACE).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "swept leftover blobs and files"),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "blob sweep failed"),
        }
        let now = Timestamp::now();
        let results = (
            store.prune_sessions(now).await,
            store
                .prune_login_failures(now.plus_secs(-login_window_secs))
                .await,
            store.prune_idempotency(now.plus_secs(-24 * 3600)).await,
            // A day of change log is far more than any running node lags; a node that was down
            // longer rebuilds its index at start.
            store.prune_search_changes(now.plus_secs(-24 * 3600)).await,
            // Published events a day old: every node has long had them.
            store.prune_outbox(now.plus_secs(-24 * 3600)).await,
        );
        match results {
            (Ok(s), Ok(l), Ok(i), Ok(c), Ok(o)) => tracing::debug!(
                sessions = s,
                login_failures = l,
                idempotency_keys = i,
                search_changes = c,
                outbox = o,
                "pruned"
            ),
            (s, l, i, c, o) => tracing::warn!(?s, ?l, ?i, ?c, ?o, "pruning failed"),
        }
    }
}

/// Runs the server until `shutdown` resolves, then stops accepting connections and lets
/// in-flight requests finish.
/// Runs the server until `shutdown` resolves. With `demo`, loads the sample catalog first
/// (once; see [`demo`]).
pub async fn serve(
    config: Config,
    demo: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = open_store(&config, true).await?;
    let keys = ServerKeys::load_or_create(&config)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let blobs = blob::BlobStore::from_config(&config)?;
    match blobs.clear_staging() {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed upload files a previous run left"),
        Err(e) => tracing::warn!(error = %e, "could not clear the staging directory"),
    }
    let state = AppState::new(store.clone(), config, keys, blobs.clone()).await?;
    if demo {
        demo::load(&state).await?;
    }
    // After the start-up writes (signing keys, the demo): on SQLite the pruner's deletes would
    // otherwise race them for the one writer.
    let pruner = tokio::spawn(prune_forever(
        store.clone(),
        blobs,
        state.config.auth.login_window_secs,
    ));
    let counter = tokio::spawn(state.downloads.clone().run(Duration::from_secs(5)));
    let views = tokio::spawn(state.views.clone().run(Duration::from_secs(5)));
    let follower = tokio::spawn(state.search.clone().follow(
        Duration::from_millis(state.config.search.follow_interval_ms),
        state.bus.subscribe(),
    ));
    let relay = tokio::spawn(state.relay.clone().run(Duration::from_millis(250)));
    let jobs = tokio::spawn(state.jobs.clone().run());
    tracing::info!(%addr, backend = store.backend(), blobs = state.catalog.blobs().kind(), bus = state.bus.kind(),
        url = %state.config.effective_public_url(), "souk is serving");
    axum::serve(
        listener,
        app(state.clone()).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("server failed")?;
    pruner.abort();
    counter.abort();
    views.abort();
    follower.abort();
    relay.abort();
    jobs.abort();
    state.downloads.flush().await;
    state.views.flush().await;
    store.close().await;
    tracing::info!("souk stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
