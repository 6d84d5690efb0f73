//! Administrators' pages: the featured list (`/admin/featured`), shown in order, with forms to
//! feature a module by name, move one up or down, and unfeature one.
//!
//! Each form changes one thing, and the handler writes the whole new list through
//! `Discovery::set_featured`, which checks the administrator and every name; the list is read
//! just before, so two administrators editing at the same moment may overwrite each other's
//! change (the last write wins, whole). Someone signed in who is not an administrator gets the
//! 403 page; a signed-out visitor is sent to sign in.

use super::csrf::CheckedForm;
use super::{Layout, PageError, WebContext, redirect_with_flash, render};
use crate::AppState;
use crate::error::AppError;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use souk_store::Visibility;

const PAGE: &str = "/admin/featured";

pub struct FeaturedRow {
    pub name: String,
    pub display_name: String,
    pub publisher_name: String,
    /// Public and not archived: shown on the home page. A module that stopped being listed
    /// stays on the list, hidden, until it is listed again or removed here.
    pub listed: bool,
    pub first: bool,
    pub last: bool,
}

#[derive(Template)]
#[template(path = "admin_featured.html")]
struct FeaturedPage {
    layout: Layout,
    rows: Vec<FeaturedRow>,
    max: usize,
}

pub async fn featured(
    State(state): State<AppState>,
    ctx: WebContext,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    let modules = state.discovery.featured_for_admin(&user.user).await?;
    let n = modules.len();
    let rows = modules
        .into_iter()
        .enumerate()
        .map(|(i, m)| FeaturedRow {
            listed: m.visibility == Visibility::Public && m.archived_at.is_none(),
            name: m.name,
            display_name: m.display_name,
            publisher_name: m.publisher_name,
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    render(&FeaturedPage {
        layout: Layout::new("Featured modules", "admin", &ctx),
        rows,
        max: crate::services::discovery::MAX_FEATURED,
    })
}

/// One change to the featured list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Add,
    Up,
    Down,
    Remove,
}

impl Edit {
    /// The list with this change made to `name`, or why it cannot be made.
    pub fn apply(&self, mut names: Vec<String>, name: &str) -> Result<Vec<String>, String> {
        let key = souk_core::normalize_name(name);
        let at = names
            .iter()
            .position(|n| souk_core::normalize_name(n) == key);
        match (self, at) {
            (_, None) if name.is_empty() => Err("Enter the name of a module.".into()),
            (Edit::Add, Some(_)) => Err(format!("{name} is featured already.")),
            (Edit::Add, None) => {
                names.push(name.to_owned());
                Ok(names)
            }
            (_, None) => Err(format!("{name} is not on the featured list.")),
            (Edit::Up, Some(i)) => {
                names.swap(i, i.saturating_sub(1));
                Ok(names)
            }
            (Edit::Down, Some(i)) => {
                let below = (i + 1).min(names.len() - 1);
                names.swap(i, below);
                Ok(names)
            }
            (Edit::Remove, Some(i)) => {
                names.remove(i);
                Ok(names)
            }
        }
    }

    fn done(&self, name: &str) -> String {
        match self {
            Edit::Add => format!("{name} is featured."),
            Edit::Up => format!("{name} moved up."),
            Edit::Down => format!("{name} moved down."),
            Edit::Remove => format!("{name} is no longer featured."),
        }
    }
}

#[derive(Deserialize)]
pub struct FeaturedForm {
    #[serde(default)]
    name: String,
    /// For moves: `up` or `down`.
    #[serde(default)]
    direction: String,
}

async fn edit(
    state: &AppState,
    ctx: &WebContext,
    form: &FeaturedForm,
    edit: Edit,
) -> Result<Response, PageError> {
    let user = ctx.require_user()?;
    // Also the administrator check: anyone else gets the 403 page, not a flash.
    let current: Vec<String> = state
        .discovery
        .featured_for_admin(&user.user)
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect();
    let name = form.name.trim();
    let names = match edit.apply(current, name) {
        Ok(names) => names,
        Err(why) => return Ok(redirect_with_flash(PAGE, "error", &why, ctx)),
    };
    match state.discovery.set_featured(&user.actor(), &names).await {
        Ok(_) => Ok(redirect_with_flash(PAGE, "success", &edit.done(name), ctx)),
        // The service names the list entry (`modules[3]`); the message alone reads better here.
        Err(AppError::Unprocessable { message, .. }) => {
            Ok(redirect_with_flash(PAGE, "error", &message, ctx))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn add(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(form): CheckedForm<FeaturedForm>,
) -> Result<Response, PageError> {
    edit(&state, &ctx, &form, Edit::Add).await
}

pub async fn move_one(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(form): CheckedForm<FeaturedForm>,
) -> Result<Response, PageError> {
    let direction = match form.direction.as_str() {
        "up" => Edit::Up,
        "down" => Edit::Down,
        _ => {
            return Err(AppError::unprocessable(
                "invalid_direction",
                "direction",
                "a module moves `up` or `down`",
            )
            .into());
        }
    };
    edit(&state, &ctx, &form, direction).await
}

pub async fn remove(
    State(state): State<AppState>,
    ctx: WebContext,
    CheckedForm(form): CheckedForm<FeaturedForm>,
) -> Result<Response, PageError> {
    edit(&state, &ctx, &form, Edit::Remove).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn edits_change_one_place_in_the_list() {
        let l = list(&["a", "b", "c"]);
        assert_eq!(
            Edit::Add.apply(l.clone(), "d").unwrap(),
            ["a", "b", "c", "d"]
        );
        assert_eq!(Edit::Up.apply(l.clone(), "b").unwrap(), ["b", "a", "c"]);
        assert_eq!(Edit::Up.apply(l.clone(), "a").unwrap(), ["a", "b", "c"]);
        assert_eq!(Edit::Down.apply(l.clone(), "b").unwrap(), ["a", "c", "b"]);
        assert_eq!(Edit::Down.apply(l.clone(), "c").unwrap(), ["a", "b", "c"]);
        assert_eq!(Edit::Remove.apply(l.clone(), "a").unwrap(), ["b", "c"]);
        assert!(
            Edit::Add
                .apply(l.clone(), "B")
                .unwrap_err()
                .contains("already")
        );
        assert!(
            Edit::Remove
                .apply(l.clone(), "z")
                .unwrap_err()
                .contains("not on")
        );
        assert!(Edit::Add.apply(l, "").unwrap_err().contains("Enter"));
    }
}
