//! The search pages: results with facets, sorts and pages (`/search`), a category's modules
//! (`/categories/{slug}`, the same view with the category fixed by the address), and the live
//! results the header's search box shows as the visitor types (`/search/live`, an htmx fragment).
//!
//! Convention: the filters travel in the query string, and every facet, sort and page link is
//! the current query with one thing changed, so the page works without JavaScript, can be
//! bookmarked, and the back button undoes a filter. The query string is read by hand (never
//! refused by an extractor): whatever a visitor sends reaches the discovery service, whose
//! refusals become error pages with their status (422 for an unknown filter value or sort, 400
//! for a cursor this server did not issue).

use super::views::ModuleCard;
use super::{Layout, PageError, WebContext, render};
use crate::AppState;
use crate::error::AppError;
use crate::search::query::{
    FacetValue, Facets, MAX_QUERY_CHARS, SearchParams, SearchResults, Sort, bounded,
};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use souk_store::Category;

/// Results per page.
const PAGE_SIZE: u32 = 24;
/// Matches the live results show.
const LIVE_SIZE: u32 = 8;

/// The query and filters of a results page, as its address holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub q: String,
    pub category: Option<String>,
    /// All must match; `tag=a,b` and `tag=a&tag=b` both work.
    pub tags: Vec<String>,
    pub pricing: Option<String>,
    pub platform: Option<String>,
    pub publisher: Option<String>,
    pub verified: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
}

impl Filters {
    /// Reads a raw query string. Unknown keys are ignored; a repeated key keeps its last value
    /// (tags accumulate). Values are kept as sent, for the service to judge.
    pub fn from_query(raw: Option<&str>) -> Filters {
        let mut f = Filters::default();
        let set = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            match &*k {
                "q" => f.q = bounded(v.trim_start(), MAX_QUERY_CHARS).to_owned(),
                "category" => f.category = set(&v),
                "tag" => {
                    for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                        if !f.tags.iter().any(|x| x == t) {
                            f.tags.push(t.to_owned());
                        }
                    }
                }
                "pricing" => f.pricing = set(&v),
                "platform" => f.platform = set(&v),
                "publisher" => f.publisher = set(&v),
                "verified" => f.verified = set(&v),
                "sort" => f.sort = set(&v),
                "cursor" => f.cursor = set(&v),
                _ => {}
            }
        }
        f
    }

    fn params(&self, limit: u32, facets: bool) -> SearchParams {
        SearchParams {
            q: Some(self.q.clone()),
            category: self.category.clone(),
            tag: (!self.tags.is_empty()).then(|| self.tags.join(",")),
            pricing: self.pricing.clone(),
            platform: self.platform.clone(),
            publisher: self.publisher.clone(),
            verified: self.verified.clone(),
            sort: self.sort.clone(),
            cursor: self.cursor.clone(),
            limit: Some(limit),
            facets: Some(facets.to_string()),
        }
    }

    fn has_filters(&self) -> bool {
        self.category.is_some()
            || !self.tags.is_empty()
            || self.pricing.is_some()
            || self.platform.is_some()
            || self.publisher.is_some()
            || self.verified.is_some()
    }

    /// The same query, another page of it: every link but "next" starts again at the top.
    fn changed(&self, change: impl FnOnce(&mut Filters)) -> Filters {
        let mut f = self.clone();
        f.cursor = None;
        change(&mut f);
        f
    }

    /// The query string, `category` left out when the address holds it.
    fn query_string(&self, with_category: bool) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            s.append_pair("q", &self.q);
        }
        let pairs = [
            (
                "category",
                self.category.as_deref().filter(|_| with_category),
            ),
            ("pricing", self.pricing.as_deref()),
            ("platform", self.platform.as_deref()),
            ("publisher", self.publisher.as_deref()),
            ("verified", self.verified.as_deref()),
        ];
        for (k, v) in pairs {
            if let Some(v) = v {
                s.append_pair(k, v);
            }
        }
        if !self.tags.is_empty() {
            s.append_pair("tag", &self.tags.join(","));
        }
        for (k, v) in [("sort", &self.sort), ("cursor", &self.cursor)] {
            if let Some(v) = v {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }
}

