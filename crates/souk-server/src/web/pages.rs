//! The home page.

use super::{Layout, PageError, WebContext, render};
use askama::Template;
use axum::response::Response;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
}

pub async fn home(ctx: WebContext) -> Result<Response, PageError> {
    render(&HomePage {
        layout: Layout::new("Souk: the module marketplace", "home", &ctx),
    })
}
