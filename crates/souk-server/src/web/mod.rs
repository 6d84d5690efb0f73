//! The server-rendered web UI: layout, sign-in and sign-up, the account page with token
//! management, the catalog and the publisher portal, search and category pages, the
//! moderator console, the administrators' featured list, the API reference, error pages and
//! embedded assets.
//!
//! Convention: every page gets a [`WebContext`] from the [`context`] middleware, which issues the
//! `souk_csrf` cookie, refuses cross-site state-changing requests and reads the one-shot flash
//! message. Every form post carries `csrf_token` and is read through [`csrf::CheckedForm`] (or the
//! multipart reader in [`upload`]), which refuses it with 403 unless the token matches this
//! visitor's cookie and session; see [`csrf`].

pub mod account;
pub mod admin;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod console;
pub mod console_publishers;
pub mod csrf;
pub mod docs;
pub mod jobs;
pub mod pages;
pub mod portal;
pub mod portal_access;
pub mod portal_trust;
pub mod search;
pub mod upload;
pub mod views;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{cookie, set_cookie};
use crate::services::accounts::Principal;
use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const SESSION_COOKIE: &str = "souk_session";
const CSRF_COOKIE: &str = "souk_csrf";
const FLASH_COOKIE: &str = "souk_flash";

/// The web pages. Upload forms get their own body limits: the file's limit plus room for the
/// rest of the form, over the application's small default.
pub fn router(config: &crate::Config) -> Router<AppState> {
    let limit = |path: &str| DefaultBodyLimit::max(crate::body_limits::limit_for(config, path));
    let image_form = limit("/portal/modules/{name}/icon");
    Router::new()
        .route("/", get(pages::home))
        .route("/modules", get(catalog::browse))
        .route("/modules/{name}", get(catalog::module))
        .route("/modules/{name}/versions/{version}", get(catalog::version))
        .route(
            "/modules/{name}/versions/{version}/download",
            get(catalog::download),
        )
        .route("/publishers/{slug}", get(catalog::publisher))
        .route("/search", get(search::search))
        .route("/search/live", get(search::live))
        .route("/categories/{slug}", get(search::category))
        .route("/admin/audit", get(audit::page))
        .route("/admin/jobs", get(jobs::page))
        .route("/admin/jobs/{id}/retry", post(jobs::retry))
        .route("/admin/audit.csv", get(audit::csv))
        .route("/admin", get(console::home))
        .route("/admin/queue", get(console::queue))
        .route(
            "/admin/modules/{name}/versions/{version}",
            get(console::review),
        )
        .route(
            "/admin/modules/{name}/versions/{version}/approve",
            post(console::approve),
        )
        .route(
            "/admin/modules/{name}/versions/{version}/reject",
            post(console::reject),
        )
        .route(
            "/admin/modules/{name}/versions/{version}/quarantine",
            post(console::quarantine),
        )
        .route(
            "/admin/modules/{name}/versions/{version}/release",
            post(console::release),
        )
        .route("/admin/publishers", get(console_publishers::list))
        .route(
            "/admin/publishers/{slug}/verify",
            post(console_publishers::verify),
        )
        .route(
            "/admin/publishers/{slug}/unverify",
            post(console_publishers::unverify),
        )
        .route(
            "/admin/publishers/{slug}/suspend",
            post(console_publishers::suspend),
        )
        .route(
            "/admin/publishers/{slug}/unsuspend",
            post(console_publishers::unsuspend),
        )
        .route("/admin/featured", get(admin::featured))
        .route("/admin/featured/add", post(admin::add))
        .route("/admin/featured/move", post(admin::move_one))
        .route("/admin/featured/remove", post(admin::remove))
        .route("/portal", get(portal::index))
        .route("/portal/publishers", post(portal::create_publisher))
        .route("/portal/publishers/{slug}", get(portal::publisher))
        .route(
            "/portal/publishers/{slug}/profile",
            post(portal::update_profile),
        )
        .route(
            "/portal/publishers/{slug}/logo",
            post(portal::upload_logo).layer(image_form),
        )
        .route(
            "/portal/publishers/{slug}/members",
            post(portal::add_member),
        )
        .route(
            "/portal/publishers/{slug}/members/{user_id}/role",
            post(portal::set_role),
        )
        .route(
            "/portal/publishers/{slug}/members/{user_id}/remove",
            post(portal::remove_member),
        )
        .route("/portal/publishers/{slug}/keys", post(portal::add_key))
        .route(
            "/portal/publishers/{slug}/notices/read",
            post(portal_trust::mark_read),
        )
        .route(
            "/portal/publishers/{slug}/verification",
            post(portal_trust::request_verification),
        )
        .route(
            "/portal/publishers/{slug}/keys/{id}/revoke",
            post(portal::revoke_key),
        )
        .route(
            "/portal/publishers/{slug}/modules",
            post(portal::create_module),
        )
        .route(
            "/portal/modules/{name}",
            get(portal::module).post(portal::edit_module),
        )
        .route(
            "/portal/modules/{name}/icon",
            post(portal::upload_icon).layer(image_form),
        )
        .route(
            "/portal/modules/{name}/screenshots",
            post(portal::add_screenshot).layer(image_form),
        )
        .route(
            "/portal/modules/{name}/screenshots/{id}/delete",
            post(portal::delete_screenshot),
        )
        .route("/portal/modules/{name}/archive", post(portal::archive))
        .route("/portal/modules/{name}/unarchive", post(portal::unarchive))
        .route(
            "/portal/modules/{name}/versions",
            post(portal::upload_version).layer(limit("/portal/modules/{name}/versions")),
        )
        .route(
            "/portal/modules/{name}/versions/{version}",
            get(portal_trust::version),
        )
        .route(
            "/portal/modules/{name}/versions/{version}/rescan",
            post(portal_trust::rescan),
        )
        .route(
            "/portal/modules/{name}/versions/{version}/appeal",
            post(portal_trust::appeal),
        )
        .route(
            "/portal/modules/{name}/versions/{version}/yank",
            post(portal::yank),
        )
        .route(
            "/portal/modules/{name}/versions/{version}/unyank",
            post(portal::unyank),
        )
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/register", get(auth::register_page).post(auth::register))
        .route("/logout", post(auth::logout))
        .route("/account", get(account::page))
        .route("/account/profile", post(account::update_profile))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/account/sessions/{id}/end", post(account::end_session))
        .route("/api/docs", get(docs::page))
}

