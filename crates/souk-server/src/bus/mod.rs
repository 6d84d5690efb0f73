//! The bus: how an event written to the outbox reaches every node (and, later, agents and the
//! senders of mail and webhooks). Two implementations behind one type:
//!
//! - **embedded** (the default, no configuration): an in-process broadcast channel that the
//!   node's own relay feeds. With one node, that is everyone.
//! - **NATS JetStream** when `nats.url` is set: the relay publishes each event to the subject
//!   `souk.events.TOPIC` of the stream `SOUK_EVENTS` (created when missing) with `Nats-Msg-Id`
//!   made of the outbox id and the moment the event was written, so the stream drops a second
//!   copy of an event within its two-minute duplicate window; every node reads the stream with an ordered consumer from the moment it
//!   starts and hands the events to its in-process subscribers.
//!
//! Either way an event may arrive twice (a relay killed between publishing and marking, outside
//! the duplicate window), so every consumer is idempotent. The outbox is the source of truth: while
//! NATS is unreachable writes still commit, their events wait in the outbox, and the relay sends
//! them once the connection is back (the client reconnects by itself).

pub mod relay;

use anyhow::Context;
use futures_util::StreamExt;
use souk_store::OutboxEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// The JetStream stream Souk keeps its events in.
pub const STREAM: &str = "SOUK_EVENTS";
/// Events are published to `souk.events.TOPIC`.
pub const SUBJECT_PREFIX: &str = "souk.events.";
/// How long JetStream remembers message ids to drop duplicates.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How long the stream keeps events: long enough for a node that restarts to have nothing to
/// catch up on (each reads from its start), short enough to stay small.
const MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// An event as consumers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEvent {
    /// The outbox id: the same on every node and on every copy.
    pub id: i64,
    pub topic: String,
    /// JSON.
    pub payload: String,
}

#[derive(Clone)]
pub struct Bus(Arc<Inner>);

struct Inner {
    local: broadcast::Sender<BusEvent>,
    nats: Option<Nats>,
}

struct Nats {
    client: async_nats::Client,
    jetstream: async_nats::jetstream::Context,
    /// Signalled each time the client (re)connects, so that reading the stream starts again at
    /// once instead of waiting for the consumer to notice missed heartbeats (30 s).
    connected: Arc<tokio::sync::Notify>,
}

impl Bus {
    /// The embedded bus.
    pub fn embedded() -> Self {
        Self(Arc::new(Inner {
            local: broadcast::channel(4096).0,
            nats: None,
        }))
    }

