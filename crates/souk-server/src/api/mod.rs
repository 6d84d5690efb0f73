//! The JSON API under `/api/v1`. Every route is registered through `utoipa_axum::routes!`, so
//! the router and the OpenAPI document are built from the same list and cannot drift.

pub mod audit;
pub mod auth;
pub mod discovery;
pub mod jobs;
pub mod keys;
pub mod moderation;
pub mod modules;
pub mod publisher_keys;
pub mod publishers;
pub mod system;
pub mod tokens;
pub mod versions;

// The shapes the web pages share live outside `api`; these names keep the handlers' paths.
pub use crate::views;
pub use crate::views::catalog as catalog_views;

use crate::AppState;
use axum::Router;
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Souk API",
        description = "Souk's marketplace API. Authenticate with `Authorization: Bearer TOKEN` (a personal API \
                       token `souk_pat_...` or the session token `POST /api/v1/auth/login` answers). Errors \
                       answer `{\"error\": {\"code\", \"message\", \"details\"}}`.",
        license(name = "AGPL-3.0-only")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign up, sign in, sign out"),
        (name = "account", description = "The signed-in user"),
        (name = "tokens", description = "Personal API tokens"),
        (name = "publishers", description = "Publishers and their members"),
        (name = "modules", description = "Modules, their media, categories"),
        (name = "versions", description = "Publish, yank and download versions"),
        (name = "discovery", description = "Search, suggestions, featured and trending modules"),
        (name = "moderation", description = "Checks, review, quarantine, verification, suspension and publisher notices"),
        (name = "audit", description = "The append-only record of moderation, admin and security-relevant actions"),
        (name = "jobs", description = "Background jobs: those that failed their last attempt, and running them again"),
        (name = "system", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Adds to every operation the error answers the shared edge can give it, where the operation
/// does not describe them itself: 400 for a path or query value that does not parse (or a body
/// that is not JSON), 401 for a missing or bad token (also on public routes, which look at a
/// token when one is sent), 403 for a token without the scope, 404 for a path naming nothing the
/// caller may see, 413 for a body over the route's
/// limit, 415 for a JSON body sent as something else, 422 for a body of the wrong shape.
fn document_edge_answers(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::Operation;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let envelope = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                    .build(),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let api = path.starts_with("/api/v1/") && path != "/api/v1/openapi.json";
        let ops: [&mut Option<Operation>; 5] = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let has_params =
                path.contains('{') || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let body = op.request_body.as_ref();
            let json_body = body.is_some_and(|b| b.content.contains_key("application/json"));
            let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let answers = [
                (
                    has_params || json_body,
                    "400",
                    "A path or query value that does not parse, or a body that is not JSON",
                ),
                (api, "401", "A missing, malformed, expired or revoked token"),
                (
                    secured,
                    "403",
                    "The token lacks the scope, or the caller may not do this",
                ),
                (
                    path.contains('{'),
                    "404",
                    "Nothing by that name, or nothing the caller may see",
                ),
                (body.is_some(), "413", "The body is over the route's limit"),
                (json_body, "415", "The body is not sent as application/json"),
                (
                    json_body,
                    "422",
                    "The body does not have the expected shape",
                ),
            ];
            for (applies, status, description) in answers {
                if applies && !op.responses.responses.contains_key(status) {
                    op.responses
                        .responses
                        .insert(status.to_owned(), envelope(description).into());
                }
            }
        }
    }
}

fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = api_routes();
    document_edge_answers(&mut doc);
    (router, doc)
}

fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me, auth::update_me))
        .routes(routes!(auth::change_password))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(publishers::create))
        .routes(routes!(publishers::get, publishers::update))
        .routes(routes!(publishers::set_logo))
        .routes(routes!(publishers::mine))
        .routes(routes!(publishers::members, publishers::add_member))
        .routes(routes!(publishers::set_role, publishers::remove_member))
        .routes(routes!(publisher_keys::list, publisher_keys::register))
        .routes(routes!(publisher_keys::revoke))
        .routes(routes!(modules::list, modules::create))
        .routes(routes!(modules::get, modules::update))
        .routes(routes!(modules::archive))
        .routes(routes!(modules::unarchive))
        .routes(routes!(modules::set_icon))
        .routes(routes!(modules::add_screenshot))
        .routes(routes!(modules::delete_screenshot))
        .routes(routes!(modules::image))
        .routes(routes!(modules::categories, modules::create_category))
        .routes(routes!(modules::update_category, modules::delete_category))
        .routes(routes!(versions::list, versions::publish))
        .routes(routes!(versions::get))
        .routes(routes!(versions::yank))
        .routes(routes!(versions::unyank))
        .routes(routes!(versions::download))
        .routes(routes!(versions::signature))
        .routes(routes!(versions::publisher_signature))
        .routes(routes!(keys::list))
        .routes(routes!(moderation::queue))
        .routes(routes!(moderation::review))
        .routes(routes!(moderation::approve))
        .routes(routes!(moderation::reject))
        .routes(routes!(moderation::quarantine))
        .routes(routes!(moderation::release))
        .routes(routes!(moderation::checks))
        .routes(routes!(moderation::rescan))
        .routes(routes!(moderation::appeal))
        .routes(routes!(moderation::publishers))
        .routes(routes!(moderation::verify))
        .routes(routes!(moderation::unverify))
        .routes(routes!(moderation::suspend))
        .routes(routes!(moderation::unsuspend))
        .routes(routes!(moderation::request_verification))
        .routes(routes!(moderation::messages))
        .routes(routes!(moderation::mark_read))
        .routes(routes!(discovery::search))
        .routes(routes!(discovery::suggest))
        .routes(routes!(discovery::featured))
        .routes(routes!(discovery::trending))
        .routes(routes!(discovery::admin_featured, discovery::set_featured))
        .routes(routes!(discovery::reindex))
        .routes(routes!(audit::list))
        .routes(routes!(audit::csv))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::retry))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::metrics))
        .routes(routes!(system::openapi_json))
        .split_for_parts()
}

/// The API routes (including `/healthz`, `/readyz`, `/metrics`).
pub fn router() -> Router<AppState> {
    routes().0
}

/// The OpenAPI 3.1 document of every API route.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| routes().1)
}
