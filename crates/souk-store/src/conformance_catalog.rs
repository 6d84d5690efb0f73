//! Conformance cases for the catalog stores; expanded by [`crate::conformance_tests!`] with the
//! account cases, so they run on both backends.

use crate::conformance::user;
use crate::{
    ImageRef, MemberRole, ModuleQuery, ModuleSort, ModuleUpdate, NewModule, NewVersion,
    PackageFileRow, PublishTarget, PublisherProfile, Store, StoreError, Visibility,
};
use souk_core::Timestamp;

pub(crate) fn profile(name: &str) -> PublisherProfile {
    PublisherProfile {
        display_name: name.into(),
        bio: "We make things.".into(),
        website: Some("https://acme.example".into()),
        support_email: None,
    }
}

pub(crate) fn new_module(name: &str, publisher_id: i64) -> NewModule {
    NewModule {
        name: name.into(),
        name_normalized: souk_core::normalize_name(name),
        publisher_id,
        display_name: name.into(),
        summary: "A module".into(),
        homepage: None,
        repository: None,
        keywords: vec!["shop".into()],
        visibility: Visibility::Public,
    }
}

pub(crate) fn new_version(version: &str, by: i64, deps: &[(&str, &str)]) -> NewVersion {
    NewVersion {
        version: version.into(),
        prerelease: version.contains('-'),
        sha256: format!("{:0>64}", version.replace(['.', '-'], "")),
        size: 1234,
        format: "tar.gz".into(),
        unpacked_size: 4321,
        license: "MIT".into(),
        description: "A module".into(),
        platform: ">=1.0.0".into(),
        manifest: "[module]".into(),
        readme: Some("# Hello".into()),
        changelog: None,
        files: vec![PackageFileRow {
            path: "souk.toml".into(),
            size: 120,
        }],
        dependencies: deps
            .iter()
            .map(|(n, r)| ((*n).to_owned(), (*r).to_owned()))
            .collect(),
        published_by: by,
        registry_signature: Some(format!("sig of {version}")),
        registry_key_id: Some("0123456789ABCDEF".into()),
        status: crate::VersionStatus::Published,
        publisher_signature: None,
        publisher_key_id: None,
    }
}

pub async fn publishers_and_members(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    assert_eq!(p.slug, "acme");
    assert_eq!(p.website.as_deref(), Some("https://acme.example"));
    assert_eq!(
        store.member_role(p.id, ada.id).await.unwrap(),
        MemberRole::Owner
    );
    assert!(matches!(
        store.member_role(p.id, bob.id).await,
        Err(StoreError::NotFound)
    ));
    let clash = store
        .create_publisher("acme", &profile("Other"), bob.id, now)
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict { field }) if field == "slug"));
    // The failed create left no membership behind.
    assert!(store.publishers_of_user(bob.id).await.unwrap().is_empty());

    store
        .add_member(p.id, bob.id, MemberRole::Maintainer, now)
        .await
        .unwrap();
    let again = store.add_member(p.id, bob.id, MemberRole::Owner, now).await;
    assert!(matches!(again, Err(StoreError::Conflict { field }) if field == "user_id"));
    let members = store.members(p.id).await.unwrap();
    assert_eq!(
        members
            .iter()
            .map(|m| (m.email.as_str(), m.role))
            .collect::<Vec<_>>(),
        [
            ("ada@example.com", MemberRole::Owner),
            ("bob@example.com", MemberRole::Maintainer)
        ]
    );

    // The last owner can neither leave nor step down...
    let leave = store.set_member_role(p.id, ada.id, None).await;
    assert!(matches!(leave, Err(StoreError::Conflict { field }) if field == "owner"));
    let demote = store
        .set_member_role(p.id, ada.id, Some(MemberRole::Maintainer))
        .await;
    assert!(matches!(demote, Err(StoreError::Conflict { .. })));
    assert_eq!(store.members(p.id).await.unwrap().len(), 2);
    // ...until someone else is an owner.
    store
        .set_member_role(p.id, bob.id, Some(MemberRole::Owner))
        .await
        .unwrap();
    store.set_member_role(p.id, ada.id, None).await.unwrap();
    assert!(store.publishers_of_user(ada.id).await.unwrap().is_empty());
    let bobs = store.publishers_of_user(bob.id).await.unwrap();
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].1, MemberRole::Owner);
    assert!(matches!(
        store.set_member_role(p.id, ada.id, None).await,
        Err(StoreError::NotFound)
    ));

    let edited = PublisherProfile {
        display_name: "Acme Games".into(),
        ..profile("x")
    };
    store.update_publisher(p.id, &edited, now).await.unwrap();
    let logo = ImageRef {
        sha256: "ab".repeat(32),
        content_type: "image/png".into(),
    };
    store.set_publisher_logo(p.id, Some(&logo)).await.unwrap();
    let p = store.publisher_by_slug("acme").await.unwrap();
    assert_eq!(p.display_name, "Acme Games");
    assert_eq!(p.logo, Some(logo));
    assert!(store.image_in_use(&"ab".repeat(32)).await.unwrap());
}

