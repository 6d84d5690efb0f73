//! The web UI over HTTP: sign-up and sign-in forms, CSRF refusal, the account page's token
//! management, sign-out, and cookie attributes.

use crate::{PASSWORD, TestApp};
use reqwest::StatusCode;

/// The CSRF token a page's forms carry.
fn csrf(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let resp = app.get(path).send().await.unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn sign_up_sign_in_create_a_token_and_sign_out() {
    let app = TestApp::spawn().await;
    let (_, html) = page(&app, "/register").await;
    let token = csrf(&html);
    let resp = app
        .post("/register")
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "web@example.com"),
            ("display_name", "Web Person"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/account");
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("web@example.com") && html.contains("Your account is ready."),
        "{html}"
    );

    // Create a token from the account page: the secret is shown once, then only its prefix.
    let token = csrf(&html);
    let resp = app
        .post("/account/tokens")
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "laptop"),
            ("scope", "read"),
            ("scope", "publish"),
            ("expires_in_days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let start = html
        .find(r#"<code id="new-token">"#)
        .expect("the new token is shown")
        + 21;
    let secret = &html[start..start + 73];
    assert!(secret.starts_with("souk_pat_"), "{secret}");
    assert!(html.contains("read publish"));
    let me = app
        .get("/api/v1/me")
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let (_, again) = page(&app, "/account").await;
    assert!(!again.contains(secret) && again.contains(&secret[..16]));

    // Sign out, then the account page sends us to sign in.
    let resp = app
        .post("/logout")
        .form(&[("csrf_token", csrf(&again).as_str())])
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("You are signed out."));
    let resp = app.get("/account").send().await.unwrap();
    assert_eq!(resp.url().path(), "/login");

    // And back in with the password.
    let (_, html) = page(&app, "/login").await;
    let resp = app
        .post("/login")
        .form(&[
            ("csrf_token", csrf(&html).as_str()),
            ("email", "web@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/account");
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Welcome back, Web Person.")
    );
}

#[tokio::test]
async fn form_posts_without_a_valid_csrf_token_are_403_and_change_nothing() {
    let app = TestApp::spawn().await;
    page(&app, "/register").await; // the visitor has a CSRF cookie, but forges the field
    for token in ["", "0000", &"ab".repeat(32)] {
        let resp = app
            .post("/register")
            .form(&[
                ("csrf_token", token),
                ("email", "csrf@example.com"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{token}");
        assert!(resp.text().await.unwrap().contains("Not allowed"));
    }
    assert_eq!(app.users().await, 0);
    // A token taken from another visitor's cookie does not carry over.
    let other = TestApp::spawn().await;
    let (_, html) = page(&other, "/login").await;
    let foreign = csrf(&html);
    let resp = app
        .post("/register")
        .form(&[
            ("csrf_token", foreign.as_str()),
            ("email", "csrf@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn signed_in_forms_need_csrf_too() {
    let app = TestApp::spawn().await;
    let (_, html) = page(&app, "/register").await;
    app.post("/register")
        .form(&[
            ("csrf_token", csrf(&html).as_str()),
            ("email", "c2@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let resp = app
        .post("/account/tokens")
        .form(&[("name", "sneaky"), ("scope", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app
        .post("/logout")
        .form(&[("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (status, html) = page(&app, "/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No tokens yet."));
}

#[tokio::test]
async fn bad_form_input_is_shown_on_the_page() {
    let app = TestApp::spawn().await;
    let (_, html) = page(&app, "/register").await;
    let resp = app
        .post("/register")
        .form(&[
            ("csrf_token", csrf(&html).as_str()),
            ("email", "nope"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.text().await.unwrap().contains(r#"data-field="email""#));
    let resp = app
        .post("/login")
        .form(&[
            ("csrf_token", csrf(&html).as_str()),
            ("email", "x@example.com"),
            ("password", "whatever whatever"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("do not match an account")
    );
    assert_eq!(app.users().await, 0);
}

#[tokio::test]
async fn cookies_are_http_only_and_same_site() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = client.get(app.url("/login")).send().await.unwrap();
    let set = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("souk_csrf=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"));
    let https = TestApp::builder()
        .env("SOUK_PUBLIC_URL", "https://souk.example.com")
        .start()
        .await
        .unwrap();
    let resp = client.get(https.url("/login")).send().await.unwrap();
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

#[tokio::test]
async fn pages_render_and_the_api_reference_lists_every_route() {
    let app = TestApp::spawn().await;
    let (status, home) = page(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Create an account"));
    let (status, docs) = page(&app, "/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    for route in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/tokens/{id}",
        "/readyz",
    ] {
        assert!(docs.contains(route), "missing {route}");
    }
    assert!(docs.contains("CreateTokenRequest"));
    let css = app.get("/assets/souk.css").send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

/// An anonymous visitor's CSRF cookie and the token of its page, read without a cookie store.
async fn anonymous_pair(app: &TestApp) -> (String, String) {
    let resp = reqwest::Client::new()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("souk_csrf="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .expect("a CSRF cookie");
    (cookie, csrf(&resp.text().await.unwrap()))
}

#[tokio::test]
async fn the_csrf_token_is_bound_to_the_session() {
    let app = TestApp::spawn().await;
    // The victim signs in; their session secret is what their browser's cookie holds.
    let victim = app.signed_up("victim@example.com").await;
    // An attacker takes a cookie and token pair from an anonymous page and plants the cookie
    // beside the victim's session: the pair is refused, and nothing is created.
    let (cookie, token) = anonymous_pair(&app).await;
    let resp = reqwest::Client::new()
        .post(app.url("/account/tokens"))
        .header(
            reqwest::header::COOKIE,
            format!("souk_session={victim}; souk_csrf={cookie}"),
        )
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "planted"),
            ("scope", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let tokens: serde_json::Value = app.get_json("/api/v1/tokens", &victim).await;
    assert_eq!(tokens["items"], serde_json::json!([]));
    // The same cookie with the token of a page the session itself was shown works.
    let page = reqwest::Client::new()
        .get(app.url("/account"))
        .header(
            reqwest::header::COOKIE,
            format!("souk_session={victim}; souk_csrf={cookie}"),
        )
        .send()
        .await
        .unwrap();
    let own = csrf(&page.text().await.unwrap());
    assert_ne!(own, token);
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/account/tokens"))
        .header(
            reqwest::header::COOKIE,
            format!("souk_session={victim}; souk_csrf={cookie}"),
        )
        .form(&[
            ("csrf_token", own.as_str()),
            ("name", "mine"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let tokens: serde_json::Value = app.get_json("/api/v1/tokens", &victim).await;
    assert_eq!(tokens["items"][0]["name"], "mine");
}

#[tokio::test]
async fn a_token_from_before_sign_in_no_longer_works_after_it() {
    let app = TestApp::spawn().await;
    let (_, html) = page(&app, "/register").await;
    let before = csrf(&html);
    let resp = app
        .post("/register")
        .form(&[
            ("csrf_token", before.as_str()),
            ("email", "bound@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/account");
    let after = csrf(&resp.text().await.unwrap());
    assert_ne!(before, after);
    let resp = app
        .post("/account/tokens")
        .form(&[
            ("csrf_token", before.as_str()),
            ("name", "old"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = app
        .post("/account/tokens")
        .form(&[
            ("csrf_token", after.as_str()),
            ("name", "new"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("souk_pat_"));
}

#[tokio::test]
async fn form_posts_from_another_origin_are_refused() {
    let app = TestApp::spawn().await;
    let (_, html) = page(&app, "/register").await;
    let token = csrf(&html);
    let host = app.addr.to_string();
    for (header, value) in [
        ("origin", "https://evil.example".to_owned()),
        ("origin", "null".to_owned()),
        ("origin", format!("http://{}:1", app.addr.ip())),
        ("referer", "https://evil.example/form".to_owned()),
    ] {
        let resp = app
            .post("/register")
            .header(header, &value)
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", "cross@example.com"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{header}: {value}");
        assert!(resp.text().await.unwrap().contains("another site"));
    }
    assert_eq!(app.users().await, 0);
    // The site's own origin, as a browser sends it, passes.
    let resp = app
        .post("/register")
        .header("origin", format!("http://{host}"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "same@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/account");
    assert_eq!(app.users().await, 1);
}

#[tokio::test]
async fn the_account_page_is_not_cached() {
    let app = TestApp::spawn().await;
    let (_, html) = page(&app, "/register").await;
    let resp = app
        .post("/register")
        .form(&[
            ("csrf_token", csrf(&html).as_str()),
            ("email", "nocache@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/account");
    assert_eq!(resp.headers()["cache-control"], "no-store");
}
