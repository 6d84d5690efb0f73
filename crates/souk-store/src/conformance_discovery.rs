//! Conformance cases for discovery: the search change log, index documents, views and the
//! featured list. Expanded by [`crate::conformance_tests!`] on both backends.

use crate::conformance::user;
use crate::conformance_catalog::{new_module, new_version, profile};
use crate::{ModuleUpdate, PublishTarget, Store, StoreError, Visibility};
use souk_core::Timestamp;

/// The module ids named by change-log rows after `after`.
async fn changed_modules(store: &dyn Store, after: i64) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .search_changes_after(after, 1000)
        .await
        .unwrap()
        .iter()
        .filter_map(|c| c.module_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

pub async fn search_change_log_follows_catalog_writes(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let start = store.last_search_change().await.unwrap();

    let (m, v) = store
        .publish_version(
            &PublishTarget::New(new_module("shop", p.id)),
            &new_version("1.0.0", ada.id, &[]),
            now,
        )
        .await
        .unwrap();
    assert_eq!(changed_modules(store, start).await, vec![m.id]);

    let mark = store.last_search_change().await.unwrap();
    assert!(mark > start);
    let update = ModuleUpdate {
        display_name: "Shop".into(),
        summary: "Sell things".into(),
        description: None,
        category_id: None,
        homepage: None,
        repository: None,
        tags: vec!["economy".into()],
        visibility: Visibility::Public,
    };
    store.update_module(m.id, &update, now).await.unwrap();
    assert_eq!(changed_modules(store, mark).await, vec![m.id]);

    let mark = store.last_search_change().await.unwrap();
    store.set_yanked(v.id, Some(("broken", now))).await.unwrap();
    assert_eq!(changed_modules(store, mark).await, vec![m.id]);

    let mark = store.last_search_change().await.unwrap();
    store
        .update_publisher(p.id, &profile("Acme Inc"), now)
        .await
        .unwrap();
    let changes = store.search_changes_after(mark, 100).await.unwrap();
    assert!(changes.iter().any(|c| c.publisher_id == Some(p.id)));
    assert!(changes.iter().all(|c| !c.is_rebuild()));

    let rebuild = store.request_search_rebuild(now).await.unwrap();
    let changes = store.search_changes_after(rebuild - 1, 100).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert!(changes[0].is_rebuild());
    assert_eq!(store.last_search_change().await.unwrap(), rebuild);

    // Paging: a limit is honoured and ids ascend.
    let page = store.search_changes_after(start, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    assert!(page[0].id < page[1].id);

    // Pruning everything old keeps the newest row, so a node can still tell where the log is.
    let pruned = store
        .prune_search_changes(now.plus_secs(3600))
        .await
        .unwrap();
    assert!(pruned > 0);
    assert_eq!(store.first_search_change().await.unwrap(), Some(rebuild));
    assert_eq!(store.last_search_change().await.unwrap(), rebuild);
}

pub async fn index_docs_hold_only_listed_modules(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let publish = |name: &'static str| {
        let target = PublishTarget::New(new_module(name, p.id));
        async move {
            store
                .publish_version(&target, &new_version("1.2.0", ada.id, &[]), now)
                .await
                .unwrap()
                .0
        }
    };
    let listed = publish("listed").await;
    let private = publish("private").await;
    let archived = publish("archived").await;
    let empty = store
        .create_module(&new_module("empty", p.id), now)
        .await
        .unwrap();
    let mut update = ModuleUpdate {
        display_name: "Private".into(),
        summary: String::new(),
        description: None,
        category_id: None,
        homepage: None,
        repository: None,
        tags: vec![],
        visibility: Visibility::Private,
    };
    store.update_module(private.id, &update, now).await.unwrap();
    store
        .set_module_archived(archived.id, Some(now))
        .await
        .unwrap();
    update.visibility = Visibility::Public;
    update.display_name = "Listed".into();
    update.tags = vec!["b-tag".into(), "a-tag".into()];
    store.update_module(listed.id, &update, now).await.unwrap();

    let docs = store.index_docs(0, 100).await.unwrap();
    assert_eq!(
        docs.iter()
            .map(|d| d.module.name.as_str())
            .collect::<Vec<_>>(),
        vec!["listed"]
    );
    let doc = &docs[0];
    assert_eq!(doc.module.display_name, "Listed");
    assert_eq!(doc.module.tags, vec!["a-tag", "b-tag"]);
    assert_eq!(doc.module.publisher_slug, "acme");
    assert_eq!(doc.platform, ">=1.0.0");
    assert_eq!(doc.license, "MIT");
    assert_eq!(doc.published_at, now);
    assert!(!doc.publisher_verified);

    let some = store
        .index_docs_of(&[listed.id, private.id, archived.id, empty.id, 999_999])
        .await
        .unwrap();
    assert_eq!(some.len(), 1);
    assert_eq!(some[0].module.id, listed.id);
    assert!(store.index_docs(listed.id, 100).await.unwrap().is_empty());
    assert!(store.index_docs_of(&[]).await.unwrap().is_empty());

    let mut ids = store.module_ids_of_publisher(p.id).await.unwrap();
    ids.sort_unstable();
    assert_eq!(ids, vec![listed.id, private.id, archived.id, empty.id]);
}

pub async fn views_activity_and_featured(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let mut modules = Vec::new();
    for name in ["one", "two", "three"] {
        let (m, v) = store
            .publish_version(
                &PublishTarget::New(new_module(name, p.id)),
                &new_version("1.0.0", ada.id, &[]),
                now,
            )
            .await
            .unwrap();
        modules.push((m, v));
    }
    let (one, v_one) = &modules[0];
    let (two, _) = &modules[1];
    let (three, _) = &modules[2];

    store
        .record_views(&[(one.id, 100, 3), (two.id, 101, 1)])
        .await
        .unwrap();
    store.record_views(&[(one.id, 100, 2)]).await.unwrap();
    store
        .record_downloads(&[(v_one.id, 100, 7), (v_one.id, 99, 1)])
        .await
        .unwrap();
    assert_eq!(
        store.module_views_by_day(one.id, 0).await.unwrap(),
        vec![(100, 5)]
    );
    let all = store.activity_since(100, None).await.unwrap();
    let of_one: Vec<_> = all.iter().filter(|a| a.module_id == one.id).collect();
    assert_eq!(of_one.len(), 1);
    assert_eq!(
        (of_one[0].day, of_one[0].downloads, of_one[0].views),
        (100, 7, 5)
    );
    assert!(all.iter().any(|a| a.module_id == two.id && a.views == 1));
    let only_two = store.activity_since(0, Some(&[two.id])).await.unwrap();
    assert_eq!(only_two.len(), 1);
    assert!(store.activity_since(0, Some(&[])).await.unwrap().is_empty());

    assert!(store.featured().await.unwrap().is_empty());
    store
        .set_featured(&[three.id, one.id], ada.id, now)
        .await
        .unwrap();
    let names: Vec<String> = store
        .featured()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, vec!["three", "one"]);
    // An unknown module or a repeated one changes nothing.
    assert!(matches!(
        store.set_featured(&[two.id, 999_999], ada.id, now).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.set_featured(&[two.id, two.id], ada.id, now).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.featured_ids().await.unwrap(), vec![three.id, one.id]);
    // Hidden modules stay on the list but do not show.
    store
        .set_module_archived(three.id, Some(now))
        .await
        .unwrap();
    assert_eq!(store.featured().await.unwrap().len(), 1);
    assert_eq!(store.featured_ids().await.unwrap(), vec![three.id, one.id]);
    store.set_featured(&[], ada.id, now).await.unwrap();
    assert!(store.featured_ids().await.unwrap().is_empty());
}

pub async fn signing_keys_are_published_once_each(store: &dyn Store) {
    use crate::PublishedKey;
    let t = |ms: i64| Timestamp::from_millis(ms);
    let key = |id: &str, pk: &str, from: i64| PublishedKey {
        id: id.into(),
        public_key: pk.into(),
        created_at: t(from),
        valid_from: t(from),
        valid_until: None,
    };
    assert!(store.signing_keys().await.unwrap().is_empty());
    store
        .publish_signing_key(&key("BBBB", "RWSb", 2000))
        .await
        .unwrap();
    store
        .publish_signing_key(&key("AAAA", "RWSa", 1000))
        .await
        .unwrap();
    // Again, as every node does at start: no duplicate; a new window is taken.
    let mut retired = key("AAAA", "RWSa", 1000);
    retired.valid_until = Some(t(5000));
    store.publish_signing_key(&retired).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], retired);
    assert_eq!(keys[1].id, "BBBB");
    // The same id with another public key is refused.
    assert!(matches!(
        store
            .publish_signing_key(&key("AAAA", "RWSother", 1000))
            .await,
        Err(StoreError::Conflict { .. })
    ));
}
