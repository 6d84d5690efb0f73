//! Fresh PostgreSQL databases for tests: one per test, created from `SOUK_TEST_POSTGRES_URL` and
//! dropped when the guard goes. Answers `None` when the variable is unset, so a developer without
//! PostgreSQL can still run the SQLite half; CI always sets it, and sets `SOUK_TEST_REQUIRE_ALL`
//! so that a missing variable fails the tests instead of skipping them.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

pub const ENV: &str = "SOUK_TEST_POSTGRES_URL";

/// A throwaway database; dropping it drops the database (forcibly, ending stray connections).
pub struct FreshDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl FreshDatabase {
    pub async fn create() -> Option<Self> {
        let Some(admin_url) = std::env::var(ENV).ok().filter(|s| !s.is_empty()) else {
            assert!(
                std::env::var("SOUK_TEST_REQUIRE_ALL").is_err(),
                "SOUK_TEST_REQUIRE_ALL is set but {ENV} is not: PostgreSQL tests would be skipped"
            );
            return None;
        };
        let name = format!("souk_test_{}", hex::encode(random::<8>()));
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("{ENV} is set but PostgreSQL does not answer: {e}"));
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        conn.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("SOUK_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Some(Self {
            url: url.to_string(),
            admin_url,
            name,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop cannot await; a short-lived thread with its own runtime does the clean-up.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin_url).await.ok()?;
                sqlx::Executor::execute(&mut conn, sql.as_str())
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("OS random generator");
    b
}
