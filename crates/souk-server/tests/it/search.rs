//! Discovery over HTTP: search with prefixes, typos, filters, facets, sorts and cursor pages;
//! freshness after every kind of catalog write; featured and trending lists; the index rebuilt
//! when missing, unreadable or of another schema; and every bad input answered without a 500.

use crate::catalog::{publisher_owner, upload};
use crate::packages::package;
use crate::{TestApp, envelope};
use reqwest::StatusCode;
use serde_json::{Value, json};
use souk_core::Timestamp;

/// Publishes `name` 1.0.0 under `acme` and gives it a summary, tags and a category.
async fn module(
    app: &TestApp,
    token: &str,
    name: &str,
    summary: &str,
    tags: &[&str],
    category: &str,
) {
    let resp = upload(app, token, name, package(name, "1.0.0", "acme", &[])).await;
    assert_eq!(resp.status(), StatusCode::CREATED, "{name}");
    let resp = app
        .client
        .patch(app.url(&format!("/api/v1/modules/{name}")))
        .bearer_auth(token)
        .json(&json!({ "summary": summary, "tags": tags, "category": category }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{name}");
}

async fn search(app: &TestApp, query: &str) -> Value {
    let resp = app
        .get(&format!("/api/v1/search?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{query}");
    resp.json().await.unwrap()
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Four modules with distinct text: the catalog the search tests ask questions of.
async fn catalog(app: &TestApp) -> String {
    let ada = publisher_owner(app, "ada@example.com", "acme").await;
    module(
        app,
        &ada,
        "world-edit",
        "Edit the world with brushes and selections",
        &["building", "tools"],
        "world",
    )
    .await;
    module(
        app,
        &ada,
        "world-guard",
        "Protect regions from griefing",
        &["protection"],
        "administration",
    )
    .await;
    module(
        app,
        &ada,
        "auction-house",
        "Sell items to other players in auctions",
        &["trading"],
        "shops",
    )
    .await;
    module(
        app,
        &ada,
        "edit-history",
        "Undo history for every edit",
        &["tools"],
        "utilities",
    )
    .await;
    ada
}

async fn text_search_finds_by_name_prefix_typo_and_stem(app: TestApp) {
    catalog(&app).await;
    // The contract: `items` with `name`.
    let page = search(&app, "q=auction-house").await;
    assert_eq!(names(&page)[0], "auction-house");
    assert_eq!(page["total"], 1);
    // An exact name (in any spelling) comes first, even when other modules match its words.
    for q in ["world-edit", "world%20edit", "WorldEdit", "world_edit"] {
        assert_eq!(
            names(&search(&app, &format!("q={q}")).await)[0],
            "world-edit",
            "{q}"
        );
    }
    let edit = names(&search(&app, "q=edit").await);
    assert!(
        edit.contains(&"edit-history".to_owned()) && edit.contains(&"world-edit".to_owned()),
        "{edit:?}"
    );
    // As the visitor types: two letters are a prefix.
    assert_eq!(names(&search(&app, "q=au").await), vec!["auction-house"]);
    assert_eq!(names(&search(&app, "q=auct").await), vec!["auction-house"]);
    // A finished word (trailing space) is not a prefix any more.
    assert!(names(&search(&app, "q=auct%20").await).is_empty());
    // Typos in longer words still find the module.
    assert_eq!(
        names(&search(&app, "q=auctoin").await),
        vec!["auction-house"]
    );
    assert_eq!(
        names(&search(&app, "q=protectoin").await),
        vec!["world-guard"],
        "a tag, with a typo"
    );
    assert_eq!(names(&search(&app, "q=gaurd").await), vec!["world-guard"]);
    // English stemming in the prose: "selling" finds "Sell", "regions" finds "region".
    assert_eq!(
        names(&search(&app, "q=selling").await),
        vec!["auction-house"]
    );
    assert_eq!(names(&search(&app, "q=region").await), vec!["world-guard"]);
    // Every word must match.
    assert_eq!(
        names(&search(&app, "q=world%20griefing").await),
        vec!["world-guard"]
    );
    // Tags, publisher names and the publisher slug are searched too.
    assert_eq!(
        names(&search(&app, "q=trading").await),
        vec!["auction-house"]
    );
    assert_eq!(search(&app, "q=acme").await["total"], 4);
    // Nothing matches: an empty page, not an error.
    let none = search(&app, "q=zeppelin").await;
    assert_eq!(none["items"], json!([]));
    assert_eq!(none["total"], 0);
    assert_eq!(none["next_cursor"], Value::Null);
    // Suggestions for autocomplete.
    let s: Value = app
        .get("/api/v1/search/suggest?q=wor")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut sugg: Vec<&str> = s["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    sugg.sort_unstable();
    assert_eq!(sugg, vec!["world-edit", "world-guard"]);
    let s: Value = app
        .get("/api/v1/search/suggest?q=")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["items"], json!([]));
}

#[tokio::test]
async fn text_search_on_sqlite() {
    text_search_finds_by_name_prefix_typo_and_stem(TestApp::spawn().await).await;
}

#[tokio::test]
async fn text_search_on_postgres() {
    if let Some(app) = TestApp::builder().postgres().start().await {
        text_search_finds_by_name_prefix_typo_and_stem(app).await;
    }
}

#[tokio::test]
async fn filters_facets_sorts_and_pages() {
    let app = TestApp::spawn().await;
    catalog(&app).await;
    // Category filters include subcategories: `shops` is under `economy`.
    assert_eq!(
        names(&search(&app, "category=economy").await),
        vec!["auction-house"]
    );
    assert_eq!(
        names(&search(&app, "category=shops").await),
        vec!["auction-house"]
    );
    let mut tools = names(&search(&app, "tag=tools").await);
    tools.sort();
    assert_eq!(tools, vec!["edit-history", "world-edit"]);
    assert_eq!(
        names(&search(&app, "q=edit&tag=tools,building").await),
        vec!["world-edit"]
    );
    assert_eq!(search(&app, "pricing=free").await["total"], 4);
    assert_eq!(search(&app, "verified=true").await["total"], 0);
    assert_eq!(search(&app, "verified=false").await["total"], 4);
    assert_eq!(search(&app, "publisher=acme").await["total"], 4);
    // The test packages claim `>=1.0.0`: platform 1.2 matches, 2.0 does not.
    assert_eq!(search(&app, "platform=1.2.3").await["total"], 4);
    assert_eq!(search(&app, "platform=2.0").await["total"], 0);

    // Facets count over every match.
    let page = search(&app, "q=edit").await;
    let facets = &page["facets"];
    let count = |list: &Value, value: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["value"] == value)
            .map(|v| v["count"].as_u64().unwrap())
    };
    assert_eq!(count(&facets["tag"], "tools"), Some(2));
    assert_eq!(count(&facets["tag"], "building"), Some(1));
    assert_eq!(count(&facets["category"], "world"), Some(1));
    assert_eq!(count(&facets["category"], "utilities"), Some(1));
    assert_eq!(count(&facets["pricing"], "free"), Some(2));
    assert_eq!(count(&facets["verified"], "false"), Some(2));
    assert!(count(&facets["platform"], "1.0").is_some());
    // Filtering on a category shows its subcategories' counts.
    let economy = search(&app, "category=economy").await;
    assert_eq!(count(&economy["facets"]["category"], "shops"), Some(1));
    // Autocomplete can leave facets out.
    assert_eq!(
        search(&app, "q=edit&facets=false").await["facets"],
        Value::Null
    );

    // Categories answer their counts, subcategories included.
    let cats: Value = app
        .get("/api/v1/categories")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cat = |slug: &str| {
        cats.as_array()
            .unwrap()
            .iter()
            .find(|c| c["slug"] == slug)
            .unwrap()["count"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        (cat("economy"), cat("shops"), cat("world"), cat("chat")),
        (1, 1, 1, 0)
    );

    // Sorts: downloads and newest.
    let v: Value = app
        .get("/api/v1/modules/edit-history/versions/1.0.0")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let version_id = app
        .store
        .version(
            app.store.module_by_name("edit-history").await.unwrap().id,
            "1.0.0",
        )
        .await
        .unwrap()
        .id;
    assert_eq!(v["version"], "1.0.0");
    app.store
        .record_downloads(&[(version_id, 20_000, 50)])
        .await
        .unwrap();
    app.state.search.sync().await.unwrap();
    assert_eq!(
        names(&search(&app, "sort=downloads").await)[0],
        "edit-history"
    );
    assert_eq!(names(&search(&app, "sort=newest").await)[0], "edit-history");
    assert_eq!(
        search(&app, "").await["sort"],
        "downloads",
        "browsing sorts by downloads"
    );
    assert_eq!(search(&app, "q=edit").await["sort"], "relevance");
    for sort in ["relevance", "updated", "trending"] {
        assert_eq!(
            search(&app, &format!("sort={sort}")).await["total"],
            4,
            "{sort}"
        );
    }

    // Cursor pages: every module once, then no cursor.
    let mut seen = Vec::new();
    let mut query = "limit=1&sort=newest".to_owned();
    loop {
        let page = search(&app, &query).await;
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("limit=1&sort=newest&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        vec!["auction-house", "edit-history", "world-edit", "world-guard"]
    );

    // The module list browses the index with the same filters, newest first.
    let list: Value = app
        .get("/api/v1/modules?tag=tools")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(list["items"][0]["name"], "edit-history");
    assert_eq!(list["items"][0]["visibility"], "public");
}

#[tokio::test]
async fn bad_search_input_is_refused_or_bounded_never_a_500() {
    let app = TestApp::spawn().await;
    catalog(&app).await;
    // Empty query: browse.
    assert_eq!(search(&app, "q=").await["total"], 4);
    assert_eq!(search(&app, "q=%20%20").await["total"], 4);
    // Query-language characters and unbalanced quotes are only characters.
    for q in [
        "%22(%3A*%5E~",
        "%22world",
        "world%22%20AND%20(",
        "*",
        "~2",
        "world^10",
        "name%3Aworld",
        "-world",
        "%5C",
        "%00",
    ] {
        let resp = app
            .get(&format!("/api/v1/search?q={q}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{q}");
    }
    assert_eq!(
        names(&search(&app, "q=%22world-edit%22").await)[0],
        "world-edit"
    );
    // Several kilobytes of query: bounded, answered like a short one.
    let long = "world%20".repeat(2000);
    let page = search(&app, &format!("q={long}")).await;
    assert_eq!(page["total"], 2);
    let junk = "x".repeat(8000);
    assert_eq!(search(&app, &format!("q={junk}")).await["total"], 0);

    // Unknown filter values and sorts: 422 naming the field.
    for (query, field) in [
        ("category=racing", "category"),
        ("tag=Not%20A%20Tag", "tag"),
        ("pricing=cheap", "pricing"),
        ("platform=latest", "platform"),
        ("platform=1", "platform"),
        ("publisher=nobody", "publisher"),
        ("verified=maybe", "verified"),
        ("sort=popularity", "sort"),
    ] {
        let resp = app
            .get(&format!("/api/v1/search?{query}"))
            .send()
            .await
            .unwrap();
        let (_, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(details["field"], field, "{query}");
        let resp = app
            .get(&format!("/api/v1/modules?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "modules?{query}"
        );
    }
    // A cursor this server did not issue: 400.
    let first = search(&app, "limit=1").await;
    let good = first["next_cursor"].as_str().unwrap().to_owned();
    let tampered = format!("{}A", &good[..good.len() - 1]);
    for cursor in [
        "garbage!",
        "eyJvIjo5OTk5OTk5OX0",
        tampered.as_str(),
        &"A".repeat(2000),
    ] {
        let resp = app
            .get(&format!("/api/v1/search?cursor={cursor}"))
            .send()
            .await
            .unwrap();
        let (code, _) = envelope(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(code, "invalid_cursor", "{cursor}");
    }
    // Limits are clamped, not refused.
    assert_eq!(
        search(&app, "limit=0").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        search(&app, "limit=100000").await["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn every_catalog_change_shows_in_search() {
    let app = TestApp::spawn().await;
    let ada = catalog(&app).await;
    let hits = |q: &'static str| {
        let app = &app;
        async move { names(&search(app, &format!("q={q}")).await) }
    };
    let post = |path: String, body: Value| {
        let (app, ada) = (&app, &ada);
        async move {
            let resp = app.post_json_as(&path, ada, &body).await;
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
        }
    };
    let patch = |body: Value| {
        let (app, ada) = (&app, &ada);
        async move {
            let resp = app
                .client
                .patch(app.url("/api/v1/modules/auction-house"))
                .bearer_auth(ada)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
        }
    };
    // Edit: new words are found, old ones no longer.
    patch(json!({ "summary": "Bid on rare loot" })).await;
    assert_eq!(hits("loot").await, vec!["auction-house"]);
    assert!(hits("selling").await.is_empty());
    // Yank the only version: gone; unyank: back.
    post(
        "/api/v1/modules/auction-house/versions/1.0.0/yank".into(),
        json!({ "reason": "broken" }),
    )
    .await;
    assert!(hits("auction").await.is_empty());
    post(
        "/api/v1/modules/auction-house/versions/1.0.0/unyank".into(),
        json!({}),
    )
    .await;
    assert_eq!(hits("auction").await, vec!["auction-house"]);
    // A new version updates the latest version shown.
    let resp = upload(
        &app,
        &ada,
        "auction-house",
        package("auction-house", "1.1.0", "acme", &[]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        search(&app, "q=auction-house").await["items"][0]["latest_version"],
        "1.1.0"
    );
    // Archive and unarchive.
    post("/api/v1/modules/auction-house/archive".into(), json!({})).await;
    assert!(hits("auction").await.is_empty());
    post("/api/v1/modules/auction-house/unarchive".into(), json!({})).await;
    assert_eq!(hits("auction").await, vec!["auction-house"]);
    // Visibility: unlisted and private modules are not listed.
    for visibility in ["unlisted", "private"] {
        patch(json!({ "visibility": visibility })).await;
        assert!(hits("auction").await.is_empty(), "{visibility}");
    }
    patch(json!({ "visibility": "public" })).await;
    assert_eq!(hits("auction").await, vec!["auction-house"]);
    // A publisher renamed: its modules are found by the new name.
    let resp = app
        .client
        .patch(app.url("/api/v1/publishers/acme"))
        .bearer_auth(&ada)
        .json(&json!({ "display_name": "Zanzibar Studios" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(search(&app, "q=zanzibar").await["total"], 4);
    // Suspension (set by moderators, issue 5) hides every module of the publisher, and
    // verification shows in the facet; written straight to the database here.
    let p = app.store.publisher_by_slug("acme").await.unwrap();
    let verify = format!(
        "UPDATE publishers SET verified_at = {} WHERE id = {}",
        Timestamp::now().millis(),
        p.id
    );
    app.raw_sql(&verify).await;
    app.state.search.sync().await.unwrap();
    assert_eq!(search(&app, "verified=true").await["total"], 4);
    assert_eq!(
        search(&app, "q=auction-house").await["items"][0]["publisher"]["verified"],
        true
    );
    app.raw_sql(&format!(
        "UPDATE publishers SET suspended_at = 1 WHERE id = {}",
        p.id
    ))
    .await;
    app.state.search.sync().await.unwrap();
    assert_eq!(search(&app, "").await["total"], 0);
}

#[tokio::test]
async fn featured_list_is_curated_by_admins() {
    let app = TestApp::spawn().await;
    let ada = catalog(&app).await;
    app.state
        .accounts
        .create_user(
            "root@example.com",
            crate::PASSWORD,
            None,
            souk_core::Role::Admin,
        )
        .await
        .unwrap();
    let admin = app.login("root@example.com", crate::PASSWORD).await;
    let put = |token: &str, body: Value| {
        app.client
            .put(app.url("/api/v1/admin/featured"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };

    let featured = || async {
        names(
            &app.get("/api/v1/featured")
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap(),
        )
    };
    assert!(featured().await.is_empty());
    let resp = put(
        &admin,
        json!({ "modules": ["world-guard", "auction-house"] }),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(featured().await, vec!["world-guard", "auction-house"]);
    // Reorder.
    put(
        &admin,
        json!({ "modules": ["auction-house", "world-guard", "world-edit"] }),
    )
    .await
    .unwrap();
    assert_eq!(
        featured().await,
        vec!["auction-house", "world-guard", "world-edit"]
    );
    // Refused: a non-admin, an unknown module, a repeated one; the list stays as it was.
    let resp = put(&ada, json!({ "modules": [] })).await.unwrap();
    envelope(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .client
        .put(app.url("/api/v1/admin/featured"))
        .json(&json!({ "modules": [] }))
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::UNAUTHORIZED).await;
    let resp = put(
        &admin,
        json!({ "modules": ["world-edit", "no-such-module"] }),
    )
    .await
    .unwrap();
    let (code, details) = envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        (code.as_str(), details["field"].as_str()),
        ("unknown_module", Some("modules[1]"))
    );
    let resp = put(&admin, json!({ "modules": ["world-edit", "World_Edit"] }))
        .await
        .unwrap();
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        featured().await,
        vec!["auction-house", "world-guard", "world-edit"]
    );
    // An archived module drops off the public list but stays on the admin's.
    app.post_json_as("/api/v1/modules/world-guard/archive", &ada, &json!({}))
        .await;
    assert_eq!(featured().await, vec!["auction-house", "world-edit"]);
    let admin_list = app.get_json("/api/v1/admin/featured", &admin).await;
    assert_eq!(names(&admin_list).len(), 3);
    // Unfeature everything.
    put(&admin, json!({ "modules": [] })).await.unwrap();
    assert!(featured().await.is_empty());
}

#[tokio::test]
async fn trending_compares_this_week_with_the_last() {
    let app = TestApp::spawn().await;
    catalog(&app).await;
    let version = |name: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .version(store.module_by_name(name).await.unwrap().id, "1.0.0")
                .await
                .unwrap()
                .id
        }
    };
    let today = Timestamp::now().day();
    let (rising, flat, falling) = (
        version("world-guard").await,
        version("auction-house").await,
        version("edit-history").await,
    );
    let mut counts = Vec::new();
    for day in 0..14 {
        let this_week = day < 7;
        counts.push((rising, today - day, if this_week { 100 } else { 5 }));
        counts.push((flat, today - day, 1000));
        counts.push((falling, today - day, if this_week { 10 } else { 200 }));
    }
    app.store.record_downloads(&counts).await.unwrap();
    // Page views count too, at a fifth of a download.
    let wedit = app.store.module_by_name("world-edit").await.unwrap().id;
    app.store
        .record_views(&[(wedit, today, 500)])
        .await
        .unwrap();
    app.state.search.refresh_trending().await.unwrap();
    let t: Value = app
        .get("/api/v1/trending")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&t), vec!["world-guard", "world-edit"]);
    let t: Value = app
        .get("/api/v1/trending?category=world")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(names(&t), vec!["world-edit"]);
    let resp = app
        .get("/api/v1/trending?category=nope")
        .send()
        .await
        .unwrap();
    envelope(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        names(&search(&app, "sort=trending").await)[0],
        "world-guard"
    );
}

#[tokio::test]
async fn the_index_is_rebuilt_when_missing_unreadable_or_of_another_schema() {
    let app = TestApp::spawn().await;
    catalog(&app).await;
    let open = |dir: std::path::PathBuf| {
        let store = app.store.clone();
        async move {
            souk_server::search::SearchIndex::open(&dir, store)
                .await
                .unwrap()
        }
    };
    let other = tempfile::tempdir().unwrap();
    let dir = other.path().join("search");
    // Missing: built from the database.
    let index = open(dir.clone()).await;
    assert_eq!(index.num_docs(), 4);
    assert_eq!(
        index.position(),
        app.store.last_search_change().await.unwrap()
    );
    drop(index);
    // Reopened: resumes from its recorded position without a rebuild.
    let index = open(dir.clone()).await;
    assert_eq!(index.num_docs(), 4);
    drop(index);
    // Unreadable.
    std::fs::write(dir.join("meta.json"), b"{ not json").unwrap();
    assert_eq!(open(dir.clone()).await.num_docs(), 4);
    // Another schema version.
    let meta = std::fs::read_to_string(dir.join("meta.json")).unwrap();
    let mut meta: Value = serde_json::from_str(&meta).unwrap();
    meta["payload"] = json!(json!({ "schema": 0, "cursor": 0 }).to_string());
    std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
    assert_eq!(open(dir.clone()).await.num_docs(), 4);
    // A second holder of the same index is refused with a clear error.
    let held = open(dir.clone()).await;
    let err = souk_server::search::SearchIndex::open(&dir, app.store.clone())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("in use by another souk process"),
        "{err}"
    );
    drop(held);
}

#[tokio::test]
async fn admins_can_ask_every_node_to_rebuild() {
    let app = TestApp::spawn().await;
    let ada = catalog(&app).await;
    let resp = app
        .post_json_as("/api/v1/admin/search/reindex", &ada, &json!({}))
        .await;
    envelope(resp, StatusCode::FORBIDDEN).await;
    app.state
        .accounts
        .create_user(
            "root@example.com",
            crate::PASSWORD,
            None,
            souk_core::Role::Admin,
        )
        .await
        .unwrap();
    let admin = app.login("root@example.com", crate::PASSWORD).await;
    let resp = app
        .post_json_as("/api/v1/admin/search/reindex", &admin, &json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let id = resp.json::<Value>().await.unwrap()["change_id"]
        .as_i64()
        .unwrap();
    assert!(
        app.state.search.position() >= id,
        "this node rebuilt before answering"
    );
    assert_eq!(search(&app, "").await["total"], 4);
}
