//! The home page: what Souk is, and a few of the newest and most downloaded modules.

use super::views::ModuleCard;
use super::{Layout, PageError, WebContext, render};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    newest: Vec<ModuleCard>,
    popular: Vec<ModuleCard>,
}

pub async fn home(State(state): State<AppState>, ctx: WebContext) -> Result<Response, PageError> {
    let (newest, popular) = super::catalog::highlights(&state, &ctx).await?;
    render(&HomePage {
        layout: Layout::new("Souk: the module marketplace", "home", &ctx),
        newest,
        popular,
    })
}
