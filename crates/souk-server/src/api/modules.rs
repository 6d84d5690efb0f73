//! Modules: browse, read, create, edit, archive, media; the category tree; stored images.

use super::catalog_views::{
    CategoryView, ModulePage, ModuleSummaryView, ModuleView, ScreenshotView, VersionView,
    description_html,
};
use crate::AppState;
use crate::error::{AppError, AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ApiUser, ImageBody, MaybeApiUser};
use crate::search::query::{SearchParams, Sort};
use crate::services::catalog::{Browse, ModuleAccess, ModuleEdit};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// Lists modules. Everyone gets listed modules from the search index, with the same filters and
/// sorts as `GET /api/v1/search` (default sort `newest`). A member of the `publisher` asked for
/// gets that publisher's every module instead, private and archived ones included, from the
/// database (sorts `newest` and `downloads`).
#[utoipa::path(operation_id = "list_modules", get, path = "/api/v1/modules", tag = "modules", params(SearchParams),
    responses((status = 200, body = ModulePage), (status = 400, body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    MaybeApiUser(viewer): MaybeApiUser,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> AppResult<Json<ModulePage>> {
    if let (Some(slug), Some(viewer)) = (params.publisher.as_deref(), viewer.as_ref())
        && state.catalog.is_member_of(&viewer.user, slug).await?
    {
        let listing = state
            .catalog
            .browse(
                Some(&viewer.user),
                &Browse {
                    sort: params.sort.clone(),
                    publisher: params.publisher.clone(),
                    cursor: params.cursor.clone(),
                    limit: params.limit,
                },
            )
            .await?;
        return Ok(Json(ModulePage {
            items: listing
                .modules
                .iter()
                .map(ModuleSummaryView::from)
                .collect(),
            next_cursor: listing.next_cursor,
        }));
    }
    let params = SearchParams {
        facets: Some("false".into()),
        ..params
    };
    let found = state.discovery.search(&params, Some(Sort::Newest)).await?;
    Ok(Json(ModulePage {
        next_cursor: found.next_cursor(),
        items: found
            .items
            .iter()
            .map(ModuleSummaryView::from_card)
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateModuleRequest {
    /// Technical name: 2 to 64 lowercase letters, digits, `-` and `_`, starting with a letter.
    pub name: String,
    /// The owning publisher's slug; the caller must be a member.
    pub publisher: String,
    pub display_name: Option<String>,
    pub summary: Option<String>,
    /// `public` (default), `unlisted` or `private`.
    pub visibility: Option<String>,
}

/// Creates a module before its first version (publishing a new name also creates it).
#[utoipa::path(operation_id = "create_module", post, path = "/api/v1/modules", tag = "modules", security(("bearer" = [])),
    request_body = CreateModuleRequest,
    responses((status = 201, body = ModuleView), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "Name taken, also after normalization", body = ErrorEnvelope),
        (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<CreateModuleRequest>,
) -> AppResult<(StatusCode, Json<ModuleView>)> {
    let m = state
        .catalog
        .create_module(
            &p.user,
            &req.name,
            &req.publisher,
            req.display_name.as_deref(),
            req.summary.as_deref(),
            req.visibility.as_deref(),
        )
        .await?;
    let view = module_view(
        &state,
        ModuleAccess {
            module: m,
            role: None,
            staff: false,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Builds the full module view: versions, screenshots, rendered description.
pub async fn module_view(state: &AppState, access: ModuleAccess) -> AppResult<ModuleView> {
    let versions = state.catalog.versions(&access).await?;
    let m = access.module;
    let screenshots = state.catalog.screenshots(&m).await?;
    let categories = state.catalog.categories().await?;
    let description_html = description_html(&m, &versions);
    Ok(ModuleView {
        summary: ModuleSummaryView::from(&m),
        description: m.description.clone(),
        description_html,
        category: m
            .category_id
            .and_then(|id| categories.iter().find(|c| c.id == id))
            .map(|c| c.slug.clone()),
        tags: m.tags.clone(),
        keywords: m.keywords.clone(),
        homepage: m.homepage.clone(),
        repository: m.repository.clone(),
        screenshots: screenshots.iter().map(ScreenshotView::from).collect(),
        versions: versions
            .iter()
            .map(|v| VersionView::new(&m.name, v))
            .collect(),
        versions_url: format!("/api/v1/modules/{}/versions", m.name),
    })
}

/// One module with its versions. A private module is 404 to anyone outside its publisher.
#[utoipa::path(operation_id = "get_module", get, path = "/api/v1/modules/{name}", tag = "modules",
    params(("name" = String, Path)),
    responses((status = 200, body = ModuleView), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    MaybeApiUser(viewer): MaybeApiUser,
    ApiPath(name): ApiPath<String>,
) -> AppResult<Json<ModuleView>> {
    let access = state
        .catalog
        .module(viewer.as_ref().map(|p| &p.user), &name)
        .await?;
    Ok(Json(module_view(&state, access).await?))
}

/// Edits a module's metadata (members of its publisher). Absent fields keep their value.
#[utoipa::path(operation_id = "update_module", patch, path = "/api/v1/modules/{name}", tag = "modules", security(("bearer" = [])),
    params(("name" = String, Path)), request_body = ModuleEdit,
    responses((status = 200, body = ModuleView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(name): ApiPath<String>,
    ApiJson(edit): ApiJson<ModuleEdit>,
) -> AppResult<Json<ModuleView>> {
    let m = state.catalog.update_module(&p.user, &name, edit).await?;
    let access = state.catalog.module(Some(&p.user), &m.name).await?;
    Ok(Json(module_view(&state, access).await?))
}

async fn set_archived(
    state: AppState,
    p: crate::services::accounts::Principal,
    name: String,
    archived: bool,
) -> AppResult<Json<ModuleSummaryView>> {
    let m = state.catalog.set_archived(&p.user, &name, archived).await?;
    Ok(Json(ModuleSummaryView::from(&m)))
}

/// Archives a module: it leaves listings and takes no new versions; existing ones stay
/// downloadable.
#[utoipa::path(post, path = "/api/v1/modules/{name}/archive", tag = "modules", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = ModuleSummaryView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn archive(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(name): ApiPath<String>,
) -> AppResult<Json<ModuleSummaryView>> {
    set_archived(state, p, name, true).await
}

/// Unarchives a module.
#[utoipa::path(post, path = "/api/v1/modules/{name}/unarchive", tag = "modules", security(("bearer" = [])),
    params(("name" = String, Path)),
    responses((status = 200, body = ModuleSummaryView), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn unarchive(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(name): ApiPath<String>,
) -> AppResult<Json<ModuleSummaryView>> {
    set_archived(state, p, name, false).await
}

/// Replaces the icon with the image in the body (PNG, JPEG, GIF or WebP, up to 5 MiB).
#[utoipa::path(put, path = "/api/v1/modules/{name}/icon", tag = "modules", security(("bearer" = [])),
    params(("name" = String, Path)), request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = ModuleSummaryView), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 422, description = "Not an image", body = ErrorEnvelope)))]
pub async fn set_icon(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(name): ApiPath<String>,
    ImageBody(body): ImageBody,
) -> AppResult<Json<ModuleSummaryView>> {
    let m = state.catalog.set_icon(&p.user, &name, body).await?;
    Ok(Json(ModuleSummaryView::from(&m)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScreenshotParams {
    pub caption: Option<String>,
}

/// Adds a screenshot from the image in the body (at most 10 per module).
#[utoipa::path(post, path = "/api/v1/modules/{name}/screenshots", tag = "modules", security(("bearer" = [])),
    params(("name" = String, Path), ScreenshotParams), request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 201, body = ScreenshotView), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_screenshot(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(name): ApiPath<String>,
    ApiQuery(params): ApiQuery<ScreenshotParams>,
    ImageBody(body): ImageBody,
) -> AppResult<(StatusCode, Json<ScreenshotView>)> {
    let s = state
        .catalog
        .add_screenshot(
            &p.user,
            &name,
            body,
            params.caption.as_deref().unwrap_or(""),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ScreenshotView::from(&s))))
}

/// Removes a screenshot.
#[utoipa::path(delete, path = "/api/v1/modules/{name}/screenshots/{id}", tag = "modules", security(("bearer" = [])),
    params(("name" = String, Path), ("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_screenshot(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((name, id)): ApiPath<(String, i64)>,
) -> AppResult<StatusCode> {
    state.catalog.delete_screenshot(&p.user, &name, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A stored image (icon, screenshot, logo) by its SHA-256. Immutable, so cached for a year.
#[utoipa::path(get, path = "/api/v1/images/{sha256}", tag = "modules",
    params(("sha256" = String, Path)),
    responses((status = 200, content_type = "image/png"), (status = 404, body = ErrorEnvelope)))]
pub async fn image(
    State(state): State<AppState>,
    ApiPath(sha256): ApiPath<String>,
) -> AppResult<Response> {
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let bytes = state
        .catalog
        .blobs()
        .read_all(crate::blob::BlobKind::Image, &sha256)
        .await
        .map_err(AppError::internal)?
        .ok_or(AppError::NotFound)?;
    let info = souk_core::image::check_image(&bytes).map_err(|_| AppError::NotFound)?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(info.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(resp)
}

/// The category tree, parents before their children.
#[utoipa::path(get, path = "/api/v1/categories", tag = "modules",
    responses((status = 200, body = Vec<CategoryView>)))]
pub async fn categories(State(state): State<AppState>) -> AppResult<Json<Vec<CategoryView>>> {
    let mut views = CategoryView::list(&state.catalog.categories().await?);
    let counts = state.discovery.category_counts().await?;
    for v in &mut views {
        v.count = counts.get(&v.slug).copied().unwrap_or(0);
    }
    Ok(Json(views))
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryRequest {
    pub slug: String,
    pub name: String,
    /// The parent category's slug; absent for a top-level category.
    pub parent: Option<String>,
    pub position: Option<i64>,
}

/// Adds a category (admins).
#[utoipa::path(post, path = "/api/v1/categories", tag = "modules", security(("bearer" = [])),
    request_body = CategoryRequest,
    responses((status = 201, body = Vec<CategoryView>), (status = 403, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create_category(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<CategoryRequest>,
) -> AppResult<(StatusCode, Json<Vec<CategoryView>>)> {
    state
        .catalog
        .create_category(
            &p.actor(),
            &req.slug,
            &req.name,
            req.parent.as_deref(),
            req.position.unwrap_or(0),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CategoryView::list(&state.catalog.categories().await?)),
    ))
}

/// Renames or moves a category (admins). The slug in the body is ignored.
#[utoipa::path(patch, path = "/api/v1/categories/{slug}", tag = "modules", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = CategoryRequest,
    responses((status = 200, body = Vec<CategoryView>), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update_category(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<CategoryRequest>,
) -> AppResult<Json<Vec<CategoryView>>> {
    state
        .catalog
        .update_category(
            &p.actor(),
            &slug,
            &req.name,
            req.parent.as_deref(),
            req.position.unwrap_or(0),
        )
        .await?;
    Ok(Json(CategoryView::list(&state.catalog.categories().await?)))
}

/// Deletes a category without subcategories (admins); its modules lose their category.
#[utoipa::path(delete, path = "/api/v1/categories/{slug}", tag = "modules", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Has subcategories", body = ErrorEnvelope)))]
pub async fn delete_category(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<StatusCode> {
    state.catalog.delete_category(&p.actor(), &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}
