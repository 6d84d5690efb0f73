//! Moderation's web pages over HTTP: the moderator console (home, queue, review page and its
//! decisions, publishers with verification and suspension) and the publisher's side in the
//! portal (version states and findings, rescan, appeal, notices, verification requests), with
//! the refusals: non-staff, a moderator of the version's own publisher, empty reasons, versions
//! in the wrong state. Each decision is checked through the JSON API as well.

use crate::packages::{Entry, manifest, package, tar_gz};
use crate::web_catalog::{WebUser, owner_with_module};
use crate::{PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use souk_core::Role;

const REVIEW: &str = "/admin/modules/economy/versions";

/// `economy` at `version` with an AWS access key id in `config.ini`, line 2, column 21: what
/// the checks hold back with `secret.aws-access-key-id`.
fn leaky(version: &str) -> Vec<u8> {
    let m = manifest("economy", version, "acme", &[]);
    // Assembled so that this source holds no credential-shaped string.
    let ini = format!(
        "[aws]\naws_access_key_id = {}\n",
        concat!("AKIA", "Z7Q3K5W2M4N6P8R0")
    );
    let readme = format!("# economy\n\nVersion {version}.\n");
    tar_gz(&[
        Entry::File("souk.toml", m.as_bytes()),
        Entry::File("README.md", readme.as_bytes()),
        Entry::File("config.ini", ini.as_bytes()),
    ])
}

/// A clean package with one file more than [`package`]'s.
fn with_extra_file(version: &str) -> Vec<u8> {
    let m = manifest("economy", version, "acme", &[]);
    tar_gz(&[
        Entry::File("souk.toml", m.as_bytes()),
        Entry::File("README.md", b"# Economy\n"),
        Entry::File("lua/extra.lua", b"return {}\n"),
    ])
}

async fn app_with_policy(policy: &str) -> TestApp {
    TestApp::builder()
        .env("SOUK_REVIEW_POLICY", policy)
        .start()
        .await
        .unwrap()
}

/// A staff account made as `souk admin create-user` does, signed in on the web.
async fn staff(app: &TestApp, email: &str, role: Role) -> WebUser {
    app.create_staff(email, role).await;
    WebUser::sign_in(app, email).await
}

/// The version's state, as its publisher reads it over the API.
async fn status(app: &TestApp, token: &str, version: &str) -> String {
    let v: Value = app
        .get_json(
            &format!("/api/v1/modules/economy/versions/{version}"),
            token,
        )
        .await;
    v["status"].as_str().unwrap_or_default().to_owned()
}

/// A page that must render.
async fn ok(u: &WebUser, path: &str) -> String {
    let (status, html) = u.page(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {html}");
    html
}

/// The findings table of a page.
fn findings_table(html: &str) -> &str {
    let start = html
        .find(r#"<table class="table" id="findings">"#)
        .expect("a findings table");
    let end = start + html[start..].find("</table>").unwrap();
    &html[start..end]
}

/// Under review policy `all`: Ada owns `acme` and `economy`, whose 1.0.0 waits for review with
/// a leaked key found by the checks. Answers the app, Ada on the web, and her API token.
async fn held_back() -> (TestApp, WebUser, String) {
    let app = app_with_policy("all").await;
    let ada = owner_with_module(&app, "ada@example.com").await;
    let ada_token = app.login("ada@example.com", PASSWORD).await;
    ada.upload_package("economy", leaky("1.0.0")).await;
    (app, ada, ada_token)
}

/// The status of downloading `economy` 1.1.0 over the API, signed out.
async fn download_status(app: &TestApp) -> StatusCode {
    app.get("/api/v1/modules/economy/versions/1.1.0/download")
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn moderators_approve_and_reject_from_the_console() {
    let (app, ada, ada_token) = held_back().await;
    ada.upload_package("economy", package("economy", "1.1.0", "acme", &[]))
        .await;
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");
    let mo = staff(&app, "mo@example.com", Role::Moderator).await;

    // The header links to the console; its home counts what waits.
    let home = ok(&mo, "/admin").await;
    assert!(home.contains(r#"id="nav-console">Console</a>"#), "{home}");
    assert!(
        home.contains(r#"id="waiting-review"><strong>2</strong>"#),
        "{home}"
    );
    assert!(home.contains(r#"href="/admin/queue""#));
    assert!(
        !home.contains(r#"href="/admin/featured""#),
        "moderators do not feature"
    );

    // The queue, oldest first, with the finding counts.
    let queue = ok(&mo, "/admin/queue").await;
    let first = queue
        .find(r#"id="queue-economy-1.0.0""#)
        .expect("1.0.0 queued");
    let second = queue
        .find(r#"id="queue-economy-1.1.0""#)
        .expect("1.1.0 queued");
    assert!(first < second);
    assert!(queue.contains("1 error</span>"), "{queue}");
    assert!(queue.contains(r#"href="/publishers/acme">Acme Games</a>"#));
    let checks = ok(&mo, "/admin/queue?status=pending_checks").await;
    assert!(checks.contains(r#"id="queue-empty""#));
    let (bad, _) = mo.page("/admin/queue?status=nonsense").await;
    assert_eq!(bad, StatusCode::UNPROCESSABLE_ENTITY);

    // The review page: findings with where they are, the file list, the forms.
    let page = ok(&mo, &format!("{REVIEW}/1.0.0")).await;
    let table = findings_table(&page);
    assert!(table.contains("secret.aws-access-key-id"), "{table}");
    assert!(table.contains("<code>config.ini:2:21</code>"), "{table}");
    assert!(table.contains("upload a version without it"), "{table}");
    assert!(page.contains("The first version: every file is new."));
    assert!(page.contains(r#"<strong>3</strong> added"#), "{page}");
    assert!(page.contains(r#"id="approve-form""#) && page.contains(r#"id="reject-form""#));
    assert!(!page.contains(r#"id="quarantine-form""#));

    // A rejection needs a reason: refused with the service's message, nothing changes.
    mo.submit(&format!("{REVIEW}/1.0.0/reject"), &[("reason", "  ")])
        .await
        .refused(&format!("{REVIEW}/1.0.0"), "give a reason");
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");
    mo.submit(
        &format!("{REVIEW}/1.0.0/reject"),
        &[(
            "reason",
            "Revoke the AWS key in config.ini and upload again.",
        )],
    )
    .await
    .success(&format!("{REVIEW}/1.0.0"), "economy 1.0.0 is rejected");
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "rejected");

    // Approval publishes; approving again is the 409 as a flash, and nothing changes.
    mo.submit(&format!("{REVIEW}/1.1.0/approve"), &[])
        .await
        .success(&format!("{REVIEW}/1.1.0"), "approved and published");
    assert_eq!(status(&app, &ada_token, "1.1.0").await, "published");
    mo.submit(&format!("{REVIEW}/1.1.0/approve"), &[])
        .await
        .refused(&format!("{REVIEW}/1.1.0"), "pending_review");
    assert_eq!(status(&app, &ada_token, "1.1.0").await, "published");
    let queue = ok(&mo, "/admin/queue").await;
    assert!(queue.contains(r#"id="queue-empty""#), "{queue}");

    // The publisher sees the state and reason, the same findings, and a notice.
    let module = ok(&ada, "/portal/modules/economy").await;
    assert!(
        module.contains(r#"data-status="rejected">rejected</span>"#),
        "{module}"
    );
    assert!(module.contains("Revoke the AWS key in config.ini and upload again."));
    assert!(module.contains(r#"data-status="published">published</span>"#));
    let mine = ok(&ada, "/portal/modules/economy/versions/1.0.0").await;
    assert_eq!(findings_table(&mine), findings_table(&page));
    assert!(
        mine.contains(r#"id="status-reason">Revoke the AWS key"#),
        "{mine}"
    );
    // A rejected version is appealed; a rescan would undo the decision, so none is offered.
    assert!(mine.contains(r#"id="appeal-form""#) && !mine.contains(r#"id="rescan-form""#));
    let index = ok(&ada, "/portal").await;
    assert!(index.contains(r#"id="unread-acme">"#), "{index}");
    let publisher = ok(&ada, "/portal/publishers/acme").await;
    assert!(
        publisher.contains("economy 1.0.0 was rejected"),
        "{publisher}"
    );
    assert!(publisher.contains("A moderator rejected it: Revoke the AWS key"));
    assert!(publisher.contains(r#"<li class="notice-item unread">"#));
    assert!(publisher.contains(r#"href="/portal/modules/economy/versions/1.0.0""#));
    let landed = ada
        .submit(
            "/portal/publishers/acme/notices/read",
            &[("up_to", &newest_notice(&publisher))],
        )
        .await;
    landed.success("/portal/publishers/acme", "Notices marked read.");
    assert!(!landed.html.contains(r#"class="notice-item unread""#));
    assert!(!landed.html.contains(r#"id="unread-count""#));
    assert!(!ok(&ada, "/portal").await.contains(r#"id="unread-acme""#));
}

/// The `up_to` of the "mark all read" form.
fn newest_notice(html: &str) -> String {
    let marker = r#"name="up_to" value=""#;
    let start = html.find(marker).expect("a mark-read form") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn published_versions_are_quarantined_appealed_and_released() {
    let app = app_with_policy("none").await;
    let ada = owner_with_module(&app, "ada@example.com").await;
    let ada_token = app.login("ada@example.com", PASSWORD).await;
    ada.upload_package("economy", package("economy", "1.0.0", "acme", &[]))
        .await;
    ada.upload_package("economy", with_extra_file("1.1.0"))
        .await;
    assert_eq!(status(&app, &ada_token, "1.1.0").await, "published");
    let root = staff(&app, "root@example.com", Role::Admin).await;
    assert!(
        ok(&root, "/admin")
            .await
            .contains(r#"href="/admin/featured""#)
    );

    // The file list against the version before.
    let page = ok(&root, &format!("{REVIEW}/1.1.0")).await;
    assert!(page.contains("Compared with 1.0.0"), "{page}");
    assert!(page.contains(r#"<strong>1</strong> added"#), "{page}");
    assert!(page.contains("<code>lua/extra.lua</code>"));
    assert!(page.contains(r#"id="no-findings">The checks found nothing."#));
    assert!(page.contains(r#"id="quarantine-form""#) && !page.contains(r#"id="approve-form""#));

    let url = format!("{REVIEW}/1.1.0");
    root.submit(&format!("{url}/quarantine"), &[("reason", "")])
        .await
        .refused(&url, "give a reason");
    assert_eq!(status(&app, &ada_token, "1.1.0").await, "published");
    root.submit(
        &format!("{url}/quarantine"),
        &[("reason", "Reported to phone home; we are looking into it.")],
    )
    .await
    .success(&url, "quarantined");
    assert_eq!(status(&app, &ada_token, "1.1.0").await, "quarantined");
    assert!(download_status(&app).await.is_client_error());

    // The publisher is told and appeals: the appeal shows in the quarantine tab and the review.
    let publisher = ok(&ada, "/portal/publishers/acme").await;
    assert!(publisher.contains("economy 1.1.0 was pulled from the marketplace"));
    let mine_url = "/portal/modules/economy/versions/1.1.0";
    let mine = ok(&ada, mine_url).await;
    assert!(mine.contains("Reported to phone home"));
    assert!(mine.contains(r#"id="appeal-form""#) && !mine.contains(r#"id="rescan-form""#));
    ada.submit(&format!("{mine_url}/appeal"), &[("message", " ")])
        .await
        .refused(mine_url, "say why the decision should change");
    ada.submit(
        &format!("{mine_url}/appeal"),
        &[("message", "That was our update check; it is documented.")],
    )
    .await
    .success(
        mine_url,
        "Your appeal on economy 1.1.0 is with the moderators.",
    );
    let quarantined = ok(&root, "/admin/queue?status=quarantined").await;
    assert!(quarantined.contains(r#"id="queue-economy-1.1.0""#));
    assert!(quarantined.contains(r#"title="The publisher appealed">appeal</span>"#));
    // The console's appeal count links to where the appeal waits: the quarantined tab.
    assert!(ok(&root, "/admin").await.contains(
        r#"href="/admin/queue?status=quarantined" id="waiting-appeals"><strong>1</strong>"#
    ));
    let page = ok(&root, &url).await;
    assert!(page.contains("That was our update check; it is documented."));
    assert!(page.contains(r#"id="release-form""#));

    root.submit(&format!("{url}/release"), &[])
        .await
        .success(&url, "released");
    assert_eq!(status(&app, &ada_token, "1.1.0").await, "published");
    root.submit(&format!("{url}/release"), &[])
        .await
        .refused(&url, "quarantined");
    assert_eq!(download_status(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn publishers_rescan_and_appeal_a_rejection_from_the_portal() {
    let (app, ada, ada_token) = held_back().await;
    let mo = staff(&app, "mo@example.com", Role::Moderator).await;
    let review = format!("{REVIEW}/1.0.0");

    // A rescan runs the checks again (replacing the findings, which find the key again); the
    // version is back in review.
    let url = "/portal/modules/economy/versions/1.0.0";
    ada.submit(&format!("{url}/rescan"), &[])
        .await
        .success(url, "The checks run again on economy 1.0.0");
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_checks");
    let pending = ok(&ada, url).await;
    assert!(pending.contains(r#"data-status="pending_checks""#));
    assert!(
        ok(&mo, "/admin/queue?status=pending_checks")
            .await
            .contains(r#"id="queue-economy-1.0.0""#)
    );
    app.settle().await;
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");
    let rescanned = ok(&ada, url).await;
    assert!(
        rescanned.contains("secret.aws-access-key-id")
            && rescanned.contains("<code>config.ini:2:21</code>"),
        "{rescanned}"
    );

    // Once rejected, the publisher cannot send it through the checks again: they appeal.
    mo.submit(&format!("{review}/reject"), &[("reason", "Leaked key.")])
        .await
        .success(&review, "rejected");
    ada.submit(&format!("{url}/rescan"), &[]).await.refused(
        url,
        "a rescan needs a version that is pending_checks or pending_review",
    );
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "rejected");

    // Appealed: back in the queue with the message.
    ada.submit(
        &format!("{url}/appeal"),
        &[(
            "message",
            "The key is the documented AWS example, not ours.",
        )],
    )
    .await
    .success(url, "with the moderators");
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");
    let queue = ok(&mo, "/admin/queue").await;
    assert!(
        queue.contains(r#"title="The publisher appealed">appeal</span>"#),
        "{queue}"
    );
    // The console's appeal count links to the review tab, where this appeal waits.
    assert!(ok(&mo, "/admin").await.contains(
        r#"href="/admin/queue?status=pending_review" id="waiting-appeals"><strong>1</strong>"#
    ));
    let page = ok(&mo, &review).await;
    assert!(
        page.contains("The key is the documented AWS example, not ours."),
        "{page}"
    );

    // A published version is not rescanned: the 409 as a flash.
    mo.submit(&format!("{review}/approve"), &[])
        .await
        .success(&review, "approved");
    ada.submit(&format!("{url}/rescan"), &[])
        .await
        .refused(url, "a rescan needs a version that is");
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "published");
}

#[tokio::test]
async fn only_staff_reach_the_console() {
    let app = app_with_policy("all").await;
    let ada = owner_with_module(&app, "ada@example.com").await;
    let ada_token = app.login("ada@example.com", PASSWORD).await;
    ada.upload_package("economy", package("economy", "1.0.0", "acme", &[]))
        .await;
    let pages = [
        "/admin".to_owned(),
        "/admin/queue".into(),
        "/admin/publishers".into(),
        format!("{REVIEW}/1.0.0"),
    ];

    // Signed out: sent to sign in.
    let visitor = WebUser::visitor(&app).await;
    for path in &pages {
        let (status, html) = visitor.page(path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(r#"action="/login""#), "{path}");
    }
    let resp = visitor
        .post_form(&format!("{REVIEW}/1.0.0/approve"), &[])
        .await;
    assert_eq!(resp.url().path(), "/login");

    // Signed in without a staff role (even the publisher's owner): the 403 page, no link.
    for path in &pages {
        let (status, html) = ada.page(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("Not allowed"));
    }
    assert!(!ok(&ada, "/portal").await.contains(r#"id="nav-console""#));
    for action in ["approve", "reject", "quarantine", "release"] {
        let resp = ada
            .post_form(
                &format!("{REVIEW}/1.0.0/{action}"),
                &[("reason", "mine now")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let resp = ada.post_form("/admin/publishers/acme/verify", &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");

    // A moderator's form without the CSRF token is refused too.
    let mo = staff(&app, "mo@example.com", Role::Moderator).await;
    let resp = mo.post_raw(&format!("{REVIEW}/1.0.0/approve"), &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");
}

#[tokio::test]
async fn moderators_cannot_decide_on_their_own_publisher() {
    let app = app_with_policy("all").await;
    let ada = owner_with_module(&app, "ada@example.com").await;
    let ada_token = app.login("ada@example.com", PASSWORD).await;
    let mo = staff(&app, "mo@example.com", Role::Moderator).await;
    ada.submit(
        "/portal/publishers/acme/members",
        &[("email", "mo@example.com"), ("role", "maintainer")],
    )
    .await
    .success(
        "/portal/publishers/acme",
        "mo@example.com is now a maintainer",
    );
    ada.upload_package("economy", package("economy", "1.0.0", "acme", &[]))
        .await;

    let url = format!("{REVIEW}/1.0.0");
    let page = ok(&mo, &url).await;
    assert!(page.contains(r#"id="own-publisher""#), "{page}");
    assert!(!page.contains(r#"id="approve-form""#) && !page.contains(r#"id="reject-form""#));
    mo.submit(&format!("{url}/approve"), &[])
        .await
        .refused(&url, "you are a member of publisher acme");
    mo.submit(&format!("{url}/reject"), &[("reason", "no")])
        .await
        .refused(&url, "another moderator must decide");
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");

    // Another moderator can.
    let other = staff(&app, "other@example.com", Role::Moderator).await;
    let page = ok(&other, &url).await;
    assert!(!page.contains(r#"id="own-publisher""#) && page.contains(r#"id="approve-form""#));
}

#[tokio::test]
async fn publishers_are_verified_and_suspended_from_the_console() {
    let app = app_with_policy("none").await;
    let ada = owner_with_module(&app, "ada@example.com").await;
    ada.upload_package("economy", package("economy", "1.0.0", "acme", &[]))
        .await;
    let portal = "/portal/publishers/acme";

    // The owner asks, with a note; an empty one is refused.
    assert!(ok(&ada, portal).await.contains(r#"id="verification-form""#));
    ada.submit(&format!("{portal}/verification"), &[("note", "")])
        .await
        .refused(portal, "tell the moderators who you are");
    let landed = ada
        .submit(
            &format!("{portal}/verification"),
            &[("note", "We are Acme Games; see acme.example/souk.")],
        )
        .await;
    landed.success(portal, "Verification requested");
    assert!(
        landed
            .html
            .contains(r#"id="verification-requested">Verification requested on "#)
    );
    assert!(!landed.html.contains(r#"id="verification-form""#));

    // Moderators see the request, read-only; their forms are refused.
    let mo = staff(&app, "mo@example.com", Role::Moderator).await;
    let list = ok(&mo, "/admin/publishers?filter=verification_requested").await;
    assert!(list.contains(r#"id="publisher-acme""#), "{list}");
    assert!(list.contains("We are Acme Games; see acme.example/souk."));
    assert!(list.contains(r#"id="read-only""#) && !list.contains("/admin/publishers/acme/verify"));
    let resp = mo.post_form("/admin/publishers/acme/verify", &[]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        ok(&mo, "/admin")
            .await
            .contains(r#"id="waiting-verification"><strong>1</strong>"#)
    );

    // An admin verifies: the badge shows wherever the name does.
    let root = staff(&app, "root@example.com", Role::Admin).await;
    let landed = root
        .submit(
            "/admin/publishers/acme/verify",
            &[("filter", "verification_requested")],
        )
        .await;
    landed.success("/admin/publishers", "acme is verified");
    assert!(
        landed.html.contains(r#"id="publishers-empty""#),
        "back on the filtered tab"
    );
    app.settle().await;
    let badge = r#"<span class="badge verified" title="Verified publisher">verified</span>"#;
    let visitor = WebUser::visitor(&app).await;
    for path in [
        "/publishers/acme",
        "/modules/economy",
        "/modules/economy/versions/1.0.0",
        "/modules",
        "/search?q=economy",
    ] {
        assert!(ok(&visitor, path).await.contains(badge), "{path}");
    }
    let mine = ok(&ada, portal).await;
    assert!(mine.contains(r#"id="verified-since">"#), "{mine}");
    assert!(mine.contains("acme is verified"));
    assert!(ok(&ada, "/portal").await.contains(badge));
    assert!(
        ok(&root, "/admin/publishers?filter=verified")
            .await
            .contains(r#"id="publisher-acme""#)
    );

    // Suspension needs a reason; the publisher reads it; its modules are hidden until reinstated.
    root.submit("/admin/publishers/acme/suspend", &[("reason", " ")])
        .await
        .refused("/admin/publishers", "give a reason");
    root.submit(
        "/admin/publishers/acme/suspend",
        &[("reason", "Payments fraud under investigation.")],
    )
    .await
    .success("/admin/publishers", "acme is suspended");
    let suspended = ok(&root, "/admin/publishers?filter=suspended").await;
    assert!(suspended.contains("Payments fraud under investigation."));
    let mine = ok(&ada, portal).await;
    assert!(
        mine.contains(r#"id="suspension-reason">Payments fraud under investigation."#),
        "{mine}"
    );
    let (hidden, _) = visitor.page("/modules/economy").await;
    assert_eq!(hidden, StatusCode::NOT_FOUND);
    root.submit("/admin/publishers/acme/unsuspend", &[])
        .await
        .success("/admin/publishers", "acme is reinstated");
    ok(&visitor, "/modules/economy").await;
    assert!(!ok(&ada, portal).await.contains(r#"id="suspended""#));

    // Unverify takes the badge away.
    root.submit("/admin/publishers/acme/unverify", &[])
        .await
        .success("/admin/publishers", "no longer verified");
    assert!(!ok(&visitor, "/publishers/acme").await.contains(badge));
}

/// How many of acme's notices are unread, as a member reads it over the API.
async fn unread_notices(app: &TestApp, token: &str) -> i64 {
    let page: Value = app
        .get_json("/api/v1/publishers/acme/messages", token)
        .await;
    page["unread"].as_i64().expect("an unread count")
}

#[tokio::test]
async fn non_members_are_refused_on_the_portal_trust_routes() {
    // 1.0.0 waits for review (a rescan would take it); 1.1.0 is rejected (an appeal would take
    // it); acme has unread notices and has not asked for verification.
    let (app, ada, ada_token) = held_back().await;
    ada.upload_package("economy", package("economy", "1.1.0", "acme", &[]))
        .await;
    let mo = staff(&app, "mo@example.com", Role::Moderator).await;
    mo.submit(
        &format!("{REVIEW}/1.1.0/reject"),
        &[("reason", "Leaked key.")],
    )
    .await
    .success(&format!("{REVIEW}/1.1.0"), "rejected");
    let unread_before = unread_notices(&app, &ada_token).await;
    assert!(unread_before > 0, "acme has unread notices");

    // Eve is signed in but not a member of acme: each page and form is the 403 page.
    let eve = WebUser::sign_up(&app, "eve@example.com").await;
    let url = "/portal/modules/economy/versions";
    for path in [format!("{url}/1.0.0"), format!("{url}/1.1.0")] {
        let (code, html) = eve.page(&path).await;
        assert_eq!(code, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("not a member of publisher acme"), "{path}");
        assert!(!html.contains("secret.aws-access-key-id"), "{path}");
    }
    let forms: [(String, &[(&str, &str)]); 4] = [
        (format!("{url}/1.0.0/rescan"), &[]),
        (
            format!("{url}/1.1.0/appeal"),
            &[("message", "Eve says it is fine.")],
        ),
        (
            "/portal/publishers/acme/notices/read".into(),
            &[("up_to", "1000000")],
        ),
        (
            "/portal/publishers/acme/verification".into(),
            &[("note", "Eve vouches for acme.")],
        ),
    ];
    for (path, fields) in &forms {
        let resp = eve.post_form(path, fields).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("not a member of publisher acme"), "{path}");
    }

    // Nothing changed: no rescan, no appeal, the notices unread, no verification request.
    assert_eq!(status(&app, &ada_token, "1.0.0").await, "pending_review");
    assert_eq!(status(&app, &ada_token, "1.1.0").await, "rejected");
    let checks: Value = app
        .get_json("/api/v1/modules/economy/versions/1.1.0/checks", &ada_token)
        .await;
    assert_eq!(checks["appeal"], Value::Null, "{checks}");
    assert_eq!(checks["appealed_at"], Value::Null, "{checks}");
    assert_eq!(unread_notices(&app, &ada_token).await, unread_before);
    let acme = app.store.publisher_by_slug("acme").await.unwrap();
    assert_eq!(acme.verification_requested_at, None);
    assert_eq!(acme.verification_note, None);
    assert!(
        ok(&ada, "/portal/publishers/acme")
            .await
            .contains(r#"id="verification-form""#)
    );
}
