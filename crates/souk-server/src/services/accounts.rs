//! Accounts: registration, sign-in with throttling, sessions, personal API tokens, password
//! changes, and resolving a presented bearer secret to the user and what it may do.

use super::audit::{Actor, system_entry};
use crate::config::AuthConfig;
use serde_json::json;
use souk_core::token::{display_prefix, hash_token};
use souk_core::{Email, Password, PasswordHash, Role, Scope, Scopes, Timestamp, TokenKind};
use souk_store::{
    ApiToken, AuditActor, DynStore, NewApiToken, NewAuditEntry, NewSession, NewUser, Session,
    StoreError, User,
};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What can go wrong in accounts, in the service's own words. The API and the web pages turn it
/// into their answers in one place (`From<AccountError> for AppError` in `error.rs`).
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A missing, malformed, unknown, expired or revoked credential, or a wrong password: all
    /// answered the same way, so that a caller learns nothing about which accounts exist.
    #[error("authentication required")]
    Unauthenticated,
    /// Signed in, but this credential may not do this (a scope it lacks, a token where a
    /// password session is needed).
    #[error("{0}")]
    NotAllowed(String),
    #[error("registration is closed on this marketplace")]
    RegistrationClosed,
    /// Too many failed sign-ins for the account or the client address within the window.
    #[error("too many attempts; try again later")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Invalid(#[from] souk_core::ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AccountResult<T> = Result<T, AccountError>;

#[derive(Clone)]
pub struct Accounts {
    store: DynStore,
    config: AuthConfig,
    /// argon2 takes tens of milliseconds of CPU and 19 MiB per hash: it runs on the blocking pool
    /// (never on the async workers, which would stall every other request) and at most one per
    /// core at a time, so a flood of sign-ins queues instead of exhausting memory.
    hashing: Arc<Semaphore>,
}

/// Who is calling and with what credential.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub scopes: Scopes,
    pub credential: Credential,
    /// The client address the request came from (see [`crate::extract::Client`]).
    pub client_addr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(i64),
    /// A personal token, with the moment it stops working (if it ever does).
    Token {
        id: i64,
        expires_at: Option<Timestamp>,
    },
}

impl Principal {
    /// 403 unless the credential carries `scope`.
    pub fn require_scope(&self, scope: Scope) -> AccountResult<()> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(AccountError::NotAllowed(format!(
                "this token lacks the `{}` scope",
                scope.as_str()
            )))
        }
    }

    /// 403 unless the caller signed in with a password: account settings are not for API tokens,
    /// so a leaked token cannot take over the account.
    pub fn require_session(&self) -> AccountResult<()> {
        match self.credential {
            Credential::Session(_) => Ok(()),
            Credential::Token { .. } => Err(AccountError::NotAllowed(
                "account settings need a signed-in session, not an API token".into(),
            )),
        }
    }

    /// The caller as the audit log records them.
    pub fn actor(&self) -> Actor<'_> {
        Actor::new(&self.user, &self.client_addr)
    }

    pub fn session_id(&self) -> Option<i64> {
        match self.credential {
            Credential::Session(id) => Some(id),
            Credential::Token { .. } => None,
        }
    }

    /// 403 unless the caller may manage a token with `scopes`: a signed-in session may manage
    /// any of the user's tokens; a personal token only those whose every scope it holds itself,
    /// so a narrow token can neither mint nor revoke a wider one.
    pub fn require_scopes_of(&self, scopes: &Scopes) -> AccountResult<()> {
        scopes
            .iter()
            .try_for_each(|scope| self.require_scope(scope))
    }
}

/// Where a sign-in comes from, for throttling and the session list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

const MAX_TOKEN_NAME: usize = 100;
const MAX_DISPLAY_NAME: usize = 100;
const MAX_TOKEN_DAYS: u32 = 3650;

