//! Conformance cases for the audit log. Expanded by [`crate::conformance_tests!`] on both
//! backends.

use crate::conformance::{TestStore, user};
use crate::conformance_catalog::{new_module, new_version, profile};
use crate::conformance_moderation::change;
use crate::{
    ActionFilter, ActorFilter, AuditActor, AuditFilter, NewAuditEntry, PublishTarget, StatusChange,
    Store, StoreError, VersionStatus,
};
use serde_json::json;
use souk_core::Timestamp;

fn entry(
    at: i64,
    actor: AuditActor,
    action: &str,
    target_kind: &str,
    target: &str,
) -> NewAuditEntry {
    NewAuditEntry {
        at: Timestamp::from_millis(at),
        actor,
        action: action.into(),
        target_kind: target_kind.into(),
        target: target.into(),
        client_addr: Some("203.0.113.7".into()),
        before: Some(json!({"status": "pending_review"})),
        after: Some(json!({"status": "rejected", "reason": "has \"quotes\", commas\nand lines"})),
    }
}

fn ada() -> AuditActor {
    AuditActor::User {
        id: 7,
        email: "ada@example.com".into(),
    }
}

async fn actions(store: &dyn Store, filter: &AuditFilter) -> Vec<String> {
    store
        .list_audit(filter, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.record.action)
        .collect()
}

