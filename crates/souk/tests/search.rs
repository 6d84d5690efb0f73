//! End to end: `souk search` and `souk admin reindex` against real `souk serve` processes.
//!
//! - search: a hit, a typo that still finds the module, category and tag filters, browsing,
//!   `--json`, and the refusals (unknown category or sort: the marketplace's 422 on one line,
//!   exit 1, like every refusal; a bad `--limit`: exit 2, like every bad command line);
//! - reindex: without a server it rebuilds `DATA_DIR/search` itself (and a server started on
//!   that directory afterwards uses the index as it is); with one running it only asks, and the
//!   running server rebuilds;
//! - freshness across nodes (when `SOUK_TEST_POSTGRES_URL` is set): two `souk serve` on one
//!   PostgreSQL database, each with its own index; a publish and a yank through one show in the
//!   other's search within a second, and a restarted node resumes from the change log.

#[path = "common/author.rs"]
mod author;
mod common;
#[path = "common/run.rs"]
mod run;

use author::author_with_publisher;
use common::{Server, free_port, souk};
use run::{ok, refused};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `cmd` with `args`, expecting exit code `code`, an `error:` line and nothing on stdout;
/// that line.
fn fails(cmd: Command, args: &[&str], code: i32) -> String {
    let (line, out) = refused(cmd, args, code);
    assert_eq!(out, "", "nothing on stdout from a failure");
    line
}

/// A `souk serve` whose log (standard error) is read as it runs.
struct Node {
    server: Server,
}

impl Node {
    async fn start(root: &Path, data: &Path, database_url: Option<&str>) -> Node {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = souk(root);
        cmd.args([
            "serve",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            &addr,
        ]);
        if let Some(url) = database_url {
            cmd.env("SOUK_DATABASE_URL", url);
        }
        Node {
            server: Server::start(cmd, &addr).await,
        }
    }

    fn base(&self) -> &str {
        &self.server.base
    }

    fn log(&self) -> String {
        self.server.log()
    }

    /// Stops the server as an operator would (SIGTERM) and answers its whole log.
    fn stop(mut self) -> String {
        let pid = self.server.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.server.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "souk serve did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.log()
    }
}

/// Scaffolds module `name` of publisher `acme` with this description (its summary) and
/// publishes version 0.1.0 with the CLI.
fn publish(work: &Path, base: &str, token: &str, name: &str, description: &str) {
    ok(souk(work), &["init", name, "--publisher", "acme"]);
    let manifest = work.join(name).join("souk.toml");
    std::fs::write(
        &manifest,
        format!(
            "[module]\nname = \"{name}\"\nversion = \"0.1.0\"\npublisher = \"acme\"\n\
             description = \"{description}\"\nlicense = \"MIT\"\nplatform = \">=1.0.0\"\n"
        ),
    )
    .unwrap();
    let out = ok(
        souk(work),
        &["publish", name, "--registry", base, "--token", token],
    );
    assert!(
        out.starts_with(&format!("uploaded {name} 0.1.0 "))
            && out.trim_end().ends_with(&format!("published {name} 0.1.0")),
        "{out}"
    );
}

