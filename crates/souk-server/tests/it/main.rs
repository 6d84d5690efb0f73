//! HTTP tests: each test starts the whole application on its own random port over a fresh
//! database (SQLite in a temporary directory, or a fresh PostgreSQL database when asked for and
//! `SOUK_TEST_POSTGRES_URL` is set) and talks to it with a real HTTP client.

mod accounts;
mod api_conventions;
mod audit;
mod browser;
mod bus;
mod catalog;
mod idempotency;
mod jobs;
mod matrix;
mod moderation;
mod openapi;
mod packages;
mod publisher_keys;
mod s3;
mod search;
mod signatures;
mod tokens;
mod web;
mod web_catalog;
mod web_moderation;
mod web_search;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use souk_server::config::Layers;
use souk_server::{AppState, Config, ServerKeys};
use souk_store::DynStore;
use std::net::SocketAddr;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: DynStore,
    pub state: AppState,
    pub client: Client,
    _guard: Box<dyn std::any::Any + Send>,
    pub dir: tempfile::TempDir,
}

/// Builds a [`TestApp`]: `TestApp::builder().env("SOUK_X", "1").start().await`.
#[derive(Default)]
pub struct TestAppBuilder {
    env: Vec<(String, String)>,
    postgres: bool,
    database_url: Option<String>,
    checks_worker: bool,
}

impl TestAppBuilder {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs the background check worker as `souk serve` does. Without it, tests move uploads
    /// through the checks with [`TestApp::settle`], one step at a time.
    pub fn checks_worker(mut self) -> Self {
        self.checks_worker = true;
        self
    }

    /// Runs on a fresh PostgreSQL database; answers `None` from `start` when none is configured.
    pub fn postgres(mut self) -> Self {
        self.postgres = true;
        self
    }

    /// Runs on this database, which another [`TestApp`] made (a second node on the same data).
    pub fn postgres_url(mut self, url: &str) -> Self {
        self.database_url = Some(url.to_owned());
        self
    }

    pub async fn start(self) -> Option<TestApp> {
        souk_server::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut env = self.env;
        // Uploads that pass the checks publish at once unless a test asks for a review policy.
        if !env.iter().any(|(k, _)| k == "SOUK_REVIEW_POLICY") {
            env.push(("SOUK_REVIEW_POLICY".into(), "none".into()));
        }
        env.push(("SOUK_DATA_DIR".into(), dir.path().display().to_string()));
        env.push(("SOUK_LISTEN".into(), "127.0.0.1:0".into()));
        let guard: Box<dyn std::any::Any + Send> = if let Some(url) = &self.database_url {
            env.push(("SOUK_DATABASE_URL".into(), url.clone()));
            Box::new(())
        } else if self.postgres {
            let Some(db) = souk_store_postgres::testing::FreshDatabase::create().await else {
                eprintln!("skipped: SOUK_TEST_POSTGRES_URL not set");
                return None;
            };
            env.push(("SOUK_DATABASE_URL".into(), db.url.clone()));
            Box::new(db)
        } else {
            Box::new(())
        };
        let config = Config::load(&Layers {
            env,
            ..Layers::default()
        })
        .unwrap();
        let store = souk_server::open_store(&config, true).await.unwrap();
        let keys = ServerKeys::load_or_create(&config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let blobs = souk_server::blob::BlobStore::from_config(&config).unwrap();
        let state = AppState::new(store.clone(), config, keys, blobs)
            .await
            .unwrap();
        if self.checks_worker {
            tokio::spawn(state.jobs.clone().run());
        }
        let app = souk_server::app(state.clone());
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap();
        Some(TestApp {
            addr,
            store,
            state,
            client,
            _guard: guard,
            dir,
        })
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// The usual case: SQLite, default configuration.
    pub async fn spawn() -> TestApp {
        Self::builder()
            .start()
            .await
            .expect("SQLite is always available")
    }

    /// Runs every due check job (uploads, rescans) to its end and brings search up to date, as
    /// the background worker would a moment later.
    pub async fn settle(&self) {
        while self.state.jobs.run_due().await.unwrap() > 0 {}
        self.state.search.sync().await.unwrap();
    }

    /// The database this app runs on.
    pub fn database_url(&self) -> String {
        self.state.config.effective_database_url()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.post(path).json(body).send().await.unwrap()
    }

    /// `GET path` as `bearer`, read as JSON.
    pub async fn get_json(&self, path: &str, bearer: &str) -> Value {
        self.get(path)
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `POST path` with a JSON body as `bearer`.
    pub async fn post_json_as(&self, path: &str, bearer: &str, body: &Value) -> Response {
        self.post(path)
            .bearer_auth(bearer)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn register(&self, email: &str) -> Response {
        self.post_json(
            "/api/v1/auth/register",
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await
    }

    /// Registers `email` and signs in; answers the session token.
    pub async fn signed_up(&self, email: &str) -> String {
        assert_eq!(self.register(email).await.status(), StatusCode::CREATED);
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let resp = self
            .post_json(
                "/api/v1/auth/login",
                &json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a user with `role` the way `souk admin create-user` does (moderators and admins
    /// cannot register themselves).
    pub async fn create_staff(&self, email: &str, role: souk_core::Role) {
        self.state
            .accounts
            .create_user(email, PASSWORD, None, role)
            .await
            .unwrap();
    }

    /// [`TestApp::create_staff`], signed in; answers the token.
    pub async fn staff(&self, email: &str, role: souk_core::Role) -> String {
        self.create_staff(email, role).await;
        self.login(email, PASSWORD).await
    }

    /// Runs a statement on the test app's SQLite database, behind the server's back.
    pub async fn raw_sql(&self, statement: &str) {
        use sqlx::Connection;
        let path = self.dir.path().join("souk.db");
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }

    pub async fn users(&self) -> i64 {
        self.store.count_users().await.unwrap()
    }
}

/// Reads an error envelope and checks its status; answers `(code, details)`.
pub async fn envelope(resp: Response, status: StatusCode) -> (String, Value) {
    assert_eq!(resp.status(), status);
    let body: Value = resp.json().await.expect("an error envelope in JSON");
    let err = &body["error"];
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (
        err["code"].as_str().unwrap().to_owned(),
        err["details"].clone(),
    )
}