/// Which page the results are on; it decides where links lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `/search`: every filter in the query string.
    Search,
    /// `/categories/{slug}`: links that keep a category stay on category pages.
    Category,
}

impl Scope {
    fn href(self, f: &Filters) -> String {
        let (path, query) = match (self, &f.category) {
            (Scope::Category, Some(slug)) => (format!("/categories/{slug}"), f.query_string(false)),
            _ => ("/search".to_owned(), f.query_string(true)),
        };
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }
}

/// A value to filter on, with how many results have it.
pub struct FacetOption {
    pub label: String,
    pub count: u64,
    /// The page with this value's filter added, or taken away when it is `active`.
    pub href: String,
    pub active: bool,
}

/// One level of the category trail above the category's children.
pub struct TrailLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

pub struct FacetGroup {
    pub id: &'static str,
    pub title: &'static str,
    /// Categories only: "All categories" and the chosen category's ancestors.
    pub trail: Vec<TrailLink>,
    pub options: Vec<FacetOption>,
}

/// An active filter, shown above the results with a link that removes it.
pub struct Chip {
    pub label: String,
    pub href: String,
}

pub struct SortTab {
    pub label: &'static str,
    pub href: String,
    pub active: bool,
}

fn sort_label(s: Sort) -> &'static str {
    match s {
        Sort::Relevance => "Best match",
        Sort::Downloads => "Most downloaded",
        Sort::Newest => "Newest",
        Sort::Updated => "Recently updated",
        Sort::Trending => "Trending",
    }
}

fn category_name(all: &[Category], slug: &str) -> String {
    all.iter()
        .find(|c| c.slug == slug)
        .map_or_else(|| slug.to_owned(), |c| c.name.clone())
}

/// Facet values plus the active ones the counts left out (a filter no result matches), so
/// that every active filter can be taken away where it is shown.
fn with_active(values: &[FacetValue], active: &[&str]) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = values.iter().map(|v| (v.value.clone(), v.count)).collect();
    for a in active {
        if !out.iter().any(|(v, _)| v == a) {
            out.push(((*a).to_owned(), 0));
        }
    }
    out
}

/// The category group: with no category chosen, the top-level ones; with one, the trail to it
/// and its subcategories.
fn category_group(scope: Scope, f: &Filters, facets: &Facets, all: &[Category]) -> FacetGroup {
    let count_of = |slug: &str| {
        facets
            .category
            .iter()
            .find(|v| v.value == slug)
            .map_or(0, |v| v.count)
    };
    let link =
        |slug: Option<&str>| scope.href(&f.changed(|f| f.category = slug.map(str::to_owned)));
    let current = f
        .category
        .as_deref()
        .and_then(|slug| all.iter().find(|c| c.slug == slug));
    let mut children: Vec<&Category> = all
        .iter()
        .filter(|c| c.parent_id == current.map(|c| c.id))
        .filter(|c| count_of(&c.slug) > 0)
        .collect();
    children.sort_by(|a, b| a.position.cmp(&b.position).then(a.name.cmp(&b.name)));
    let options = children
        .into_iter()
        .map(|c| FacetOption {
            label: c.name.clone(),
            count: count_of(&c.slug),
            href: link(Some(&c.slug)),
            active: false,
        })
        .collect();
    let mut trail = Vec::new();
    if let Some(current) = current {
        trail.push(TrailLink {
            label: "All categories".into(),
            href: link(None),
            current: false,
        });
        for c in super::views::category_trail(all, current.id) {
            trail.push(TrailLink {
                current: c.slug == current.slug,
                href: link(Some(&c.slug)),
                label: c.name,
            });
        }
    }
    FacetGroup {
        id: "category",
        title: "Category",
        trail,
        options,
    }
}

/// A group whose values are toggled one at a time: choosing one replaces the filter, choosing
/// the active one removes it.
fn single_group(
    id: &'static str,
    title: &'static str,
    values: Vec<(String, u64)>,
    active: Option<&str>,
    label: impl Fn(&str) -> String,
    toggle: impl Fn(Option<String>) -> String,
) -> FacetGroup {
    let options = values
        .into_iter()
        .map(|(value, count)| {
            let on = active == Some(value.as_str());
            FacetOption {
                label: label(&value),
                count,
                href: toggle((!on).then(|| value.clone())),
                active: on,
            }
        })
        .collect();
    FacetGroup {
        id,
        title,
        trail: Vec::new(),
        options,
    }
}