/// Sets a module's category and tags through the API.
async fn categorize(base: &str, token: &str, name: &str, category: &str, tags: &[&str]) {
    let resp = reqwest::Client::new()
        .patch(format!("{base}/api/v1/modules/{name}"))
        .bearer_auth(token)
        .json(&json!({"category": category, "tags": tags}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

/// The names `GET /api/v1/search?QUERY` answers, in order.
async fn search_names(http: &reqwest::Client, base: &str, query: &str) -> Vec<String> {
    let page: Value = http
        .get(format!("{base}/api/v1/search?{query}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// How long the two-node test waits for a write to show on the other node before failing. The
/// goal is under a second (a 250 ms poll plus a commit; the test prints the delay it saw); the
/// limit is wider so that a loaded CI machine cannot make the test flaky, as tests do not assert
/// on time (ENGINEERING.md).
const PROPAGATION_LIMIT: Duration = Duration::from_secs(5);

/// Polls the search every 50 ms until `done` holds of its names; how long that took. Panics
/// after `limit`.
async fn wait_until(
    base: &str,
    query: &str,
    limit: Duration,
    done: impl Fn(&[String]) -> bool,
) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let names = search_names(&http, base, query).await;
        if done(&names) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "search?{query} on {base} still answers {names:?} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The names in the first column of `souk search`'s table: every line between the header and
/// the total.
fn table_names(out: &str) -> Vec<String> {
    let lines: Vec<&str> = out.lines().collect();
    if lines.len() < 3 || !lines[0].starts_with("NAME ") {
        return Vec::new();
    }
    lines[1..lines.len() - 1]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_finds_filters_and_refuses_unknown_values() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let node = Node::start(root.path(), &root.path().join("data"), None).await;
    let base = node.base().to_owned();
    let token = author_with_publisher(&base).await;

    publish(
        &work,
        &base,
        &token,
        "economy",
        "Coins, shops and a bank for every server, with interest, taxes, auctions and an \
         admin panel to watch it all",
    );
    publish(
        &work,
        &base,
        &token,
        "chat-bridge",
        "Relays chat between the game and Discord channels",
    );
    publish(
        &work,
        &base,
        &token,
        "region-guard",
        "Protects regions of the world from griefing",
    );
    categorize(&base, &token, "economy", "economy", &["shop", "coins"]).await;
    categorize(
        &base,
        &token,
        "chat-bridge",
        "discord",
        &["discord", "chat"],
    )
    .await;
    categorize(&base, &token, "region-guard", "world", &["protection"]).await;
    // The last write shows once the index has caught up with all of them.
    wait_until(&base, "tag=protection", Duration::from_secs(10), |n| {
        n == ["region-guard"]
    })
    .await;

    // The registry comes from the environment here, from the flag below; no token is needed.
    let client = || {
        let mut cmd = souk(&work);
        cmd.env("SOUK_REGISTRY", &base).env("COLUMNS", "60");
        cmd
    };

    // A hit: a table with the name, latest version, downloads and summary, then the total.
    let out = ok(client(), &["search", "economy"]);
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "NAME     VERSION  DOWNLOADS  SUMMARY",
        "{out}"
    );
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("economy  0.1.0            0  Coins, shops and a bank"),
        "{out}"
    );
    // The summary is cut to the 60 columns COLUMNS asks for.
    assert!(row.ends_with('…') && row.chars().count() <= 60, "{out}");
    assert_eq!(lines.last().unwrap(), "1 module", "{out}");

    // A typo still finds it; so does the start of a word (search as you type).
    assert_eq!(
        table_names(&ok(client(), &["search", "ecomomy"]))[0],
        "economy"
    );
    assert_eq!(
        table_names(&ok(client(), &["search", "econ"]))[0],
        "economy"
    );
    // Several words, unquoted.
    assert_eq!(
        table_names(&ok(client(), &["search", "discord", "relay"])),
        ["chat-bridge"]
    );

    // Filters: a category includes its subcategories (discord is under integrations); tags
    // must all match.
    assert_eq!(
        table_names(&ok(client(), &["search", "--category", "integrations"])),
        ["chat-bridge"]
    );
    assert_eq!(
        table_names(&ok(client(), &["search", "--category", "economy"])),
        ["economy"]
    );
    assert_eq!(
        table_names(&ok(client(), &["search", "--tag", "discord"])),
        ["chat-bridge"]
    );
    assert_eq!(
        table_names(&ok(
            client(),
            &["search", "--tag", "shop", "--tag", "coins"]
        )),
        ["economy"]
    );
    assert_eq!(
        ok(client(), &["search", "--tag", "shop,discord"]),
        "no modules found\n"
    );
    assert_eq!(
        ok(client(), &["search", "coins", "--category", "world"]),
        "no modules found\n"
    );

    // No query browses everything; a sort and a limit apply.
    let out = ok(client(), &["search"]);
    assert_eq!(table_names(&out).len(), 3, "{out}");
    assert!(out.ends_with("\n3 modules\n"), "{out}");
    let out = ok(
        client(),
        &["search", "", "--sort", "newest", "--limit", "2"],
    );
    assert_eq!(table_names(&out), ["region-guard", "chat-bridge"], "{out}");
    assert!(
        out.ends_with("\nshowing 2 of 3 modules (--limit shows up to 100)\n"),
        "{out}"
    );

    // --json: the API's answer as it is.
    let out = ok(
        souk(&work),
        &["search", "chat", "--json", "--registry", &base],
    );
    let page: Value = serde_json::from_str(&out).expect("--json prints JSON");
    assert_eq!(page["items"][0]["name"], "chat-bridge");
    assert_eq!(page["items"][0]["latest_version"], "0.1.0");
    assert_eq!(page["items"][0]["publisher"]["slug"], "acme");
    assert_eq!(page["total"], 1);
    assert_eq!(page["sort"], "relevance");
    assert!(page["facets"].is_object(), "{page}");
    let http: Value = reqwest::get(format!("{base}/api/v1/search?q=chat&limit=20"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page, http, "the same answer as the API's");

    // Unknown values: the marketplace's 422 on one line, exit 1 like every refusal.
    let e = fails(client(), &["search", "coins", "--category", "nope"], 1);
    assert_eq!(
        e,
        "error: 422 unknown_category: category: there is no category `nope`"
    );
    let e = fails(client(), &["search", "--sort", "popular"], 1);
    assert_eq!(
        e,
        "error: 422 invalid_sort: sort: `popular` is not a sort; one of relevance, downloads, \
         newest, updated, trending"
    );
    let e = fails(client(), &["search", "--tag", "Not A Tag"], 1);
    assert!(e.starts_with("error: 422 invalid_tag: "), "{e}");
    // A limit out of range is a bad command line: exit 2, nothing sent.
    let e = fails(client(), &["search", "x", "--limit", "0"], 2);
    assert!(e.contains("--limit"), "{e}");

    // An unreachable registry is one line, exit 1, like the other commands.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let e = fails(souk(&work), &["search", "x", "--registry", &nowhere], 1);
    assert!(
        e.starts_with(&format!("error: cannot reach {nowhere}: ")),
        "{e}"
    );
    node.stop();
}

#[tokio::test]
async fn admin_reindex_rebuilds_offline_and_asks_a_running_server() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    let data = root.path().join("data");
    std::fs::create_dir_all(&work).unwrap();
    let reindex = || {
        let mut cmd = souk(root.path());
        cmd.args(["admin", "reindex", "--data-dir", data.to_str().unwrap()]);
        cmd
    };

    // With nothing published yet and no server: a fresh, empty index.
    let out = ok(reindex(), &[]);
    assert!(
        out.starts_with(&format!(
            "rebuilt the search index in {}: 0 modules indexed in ",
            data.join("search").display()
        )),
        "{out}"
    );

    let node = Node::start(root.path(), &data, None).await;
    let base = node.base().to_owned();
    let token = author_with_publisher(&base).await;
    publish(
        &work,
        &base,
        &token,
        "economy",
        "Coins, shops and a bank for every server",
    );
    wait_until(&base, "q=economy", Duration::from_secs(10), |n| {
        n == ["economy"]
    })
    .await;

    // A server holds the index: reindex only asks, and the server rebuilds.
    let builds = |log: &str| log.matches("search index built").count();
    let before = builds(&node.log());
    let out = ok(reindex(), &[]);
    assert!(
        out.starts_with(&format!(
            "the search index in {} is in use by a running souk serve: asked every node to \
             rebuild (change ",
            data.join("search").display()
        )) && out.contains("running nodes rebuild within a second"),
        "{out}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while builds(&node.log()) == before {
        assert!(
            Instant::now() < deadline,
            "the server did not rebuild: {}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        node.log().contains("search index built modules=1 "),
        "{}",
        node.log()
    );
    assert_eq!(
        table_names(&ok(
            souk(&work),
            &["search", "economy", "--registry", &base]
        )),
        ["economy"]
    );

    // The server stopped (it had used the index reindex built, and rebuilt only when asked) and
    // its index gone: reindex builds it again from the database.
    let log = node.stop();
    assert!(
        !log.contains("rebuilding the search index"),
        "the server used the index reindex built: {log}"
    );
    std::fs::remove_dir_all(data.join("search")).unwrap();
    let out = ok(reindex(), &[]);
    assert!(
        out.starts_with(&format!(
            "rebuilt the search index in {}: 1 module indexed in ",
            data.join("search").display()
        )) && out.contains("other nodes rebuild theirs from the change log"),
        "{out}"
    );
    let node = Node::start(root.path(), &data, None).await;
    let out = ok(
        souk(&work),
        &["search", "econmy", "--registry", node.base()],
    );
    assert_eq!(table_names(&out), ["economy"], "{out}");
    let log = node.stop();
    assert!(
        !log.contains("rebuilding the search index"),
        "the server used the index reindex built: {log}"
    );
}

/// A data directory for a node of the two-node test.
fn node_dir(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn two_nodes_on_postgres_see_each_others_writes_within_a_second() {
    let Some(db) = souk_store_postgres::testing::FreshDatabase::create().await else {
        eprintln!(
            "skipped: set SOUK_TEST_POSTGRES_URL to run two souk serve nodes on one PostgreSQL \
             database"
        );
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    // One after the other: A applies the migrations, B finds them applied.
    let a = Node::start(root.path(), &node_dir(root.path(), "a"), Some(&db.url)).await;
    let b_data = node_dir(root.path(), "b");
    let b = Node::start(root.path(), &b_data, Some(&db.url)).await;
    let token = author_with_publisher(a.base()).await;
    let name = "freshness-probe";
    let query = format!("q={name}");
    assert!(
        search_names(&reqwest::Client::new(), b.base(), &query)
            .await
            .is_empty()
    );

    // Published through A: in B's search within a second.
    publish(
        &work,
        a.base(),
        &token,
        name,
        "Checks that every node sees a write",
    );
    let shown = wait_until(b.base(), &query, PROPAGATION_LIMIT, |n| {
        n.iter().any(|x| x == name)
    })
    .await;
    eprintln!("publish through node A showed in node B's search after {shown:?}");

    // Its only version yanked through A: gone from B's search within a second.
    let yank = ok(
        souk(&work),
        &[
            "yank",
            &format!("{name}@0.1.0"),
            "--reason",
            "probe",
            "--registry",
            a.base(),
            "--token",
            &token,
        ],
    );
    assert_eq!(yank.trim(), format!("yanked {name} 0.1.0: probe"));
    let gone = wait_until(b.base(), &query, PROPAGATION_LIMIT, |n| {
        !n.iter().any(|x| x == name)
    })
    .await;
    eprintln!("yank through node A left node B's search after {gone:?}");

    // B stops; A unyanks meanwhile. Restarted, B resumes from its position in the change log
    // (no rebuild) and catches up with what it missed.
    let b_log = b.stop();
    assert!(
        b_log.matches("rebuilding the search index").count() == 1,
        "B built its index once, at its first start: {b_log}"
    );
    ok(
        souk(&work),
        &[
            "unyank",
            &format!("{name}@0.1.0"),
            "--registry",
            a.base(),
            "--token",
            &token,
        ],
    );
    let b = Node::start(root.path(), &b_data, Some(&db.url)).await;
    let back = wait_until(b.base(), &query, PROPAGATION_LIMIT, |n| {
        n.iter().any(|x| x == name)
    })
    .await;
    eprintln!("restarted node B showed the unyank after {back:?} (from its answering /healthz)");
    let b_log = b.stop();
    assert!(
        !b_log.contains("rebuilding the search index"),
        "B resumed without a rebuild: {b_log}"
    );
    a.stop();
}
