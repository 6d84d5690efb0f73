//! Browser tests: drive headless Chromium through chromedriver over the W3C WebDriver HTTP
//! protocol to check that the server-rendered pages work as a person would use them (forms,
//! cookies, redirects), which the plain HTTP tests cannot see.
//!
//! The WebDriver client is the `fantoccini` crate, over plain HTTP to the local chromedriver.
//! Without chromedriver the test is skipped, unless `SOUK_TEST_REQUIRE_ALL` is set.
//! `SOUK_TEST_CHROMEDRIVER` and `SOUK_TEST_CHROMIUM` override where the binaries are looked for.

use crate::{PASSWORD, TestApp};
use anyhow::{Context, anyhow, bail};
use fantoccini::Locator;
use fantoccini::elements::Element;
use serde_json::{Value, json};
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Page loads are polled for, rather than slept through: 50 × 100 ms.
const POLL_ATTEMPTS: u32 = 50;
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A running chromedriver, killed when dropped so that a failing test does not leak it.
struct Chromedriver {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Chromedriver {
    /// Starts chromedriver on a free port and waits (at most ~10 s) until it reports ready.
    async fn start(binary: &Path, log_dir: &Path) -> anyhow::Result<Self> {
        // Asking the OS for a free port and releasing it races only with other processes
        // grabbing the same port in the next few milliseconds, which is acceptable for a test.
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("finding a free port for chromedriver")?
            .port();
        let log = log_dir.join("chromedriver.log");
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };

        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = driver.child.try_wait()? {
                bail!(
                    "chromedriver exited early with {status}{}",
                    driver.log_tail()
                );
            }
            let ready = match http.get(format!("{}/status", driver.base)).send().await {
                Ok(resp) => resp
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true),
                Err(_) => false,
            };
            if ready {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                bail!(
                    "chromedriver did not report ready within 10 s{}",
                    driver.log_tail()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The end of chromedriver's log, to make a failure explain itself.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("\nchromedriver log:\n{tail}")
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session: a browser window the test drives, through `fantoccini`.
struct Browser {
    client: fantoccini::Client,
}

impl Browser {
    /// Opens a headless Chromium session on `driver`, with its profile in `profile_dir`.
    async fn open(
        driver: &Chromedriver,
        chromium: &str,
        profile_dir: &Path,
    ) -> anyhow::Result<Self> {
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--user-data-dir={}", profile_dir.display()),
                ],
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!("capabilities are an object")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        // Bounded, so that a wedged driver fails the test instead of hanging it.
        let client = tokio::time::timeout(
            Duration::from_secs(60),
            fantoccini::ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&driver.base),
        )
        .await
        .map_err(|_| anyhow!("no new session within 60 s{}", driver.log_tail()))?
        .map_err(|e| anyhow!("new session: {e}{}", driver.log_tail()))?;
        Ok(Self { client })
    }

    async fn navigate(&self, url: &str) -> anyhow::Result<()> {
        Ok(self.client.goto(url).await?)
    }

    async fn current_url(&self) -> anyhow::Result<String> {
        Ok(self.client.current_url().await?.to_string())
    }

    /// The element matching `css` on the current page, failing at once if there is none.
    async fn find(&self, css: &str) -> anyhow::Result<Element> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("finding {css:?}"))
    }

    async fn send_keys(&self, element: &Element, text: &str) -> anyhow::Result<()> {
        Ok(element.send_keys(text).await?)
    }

    async fn click(&self, element: &Element) -> anyhow::Result<()> {
        Ok(element.click().await?)
    }

    async fn text(&self, element: &Element) -> anyhow::Result<String> {
        Ok(element.text().await?)
    }

    async fn is_selected(&self, element: &Element) -> anyhow::Result<bool> {
        Ok(element.is_selected().await?)
    }

    /// Resizes the window, for looking at a page at phone and desktop widths.
    async fn set_window_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        Ok(self.client.set_window_size(width, height).await?)
    }

    /// Saves a PNG of the visible part of the page.
    async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let png = self.client.screenshot().await?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    async fn delete(self) -> anyhow::Result<()> {
        Ok(self.client.close().await?)
    }

    /// Types `text` into the field matching `css`, once the page shows it.
    async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let el = self.wait_for(css).await?;
        self.send_keys(&el, text)
            .await
            .with_context(|| format!("typing into {css:?}"))
    }

    /// Clicks the element matching `css`, once the page shows it.
    async fn click_on(&self, css: &str) -> anyhow::Result<()> {
        let el = self.wait_for(css).await?;
        self.click(&el)
            .await
            .with_context(|| format!("clicking {css:?}"))
    }

    /// Polls `probe` until it answers `Some`, for as long as a page load may reasonably take.
    /// A probe error (no such element yet, or a stale one while the page is being replaced)
    /// counts as "not yet".
    async fn wait_until<T, F, Fut>(&self, expected: &str, mut probe: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<T>>>,
    {
        let mut last = String::from("none");
        for _ in 0..POLL_ATTEMPTS {
            match probe().await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => last = format!("{e:#}"),
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        let url = self
            .current_url()
            .await
            .unwrap_or_else(|e| format!("<unknown: {e:#}>"));
        bail!(
            "expected {expected} within 5 s, but the browser is at {url} (last probe error: {last})"
        )
    }

    /// Waits for an element matching `css` and answers it.
    async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        self.wait_until(&format!("an element {css:?}"), || async {
            self.find(css).await.map(Some)
        })
        .await
    }

    /// Waits for an element matching `css` and answers its text.
    async fn wait_text(&self, css: &str) -> anyhow::Result<String> {
        self.wait_until(&format!("an element {css:?}"), || async {
            let el = self.find(css).await?;
            self.text(&el).await.map(Some)
        })
        .await
    }

    /// Waits until an element matching `css` shows text containing `needle`: after a form that
    /// leads back to the same address, the old page may still be there for a moment.
    async fn wait_text_containing(&self, css: &str, needle: &str) -> anyhow::Result<String> {
        self.wait_until(&format!("{css:?} to contain {needle:?}"), || async {
            let el = self.find(css).await?;
            let text = self.text(&el).await?;
            Ok(text.contains(needle).then_some(text))
        })
        .await
    }

    /// Waits until the browser is at `path` on `app`, ignoring any query string.
    async fn wait_path(&self, app: &TestApp, path: &str) -> anyhow::Result<()> {
        let want = app.url(path);
        self.wait_until(&format!("to be at {want}"), || async {
            let url = self.current_url().await?;
            Ok((url.split(['?', '#']).next() == Some(want.as_str())).then_some(()))
        })
        .await
    }
}

