//! The publishers' side of moderation: rescans and appeals of their versions, verification
//! requests, and the notices they read in their portal; and the moderators' and administrators'
//! decisions about publishers (verify, suspend).

use super::*;

impl Moderation {
    /// Runs the checks again (after a scanner was fixed, or with a new rule set). Members of the
    /// publisher and staff may ask; a published or quarantined version is not rescanned.
    pub async fn rescan(
        &self,
        actor: &Actor<'_>,
        module: &Module,
        version: &str,
    ) -> AppResult<Version> {
        let v = self.0.store.version(module.id, version.trim()).await?;
        // A rejection is a moderator's decision: only staff may send the version through the
        // checks again (a publisher appeals instead), or a rescan would undo it.
        let from: &[VersionStatus] = if crate::policy::is_staff(actor.user) {
            &[
                VersionStatus::PendingChecks,
                VersionStatus::PendingReview,
                VersionStatus::Rejected,
            ]
        } else {
            &[VersionStatus::PendingChecks, VersionStatus::PendingReview]
        };
        if !from.contains(&v.status) {
            return Err(not_in(&v, "a rescan", from));
        }
        let change = StatusChange {
            from,
            to: VersionStatus::PendingChecks,
            reason: Some("a rescan was asked for"),
            by: Some(actor.user.id),
            at: Timestamp::now(),
            signature: None,
            clear_appeal: false,
        };
        let entry = Self::status_entry(actor, "version.rescan", module, &v, &change);
        let done = self
            .change(&*self.0.store, &v, change, "a rescan", &entry)
            .await?;
        self.wake();
        Ok(done)
    }

    /// A publisher's appeal: a rejected version goes back to the review queue with the message;
    /// on a quarantined version the appeal waits for a moderator in the quarantine list.
    pub async fn appeal(
        &self,
        actor: &Actor<'_>,
        module: &Module,
        version: &str,
        message: &str,
    ) -> AppResult<Version> {
        let message = reason_text(message).map_err(|_| {
            AppError::unprocessable(
                "invalid_message",
                "message",
                "say why the decision should change (1 to 2000 characters)",
            )
        })?;
        let v = self.0.store.version(module.id, version.trim()).await?;
        let now = Timestamp::now();
        match v.status {
            VersionStatus::Rejected => {
                let tx = self.0.store.begin().await?;
                tx.set_appeal(v.id, Some((&message, now))).await?;
                let change = StatusChange {
                    from: &[VersionStatus::Rejected],
                    to: VersionStatus::PendingReview,
                    reason: Some("the publisher appealed the rejection"),
                    by: None,
                    at: now,
                    signature: None,
                    clear_appeal: false,
                };
                let mut entry = Self::status_entry(actor, "version.appeal", module, &v, &change);
                if let Some(after) = entry.after.as_mut().and_then(|a| a.as_object_mut()) {
                    after.insert("appeal".into(), message.clone().into());
                }
                let appealed = self.change(&*tx, &v, change, "an appeal", &entry).await?;
                tx.commit().await?;
                Ok(appealed)
            }
            VersionStatus::Quarantined => {
                let tx = self.0.store.begin().await?;
                tx.set_appeal(v.id, Some((&message, now))).await?;
                let target = version_label(&module.name, &v.version);
                tx.append_audit(&NewAuditEntry {
                    before: Some(json!({ "status": v.status.as_str(), "appeal": v.appeal })),
                    after: Some(json!({ "status": v.status.as_str(), "appeal": message })),
                    ..actor.entry("version.appeal", "version", target)
                })
                .await?;
                tx.commit().await?;
                Ok(self.0.store.version(module.id, &v.version).await?)
            }
            _ => Err(not_in(
                &v,
                "an appeal",
                &[VersionStatus::Rejected, VersionStatus::Quarantined],
            )),
        }
    }