    /// NATS when `url` is set, else the embedded bus. The client keeps reconnecting by itself,
    /// from the first attempt on, so a node starts (and answers 503 on `/readyz`) while NATS is
    /// down.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        if url.is_empty() {
            return Ok(Self::embedded());
        }
        let connected = Arc::new(tokio::sync::Notify::new());
        let on_event = connected.clone();
        let client = async_nats::ConnectOptions::new()
            .name("souk")
            .event_callback(move |event| {
                let on_event = on_event.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("bus: connected to NATS");
                            on_event.notify_one();
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!("bus: lost NATS; reconnecting");
                        }
                        _ => {}
                    }
                }
            })
            .retry_on_initial_connect()
            .ping_interval(Duration::from_secs(2))
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(None)
            .connect(url)
            .await
            .with_context(|| {
                format!(
                    "cannot connect to NATS at {}",
                    crate::config::redact_url(url)
                )
            })?;
        let jetstream = async_nats::jetstream::new(client.clone());
        let bus = Self(Arc::new(Inner {
            local: broadcast::channel(4096).0,
            nats: Some(Nats {
                client,
                jetstream,
                connected,
            }),
        }));
        tokio::spawn(bus.clone().consume_forever());
        Ok(bus)
    }

    /// `embedded` or `nats`.
    pub fn kind(&self) -> &'static str {
        if self.0.nats.is_some() {
            "nats"
        } else {
            "embedded"
        }
    }

    /// For `/readyz`: `None` for the embedded bus (nothing to be down), else whether the NATS
    /// connection is up.
    pub fn connected(&self) -> Option<bool> {
        self.0
            .nats
            .as_ref()
            .map(|n| n.client.connection_state() == async_nats::connection::State::Connected)
    }

    /// Events from now on, on this node.
    pub fn subscribe(&self) -> broadcast::Receiver<BusEvent> {
        self.0.local.subscribe()
    }

    /// Publishes one outbox event: to this node's subscribers (embedded), or to JetStream,
    /// waiting for the stream's acknowledgement.
    pub async fn publish(&self, event: &OutboxEvent) -> anyhow::Result<()> {
        let Some(nats) = &self.0.nats else {
            // No subscriber is not an error: nothing on this node follows that topic.
            let _ = self.0.local.send(BusEvent {
                id: event.id,
                topic: event.topic.clone(),
                payload: event.payload.clone(),
            });
            return Ok(());
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            message_id(event.id, event.created_at).as_str(),
        );
        let subject = format!("{SUBJECT_PREFIX}{}", event.topic);
        let publish = async {
            let ack = match nats
                .jetstream
                .publish_with_headers(
                    subject.clone(),
                    headers.clone(),
                    event.payload.clone().into(),
                )
                .await
            {
                Ok(ack) => ack.await,
                Err(e) => Err(e),
            };
            match ack {
                Ok(_) => Ok(()),
                // The stream may not exist yet (first start, or a NATS that lost its state).
                Err(_) => {
                    ensure_stream(&nats.jetstream).await?;
                    nats.jetstream
                        .publish_with_headers(subject, headers, event.payload.clone().into())
                        .await?
                        .await
                        .map(|_| ())
                        .map_err(anyhow::Error::from)
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), publish)
            .await
            .context("NATS did not acknowledge within 5 s")?
    }

    /// Reads the stream for as long as the process runs, handing every event to this node's
    /// subscribers, from the stream's end when the node starts. After a reconnection, or if the
    /// consumer fails (the stream was deleted, NATS lost its state), it is made again from the
    /// event after the last one seen, so nothing published meanwhile is missed.
    async fn consume_forever(self) {
        let Some(nats) = &self.0.nats else { return };
        let mut last_seen: Option<u64> = None;
        loop {
            if let Err(e) = self.consume(nats, &mut last_seen).await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "bus: reading the event stream stopped; starting again"
                );
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn consume(&self, nats: &Nats, last_seen: &mut Option<u64>) -> anyhow::Result<()> {
        use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
        let stream = ensure_stream(&nats.jetstream).await?;
        let stream_last = stream.cached_info().state.last_sequence;
        let after = match *last_seen {
            Some(seen) if seen <= stream_last => seen,
            // The stream is behind what this node saw: NATS lost it and made it anew, so read
            // the new one from its start.
            Some(_) => 0,
            None => stream_last,
        };
        *last_seen = Some(after);
        let deliver_policy = DeliverPolicy::ByStartSequence {
            start_sequence: after + 1,
        };
        let consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: format!("{SUBJECT_PREFIX}>"),
                deliver_policy,
                ..Default::default()
            })
            .await
            .context("cannot create a consumer on the event stream")?;
        let mut messages = consumer
            .messages()
            .await
            .context("cannot read the event stream")?;
        loop {
            let message = tokio::select! {
                message = messages.next() => message,
                () = nats.connected.notified() => return Ok(()),
            };
            let Some(message) = message else {
                return Ok(());
            };
            let message = message.context("reading the event stream")?;
            if let Ok(info) = message.info() {
                *last_seen = Some(info.stream_sequence);
            }
            let id = message
                .headers
                .as_ref()
                .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
                .and_then(|v| outbox_id(v.as_str()));
            let (Some(id), Some(topic)) =
                (id, message.subject.as_str().strip_prefix(SUBJECT_PREFIX))
            else {
                tracing::warn!(subject = %message.subject, "bus: an event without an id or topic; skipped");
                continue;
            };
            let _ = self.0.local.send(BusEvent {
                id,
                topic: topic.to_owned(),
                payload: String::from_utf8_lossy(&message.payload).into_owned(),
            });
        }
    }
}

/// An event's `Nats-Msg-Id`: its outbox id, after the moment it was written. The id alone is
/// the same on every copy of an event; the moment keeps apart the events of two databases that
/// share a NATS server (a staging copy, a restore), whose ids start again from 1.
fn message_id(id: i64, created_at: souk_core::Timestamp) -> String {
    format!("{}-{id}", created_at.millis())
}

/// The outbox id in a `Nats-Msg-Id`.
fn outbox_id(message_id: &str) -> Option<i64> {
    message_id.rsplit('-').next()?.parse().ok()
}

/// The stream, created when missing.
async fn ensure_stream(
    jetstream: &async_nats::jetstream::Context,
) -> anyhow::Result<async_nats::jetstream::stream::Stream> {
    jetstream
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: STREAM.to_owned(),
            subjects: vec![format!("{SUBJECT_PREFIX}>")],
            duplicate_window: DUPLICATE_WINDOW,
            max_age: MAX_AGE,
            ..Default::default()
        })
        .await
        .context("cannot find or create the JetStream stream SOUK_EVENTS")
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_ids_carry_the_outbox_id_and_differ_between_databases() {
        let at = souk_core::Timestamp::from_millis(1_765_000_000_000);
        let later = souk_core::Timestamp::from_millis(1_765_000_000_001);
        assert_eq!(super::message_id(42, at), "1765000000000-42");
        assert_eq!(super::outbox_id(&super::message_id(42, at)), Some(42));
        assert_ne!(super::message_id(1, at), super::message_id(1, later));
        assert_eq!(super::outbox_id("nonsense"), None);
    }
}