pub async fn versions_publish_yank_and_latest(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let (m, v) = store
        .publish_version(
            &PublishTarget::New(new_module("economy_core", p.id)),
            &new_version("1.0.0", ada.id, &[]),
            now,
        )
        .await
        .unwrap();
    assert_eq!(m.name, "economy_core");
    assert_eq!(m.publisher_slug, "acme");
    assert_eq!(m.latest_version.as_deref(), Some("1.0.0"));
    assert_eq!(m.keywords, ["shop"]);
    assert_eq!(v.files[0].path, "souk.toml");
    assert_eq!(v.status, crate::VersionStatus::Published);
    assert_eq!(v.registry_signature.as_deref(), Some("sig of 1.0.0"));
    assert_eq!(v.registry_key_id.as_deref(), Some("0123456789ABCDEF"));

    // The same name in another spelling is the same name.
    let clash = store
        .publish_version(
            &PublishTarget::New(new_module("Economy-Core", p.id)),
            &new_version("1.0.0", ada.id, &[]),
            now,
        )
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict { field }) if field == "name_normalized"));

    let target = PublishTarget::Existing(m.id);
    for ver in ["1.2.0", "1.10.0", "2.0.0-beta.1"] {
        store
            .publish_version(
                &target,
                &new_version(ver, ada.id, &[("economy_core", "^1")]),
                now,
            )
            .await
            .unwrap();
    }
    let dup = store
        .publish_version(&target, &new_version("1.2.0", ada.id, &[]), now)
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict { field }) if field == "version"));

    let versions = store.versions(m.id).await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["2.0.0-beta.1", "1.10.0", "1.2.0", "1.0.0"]
    );
    assert_eq!(
        versions[1].dependencies,
        [("economy_core".to_owned(), "^1".to_owned())]
    );
    // Prereleases are never latest; semver order, not text order.
    let m = store.module_by_name("economy-core").await.unwrap();
    assert_eq!(m.latest_version.as_deref(), Some("1.10.0"));

    let v110 = store.version(m.id, "1.10.0").await.unwrap();
    store
        .set_yanked(v110.id, Some(("broken save files", now)))
        .await
        .unwrap();
    let yanked = store.version(m.id, "1.10.0").await.unwrap();
    assert_eq!(yanked.yank_reason.as_deref(), Some("broken save files"));
    assert!(yanked.yanked_at.is_some());
    assert_eq!(
        store
            .module_by_id(m.id)
            .await
            .unwrap()
            .latest_version
            .as_deref(),
        Some("1.2.0")
    );
    // A yanked version still blocks republishing.
    let again = store
        .publish_version(&target, &new_version("1.10.0", ada.id, &[]), now)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict { .. })));
    store.set_yanked(v110.id, None).await.unwrap();
    assert_eq!(
        store
            .module_by_id(m.id)
            .await
            .unwrap()
            .latest_version
            .as_deref(),
        Some("1.10.0")
    );
    assert!(store.package_in_use(&v110.sha256).await.unwrap());
    assert!(!store.package_in_use(&"f".repeat(64)).await.unwrap());
}

