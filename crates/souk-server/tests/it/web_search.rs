//! Discovery's web pages over HTTP: the embedded htmx, the header's search box and its live
//! results, the results page (facets, filters, sorts, pages, empty state, refusals as error
//! pages), category pages, the home page's featured and trending shelves and categories, the
//! administrators' featured list, and module page views.

use crate::catalog::{publisher_owner, upload};
use crate::packages::package;
use crate::{PASSWORD, TestApp};
use reqwest::{Client, Response, StatusCode, header};
use serde_json::json;

/// What a person's browser sends; the view counter leaves out requests without a user agent.
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// A person in a browser: their own cookie jar on `app`.
pub(crate) struct Browser {
    client: Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn with_agent(app: &TestApp, user_agent: &str) -> Browser {
        let client = Client::builder()
            .cookie_store(true)
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap();
        let mut b = Browser {
            client,
            base: app.url(""),
            csrf: String::new(),
        };
        let (_, html) = b.page("/login").await;
        b.csrf = csrf_of(&html);
        b
    }

    async fn visitor(app: &TestApp) -> Browser {
        Self::with_agent(app, FIREFOX).await
    }

    /// Signs in through the sign-in form.
    pub(crate) async fn signed_in(app: &TestApp, email: &str) -> Browser {
        let mut b = Self::visitor(app).await;
        let resp = b
            .post_form("/login", &[("email", email), ("password", PASSWORD)])
            .await;
        assert_eq!(resp.url().path(), "/account");
        // Forms are bound to the session: the anonymous page's token no longer works.
        b.csrf = csrf_of(&resp.text().await.unwrap());
        b
    }

    pub(crate) async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn page(&self, path: &str) -> (StatusCode, String) {
        let resp = self.get(path).await;
        (resp.status(), resp.text().await.unwrap())
    }

    /// A page that must render.
    async fn ok(&self, path: &str) -> String {
        let (status, html) = self.page(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        html
    }

    /// The live results fragment, as htmx asks for it.
    async fn live(&self, q: &str) -> String {
        let resp = self
            .client
            .get(format!(
                "{}/search/live?{}",
                self.base,
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("q", q)
                    .finish()
            ))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{q}");
        resp.text().await.unwrap()
    }

    async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
    }
}

fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The flash message on a page: `(kind, text)`.
fn flash(html: &str) -> Option<(&str, &str)> {
    let start = html.find(r#"<div class="flash flash-"#)? + 24;
    let (kind, rest) = html[start..].split_once('"')?;
    let text = rest.split_once('>')?.1.split_once("</div>")?.0;
    Some((kind, text))
}

fn unescape(href: &str) -> String {
    href.replace("&#38;", "&").replace("&amp;", "&")
}

/// The target of the last link that opens before `marker`.
fn link_before(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let start = html[..at].rfind(r#"href=""#).unwrap() + 6;
    unescape(html[start..].split('"').next().unwrap())
}

/// The facet link for `label` in the group `group` and the count beside it.
fn facet(html: &str, group: &str, label: &str) -> Option<(String, u64, bool)> {
    let start = html.find(&format!(r#"id="facet-{group}""#))?;
    let section = &html[start..start + html[start..].find("</section>")?];
    let marker = format!(r#"<span class="facet-label">{label}</span> <span class="count">"#);
    let at = section.find(&marker)?;
    let count = section[at + marker.len()..]
        .split('<')
        .next()?
        .parse()
        .ok()?;
    let open = section[..at].rfind("<a ")?;
    let anchor = &section[open..at];
    let href = anchor.split(r#"href=""#).nth(1)?.split('"').next()?;
    Some((
        unescape(href),
        count,
        anchor.contains(r#"class="facet on""#),
    ))
}

/// The module names of the result cards, in order.
fn card_names(html: &str) -> Vec<String> {
    html.split(r#"<a class="mod-link" href="/modules/"#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

fn result_count(html: &str) -> u64 {
    let marker = r#"<p class="result-count" id="result-count">"#;
    let start = html.find(marker).expect("a result count") + marker.len();
    html[start..].split(' ').next().unwrap().parse().unwrap()
}

/// Publishes `name` 1.0.0 as publisher acme and sets its summary, category and tags; answers
/// the module's id.
async fn listed(
    app: &TestApp,
    token: &str,
    name: &str,
    summary: &str,
    category: &str,
    tags: &[&str],
) -> i64 {
    let resp = upload(app, token, name, package(name, "1.0.0", "acme", &[])).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{name}");
    let resp = app
        .client
        .patch(app.url(&format!("/api/v1/modules/{name}")))
        .bearer_auth(token)
        .json(&json!({ "summary": summary, "category": category, "tags": tags }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{name}");
    app.store.module_by_name(name).await.unwrap().id
}

async fn admin(app: &TestApp, email: &str) -> Browser {
    app.state
        .accounts
        .create_user(email, PASSWORD, None, souk_core::Role::Admin)
        .await
        .unwrap();
    Browser::signed_in(app, email).await
}

#[tokio::test]
async fn htmx_is_embedded_and_every_page_has_the_search_box() {
    let app = TestApp::spawn().await;
    let visitor = Browser::visitor(&app).await;
    for path in ["/", "/modules", "/login", "/search"] {
        let html = visitor.ok(path).await;
        assert!(
            html.contains(r#"<script src="/assets/htmx-2.0.11.min.js" defer></script>"#),
            "{path}"
        );
        assert!(
            html.contains(
                r#"<form class="search-box" role="search" method="get" action="/search""#
            ),
            "{path}"
        );
        assert!(html.contains(
            r#"<label for="site-search" class="visually-hidden">Search modules</label>"#
        ));
        assert!(html.contains(
            r##"hx-get="/search/live" hx-trigger="input changed delay:200ms, search" hx-target="#live-results""##
        ));
        assert!(
            !html.contains("<script>") && !html.contains(" style="),
            "no inline script or style under the CSP"
        );
    }
    let resp = visitor.get("/").await;
    let csp = resp.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");

    let resp = visitor.get("/assets/htmx-2.0.11.min.js").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        resp.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let js = resp.text().await.unwrap();
    assert!(js.starts_with("var htmx=function()") && js.contains(r#"version:"2.0.11""#));
    let css = visitor.get("/assets/souk.css").await;
    assert_eq!(css.headers()[header::CACHE_CONTROL], "public, max-age=3600");
    let (status, _) = visitor.page("/assets/htmx.min.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only the versioned address");
}

#[tokio::test]
async fn the_search_box_shows_live_results_and_works_without_javascript() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    listed(
        &app,
        &ada,
        "economy",
        "Coins, shops & banks",
        "economy",
        &[],
    )
    .await;
    for i in 1..=10 {
        listed(&app, &ada, &format!("shop-{i}"), "A shop", "shops", &[]).await;
    }
    let visitor = Browser::visitor(&app).await;

    // Two letters already find the matches, at most eight, as a fragment of links.
    let html = visitor.live("sh").await;
    assert!(!html.contains("<html") && !html.contains("<body"), "{html}");
    assert_eq!(html.matches("<li>").count(), 8, "{html}");
    assert!(html.contains(r#"<a href="/modules/shop-1">"#), "{html}");
    assert!(html.contains(r#"<span class="live-summary">A shop</span>"#));
    assert!(html.contains(r#"<a href="/search?q=sh">All results for “sh”</a>"#));
    // The exact name comes first; text is escaped.
    let html = visitor.live("economy").await;
    let first = html.find("/modules/").unwrap();
    assert!(html[first..].starts_with("/modules/economy\""), "{html}");
    assert!(html.contains("<strong>economy</strong> <code>economy</code>"));
    assert!(html.contains("Coins, shops &#38; banks"), "{html}");

    // Nothing typed clears the results; nothing found says so.
    assert_eq!(visitor.live("").await, "");
    assert_eq!(visitor.live("   ").await, "");
    let html = visitor.live("zzzzqqq").await;
    assert!(html.contains(r#"id="live-empty""#) && html.contains("zzzzqqq"));
    // Query syntax is only text.
    for q in [r#""(:*^~"#, r#"shop" OR "#, "<script>"] {
        let html = visitor.live(q).await;
        assert!(!html.contains("<script>"), "{q}: {html}");
    }
    let html = visitor.live(&"shop ".repeat(2000)).await;
    assert!(html.len() < 20_000);

    // Without htmx the live address sends the visitor to the results page, as the form does.
    let resp = visitor.get("/search/live?q=shop").await;
    assert_eq!(resp.url().path(), "/search");
    assert_eq!(resp.url().query(), Some("q=shop"));
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"value="shop""#), "the box keeps the query");
    assert_eq!(
        result_count(&html),
        11,
        "ten shops and the bank that sells in shops"
    );
}

#[tokio::test]
async fn results_have_facets_filters_sorts_and_pages() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    listed(
        &app,
        &ada,
        "coin-shop",
        "Shops for coins",
        "shops",
        &["trade", "pvp"],
    )
    .await;
    listed(
        &app,
        &ada,
        "coin-bank",
        "Banks for coins",
        "economy",
        &["trade"],
    )
    .await;
    listed(
        &app,
        &ada,
        "coin-arena",
        "Fights for coins",
        "pvp",
        &["pvp"],
    )
    .await;
    listed(&app, &ada, "chatter", "Chat without coins", "chat", &[]).await;
    let visitor = Browser::visitor(&app).await;

    let html = visitor.ok("/search?q=coin").await;
    assert_eq!(result_count(&html), 4, "{html}");
    assert!(html.contains("<h1 id=\"results-heading\">Results for “coin”</h1>"));
    let names = card_names(&html);
    assert_eq!(names.len(), 4);
    // Facets: top-level categories with subcategories counted in, tags, pricing, platform,
    // verified, each a link that adds the filter.
    let (economy, n, on) = facet(&html, "category", "Economy").unwrap();
    assert_eq!((n, on), (2, false));
    assert_eq!(economy, "/search?q=coin&category=economy");
    assert_eq!(facet(&html, "category", "Gameplay").unwrap().1, 1);
    assert!(
        facet(&html, "category", "Shops &#38; Trading").is_none(),
        "only top level"
    );
    assert_eq!(facet(&html, "tag", "trade").unwrap().1, 2);
    assert_eq!(facet(&html, "tag", "pvp").unwrap().1, 2);
    assert_eq!(facet(&html, "pricing", "Free").unwrap().1, 4);
    assert_eq!(facet(&html, "verified", "Other publishers").unwrap().1, 4);
    assert_eq!(facet(&html, "platform", "1.0").unwrap().1, 4);
    assert!(!html.contains(r#"id="active-filters""#));

    // Choosing a category narrows the results and shows its subcategories.
    let html = visitor.ok(&economy).await;
    assert_eq!(result_count(&html), 2);
    let (shops, n, _) = facet(&html, "category", "Shops &#38; Trading").unwrap();
    assert_eq!((shops.as_str(), n), ("/search?q=coin&category=shops", 1));
    assert!(html.contains(r#"<p class="facet-trail"><a href="/search?q=coin">All categories</a> › <strong>Economy</strong></p>"#), "{html}");
    assert!(html.contains("Category: Economy"));
    // Then a tag on top: both filters apply, and each can be taken away.
    let (with_pvp, n, on) = facet(&html, "tag", "pvp").unwrap();
    assert_eq!((n, on), (1, false));
    let html = visitor.ok(&with_pvp).await;
    assert_eq!(card_names(&html), ["coin-shop"]);
    let (without_pvp, _, on) = facet(&html, "tag", "pvp").unwrap();
    assert!(on, "an active filter is marked");
    assert_eq!(without_pvp, "/search?q=coin&category=economy");
    let clear = link_before(&html, r#"id="clear-filters""#);
    assert_eq!(clear, "/search?q=coin");
    let chip = link_before(&html, "Category: Economy");
    assert_eq!(chip, "/search?q=coin&tag=pvp");
    assert_eq!(result_count(&visitor.ok(&chip).await), 2);
    // Several tags must all match.
    let html = visitor.ok("/search?tag=pvp&tag=trade").await;
    assert_eq!(card_names(&html), ["coin-shop"]);
    // Verified publishers only: none here, an empty state that offers to clear the filters.
    let html = visitor.ok("/search?q=coin&verified=true").await;
    assert_eq!(result_count(&html), 0);
    assert!(html.contains(r#"id="no-results""#));
    assert!(html.contains("No modules match “coin” with these filters."));
    assert!(html.contains(r#"<a href="/search?q=coin">Clear the filters</a>"#));
    let (_, n, on) = facet(&html, "verified", "Verified publishers").unwrap();
    assert_eq!(
        (n, on),
        (0, true),
        "the active filter stays to be taken away"
    );

    // Sorts: a tab per order, the one in effect marked.
    let html = visitor.ok("/search?q=coin").await;
    assert!(
        html.contains(
            r#"<a href="/search?q=coin&#38;sort=relevance" aria-current="page">Best match</a>"#
        ),
        "{html}"
    );
    let html = visitor.ok("/search?q=coin&sort=newest").await;
    assert!(
        html.contains(r#"<a href="/search?q=coin&#38;sort=newest" aria-current="page">Newest</a>"#)
    );
    assert_eq!(
        card_names(&html),
        ["chatter", "coin-arena", "coin-bank", "coin-shop"],
        "the last published first"
    );
    for sort in ["downloads", "updated", "trending"] {
        let html = visitor.ok(&format!("/search?q=coin&sort={sort}")).await;
        assert_eq!(result_count(&html), 4, "{sort}");
    }
    let html = visitor.ok("/search").await;
    assert!(
        !html.contains(">Best match</a>"),
        "no relevance without words"
    );
    assert!(html.contains(r#"aria-current="page">Most downloaded</a>"#));
    assert_eq!(result_count(&html), 4);

    // Nothing found at all.
    let html = visitor.ok("/search?q=xylophone").await;
    assert!(html.contains("No modules match “xylophone”."));
    assert!(html.contains("Check the spelling"));
}

#[tokio::test]
async fn results_go_on_over_pages_with_the_cursor() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    for i in 0..26 {
        listed(
            &app,
            &ada,
            &format!("mod-{i:02}"),
            "A module",
            "utilities",
            &[],
        )
        .await;
    }
    let visitor = Browser::visitor(&app).await;
    let html = visitor.ok("/search?q=module&sort=newest").await;
    assert_eq!(result_count(&html), 26);
    let first = card_names(&html);
    assert_eq!(first.len(), 24);
    let next = link_before(&html, r#"rel="next""#);
    assert!(
        next.starts_with("/search?q=module&sort=newest&cursor="),
        "{next}"
    );
    let html = visitor.ok(&next).await;
    let second = card_names(&html);
    assert_eq!(second.len(), 2);
    assert!(second.iter().all(|n| !first.contains(n)));
    assert!(!html.contains(r#"rel="next""#));
    // The category page pages the same way, on its own address.
    let html = visitor.ok("/categories/utilities").await;
    let next = link_before(&html, r#"rel="next""#);
    assert!(next.starts_with("/categories/utilities?cursor="), "{next}");
    assert_eq!(card_names(&visitor.ok(&next).await).len(), 2);
}

#[tokio::test]
async fn bad_search_input_is_an_error_page_with_its_status_never_a_500() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    listed(&app, &ada, "economy", "Coins", "economy", &[]).await;
    let visitor = Browser::visitor(&app).await;
    let refused = [
        (
            "/search?category=nope",
            StatusCode::UNPROCESSABLE_ENTITY,
            "there is no category",
        ),
        (
            "/search?sort=best",
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not a sort",
        ),
        (
            "/search?tag=Not%20A%20Tag",
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not a tag",
        ),
        (
            "/search?pricing=cheap",
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not a pricing model",
        ),
        (
            "/search?platform=latest",
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not a version",
        ),
        (
            "/search?verified=maybe",
            StatusCode::UNPROCESSABLE_ENTITY,
            "neither true nor false",
        ),
        (
            "/search?publisher=nobody",
            StatusCode::UNPROCESSABLE_ENTITY,
            "there is no publisher",
        ),
        (
            "/search?cursor=garbage",
            StatusCode::BAD_REQUEST,
            "not a cursor",
        ),
        (
            "/search?q=coin&cursor=eyJvIjo5OTk5OTk5fQ",
            StatusCode::BAD_REQUEST,
            "not a cursor",
        ),
        (
            "/categories/economy?sort=best",
            StatusCode::UNPROCESSABLE_ENTITY,
            "is not a sort",
        ),
        (
            "/categories/economy?cursor=%00",
            StatusCode::BAD_REQUEST,
            "not a cursor",
        ),
    ];
    for (path, status, message) in refused {
        let (got, html) = visitor.page(path).await;
        assert_eq!(got, status, "{path}");
        assert!(html.contains("That did not work"), "{path}: {html}");
        assert!(html.contains(message), "{path}: {html}");
    }
    let (status, html) = visitor.page("/categories/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));
    // Odd but harmless input is answered.
    let long = format!("/search?q={}", "coin%20".repeat(1500));
    for path in [
        "/search?q=%22(%3A*%5E~",
        "/search?q=%22unbalanced",
        "/search?q=%FF%FE&%ZZ=1&q",
        "/search?unknown=1&tag=&sort=&cursor=",
        "/search?sort=relevance",
        long.as_str(),
    ] {
        let (status, html) = visitor.page(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
    }
    let html = visitor
        .ok("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await;
    assert!(!html.contains("<script>alert"), "the query is escaped");
}

#[tokio::test]
async fn category_pages_list_a_category_and_its_subcategories() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    listed(&app, &ada, "bank", "A bank", "economy", &[]).await;
    listed(&app, &ada, "market", "A market", "shops", &["trade"]).await;
    listed(&app, &ada, "arena", "An arena", "pvp", &[]).await;
    let visitor = Browser::visitor(&app).await;

    let html = visitor.ok("/categories/economy").await;
    assert!(html.contains("<h1 id=\"results-heading\">Economy</h1>"));
    assert!(html.contains("<title>Economy · Souk</title>"));
    let mut names = card_names(&html);
    names.sort();
    assert_eq!(names, ["bank", "market"], "subcategories included");
    let (shops, n, _) = facet(&html, "category", "Shops &#38; Trading").unwrap();
    assert_eq!((shops.as_str(), n), ("/categories/shops", 1));
    let (tagged, ..) = facet(&html, "tag", "trade").unwrap();
    assert_eq!(tagged, "/categories/economy?tag=trade");
    assert_eq!(card_names(&visitor.ok(&tagged).await), ["market"]);

    let html = visitor.ok(&shops).await;
    assert_eq!(card_names(&html), ["market"]);
    assert!(html.contains(r#"<nav class="crumbs" aria-label="Category"><a href="/search">All modules</a> › <a href="/categories/economy">Economy</a> › <span aria-current="page">Shops &#38; Trading</span></nav>"#), "{html}");
    // Searching within a category keeps to it.
    let html = visitor.ok("/categories/gameplay?q=arena").await;
    assert_eq!(card_names(&html), ["arena"]);
    assert!(html.contains(r#"value="arena""#));
    let html = visitor.ok("/categories/worldgen").await;
    assert!(html.contains(r#"id="no-results""#));

    // The module page links its category trail; the home page lists categories with counts.
    let html = visitor.ok("/modules/market").await;
    assert!(html.contains(r#"<li id="module-category"><a href="/categories/shops">Economy › Shops &#38; Trading</a></li>"#), "{html}");
    let home = visitor.ok("/").await;
    assert!(home.contains(r#"<a href="/categories/economy" class="category-name"><strong>Economy</strong> <span class="count">2<span class="visually-hidden"> modules</span></span></a>"#), "{home}");
    assert!(
        home.contains(
            r#"<a href="/categories/shops">Shops &#38; Trading</a> <span class="count">1<"#
        )
    );
    assert!(
        home.contains(
            r#"<a href="/categories/worldgen">World Generation</a> <span class="count">0<"#
        )
    );
}

#[tokio::test]
async fn the_home_page_shows_featured_and_trending_modules() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let id = listed(&app, &ada, "bank", "A bank", "economy", &[]).await;
    listed(&app, &ada, "market", "A market", "shops", &[]).await;
    listed(&app, &ada, "arena", "An arena", "pvp", &[]).await;
    let visitor = Browser::visitor(&app).await;
    let home = visitor.ok("/").await;
    assert!(!home.contains(r#"id="featured""#) && !home.contains(r#"id="trending""#));

    // Featured, in the administrators' order.
    let root = admin(&app, "root@example.com").await;
    for name in ["market", "arena"] {
        root.post_form("/admin/featured/add", &[("name", name)])
            .await;
    }
    let home = visitor.ok("/").await;
    let start = home
        .find(r#"<section class="shelf" id="featured""#)
        .unwrap();
    let shelf = &home[start..start + home[start..].find("</section>").unwrap()];
    assert!(shelf.contains(r#"<h2 id="featured-title">Featured</h2>"#));
    assert_eq!(card_names(shelf), ["market", "arena"]);

    // Trending: views this week, none the week before.
    let today = souk_core::Timestamp::now().millis().div_euclid(86_400_000);
    app.store.record_views(&[(id, today, 500)]).await.unwrap();
    app.state.search.refresh_trending().await.unwrap();
    let home = visitor.ok("/").await;
    let start = home
        .find(r#"<section class="shelf" id="trending""#)
        .unwrap();
    let shelf = &home[start..start + home[start..].find("</section>").unwrap()];
    assert!(shelf.contains("Trending this week"));
    assert_eq!(card_names(shelf), ["bank"]);
    let html = visitor.ok("/search?sort=trending").await;
    assert_eq!(card_names(&html)[0], "bank");
}

#[tokio::test]
async fn admins_feature_order_and_unfeature_modules() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    for name in ["alpha", "beta", "gamma"] {
        listed(&app, &ada, name, "A module", "utilities", &[]).await;
    }
    let featured = || async {
        app.store
            .featured()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
    };

    // Signed out: sent to sign in, for the page and its forms. Signed in but not an admin: 403.
    let visitor = Browser::visitor(&app).await;
    assert_eq!(visitor.get("/admin/featured").await.url().path(), "/login");
    let resp = visitor
        .post_form("/admin/featured/add", &[("name", "alpha")])
        .await;
    assert_eq!(resp.url().path(), "/login");
    app.register("eve@example.com").await;
    let eve = Browser::signed_in(&app, "eve@example.com").await;
    let (status, html) = eve.page("/admin/featured").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("Not allowed"));
    assert!(!html.contains(r#"id="nav-console""#));
    let resp = eve
        .post_form("/admin/featured/add", &[("name", "alpha")])
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(featured().await.is_empty());

    // An admin sees the link in the header and an empty list.
    let root = admin(&app, "root@example.com").await;
    let html = root.ok("/account").await;
    assert!(
        html.contains(r#"<a href="/admin"  id="nav-console">Console</a>"#),
        "{html}"
    );
    let html = root.ok("/admin/featured").await;
    assert!(html.contains(r#"id="featured-empty""#));
    assert!(
        html.contains(r#"<label for="feature-name" class="visually-hidden">Module name</label>"#)
    );

    // Add, refuse unknown and repeated names, move, remove: each back on the page with a flash.
    let landed = |resp: Response| async move {
        assert_eq!(resp.url().path(), "/admin/featured");
        assert_eq!(resp.status(), StatusCode::OK);
        let html = resp.text().await.unwrap();
        let (kind, text) = flash(&html).expect("a flash");
        (kind.to_owned(), text.to_owned(), html)
    };
    for name in ["alpha", "beta", "Gamma"] {
        let (kind, text, _) = landed(
            root.post_form("/admin/featured/add", &[("name", name)])
                .await,
        )
        .await;
        assert_eq!(kind, "success", "{text}");
        assert_eq!(text, format!("{name} is featured."));
    }
    assert_eq!(featured().await, ["alpha", "beta", "gamma"]);
    let (kind, text, _) = landed(
        root.post_form("/admin/featured/add", &[("name", "nope")])
            .await,
    )
    .await;
    assert_eq!(
        (kind.as_str(), text.as_str()),
        ("error", "there is no public module `nope`")
    );
    let (kind, text, _) = landed(
        root.post_form("/admin/featured/add", &[("name", "beta")])
            .await,
    )
    .await;
    assert_eq!(
        (kind.as_str(), text.as_str()),
        ("error", "beta is featured already.")
    );
    let (kind, ..) = landed(root.post_form("/admin/featured/add", &[("name", "")]).await).await;
    assert_eq!(kind, "error");
    assert_eq!(featured().await, ["alpha", "beta", "gamma"]);

    let (kind, text, html) = landed(
        root.post_form(
            "/admin/featured/move",
            &[("name", "gamma"), ("direction", "up")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (kind.as_str(), text.as_str()),
        ("success", "gamma moved up.")
    );
    assert_eq!(featured().await, ["alpha", "gamma", "beta"]);
    let list = &html[html.find(r#"id="featured-list""#).unwrap()..];
    let order: Vec<usize> = ["/modules/alpha", "/modules/gamma", "/modules/beta"]
        .iter()
        .map(|l| list.find(l).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "shown in order");
    root.post_form(
        "/admin/featured/move",
        &[("name", "alpha"), ("direction", "down")],
    )
    .await;
    assert_eq!(featured().await, ["gamma", "alpha", "beta"]);
    let resp = root
        .post_form(
            "/admin/featured/move",
            &[("name", "alpha"), ("direction", "sideways")],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (kind, text, _) = landed(
        root.post_form("/admin/featured/remove", &[("name", "alpha")])
            .await,
    )
    .await;
    assert_eq!(
        (kind.as_str(), text.as_str()),
        ("success", "alpha is no longer featured.")
    );
    assert_eq!(featured().await, ["gamma", "beta"]);
    let (kind, ..) = landed(
        root.post_form("/admin/featured/remove", &[("name", "alpha")])
            .await,
    )
    .await;
    assert_eq!(kind, "error");

    // Without the CSRF token nothing changes.
    for token in ["", "0123abcd"] {
        let resp = root
            .post_raw(
                "/admin/featured/remove",
                &[("csrf_token", token), ("name", "gamma")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(featured().await, ["gamma", "beta"]);

    // A featured module that stops being listed stays on the admin list, marked, and off the
    // home page.
    let resp = app
        .client
        .patch(app.url("/api/v1/modules/gamma"))
        .bearer_auth(&ada)
        .json(&json!({ "visibility": "unlisted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = root.ok("/admin/featured").await;
    assert!(html.contains(r#"<span class="badge muted">not listed</span>"#));
    assert_eq!(featured().await, ["beta"]);
    let (kind, ..) = landed(
        root.post_form("/admin/featured/remove", &[("name", "gamma")])
            .await,
    )
    .await;
    assert_eq!(kind, "success");
}

#[tokio::test]
async fn module_page_views_count_once_per_browser_and_never_for_bots() {
    let app = TestApp::spawn().await;
    let ada = publisher_owner(&app, "ada@example.com", "acme").await;
    let id = listed(&app, &ada, "economy", "Coins", "economy", &[]).await;
    let views = || async {
        app.state.views.flush().await;
        app.store
            .module_views_by_day(id, 0)
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    assert_eq!(views().await, 0);

    let reader = Browser::visitor(&app).await;
    reader.ok("/modules/economy").await;
    reader.ok("/modules/economy").await;
    assert_eq!(views().await, 1, "the same browser twice is one view");
    // Another spelling redirects to the page: still one view.
    reader.ok("/modules/Economy").await;
    assert_eq!(views().await, 1);

    // Known bots, and requests without a user agent, are not counted.
    for agent in [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.5.0",
    ] {
        Browser::with_agent(&app, agent)
            .await
            .ok("/modules/economy")
            .await;
    }
    let resp = app.get("/modules/economy").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(views().await, 1);

    // Another browser is another visitor.
    let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    Browser::with_agent(&app, chrome)
        .await
        .ok("/modules/economy")
        .await;
    assert_eq!(views().await, 2);
    // A page that is not found counts nothing.
    let (status, _) = reader.page("/modules/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(views().await, 2);
}
