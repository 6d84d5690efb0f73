//! Discovery: search, autocomplete suggestions, featured and trending lists, and their admin
//! side (curating the featured list, rebuilding the index).

use super::catalog_views::ModuleSummaryView;
use crate::AppState;
use crate::error::{AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiQuery, ApiUser};
use crate::search::query::{Facets, SearchParams, SearchResults, Sort};
use crate::search::schema::Card;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<Card>,
    /// How many modules match in all.
    pub total: u64,
    /// The sort in effect.
    pub sort: String,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// Counts per filter value over every match; absent with `facets=false`.
    pub facets: Option<Facets>,
}

impl From<SearchResults> for SearchPage {
    fn from(r: SearchResults) -> Self {
        Self {
            next_cursor: r.next_cursor(),
            total: r.total,
            sort: r.sort.as_str().to_owned(),
            facets: r.facets,
            items: r.items,
        }
    }
}

/// Full-text search over listed modules, with filters, sorts, facet counts and cursor pages.
/// Without `q` it browses. Words may be prefixes (the last one) and may hold typos; an exact
/// module name comes first.
#[utoipa::path(get, path = "/api/v1/search", tag = "discovery", params(SearchParams),
    responses((status = 200, body = SearchPage),
        (status = 400, description = "A cursor this server did not issue", body = ErrorEnvelope),
        (status = 422, description = "An unknown filter value or sort", body = ErrorEnvelope)))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> AppResult<Json<SearchPage>> {
    Ok(Json(state.discovery.search(&params, None).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What the visitor has typed so far.
    pub q: Option<String>,
    /// 1 to 20, default 8.
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestion {
    pub name: String,
    pub display_name: String,
    pub summary: String,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
}

/// Autocomplete: the best matches for a partly typed query, names only.
#[utoipa::path(get, path = "/api/v1/search/suggest", tag = "discovery", params(SuggestParams),
    responses((status = 200, body = Suggestions)))]
pub async fn suggest(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SuggestParams>,
) -> AppResult<Json<Suggestions>> {
    let q = params.q.unwrap_or_default();
    if q.trim().is_empty() {
        return Ok(Json(Suggestions { items: Vec::new() }));
    }
    let search = SearchParams {
        q: Some(q),
        limit: Some(params.limit.unwrap_or(8).clamp(1, 20)),
        facets: Some("false".into()),
        ..SearchParams::default()
    };
    let found = state
        .discovery
        .search(&search, Some(Sort::Relevance))
        .await?;
    Ok(Json(Suggestions {
        items: found
            .items
            .into_iter()
            .map(|c| Suggestion {
                name: c.name,
                display_name: c.display_name,
                summary: c.summary,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ModuleList {
    pub items: Vec<ModuleSummaryView>,
}

/// The modules admins feature, in their order.
#[utoipa::path(get, path = "/api/v1/featured", tag = "discovery",
    responses((status = 200, body = ModuleList)))]
pub async fn featured(State(state): State<AppState>) -> AppResult<Json<ModuleList>> {
    let modules = state.discovery.featured().await?;
    Ok(Json(ModuleList {
        items: modules.iter().map(ModuleSummaryView::from).collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendingParams {
    /// Only this category (and its subcategories).
    pub category: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct CardList {
    pub items: Vec<Card>,
}

/// Modules whose downloads (and, at a fifth of the weight, page views) grew most over the last
/// 7 days against the 7 before.
#[utoipa::path(get, path = "/api/v1/trending", tag = "discovery", params(TrendingParams),
    responses((status = 200, body = CardList), (status = 422, body = ErrorEnvelope)))]
pub async fn trending(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<TrendingParams>,
) -> AppResult<Json<CardList>> {
    let found = state
        .discovery
        .trending(params.category.as_deref(), params.limit)
        .await?;
    Ok(Json(CardList { items: found.items }))
}

/// Every module on the featured list, including ones no longer listed (admins).
#[utoipa::path(get, path = "/api/v1/admin/featured", tag = "discovery", security(("bearer" = [])),
    responses((status = 200, body = ModuleList), (status = 401, body = ErrorEnvelope),
        (status = 403, body = ErrorEnvelope)))]
pub async fn admin_featured(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
) -> AppResult<Json<ModuleList>> {
    let modules = state.discovery.featured_for_admin(&p.user).await?;
    Ok(Json(ModuleList {
        items: modules.iter().map(ModuleSummaryView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct FeaturedRequest {
    /// Module names in the order they should show; an empty list unfeatures everything.
    pub modules: Vec<String>,
}

/// Replaces the featured list (admins): feature, reorder and unfeature in one call.
#[utoipa::path(put, path = "/api/v1/admin/featured", tag = "discovery", security(("bearer" = [])),
    request_body = FeaturedRequest,
    responses((status = 200, body = ModuleList), (status = 403, body = ErrorEnvelope),
        (status = 422, description = "An unknown or repeated module", body = ErrorEnvelope)))]
pub async fn set_featured(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<FeaturedRequest>,
) -> AppResult<Json<ModuleList>> {
    let modules = state
        .discovery
        .set_featured(&p.actor(), &req.modules)
        .await?;
    Ok(Json(ModuleList {
        items: modules.iter().map(ModuleSummaryView::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ReindexAccepted {
    /// The change-log entry that asks every node to rebuild.
    pub change_id: i64,
}

/// Asks every node to rebuild its search index from the database (admins). Searches keep
/// answering from the old index until the new one is committed.
#[utoipa::path(post, path = "/api/v1/admin/search/reindex", tag = "discovery", security(("bearer" = [])),
    responses((status = 202, body = ReindexAccepted), (status = 403, body = ErrorEnvelope)))]
pub async fn reindex(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
) -> AppResult<(StatusCode, Json<ReindexAccepted>)> {
    let change_id = state.discovery.request_reindex(&p.actor()).await?;
    Ok((StatusCode::ACCEPTED, Json(ReindexAccepted { change_id })))
}
