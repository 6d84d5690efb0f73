//! Talking to a marketplace's API: URLs, the token, and refusals turned into one line.

use super::config::{self, RegistryArgs, Settings};
use anyhow::{Context, anyhow, bail};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A marketplace, reached with the settings of [`config`].
pub struct Registry {
    pub base: Url,
    token: Option<String>,
    http: reqwest::Client,
}

impl Registry {
    /// The registry the flags, environment and stored login point at.
    pub fn from_args(args: &RegistryArgs) -> anyhow::Result<Registry> {
        Registry::new(config::settings(args)?)
    }

    pub fn new(settings: Settings) -> anyhow::Result<Registry> {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        let http = reqwest::Client::builder()
            .user_agent(concat!("souk/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(15))
            // Between two reads, not for the whole transfer: packages may be large and links slow.
            .read_timeout(Duration::from_secs(120))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Registry {
            base: settings.registry,
            token: settings.token,
            http,
        })
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The token, for commands that cannot work without one; fails before any upload starts.
    pub fn require_token(&self) -> anyhow::Result<&str> {
        self.token().ok_or_else(|| {
            anyhow!(
                "not logged in to {}: run `souk login`, or pass --token TOKEN (or SOUK_TOKEN)",
                self.display()
            )
        })
    }

    /// The registry as people write it, without the trailing `/`.
    pub fn display(&self) -> String {
        self.base.as_str().trim_end_matches('/').to_owned()
    }

    /// The URL of `/api/v1/` followed by `segments`, each escaped as one path segment: a name
    /// typed by a person can never reach another route.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url
    }

    /// A request to the API, carrying the token when there is one.
    pub fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.request_to(method, self.url(segments))
    }

    /// A request to `url` (made with [`Registry::url`], then given a query string), carrying
    /// the token when there is one.
    pub fn request_to(&self, method: Method, url: Url) -> RequestBuilder {
        let request = self.http.request(method, url);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends `request`, whatever the answer's status.
    pub async fn send_raw(&self, request: RequestBuilder) -> anyhow::Result<Response> {
        request
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach {}: {}", self.display(), cause(&e)))
    }

    /// Sends `request`; a refusal becomes an error line about `what` (`module economy`).
    pub async fn send(&self, request: RequestBuilder, what: &str) -> anyhow::Result<Response> {
        let response = self.send_raw(request).await?;
        refused(response, what).await
    }

    /// Sends `request` and reads the JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        what: &str,
    ) -> anyhow::Result<T> {
        let response = self.send(request, what).await?;
        read_json(response).await
    }
}

/// `response` when it is a success, else its error line.
pub async fn refused(response: Response, what: &str) -> anyhow::Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    bail!("{}", error_line(status, &body, what))
}

/// Reads a JSON answer, saying so when it is not what a marketplace answers.
pub async fn read_json<T: DeserializeOwned>(response: Response) -> anyhow::Result<T> {
    let url = response.url().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| anyhow!("the answer from {url} broke off: {}", cause(&e)))?;
    serde_json::from_slice(&body)
        .map_err(|e| anyhow!("unexpected answer from {url} (is this a Souk marketplace?): {e}"))
}

/// The innermost cause of an HTTP failure: reqwest's own message ("error sending request for
/// url") says little, the cause ("Connection refused") is what a person can act on.
pub fn cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".to_owned();
    }
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

