//! What every handler can reach: the store, the configuration, the server's keys and metrics,
//! the services and the search index.

use crate::blob::BlobStore;
use crate::bus::Bus;
use crate::bus::relay::Relay;
use crate::config::Config;
use crate::jobs::{JobRunner, JobWaker};
use crate::metrics::Metrics;
use crate::search::SearchIndex;
use crate::services::accounts::Accounts;
use crate::services::audit::AuditLog;
use crate::services::catalog::Catalog;
use crate::services::counters::{DailyCounter, Tally};
use crate::services::discovery::Discovery;
use crate::services::moderation::{CheckJobs, Moderation};
use crate::services::views::ViewCounter;
use secrecy::ExposeSecret;
use souk_store::DynStore;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: DynStore,
    pub config: Config,
    pub keys: ServerKeys,
    pub metrics: Metrics,
    pub accounts: Accounts,
    pub catalog: Catalog,
    pub downloads: DailyCounter,
    pub views: ViewCounter,
    pub search: Arc<SearchIndex>,
    pub discovery: Discovery,
    pub moderation: Moderation,
    pub audit: AuditLog,
    /// Runs every kind of background job (see [`crate::jobs`]).
    pub jobs: JobRunner,
    /// Carries outbox events between nodes (see [`crate::bus`]).
    pub bus: Bus,
    /// Publishes the outbox on the bus.
    pub relay: Relay,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state and opens the search index in the data directory (rebuilding it from the
    /// database when it is missing or stale).
    pub async fn new(
        store: DynStore,
        config: Config,
        keys: ServerKeys,
        blobs: BlobStore,
    ) -> anyhow::Result<Self> {
        let accounts = Accounts::new(store.clone(), config.auth.clone());
        let signing = Arc::new(crate::signing::RegistryKeys::load_or_create(
            &config.signing_keys_dir(),
        )?);
        // Every node publishes the public half of its keys, so each node's `/api/v1/keys` lists
        // the keys of all.
        for k in signing.all() {
            store
                .publish_signing_key(&souk_store::PublishedKey {
                    id: k.key.id().to_hex(),
                    public_key: k.key.public_key().to_minisign_line(),
                    created_at: k.created_at,
                    valid_from: k.valid_from,
                    valid_until: k.valid_until,
                })
                .await
                .map_err(|e| anyhow::anyhow!("cannot publish the registry's signing key: {e}"))?;
        }
        let waker = JobWaker::default();
        let moderation = Moderation::new(
            store.clone(),
            blobs.clone(),
            signing.clone(),
            crate::checks::Checker::from_config(&config),
            config.moderation.clone(),
            waker.clone(),
        );
        let jobs = JobRunner::new(
            store.clone(),
            vec![Arc::new(CheckJobs(moderation.clone()))],
            waker,
            config.jobs.lease_secs,
            std::time::Duration::from_millis(config.moderation.poll_interval_ms),
        );
        let catalog = Catalog::new(store.clone(), blobs, signing);
        let downloads = DailyCounter::new(store.clone(), Tally::Downloads);
        let views = ViewCounter::new(store.clone());
        let search =
            SearchIndex::open(&crate::search::index_dir(&config.data_dir), store.clone()).await?;
        let bus = Bus::connect(config.nats.url.expose_secret()).await?;
        let relay = Relay::new(store.clone(), bus.clone());
        Ok(Self(Arc::new(Inner {
            store: store.clone(),
            config,
            keys,
            metrics: Metrics::new(),
            accounts,
            catalog,
            downloads,
            views,
            discovery: Discovery::new(store.clone(), search.clone()),
            search,
            moderation,
            audit: AuditLog::new(store.clone()),
            jobs,
            bus,
            relay,
        })))
    }
}

/// The server's MAC key (CSRF tokens and anything else signed server-side). Taken from
/// `secret_key` when configured, else from `DATA_DIR/secret.key`, created at first start with mode
/// 0600. Several nodes must share it: set `SOUK_SECRET_KEY` on each.
#[derive(Clone)]
pub struct ServerKeys {
    mac_key: [u8; 32],
}

impl ServerKeys {
    pub fn from_secret(secret: &str) -> Self {
        use sha2::Digest;
        Self {
            mac_key: sha2::Sha256::digest(secret.as_bytes()).into(),
        }
    }

    pub fn load_or_create(config: &Config) -> anyhow::Result<Self> {
        use anyhow::Context;
        if !config.secret_key.expose_secret().is_empty() {
            return Ok(Self::from_secret(config.secret_key.expose_secret()));
        }
        let path = config.data_dir.join("secret.key");
        match std::fs::read_to_string(&path) {
            Ok(s) if s.trim().len() >= 32 => Ok(Self::from_secret(s.trim())),
            Ok(_) => anyhow::bail!(
                "{} is too short: delete it to make a new one",
                path.display()
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = souk_core::secret::random_hex32();
                crate::files::write_private(&path, &secret)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                Ok(Self::from_secret(&secret))
            }
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// HMAC-SHA256 of `data` under the server key, as hex.
    pub fn mac_hex(&self, purpose: &str, data: &[u8]) -> String {
        use hmac::{KeyInit, Mac};
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.mac_key).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}
