//! The audit log over HTTP: moderation, admin and security actions leave entries with who, what,
//! the target, the client address and the state before and after; the API filters and pages
//! them and exports CSV; bad filters answer 422 naming the field; only admins read it, on the API
//! and on the admin page.

use crate::catalog::{publisher_owner, upload};
use crate::packages::package;
use crate::web_search::Browser;
use crate::{PASSWORD, TestApp, envelope};
use reqwest::StatusCode;
use serde_json::{Value, json};
use souk_core::{Role, Timestamp};
use souk_store::{AuditActor, NewAuditEntry};

/// The entries the API answers for `query` (`actor=...&action=...`), newest first.
async fn entries(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let resp = app
        .get(&format!("/api/v1/admin/audit?{query}"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{query}");
    let body: Value = resp.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// The one entry for `query`.
async fn only(app: &TestApp, admin: &str, query: &str) -> Value {
    let found = entries(app, admin, query).await;
    assert_eq!(found.len(), 1, "{query}: {found:#?}");
    found[0].clone()
}

async fn moderation_and_security_actions_are_recorded(app: TestApp) {
    let admin = app.staff("root@example.com", Role::Admin).await;
    let owner = publisher_owner(&app, "owner@example.com", "acme").await;
    for v in ["1.0.0", "1.1.0"] {
        let resp = upload(&app, &owner, "shop", package("shop", v, "acme", &[])).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }

    // `souk admin create-user` and the checks act as `system`.
    let created = only(&app, &admin, "action=user.create").await;
    assert_eq!(
        (created["actor"].as_str(), created["actor_id"].as_i64()),
        (Some("system"), None)
    );
    assert_eq!(created["target"], "root@example.com");
    assert_eq!(created["after"]["role"], "admin");
    let checked = only(&app, &admin, "action=version.checked&target=shop@1.0.0").await;
    assert_eq!(checked["actor"], "system");
    assert_eq!(checked["before"]["status"], "pending_checks");
    assert_eq!(checked["after"]["status"], "pending_review");

    // Approve and reject: the moderator, the version, where from, the states.
    let base = "/api/v1/admin/modules/shop/versions";
    let resp = app
        .post_json_as(&format!("{base}/1.0.0/approve"), &admin, &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_json_as(
            &format!("{base}/1.1.0/reject"),
            &admin,
            &json!({ "reason": "bundles a \"miner\", sorry" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me = app.get_json("/api/v1/me", &admin).await;
    let approved = only(&app, &admin, "action=version.approve").await;
    assert_eq!(approved["actor"], "root@example.com");
    assert_eq!(approved["actor_id"], me["id"]);
    assert_eq!(
        (&approved["target_kind"], &approved["target"]),
        (&json!("version"), &json!("shop@1.0.0"))
    );
    assert_eq!(approved["client_addr"], "127.0.0.1");
    assert_eq!(approved["before"]["status"], "pending_review");
    assert_eq!(approved["after"]["status"], "published");
    assert!(
        Timestamp::parse_rfc3339(approved["at"].as_str().unwrap()).is_some(),
        "{approved}"
    );
    let rejected = only(&app, &admin, "action=version.reject").await;
    assert_eq!(rejected["target"], "shop@1.1.0");
    assert_eq!(rejected["before"]["status"], "pending_review");
    assert_eq!(
        rejected["after"],
        json!({ "status": "rejected", "reason": "bundles a \"miner\", sorry" })
    );

    // A refused action leaves no entry: approving a published version is a 409.
    let resp = app
        .post_json_as(&format!("{base}/1.0.0/approve"), &admin, &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(
        entries(&app, &admin, "action=version.approve").await.len(),
        1
    );

    // Suspension, with the reason before and after.
    let resp = app
        .post_json_as(
            "/api/v1/admin/publishers/acme/suspend",
            &admin,
            &json!({ "reason": "fraud reports" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let suspended = only(&app, &admin, "action=publisher.suspend").await;
    assert_eq!(
        (&suspended["target_kind"], &suspended["target"]),
        (&json!("publisher"), &json!("acme"))
    );
    assert_eq!(
        suspended["before"],
        json!({ "suspended": false, "reason": null })
    );
    assert_eq!(
        suspended["after"],
        json!({ "suspended": true, "reason": "fraud reports" })
    );
    assert_eq!(suspended["client_addr"], "127.0.0.1");

    // The owner makes a token: recorded, without its secret.
    let resp = app
        .post_json_as(
            "/api/v1/tokens",
            &owner,
            &json!({ "name": "ci", "scopes": ["read"], "expires_in_days": 30 }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let token: Value = resp.json().await.unwrap();
    let made = only(&app, &admin, "action=token.create").await;
    assert_eq!(made["actor"], "owner@example.com");
    assert_eq!(
        (&made["target_kind"], &made["target"]),
        (&json!("token"), &json!(token["id"].to_string()))
    );
    assert_eq!(made["after"]["name"], "ci");
    assert_eq!(made["after"]["scopes"], "read");
    assert_eq!(made["client_addr"], "127.0.0.1");
    assert!(
        !made.to_string().contains(token["token"].as_str().unwrap()),
        "the secret is never logged"
    );

    // A failed sign-in: nobody signed in, the address they typed, from where.
    let resp = app
        .post_json(
            "/api/v1/auth/login",
            &json!({ "email": "Owner@Example.com", "password": "not the password" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let failed = only(&app, &admin, "action=user.login_failed").await;
    assert_eq!(
        (failed["actor"].as_str(), failed["actor_id"].as_i64()),
        (Some("anonymous"), None)
    );
    assert_eq!(
        (&failed["target_kind"], &failed["target"]),
        (&json!("user"), &json!("owner@example.com"))
    );
    assert_eq!(failed["client_addr"], "127.0.0.1");
    assert_eq!(failed["after"], json!({ "known_account": true }));
    // Successful sign-ins are there too, one per login above.
    assert_eq!(entries(&app, &admin, "action=user.login").await.len(), 2);
}

#[tokio::test]
async fn moderation_and_security_actions_are_recorded_on_sqlite() {
    moderation_and_security_actions_are_recorded(
        TestApp::builder()
            .env("SOUK_REVIEW_POLICY", "all")
            .start()
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn moderation_and_security_actions_are_recorded_on_postgres() {
    let Some(app) = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "all")
        .postgres()
        .start()
        .await
    else {
        return;
    };
    moderation_and_security_actions_are_recorded(app).await;
}

fn entry(at_secs: i64, actor: AuditActor, action: &str, kind: &str, target: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: Timestamp::from_millis(at_secs * 1000),
        actor,
        action: action.into(),
        target_kind: kind.into(),
        target: target.into(),
        client_addr: Some("198.51.100.4".into()),
        before: None,
        after: None,
    }
}

fn ada() -> AuditActor {
    AuditActor::User {
        id: 99,
        email: "ada@example.com".into(),
    }
}

/// Six entries a day apart from 2001-01-01 (long before anything the tests do), appended
/// straight to the store.
async fn seed(app: &TestApp) {
    let day = 86_400;
    let start = 978_307_200; // 2001-01-01T00:00:00Z
    for (i, (actor, action, kind, target)) in [
        (ada(), "version.approve", "version", "shop@1.0.0"),
        (ada(), "version.reject", "version", "shop@1.1.0"),
        (
            AuditActor::System,
            "version.checked",
            "version",
            "shop@1.2.0",
        ),
        (ada(), "publisher.verify", "publisher", "acme"),
        (ada(), "publisher.member_add", "publisher", "acme"),
        (
            AuditActor::Anonymous,
            "user.login_failed",
            "user",
            "x@example.com",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        app.store
            .append_audit(&entry(start + i as i64 * day, actor, action, kind, target))
            .await
            .unwrap();
    }
}

fn actions(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_log_filters_and_pages_by_cursor() {
    let app = TestApp::spawn().await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    seed(&app).await;
    let seeded = "until=2001-12-31T00:00:00Z";
    assert_eq!(
        actions(&entries(&app, &admin, "actor=ada@example.com").await),
        [
            "publisher.member_add",
            "publisher.verify",
            "version.reject",
            "version.approve"
        ]
    );
    assert_eq!(
        actions(&entries(&app, &admin, "actor=99").await).len(),
        4,
        "by user id too"
    );
    assert_eq!(
        actions(&entries(&app, &admin, &format!("actor=system&{seeded}")).await),
        ["version.checked"]
    );
    assert_eq!(
        actions(&entries(&app, &admin, "action=version.").await),
        ["version.checked", "version.reject", "version.approve"]
    );
    assert_eq!(
        actions(&entries(&app, &admin, "action=publisher.*").await),
        ["publisher.member_add", "publisher.verify"]
    );
    assert_eq!(
        actions(&entries(&app, &admin, "target_kind=publisher&target=acme").await),
        ["publisher.member_add", "publisher.verify"]
    );
    assert_eq!(
        actions(
            &entries(
                &app,
                &admin,
                "since=2001-01-02T00:00:00Z&until=2001-01-03T00:00:00%2B00:00"
            )
            .await
        ),
        ["version.checked", "version.reject"],
        "both ends inclusive"
    );

    // Pages of two walk every seeded entry once, newest first, then stop.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let page = app
            .get_json(
                &format!("/api/v1/admin/audit?{seeded}&limit=2&cursor={cursor}"),
                &admin,
            )
            .await;
        pages += 1;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let all: Vec<i64> = entries(&app, &admin, seeded)
        .await
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(all.len(), 6);
    assert_eq!(seen, all);
    assert!(pages >= 3, "{pages}");
}

#[tokio::test]
async fn the_csv_export_holds_the_filtered_entries_escaped() {
    let app = TestApp::spawn().await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    seed(&app).await;
    app.store
        .append_audit(&NewAuditEntry {
            before: Some(json!({ "status": "pending_review" })),
            after: Some(json!({ "status": "rejected", "reason": "a, \"b\"\nc" })),
            ..entry(
                1_800_000_000,
                ada(),
                "version.reject",
                "version",
                "odd@2.0.0",
            )
        })
        .await
        .unwrap();
    app.store
        .append_audit(&entry(
            1_800_000_001,
            AuditActor::Anonymous,
            "user.login_failed",
            "user",
            "=HYPERLINK(\"http://evil.example\")",
        ))
        .await
        .unwrap();

    let resp = app
        .get("/api/v1/admin/audit.csv?action=version.reject")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(resp.headers().get("souk-next-cursor").is_none());
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,at,actor_id,actor,action,target_kind,target,client_addr,before,after"
    );
    // Newest first; the reason's comma, quotes and line break stay inside one quoted field.
    let first = lines[1];
    assert!(
        first.contains(
            ",2027-01-15T08:00:00Z,99,ada@example.com,version.reject,version,odd@2.0.0,198.51.100.4,\
             \"{\"\"status\"\":\"\"pending_review\"\"}\",\"{"
        ),
        "{first}"
    );
    assert!(first.ends_with("}\""), "{first}");
    assert!(
        first.contains(r#"""reason"":""a, \""b\""\nc"""#)
            && first.contains(r#"""status"":""rejected"""#),
        "{first}"
    );
    assert!(
        lines[2].contains(",version.reject,version,shop@1.1.0,"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "", "the export ends with a line break");
    assert_eq!(lines.len(), 4);

    // A typed sign-in address that a spreadsheet would run is defused.
    let csv = app
        .get("/api/v1/admin/audit.csv?actor=anonymous&since=2027-01-01T00:00:00Z")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(",user,\"'=HYPERLINK(\"\"http://evil.example\"\")\",198.51.100.4,,\r\n"),
        "{csv}"
    );
}

#[tokio::test]
async fn bad_filters_answer_422_naming_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    seed(&app).await;
    let before = entries(&app, &admin, "limit=200").await;
    for (query, field) in [
        ("actor=not%20an%20email", "actor"),
        ("action=Version.Approve", "action"),
        ("action=version..approve", "action"),
        ("action=%2A", "action"),
        ("target_kind=no%20spaces", "target_kind"),
        (&format!("target={}", "x".repeat(301)), "target"),
        ("since=yesterday", "since"),
        ("until=2025-13-01T00:00:00Z", "until"),
        (
            "since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z",
            "until",
        ),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=many", "limit"),
    ] {
        for path in ["/api/v1/admin/audit", "/api/v1/admin/audit.csv"] {
            if path.ends_with(".csv") && field == "limit" {
                continue;
            }
            let resp = app
                .get(&format!("{path}?{query}"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            let (_, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
            assert_eq!(details["field"], field, "{path}?{query}");
        }
    }
    let resp = app
        .get("/api/v1/admin/audit?cursor=tampered")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let (code, _) = envelope(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(code, "invalid_cursor");
    assert_eq!(entries(&app, &admin, "limit=200").await, before);
}

#[tokio::test]
async fn only_admins_read_the_log() {
    let app = TestApp::spawn().await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    let moderator = app.staff("mod@example.com", Role::Moderator).await;
    let user = app.signed_up("user@example.com").await;
    // An admin's token without the admin scope cannot read it either.
    let resp = app
        .post_json_as(
            "/api/v1/tokens",
            &admin,
            &json!({ "name": "read only", "scopes": ["read"] }),
        )
        .await;
    let narrow: Value = resp.json().await.unwrap();
    let narrow = narrow["token"].as_str().unwrap();
    for path in ["/api/v1/admin/audit", "/api/v1/admin/audit.csv"] {
        let resp = app.get(path).send().await.unwrap();
        envelope(resp, StatusCode::UNAUTHORIZED).await;
        for who in [moderator.as_str(), user.as_str(), narrow] {
            let resp = app.get(path).bearer_auth(who).send().await.unwrap();
            envelope(resp, StatusCode::FORBIDDEN).await;
        }
        let resp = app.get(path).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_admin_page_lists_filters_pages_and_exports_and_refuses_others() {
    let app = TestApp::spawn().await;
    let token = app.staff("root@example.com", Role::Admin).await;
    app.signed_up("user@example.com").await;
    seed(&app).await;
    let admin = Browser::signed_in(&app, "root@example.com").await;
    // The web sign-in is on the record like the API's.
    let logins = entries(&app, &token, "action=user.login&actor=root@example.com").await;
    assert_eq!(logins.len(), 2);
    assert_eq!(logins[0]["client_addr"], "127.0.0.1");

    let (status, html) = admin.page("/admin/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"id="audit-filter""#), "the filter form");
    assert!(html.contains(r#"id="nav-audit""#));
    for shown in [
        "version.approve",
        "shop@1.0.0",
        "ada@example.com",
        "198.51.100.4",
    ] {
        assert!(html.contains(shown), "{shown} on the page");
    }

    // Filtered, a page at a time: the next link keeps the filters.
    let (status, html) = admin.page("/admin/audit?action=publisher.&limit=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("publisher.member_add") && !html.contains("publisher.verify"));
    assert!(!html.contains("shop@1.0.0"));
    let next_at = html.find(r#"id="audit-next""#).expect("a next-page link");
    let href = html[..next_at]
        .rsplit(r#"<a href=""#)
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    assert!(
        href.starts_with("/admin/audit?action=publisher.&limit=1&cursor="),
        "{href}"
    );
    let (_, next) = admin.page(&href).await;
    assert!(next.contains("publisher.verify") && !next.contains("publisher.member_add"));

    // The CSV link downloads the same filters.
    assert!(
        html.contains(r#"href="/admin/audit.csv?action=publisher."#),
        "{html}"
    );
    let resp = admin.get("/admin/audit.csv?action=publisher.").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let csv = resp.text().await.unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");

    // A bad filter shows the form again with what is wrong.
    let (status, html) = admin.page("/admin/audit?since=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(r#"id="audit-error""#) && html.contains("since"),
        "{html}"
    );
    assert!(html.contains(r#"value="yesterday""#));

    // Others: a user gets the 403 page, a visitor is sent to sign in.
    let user = Browser::signed_in(&app, "user@example.com").await;
    for path in ["/admin/audit", "/admin/audit.csv"] {
        let (status, html) = user.page(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(!html.contains("shop@1.0.0"));
        let resp = app.get(path).send().await.unwrap();
        assert_eq!(resp.url().path(), "/login", "{path}");
    }
}

#[tokio::test]
async fn every_other_admin_and_publisher_action_is_recorded() {
    let app = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "all")
        .start()
        .await
        .unwrap();
    let admin = app.staff("root@example.com", Role::Admin).await;
    let owner = publisher_owner(&app, "owner@example.com", "acme").await;
    let mate = app.signed_up("mate@example.com").await;
    let mate_id = app.get_json("/api/v1/me", &mate).await["id"].clone();
    for v in ["1.0.0", "1.1.0"] {
        let resp = upload(&app, &owner, "shop", package("shop", v, "acme", &[])).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let send = |method: reqwest::Method, path: &str, who: &str, body: Value| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(who.to_owned())
            .json(&body)
            .send()
    };
    use reqwest::Method;
    let v = "/api/v1/modules/shop/versions";
    let a = "/api/v1/admin/modules/shop/versions";
    let steps: Vec<(Method, String, &str, Value)> = vec![
        (
            Method::POST,
            format!("{a}/1.0.0/approve"),
            &admin,
            json!({}),
        ),
        (
            Method::POST,
            format!("{a}/1.0.0/quarantine"),
            &admin,
            json!({ "reason": "malware report" }),
        ),
        (
            Method::POST,
            format!("{v}/1.0.0/appeal"),
            &owner,
            json!({ "message": "false positive" }),
        ),
        (
            Method::POST,
            format!("{a}/1.0.0/release"),
            &admin,
            json!({}),
        ),
        (
            Method::POST,
            format!("{v}/1.0.0/yank"),
            &owner,
            json!({ "reason": "broken" }),
        ),
        (Method::POST, format!("{v}/1.0.0/unyank"), &owner, json!({})),
        (
            Method::POST,
            format!("{a}/1.1.0/reject"),
            &admin,
            json!({ "reason": "no" }),
        ),
        // Staff may rescan a rejected version (its publisher appeals instead).
        (Method::POST, format!("{v}/1.1.0/rescan"), &admin, json!({})),
        (
            Method::POST,
            "/api/v1/publishers/acme/verification".into(),
            &owner,
            json!({ "note": "we are Acme" }),
        ),
        (
            Method::POST,
            "/api/v1/admin/publishers/acme/verify".into(),
            &admin,
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/admin/publishers/acme/unverify".into(),
            &admin,
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/admin/publishers/acme/suspend".into(),
            &admin,
            json!({ "reason": "spam" }),
        ),
        (
            Method::POST,
            "/api/v1/admin/publishers/acme/unsuspend".into(),
            &admin,
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/publishers/acme/members".into(),
            &owner,
            json!({ "email": "mate@example.com", "role": "maintainer" }),
        ),
        (
            Method::PATCH,
            format!("/api/v1/publishers/acme/members/{mate_id}"),
            &owner,
            json!({ "role": "owner" }),
        ),
        (
            Method::DELETE,
            format!("/api/v1/publishers/acme/members/{mate_id}"),
            &owner,
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/categories".into(),
            &admin,
            json!({ "slug": "tools", "name": "Tools" }),
        ),
        (
            Method::PATCH,
            "/api/v1/categories/tools".into(),
            &admin,
            json!({ "slug": "tools", "name": "Tooling", "position": 2 }),
        ),
        (
            Method::DELETE,
            "/api/v1/categories/tools".into(),
            &admin,
            json!({}),
        ),
        (
            Method::PUT,
            "/api/v1/admin/featured".into(),
            &admin,
            json!({ "modules": ["shop"] }),
        ),
        (
            Method::POST,
            "/api/v1/admin/search/reindex".into(),
            &admin,
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/me/password".into(),
            &mate,
            json!({ "current_password": PASSWORD, "new_password": "another long passphrase" }),
        ),
    ];
    for (method, path, who, body) in steps {
        let resp = send(method.clone(), &path, who, body).await.unwrap();
        assert!(
            resp.status().is_success(),
            "{method} {path}: {}",
            resp.status()
        );
    }
    let token: Value = app
        .post_json_as(
            "/api/v1/tokens",
            &owner,
            &json!({ "name": "ci", "scopes": ["read"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let resp = send(
        Method::DELETE,
        &format!("/api/v1/tokens/{}", token["id"]),
        &owner,
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let log = entries(&app, &admin, "limit=200").await;
    let mut seen: Vec<(String, String, String)> = log
        .iter()
        .rev()
        .filter(|e| e["actor"] != "system")
        .filter(|e| !e["action"].as_str().unwrap().starts_with("user.login"))
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target_kind"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("user.register", "user", "owner@example.com"),
        ("user.register", "user", "mate@example.com"),
        ("version.approve", "version", "shop@1.0.0"),
        ("version.quarantine", "version", "shop@1.0.0"),
        ("version.appeal", "version", "shop@1.0.0"),
        ("version.release", "version", "shop@1.0.0"),
        ("version.yank", "version", "shop@1.0.0"),
        ("version.unyank", "version", "shop@1.0.0"),
        ("version.reject", "version", "shop@1.1.0"),
        ("version.rescan", "version", "shop@1.1.0"),
        ("publisher.verification_request", "publisher", "acme"),
        ("publisher.verify", "publisher", "acme"),
        ("publisher.unverify", "publisher", "acme"),
        ("publisher.suspend", "publisher", "acme"),
        ("publisher.unsuspend", "publisher", "acme"),
        ("publisher.member_add", "publisher", "acme"),
        ("publisher.member_role_change", "publisher", "acme"),
        ("publisher.member_remove", "publisher", "acme"),
        ("category.create", "category", "tools"),
        ("category.update", "category", "tools"),
        ("category.delete", "category", "tools"),
        ("featured.set", "featured", "featured"),
        ("search.reindex", "search_index", "all"),
        ("user.password_change", "user", "mate@example.com"),
        ("token.create", "token", &token["id"].to_string()),
        ("token.revoke", "token", &token["id"].to_string()),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, k, t)| ((*a).into(), (*k).into(), (*t).into()))
        .collect();
    seen.retain(|e| e.0 != "user.create");
    assert_eq!(seen, want);

    // A few snapshots a reader relies on.
    let appeal = only(&app, &admin, "action=version.appeal").await;
    assert_eq!(appeal["actor"], "owner@example.com");
    assert_eq!(appeal["after"]["appeal"], "false positive");
    let role = only(&app, &admin, "action=publisher.member_role_change").await;
    assert_eq!(
        (&role["before"]["role"], &role["after"]["role"]),
        (&json!("maintainer"), &json!("owner"))
    );
    assert_eq!(role["after"]["member"], "mate@example.com");
    let yank = only(&app, &admin, "action=version.yank").await;
    assert_eq!(yank["after"], json!({ "yanked": true, "reason": "broken" }));
    let category = only(&app, &admin, "action=category.update").await;
    assert_eq!(
        (&category["before"]["name"], &category["after"]["name"]),
        (&json!("Tools"), &json!("Tooling"))
    );
    let featured = only(&app, &admin, "action=featured.set").await;
    assert_eq!(
        (
            &featured["before"]["modules"],
            &featured["after"]["modules"]
        ),
        (&json!([]), &json!(["shop"]))
    );
}

#[tokio::test]
async fn sign_ups_sign_outs_and_ended_sessions_are_recorded() {
    let app = TestApp::spawn().await;
    let admin = app.staff("root@example.com", Role::Admin).await;
    // Registered over the API, then signed in twice: over the API and in a browser.
    let token = app.signed_up("new@example.com").await;
    let web = crate::web_catalog::WebUser::sign_in(&app, "new@example.com").await;

    let joined = only(&app, &admin, "action=user.register").await;
    assert_eq!(joined["actor"], "new@example.com");
    assert_eq!(joined["target"], "new@example.com");
    assert_eq!(joined["client_addr"], "127.0.0.1");
    assert_eq!(joined["after"]["role"], "user");

    // From the web account page, the user signs out the API session.
    let user = app
        .store
        .user_by_email(&souk_core::Email::parse("new@example.com").unwrap())
        .await
        .unwrap();
    let sessions = app.state.accounts.sessions(&user).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let api_session = sessions
        .iter()
        .map(|s| s.id)
        .min()
        .expect("the API session came first");
    let landed = web
        .submit(&format!("/account/sessions/{api_session}/end"), &[])
        .await;
    landed.success("/account", "Session signed out.");
    let ended = only(&app, &admin, "action=session.end").await;
    assert_eq!(ended["actor"], "new@example.com");
    assert_eq!(ended["target"], api_session.to_string());
    let resp = app
        .get("/api/v1/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::UNAUTHORIZED,
        "that session is over"
    );

    // Signing out of the browser's own session is a logout.
    web.submit("/logout", &[]).await;
    let out = only(&app, &admin, "action=user.logout").await;
    assert_eq!(out["actor"], "new@example.com");
    assert_eq!(out["target_kind"], "session");
    assert_eq!(entries(&app, &admin, "action=session.end").await.len(), 1);
}

/// A change and its audit entry are one unit of work: when the database refuses the entry, the
/// change is not stored either, and the caller hears a failure rather than a success.
#[tokio::test]
async fn a_change_whose_audit_entry_fails_is_not_stored() {
    let app = TestApp::spawn().await;
    let admin = app.staff("admin@example.com", Role::Admin).await;
    let ada = app.signed_up("ada@example.com").await;
    app.raw_sql(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
         BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
    )
    .await;

    let category = json!({ "slug": "tools", "name": "Tools" });
    let resp = app
        .post_json_as("/api/v1/categories", &admin, &category)
        .await;
    envelope(resp, StatusCode::INTERNAL_SERVER_ERROR).await;
    let listed: Value = app
        .get("/api/v1/categories")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!listed.to_string().contains("tools"), "{listed}");

    let resp = app
        .post_json_as(
            "/api/v1/tokens",
            &ada,
            &json!({ "name": "ci", "scopes": ["read"] }),
        )
        .await;
    envelope(resp, StatusCode::INTERNAL_SERVER_ERROR).await;
    let tokens: Value = app.get_json("/api/v1/tokens", &ada).await;
    assert_eq!(tokens["items"].as_array().unwrap().len(), 0, "{tokens}");

    // With the log accepting entries again, the same change goes through, with its entry.
    app.raw_sql("DROP TRIGGER refuse_audit").await;
    let resp = app
        .post_json_as("/api/v1/categories", &admin, &category)
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let logged = only(&app, &admin, "action=category.create").await;
    assert_eq!(logged["target"], "tools");
}
