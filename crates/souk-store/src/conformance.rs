//! The conformance suite: every behaviour a backend must have, written once against `&dyn Store`.
//! Each backend's tests expand [`conformance_tests!`] with a function that makes a fresh, migrated
//! store (or answers `None` when that backend is not configured here), so every case runs, as its
//! own test, on SQLite always and on PostgreSQL whenever `SOUK_TEST_POSTGRES_URL` is set.

use crate::{NewApiToken, NewSession, NewUser, Store, StoreError, User};
use souk_core::{Email, Password, PasswordHash, Role, Scopes, Timestamp};

pub use crate::conformance_audit::*;
pub use crate::conformance_catalog::*;
pub use crate::conformance_discovery::*;
pub use crate::conformance_moderation::*;
pub use crate::conformance_publisher_keys::*;
pub use crate::conformance_unit::*;

/// A fresh store for one test; `guard` keeps its temporary directory or database alive.
pub struct TestStore {
    pub store: crate::DynStore,
    /// Runs one SQL statement on the same database over a connection of its own, behind the
    /// store's back; answers the rows affected or the database's error message. For the cases
    /// that prove the database itself refuses something.
    pub raw: RawSql,
    pub guard: Box<dyn std::any::Any + Send>,
}

pub type RawSql = Box<
    dyn Fn(
            String,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, String>> + Send>>
        + Send
        + Sync,
>;

/// Expands one `#[tokio::test]` per conformance case, each on a fresh store from `$make`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::conformance_tests!(@cases $make;
            users_round_trip, duplicate_email_conflicts_on_email, password_change_ends_other_sessions,
            sessions_expire_and_end, tokens_list_revoke_and_touch, revoking_a_token_revokes_its_descendants,
            login_failures_count_and_clear,
            idempotency_claims_once, migrate_twice_is_a_no_op, schema_has_the_account_tables,
            publishers_and_members, versions_publish_yank_and_latest, modules_list_sorted_and_paged,
            module_media, category_tree, search_change_log_follows_catalog_writes,
            index_docs_hold_only_listed_modules, views_activity_and_featured,
            signing_keys_are_published_once_each, moderation_states_findings_and_queue,
            jobs_are_claimed_once_and_retried, dead_jobs_are_parked_listed_and_revived,
            publisher_verification_suspension_and_messages,
            publisher_keys_register_list_and_revoke, publisher_key_ids_are_unique_across_publishers,
            versions_keep_the_publisher_signature, audit_entries_round_trip_filter_and_page,
            status_changes_append_their_audit_entry_in_the_same_transaction,
            catalog_writes_announce_themselves_in_the_outbox,
            a_unit_of_work_commits_everything_or_nothing, a_failure_part_way_leaves_nothing_behind,
            concurrent_conflicting_units_resolve_the_same_way, a_unit_reads_its_own_writes_before_commit);
        $crate::conformance_tests!(@raw_cases $make; the_audit_log_refuses_update_and_delete);
    };
    (@raw_cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(t) = $make().await else {
                    eprintln!("skipped: backend not configured in this environment");
                    return;
                };
                $crate::conformance::$case(&t).await;
                t.store.close().await;
                drop(t.guard);
            }
        )*
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(t) = $make().await else {
                    eprintln!("skipped: backend not configured in this environment");
                    return;
                };
                $crate::conformance::$case(&*t.store).await;
                t.store.close().await;
                drop(t.guard);
            }
        )*
    };
}

fn hash() -> PasswordHash {
    // One hash for every test user: argon2 is deliberately slow.
    static HASH: std::sync::OnceLock<PasswordHash> = std::sync::OnceLock::new();
    HASH.get_or_init(|| PasswordHash::new(&Password::parse("conformance horse", None).unwrap()))
        .clone()
}

pub(crate) fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        display_name: "Ada".into(),
        role: Role::User,
        password_hash: hash(),
    }
}