pub async fn modules_list_sorted_and_paged(store: &dyn Store) {
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, Timestamp::now())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (i, name) in ["alpha", "beta", "gamma", "delta"].iter().enumerate() {
        let (m, v) = store
            .publish_version(
                &PublishTarget::New(new_module(name, p.id)),
                &new_version("1.0.0", ada.id, &[]),
                Timestamp::from_millis(1_700_000_000_000 + i as i64 * 1000),
            )
            .await
            .unwrap();
        ids.push((m, v));
    }
    // gamma is the most downloaded, then alpha.
    store
        .record_downloads(&[(ids[2].1.id, 20000, 5), (ids[0].1.id, 20000, 2)])
        .await
        .unwrap();
    store
        .record_downloads(&[(ids[2].1.id, 20000, 1), (ids[2].1.id, 20001, 3)])
        .await
        .unwrap();
    let gamma = store.module_by_name("gamma").await.unwrap();
    assert_eq!(gamma.downloads, 9);
    assert_eq!(
        store.module_downloads_by_day(gamma.id, 0).await.unwrap(),
        [(20000, 6), (20001, 3)]
    );
    assert_eq!(store.version(gamma.id, "1.0.0").await.unwrap().downloads, 9);

    // delta is private: browsing does not see it, its publisher's members do.
    let mut update = ModuleUpdate {
        display_name: "Delta".into(),
        summary: "Secret".into(),
        description: Some("**bold**".into()),
        category_id: None,
        homepage: None,
        repository: None,
        tags: vec!["b".into(), "a".into()],
        visibility: Visibility::Private,
    };
    store
        .update_module(ids[3].0.id, &update, Timestamp::now())
        .await
        .unwrap();
    let delta = store.module_by_id(ids[3].0.id).await.unwrap();
    assert_eq!(delta.tags, ["a", "b"]);
    assert_eq!(delta.visibility, Visibility::Private);
    update.tags = vec!["c".into()];
    store
        .update_module(ids[3].0.id, &update, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(store.module_by_id(ids[3].0.id).await.unwrap().tags, ["c"]);

    let names = |ms: &[crate::Module]| ms.iter().map(|m| m.name.clone()).collect::<Vec<_>>();
    let mut q = ModuleQuery {
        publisher_id: None,
        listed_only: true,
        sort: ModuleSort::Downloads,
        after: None,
        limit: 2,
    };
    let page1 = store.list_modules(&q).await.unwrap();
    assert_eq!(names(&page1), ["gamma", "alpha"]);
    let last = page1.last().unwrap();
    q.after = Some((last.downloads, last.id));
    assert_eq!(names(&store.list_modules(&q).await.unwrap()), ["beta"]);

    q.sort = ModuleSort::Newest;
    q.after = None;
    q.limit = 10;
    assert_eq!(
        names(&store.list_modules(&q).await.unwrap()),
        ["gamma", "beta", "alpha"]
    );
    store
        .set_module_archived(ids[1].0.id, Some(Timestamp::now()))
        .await
        .unwrap();
    assert_eq!(
        names(&store.list_modules(&q).await.unwrap()),
        ["gamma", "alpha"]
    );
    q.listed_only = false;
    q.publisher_id = Some(p.id);
    assert_eq!(
        names(&store.list_modules(&q).await.unwrap()),
        ["delta", "gamma", "beta", "alpha"]
    );
    q.publisher_id = Some(p.id + 1000);
    assert!(store.list_modules(&q).await.unwrap().is_empty());
}

