//! Conformance cases for publishers' signing keys; expanded by [`crate::conformance_tests!`] with
//! the other cases, so they run on both backends.

use crate::conformance::user;
use crate::conformance_catalog::{new_module, new_version, profile};
use crate::{NewPublisherKey, PublishTarget, Store, StoreError};
use souk_core::Timestamp;

fn key(id: &str, publisher_id: i64, by: i64) -> NewPublisherKey {
    NewPublisherKey {
        id: id.into(),
        publisher_id,
        public_key: format!("RWQ{id}"),
        name: format!("key {id}"),
        created_by: by,
    }
}

pub async fn publisher_keys_register_list_and_revoke(store: &dyn Store) {
    let now = Timestamp::from_millis(1_700_000_000_000);
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    assert!(store.publisher_keys(p.id).await.unwrap().is_empty());

    let first = store
        .add_publisher_key(&key("00000000000000AA", p.id, ada.id), now)
        .await
        .unwrap();
    assert_eq!(first.id, "00000000000000AA");
    assert_eq!(first.publisher_id, p.id);
    assert_eq!(first.public_key, "RWQ00000000000000AA");
    assert_eq!(first.name, "key 00000000000000AA");
    assert_eq!(first.created_by, Some(ada.id));
    assert_eq!(first.created_at, now);
    assert_eq!(first.revoked_at, None);
    let later = now.plus_secs(60);
    store
        .add_publisher_key(&key("00000000000000BB", p.id, ada.id), later)
        .await
        .unwrap();
    let ids = |keys: Vec<crate::PublisherKey>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.publisher_keys(p.id).await.unwrap()),
        ["00000000000000AA", "00000000000000BB"]
    );
    assert_eq!(
        store.publisher_key(p.id, "00000000000000AA").await.unwrap(),
        first
    );

    // Revoked keys stay listed, with the time of the first revocation.
    let revoked_at = now.plus_secs(120);
    let revoked = store
        .revoke_publisher_key(p.id, "00000000000000AA", revoked_at)
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(revoked_at));
    let again = store
        .revoke_publisher_key(p.id, "00000000000000AA", revoked_at.plus_secs(5))
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(revoked_at));
    let keys = store.publisher_keys(p.id).await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].revoked_at, Some(revoked_at));
    assert_eq!(keys[1].revoked_at, None);

    assert!(matches!(
        store
            .revoke_publisher_key(p.id, "00000000000000CC", now)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.publisher_key(p.id, "00000000000000CC").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn publisher_key_ids_are_unique_across_publishers(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let bob = user(store, "bob@example.com").await;
    let acme = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let other = store
        .create_publisher("other", &profile("Other"), bob.id, now)
        .await
        .unwrap();
    store
        .add_publisher_key(&key("1111111111111111", acme.id, ada.id), now)
        .await
        .unwrap();

    // The same id again, by the same publisher...
    let dup = store
        .add_publisher_key(&key("1111111111111111", acme.id, ada.id), now)
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict { field }) if field == "id"));
    // ...by another publisher...
    let theirs = store
        .add_publisher_key(&key("1111111111111111", other.id, bob.id), now)
        .await;
    assert!(matches!(theirs, Err(StoreError::Conflict { field }) if field == "id"));
    // ...or after it was revoked: an id never names a second key.
    store
        .revoke_publisher_key(acme.id, "1111111111111111", now)
        .await
        .unwrap();
    let after = store
        .add_publisher_key(&key("1111111111111111", other.id, bob.id), now)
        .await;
    assert!(matches!(after, Err(StoreError::Conflict { field }) if field == "id"));
    assert!(store.publisher_keys(other.id).await.unwrap().is_empty());
    assert_eq!(store.publisher_keys(acme.id).await.unwrap().len(), 1);

    // One publisher cannot see or revoke another's key by its id.
    assert!(matches!(
        store.publisher_key(other.id, "1111111111111111").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .revoke_publisher_key(other.id, "1111111111111111", now)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn versions_keep_the_publisher_signature(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let mut signed = new_version("1.0.0", ada.id, &[]);
    signed.publisher_signature = Some("publisher sig of 1.0.0".into());
    signed.publisher_key_id = Some("2222222222222222".into());
    let (m, v) = store
        .publish_version(
            &PublishTarget::New(new_module("signed", p.id)),
            &signed,
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        v.publisher_signature.as_deref(),
        Some("publisher sig of 1.0.0")
    );
    assert_eq!(v.publisher_key_id.as_deref(), Some("2222222222222222"));
    let (_, unsigned) = store
        .publish_version(
            &PublishTarget::Existing(m.id),
            &new_version("1.1.0", ada.id, &[]),
            now,
        )
        .await
        .unwrap();
    assert_eq!(unsigned.publisher_signature, None);
    assert_eq!(unsigned.publisher_key_id, None);
    let listed = store.versions(m.id).await.unwrap();
    assert_eq!(listed[1].version, "1.0.0");
    assert_eq!(
        listed[1].publisher_key_id.as_deref(),
        Some("2222222222222222")
    );
}
