//! The store conformance suite on SQLite, a fresh database file per test.

use souk_store::Store;
use souk_store::conformance::TestStore;
use souk_store_sqlite::SqliteStore;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use std::sync::Arc;

async fn fresh() -> Option<TestStore> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("souk.db").display());
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(TestStore {
        store: Arc::new(store),
        raw: Box::new(move |sql| {
            let url = url.clone();
            Box::pin(async move {
                let mut conn = SqliteConnection::connect(&url)
                    .await
                    .map_err(|e| e.to_string())?;
                let done = sqlx::query(&sql).execute(&mut conn).await;
                done.map(|r| r.rows_affected()).map_err(|e| e.to_string())
            })
        }),
        guard: Box::new(dir),
    })
}

souk_store::conformance_tests!(fresh);

#[tokio::test]
async fn unopenable_path_is_a_one_line_error_naming_the_file() {
    let err = SqliteStore::connect("sqlite:///nonexistent-dir/sub/souk.db")
        .await
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent-dir/sub/souk.db"), "{msg}");
    assert!(!msg.contains('\n'));
}
