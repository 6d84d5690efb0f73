//! Services hold the rules. Handlers (API and web alike) extract input, call a service and render
//! what it answers; services know nothing of HTTP beyond returning [`crate::error::AppError`].

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod counters;
pub mod discovery;
pub mod idempotency;
pub mod moderation;
pub mod publish;
pub mod publisher_keys;
pub mod publisher_signing;
pub mod views;
