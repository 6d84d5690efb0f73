//! The authorization matrix: every route of the API, run as every kind of caller (nobody, another
//! user, a moderator, an admin) against one user's objects: a private module, an unpublished
//! version of a public module, a public module and its published version, her publisher and her
//! token. Outside her publisher a private module or an unpublished version is not there (404,
//! writes included); what a caller sees but may not change is 403; no credential is 401.

use crate::packages::{PNG_1X1, package};
use crate::{TestApp, catalog};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use souk_core::Role;
use souk_core::signing::SigningKey;
use souk_server::policy::Access;

struct World {
    app: TestApp,
    ada: String,
    bob: String,
    moderator: String,
    admin: String,
    ada_token_id: i64,
    ada_user_id: i64,
}

async fn world() -> World {
    let app = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "all")
        .start()
        .await
        .unwrap();
    let ada = catalog::publisher_owner(&app, "ada@example.com", "ada-pub").await;
    let bob = catalog::publisher_owner(&app, "bob@example.com", "bob-pub").await;
    let moderator = app.staff("mod@example.com", Role::Moderator).await;
    // Whom the member routes name: an admin adding her must not make Bob a member.
    app.signed_up("carol@example.com").await;
    let admin = app.staff("admin@example.com", Role::Admin).await;
    for (name, visibility) in [("ada-open", "public"), ("ada-secret", "private")] {
        let resp = app
            .post_json_as(
                "/api/v1/modules",
                &ada,
                &json!({ "name": name, "publisher": "ada-pub", "visibility": visibility }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        for version in ["1.0.0", "2.0.0"] {
            let resp =
                catalog::upload(&app, &ada, name, package(name, version, "ada-pub", &[])).await;
            assert_eq!(resp.status(), StatusCode::CREATED);
        }
        let approve = format!("/api/v1/admin/modules/{name}/versions/1.0.0/approve");
        let resp = app.post_json_as(&approve, &moderator, &json!({})).await;
        assert_eq!(resp.status(), StatusCode::OK, "{approve}");
    }
    let me: Value = app.get_json("/api/v1/me", &ada).await;
    let token = app
        .post_json_as(
            "/api/v1/tokens",
            &ada,
            &json!({"name": "t", "scopes": ["read"]}),
        )
        .await;
    let token: Value = token.json().await.unwrap();
    World {
        ada_token_id: token["id"].as_i64().unwrap(),
        ada_user_id: me["id"].as_i64().unwrap(),
        app,
        ada,
        bob,
        moderator,
        admin,
    }
}

/// What a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// Ada's private module `ada-secret` (and its version 1.0.0).
    Private,
    /// Version 2.0.0 of her public module `ada-open`, waiting for review.
    Unpublished,
    /// Her public module `ada-open` and its published version 1.0.0.
    Public,
    /// Her publisher `ada-pub`, her user, her token; or nothing of hers.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    Bob,
    Moderator,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Unauthenticated,
    Forbidden,
    Missing,
    /// Past authorization: neither 401, 403 nor 404.
    Allowed,
    /// Not 401 or 403 (an admin on an id that may not exist).
    NotDenied,
    /// Nothing to say about this pair.
    Any,
}

/// Routes only administrators may use (moderators get 403).
const ADMIN_ONLY: &[&str] = &[
    "/api/v1/admin/audit",
    "/api/v1/admin/audit.csv",
    "/api/v1/admin/featured",
    "/api/v1/admin/search/reindex",
    "/api/v1/admin/jobs",
    "/api/v1/admin/jobs/{id}/retry",
    "/api/v1/admin/publishers/{slug}/verify",
    "/api/v1/admin/publishers/{slug}/unverify",
    "/api/v1/admin/publishers/{slug}/suspend",
    "/api/v1/admin/publishers/{slug}/unsuspend",
    "/api/v1/categories",
    "/api/v1/categories/{slug}",
];

fn want(method: &str, path: &str, access: Access, target: Target, who: Who) -> Want {
    let read = method == "GET";
    if who == Who::Nobody {
        return match (access, target) {
            (Access::Open, Target::Private | Target::Unpublished) => Want::Missing,
            (Access::Open, _) => Want::Any,
            _ => Want::Unauthenticated,
        };
    }
    if who == Who::Admin {
        return Want::NotDenied;
    }
    let staff = who == Who::Moderator;
    if path.starts_with("/api/v1/admin/") || (ADMIN_ONLY.contains(&path) && !read) {
        return if ADMIN_ONLY.contains(&path) || !staff {
            Want::Forbidden
        } else {
            Want::Allowed
        };
    }
    if path.starts_with("/api/v1/tokens/") {
        // Tokens are personal: another's is not there, whoever asks.
        return Want::Missing;
    }
    if path.contains("publisher-signature")
        || path.ends_with("/signature") && target == Target::Unpublished
    {
        // Nothing signed it: 404 for everyone.
        return Want::Any;
    }
    let moderation = path.ends_with("/checks") || path.ends_with("/rescan");
    match target {
        Target::Private => Want::Missing,
        Target::Unpublished if !staff => Want::Missing,
        Target::Unpublished | Target::Public => {
            if staff && (moderation || read) || read && !path.ends_with("/checks") {
                Want::Allowed
            } else {
                Want::Forbidden
            }
        }
        Target::Other if path.contains("{slug}") => {
            if read
                && matches!(
                    path,
                    "/api/v1/publishers/{slug}" | "/api/v1/publishers/{slug}/keys"
                )
            {
                Want::Allowed
            } else {
                Want::Forbidden
            }
        }
        Target::Other => Want::Any,
    }
}