fn verified_label(v: &str) -> String {
    if v == "true" {
        "Verified publishers".into()
    } else {
        "Other publishers".into()
    }
}

fn pricing_label(v: &str) -> String {
    match v {
        "free" => "Free",
        "one_time" => "One-time purchase",
        "subscription" => "Subscription",
        "trial" => "Free trial",
        "usage" => "Pay per use",
        "tier" => "Plan tier",
        other => other,
    }
    .to_owned()
}

/// The `MAJOR.MINOR` line a platform filter names (`1.20.4` is on `1.20`).
fn platform_line(p: &str) -> &str {
    match p.match_indices('.').nth(1) {
        Some((i, _)) => &p[..i],
        None => p,
    }
}

fn groups(scope: Scope, f: &Filters, facets: &Facets, all: &[Category]) -> Vec<FacetGroup> {
    let tags: Vec<&str> = f.tags.iter().map(String::as_str).collect();
    let tag_options = with_active(&facets.tag, &tags)
        .into_iter()
        .map(|(value, count)| {
            let on = tags.contains(&value.as_str());
            let href = scope.href(&f.changed(|f| {
                if on {
                    f.tags.retain(|t| *t != value);
                } else {
                    f.tags.push(value.clone());
                }
            }));
            FacetOption {
                label: value,
                count,
                href,
                active: on,
            }
        })
        .collect();
    let line = f.platform.as_deref().map(platform_line);
    // `any` marks modules that claim every platform: they match every platform filter, so it is
    // not a value to filter on.
    let platforms: Vec<FacetValue> = facets
        .platform
        .iter()
        .filter(|v| v.value != "any")
        .cloned()
        .collect();
    vec![
        category_group(scope, f, facets, all),
        FacetGroup {
            id: "tag",
            title: "Tags",
            trail: Vec::new(),
            options: tag_options,
        },
        single_group(
            "pricing",
            "Pricing",
            with_active(
                &facets.pricing,
                &f.pricing.as_deref().into_iter().collect::<Vec<_>>(),
            ),
            f.pricing.as_deref(),
            pricing_label,
            |v| scope.href(&f.changed(|f| f.pricing = v)),
        ),
        single_group(
            "platform",
            "Platform version",
            with_active(&platforms, &line.into_iter().collect::<Vec<_>>()),
            line,
            str::to_owned,
            |v| scope.href(&f.changed(|f| f.platform = v)),
        ),
        single_group(
            "verified",
            "Publisher",
            with_active(
                &facets.verified,
                &f.verified.as_deref().into_iter().collect::<Vec<_>>(),
            ),
            f.verified.as_deref(),
            verified_label,
            |v| scope.href(&f.changed(|f| f.verified = v)),
        ),
    ]
}

fn chips(scope: Scope, f: &Filters, all: &[Category]) -> Vec<Chip> {
    let mut out = Vec::new();
    let mut chip = |label: String, without: Filters| {
        out.push(Chip {
            label,
            href: scope.href(&without),
        });
    };
    if let Some(c) = &f.category {
        chip(
            format!("Category: {}", category_name(all, c)),
            f.changed(|f| f.category = None),
        );
    }
    for t in &f.tags {
        chip(
            format!("Tag: {t}"),
            f.changed(|f| f.tags.retain(|x| x != t)),
        );
    }
    if let Some(p) = &f.pricing {
        chip(
            format!("Pricing: {}", pricing_label(p)),
            f.changed(|f| f.pricing = None),
        );
    }
    if let Some(p) = &f.platform {
        chip(format!("Platform: {p}"), f.changed(|f| f.platform = None));
    }
    if let Some(p) = &f.publisher {
        chip(format!("Publisher: {p}"), f.changed(|f| f.publisher = None));
    }
    if let Some(v) = &f.verified {
        chip(verified_label(v), f.changed(|f| f.verified = None));
    }
    out
}

