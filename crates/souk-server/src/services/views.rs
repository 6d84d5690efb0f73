//! Module page views, counted once per visitor per module per day, for trending and publishers'
//! analytics.
//!
//! Privacy: a visitor is told apart by a hash of (salt, module, address, user agent) kept in
//! memory only; the salt is random, never stored, and replaced every day (and at every restart),
//! so yesterday's hashes cannot be linked to today's and nothing identifying reaches the
//! database, which only ever sees a count per module per day. Known crawlers and requests with no
//! user agent are not counted. With several nodes a visitor whose requests reach two nodes may be
//! counted on each: an accepted, small overcount.

use super::counters::{DailyCounter, Tally};
use crate::services::accounts::ClientInfo;
use sha2::{Digest, Sha256};
use souk_core::Timestamp;
use souk_store::DynStore;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Past this many distinct visitors in a day the set stops growing and views are counted without
/// de-duplication, so that a flood cannot exhaust memory.
const MAX_VISITORS: usize = 1_000_000;

/// Substrings of the user agents of crawlers, previewers and monitors (lowercase).
const BOTS: &[&str] = &[
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "bingpreview",
    "mediapartners",
    "headlesschrome",
    "lighthouse",
    "pingdom",
    "uptime",
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "scrapy",
    "feedfetcher",
    "ahrefs",
    "semrush",
    "yandex",
    "baiduspider",
    "petalbot",
    "embedly",
    "quora link preview",
    "whatsapp",
    "skypeuripreview",
    "preview",
];

pub fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.trim().to_ascii_lowercase();
    ua.is_empty() || BOTS.iter().any(|b| ua.contains(b))
}

struct Visitors {
    day: i64,
    salt: [u8; 32],
    seen: HashSet<[u8; 16]>,
}

#[derive(Clone)]
pub struct ViewCounter {
    counter: DailyCounter,
    visitors: Arc<Mutex<Visitors>>,
}

impl ViewCounter {
    pub fn new(store: DynStore) -> Self {
        Self {
            counter: DailyCounter::new(store, Tally::Views),
            visitors: Arc::new(Mutex::new(Visitors {
                day: -1,
                salt: [0; 32],
                seen: HashSet::new(),
            })),
        }
    }

    /// Counts a view of the module's page unless this visitor was counted for it today or is a
    /// known bot. Answers whether it counted.
    pub fn record(&self, module_id: i64, client: &ClientInfo) -> bool {
        if is_bot(&client.user_agent) {
            return false;
        }
        let day = Timestamp::now().day();
        let mut v = self.visitors.lock().unwrap_or_else(|p| p.into_inner());
        if v.day != day {
            v.day = day;
            v.salt = souk_core::secret::random_bytes::<32>();
            v.seen.clear();
        }
        let mut h = Sha256::new();
        h.update(v.salt);
        h.update(module_id.to_le_bytes());
        h.update(client.ip.as_bytes());
        h.update([0]);
        h.update(client.user_agent.as_bytes());
        let digest = h.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        let new = if v.seen.len() >= MAX_VISITORS {
            !v.seen.contains(&key)
        } else {
            v.seen.insert(key)
        };
        drop(v);
        if new {
            self.counter.record(module_id);
        }
        new
    }

    pub async fn flush(&self) {
        self.counter.flush().await;
    }

    pub async fn run(self, every: Duration) {
        self.counter.run(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_bots_are_recognised() {
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
            "facebookexternalhit/1.1",
            "curl/8.5.0",
            "",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0",
        ] {
            assert!(is_bot(ua), "{ua}");
        }
        assert!(!is_bot(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
        ));
    }
}
