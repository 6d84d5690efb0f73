//! The public catalog pages: browse, a module, a version and its download, a publisher's
//! profile. What a visitor may see is the catalog service's decision (a private module is 404
//! outside its publisher); these handlers only shape it for the templates.

use super::views::{
    CategoryLink, ModuleCard, VersionContents, VersionRow, category_link, date, human_size, initial,
};
use super::{Layout, PageError, WebContext, render};
use crate::AppState;
use crate::download::serve_download;
use crate::extract::Client;
use crate::services::catalog::{Browse, Listing};
use crate::views::catalog::{PublisherView, ScreenshotView, description_html};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use souk_store::{Category, Module, User, Version};

/// Modules per page on the browse and publisher pages.
const PAGE_SIZE: u32 = 24;

/// The signed-in viewer, whose memberships can show private modules.
pub fn viewer(ctx: &WebContext) -> Option<&User> {
    ctx.user.as_ref().map(|p| &p.user)
}

/// Query parameters of a listing. Strings, so that a mangled link is a 400 page from the
/// service rather than the extractor's plain-text rejection.
#[derive(Deserialize, Default)]
pub struct ListQuery {
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

impl ListQuery {
    pub fn browse(&self, publisher: Option<&str>) -> Browse {
        Browse {
            sort: self.sort.clone().filter(|s| !s.is_empty()),
            publisher: publisher.map(str::to_owned),
            cursor: self.cursor.clone().filter(|c| !c.is_empty()),
            limit: Some(
                self.limit
                    .as_deref()
                    .and_then(|l| l.parse().ok())
                    .unwrap_or(PAGE_SIZE),
            ),
        }
    }