fn fill(path: &str, w: &World, module: &str, version: &str) -> String {
    path.replace("{name}", module)
        .replace("{version}", version)
        .replace("{slug}", "ada-pub")
        .replace("{user_id}", &w.ada_user_id.to_string())
        .replace("{id}", &w.ada_token_id.to_string())
        .replace("{sha256}", &"0".repeat(64))
}

/// A body the route accepts, so that what answers is the authorization, not the validation.
fn body(method: &str, template: &str) -> Option<Value> {
    let b = match template.rsplit('/').next().unwrap() {
        _ if method == "GET" || method == "DELETE" => return None,
        "{slug}" if template.contains("categories") => json!({ "slug": "tools", "name": "Tools" }),
        "{slug}" => json!({ "display_name": "Ada Two" }),
        "{name}" => json!({ "summary": "Changed" }),
        "members" => json!({ "email": "carol@example.com", "role": "maintainer" }),
        "keys" => json!({ "public_key": SigningKey::generate().public_key().to_minisign_line() }),
        "categories" => json!({ "slug": "tools", "name": "Tools" }),
        "{user_id}" => json!({ "role": "owner" }),
        "verification" => json!({ "note": "Ada, the one and only" }),
        "read" => json!({ "up_to": 1 }),
        "yank" | "reject" | "quarantine" | "suspend" => json!({ "reason": "a reason" }),
        "appeal" => json!({ "message": "please look again" }),
        "featured" => json!({ "modules": [] }),
        _ => json!({}),
    };
    Some(b)
}

async fn call(
    w: &World,
    method: &str,
    template: &str,
    path: &str,
    bearer: Option<&str>,
) -> StatusCode {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = w.app.client.request(m.clone(), w.app.url(path));
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    if template.ends_with("/versions") && m == Method::POST {
        let name = path.split('/').nth(4).unwrap();
        req = req
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(package(name, "3.0.0", "ada-pub", &[]));
    } else if ["/icon", "/logo", "/screenshots"]
        .iter()
        .any(|e| template.ends_with(e))
    {
        req = req.body(PNG_1X1.to_vec());
    } else if let Some(b) = body(method, template) {
        req = req.json(&b);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn every_route_as_every_caller() {
    let w = world().await;
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (method, template, access) in souk_server::policy::API {
        if template.ends_with("/logout") {
            continue;
        }
        let targets: &[(Target, &str, &str)] = if template.contains("{version}") {
            &[
                (Target::Private, "ada-secret", "1.0.0"),
                (Target::Unpublished, "ada-open", "2.0.0"),
                (Target::Public, "ada-open", "1.0.0"),
            ]
        } else if template.contains("{name}") {
            &[
                (Target::Private, "ada-secret", ""),
                (Target::Public, "ada-open", ""),
            ]
        } else {
            &[(Target::Other, "", "")]
        };
        for (target, module, version) in targets {
            let path = fill(template, &w, module, version);
            for (who, bearer) in [
                (Who::Nobody, None),
                (Who::Bob, Some(&w.bob)),
                (Who::Moderator, Some(&w.moderator)),
                (Who::Admin, Some(&w.admin)),
            ] {
                let expected = want(method, template, *access, *target, who);
                let got = call(&w, method, template, &path, bearer.map(String::as_str)).await;
                let ok = match expected {
                    Want::Unauthenticated => got == StatusCode::UNAUTHORIZED,
                    Want::Forbidden => got == StatusCode::FORBIDDEN,
                    Want::Missing => got == StatusCode::NOT_FOUND,
                    Want::Allowed => ![401, 403, 404].contains(&got.as_u16()),
                    Want::NotDenied => ![401, 403].contains(&got.as_u16()),
                    Want::Any => true,
                };
                checked += usize::from(expected != Want::Any);
                if !ok {
                    wrong.push(format!(
                        "{method} {path} as {who:?}: {got}, wanted {expected:?}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(checked > 250, "{checked}");
    // Ada herself still has everything she had.
    let m: Value = w.app.get_json("/api/v1/modules/ada-secret", &w.ada).await;
    assert_eq!(m["visibility"], "private");
}
