//! Sign-in, sign-up and sign-out pages.

use super::csrf::{CheckedForm, NoFields};
use super::{
    Layout, PageError, SESSION_COOKIE, WebContext, append_cookie, redirect_with_flash, render,
};
use crate::AppState;
use crate::error::AppError;
use crate::extract::{Client, set_cookie};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    error: Option<String>,
    registration_open: bool,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    email: String,
    display_name: String,
    error: Option<String>,
    error_field: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: WebContext,
) -> Result<Response, PageError> {
    if ctx.user.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    render(&LoginPage {
        layout: Layout::new("Sign in", "login", &ctx),
        email: String::new(),
        error: None,
        registration_open: state.accounts.registration_open(),
    })
}

pub async fn login(
    State(state): State<AppState>,
    ctx: WebContext,
    Client(client): Client,
    CheckedForm(form): CheckedForm<LoginForm>,
) -> Result<Response, PageError> {
    match state
        .accounts
        .authenticate(&form.email, &form.password, &client)
        .await
        .map_err(AppError::from)
    {
        Ok(user) => {
            let (secret, _) = state.accounts.start_session(&user, &client).await?;
            let mut resp = redirect_with_flash(
                "/account",
                "success",
                &format!("Welcome back, {}.", user.display_name),
                &ctx,
            );
            let max_age = state.config.auth.session_ttl_hours * 3600;
            append_cookie(
                &mut resp,
                &set_cookie(SESSION_COOKIE, &secret, max_age, ctx.secure_cookies),
            );
            Ok(resp)
        }
        Err(e @ (AppError::Unauthorized | AppError::TooManyRequests { .. })) => {
            let message = match &e {
                AppError::Unauthorized => {
                    "That email and password do not match an account.".to_owned()
                }
                other => other.public_message(),
            };
            let mut resp = render(&LoginPage {
                layout: Layout::new("Sign in", "login", &ctx),
                email: form.email,
                error: Some(message),
                registration_open: state.accounts.registration_open(),
            })?;
            *resp.status_mut() = e.status();
            e.decorate(&mut resp);
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn register_page(
    State(state): State<AppState>,
    ctx: WebContext,
) -> Result<Response, PageError> {
    if !state.accounts.registration_open() {
        return Err(
            AppError::Forbidden("registration is closed on this marketplace".into()).into(),
        );
    }
    render(&RegisterPage {
        layout: Layout::new("Create an account", "register", &ctx),
        email: String::new(),
        display_name: String::new(),
        error: None,
        error_field: String::new(),
    })
}

pub async fn register(
    State(state): State<AppState>,
    ctx: WebContext,
    Client(client): Client,
    CheckedForm(form): CheckedForm<RegisterForm>,
) -> Result<Response, PageError> {
    let display_name = Some(form.display_name.trim()).filter(|s| !s.is_empty());
    match state
        .accounts
        .register(&form.email, &form.password, display_name, &client.ip)
        .await
        .map_err(AppError::from)
    {
        Ok(user) => {
            let (secret, _) = state.accounts.start_session(&user, &client).await?;
            let mut resp =
                redirect_with_flash("/account", "success", "Your account is ready.", &ctx);
            let max_age = state.config.auth.session_ttl_hours * 3600;
            append_cookie(
                &mut resp,
                &set_cookie(SESSION_COOKIE, &secret, max_age, ctx.secure_cookies),
            );
            Ok(resp)
        }
        Err(e @ (AppError::Validation(_) | AppError::Conflict { .. })) => {
            let field = e
                .details()
                .and_then(|d| d["field"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let mut resp = render(&RegisterPage {
                layout: Layout::new("Create an account", "register", &ctx),
                email: form.email,
                display_name: form.display_name,
                error: Some(e.public_message()),
                error_field: field,
            })?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(NoFields {}): CheckedForm<NoFields>,
) -> Result<Response, PageError> {
    if let Some(p) = ctx.user.as_ref()
        && let Some(session_id) = p.session_id()
    {
        state.accounts.end_session(p, session_id).await?;
    }
    let mut resp = redirect_with_flash("/", "info", "You are signed out.", &ctx);
    append_cookie(
        &mut resp,
        &set_cookie(SESSION_COOKIE, "", 0, ctx.secure_cookies),
    );
    Ok(resp)
}