pub async fn module_media(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let (m, _) = store
        .publish_version(
            &PublishTarget::New(new_module("shopkeeper", p.id)),
            &new_version("0.1.0", ada.id, &[]),
            now,
        )
        .await
        .unwrap();
    let img = |c: char| ImageRef {
        sha256: c.to_string().repeat(64),
        content_type: "image/png".into(),
    };
    store.set_module_icon(m.id, Some(&img('a'))).await.unwrap();
    let s1 = store
        .add_screenshot(m.id, &img('b'), 800, 600, "The shop", now)
        .await
        .unwrap();
    store
        .add_screenshot(m.id, &img('c'), 800, 600, "", now)
        .await
        .unwrap();
    assert_eq!(store.screenshots(m.id).await.unwrap().len(), 2);
    assert_eq!(store.module_by_id(m.id).await.unwrap().icon, Some(img('a')));
    assert!(store.image_in_use(&img('b').sha256).await.unwrap());
    let removed = store.delete_screenshot(m.id, s1.id).await.unwrap();
    assert_eq!(removed.caption, "The shop");
    assert!(!store.image_in_use(&img('b').sha256).await.unwrap());
    assert!(matches!(
        store.delete_screenshot(m.id, s1.id).await,
        Err(StoreError::NotFound)
    ));
    store.set_module_icon(m.id, None).await.unwrap();
    assert!(!store.image_in_use(&img('a').sha256).await.unwrap());
}

pub async fn category_tree(store: &dyn Store) {
    let seeded = store.categories().await.unwrap();
    let gameplay = seeded.iter().find(|c| c.slug == "gameplay").unwrap();
    let pos = seeded.iter().position(|c| c.slug == "gameplay").unwrap();
    // Children follow their parent.
    assert_eq!(seeded[pos + 1].parent_id, Some(gameplay.id));
    let child = store
        .create_category("racing", "Racing", Some(gameplay.id), 9)
        .await
        .unwrap();
    let clash = store.create_category("racing", "Racing 2", None, 1).await;
    assert!(matches!(clash, Err(StoreError::Conflict { field }) if field == "slug"));
    let refused = store.delete_category(gameplay.id).await;
    assert!(matches!(refused, Err(StoreError::Conflict { field }) if field == "parent_id"));
    store
        .update_category(child.id, "Racing games", None, 3)
        .await
        .unwrap();
    store.delete_category(child.id).await.unwrap();
    assert!(matches!(
        store.delete_category(child.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.categories().await.unwrap().len(), seeded.len());
}

/// A catalog write puts its `catalog.changed` event in the outbox in its own transaction; a
/// write that fails part-way leaves none. Events come out in order until marked published, and
/// only published ones are pruned.
pub async fn catalog_writes_announce_themselves_in_the_outbox(store: &dyn Store) {
    use crate::CATALOG_CHANGED;
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let before = store.pending_events(1000).await.unwrap().len();
    let (m, _) = store
        .publish_version(
            &PublishTarget::New(new_module("announced", p.id)),
            &new_version("1.0.0", ada.id, &[]),
            now,
        )
        .await
        .unwrap();
    let events = store.pending_events(1000).await.unwrap();
    let new: Vec<_> = events[before..].to_vec();
    assert!(!new.is_empty(), "the publish announced itself");
    assert!(new.iter().all(|e| e.topic == CATALOG_CHANGED));
    assert!(new.iter().any(|e| {
        serde_json::from_str::<serde_json::Value>(&e.payload).unwrap()["module_id"] == m.id
    }));
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    // A publish that fails part-way (the version exists) leaves no event behind.
    let failed = store
        .publish_version(
            &PublishTarget::Existing(m.id),
            &new_version("1.0.0", ada.id, &[]),
            now,
        )
        .await;
    assert!(
        matches!(failed, Err(StoreError::Conflict { .. })),
        "{failed:?}"
    );
    assert_eq!(store.pending_events(1000).await.unwrap(), events);

    let own = store
        .append_event("test.ping", "{\"n\":1}", now)
        .await
        .unwrap();
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    store.mark_published(&ids, now).await.unwrap();
    // Marking again keeps the first time; what is left is the event not yet published.
    store.mark_published(&ids, now.plus_secs(10)).await.unwrap();
    let left = store.pending_events(1000).await.unwrap();
    assert_eq!(left.iter().map(|e| e.id).collect::<Vec<_>>(), [own]);
    assert_eq!(left[0].payload, "{\"n\":1}");
    assert_eq!(
        store.prune_outbox(now.plus_secs(1)).await.unwrap(),
        ids.len() as u64
    );
    assert_eq!(store.pending_events(1000).await.unwrap().len(), 1);
}
