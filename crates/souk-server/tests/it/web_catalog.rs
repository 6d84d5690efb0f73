//! The catalog's web pages over HTTP: browsing, module, version and publisher pages, web
//! downloads, and the publisher portal's forms (including package, icon, screenshot and logo
//! uploads as multipart forms), with CSRF, membership and visibility refusals.

use crate::catalog::{publisher_owner, upload};
use crate::packages::{Entry, PNG_1X1, manifest, package, sha256_hex, tar_gz};
use crate::{PASSWORD, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

/// A person in a browser: their own cookie jar (session and CSRF cookies) on `app`.
pub(crate) struct WebUser {
    client: Client,
    base: String,
    pub(crate) csrf: String,
    /// The server's state, to let the checks run after an upload.
    state: souk_server::AppState,
}

/// The CSRF token a page's forms carry.
pub(crate) fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The text of the flash message on a page, if any.
pub(crate) fn flash(html: &str) -> Option<(&str, &str)> {
    let start = html.find(r#"<div class="flash flash-"#)? + 24;
    let (kind, rest) = html[start..].split_once('"')?;
    let text = rest.split_once('>')?.1.split_once("</div>")?.0;
    Some((kind, text))
}

impl WebUser {
    fn client() -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap()
    }

    /// A visitor who is not signed in.
    pub(crate) async fn visitor(app: &TestApp) -> WebUser {
        let mut u = WebUser {
            client: Self::client(),
            base: app.url(""),
            csrf: String::new(),
            state: app.state.clone(),
        };
        let (_, html) = u.page("/login").await;
        u.csrf = csrf_of(&html);
        u
    }

    /// Signs up through the registration form; the session cookie keeps them signed in.
    pub(crate) async fn sign_up(app: &TestApp, email: &str) -> WebUser {
        let mut u = Self::visitor(app).await;
        let resp = u
            .post_form(
                "/register",
                &[
                    ("email", email),
                    ("display_name", email.split('@').next().unwrap()),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(resp.url().path(), "/account");
        // Forms are bound to the session: the anonymous page's token no longer works.
        u.csrf = csrf_of(&resp.text().await.unwrap());
        u
    }

    /// Signs in through the sign-in form, as an account made another way (`create_user`).
    pub(crate) async fn sign_in(app: &TestApp, email: &str) -> WebUser {
        let mut u = Self::visitor(app).await;
        let resp = u
            .post_form("/login", &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(resp.url().path(), "/account");
        // Forms are bound to the session: the anonymous page's token no longer works.
        u.csrf = csrf_of(&resp.text().await.unwrap());
        u
    }

    pub(crate) async fn page(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    /// Posts a form with this person's CSRF token.
    pub(crate) async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly `fields`, token or not.
    pub(crate) async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form and answers where it landed, its status, and the flash shown there.
    pub(crate) async fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Landed {
        Landed::read(self.post_form(path, fields).await).await
    }

    /// Posts a multipart form: the CSRF token first (when given), the text fields, then the file.
    async fn upload(
        &self,
        path: &str,
        csrf: Option<&str>,
        fields: &[(&str, &str)],
        file_field: &str,
        file: Vec<u8>,
        file_name: &str,
    ) -> Landed {
        let mut form = Form::new();
        if let Some(token) = csrf {
            form = form.text("csrf_token", token.to_owned());
        }
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        form = form.part(
            file_field.to_owned(),
            Part::bytes(file).file_name(file_name.to_owned()),
        );
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        Landed::read(resp).await
    }

    /// Uploads through the portal form and lets the checks run, as `TestApp::settle` does.
    pub(crate) async fn upload_package(&self, module: &str, bytes: Vec<u8>) -> Landed {
        let csrf = self.csrf.clone();
        let landed = self
            .upload(
                &format!("/portal/modules/{module}/versions"),
                Some(&csrf),
                &[],
                "package",
                bytes,
                "package.tar.gz",
            )
            .await;
        while self.state.jobs.run_due().await.unwrap() > 0 {}
        self.state.search.sync().await.unwrap();
        landed
    }
}

/// Where a form post ended up after its redirect.
pub(crate) struct Landed {
    pub(crate) path: String,
    pub(crate) status: StatusCode,
    pub(crate) html: String,
}

impl Landed {
    async fn read(resp: Response) -> Landed {
        Landed {
            path: resp.url().path().to_owned(),
            status: resp.status(),
            html: resp.text().await.unwrap(),
        }
    }

    /// Asserts a success flash containing `text` on page `path`.
    pub(crate) fn success(&self, path: &str, text: &str) {
        assert_eq!(self.path, path, "{}", self.html);
        assert_eq!(self.status, StatusCode::OK);
        assert_eq!(
            flash(&self.html).map(|f| f.0),
            Some("success"),
            "{:?}",
            flash(&self.html)
        );
        assert!(
            flash(&self.html).unwrap().1.contains(text),
            "{:?}",
            flash(&self.html)
        );
    }

    /// Asserts an error flash containing `text` on page `path`.
    pub(crate) fn refused(&self, path: &str, text: &str) {
        assert_eq!(self.path, path, "{}", self.html);
        assert_eq!(self.status, StatusCode::OK);
        let f = flash(&self.html).expect("a flash message");
        assert_eq!(f.0, "error", "{f:?}");
        assert!(f.1.contains(text), "{f:?}");
    }
}

/// The target of a page's "Next page" link.
fn next_link(html: &str) -> Option<String> {
    let end = html.find(r#"" rel="next""#)?;
    let start = html[..end].rfind(r#"href=""#)? + 6;
    Some(html[start..end].replace("&#38;", "&"))
}

/// `GET path` on the API without credentials, as JSON.
async fn api_json(app: &TestApp, path: &str) -> Value {
    app.get(path).send().await.unwrap().json().await.unwrap()
}

/// A package with a changelog and one file that does not compress, `padding` bytes long.
fn package_with(name: &str, version: &str, deps: &[(&str, &str)], padding: usize) -> Vec<u8> {
    let m = manifest(name, version, "acme", deps);
    let readme = format!("# {name}\n\nVersion {version}.\n");
    let changelog = format!("## {version}\n\n- Added interest on savings.\n");
    let mut noise = Vec::with_capacity(padding);
    let mut x: u32 = 0x2545_f491;
    for _ in 0..padding {
        // xorshift: bytes gzip cannot shrink, so the archive is at least `padding` long.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    tar_gz(&[
        Entry::File("souk.toml", m.as_bytes()),
        Entry::File("README.md", readme.as_bytes()),
        Entry::File("CHANGELOG.md", changelog.as_bytes()),
        Entry::File("data/noise.bin", &noise),
    ])
}

/// Signs `email` up on the web and creates publisher `acme` and module `economy` through the
/// portal's forms.
pub(crate) async fn owner_with_module(app: &TestApp, email: &str) -> WebUser {
    let ada = WebUser::sign_up(app, email).await;
    ada.submit(
        "/portal/publishers",
        &[("slug", "acme"), ("display_name", "Acme Games")],
    )
    .await
    .success("/portal/publishers/acme", "Publisher acme created.");
    ada.submit(
        "/portal/publishers/acme/modules",
        &[
            ("name", "economy"),
            ("display_name", "Economy"),
            ("summary", "Money for your server"),
            ("visibility", "public"),
        ],
    )
    .await
    .success("/portal/modules/economy", "Module economy created.");
    ada
}

#[tokio::test]
async fn browse_module_version_and_publisher_pages() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    for (name, version, deps) in [
        ("economy", "1.0.0", vec![]),
        ("economy", "1.1.0", vec![]),
        ("bank", "0.1.0-beta.1", vec![("economy", "^1.0")]),
    ] {
        let resp = upload(&app, &ada, name, package_with(name, version, &deps, 100)).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{name} {version}");
    }
    let resp = app
        .client
        .patch(app.url("/api/v1/modules/economy"))
        .bearer_auth(&ada)
        .json(&json!({
            "description": "**Bold** money <script>alert(1)</script>",
            "category": "shops",
            "tags": ["money", "trade"],
            "homepage": "https://example.com/economy",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_json_as(
            "/api/v1/modules/economy/versions/1.0.0/yank",
            &ada,
            &json!({ "reason": "corrupts save files" }),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let visitor = WebUser::visitor(&app).await;
    // A download through the web counts, which orders the most downloaded tab.
    let resp = visitor
        .client
        .get(app.url("/modules/economy/versions/1.1.0/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.unwrap();
    let api: Value = app
        .get("/api/v1/modules/economy/versions/1.1.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["sha256"], sha256_hex(&bytes));
    app.state.downloads.flush().await;

    // Browse: newest first, most downloaded first, and one module per page with a next link.
    let (status, html) = visitor.page("/modules").await;
    assert_eq!(status, StatusCode::OK);
    let (bank, economy) = (
        html.find(r#"href="/modules/bank""#).expect("bank listed"),
        html.find(r#"href="/modules/economy""#)
            .expect("economy listed"),
    );
    assert!(bank < economy, "newest first");
    assert!(
        html.contains("A test module"),
        "summaries from the manifests"
    );
    assert!(html.contains(r#"href="/publishers/acme""#) && html.contains("Acme Games"));
    assert!(html.contains("v1.1.0") && html.contains("<span>1 download</span>"));
    let (_, html) = visitor.page("/modules?sort=downloads").await;
    assert!(
        html.find(r#"href="/modules/economy""#).unwrap()
            < html.find(r#"href="/modules/bank""#).unwrap()
    );
    assert!(
        html.contains(r#"id="tab-downloads" aria-current="page""#)
            || html.contains(r#"aria-current="page" id="tab-downloads""#)
    );
    let (_, first) = visitor.page("/modules?limit=1").await;
    assert!(
        first.contains(r#"href="/modules/bank""#) && !first.contains(r#"href="/modules/economy""#)
    );
    let next = next_link(&first).expect("a next page link");
    let (status, second) = visitor.page(&next).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert!(
        second.contains(r#"href="/modules/economy""#)
            && !second.contains(r#"href="/modules/bank""#),
        "{next}: {second}"
    );
    let (status, _) = visitor.page("/modules?cursor=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The home page shows both shelves.
    let (_, home) = visitor.page("/").await;
    assert!(home.contains("Newest modules") && home.contains("Most downloaded"));
    assert!(home.contains(r#"href="/modules/economy""#));

    // The module page.
    let (status, html) = visitor.page("/modules/economy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<h1 id="module-name">economy</h1>"#),
        "{html}"
    );
    assert!(
        html.contains("<strong>Bold</strong> money"),
        "sanitized description"
    );
    assert!(
        !html.contains("<script>alert"),
        "no script from the description"
    );
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("souk download economy@1.1.0"));
    assert!(html.contains(r#"href="/modules/economy/versions/1.1.0/download" id="download""#));
    assert!(html.contains("Economy › Shops &#38; Trading"));
    assert!(html.contains(r#"<span class="badge">money</span>"#));
    assert!(html.contains(r#"href="https://example.com/economy""#));
    assert!(html.contains("Latest <strong>v1.1.0</strong>"));
    assert!(html.contains("yanked") && html.contains("corrupts save files"));
    assert!(html.contains(r#"href="/modules/economy/versions/1.0.0""#));
    assert!(
        html.contains("<code>data/noise.bin</code>") && html.contains("<code>souk.toml</code>")
    );
    assert!(html.contains("Added interest on savings."));
    assert!(html.contains("MIT") && html.contains("&#62;=1.0.0"));
    assert!(
        !html.contains(r#"id="manage""#),
        "no Manage link for visitors"
    );
    let (_, bank) = visitor.page("/modules/bank").await;
    assert!(
        bank.contains(r#"<a href="/modules/economy">economy</a> <code>^1.0</code>"#),
        "{bank}"
    );
    assert!(bank.contains("prerelease"));
    // Other spellings lead to the one address.
    let resp = visitor
        .client
        .get(app.url("/modules/Economy"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().path(), "/modules/economy");

    // The version page.
    let (status, html) = visitor.page("/modules/economy/versions/1.0.0").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name = &#34;economy&#34;"), "the manifest");
    assert!(html.contains("# economy"), "the README");
    assert!(html.contains("corrupts save files") && html.contains(r#"id="yanked""#));
    assert!(html.contains("souk download economy@1.0.0"));
    let sha = app
        .get_json("/api/v1/modules/economy/versions/1.0.0", &ada)
        .await["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(html.contains(&sha));
    let (status, _) = visitor.page("/modules/economy/versions/9.9.9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The publisher page.
    let (status, html) = visitor.page("/publishers/acme").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<h1 id="publisher-name">Acme Games</h1>"#));
    assert!(
        html.contains(r#"href="/modules/economy""#) && html.contains(r#"href="/modules/bank""#)
    );
    let (status, html) = visitor.page("/publishers/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
    let (status, _) = visitor.page("/modules/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_portal_manages_publishers_members_and_module_details() {
    let app = TestApp::spawn().await;
    let ada = WebUser::sign_up(&app, "ada@example.com").await;
    let (status, html) = ada.page("/portal").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("You do not belong to a publisher yet."));
    assert!(
        html.contains(r#"href="/portal""#),
        "the nav links the portal"
    );

    ada.submit(
        "/portal/publishers",
        &[("slug", "acme"), ("display_name", "Acme Games")],
    )
    .await
    .success("/portal/publishers/acme", "Publisher acme created.");
    ada.submit(
        "/portal/publishers",
        &[("slug", "acme"), ("display_name", "Again")],
    )
    .await
    .refused("/portal", "already exists");
    ada.submit(
        "/portal/publishers",
        &[("slug", "No Spaces"), ("display_name", "Bad")],
    )
    .await
    .refused("/portal", "slug");
    let (_, html) = ada.page("/portal").await;
    assert!(html.contains(r#"href="/portal/publishers/acme""#) && html.contains(">owner<"));

    // Profile and logo.
    let profile = [
        ("display_name", "Acme Games Ltd"),
        ("bio", "We make games."),
        ("website", "https://acme.example.com"),
        ("support_email", "help@acme.example.com"),
    ];
    ada.submit("/portal/publishers/acme/profile", &profile)
        .await
        .success("/portal/publishers/acme", "Profile saved.");
    ada.submit(
        "/portal/publishers/acme/profile",
        &[("display_name", "Acme"), ("website", "javascript:alert(1)")],
    )
    .await
    .refused("/portal/publishers/acme", "website must be an http");
    let csrf = ada.csrf.clone();
    ada.upload(
        "/portal/publishers/acme/logo",
        Some(&csrf),
        &[],
        "logo",
        PNG_1X1.to_vec(),
        "logo.png",
    )
    .await
    .success("/portal/publishers/acme", "Logo updated.");
    ada.upload(
        "/portal/publishers/acme/logo",
        Some(&csrf),
        &[],
        "logo",
        b"not an image".to_vec(),
        "logo.png",
    )
    .await
    .refused(
        "/portal/publishers/acme",
        "must be a PNG, JPEG, GIF or WebP image",
    );
    let (_, public) = ada.page("/publishers/acme").await;
    assert!(public.contains("Acme Games Ltd") && public.contains("We make games."));
    assert!(public.contains(r#"href="mailto:help@acme.example.com""#));
    assert!(public.contains(r#"<img class="icon icon-lg" src="/api/v1/images/"#));

    // Members: add, refuse, change, remove; owners only; the last owner stays.
    let bob = WebUser::sign_up(&app, "bob@example.com").await;
    let (status, _) = bob.page("/portal/publishers/acme").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    ada.submit(
        "/portal/publishers/acme/members",
        &[("email", "bob@example.com"), ("role", "maintainer")],
    )
    .await
    .success(
        "/portal/publishers/acme",
        "bob@example.com is now a maintainer of acme.",
    );
    ada.submit(
        "/portal/publishers/acme/members",
        &[("email", "nobody@example.com"), ("role", "maintainer")],
    )
    .await
    .refused("/portal/publishers/acme", "they must sign up first");
    let (status, html) = bob.page("/portal/publishers/acme").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<span class="badge" id="my-role">maintainer</span>"#));
    assert!(
        !html.contains(r#"id="add-member-form""#),
        "maintainers do not add members"
    );
    bob.submit(
        "/portal/publishers/acme/members",
        &[("email", "bob@example.com"), ("role", "owner")],
    )
    .await
    .refused("/portal/publishers/acme", "only owners of acme may do this");
    let bob_id = app
        .store
        .user_by_email(&souk_core::Email::parse("bob@example.com").unwrap())
        .await
        .unwrap()
        .id;
    let ada_id = app
        .store
        .user_by_email(&souk_core::Email::parse("ada@example.com").unwrap())
        .await
        .unwrap()
        .id;
    ada.submit(
        &format!("/portal/publishers/acme/members/{bob_id}/role"),
        &[("role", "owner")],
    )
    .await
    .success("/portal/publishers/acme", "Role changed.");
    ada.submit(
        &format!("/portal/publishers/acme/members/{bob_id}/remove"),
        &[],
    )
    .await
    .success("/portal/publishers/acme", "Member removed.");
    let (status, html) = bob.page("/portal/publishers/acme").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Not allowed"));
    // A member may leave on their own.
    ada.submit(
        "/portal/publishers/acme/members",
        &[("email", "bob@example.com"), ("role", "maintainer")],
    )
    .await
    .success("/portal/publishers/acme", "is now a maintainer");
    bob.submit(
        &format!("/portal/publishers/acme/members/{bob_id}/remove"),
        &[],
    )
    .await
    .success("/portal", "You left acme.");
    let (_, html) = bob.page("/portal").await;
    assert!(html.contains("You do not belong to a publisher yet."));
    ada.submit(
        &format!("/portal/publishers/acme/members/{ada_id}/remove"),
        &[],
    )
    .await
    .refused("/portal/publishers/acme", "must keep at least one owner");

    // Modules: create, refuse a bad name, edit every detail.
    ada.submit(
        "/portal/publishers/acme/modules",
        &[
            ("name", "economy"),
            ("display_name", ""),
            ("summary", "Money"),
            ("visibility", "public"),
        ],
    )
    .await
    .success("/portal/modules/economy", "Module economy created.");
    ada.submit(
        "/portal/publishers/acme/modules",
        &[("name", "9lives"), ("visibility", "public")],
    )
    .await
    .refused("/portal/publishers/acme", "name");
    let (_, html) = ada.page("/portal/publishers/acme").await;
    assert!(html.contains(r#"<a href="/portal/modules/economy">"#));
    let (status, html) = ada.page("/portal/modules/economy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"<option value="shops" >"#),
        "the category tree is offered"
    );
    let details = [
        ("display_name", "Economy Plus"),
        ("summary", "Coins, shops and banks"),
        ("description", "## Features\n\n- *interest*"),
        ("category", "shops"),
        ("tags", "Money, trade,"),
        ("homepage", "https://example.com/eco"),
        ("repository", ""),
        ("visibility", "unlisted"),
    ];
    ada.submit("/portal/modules/economy", &details)
        .await
        .success("/portal/modules/economy", "Module saved.");
    let (_, html) = ada.page("/portal/modules/economy").await;
    assert!(
        html.contains(r#"<option value="shops" selected>"#),
        "the category is selected"
    );
    assert!(
        html.contains(r#"value="money, trade""#),
        "tags as typed, normalized"
    );
    assert!(html.contains(r#"<option value="unlisted" selected>"#));
    let (_, public) = ada.page("/modules/economy").await;
    assert!(public.contains("Economy Plus") && public.contains("<em>interest</em>"));
    assert!(public.contains("Shops &#38; Trading") && public.contains(r#"id="manage""#));
    ada.submit(
        "/portal/modules/economy",
        &[
            ("display_name", "Economy"),
            ("tags", "not a tag!"),
            ("visibility", "public"),
        ],
    )
    .await
    .refused("/portal/modules/economy", "is not a tag");

    // Icon and screenshots.
    ada.upload(
        "/portal/modules/economy/icon",
        Some(&csrf),
        &[],
        "icon",
        PNG_1X1.to_vec(),
        "icon.png",
    )
    .await
    .success("/portal/modules/economy", "Icon updated.");
    ada.upload(
        "/portal/modules/economy/screenshots",
        Some(&csrf),
        &[("caption", "Main menu")],
        "image",
        PNG_1X1.to_vec(),
        "shot.png",
    )
    .await
    .success("/portal/modules/economy", "Screenshot added.");
    let (_, public) = ada.page("/modules/economy").await;
    assert!(public.contains("<figcaption>Main menu</figcaption>"));
    assert!(public.contains(r#"<img class="icon icon-lg" src="/api/v1/images/"#));
    let shot = api_json(&app, "/api/v1/modules/economy").await;
    let shot_id = shot["screenshots"][0]["id"].as_i64().unwrap();
    ada.submit(
        &format!("/portal/modules/economy/screenshots/{shot_id}/delete"),
        &[],
    )
    .await
    .success("/portal/modules/economy", "Screenshot removed.");

    // Archive and unarchive.
    ada.submit("/portal/modules/economy/archive", &[])
        .await
        .success("/portal/modules/economy", "economy is archived");
    let (status, public) = ada.page("/modules/economy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(public.contains(r#"id="archived""#));
    ada.submit("/portal/modules/economy/unarchive", &[])
        .await
        .success("/portal/modules/economy", "economy is active again.");
    let (_, public) = ada.page("/modules/economy").await;
    assert!(!public.contains(r#"id="archived""#));
}

#[tokio::test]
async fn versions_are_uploaded_yanked_and_refused_through_the_portal() {
    let app = TestApp::spawn().await;
    let ada = owner_with_module(&app, "ada@example.com").await;
    let bytes = package("economy", "1.0.0", "acme", &[]);
    ada.upload_package("economy", bytes.clone())
        .await
        .success("/portal/modules/economy", "Uploaded economy 1.0.0");
    let (_, html) = ada.page("/modules/economy").await;
    assert!(html.contains(r#"<a href="/modules/economy/versions/1.0.0">1.0.0</a>"#));
    let resp = ada
        .client
        .get(app.url("/modules/economy/versions/1.0.0/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());

    // Refusals come back as the service words them, and publish nothing.
    let refusals: [(Vec<u8>, &str); 4] = [
        (package("other", "1.1.0", "acme", &[]), "the manifest names"),
        (
            package("economy", "1.0.0", "acme", &[]),
            "economy 1.0.0 is already published",
        ),
        (b"hello, not an archive".to_vec(), "package"),
        (Vec::new(), "package is missing"),
    ];
    for (body, message) in refusals {
        ada.upload_package("economy", body)
            .await
            .refused("/portal/modules/economy", message);
    }
    let versions: Value = app
        .get("/api/v1/modules/economy/versions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1);
    let staging = std::fs::read_dir(app.dir.path().join("tmp"))
        .unwrap()
        .count();
    assert_eq!(staging, 0, "refused uploads leave no staged file");

    // Yank with a reason, then unyank.
    ada.upload_package("economy", package("economy", "1.1.0", "acme", &[]))
        .await
        .success("/portal/modules/economy", "Uploaded economy 1.1.0");
    ada.submit(
        "/portal/modules/economy/versions/1.1.0/yank",
        &[("reason", "")],
    )
    .await
    .refused("/portal/modules/economy", "reason");
    ada.submit(
        "/portal/modules/economy/versions/1.1.0/yank",
        &[("reason", "broke the bank")],
    )
    .await
    .success("/portal/modules/economy", "economy 1.1.0 is yanked");
    let (_, html) = ada.page("/modules/economy").await;
    assert!(html.contains("broke the bank") && html.contains("souk download economy@1.0.0"));
    ada.submit("/portal/modules/economy/versions/1.1.0/unyank", &[])
        .await
        .success(
            "/portal/modules/economy",
            "economy 1.1.0 is available again.",
        );
    let (_, html) = ada.page("/modules/economy").await;
    assert!(html.contains("souk download economy@1.1.0"));

    // A package past the application's 2 MiB body limit goes through: upload routes have their
    // own limit, the package limit plus room for the form.
    let large = package_with("economy", "2.0.0", &[], 3 * 1024 * 1024);
    assert!(large.len() > 3 * 1024 * 1024);
    ada.upload_package("economy", large.clone())
        .await
        .success("/portal/modules/economy", "Uploaded economy 2.0.0");
    let resp = ada
        .client
        .get(app.url("/modules/economy/versions/2.0.0/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(sha256_hex(&resp.bytes().await.unwrap()), sha256_hex(&large));

    // An upload past the configured limit is refused with the limit in the message.
    let small = TestApp::builder()
        .env("SOUK_PACKAGES_MAX_UPLOAD_BYTES", "4096")
        .start()
        .await
        .unwrap();
    let ada = owner_with_module(&small, "ada@example.com").await;
    let big = package_with("economy", "1.0.0", &[], 20_000);
    ada.upload_package("economy", big)
        .await
        .refused("/portal/modules/economy", "package is larger than 4.0 KiB");
    ada.upload_package("economy", package_with("economy", "1.0.0", &[], 10))
        .await
        .success("/portal/modules/economy", "Uploaded economy 1.0.0");
    let staging = std::fs::read_dir(small.dir.path().join("tmp"))
        .unwrap()
        .count();
    assert_eq!(staging, 0);
}

#[tokio::test]
async fn portal_forms_need_csrf_membership_and_a_session() {
    let app = TestApp::spawn().await;
    let ada = owner_with_module(&app, "ada@example.com").await;
    let pkg = || package("economy", "1.0.0", "acme", &[]);

    // Without the token, or with a wrong one, nothing happens and the page is 403.
    for token in [None, Some(""), Some("0123abcd")] {
        let landed = ada
            .upload(
                "/portal/modules/economy/versions",
                token,
                &[],
                "package",
                pkg(),
                "p.tar.gz",
            )
            .await;
        assert_eq!(landed.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(landed.html.contains("Not allowed"));
    }
    let resp = ada
        .post_raw(
            "/portal/modules/economy",
            &[("display_name", "Hijacked"), ("visibility", "private")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = ada
        .post_raw(
            "/portal/publishers",
            &[("csrf_token", "nope"), ("slug", "evil")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let m = api_json(&app, "/api/v1/modules/economy").await;
    assert_eq!(m["display_name"], "Economy");
    assert_eq!(m["versions"], json!([]));

    // Someone outside the publisher gets 403 pages, for pages and for forms.
    let eve = WebUser::sign_up(&app, "eve@example.com").await;
    for path in ["/portal/publishers/acme", "/portal/modules/economy"] {
        let (status, html) = eve.page(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(html.contains("not a member of publisher acme"), "{path}");
    }
    let csrf = eve.csrf.clone();
    let landed = eve
        .upload(
            "/portal/modules/economy/versions",
            Some(&csrf),
            &[],
            "package",
            pkg(),
            "p.tar.gz",
        )
        .await;
    assert_eq!(landed.status, StatusCode::FORBIDDEN);
    let resp = eve
        .post_form("/portal/modules/economy", &[("display_name", "Mine now")])
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = eve
        .post_form(
            "/portal/publishers/acme/members",
            &[("email", "eve@example.com"), ("role", "owner")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (status, _) = eve.page("/portal/publishers/nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A private module is 404 to everyone outside its publisher, and listed only for members.
    ada.upload_package("economy", pkg())
        .await
        .success("/portal/modules/economy", "Uploaded economy 1.0.0");
    ada.submit(
        "/portal/modules/economy",
        &[("display_name", "Economy"), ("visibility", "private")],
    )
    .await
    .success("/portal/modules/economy", "Module saved.");
    let visitor = WebUser::visitor(&app).await;
    for who in [&eve, &visitor] {
        for path in [
            "/modules/economy",
            "/modules/economy/versions/1.0.0",
            "/modules/economy/versions/1.0.0/download",
        ] {
            let (status, html) = who.page(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(html.contains("Page not found"));
        }
        let (_, html) = who.page("/publishers/acme").await;
        assert!(!html.contains(r#"href="/modules/economy""#));
        let (_, html) = who.page("/modules").await;
        assert!(!html.contains(r#"href="/modules/economy""#));
    }
    let (status, _) = eve.page("/portal/modules/economy").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, html) = ada.page("/modules/economy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"<span class="badge muted">private</span>"#));
    let (_, html) = ada.page("/publishers/acme").await;
    assert!(html.contains(r#"href="/modules/economy""#));
    let resp = ada
        .client
        .get(app.url("/modules/economy/versions/1.0.0/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "private, max-age=3600");

    // Without a session the portal sends you to sign in.
    for path in [
        "/portal",
        "/portal/publishers/acme",
        "/portal/modules/economy",
    ] {
        let resp = visitor.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.url().path(), "/login", "{path}");
    }
    let resp = visitor
        .post_form(
            "/portal/publishers",
            &[("slug", "anon"), ("display_name", "Anon")],
        )
        .await;
    assert_eq!(resp.url().path(), "/login");
}