pub async fn audit_entries_round_trip_filter_and_page(store: &dyn Store) {
    let first = entry(1_000, ada(), "version.reject", "version", "economy@1.2.0");
    let stored = store.append_audit(&first).await.unwrap();
    assert_eq!(stored.record.at, first.at);
    assert_eq!(stored.record.actor, first.actor);
    assert_eq!(
        (
            stored.record.action.as_str(),
            stored.record.target_kind.as_str()
        ),
        ("version.reject", "version")
    );
    assert_eq!(stored.record.target, "economy@1.2.0");
    assert_eq!(stored.record.client_addr.as_deref(), Some("203.0.113.7"));
    assert_eq!(stored.record.before, first.before);
    assert_eq!(
        stored.record.after, first.after,
        "JSON survives the round trip"
    );
    let mut bare = entry(
        2_000,
        AuditActor::System,
        "version.checked",
        "version",
        "economy@1.3.0",
    );
    bare.client_addr = None;
    bare.before = None;
    bare.after = None;
    store.append_audit(&bare).await.unwrap();
    let more = [
        entry(3_000, ada(), "publisher.suspend", "publisher", "acme"),
        entry(
            4_000,
            AuditActor::Anonymous,
            "user.login_failed",
            "user",
            "ada@example.com",
        ),
        entry(5_000, ada(), "publisher.member_add", "publisher", "acme"),
        entry(6_000, ada(), "publisher_key.register", "publisher", "acme"),
    ];
    for e in &more {
        store.append_audit(e).await.unwrap();
    }

    let all = store
        .list_audit(&AuditFilter::default(), None, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        all[0].record.action, "publisher_key.register",
        "newest first"
    );
    assert_eq!(all[5].id, stored.id);
    let system = all
        .iter()
        .find(|e| e.record.action == "version.checked")
        .unwrap();
    assert_eq!(system.record.actor, AuditActor::System);
    assert_eq!(
        (
            system.record.before.as_ref(),
            system.record.client_addr.as_ref()
        ),
        (None, None)
    );
    assert_eq!(all[2].record.actor, AuditActor::Anonymous);

    // Filters, alone and together.
    let by = |f: AuditFilter| async move { actions(store, &f).await };
    assert_eq!(
        by(AuditFilter {
            actor: Some(ActorFilter::Id(7)),
            ..Default::default()
        })
        .await,
        [
            "publisher_key.register",
            "publisher.member_add",
            "publisher.suspend",
            "version.reject"
        ]
    );
    assert_eq!(
        by(AuditFilter {
            actor: Some(ActorFilter::Label("system".into())),
            ..Default::default()
        })
        .await,
        ["version.checked"]
    );
    assert_eq!(
        by(AuditFilter {
            action: Some(ActionFilter::Prefix("version.".into())),
            ..Default::default()
        })
        .await,
        ["version.checked", "version.reject"]
    );
    // `_` in a prefix is a letter, not LIKE's any-character: `publisher_` must not match
    // `publisher.`.
    assert_eq!(
        by(AuditFilter {
            action: Some(ActionFilter::Prefix("publisher_".into())),
            ..Default::default()
        })
        .await,
        ["publisher_key.register"]
    );
    assert_eq!(
        by(AuditFilter {
            action: Some(ActionFilter::Exact("publisher.suspend".into())),
            ..Default::default()
        })
        .await,
        ["publisher.suspend"]
    );
    assert!(
        by(AuditFilter {
            action: Some(ActionFilter::Exact("publisher.".into())),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        by(AuditFilter {
            target_kind: Some("publisher".into()),
            since: Some(Timestamp::from_millis(3_000)),
            until: Some(Timestamp::from_millis(5_000)),
            ..Default::default()
        })
        .await,
        ["publisher.member_add", "publisher.suspend"],
        "since and until are inclusive"
    );
    assert_eq!(
        by(AuditFilter {
            target_kind: Some("version".into()),
            target: Some("economy@1.2.0".into()),
            ..Default::default()
        })
        .await,
        ["version.reject"]
    );

    // Paging by the last id: every entry once, in order.
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .list_audit(&AuditFilter::default(), before, 4)
            .await
            .unwrap();
        seen.extend(page.iter().map(|e| e.id));
        if page.len() < 4 {
            break;
        }
        before = page.last().map(|e| e.id);
    }
    assert_eq!(seen, all.iter().map(|e| e.id).collect::<Vec<_>>());
}

pub async fn status_changes_append_their_audit_entry_in_the_same_transaction(store: &dyn Store) {
    let now = Timestamp::now();
    let owner = user(store, "owner@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), owner.id, now)
        .await
        .unwrap();
    let mut upload = new_version("1.0.0", owner.id, &[]);
    upload.status = VersionStatus::PendingReview;
    upload.registry_signature = None;
    upload.registry_key_id = None;
    let (_, v) = store
        .publish_version(&PublishTarget::New(new_module("shop", p.id)), &upload, now)
        .await
        .unwrap();
    let reject = StatusChange {
        reason: Some("no"),
        ..change(
            &[VersionStatus::PendingReview],
            VersionStatus::Rejected,
            now,
        )
    };
    let record = entry(
        now.millis(),
        ada(),
        "version.reject",
        "version",
        "shop@1.0.0",
    );
    store
        .change_version_status(v.id, &reject, Some(&record))
        .await
        .unwrap();
    // A change that does not apply writes no entry either.
    let again = store
        .change_version_status(v.id, &reject, Some(&record))
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    let logged = store
        .list_audit(&AuditFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].record.target, "shop@1.0.0");
}

/// The log is append-only below the application too: statements issued directly on the
/// database are refused by its triggers.
pub async fn the_audit_log_refuses_update_and_delete(t: &TestStore) {
    let store = &*t.store;
    let kept = store
        .append_audit(&entry(
            1_000,
            ada(),
            "version.approve",
            "version",
            "shop@1.0.0",
        ))
        .await
        .unwrap();
    for sql in [
        "UPDATE audit_log SET actor = 'someone-else@example.com'",
        "UPDATE audit_log SET after_state = NULL WHERE id = 1",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE id = 1",
    ] {
        let refused = (t.raw)(sql.to_owned()).await;
        let err = refused.expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if store.backend() == "postgres" {
        let err = (t.raw)("TRUNCATE audit_log".to_owned()).await.unwrap_err();
        assert!(err.contains("append-only"), "TRUNCATE: {err}");
    }
    let after = store
        .list_audit(&AuditFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(after, [kept]);
    // Appending still works after the refusals.
    store
        .append_audit(&entry(
            2_000,
            ada(),
            "version.release",
            "version",
            "shop@1.0.0",
        ))
        .await
        .unwrap();
}
