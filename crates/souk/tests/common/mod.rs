//! What the end-to-end tests share: the `souk` binary with a clean environment, a free port, and
//! a running `souk serve`.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery";

/// `souk` with a clean environment: no `SOUK_*` variable leaks in from the test runner, and the
/// review policy `none`.
pub fn souk(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_souk"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // A server started this way publishes what passes the checks at once; tests of review
        // set the policy again.
        .env("SOUK_REVIEW_POLICY", "none");
    cmd
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `souk serve`, killed if the test fails before stopping it. Its log goes to a file
/// (a pipe nobody reads would fill and stall the server), shown if it stops before answering.
pub struct Server {
    pub child: Child,
    pub base: String,
    log: tempfile::NamedTempFile,
}

impl Server {
    pub async fn start(mut cmd: Command, addr: &str) -> Server {
        souk_server::install_crypto_provider();
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().unwrap()))
            .spawn()
            .expect("souk starts");
        let server = Server {
            child,
            base: format!("http://{addr}"),
            log,
        };
        let mut server = server;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
                && r.status() == 200
            {
                return server;
            }
            // A server that stopped will never answer: say why at once.
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "souk serve on {addr} stopped ({status}) before answering:\n{}",
                    server.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("souk serve did not answer /healthz on {addr} within 30 s");
    }
}

impl Server {
    /// What the server has logged (standard error) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
