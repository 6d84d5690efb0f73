//! The store conformance suite on PostgreSQL (a fresh database per test), and the check that the
//! two backends' migrations produce the same tables and columns.

use souk_store::Store;
use souk_store::conformance::TestStore;
use souk_store_postgres::PostgresStore;
use souk_store_postgres::testing::FreshDatabase;
use souk_store_sqlite::SqliteStore;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::sync::Arc;

async fn fresh() -> Option<TestStore> {
    let db = FreshDatabase::create().await?;
    let store = PostgresStore::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let url = db.url.clone();
    Some(TestStore {
        store: Arc::new(store),
        raw: Box::new(move |sql| {
            let url = url.clone();
            Box::pin(async move {
                let mut conn = PgConnection::connect(&url)
                    .await
                    .map_err(|e| e.to_string())?;
                let done = sqlx::query(&sql).execute(&mut conn).await;
                conn.close().await.ok();
                done.map(|r| r.rows_affected()).map_err(|e| e.to_string())
            })
        }),
        guard: Box::new(db),
    })
}

souk_store::conformance_tests!(fresh);

#[tokio::test]
async fn both_backends_have_the_same_tables_and_columns() {
    let Some(db) = FreshDatabase::create().await else {
        eprintln!("skipped: SOUK_TEST_POSTGRES_URL not set");
        return;
    };
    let pg = PostgresStore::connect(&db.url, 2).await.unwrap();
    pg.migrate().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::connect(&format!("sqlite://{}/s.db", dir.path().display()))
        .await
        .unwrap();
    lite.migrate().await.unwrap();
    assert_eq!(pg.schema().await.unwrap(), lite.schema().await.unwrap());
    assert_eq!(
        souk_store_postgres::MIGRATIONS.len(),
        souk_store_sqlite::MIGRATIONS.len()
    );
    for (a, b) in souk_store_postgres::MIGRATIONS
        .iter()
        .zip(souk_store_sqlite::MIGRATIONS)
    {
        assert_eq!(
            (a.version, a.name),
            (b.version, b.name),
            "migrations are numbered in lockstep"
        );
    }
}

#[tokio::test]
async fn concurrent_migrations_apply_once() {
    let Some(db) = FreshDatabase::create().await else {
        eprintln!("skipped: SOUK_TEST_POSTGRES_URL not set");
        return;
    };
    let a = PostgresStore::connect(&db.url, 2).await.unwrap();
    let b = PostgresStore::connect(&db.url, 2).await.unwrap();
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    assert!(a.schema().await.unwrap().iter().any(|(t, _)| t == "users"));
}

#[tokio::test]
async fn unreachable_server_is_a_one_line_error_naming_it() {
    let err = PostgresStore::connect("postgres://souk@127.0.0.1:1/nowhere", 1)
        .await
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(msg.contains("127.0.0.1:1/nowhere"), "{msg}");
    assert!(!msg.contains('\n'));
}