fn sort_tabs(scope: Scope, f: &Filters, in_effect: Sort) -> Vec<SortTab> {
    Sort::ALL
        .into_iter()
        // Relevance needs words to be relevant to; without them it is the downloads order.
        .filter(|s| *s != Sort::Relevance || !f.q.trim().is_empty())
        .map(|s| SortTab {
            label: sort_label(s),
            href: scope.href(&f.changed(|f| f.sort = Some(s.as_str().to_owned()))),
            active: s == in_effect,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "search.html")]
struct ResultsPage {
    layout: Layout,
    heading: String,
    q: String,
    /// The category page's category from the root down; empty on `/search`.
    crumbs: Vec<TrailLink>,
    total: u64,
    first_page: bool,
    filtered: bool,
    chips: Vec<Chip>,
    clear_href: String,
    groups: Vec<FacetGroup>,
    sorts: Vec<SortTab>,
    cards: Vec<ModuleCard>,
    next_url: Option<String>,
}

impl ResultsPage {
    fn new(
        layout: Layout,
        heading: String,
        scope: Scope,
        f: &Filters,
        found: &SearchResults,
        all: &[Category],
    ) -> Self {
        let facets = found.facets.clone().unwrap_or_default();
        let crumbs = match (
            scope,
            f.category
                .as_deref()
                .and_then(|s| all.iter().find(|c| c.slug == s)),
        ) {
            (Scope::Category, Some(c)) => super::views::category_trail(all, c.id)
                .into_iter()
                .map(|c| TrailLink {
                    current: Some(&c.slug) == f.category.as_ref(),
                    href: scope.href(&f.changed(|f| f.category = Some(c.slug.clone()))),
                    label: c.name,
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            layout,
            heading,
            q: f.q.clone(),
            crumbs,
            total: found.total,
            first_page: f.cursor.is_none(),
            filtered: f.has_filters(),
            chips: chips(scope, f, all),
            clear_href: Scope::Search.href(&Filters {
                q: f.q.clone(),
                sort: f.sort.clone(),
                ..Filters::default()
            }),
            groups: groups(scope, f, &facets, all)
                .into_iter()
                .filter(|g| !g.options.is_empty() || !g.trail.is_empty())
                .collect(),
            sorts: sort_tabs(scope, f, found.sort),
            cards: found.items.iter().map(ModuleCard::from).collect(),
            next_url: found
                .next_cursor()
                .map(|c| scope.href(&f.changed(|f| f.cursor = Some(c)))),
        }
    }
}

/// `GET /search`: results for the query and filters in the address.
pub async fn search(
    State(state): State<AppState>,
    ctx: WebContext,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let f = Filters::from_query(raw.as_deref());
    let found = state
        .discovery
        .search(&f.params(PAGE_SIZE, true), None)
        .await?;
    let categories = state.catalog.categories().await?;
    let (title, heading) = if f.q.trim().is_empty() {
        ("Search".to_owned(), "All modules".to_owned())
    } else {
        (
            format!("Search: {}", f.q),
            format!("Results for “{}”", f.q.trim()),
        )
    };
    let mut layout = Layout::new(title, "search", &ctx);
    layout.search_q = f.q.clone();
    render(&ResultsPage::new(
        layout,
        heading,
        Scope::Search,
        &f,
        &found,
        &categories,
    ))
}

/// `GET /categories/{slug}`: the category's modules (subcategories included), with the same
/// filters and sorts as search. An unknown category is 404.
pub async fn category(
    State(state): State<AppState>,
    ctx: WebContext,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let categories = state.catalog.categories().await?;
    let Some(category) = categories.iter().find(|c| c.slug == slug) else {
        return Err(AppError::NotFound.into());
    };
    let mut f = Filters::from_query(raw.as_deref());
    f.category = Some(category.slug.clone());
    let found = state
        .discovery
        .search(&f.params(PAGE_SIZE, true), None)
        .await?;
    let mut layout = Layout::new(category.name.clone(), "modules", &ctx);
    layout.search_q = f.q.clone();
    render(&ResultsPage::new(
        layout,
        category.name.clone(),
        Scope::Category,
        &f,
        &found,
        &categories,
    ))
}

#[derive(Template)]
#[template(path = "_live.html")]
struct LiveResults {
    q: String,
    cards: Vec<ModuleCard>,
    all_url: String,
}

/// `GET /search/live`: the header search box's live results, an HTML fragment for htmx to put
/// under the box. Asked for without htmx (a bookmark, a browser without JavaScript), it sends
/// the visitor to the results page instead.
pub async fn live(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let f = Filters::from_query(raw.as_deref());
    let query = Filters {
        q: f.q.clone(),
        ..Filters::default()
    };
    if !headers.contains_key("hx-request") {
        return Ok(Redirect::to(&Scope::Search.href(&query)).into_response());
    }
    if f.q.trim().is_empty() {
        // An empty fragment: htmx clears the results under the box.
        return Ok(().into_response());
    }
    let found = state
        .discovery
        .search(&query.params(LIVE_SIZE, false), Some(Sort::Relevance))
        .await?;
    render(&LiveResults {
        q: f.q.trim().to_owned(),
        cards: found.items.iter().map(ModuleCard::from).collect(),
        all_url: Scope::Search.href(&query),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_read_any_query_string() {
        let f = Filters::from_query(Some(
            "q=+world%20edit&tag=pvp,chat&tag=pvp&tag=&sort=newest&sort=downloads&x=1&category=",
        ));
        assert_eq!(f.q, "world edit");
        assert_eq!(f.tags, ["pvp", "chat"]);
        assert_eq!(f.sort.as_deref(), Some("downloads"));
        assert_eq!(f.category, None);
        let long = format!("q={}", "a".repeat(5000));
        assert_eq!(Filters::from_query(Some(&long)).q.len(), MAX_QUERY_CHARS);
        assert_eq!(Filters::from_query(Some("%FF%FE=%ZZ")), Filters::default());
        assert_eq!(Filters::from_query(None), Filters::default());
    }

    #[test]
    fn links_change_one_thing_and_start_at_the_top() {
        let f = Filters::from_query(Some("q=bank&category=shops&tag=pvp&cursor=abc"));
        assert_eq!(
            Scope::Search.href(&f),
            "/search?q=bank&category=shops&tag=pvp&cursor=abc"
        );
        assert_eq!(
            Scope::Category.href(&f.changed(|f| f.tags.clear())),
            "/categories/shops?q=bank"
        );
        assert_eq!(
            Scope::Category.href(&f.changed(|f| f.category = None)),
            "/search?q=bank&tag=pvp"
        );
        assert_eq!(Scope::Search.href(&Filters::default()), "/search");
    }

    /// No route can verify a publisher yet, so the badge is checked on a rendered page.
    #[test]
    fn verified_publishers_carry_a_badge() {
        use crate::search::schema::{Card, CardPublisher};
        let card = |name: &str, verified| Card {
            name: name.into(),
            display_name: name.into(),
            summary: String::new(),
            publisher: CardPublisher {
                slug: format!("{name}-team"),
                display_name: format!("{name} team"),
                verified,
            },
            latest_version: "1.0.0".into(),
            downloads: 3,
            category: None,
            tags: Vec::new(),
            pricing: "free".into(),
            license: "MIT".into(),
            platform: "*".into(),
            icon_url: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let found = SearchResults {
            total: 2,
            items: vec![card("trusted", true), card("other", false)],
            sort: Sort::Downloads,
            next_offset: None,
            facets: None,
        };
        let layout = Layout {
            title: "Search".into(),
            user_name: None,
            user_role: None,
            csrf_token: String::new(),
            flash: None,
            nav: "search",
            search_q: String::new(),
        };
        let f = Filters::default();
        let page = ResultsPage::new(layout, "All modules".into(), Scope::Search, &f, &found, &[]);
        let html = page.render().unwrap();
        assert!(html.contains(
            r#"<a href="/publishers/trusted-team">trusted team</a> <span class="badge verified" title="Verified publisher">verified</span>"#
        ), "{html}");
        assert!(html.contains(r#"<a href="/publishers/other-team">other team</a></span>"#));
    }

    #[test]
    fn platform_filters_name_their_line() {
        assert_eq!(platform_line("1.20.4"), "1.20");
        assert_eq!(platform_line("1.20"), "1.20");
    }
}
