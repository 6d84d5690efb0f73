//! The job runner's dead jobs: a job that fails its last allowed attempt is parked as dead,
//! listed for administrators (API and page) and run again on their word, on the audit log.

use crate::catalog::publisher_owner;
use crate::packages::package;
use crate::web_catalog::{WebUser, csrf_of};
use crate::{TestApp, envelope};
use reqwest::StatusCode;
use serde_json::{Value, json};
use souk_core::Role;

/// An app whose check jobs give up after one attempt, with one upload whose stored package has
/// gone missing: its checks cannot finish, so the job is dead. Answers the owner's token.
async fn app_with_a_dead_job() -> (TestApp, String) {
    let app = TestApp::builder()
        .env("SOUK_MODERATION_CHECK_ATTEMPTS", "1")
        .start()
        .await
        .unwrap();
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    // Uploaded but not yet checked: take the package away before the runner gets to it.
    let resp = app
        .post("/api/v1/modules/lost/versions")
        .bearer_auth(&ada)
        .body(package("lost", "1.0.0", "acme", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let blobs = app.dir.path().join("blobs/packages");
    let moved = app.dir.path().join("moved-away");
    std::fs::rename(&blobs, &moved).unwrap();
    app.settle().await;
    std::fs::rename(&moved, &blobs).unwrap();
    (app, ada)
}

#[tokio::test]
async fn a_job_that_fails_its_last_attempt_is_dead_until_an_admin_runs_it_again() {
    let (app, ada) = app_with_a_dead_job().await;
    let checks = app
        .get_json("/api/v1/modules/lost/versions/1.0.0/checks", &ada)
        .await;
    assert_eq!(checks["status"], "pending_checks");
    assert_eq!(checks["job"]["status"], "dead", "{checks}");

    let admin = app.staff("root@example.com", Role::Admin).await;
    let dead = app.get_json("/api/v1/admin/jobs?status=dead", &admin).await;
    let job = &dead["items"][0];
    assert_eq!(dead["items"].as_array().unwrap().len(), 1, "{dead}");
    assert_eq!(job["kind"], "check_version");
    assert_eq!(job["status"], "dead");
    assert_eq!(job["attempts"], 1);
    assert!(
        job["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{job}"
    );
    assert!(job["dead_at"].as_str().is_some());
    // `dead` is the default; nothing is queued or running.
    assert_eq!(
        app.get_json("/api/v1/admin/jobs", &admin).await["items"],
        dead["items"]
    );
    for status in ["queued", "running"] {
        let page = app
            .get_json(&format!("/api/v1/admin/jobs?status={status}"), &admin)
            .await;
        assert_eq!(page["items"], json!([]), "{status}");
    }

    // Run it again: queued, and the checks now pass and publish the version.
    let id = job["id"].as_i64().unwrap();
    let resp = app
        .post_json_as(
            &format!("/api/v1/admin/jobs/{id}/retry"),
            &admin,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let revived: Value = resp.json().await.unwrap();
    assert_eq!(
        (revived["status"].as_str(), revived["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );
    // Only a dead job can be retried.
    let (code, details) = envelope(
        app.post_json_as(
            &format!("/api/v1/admin/jobs/{id}/retry"),
            &admin,
            &json!({}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        (code.as_str(), &details["field"]),
        ("conflict", &json!("status"))
    );
    app.settle().await;
    let checks = app
        .get_json("/api/v1/modules/lost/versions/1.0.0/checks", &ada)
        .await;
    assert_eq!(checks["status"], "published", "{checks}");
    assert!(checks["job"].is_null());
    let log = app
        .get_json("/api/v1/admin/audit?action=job.retry", &admin)
        .await;
    assert_eq!(log["items"][0]["actor"], "root@example.com", "{log}");
    assert_eq!(log["items"][0]["target_kind"], "job");
}

#[tokio::test]
async fn only_admins_see_and_retry_jobs() {
    let (app, ada) = app_with_a_dead_job().await;
    let moderator = app.staff("mod@example.com", Role::Moderator).await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    let id = app.get_json("/api/v1/admin/jobs", &admin).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let read_only: Value = app
        .post_json_as(
            "/api/v1/tokens",
            &admin,
            &json!({"name": "ro", "scopes": ["read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let read_only = read_only["token"].as_str().unwrap().to_owned();
    for token in [&ada, &moderator, &read_only] {
        let resp = app
            .get("/api/v1/admin/jobs")
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        envelope(resp, StatusCode::FORBIDDEN).await;
        let resp = app
            .post_json_as(&format!("/api/v1/admin/jobs/{id}/retry"), token, &json!({}))
            .await;
        envelope(resp, StatusCode::FORBIDDEN).await;
    }
    let resp = app.get("/api/v1/admin/jobs").send().await.unwrap();
    envelope(resp, StatusCode::UNAUTHORIZED).await;
    // Bad input: an unknown status, an unknown job, a tampered cursor.
    let (code, details) = envelope(
        app.get("/api/v1/admin/jobs?status=sleeping")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        (code.as_str(), &details["field"]),
        ("invalid_status", &json!("status"))
    );
    envelope(
        app.post_json_as("/api/v1/admin/jobs/999999/retry", &admin, &json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let (code, _) = envelope(
        app.get("/api/v1/admin/jobs?cursor=%%%")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        code == "invalid_cursor" || code == "invalid_query",
        "{code}"
    );
    // Nothing changed: the job is still dead.
    let dead = app.get_json("/api/v1/admin/jobs", &admin).await;
    assert_eq!(dead["items"][0]["id"], id);
}

#[tokio::test]
async fn the_jobs_page_lists_dead_jobs_and_runs_one_again() {
    let (app, _) = app_with_a_dead_job().await;
    app.create_staff("root@example.com", Role::Admin).await;
    let root = WebUser::sign_in(&app, "root@example.com").await;
    let (status, html) = root.page("/admin/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="nav-jobs""#), "{html}");
    assert!(html.contains("<code>check_version</code>"), "{html}");
    let marker = r#"action="/admin/jobs/"#;
    let start = html.find(marker).expect("a retry form") + marker.len();
    let id: i64 = html[start..].split('/').next().unwrap().parse().unwrap();
    let resp = root
        .post_form(&format!("/admin/jobs/{id}/retry"), &[])
        .await;
    assert_eq!(resp.url().path(), "/admin/jobs");
    let html = resp.text().await.unwrap();
    assert!(html.contains("is queued to run again"), "{html}");
    assert!(html.contains(r#"id="jobs-empty""#), "{html}");
    // A signed-in user who is not an administrator gets the 403 page.
    let eve = WebUser::sign_up(&app, "eve@example.com").await;
    let (status, _) = eve.page("/admin/jobs").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let resp = eve
        .post_raw(
            &format!("/admin/jobs/{id}/retry"),
            &[(
                "csrf_token",
                csrf_of(&eve.page("/account").await.1).as_str(),
            )],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}