/// Embedded assets: kept out of [`router`] so that fetching a stylesheet neither looks up a
/// session nor sets a CSRF cookie.
pub fn assets_router() -> Router<AppState> {
    Router::new().route("/assets/{*path}", get(assets::serve))
}

/// A one-shot message shown on the next page.
#[derive(Debug, Clone)]
pub struct Flash {
    /// `success`, `error` or `info`.
    pub kind: String,
    pub message: String,
}

impl Flash {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}\n{}", self.kind, self.message))
    }

    fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (kind, message) = text.split_once('\n')?;
        matches!(kind, "success" | "error" | "info").then(|| Flash {
            kind: kind.into(),
            message: message.chars().take(500).collect(),
        })
    }
}

/// Per-request facts every page needs.
#[derive(Debug, Clone)]
pub struct WebContext {
    /// The token forms must echo in `csrf_token`.
    pub csrf_token: String,
    pub flash: Option<Flash>,
    pub user: Option<Principal>,
    pub secure_cookies: bool,
}

impl WebContext {
    /// The signed-in user, or a redirect to the sign-in page.
    pub fn require_user(&self) -> Result<&Principal, PageError> {
        self.user
            .as_ref()
            .ok_or_else(|| PageError(AppError::Unauthorized))
    }

    /// A signed-in moderator or admin; anyone else signed in gets the 403 page.
    pub fn require_staff(&self) -> Result<&Principal, PageError> {
        let user = self.require_user()?;
        crate::policy::require_staff(&user.user)?;
        Ok(user)
    }
}

impl FromRequestParts<AppState> for WebContext {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, PageError> {
        parts
            .extensions
            .get::<WebContext>()
            .cloned()
            .ok_or_else(|| {
                PageError(AppError::internal(anyhow::anyhow!(
                    "web context middleware missing"
                )))
            })
    }
}

/// Middleware for web routes: resolves the session cookie, issues the CSRF cookie, reads and
/// clears the flash message.
pub async fn context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    if !csrf::same_origin(req.method(), headers, &state.config.effective_public_url()) {
        return error_page(
            StatusCode::FORBIDDEN,
            "This form was sent from another site. Go back, reload the page and try again.",
        );
    }
    let existing_csrf = cookie(headers, CSRF_COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let flash = cookie(headers, FLASH_COOKIE).and_then(|v| Flash::decode(&v));
    let user = match cookie(headers, SESSION_COOKIE) {
        Some(secret) => {
            let client = crate::extract::client_info(headers, req.extensions(), &state);
            state
                .accounts
                .resolve(&secret, &client.ip)
                .await
                .map_err(AppError::from)
                .ok()
        }
        None => None,
    };
    let csrf_cookie = existing_csrf
        .clone()
        .unwrap_or_else(souk_core::secret::random_hex32);
    let secure = state.config.secure_cookies();
    let ctx = WebContext {
        csrf_token: csrf::token_for(
            &state,
            &csrf_cookie,
            user.as_ref().and_then(Principal::session_id),
        ),
        flash: flash.clone(),
        user,
        secure_cookies: secure,
    };
    req.extensions_mut().insert(ctx);
    let mut resp = next.run(req).await;
    if existing_csrf.is_none() {
        append_cookie(
            &mut resp,
            &set_cookie(CSRF_COOKIE, &csrf_cookie, 400 * 86_400, secure),
        );
    }
    let sets_flash = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(FLASH_COOKIE.as_bytes()));
    if flash.is_some() && !sets_flash {
        append_cookie(&mut resp, &set_cookie(FLASH_COOKIE, "", 0, secure));
    }
    resp
}