    /// The link to the page after `listing` on `path`, keeping the sort and page size.
    pub fn next_url(&self, path: &str, listing: &Listing) -> Option<String> {
        let cursor = listing.next_cursor.as_deref()?;
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(sort) = self.sort.as_deref().filter(|s| !s.is_empty()) {
            q.append_pair("sort", sort);
        }
        if let Some(limit) = self.limit.as_deref().filter(|l| !l.is_empty()) {
            q.append_pair("limit", limit);
        }
        q.append_pair("cursor", cursor);
        Some(format!("{path}?{}", q.finish()))
    }
}

#[derive(Template)]
#[template(path = "modules.html")]
struct ModulesPage {
    layout: Layout,
    by_downloads: bool,
    first_page: bool,
    cards: Vec<ModuleCard>,
    next_url: Option<String>,
}

pub async fn browse(
    State(state): State<AppState>,
    ctx: WebContext,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let ask = q.browse(None);
    let by_downloads = ask.sort.as_deref() == Some("downloads");
    let listing = state.catalog.browse(viewer(&ctx), &ask).await?;
    let title = if by_downloads {
        "Most downloaded modules"
    } else {
        "Newest modules"
    };
    render(&ModulesPage {
        layout: Layout::new(title, "modules", &ctx),
        by_downloads,
        first_page: ask.cursor.is_none(),
        next_url: q.next_url("/modules", &listing),
        cards: listing.modules.iter().map(ModuleCard::from).collect(),
    })
}

/// The newest and the most downloaded modules, a few of each, for the home page.
pub async fn highlights(
    state: &AppState,
    ctx: &WebContext,
) -> Result<(Vec<ModuleCard>, Vec<ModuleCard>), PageError> {
    let ask = |sort: &str| Browse {
        sort: Some(sort.into()),
        limit: Some(6),
        ..Browse::default()
    };
    let newest = state.catalog.browse(viewer(ctx), &ask("newest")).await?;
    let popular = state.catalog.browse(viewer(ctx), &ask("downloads")).await?;
    let cards = |l: Listing| l.modules.iter().map(ModuleCard::from).collect();
    Ok((cards(newest), cards(popular)))
}

struct Current {
    row: VersionRow,
    contents: VersionContents,
}

#[derive(Template)]
#[template(path = "module.html")]
struct ModulePage {
    layout: Layout,
    m: ModuleCard,
    /// The module's category, labelled with its ancestors.
    category: Option<CategoryLink>,
    tags: Vec<String>,
    homepage: Option<String>,
    repository: Option<String>,
    /// Sanitized by `souk_core::markdown::render_markdown`: the one field a template inserts
    /// unescaped.
    description_html: String,
    screenshots: Vec<ScreenshotView>,
    versions: Vec<VersionRow>,
    /// The version the page offers and describes: the latest; without one (only prereleases,
    /// or all yanked) the newest not yanked, else the newest.
    current: Option<Current>,
    member: bool,
}

impl ModulePage {
    fn new(
        layout: Layout,
        m: &Module,
        versions: &[Version],
        screenshots: &[souk_store::Screenshot],
        categories: &[Category],
        member: bool,
    ) -> Self {
        let current = m
            .latest_version
            .as_deref()
            .and_then(|l| versions.iter().find(|v| v.version == l))
            .or_else(|| versions.iter().find(|v| v.yanked_at.is_none()))
            .or(versions.first())
            .map(|v| Current {
                row: VersionRow::new(m, v),
                contents: VersionContents::from(v),
            });
        Self {
            layout,
            m: ModuleCard::from(m),
            category: m.category_id.and_then(|id| category_link(categories, id)),
            tags: m.tags.clone(),
            homepage: m.homepage.clone(),
            repository: m.repository.clone(),
            description_html: description_html(m, versions),
            screenshots: screenshots.iter().map(ScreenshotView::from).collect(),
            versions: VersionRow::list(m, versions),
            current,
            member,
        }
    }
}

/// The module page. A view is counted (once per visitor and day, bots left out: see
/// `services::views`) only on the canonical address, so a redirect is not a second view.
pub async fn module(
    State(state): State<AppState>,
    ctx: WebContext,
    Client(client): Client,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let access = state.catalog.module(viewer(&ctx), &name).await?;
    let m = &access.module;
    if m.name != name {
        // Another spelling of the name (`My_Mod` for `my-mod`): one address per module.
        return Ok(Redirect::permanent(&format!("/modules/{}", m.name)).into_response());
    }
    state.views.record(m.id, &client);
    let versions = state.catalog.versions(&access).await?;
    let screenshots = state.catalog.screenshots(m).await?;
    let categories = state.catalog.categories().await?;
    render(&ModulePage::new(
        Layout::new(m.display_name.clone(), "modules", &ctx),
        m,
        &versions,
        &screenshots,
        &categories,
        access.role.is_some(),
    ))
}

#[derive(Template)]
#[template(path = "version.html")]
struct VersionPage {
    layout: Layout,
    m: ModuleCard,
    v: VersionRow,
    contents: VersionContents,
    sha256: String,
    format: String,
    unpacked_size: String,
    description: String,
    manifest: String,
    readme: Option<String>,
    member: bool,
}

pub async fn version(
    State(state): State<AppState>,
    ctx: WebContext,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let access = state.catalog.module(viewer(&ctx), &name).await?;
    let m = &access.module;
    let v = state.catalog.version(&access, &version).await?;
    render(&VersionPage {
        layout: Layout::new(format!("{} {}", m.display_name, v.version), "modules", &ctx),
        m: ModuleCard::from(m),
        v: VersionRow::new(m, &v),
        contents: VersionContents::from(&v),
        sha256: v.sha256.clone(),
        format: v.format.clone(),
        unpacked_size: human_size(v.unpacked_size.max(0) as u64),
        description: v.description.clone(),
        manifest: v.manifest.clone(),
        readme: v.readme.clone(),
        member: access.role.is_some(),
    })
}

/// The package, for whoever the session cookie says is asking (members get private modules).
pub async fn download(
    State(state): State<AppState>,
    ctx: WebContext,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    Ok(serve_download(&state, viewer(&ctx), &name, &version, &headers).await?)
}

#[derive(Template)]
#[template(path = "publisher.html")]
struct PublisherPage {
    layout: Layout,
    p: PublisherView,
    initial: String,
    since: String,
    cards: Vec<ModuleCard>,
    next_url: Option<String>,
    member: bool,
}

pub async fn publisher(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let p = state.catalog.publisher(&slug).await?;
    let member = match viewer(&ctx) {
        Some(u) => state.catalog.role_in(u, p.id).await?.is_some(),
        None => false,
    };
    let listing = state
        .catalog
        .browse(viewer(&ctx), &q.browse(Some(&p.slug)))
        .await?;
    render(&PublisherPage {
        layout: Layout::new(p.display_name.clone(), "modules", &ctx),
        since: date(p.created_at),
        initial: initial(&p.display_name),
        p: PublisherView::from(&p),
        next_url: q.next_url(&format!("/publishers/{}", p.slug), &listing),
        cards: listing.modules.iter().map(ModuleCard::from).collect(),
        member,
    })
}
