//! Publishers: the teams that own modules, and their members.

use super::catalog_views::{MemberView, MyPublisherView, PublisherView};
use crate::AppState;
use crate::error::{AppResult, ErrorEnvelope};
use crate::extract::{ApiJson, ApiPath, ApiUser, ImageBody};
use crate::services::catalog::publisher_profile;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct CreatePublisherRequest {
    /// URL name: 2 to 39 lowercase letters, digits and single hyphens.
    pub slug: String,
    pub display_name: String,
    pub bio: Option<String>,
    pub website: Option<String>,
    pub support_email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdatePublisherRequest {
    pub display_name: String,
    pub bio: Option<String>,
    pub website: Option<String>,
    pub support_email: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AddMemberRequest {
    /// The email of an existing account.
    pub email: String,
    /// `owner` or `maintainer`.
    pub role: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SetRoleRequest {
    /// `owner` or `maintainer`.
    pub role: String,
}

/// Creates a publisher; the caller becomes its owner.
#[utoipa::path(operation_id = "create_publisher", post, path = "/api/v1/publishers", tag = "publishers", security(("bearer" = [])),
    request_body = CreatePublisherRequest,
    responses(
        (status = 201, body = PublisherView),
        (status = 401, body = ErrorEnvelope),
        (status = 409, description = "Slug taken", body = ErrorEnvelope),
        (status = 422, description = "Invalid field", body = ErrorEnvelope),
    ))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiJson(req): ApiJson<CreatePublisherRequest>,
) -> AppResult<(StatusCode, Json<PublisherView>)> {
    let profile = publisher_profile(
        &req.display_name,
        req.bio.as_deref(),
        req.website.as_deref(),
        req.support_email.as_deref(),
    )?;
    let publisher = state
        .catalog
        .create_publisher(&p.user, &req.slug, profile)
        .await?;
    Ok((StatusCode::CREATED, Json(PublisherView::from(&publisher))))
}

/// A publisher's public profile.
#[utoipa::path(operation_id = "get_publisher", get, path = "/api/v1/publishers/{slug}", tag = "publishers",
    params(("slug" = String, Path)),
    responses((status = 200, body = PublisherView), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<PublisherView>> {
    let p = state.catalog.publisher(&slug).await?;
    Ok(Json(PublisherView::from(&p)))
}

/// Edits the profile (owners).
#[utoipa::path(operation_id = "update_publisher", patch, path = "/api/v1/publishers/{slug}", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = UpdatePublisherRequest,
    responses((status = 200, body = PublisherView), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<UpdatePublisherRequest>,
) -> AppResult<Json<PublisherView>> {
    let profile = publisher_profile(
        &req.display_name,
        req.bio.as_deref(),
        req.website.as_deref(),
        req.support_email.as_deref(),
    )?;
    let publisher = state
        .catalog
        .update_publisher(&p.user, &slug, profile)
        .await?;
    Ok(Json(PublisherView::from(&publisher)))
}

/// Replaces the logo with the image in the body (PNG, JPEG, GIF or WebP, up to 5 MiB).
#[utoipa::path(put, path = "/api/v1/publishers/{slug}/logo", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = PublisherView), (status = 403, body = ErrorEnvelope),
        (status = 413, body = ErrorEnvelope), (status = 422, description = "Not an image", body = ErrorEnvelope)))]
pub async fn set_logo(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ImageBody(body): ImageBody,
) -> AppResult<Json<PublisherView>> {
    let publisher = state
        .catalog
        .set_publisher_logo(&p.user, &slug, body)
        .await?;
    Ok(Json(PublisherView::from(&publisher)))
}

/// The publishers the caller belongs to.
#[utoipa::path(get, path = "/api/v1/me/publishers", tag = "publishers", security(("bearer" = [])),
    responses((status = 200, body = Vec<MyPublisherView>), (status = 401, body = ErrorEnvelope)))]
pub async fn mine(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
) -> AppResult<Json<Vec<MyPublisherView>>> {
    let list = state.catalog.publishers_of(&p.user).await?;
    Ok(Json(
        list.iter()
            .map(|(pub_, role)| MyPublisherView {
                publisher: PublisherView::from(pub_),
                role: role.as_str().to_owned(),
            })
            .collect(),
    ))
}

/// The members of a publisher (members only).
#[utoipa::path(get, path = "/api/v1/publishers/{slug}/members", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path)),
    responses((status = 200, body = Vec<MemberView>), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn members(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
) -> AppResult<Json<Vec<MemberView>>> {
    let (_, members) = state.catalog.members(&p.user, &slug).await?;
    Ok(Json(members.iter().map(MemberView::from).collect()))
}

/// Adds a member by email (owners).
#[utoipa::path(post, path = "/api/v1/publishers/{slug}/members", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path)), request_body = AddMemberRequest,
    responses((status = 201, body = MemberView), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "Already a member", body = ErrorEnvelope),
        (status = 422, description = "Unknown email or role", body = ErrorEnvelope)))]
pub async fn add_member(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath(slug): ApiPath<String>,
    ApiJson(req): ApiJson<AddMemberRequest>,
) -> AppResult<(StatusCode, Json<MemberView>)> {
    let m = state
        .catalog
        .add_member(&p.actor(), &slug, &req.email, &req.role)
        .await?;
    Ok((StatusCode::CREATED, Json(MemberView::from(&m))))
}

/// Changes a member's role (owners).
#[utoipa::path(patch, path = "/api/v1/publishers/{slug}/members/{user_id}", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path), ("user_id" = i64, Path)), request_body = SetRoleRequest,
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Would leave no owner", body = ErrorEnvelope)))]
pub async fn set_role(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((slug, user_id)): ApiPath<(String, i64)>,
    ApiJson(req): ApiJson<SetRoleRequest>,
) -> AppResult<StatusCode> {
    state
        .catalog
        .set_member_role(&p.actor(), &slug, user_id, Some(&req.role))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member (owners), or leaves (anyone, for themselves). The last owner cannot leave.
#[utoipa::path(delete, path = "/api/v1/publishers/{slug}/members/{user_id}", tag = "publishers", security(("bearer" = [])),
    params(("slug" = String, Path), ("user_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The last owner cannot leave", body = ErrorEnvelope)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ApiUser(p): ApiUser,
    ApiPath((slug, user_id)): ApiPath<(String, i64)>,
) -> AppResult<StatusCode> {
    state
        .catalog
        .set_member_role(&p.actor(), &slug, user_id, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