pub fn append_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A redirect that shows `flash` on the page it leads to.
pub fn redirect_with_flash(to: &str, kind: &str, message: &str, ctx: &WebContext) -> Response {
    let mut resp = Redirect::to(to).into_response();
    let flash = Flash {
        kind: kind.into(),
        message: message.into(),
    };
    append_cookie(
        &mut resp,
        &set_cookie(FLASH_COOKIE, &flash.encode(), 60, ctx.secure_cookies),
    );
    resp
}

/// A refusal shown as an error flash on `to`; a missing object or a server fault is an error
/// page instead, since there is no form to go back to.
pub fn refusal(ctx: &WebContext, to: &str, e: AppError) -> Result<Response, PageError> {
    match e {
        AppError::NotFound | AppError::Unauthorized | AppError::Internal(_) => Err(e.into()),
        e => Ok(redirect_with_flash(to, "error", &e.public_message(), ctx)),
    }
}

/// Back to `to`, with `success(value)` or the refusal shown there.
pub fn back<T>(
    ctx: &WebContext,
    to: &str,
    result: AppResult<T>,
    success: impl FnOnce(T) -> String,
) -> Result<Response, PageError> {
    match result {
        Ok(v) => Ok(redirect_with_flash(to, "success", &success(v), ctx)),
        Err(e) => refusal(ctx, to, e),
    }
}

/// What every page's layout shows.
pub struct Layout {
    pub title: String,
    pub user_name: Option<String>,
    pub user_role: Option<String>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
    pub nav: &'static str,
    /// What the header's search box holds: the query on the search page, else nothing.
    pub search_q: String,
}

impl Layout {
    pub fn new(title: impl Into<String>, nav: &'static str, ctx: &WebContext) -> Self {
        Self {
            title: title.into(),
            user_name: ctx.user.as_ref().map(|p| p.user.display_name.clone()),
            user_role: ctx.user.as_ref().map(|p| p.user.role.to_string()),
            csrf_token: ctx.csrf_token.clone(),
            flash: ctx.flash.clone(),
            nav,
            search_q: String::new(),
        }
    }

    /// Whether the header shows the administrators' links. Only a hint: every admin page and
    /// form is checked by its service.
    pub fn is_admin(&self) -> bool {
        self.user_role.as_deref() == Some(souk_core::Role::Admin.as_str())
    }

    /// Whether the header links to the moderator console (moderators and admins); a hint
    /// like [`Layout::is_admin`].
    pub fn is_staff(&self) -> bool {
        self.is_admin() || self.user_role.as_deref() == Some(souk_core::Role::Moderator.as_str())
    }
}

/// Renders a template as an HTML response.
pub fn render<T: Template>(t: &T) -> Result<Response, PageError> {
    t.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| PageError(AppError::internal(e)))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: String,
    message: String,
}

/// An error on a web page: an HTML page with the right status, or a redirect to sign in.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<crate::services::accounts::AccountError> for PageError {
    fn from(e: crate::services::accounts::AccountError) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log();
        if matches!(err, AppError::Unauthorized) {
            return Redirect::to("/login").into_response();
        }
        error_page(err.status(), &err.public_message())
    }
}

/// A plain HTML error page, for errors and unknown pages.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let heading = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    let message = if status.is_server_error() {
        "We could not finish that request. Try again in a moment."
    } else {
        message
    };
    let page = ErrorPage {
        layout: Layout {
            title: heading.into(),
            user_name: None,
            user_role: None,
            csrf_token: String::new(),
            flash: None,
            nav: "",
            search_q: String::new(),
        },
        status: status.as_u16(),
        heading: heading.into(),
        message: message.into(),
    };
    let html = page
        .render()
        .unwrap_or_else(|_| format!("<h1>{}</h1>", status.as_u16()));
    (status, Html(html)).into_response()
}
