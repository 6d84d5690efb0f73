//! The one error type handlers return. It becomes the JSON envelope
//! `{"error": {"code", "message", "details"}}` with the right status; a server-side failure is
//! logged with its source and answered as a bare 500 that leaks nothing.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use souk_core::ValidationError;
use souk_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    /// A 403 with its own code (`publisher_suspended`, `version_quarantined`, ...).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    #[error("not found")]
    NotFound,
    /// A 404 that names what is missing, such as `no_publisher_signature`, where the object
    /// asked about exists but lacks the part asked for.
    #[error("{message}")]
    Missing { code: &'static str, message: String },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("`{field}` is already taken")]
    Conflict { field: String, message: String },
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("expected a JSON body with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    Validation(ValidationError),
    /// A 422 whose field is only known at run time, such as `dependencies.economy`.
    #[error("{field}: {message}")]
    Unprocessable {
        code: &'static str,
        field: String,
        message: String,
    },
    #[error("too many attempts; try again later")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// A server-side fault the client may be told about by name (no internals).
    #[error("{message}")]
    ServerFault { code: &'static str, message: String },
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable reason, e.g. `invalid_email`, `unauthorized`.
    pub code: String,
    /// A sentence for a person.
    pub message: String,
    /// Extra facts, such as the `field` a validation error is about.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Denied { .. } => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::Missing { .. } => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) | AppError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) | AppError::ServerFault { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    pub fn code(&self) -> &str {
        match self {
            AppError::BadRequest { code, .. } => code,
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Denied { code, .. } => code,
            AppError::NotFound => "not_found",
            AppError::Missing { code, .. } => code,
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Conflict { .. } => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::Validation(v) => v.code,
            AppError::Unprocessable { code, .. } => code,
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::Internal(_) => "internal",
            AppError::ServerFault { code, .. } => code,
        }
    }

    /// What a person is told. For a validation error this is the message without the field
    /// name, which `details.field` carries.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Validation(v) => format!("{} {}", v.field.replace('_', " "), v.message),
            AppError::Conflict { message, .. } => message.clone(),
            AppError::Unprocessable { field, message, .. } => format!("{field}: {message}"),
            other => other.to_string(),
        }
    }

    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            AppError::Validation(v) => Some(serde_json::json!({ "field": v.field })),
            AppError::Conflict { field, .. } | AppError::Unprocessable { field, .. } => {
                Some(serde_json::json!({ "field": field }))
            }
            AppError::TooManyRequests { retry_after_secs } => {
                Some(serde_json::json!({ "retry_after_secs": retry_after_secs }))
            }
            _ => None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(field: impl Into<String>) -> Self {
        let field = field.into();
        AppError::Conflict {
            message: format!("{} is already taken", field.replace('_', " ")),
            field,
        }
    }

    pub fn conflict_with(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unprocessable(
        code: &'static str,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AppError::Unprocessable {
            code,
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(e.into())
    }

    /// Logs server-side failures with their cause; client errors need no log line.
    pub fn log(&self) {
        if let AppError::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
    }

    /// Adds `Retry-After` where it applies.
    pub fn decorate(&self, resp: &mut Response) {
        if let AppError::TooManyRequests { retry_after_secs } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_owned(),
                message: self.public_message(),
                details: self.details(),
            },
        };
        let mut resp = (self.status(), Json(body)).into_response();
        self.decorate(&mut resp);
        resp
    }
}

impl From<ValidationError> for AppError {
    fn from(v: ValidationError) -> Self {
        AppError::Validation(v)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict { field } => AppError::conflict(field),
            other => AppError::Internal(other.into()),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A staging failure (an upload streamed to disk) and its answer.
impl From<crate::blob::StageError> for AppError {
    fn from(e: crate::blob::StageError) -> Self {
        use crate::blob::StageError;
        match e {
            StageError::TooLarge { .. } => AppError::PayloadTooLarge,
            StageError::Body(m) => AppError::bad_request("upload_interrupted", m),
            StageError::Io(e) => AppError::internal(e),
        }
    }
}

/// The accounts service's failures, answered the same way by the API and the web pages.
impl From<crate::services::accounts::AccountError> for AppError {
    fn from(e: crate::services::accounts::AccountError) -> Self {
        use crate::services::accounts::AccountError;
        match e {
            AccountError::Unauthenticated => AppError::Unauthorized,
            AccountError::NotAllowed(_) | AccountError::RegistrationClosed => {
                AppError::Forbidden(e.to_string())
            }
            AccountError::Throttled { retry_after_secs } => {
                AppError::TooManyRequests { retry_after_secs }
            }
            AccountError::Invalid(v) => AppError::Validation(v),
            AccountError::Store(e) => AppError::from(e),
            AccountError::Internal(e) => AppError::Internal(e),
        }
    }
}
