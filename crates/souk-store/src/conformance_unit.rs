//! Conformance cases for units of work ([`crate::Store::begin`]): all or nothing, a failure
//! part-way, and two concurrent units that conflict. Expanded by [`crate::conformance_tests!`]
//! on both backends.

use crate::conformance::{new_user, user};
use crate::conformance_catalog::profile;
use crate::{AuditActor, AuditFilter, NewAuditEntry, Store, StoreError};
use souk_core::{Email, Timestamp};
use std::time::Duration;

fn created(email: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: Timestamp::now(),
        actor: AuditActor::System,
        action: "user.create".into(),
        target_kind: "user".into(),
        target: email.into(),
        client_addr: None,
        before: None,
        after: None,
    }
}

async fn exists(store: &dyn Store, email: &str) -> bool {
    match store.user_by_email(&Email::parse(email).unwrap()).await {
        Ok(_) => true,
        Err(StoreError::NotFound) => false,
        Err(e) => panic!("{e}"),
    }
}

async fn audited(store: &dyn Store) -> Vec<String> {
    let entries = store
        .list_audit(&AuditFilter::default(), None, 50)
        .await
        .unwrap();
    entries.into_iter().map(|e| e.record.target).collect()
}

/// What a unit writes is seen by nobody else until it commits, and then all of it at once; a
/// unit dropped without a commit leaves nothing.
pub async fn a_unit_of_work_commits_everything_or_nothing(store: &dyn Store) {
    let now = Timestamp::now();
    let tx = store.begin().await.unwrap();
    tx.create_user(&new_user("ada@example.com"), now)
        .await
        .unwrap();
    tx.append_audit(&created("ada@example.com")).await.unwrap();
    assert!(
        !exists(store, "ada@example.com").await,
        "seen before commit"
    );
    assert!(audited(store).await.is_empty());
    tx.commit().await.unwrap();
    assert!(exists(store, "ada@example.com").await);
    assert_eq!(audited(store).await, ["ada@example.com"]);

    let tx = store.begin().await.unwrap();
    tx.create_user(&new_user("bob@example.com"), now)
        .await
        .unwrap();
    tx.append_audit(&created("bob@example.com")).await.unwrap();
    drop(tx);
    assert!(
        !exists(store, "bob@example.com").await,
        "kept without commit"
    );
    assert_eq!(audited(store).await, ["ada@example.com"]);
    assert_eq!(store.count_users().await.unwrap(), 1);
}

/// A unit whose third write fails keeps none of the first two, including what the database's
/// triggers wrote for them (the search change log and the outbox).
pub async fn a_failure_part_way_leaves_nothing_behind(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let events_before = store.pending_events(100).await.unwrap().len();
    let tx = store.begin().await.unwrap();
    tx.create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    tx.append_audit(&created("acme")).await.unwrap();
    let clash = tx.create_user(&new_user("ada@example.com"), now).await;
    assert!(
        matches!(&clash, Err(StoreError::Conflict { field }) if field == "email"),
        "{clash:?}"
    );
    drop(tx);
    assert!(matches!(
        store.publisher_by_slug("acme").await,
        Err(StoreError::NotFound)
    ));
    assert!(audited(store).await.is_empty());
    assert_eq!(
        store.pending_events(100).await.unwrap().len(),
        events_before,
        "an outbox event outlived its rolled-back change"
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
}

/// Two units write the same unique value at once. On both databases the second waits for the
/// first (SQLite: for the write lock its `BEGIN IMMEDIATE` takes; PostgreSQL: on the unique
/// index) and, once the first commits, fails with the conflict naming the column. Exactly one
/// row is stored.
pub async fn concurrent_conflicting_units_resolve_the_same_way(store: &dyn Store) {
    let now = Timestamp::now();
    let first = store.begin().await.unwrap();
    first
        .create_user(&new_user("ada@example.com"), now)
        .await
        .unwrap();
    let second = async {
        let tx = store.begin().await?;
        tx.create_user(&new_user("ada@example.com"), now).await?;
        tx.commit().await
    };
    let commit_first = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        first.commit().await
    };
    let (second, first) = tokio::join!(second, commit_first);
    first.unwrap();
    assert!(
        matches!(&second, Err(StoreError::Conflict { field }) if field == "email"),
        "{second:?}"
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
}

/// Inside a unit, reads see the unit's own writes, and a repository method with a transaction
/// of its own (creating a publisher adds its first owner in the same statement set) runs as a
/// savepoint of the unit.
pub async fn a_unit_reads_its_own_writes_before_commit(store: &dyn Store) {
    let now = Timestamp::now();
    let tx = store.begin().await.unwrap();
    let ada = tx
        .create_user(&new_user("ada@example.com"), now)
        .await
        .unwrap();
    let found = tx
        .user_by_email(&Email::parse("ada@example.com").unwrap())
        .await
        .unwrap();
    assert_eq!(found.id, ada.id);
    let p = tx
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    assert_eq!(tx.members(p.id).await.unwrap().len(), 1);
    tx.commit().await.unwrap();
    assert_eq!(store.publisher_by_slug("acme").await.unwrap().id, p.id);
}
