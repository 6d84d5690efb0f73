//! Cross-site request forgery defences for the web pages, in one place.
//!
//! - Every web form carries `csrf_token`: an HMAC, under the server key, of the visitor's
//!   `souk_csrf` cookie *and* of the session it belongs to (or "anonymous"). A token taken from
//!   one visitor's page, or from an anonymous page, is refused with another session's cookie:
//!   planting a cookie is not enough to forge a form.
//! - [`CheckedForm`] is the only way a handler reads a urlencoded form, and it cannot be read
//!   without the check. Multipart upload forms are read by [`super::upload`], which checks the
//!   same token before it reads a file.
//! - A state-changing web request whose `Origin` (or, without one, `Referer`) names another site
//!   is refused by [`same_origin`] before any handler runs.

use super::{PageError, WebContext};
use crate::AppState;
use crate::error::AppError;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use serde::de::DeserializeOwned;

/// What a session-less visitor's token is bound to.
const ANONYMOUS: &str = "anonymous";

/// The token forms must echo, for this CSRF cookie and this session (if any).
pub fn token_for(state: &AppState, csrf_cookie: &str, session_id: Option<i64>) -> String {
    let bound = session_id.map_or_else(|| ANONYMOUS.to_owned(), |id| format!("session:{id}"));
    state
        .keys
        .mac_hex("csrf", format!("{csrf_cookie}\n{bound}").as_bytes())
}

fn refused() -> PageError {
    PageError(AppError::Forbidden(
        "the form expired or came from another site; reload the page and try again".into(),
    ))
}

/// 403 unless `submitted` is the token of this visitor's cookie and session.
pub(super) fn check(ctx: &WebContext, submitted: &str) -> Result<(), PageError> {
    use subtle::ConstantTimeEq;
    if bool::from(submitted.as_bytes().ct_eq(ctx.csrf_token.as_bytes())) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// A urlencoded form whose `csrf_token` was checked before `T` was read from it. `T` need not
/// (and should not) declare `csrf_token`; unknown fields are ignored.
pub struct CheckedForm<T>(pub T);

/// For forms that carry nothing but their token (sign out, mark read, ...).
#[derive(serde::Deserialize)]
pub struct NoFields {}

impl<T: DeserializeOwned> FromRequest<AppState> for CheckedForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let ctx = req
            .extensions()
            .get::<WebContext>()
            .cloned()
            .ok_or_else(|| {
                PageError(AppError::internal(anyhow::anyhow!(
                    "web context middleware missing"
                )))
            })?;
        let form_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_type {
            return Err(PageError(AppError::UnsupportedMediaType));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    PageError(AppError::PayloadTooLarge)
                } else {
                    PageError(AppError::bad_request("bad_form", r.body_text()))
                }
            })?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| refused())?;
        let submitted = pairs
            .iter()
            .find(|(k, _)| k == "csrf_token")
            .map_or("", |(_, v)| v.as_str());
        check(&ctx, submitted)?;
        serde_urlencoded::from_bytes(&bytes)
            .map(CheckedForm)
            .map_err(|e| PageError(AppError::bad_request("bad_form", e.to_string())))
    }
}

/// Whether a state-changing request comes from this site: its `Origin` (or, when a browser sends
/// none, its `Referer`) is the public URL's origin or the origin of the `Host` it was sent to.
/// Requests with neither header (scripts, old browsers) pass here and still need the token.
pub fn same_origin(method: &Method, headers: &HeaderMap, public_url: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let claimed = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok().map(str::to_owned),
        None => match headers.get(header::REFERER) {
            Some(referer) => referer
                .to_str()
                .ok()
                .and_then(|r| url::Url::parse(r).ok())
                .map(|u| u.origin().ascii_serialization()),
            None => return true,
        },
    };
    let Some(claimed) = claimed else {
        return false;
    };
    let public = url::Url::parse(public_url)
        .map(|u| u.origin().ascii_serialization())
        .ok();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let matches_host = host.is_some_and(|host| {
        url::Url::parse(&claimed)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .is_some_and(|u| {
                let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                u.host_str()
                    .is_some_and(|h| format!("{h}{port}").eq_ignore_ascii_case(host))
            })
    });
    public.as_deref() == Some(claimed.as_str()) || matches_host
}