/// The chromedriver to use, or `None` when none is installed.
fn find_chromedriver() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SOUK_TEST_CHROMEDRIVER") {
        let path = PathBuf::from(path);
        // An explicit path that is wrong is a broken setup, not a missing tool: say so.
        assert!(
            path.is_file(),
            "SOUK_TEST_CHROMEDRIVER={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let default = PathBuf::from("/usr/bin/chromedriver");
    default.is_file().then_some(default)
}

/// A browser for one test: chromedriver, a Chromium session on it, and a scratch directory
/// for the browser profile and the test's files.
struct Session {
    scratch: tempfile::TempDir,
    browser: Browser,
    // Dropped last: killing chromedriver ends the browser.
    _driver: Chromedriver,
}

impl Session {
    /// Starts a session, or answers `None` (the test is skipped) when chromedriver is missing.
    async fn open() -> Option<Session> {
        let Some(chromedriver) = find_chromedriver() else {
            assert!(
                std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
                "SOUK_TEST_REQUIRE_ALL is set but chromedriver is not installed \
                 (install chromium-driver or set SOUK_TEST_CHROMEDRIVER)"
            );
            eprintln!("skipped: chromedriver not installed");
            return None;
        };
        // The tests' own HTTP client (reqwest, for the API side) needs the TLS provider.
        souk_server::install_crypto_provider();
        let chromium =
            std::env::var("SOUK_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let scratch = tempfile::tempdir().expect("a temporary directory for the browser profile");
        let driver = Chromedriver::start(&chromedriver, scratch.path())
            .await
            .unwrap_or_else(|e| panic!("{e:#}"));
        let profile = scratch.path().join("profile");
        let browser = Browser::open(&driver, &chromium, &profile)
            .await
            .unwrap_or_else(|e| panic!("opening a Chromium session: {e:#}"));
        Some(Session {
            scratch,
            browser,
            _driver: driver,
        })
    }

    /// Ends the WebDriver session whatever the outcome (steps answer errors instead of
    /// panicking so that this always runs), then fails the test if the journey failed.
    async fn finish(self, outcome: anyhow::Result<()>) {
        let deleted = self.browser.delete().await;
        if let Err(e) = outcome {
            panic!("{e:#}");
        }
        deleted.expect("deleting the WebDriver session");
    }
}

#[tokio::test]
async fn browser_registers_signs_in_creates_a_token_and_signs_out() {
    let Some(session) = Session::open().await else {
        return;
    };
    let app = TestApp::spawn().await;
    let outcome = journey(&app, &session.browser).await;
    session.finish(outcome).await;
}

#[tokio::test]
async fn browser_creates_a_publisher_and_publishes_a_module_from_the_portal() {
    let Some(session) = Session::open().await else {
        return;
    };
    // The portal's upload answers at once; the check worker publishes the version a moment later.
    let app = TestApp::builder().checks_worker().start().await.unwrap();
    let outcome = publishing_journey(&app, &session.browser, session.scratch.path()).await;
    session.finish(outcome).await;
}

#[tokio::test]
async fn browser_moderator_approves_a_version_from_the_review_page() {
    let Some(session) = Session::open().await else {
        return;
    };
    let app = TestApp::builder()
        .env("SOUK_REVIEW_POLICY", "all")
        .start()
        .await
        .unwrap();
    let token = crate::catalog::publisher_owner(&app, "ada@example.com", "acme").await;
    let bytes = crate::packages::package("economy", "1.0.0", "acme", &[]);
    let resp = crate::catalog::upload(&app, &token, "economy", bytes).await;
    assert_eq!(resp.status(), reqwest::StatusCode::CREATED);
    app.state
        .accounts
        .create_user("mo@example.com", PASSWORD, None, souk_core::Role::Moderator)
        .await
        .unwrap();
    let outcome = moderation_journey(&app, &session.browser).await;
    session.finish(outcome).await;
    let v = app
        .get_json("/api/v1/modules/economy/versions/1.0.0", &token)
        .await;
    assert_eq!(v["status"], "published");
}

/// What a new user does: sign up, sign out, sign in, create a token, sign out.
async fn journey(app: &TestApp, b: &Browser) -> anyhow::Result<()> {
    let email = "browser@example.com";

    sign_up(app, b, email, "Browser Tester").await?;
    let shown = b.wait_text("#account-email").await?;
    anyhow::ensure!(
        shown == email,
        "the account page shows {shown:?}, expected {email:?}"
    );

    sign_out(app, b).await.context("first sign-out")?;

    b.navigate(&app.url("/login")).await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click_on("#sign-in").await?;
    b.wait_path(app, "/account")
        .await
        .context("after signing in")?;
    let shown = b.wait_text("#account-email").await?;
    anyhow::ensure!(
        shown == email,
        "after sign-in the account page shows {shown:?}"
    );

    b.fill("#token-name", "ci-browser").await?;
    let read = b.find("#scope-read").await?;
    anyhow::ensure!(
        b.is_selected(&read).await?,
        "#scope-read should be ticked by default"
    );
    b.click_on("#scope-publish").await?;
    b.click_on("#create-token").await?;
    let secret = b
        .wait_text("code#new-token")
        .await
        .context("after creating a token")?;
    anyhow::ensure!(
        secret.starts_with("souk_pat_"),
        "#new-token shows {secret:?}, expected a souk_pat_ token"
    );
    let table = b.wait_text("#tokens").await?;
    anyhow::ensure!(
        table.contains("ci-browser") && table.contains("publish"),
        "the #tokens table should list ci-browser with the publish scope, but reads:\n{table}"
    );

    sign_out(app, b).await.context("second sign-out")?;
    b.navigate(&app.url("/account")).await?;
    b.wait_path(app, "/login")
        .await
        .context("visiting /account after signing out")?;
    Ok(())
}

/// Clicks "Sign out" and waits for the signed-out navigation to appear.
async fn sign_out(app: &TestApp, b: &Browser) -> anyhow::Result<()> {
    b.click_on("#logout").await?;
    b.wait_path(app, "/").await?;
    b.wait_text(r#"a[href="/login"]"#).await?;
    Ok(())
}

/// Signs up through the registration form.
async fn sign_up(app: &TestApp, b: &Browser, email: &str, name: &str) -> anyhow::Result<()> {
    b.navigate(&app.url("/register")).await?;
    b.fill("#email", email).await?;
    b.fill("#display_name", name).await?;
    b.fill("#password", PASSWORD).await?;
    b.click_on("#create-account").await?;
    b.wait_path(app, "/account")
        .await
        .context("after creating an account")
}

/// What a moderator does: sign in, open the console from the header, go from the count of
/// versions waiting to the queue and the review page, and approve.
async fn moderation_journey(app: &TestApp, b: &Browser) -> anyhow::Result<()> {
    b.navigate(&app.url("/login")).await?;
    b.fill("#email", "mo@example.com").await?;
    b.fill("#password", PASSWORD).await?;
    b.click_on("#sign-in").await?;
    b.wait_path(app, "/account").await?;

    b.click_on("#nav-console").await?;
    b.wait_path(app, "/admin").await?;
    let waiting = b.wait_text("#waiting-review").await?;
    anyhow::ensure!(
        waiting.starts_with('1'),
        "the console home reads {waiting:?}"
    );
    b.click_on("#waiting-review").await?;
    b.wait_path(app, "/admin/queue").await?;
    let review = "/admin/modules/economy/versions/1.0.0";
    b.click_on(&format!(r#"a[href="{review}"]"#)).await?;
    b.wait_path(app, review).await?;
    let status = b.wait_text("#version-status").await?;
    anyhow::ensure!(
        status == "pending_review",
        "the review page says {status:?}"
    );

    b.click_on("#approve").await?;
    b.wait_text_containing(".flash", "economy 1.0.0 is approved and published")
        .await
        .context("after approving")?;
    b.wait_text_containing("#version-status", "published")
        .await?;
    anyhow::ensure!(
        b.find("#approve-form").await.is_err(),
        "a published version offers no approval"
    );
    Ok(())
}

/// What a publisher does: sign up, create a publisher and a module in the portal, upload a
/// package from a file on disk, describe the module, and find the version on its public page.
async fn publishing_journey(app: &TestApp, b: &Browser, scratch: &Path) -> anyhow::Result<()> {
    sign_up(app, b, "publisher@example.com", "Ada Publisher").await?;

    b.click_on("#nav-portal").await?;
    b.wait_path(app, "/portal").await?;
    b.fill("#publisher-slug", "acme").await?;
    b.fill("#publisher-display-name", "Acme Games").await?;
    b.click_on("#create-publisher").await?;
    b.wait_path(app, "/portal/publishers/acme")
        .await
        .context("after creating the publisher")?;
    b.wait_text_containing(".flash", "Publisher acme created")
        .await?;

    b.fill("#module-name-input", "economy").await?;
    b.fill("#module-display-name", "Economy").await?;
    b.fill("#module-summary", "Coins, shops and banks for your server")
        .await?;
    b.click_on("#create-module").await?;
    b.wait_path(app, "/portal/modules/economy")
        .await
        .context("after creating the module")?;
    b.wait_text_containing(".flash", "Module economy created")
        .await?;

    // The file input takes the path of a file on this machine, as a person picking it would.
    let package = scratch.join("economy-1.0.0.tar.gz");
    std::fs::write(
        &package,
        crate::packages::package("economy", "1.0.0", "acme", &[]),
    )?;
    let input = b.wait_for("#package-file").await?;
    b.send_keys(&input, &package.display().to_string()).await?;
    b.click_on("#upload-version").await?;
    b.wait_text_containing(".flash", "Uploaded economy 1.0.0")
        .await
        .context("after uploading the package")?;
    // The checks run in the background: reload until the version is published.
    b.wait_until("economy 1.0.0 to be published", || async {
        b.navigate(&app.url("/portal/modules/economy")).await?;
        b.find(r#"#portal-versions [data-status="published"]"#)
            .await
            .map(Some)
    })
    .await?;

    b.fill(
        "#edit-description",
        "## Features\n\n- Wallets for every player\n- Shops with stock\n- Interest on savings",
    )
    .await?;
    b.click_on(r#"#edit-category option[value="shops"]"#)
        .await?;
    b.fill("#edit-tags", "money, trade").await?;
    b.click_on("#save-module").await?;
    b.wait_text_containing(".flash", "Module saved.").await?;

    b.click_on("#view-public").await?;
    b.wait_path(app, "/modules/economy").await?;
    let versions = b.wait_text("#versions").await?;
    anyhow::ensure!(
        versions.contains("1.0.0"),
        "the module page's versions table reads:\n{versions}"
    );
    let install = b.wait_text("#install-command").await?;
    anyhow::ensure!(
        install == "souk download economy@1.0.0",
        "the install command reads {install:?}"
    );
    let description = b.wait_text("#description").await?;
    anyhow::ensure!(
        description.contains("Interest on savings"),
        "the description reads:\n{description}"
    );

    // With SOUK_TEST_SCREENSHOTS=DIR, leave pictures of the pages at desktop and phone widths.
    if let Some(dir) = std::env::var_os("SOUK_TEST_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        for (page, path) in [
            ("module", "/modules/economy"),
            ("portal", "/portal/modules/economy"),
            ("portal-publisher", "/portal/publishers/acme"),
            ("browse", "/modules"),
        ] {
            for width in [1280, 390] {
                b.set_window_size(width, 2200).await?;
                b.navigate(&app.url(path)).await?;
                b.wait_for("footer").await?;
                b.screenshot(&dir.join(format!("{page}-{width}.png")))
                    .await?;
            }
        }
    }
    Ok(())
}
