//! Request extractors: JSON bodies whose rejections speak the error envelope, the API caller
//! from a bearer token, the client's address, and cookie reading.

use crate::AppState;
use crate::error::AppError;
use crate::services::accounts::{ClientInfo, Principal};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// `axum::Json`, except that a bad body answers the envelope: malformed JSON 400, a body of the
/// wrong shape 422, a missing content type 415, an oversized body 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    match r {
        JsonRejection::JsonSyntaxError(e) => AppError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => AppError::Validation(souk_core::ValidationError::new(
            "body",
            "invalid_body",
            e.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
                .to_owned(),
        )),
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
        other if other.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge
        }
        other => AppError::bad_request("bad_body", other.body_text()),
    }
}

/// `axum::extract::Query`, except that a query string of the wrong shape (`?limit=-1`,
/// `?limit=abc`) answers the envelope: 400 `invalid_query` naming what did not parse.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(r) => Err(AppError::bad_request(
                "invalid_query",
                r.body_text()
                    .trim_start_matches("Failed to deserialize query string: ")
                    .to_owned(),
            )),
        }
    }
}

/// Reads a list's `limit` from the query string: any whole number, negative or huge, saturated
/// into `u32` (the list then clamps it to its range, as docs/api.md says); empty is absent;
/// anything else (`abc`, `1.5`) is an error, which [`ApiQuery`] answers as 400 `invalid_query`.
pub fn whole_number_limit<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    use serde::Deserialize;
    let raw: Option<String> = Option::deserialize(d)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i128>()
            .map(|n| Some(n.clamp(0, i128::from(u32::MAX)) as u32))
            .map_err(|_| serde::de::Error::custom(format!("limit `{s}` is not a whole number"))),
    }
}

/// `axum::extract::Path`, except that a path segment that does not parse (a letter where a
/// number goes, invalid UTF-8) answers the envelope: 400 `invalid_path`.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(r) if r.status().is_server_error() => Err(AppError::internal(anyhow::anyhow!(
                "path extraction failed: {}",
                r.body_text()
            ))),
            Err(r) => Err(AppError::bad_request("invalid_path", r.body_text())),
        }
    }
}

/// The authenticated API caller, from `Authorization: Bearer TOKEN` (a personal token or a
/// session token). The API never reads cookies, so a cross-site page cannot act through it.
pub struct ApiUser(pub Principal);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or(AppError::Unauthorized)?;
        let client = client_info(&parts.headers, &parts.extensions, state);
        let principal = state.accounts.resolve(token, &client.ip).await?;
        route_access(parts)?.admit(&principal)?;
        Ok(ApiUser(principal))
    }
}

/// What the matched route asks of its caller, from the one table in [`crate::policy`]. A route
/// the table does not declare is refused (500): it must never run unchecked.
fn route_access(parts: &Parts) -> Result<crate::policy::Access, AppError> {
    let path = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map_or("", axum::extract::MatchedPath::as_str);
    crate::policy::access(parts.method.as_str(), path).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "{} {path} declares no access policy (policy::API)",
            parts.method
        ))
    })
}

/// The API caller if an `Authorization` header is sent (a bad one is still 401), else nobody:
/// for routes anyone may read, where members see more.
pub struct MaybeApiUser(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeApiUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            ApiUser::from_request_parts(parts, state)
                .await
                .map(|u| MaybeApiUser(Some(u.0)))
        } else {
            Ok(MaybeApiUser(None))
        }
    }
}

/// The client's address and user agent. The address is the TCP peer, or the first
/// `X-Forwarded-For` hop when `http.trust_proxy_headers` is on.
pub struct Client(pub ClientInfo);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(client_info(
            &parts.headers,
            &parts.extensions,
            state,
        )))
    }
}

/// What [`Client`] extracts, for code that holds the request's parts (middleware, other
/// extractors): the same address throttling, sessions and the audit log see.
pub fn client_info(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
    state: &AppState,
) -> ClientInfo {
    let forwarded = state
        .config
        .http
        .trust_proxy_headers
        .then(|| headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.split(',').next())
        .map(|s| s.trim().to_owned())
        .filter(|s| s.parse::<std::net::IpAddr>().is_ok());
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ClientInfo {
        ip: forwarded.or(peer).unwrap_or_else(|| "unknown".into()),
        user_agent: user_agent.to_owned(),
    }
}

/// The value of cookie `name`, if the request carries it (percent-encoding is not undone: Souk's
/// own cookies are plain ASCII).
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value with Souk's attributes: HttpOnly, SameSite=Lax, Path=/, Secure behind
/// https. `max_age` of zero deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_secs: u64, secure: bool) -> String {
    cookie::Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age_secs).unwrap_or(i64::MAX),
        ))
        .secure(secure)
        .build()
        .to_string()
}

/// An uploaded image as the raw request body, read up to
/// [`crate::services::catalog::MAX_IMAGE_BYTES`] whatever `http.max_body_bytes` says (413 past
/// it, in the error envelope). The bytes are checked to be an image by the service.
pub struct ImageBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for ImageBody {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, AppError> {
        use futures_util::StreamExt;
        let limit = crate::services::catalog::MAX_IMAGE_BYTES;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Err(AppError::PayloadTooLarge);
        }
        let mut stream = req.into_body().into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| AppError::bad_request("upload_interrupted", e.to_string()))?;
            if buf.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(ImageBody(buf.into()))
    }
}

/// `Cache-Control: no-store`, for answers and pages that show a secret (a new token, a session
/// token): no browser or proxy cache keeps a copy. Add it to a response tuple.
pub struct NoStore;

impl axum::response::IntoResponseParts for NoStore {
    type Error = std::convert::Infallible;

    fn into_response_parts(
        self,
        mut res: axum::response::ResponseParts,
    ) -> Result<axum::response::ResponseParts, Self::Error> {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        Ok(res)
    }
}
