//! End to end: the `souk` binary as a person runs it. Zero-configuration start in an empty
//! directory, the admin command, migrations, the configuration printout, one-line errors with the
//! right exit codes, and a graceful shutdown that lets an in-flight request finish.

use serde_json::{Value, json};
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

use common::{PASSWORD, Server, free_port, souk};

// Only this test stops a server and reads its log.
impl Server {
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "souk did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr_lines(&mut self) -> Vec<String> {
        self.log().lines().map(str::to_owned).collect()
    }
}

async fn login(base: &str, email: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn me(base: &str, token: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn create_user(
    dir: &Path,
    extra: &[(&str, &str)],
    email: &str,
    role: &str,
    password: &str,
) -> std::process::Output {
    let mut cmd = souk(dir);
    cmd.args([
        "admin",
        "create-user",
        "--email",
        email,
        "--role",
        role,
        "--password-stdin",
    ]);
    cmd.envs(extra.iter().copied());
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn zero_configuration_serve_in_an_empty_directory_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    // Truly zero configuration when the default port is free; otherwise only the port is given.
    let default_free = TcpListener::bind("127.0.0.1:8080").is_ok();
    let addr = if default_free {
        "127.0.0.1:8080".to_owned()
    } else {
        format!("127.0.0.1:{}", free_port())
    };
    let mut cmd = souk(dir.path());
    cmd.arg("serve");
    if !default_free {
        eprintln!("port 8080 is busy here; passing --listen {addr}");
        cmd.args(["--listen", &addr]);
    }
    let mut server = Server::start(cmd, &addr).await;
    assert!(
        dir.path().join("souk-data/souk.db").exists(),
        "the SQLite file lives in ./souk-data"
    );
    assert!(dir.path().join("souk-data/secret.key").exists());
    let ready = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{}/api/v1/auth/register", server.base))
        .json(&json!({"email": "first@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = login(&server.base, "first@example.com").await;
    assert_eq!(me(&server.base, &token).await["email"], "first@example.com");
    let page = client
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Souk"));

    // A request is in flight (its body half sent) when SIGTERM arrives: it still gets its answer.
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let body = json!({"email": "first@example.com", "password": PASSWORD}).to_string();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the in-flight request finished: {answer}"
    );

    let status = server.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "clean exit after SIGTERM: {status}");
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "no new connections after shutdown"
    );
    let log = server.stderr_lines().join("\n");
    assert!(
        log.contains("souk is serving") && log.contains("souk stopped"),
        "{log}"
    );
    assert!(
        log.contains("request_id="),
        "request lines carry their id: {log}"
    );
}

#[tokio::test]
async fn admin_create_user_then_sign_in_as_admin() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_env = [("SOUK_DATA_DIR", data.to_str().unwrap())];
    let out = create_user(dir.path(), &data_env, "root@example.com", "admin", PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created admin user root@example.com"));

    // The same email again, a weak password, an unknown role: one-line errors, nothing created.
    let again = create_user(dir.path(), &data_env, "ROOT@example.com", "user", PASSWORD);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("email is already taken"), "{err}");
    let weak = create_user(dir.path(), &data_env, "weak@example.com", "user", "short");
    assert_eq!(weak.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password must be at least 10 characters")
    );
    let bad_role = create_user(dir.path(), &data_env, "x@example.com", "emperor", PASSWORD);
    assert_eq!(bad_role.status.code(), Some(2));

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = souk(dir.path());
    cmd.args([
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        &addr,
    ]);
    let server = Server::start(cmd, &addr).await;
    let token = login(&server.base, "root@example.com").await;
    let user = me(&server.base, &token).await;
    assert_eq!(user["role"], "admin");
    let weak_login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": "weak@example.com", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(weak_login.status(), 401, "the refused user was not created");
}

#[tokio::test]
async fn migrate_and_config_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = souk(dir.path())
        .args(["migrate", "--data-dir", "d"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "migrations applied (sqlite)"
    );
    assert!(dir.path().join("d/souk.db").exists());

    let out = souk(dir.path())
        .arg("config")
        .env(
            "SOUK_DATABASE_URL",
            "postgres://souk:hunter2secret@db.internal/souk",
        )
        .env("SOUK_LISTEN", "0.0.0.0:9000")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("hunter2secret"), "{text}");
    assert!(
        text.contains("postgres://souk:***@db.internal/souk"),
        "{text}"
    );
    assert!(
        text.contains("listen = \"0.0.0.0:9000\"  # env (SOUK_LISTEN)"),
        "{text}"
    );
    assert!(text.contains("[auth]"), "{text}");
}

#[tokio::test]
async fn configuration_errors_are_one_line_naming_the_key_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("souk.toml"),
        "listen = \"127.0.0.1:1\"\n[http]\nmax_body = 1\n",
    )
    .unwrap();
    let out = souk(dir.path())
        .args(["serve", "--config", "souk.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: unknown configuration key `http.max_body`"
    );

    let out = souk(dir.path())
        .args(["serve"])
        .env("SOUK_LISTEN", "everywhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: invalid value for `listen`") && err.trim().lines().count() == 1,
        "{err}"
    );

    let out = souk(dir.path())
        .args(["serve"])
        .env("SOUK_AUTH_SESSION_TTL_HOURS", "-3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`auth.session_ttl_hours`"));
}

#[tokio::test]
async fn bad_or_unreachable_database_urls_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (url, expect) in [
        ("postgres://souk@127.0.0.1:1/nowhere", "127.0.0.1:1/nowhere"),
        (
            "sqlite:///nonexistent-souk-dir/sub/souk.db",
            "/nonexistent-souk-dir/sub/souk.db",
        ),
        ("mysql://x", "`database_url`"),
    ] {
        let out = souk(dir.path())
            .arg("migrate")
            .env("SOUK_DATABASE_URL", url)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{url}: {err}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(expect),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn serves_on_postgres_from_one_variable() {
    let Some(db) = souk_store_postgres::testing::FreshDatabase::create().await else {
        eprintln!("skipped: SOUK_TEST_POSTGRES_URL not set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let env = [("SOUK_DATABASE_URL", db.url.as_str())];
    let out = create_user(
        dir.path(),
        &env,
        "pgadmin@example.com",
        "moderator",
        PASSWORD,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = souk(dir.path());
    cmd.args(["serve", "--listen", &addr]).envs(env);
    let server = Server::start(cmd, &addr).await;
    let token = login(&server.base, "pgadmin@example.com").await;
    assert_eq!(me(&server.base, &token).await["role"], "moderator");
    let ready: Value = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["checks"][0]["detail"], "postgres");
}