impl Accounts {
    pub fn new(store: DynStore, config: AuthConfig) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            store,
            config,
            hashing: Arc::new(Semaphore::new(cores)),
        }
    }

    /// Runs password work off the async workers, a bounded number at a time.
    async fn hash_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AccountResult<T> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| AccountError::Internal(e.into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AccountError::Internal(e.into()))
    }

    pub fn registration_open(&self) -> bool {
        self.config.allow_registration
    }

    /// Creates a user with `role` on the operator's behalf (`souk admin create-user`): recorded
    /// in the audit log as `user.create` by `system`. Validates everything before anything is
    /// stored.
    pub async fn create_user(
        &self,
        email: &str,
        password: &str,
        display_name: Option<&str>,
        role: Role,
    ) -> AccountResult<User> {
        let new = new_user(email, password, display_name, role)?;
        let tx = self.store.begin().await?;
        let user = tx.create_user(&new, Timestamp::now()).await?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({
                "id": user.id,
                "email": user.email.as_str(),
                "role": user.role.as_str(),
                "display_name": user.display_name,
            })),
            ..system_entry("user.create", "user", user.email.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Public sign-up: always the `user` role, refused when registration is closed. Recorded as
    /// `user.register` by the new user, from `client_addr`.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        display_name: Option<&str>,
        client_addr: &str,
    ) -> AccountResult<User> {
        if !self.config.allow_registration {
            return Err(AccountError::RegistrationClosed);
        }
        let new = new_user(email, password, display_name, Role::User)?;
        let tx = self.store.begin().await?;
        let user = tx.create_user(&new, Timestamp::now()).await?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({ "id": user.id, "role": user.role.as_str() })),
            ..Actor::new(&user, client_addr).entry("user.register", "user", user.email.as_str())
        })
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Checks an email and password. A wrong password and an unknown address answer the same
    /// error after the same argon2 work; after too many failures per account or per client
    /// address within the window, answers 429 with the time until the oldest failure expires.
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
        client: &ClientInfo,
    ) -> AccountResult<User> {
        let now = Timestamp::now();
        let window_start = now.plus_secs(-self.config.login_window_secs);
        let email_key = format!("email:{}", email.trim().to_ascii_lowercase());
        let ip_key = format!("ip:{}", client.ip);
        for (key, limit) in [
            (&email_key, self.config.login_max_failures_per_account),
            (&ip_key, self.config.login_max_failures_per_ip),
        ] {
            let (count, oldest) = self.store.login_failures_since(key, window_start).await?;
            if count >= limit {
                let until = oldest
                    .unwrap_or(now)
                    .plus_secs(self.config.login_window_secs);
                let secs = (until.millis() - now.millis()).max(1000) / 1000;
                return Err(AccountError::Throttled {
                    retry_after_secs: secs as u64,
                });
            }
        }
        let user = match Email::parse(email) {
            Ok(e) => match self.store.user_by_email(&e).await {
                Ok(u) => Some(u),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        let candidate = password.to_owned();
        let stored = user.as_ref().map(|u| u.password_hash.clone());
        let ok = self
            .hash_work(move || match stored {
                Some(hash) => hash.verify(&candidate),
                None => {
                    PasswordHash::verify_dummy(&candidate);
                    false
                }
            })
            .await?;
        match (ok, user) {
            (true, Some(user)) => {
                let tx = self.store.begin().await?;
                tx.clear_login_failures(&email_key).await?;
                tx.append_audit(&Actor::new(&user, &client.ip).entry(
                    "user.login",
                    "user",
                    user.email.as_str(),
                ))
                .await?;
                tx.commit().await?;
                Ok(user)
            }
            (_, user) => {
                // The address as typed (bounded): an unknown one is worth seeing too.
                let typed: String = email.trim().to_lowercase().chars().take(254).collect();
                let tx = self.store.begin().await?;
                tx.record_login_failure(&email_key, now).await?;
                tx.record_login_failure(&ip_key, now).await?;
                tx.append_audit(&NewAuditEntry {
                    actor: AuditActor::Anonymous,
                    client_addr: Some(client.ip.clone()),
                    after: Some(json!({ "known_account": user.is_some() })),
                    ..system_entry("user.login_failed", "user", typed)
                })
                .await?;
                tx.commit().await?;
                Err(AccountError::Unauthenticated)
            }
        }
    }

    /// Starts a session; answers its secret (shown once) and the row.
    pub async fn start_session(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> AccountResult<(String, Session)> {
        let secret = TokenKind::Session.generate();
        let now = Timestamp::now();
        let ttl_secs = i64::try_from(self.config.session_ttl_hours.saturating_mul(3600))
            .unwrap_or(i64::MAX / 2000);
        let new = NewSession {
            user_id: user.id,
            token_hash: hash_token(&secret),
            expires_at: now.plus_secs(ttl_secs),
            user_agent: client.user_agent.chars().take(300).collect(),
            client_ip: client.ip.clone(),
        };
        let session = self.store.create_session(&new, now).await?;
        Ok((secret, session))
    }

    /// Ends one of the principal's sessions: `user.logout` when it is the one this request came
    /// with, `session.end` for another (signed out from the account page).
    pub async fn end_session(&self, principal: &Principal, session_id: i64) -> AccountResult<()> {
        let action = if principal.session_id() == Some(session_id) {
            "user.logout"
        } else {
            "session.end"
        };
        let tx = self.store.begin().await?;
        tx.delete_session(session_id).await?;
        tx.append_audit(
            &principal
                .actor()
                .entry(action, "session", session_id.to_string()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolves a presented secret. Unknown, malformed, expired and revoked all answer the same
    /// 401: a caller learns nothing about which tokens exist.
    pub async fn resolve(&self, secret: &str, client_addr: &str) -> AccountResult<Principal> {
        let now = Timestamp::now();
        match TokenKind::of(secret) {
            Some(TokenKind::Session) => match self
                .store
                .session_by_token_hash(&hash_token(secret), now)
                .await
            {
                Ok((session, user)) => {
                    // Writing last-seen on every request would make each read a write; once a
                    // minute is enough to show activity.
                    if now.millis() - session.last_seen_at.millis() > 60_000 {
                        self.store.touch_session(session.id, now).await?;
                    }
                    Ok(Principal {
                        user,
                        scopes: Scopes::all(),
                        credential: Credential::Session(session.id),
                        client_addr: client_addr.to_owned(),
                    })
                }
                Err(StoreError::NotFound) => Err(AccountError::Unauthenticated),
                Err(e) => Err(e.into()),
            },
            Some(TokenKind::Personal) => {
                match self.store.token_by_hash(&hash_token(secret)).await {
                    Ok((token, user)) if token.is_live(now) => {
                        if token
                            .last_used_at
                            .is_none_or(|t| now.millis() - t.millis() > 60_000)
                        {
                            self.store.touch_token(token.id, now).await?;
                        }
                        Ok(Principal {
                            user,
                            scopes: token.scopes,
                            credential: Credential::Token {
                                id: token.id,
                                expires_at: token.expires_at,
                            },
                            client_addr: client_addr.to_owned(),
                        })
                    }
                    Ok(_) | Err(StoreError::NotFound) => Err(AccountError::Unauthenticated),
                    Err(e) => Err(e.into()),
                }
            }
            _ => Err(AccountError::Unauthenticated),
        }
    }

    /// Creates a personal API token; answers the secret (shown once) and the row. Made with a
    /// personal token, it may carry only scopes that token holds, never outlives it (its expiry
    /// is capped at the parent's), and is revoked with it.
    pub async fn create_token(
        &self,
        principal: &Principal,
        name: &str,
        scopes: &[String],
        expires_in_days: Option<u32>,
    ) -> AccountResult<(String, ApiToken)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME {
            return Err(souk_core::ValidationError::new(
                "name",
                "invalid_name",
                "must be 1 to 100 characters",
            )
            .into());
        }
        let scopes = Scopes::parse_list(scopes)?;
        principal.require_scopes_of(&scopes)?;
        let expires_at = match expires_in_days {
            None => None,
            Some(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => {
                Some(Timestamp::now().plus_secs(i64::from(d) * 86_400))
            }
            Some(_) => {
                return Err(souk_core::ValidationError::new(
                    "expires_in_days",
                    "invalid_expiry",
                    "must be between 1 and 3650 days",
                )
                .into());
            }
        };
        let (parent_id, expires_at) = match principal.credential {
            Credential::Session(_) => (None, expires_at),
            Credential::Token {
                id,
                expires_at: parent_expiry,
            } => (
                Some(id),
                match (expires_at, parent_expiry) {
                    (Some(own), Some(parent)) => Some(own.min(parent)),
                    (own, parent) => own.or(parent),
                },
            ),
        };
        let actor = principal.actor();
        let user = actor.user;
        let secret = TokenKind::Personal.generate();
        let new = NewApiToken {
            user_id: user.id,
            name: name.to_owned(),
            token_hash: hash_token(&secret),
            display_prefix: display_prefix(&secret),
            scopes,
            expires_at,
            parent_id,
        };
        let tx = self.store.begin().await?;
        let token = tx.create_token(&new, Timestamp::now()).await?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({
                "name": token.name,
                "prefix": token.display_prefix,
                "scopes": token.scopes.to_string(),
                "expires_at": token.expires_at.map(Timestamp::to_rfc3339),
            })),
            ..actor.entry("token.create", "token", token.id.to_string())
        })
        .await?;
        tx.commit().await?;
        Ok((secret, token))
    }

    pub async fn list_tokens(
        &self,
        user: &User,
        before_id: Option<i64>,
        limit: u32,
    ) -> AccountResult<Vec<ApiToken>> {
        Ok(self.store.list_tokens(user.id, before_id, limit).await?)
    }

    /// Revokes one of the caller's tokens and every token made with it. A personal token may
    /// always revoke itself, and others only when it holds each of their scopes. Another user's
    /// token answers 404.
    pub async fn revoke_token(&self, principal: &Principal, token_id: i64) -> AccountResult<()> {
        let actor = principal.actor();
        let target = self.store.token(actor.user.id, token_id).await?;
        if !matches!(principal.credential, Credential::Token { id, .. } if id == token_id) {
            principal.require_scopes_of(&target.scopes)?;
        }
        let tx = self.store.begin().await?;
        tx.revoke_token(actor.user.id, token_id, Timestamp::now())
            .await?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({ "revoked": true })),
            ..actor.entry("token.revoke", "token", token_id.to_string())
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_display_name(&self, user: &User, name: &str) -> AccountResult<User> {
        let name = clean_display_name(name)?;
        self.store
            .update_display_name(user.id, &name, Timestamp::now())
            .await?;
        Ok(self.store.user_by_id(user.id).await?)
    }

    /// Changes the password after checking the current one, and ends every other session.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
    ) -> AccountResult<()> {
        principal.require_session()?;
        let (stored, candidate) = (principal.user.password_hash.clone(), current.to_owned());
        if !self.hash_work(move || stored.verify(&candidate)).await? {
            return Err(souk_core::ValidationError::new(
                "current_password",
                "wrong_password",
                "is wrong",
            )
            .into());
        }
        let new = Password::parse(new, Some(&principal.user.email)).map_err(|e| {
            souk_core::ValidationError {
                field: "new_password",
                ..e
            }
        })?;
        let hash = self.hash_work(move || PasswordHash::new(&new)).await?;
        let tx = self.store.begin().await?;
        tx.update_password(
            principal.user.id,
            &hash,
            principal.session_id(),
            Timestamp::now(),
        )
        .await?;
        tx.append_audit(&NewAuditEntry {
            after: Some(json!({ "other_sessions_ended": true })),
            ..principal.actor().entry(
                "user.password_change",
                "user",
                principal.user.email.as_str(),
            )
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn sessions(&self, user: &User) -> AccountResult<Vec<Session>> {
        Ok(self.store.list_sessions(user.id, Timestamp::now()).await?)
    }
}

/// A new account's row, every field validated (and the password hashed) before any unit of
/// work begins.
fn new_user(
    email: &str,
    password: &str,
    display_name: Option<&str>,
    role: Role,
) -> AccountResult<NewUser> {
    let email = Email::parse(email)?;
    let password = Password::parse(password, Some(&email))?;
    let display_name = clean_display_name(display_name.unwrap_or(email.local_part()))?;
    Ok(NewUser {
        email,
        display_name,
        role,
        password_hash: PasswordHash::new(&password),
    })
}

fn clean_display_name(raw: &str) -> AccountResult<String> {
    souk_core::text::display_text(raw, MAX_DISPLAY_NAME).map_err(|e| {
        souk_core::ValidationError::new(
            "display_name",
            "invalid_display_name",
            e.message(MAX_DISPLAY_NAME),
        )
        .into()
    })
}
