//! The home page: what Souk is, the modules admins feature, what is trending this week, the
//! categories with their counts, and a few of the newest and most downloaded modules.

use super::views::ModuleCard;
use super::{Layout, PageError, WebContext, render};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use souk_store::Category;
use std::collections::HashMap;

/// Modules the trending shelf shows.
const TRENDING: u32 = 6;

/// A category on the home page, with its listed modules (subcategories included).
pub struct CategoryCount {
    pub slug: String,
    pub name: String,
    pub count: u64,
    pub children: Vec<CategoryCount>,
}

/// The category tree in its order, each with its count; categories with nothing listed are
/// kept so that the tree reads the same every day.
fn category_counts(all: &[Category], counts: &HashMap<String, u64>) -> Vec<CategoryCount> {
    fn level(
        all: &[Category],
        parent: Option<i64>,
        counts: &HashMap<String, u64>,
        depth: usize,
    ) -> Vec<CategoryCount> {
        let mut cats: Vec<&Category> = all.iter().filter(|c| c.parent_id == parent).collect();
        cats.sort_by(|a, b| a.position.cmp(&b.position).then(a.name.cmp(&b.name)));
        cats.into_iter()
            .map(|c| CategoryCount {
                slug: c.slug.clone(),
                name: c.name.clone(),
                count: counts.get(&c.slug).copied().unwrap_or(0),
                // Two levels on the home page; deeper ones are on the category pages.
                children: if depth == 0 {
                    level(all, Some(c.id), counts, depth + 1)
                } else {
                    Vec::new()
                },
            })
            .collect()
    }
    level(all, None, counts, 0)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    featured: Vec<ModuleCard>,
    trending: Vec<ModuleCard>,
    categories: Vec<CategoryCount>,
    newest: Vec<ModuleCard>,
    popular: Vec<ModuleCard>,
}

pub async fn home(State(state): State<AppState>, ctx: WebContext) -> Result<Response, PageError> {
    let (newest, popular) = super::catalog::highlights(&state, &ctx).await?;
    let featured = state.discovery.featured().await?;
    let trending = state.discovery.trending(None, Some(TRENDING)).await?;
    let categories = state.catalog.categories().await?;
    let counts = state.discovery.category_counts().await?;
    render(&HomePage {
        layout: Layout::new("Souk: the module marketplace", "home", &ctx),
        featured: featured.iter().map(ModuleCard::from).collect(),
        trending: trending.items.iter().map(ModuleCard::from).collect(),
        categories: category_counts(&categories, &counts),
        newest,
        popular,
    })
}