/// One line for a refusal: status, the API's error code, its message and the field it is about
/// (`409 conflict: economy 1.0.0 is already published; ... (field: version)`). A body that is not
/// the API's error envelope (a proxy's page, say) gives the status and its first line.
pub fn error_line(status: StatusCode, body: &[u8], what: &str) -> String {
    let envelope: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let error = envelope.as_ref().and_then(|v| v.get("error"));
    let mut line = match error {
        Some(error) => {
            let code = error["code"].as_str().unwrap_or("error");
            let mut message = error["message"].as_str().unwrap_or_default().to_owned();
            if status == StatusCode::NOT_FOUND && !what.is_empty() {
                // The API says only "not found"; say what was not.
                message = format!("{what} not found");
            }
            let mut line = format!("{} {code}: {message}", status.as_u16());
            if let Some(field) = error["details"]["field"].as_str() {
                // Validation messages already begin with the field; do not repeat it.
                let spoken = field.replace('_', " ");
                if !message.starts_with(&format!("{field}:"))
                    && !message.starts_with(&format!("{spoken} "))
                {
                    line.push_str(&format!(" (field: {field})"));
                }
            }
            line
        }
        None => {
            let text = String::from_utf8_lossy(body);
            let first = text.lines().map(str::trim).find(|l| !l.is_empty());
            let mut line = status.to_string();
            if status == StatusCode::NOT_FOUND && !what.is_empty() {
                line.push_str(&format!(": {what} not found"));
            } else if let Some(first) = first {
                line.push_str(": ");
                line.extend(first.chars().take(200));
            }
            line
        }
    };
    if status == StatusCode::UNAUTHORIZED {
        line.push_str("; run `souk login`, or pass --token TOKEN (or SOUK_TOKEN)");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::config::parse_registry;

    fn registry(url: &str) -> Registry {
        // `main` does this for the binary.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Registry::new(Settings {
            registry: parse_registry(url).unwrap(),
            token: None,
        })
        .unwrap()
    }

    #[test]
    fn urls_escape_each_segment_and_keep_a_path_prefix() {
        let r = registry("http://127.0.0.1:8080/");
        assert_eq!(
            r.url(&["modules", "economy", "versions", "1.0.0"]).as_str(),
            "http://127.0.0.1:8080/api/v1/modules/economy/versions/1.0.0"
        );
        assert_eq!(
            r.url(&["modules", "../../admin?x"]).as_str(),
            "http://127.0.0.1:8080/api/v1/modules/..%2F..%2Fadmin%3Fx"
        );
        let r = registry("https://example.com/souk/");
        assert_eq!(
            r.url(&["me"]).as_str(),
            "https://example.com/souk/api/v1/me"
        );
        assert_eq!(r.display(), "https://example.com/souk");
        let e = r.require_token().unwrap_err().to_string();
        assert!(
            e.starts_with("not logged in to https://example.com/souk"),
            "{e}"
        );
    }

    #[test]
    fn refusals_are_one_line_with_code_message_and_field() {
        let conflict = br#"{"error":{"code":"conflict","message":"economy 1.0.0 is already published; versions are immutable, publish a new one","details":{"field":"version"}}}"#;
        assert_eq!(
            error_line(StatusCode::CONFLICT, conflict, "economy 1.0.0"),
            "409 conflict: economy 1.0.0 is already published; versions are immutable, \
             publish a new one (field: version)"
        );
        let unprocessable = br#"{"error":{"code":"name_mismatch","message":"module.name: the manifest names `a`","details":{"field":"module.name"}}}"#;
        assert_eq!(
            error_line(StatusCode::UNPROCESSABLE_ENTITY, unprocessable, ""),
            "422 name_mismatch: module.name: the manifest names `a`"
        );
        let validation = br#"{"error":{"code":"invalid_reason","message":"yank reason must not be empty","details":{"field":"yank_reason"}}}"#;
        assert_eq!(
            error_line(StatusCode::UNPROCESSABLE_ENTITY, validation, ""),
            "422 invalid_reason: yank reason must not be empty"
        );
        let missing = br#"{"error":{"code":"not_found","message":"not found"}}"#;
        assert_eq!(
            error_line(StatusCode::NOT_FOUND, missing, "module nope"),
            "404 not_found: module nope not found"
        );
        let unauthorized =
            br#"{"error":{"code":"unauthorized","message":"authentication required"}}"#;
        assert_eq!(
            error_line(StatusCode::UNAUTHORIZED, unauthorized, ""),
            "401 unauthorized: authentication required; run `souk login`, or pass --token TOKEN \
             (or SOUK_TOKEN)"
        );
        assert_eq!(
            error_line(
                StatusCode::BAD_GATEWAY,
                b"\n<html>Bad gateway</html>\nmore",
                ""
            ),
            "502 Bad Gateway: <html>Bad gateway</html>"
        );
        assert_eq!(
            error_line(StatusCode::NOT_FOUND, b"", "module nope"),
            "404 Not Found: module nope not found"
        );
    }
}