pub(crate) async fn user(store: &dyn Store, email: &str) -> User {
    store
        .create_user(&new_user(email), Timestamp::now())
        .await
        .unwrap()
}

fn session(user_id: i64, token_hash: &str, expires_at: Timestamp) -> NewSession {
    NewSession {
        user_id,
        token_hash: token_hash.into(),
        expires_at,
        user_agent: "test".into(),
        client_ip: "127.0.0.1".into(),
    }
}

pub async fn users_round_trip(store: &dyn Store) {
    let u = user(store, "Ada@Example.com").await;
    assert_eq!(u.email.as_str(), "ada@example.com");
    assert_eq!(u.role, Role::User);
    let by_email = store
        .user_by_email(&Email::parse("ADA@example.COM").unwrap())
        .await
        .unwrap();
    assert_eq!(by_email.id, u.id);
    assert!(by_email.password_hash.verify("conformance horse"));
    store
        .update_display_name(u.id, "Ada L.", Timestamp::now())
        .await
        .unwrap();
    assert_eq!(store.user_by_id(u.id).await.unwrap().display_name, "Ada L.");
    assert!(matches!(
        store.user_by_id(u.id + 1000).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.count_users().await.unwrap(), 1);
}

pub async fn duplicate_email_conflicts_on_email(store: &dyn Store) {
    user(store, "dup@example.com").await;
    let again = NewUser {
        email: Email::parse("DUP@example.com").unwrap(),
        display_name: "Other".into(),
        role: Role::Admin,
        password_hash: hash(),
    };
    match store.create_user(&again, Timestamp::now()).await {
        Err(StoreError::Conflict { field }) => assert_eq!(field, "email"),
        other => panic!("expected a conflict on email, got {other:?}"),
    }
    assert_eq!(store.count_users().await.unwrap(), 1);
}

pub async fn password_change_ends_other_sessions(store: &dyn Store) {
    let u = user(store, "pw@example.com").await;
    let now = Timestamp::now();
    let later = now.plus_secs(3600);
    let keep = store
        .create_session(&session(u.id, "h-keep", later), now)
        .await
        .unwrap();
    store
        .create_session(&session(u.id, "h-other", later), now)
        .await
        .unwrap();
    let new_hash = PasswordHash::new(&Password::parse("another horse", None).unwrap());
    store
        .update_password(u.id, &new_hash, Some(keep.id), now)
        .await
        .unwrap();
    assert!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .password_hash
            .verify("another horse")
    );
    assert!(store.session_by_token_hash("h-keep", now).await.is_ok());
    assert!(matches!(
        store.session_by_token_hash("h-other", now).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn sessions_expire_and_end(store: &dyn Store) {
    let u = user(store, "s@example.com").await;
    let now = Timestamp::now();
    let s = store
        .create_session(&session(u.id, "h1", now.plus_secs(60)), now)
        .await
        .unwrap();
    store
        .create_session(&session(u.id, "h2", now.plus_secs(-1)), now)
        .await
        .unwrap();
    let (found, owner) = store.session_by_token_hash("h1", now).await.unwrap();
    assert_eq!((found.id, owner.id), (s.id, u.id));
    assert!(matches!(
        store.session_by_token_hash("h2", now).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_sessions(u.id, now).await.unwrap().len(), 1);
    store.touch_session(s.id, now.plus_secs(5)).await.unwrap();
    assert_eq!(
        store.list_sessions(u.id, now).await.unwrap()[0].last_seen_at,
        now.plus_secs(5)
    );
    assert_eq!(store.prune_sessions(now).await.unwrap(), 1);
    store.delete_session(s.id).await.unwrap();
    assert!(store.session_by_token_hash("h1", now).await.is_err());
}

pub async fn tokens_list_revoke_and_touch(store: &dyn Store) {
    let u = user(store, "t@example.com").await;
    let other = user(store, "other@example.com").await;
    let now = Timestamp::now();
    let new = |name: &str, hash: &str| NewApiToken {
        user_id: u.id,
        name: name.into(),
        token_hash: hash.into(),
        display_prefix: "souk_pat_abcd".into(),
        scopes: Scopes::parse_list(&["read", "publish"]).unwrap(),
        expires_at: Some(now.plus_secs(86_400)),
        parent_id: None,
    };
    let first = store.create_token(&new("ci", "th1"), now).await.unwrap();
    let second = store
        .create_token(&new("laptop", "th2"), now)
        .await
        .unwrap();
    assert_eq!(first.scopes.to_string(), "read publish");
    assert_eq!(first.expires_at, Some(now.plus_secs(86_400)));
    let names: Vec<String> = store
        .list_tokens(u.id, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["laptop", "ci"]);
    let page2 = store.list_tokens(u.id, Some(second.id), 10).await.unwrap();
    assert_eq!(page2.iter().map(|t| t.id).collect::<Vec<_>>(), [first.id]);
    assert_eq!(store.list_tokens(u.id, None, 1).await.unwrap().len(), 1);
    assert!(
        store
            .list_tokens(other.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let dup = store.create_token(&new("again", "th1"), now).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { ref field }) if field == "token_hash"),
        "{dup:?}"
    );
    assert!(matches!(
        store.revoke_token(other.id, first.id, now).await,
        Err(StoreError::NotFound)
    ));
    store.revoke_token(u.id, first.id, now).await.unwrap();
    let (t, owner) = store.token_by_hash("th1").await.unwrap();
    assert_eq!(owner.id, u.id);
    assert!(!t.is_live(now));
    store.touch_token(second.id, now).await.unwrap();
    let (t2, _) = store.token_by_hash("th2").await.unwrap();
    assert_eq!(t2.last_used_at, Some(now));
    assert!(t2.is_live(now));
    assert!(!t2.is_live(now.plus_secs(86_401)));
    assert_eq!(store.token(u.id, second.id).await.unwrap().name, "laptop");
    assert!(matches!(
        store.token(other.id, second.id).await,
        Err(StoreError::NotFound)
    ));
}

/// Revoking a token revokes the tokens made with it, and theirs, and nothing else.
pub async fn revoking_a_token_revokes_its_descendants(store: &dyn Store) {
    let u = user(store, "tree@example.com").await;
    let now = Timestamp::now();
    let mut made = Vec::new();
    for (name, parent) in [
        ("root", None),
        ("child", Some(0)),
        ("grandchild", Some(1)),
        ("sibling", None),
    ] {
        let parent_id = parent.map(|i: usize| made[i]);
        let t = store
            .create_token(
                &NewApiToken {
                    user_id: u.id,
                    name: name.into(),
                    token_hash: format!("tree-{name}"),
                    display_prefix: "souk_pat_tree".into(),
                    scopes: Scopes::all(),
                    expires_at: None,
                    parent_id,
                },
                now,
            )
            .await
            .unwrap();
        assert_eq!(t.parent_id, parent_id);
        made.push(t.id);
    }
    store.revoke_token(u.id, made[1], now).await.unwrap();
    let live = |name: &'static str| async move {
        store
            .token_by_hash(&format!("tree-{name}"))
            .await
            .unwrap()
            .0
            .is_live(now)
    };
    assert!(live("root").await);
    assert!(!live("child").await);
    assert!(!live("grandchild").await);
    assert!(live("sibling").await);
    store.revoke_token(u.id, made[0], now).await.unwrap();
    assert!(!live("root").await);
    assert!(live("sibling").await);
    // A child written after its parent's revocation (a create that raced with the revoke) is
    // no more alive than its parent; nor does a child outlive an expiring parent.
    for (name, parent) in [("late", made[0]), ("under-sibling", made[3])] {
        store
            .create_token(
                &NewApiToken {
                    user_id: u.id,
                    name: name.into(),
                    token_hash: format!("tree-{name}"),
                    display_prefix: "souk_pat_tree".into(),
                    scopes: Scopes::all(),
                    expires_at: None,
                    parent_id: Some(parent),
                },
                now,
            )
            .await
            .unwrap();
    }
    assert!(!live("late").await);
    assert!(live("under-sibling").await);
}

pub async fn login_failures_count_and_clear(store: &dyn Store) {
    let now = Timestamp::now();
    store
        .record_login_failure("email:a@example.com", now.plus_secs(-100))
        .await
        .unwrap();
    store
        .record_login_failure("email:a@example.com", now.plus_secs(-10))
        .await
        .unwrap();
    store
        .record_login_failure("ip:10.0.0.1", now)
        .await
        .unwrap();
    let (n, oldest) = store
        .login_failures_since("email:a@example.com", now.plus_secs(-60))
        .await
        .unwrap();
    assert_eq!((n, oldest), (1, Some(now.plus_secs(-10))));
    assert_eq!(
        store
            .login_failures_since("email:b@example.com", now.plus_secs(-60))
            .await
            .unwrap(),
        (0, None)
    );
    store
        .clear_login_failures("email:a@example.com")
        .await
        .unwrap();
    assert_eq!(
        store
            .login_failures_since("email:a@example.com", now.plus_secs(-1000))
            .await
            .unwrap()
            .0,
        0
    );
    assert_eq!(store.prune_login_failures(now).await.unwrap(), 1);
}

pub async fn idempotency_claims_once(store: &dyn Store) {
    let now = Timestamp::now();
    store
        .idempotency_claim("user:1", "k1", "rh", now)
        .await
        .unwrap();
    let again = store.idempotency_claim("user:1", "k1", "rh", now).await;
    assert!(matches!(again, Err(StoreError::Conflict { ref field }) if field == "idempotency_key"));
    // Another caller's key space is separate.
    store
        .idempotency_claim("user:2", "k1", "rh", now)
        .await
        .unwrap();
    let pending = store.idempotency_get("user:1", "k1").await.unwrap();
    assert_eq!(pending.response_status, None);
    store
        .idempotency_complete("user:1", "k1", 201, "{\"id\":1}")
        .await
        .unwrap();
    let done = store.idempotency_get("user:1", "k1").await.unwrap();
    assert_eq!(
        (done.response_status, done.response_body.as_deref()),
        (Some(201), Some("{\"id\":1}"))
    );
    // Releasing a completed key keeps it; releasing a pending one frees it.
    store.idempotency_release("user:1", "k1").await.unwrap();
    assert!(store.idempotency_get("user:1", "k1").await.is_ok());
    store.idempotency_release("user:2", "k1").await.unwrap();
    assert!(matches!(
        store.idempotency_get("user:2", "k1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.prune_idempotency(now).await.unwrap(), 1);
}

pub async fn migrate_twice_is_a_no_op(store: &dyn Store) {
    user(store, "m@example.com").await;
    store.migrate().await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 1);
    store.ping().await.unwrap();
}

pub async fn schema_has_the_account_tables(store: &dyn Store) {
    let schema = store.schema().await.unwrap();
    let tables: Vec<&str> = schema.iter().map(|(t, _)| t.as_str()).collect();
    for t in [
        "api_tokens",
        "idempotency_keys",
        "login_failures",
        "sessions",
        "souk_migrations",
        "users",
        "publishers",
        "publisher_members",
        "categories",
        "modules",
        "module_tags",
        "module_screenshots",
        "versions",
        "version_dependencies",
        "download_counts",
    ] {
        assert!(tables.contains(&t), "missing table {t} in {tables:?}");
    }
    let users = &schema.iter().find(|(t, _)| t == "users").unwrap().1;
    assert!(users.contains(&"email".to_string()) && users.contains(&"password_hash".to_string()));
}