    /// A publisher asks to be verified.
    pub async fn request_verification(
        &self,
        actor: &Actor<'_>,
        publisher: &Publisher,
        note: &str,
    ) -> AppResult<()> {
        if publisher.verified_at.is_some() {
            return Err(AppError::conflict_with(
                "verified",
                format!("{} is already verified", publisher.slug),
            ));
        }
        let note = reason_text(note).map_err(|_| {
            AppError::unprocessable(
                "invalid_note",
                "note",
                "tell the moderators who you are and how to check it (1 to 2000 characters)",
            )
        })?;
        let tx = self.0.store.begin().await?;
        tx.set_verification_request(publisher.id, Some((&note, Timestamp::now())))
            .await?;
        tx.append_audit(&NewAuditEntry {
            before: Some(json!({ "verification_note": publisher.verification_note })),
            after: Some(json!({ "verification_note": note })),
            ..actor.entry(
                "publisher.verification_request",
                "publisher",
                publisher.slug.as_str(),
            )
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An admin grants (`true`) or withdraws verification.
    pub async fn set_verified(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        verified: bool,
    ) -> AppResult<Publisher> {
        crate::policy::require_admin(actor.user, "may do this")?;
        let publisher = self.publisher(slug).await?;
        let (kind, subject, body) = if verified {
            (
                "verified",
                format!("{} is verified", publisher.slug),
                "The verified badge now shows beside your name across the marketplace.".to_owned(),
            )
        } else {
            (
                "unverified",
                format!("{} is no longer verified", publisher.slug),
                "An admin withdrew the verified badge. Contact the moderators to learn why."
                    .to_owned(),
            )
        };
        let action = if verified {
            "publisher.verify"
        } else {
            "publisher.unverify"
        };
        let tx = self.0.store.begin().await?;
        tx.set_verified(publisher.id, verified.then(Timestamp::now))
            .await?;
        Self::tell_publisher(&*tx, &publisher, kind, subject, body).await?;
        tx.append_audit(&NewAuditEntry {
            before: Some(json!({ "verified": publisher.verified_at.is_some() })),
            after: Some(json!({ "verified": verified })),
            ..actor.entry(action, "publisher", publisher.slug.as_str())
        })
        .await?;
        tx.commit().await?;
        self.publisher(slug).await
    }

    /// An admin suspends a publisher (with a reason) or lifts the suspension.
    pub async fn set_suspended(
        &self,
        actor: &Actor<'_>,
        slug: &str,
        reason: Option<&str>,
    ) -> AppResult<Publisher> {
        crate::policy::require_admin(actor.user, "may do this")?;
        let publisher = self.publisher(slug).await?;
        let before = json!({
            "suspended": publisher.suspended_at.is_some(),
            "reason": publisher.suspension_reason,
        });
        let (action, after) = match reason {
            Some(r) => (
                "publisher.suspend",
                json!({ "suspended": true, "reason": reason_text(r)? }),
            ),
            None => (
                "publisher.unsuspend",
                json!({ "suspended": false, "reason": null }),
            ),
        };
        let tx = self.0.store.begin().await?;
        match reason {
            Some(reason) => {
                let reason = reason_text(reason)?;
                tx.set_suspended(publisher.id, Some((&reason, Timestamp::now())))
                    .await?;
                Self::tell_publisher(
                    &*tx,
                    &publisher,
                    "suspended",
                    format!("{} is suspended", publisher.slug),
                    format!(
                        "An admin suspended this publisher: {reason}\n\nIts modules are hidden \
                         and publishing is refused until the suspension is lifted."
                    ),
                )
                .await?;
            }
            None => {
                tx.set_suspended(publisher.id, None).await?;
                Self::tell_publisher(
                    &*tx,
                    &publisher,
                    "reinstated",
                    format!("{} is reinstated", publisher.slug),
                    "The suspension is lifted: your modules are listed again and you can publish."
                        .into(),
                )
                .await?;
            }
        }
        tx.append_audit(&NewAuditEntry {
            before: Some(before),
            after: Some(after),
            ..actor.entry(action, "publisher", publisher.slug.as_str())
        })
        .await?;
        tx.commit().await?;
        self.publisher(slug).await
    }

    /// Publishers for the console (staff).
    pub async fn publishers(
        &self,
        user: &User,
        filter: souk_store::PublisherFilter,
        after: Option<&str>,
        limit: u32,
    ) -> AppResult<Vec<Publisher>> {
        crate::policy::require_staff(user)?;
        Ok(self.0.store.list_publishers(filter, after, limit).await?)
    }

    /// A page of the publisher's notices, newest first, and how many are unread. The caller has
    /// checked membership.
    pub async fn messages(
        &self,
        publisher: &Publisher,
        before: Option<i64>,
        limit: u32,
    ) -> AppResult<(Vec<souk_store::PublisherMessage>, i64)> {
        let items = self
            .0
            .store
            .publisher_messages(publisher.id, before, limit)
            .await?;
        let unread = self.0.store.unread_publisher_messages(publisher.id).await?;
        Ok((items, unread))
    }

    pub async fn mark_read(&self, publisher: &Publisher, up_to: i64) -> AppResult<()> {
        Ok(self
            .0
            .store
            .mark_publisher_messages_read(publisher.id, up_to, Timestamp::now())
            .await?)
    }

    async fn publisher(&self, slug: &str) -> AppResult<Publisher> {
        match self.0.store.publisher_by_slug(slug).await {
            Ok(p) => Ok(p),
            Err(StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }
}
