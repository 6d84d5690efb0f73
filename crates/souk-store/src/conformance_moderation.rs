//! Conformance cases for moderation and the job queue. Expanded by
//! [`crate::conformance_tests!`] on both backends.

use crate::conformance::user;
use crate::conformance_catalog::{new_module, new_version, profile};
use crate::{
    NewPublisherMessage, PublishTarget, PublisherFilter, StatusChange, Store, StoreError,
    StoredFinding, VersionStatus,
};
use souk_core::Timestamp;
use souk_core::findings::Severity;

fn finding(rule: &str, severity: Severity, path: &str, line: u32) -> StoredFinding {
    StoredFinding {
        rule: rule.into(),
        severity,
        path: path.into(),
        line,
        column: 3,
        message: format!("{rule} in {path}"),
    }
}

pub(crate) fn change(from: &[VersionStatus], to: VersionStatus, at: Timestamp) -> StatusChange<'_> {
    StatusChange {
        from,
        to,
        reason: None,
        by: None,
        at,
        signature: None,
        clear_appeal: false,
    }
}

pub async fn moderation_states_findings_and_queue(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let p = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let mut upload = new_version("1.0.0", ada.id, &[]);
    upload.status = VersionStatus::PendingChecks;
    upload.registry_signature = None;
    upload.registry_key_id = None;
    let (m, v) = store
        .publish_version(&PublishTarget::New(new_module("shop", p.id)), &upload, now)
        .await
        .unwrap();
    assert_eq!(v.status, VersionStatus::PendingChecks);
    assert_eq!(v.published_at, None);
    assert_eq!(m.latest_version, None, "a pending version is not latest");
    let job = store
        .job_by_key(&crate::moderation::check_job_key(v.id))
        .await
        .unwrap()
        .expect("the upload queued its checks in the same transaction");
    assert_eq!(job.kind, crate::moderation::CHECK_JOB);
    assert_eq!(job.payload, format!("{{\"version_id\":{}}}", v.id));
    assert_eq!(store.version_by_id(v.id).await.unwrap().version, "1.0.0");
    let queue = store
        .moderation_queue(&[VersionStatus::PendingChecks], None, 10)
        .await
        .unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].version.id, v.id);

    // The checks find things and send it to review, in one step.
    let findings = vec![
        finding("filetype.script", Severity::Warning, "run.sh", 0),
        finding("secret.aws-access-key-id", Severity::Error, "config.env", 4),
        finding("secret.jwt", Severity::Warning, "a.txt", 2),
    ];
    let review = StatusChange {
        reason: Some("checks found problems"),
        ..change(
            &[VersionStatus::PendingChecks],
            VersionStatus::PendingReview,
            now,
        )
    };
    let reviewed = store
        .record_checks(v.id, &findings, Some(&review), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reviewed.status, VersionStatus::PendingReview);
    assert_eq!(
        reviewed.status_reason.as_deref(),
        Some("checks found problems")
    );
    assert_eq!(reviewed.checked_at, Some(now));
    let stored = store.findings(v.id).await.unwrap();
    assert_eq!(
        stored.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
        ["secret.aws-access-key-id", "secret.jwt", "filetype.script"],
        "worst first, then by path"
    );
    assert_eq!(stored[0], findings[1]);
    let queue = store
        .moderation_queue(&[VersionStatus::PendingReview], None, 10)
        .await
        .unwrap();
    assert_eq!((queue[0].errors, queue[0].warnings), (1, 2));
    assert_eq!(queue[0].module.name, "shop");
    assert!(
        store
            .moderation_queue(&[VersionStatus::PendingChecks], None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The state moved on: a second run of the checks cannot move it again, and nothing is
    // written (the findings stay as they were).
    let err = store
        .record_checks(v.id, &[], Some(&review), now)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { ref field } if field == "status"));
    assert_eq!(store.findings(v.id).await.unwrap().len(), 3);
    // Nor can a run that could not finish (no status change) replace them.
    let err = store.record_checks(v.id, &[], None, now).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { ref field } if field == "status"));
    assert_eq!(store.findings(v.id).await.unwrap().len(), 3);

    // Appeal, then approval (which signs and answers the appeal).
    store
        .set_appeal(v.id, Some(("the key is a test fixture", now)))
        .await
        .unwrap();
    let mod_user = user(store, "mod@example.com").await;
    let approve = StatusChange {
        by: Some(mod_user.id),
        signature: Some(("untrusted comment: sig", "00112233AABBCCDD")),
        clear_appeal: true,
        ..change(
            &[VersionStatus::PendingReview],
            VersionStatus::Published,
            now,
        )
    };
    let published = store
        .change_version_status(v.id, &approve, None)
        .await
        .unwrap();
    assert_eq!(published.status, VersionStatus::Published);
    assert_eq!(published.published_at, Some(now));
    assert_eq!(published.status_changed_by, Some(mod_user.id));
    assert_eq!(
        published.registry_key_id.as_deref(),
        Some("00112233AABBCCDD")
    );
    assert_eq!(published.appeal, None);
    assert_eq!(
        store
            .module_by_id(m.id)
            .await
            .unwrap()
            .latest_version
            .as_deref(),
        Some("1.0.0")
    );
    // Approving again is a conflict, and so is a state change from the wrong state.
    let err = store
        .change_version_status(v.id, &approve, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { ref field } if field == "status"));

    // Quarantine hides it from latest; release brings it back, keeping the first publish time.
    let later = Timestamp::from_millis(now.millis() + 5000);
    let quarantine = StatusChange {
        reason: Some("malware reported"),
        ..change(
            &[VersionStatus::Published],
            VersionStatus::Quarantined,
            later,
        )
    };
    let q = store
        .change_version_status(v.id, &quarantine, None)
        .await
        .unwrap();
    assert_eq!(q.status_reason.as_deref(), Some("malware reported"));
    assert_eq!(store.module_by_id(m.id).await.unwrap().latest_version, None);
    let release = change(
        &[VersionStatus::Quarantined],
        VersionStatus::Published,
        later,
    );
    let r = store
        .change_version_status(v.id, &release, None)
        .await
        .unwrap();
    assert_eq!(r.published_at, Some(now));
    assert_eq!(
        store
            .module_by_id(m.id)
            .await
            .unwrap()
            .latest_version
            .as_deref(),
        Some("1.0.0")
    );
    assert!(matches!(
        store
            .change_version_status(v.id + 1000, &release, None)
            .await,
        Err(StoreError::NotFound)
    ));

    // A rejected version is not latest either, and keeps its reason.
    let mut second = new_version("2.0.0", ada.id, &[]);
    second.status = VersionStatus::PendingChecks;
    let (_, v2) = store
        .publish_version(&PublishTarget::Existing(m.id), &second, now)
        .await
        .unwrap();
    let reject = StatusChange {
        reason: Some("contains a credential"),
        ..change(
            &[VersionStatus::PendingChecks, VersionStatus::PendingReview],
            VersionStatus::Rejected,
            now,
        )
    };
    let rejected = store
        .change_version_status(v2.id, &reject, None)
        .await
        .unwrap();
    assert_eq!(rejected.status, VersionStatus::Rejected);
    // A rescan puts it back in the checks' queue, with a fresh job.
    let key = crate::moderation::check_job_key(v2.id);
    let worker = store
        .claim_job(crate::moderation::CHECK_JOB, "node-a", now, now)
        .await
        .unwrap();
    assert!(worker.is_some());
    let rescan = change(
        &[VersionStatus::Rejected],
        VersionStatus::PendingChecks,
        now,
    );
    store
        .change_version_status(v2.id, &rescan, None)
        .await
        .unwrap();
    assert_eq!(store.job_by_key(&key).await.unwrap().unwrap().attempts, 0);
    store
        .change_version_status(v2.id, &reject_again(now), None)
        .await
        .unwrap();
    assert_eq!(
        store
            .module_by_id(m.id)
            .await
            .unwrap()
            .latest_version
            .as_deref(),
        Some("1.0.0")
    );
    assert_eq!(
        store.popular_module_names(10).await.unwrap(),
        vec![("shop".to_owned(), p.id)]
    );
}

fn reject_again(at: Timestamp) -> StatusChange<'static> {
    StatusChange {
        reason: Some("contains a credential"),
        ..change(&[VersionStatus::PendingChecks], VersionStatus::Rejected, at)
    }
}

pub async fn jobs_are_claimed_once_and_retried(store: &dyn Store) {
    let now = Timestamp::now();
    let lease = Timestamp::from_millis(now.millis() + 60_000);
    store
        .enqueue_job("check_version", "check:1", "{\"version_id\":1}", now, now)
        .await
        .unwrap();
    // The same subject again: still one job.
    store
        .enqueue_job("check_version", "check:1", "{\"version_id\":1}", now, now)
        .await
        .unwrap();
    assert!(
        store
            .claim_job("other_kind", "node-a", now, lease)
            .await
            .unwrap()
            .is_none()
    );
    let job = store
        .claim_job("check_version", "node-a", now, lease)
        .await
        .unwrap()
        .expect("a due job");
    assert_eq!(
        (job.kind.as_str(), job.dedupe_key.as_str(), job.attempts),
        ("check_version", "check:1", 1)
    );
    assert!(
        store
            .claim_job("check_version", "node-b", now, lease)
            .await
            .unwrap()
            .is_none(),
        "a leased job goes to nobody else"
    );
    // Node B may not finish node A's job.
    assert!(!store.complete_job(&job, "node-b").await.unwrap());
    let retry_at = Timestamp::from_millis(now.millis() + 10_000);
    assert!(
        store
            .retry_job(&job, "node-a", "scanner timed out", retry_at)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_job("check_version", "node-b", now, lease)
            .await
            .unwrap()
            .is_none(),
        "not due yet"
    );
    let due = Timestamp::from_millis(retry_at.millis() + 1);
    let again = store
        .claim_job(
            "check_version",
            "node-b",
            due,
            Timestamp::from_millis(due.millis() + 1),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 2);
    assert_eq!(again.last_error.as_deref(), Some("scanner timed out"));
    // Node B died holding it: once the lease ran out, node A takes it over.
    let after_lease = Timestamp::from_millis(due.millis() + 2);
    let taken = store
        .claim_job("check_version", "node-a", after_lease, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.attempts, 3);
    assert!(!store.complete_job(&taken, "node-b").await.unwrap());
    assert!(store.complete_job(&taken, "node-a").await.unwrap());
    assert_eq!(store.job_by_key("check:1").await.unwrap(), None);

    // A rescan of a job waiting for its retry makes it due at once and starts its count again.
    store
        .enqueue_job("check_version", "check:2", "{}", retry_at, now)
        .await
        .unwrap();
    store
        .enqueue_job("check_version", "check:2", "{}", now, now)
        .await
        .unwrap();
    assert!(
        store
            .claim_job("check_version", "node-a", now, lease)
            .await
            .unwrap()
            .is_some()
    );

    // Many claimers at once: each job goes to exactly one.
    for i in 0..8 {
        store
            .enqueue_job("fanout", &format!("fanout:{i}"), "{}", now, now)
            .await
            .unwrap();
    }
    let claims = futures_claims(store, now, lease).await;
    let mut ids: Vec<i64> = claims.iter().map(|j| j.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((claims.len(), ids.len()), (8, 8));
}

/// Sixteen concurrent claims of eight jobs.
async fn futures_claims(store: &dyn Store, now: Timestamp, lease: Timestamp) -> Vec<crate::Job> {
    let claims = (0..16).map(|i| {
        let worker = format!("w{i}");
        async move { store.claim_job("fanout", &worker, now, lease).await }
    });
    let mut out = Vec::new();
    for r in join_all(claims).await {
        if let Some(job) = r.unwrap() {
            out.push(job);
        }
    }
    out
}

/// Polls every future to completion concurrently (no extra dependency for `join_all`).
async fn join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut handles: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, h) in handles.iter_mut().enumerate() {
            if out[i].is_none() {
                match h.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("polled to completion"))
        .collect()
}

pub async fn publisher_verification_suspension_and_messages(store: &dyn Store) {
    let now = Timestamp::now();
    let ada = user(store, "ada@example.com").await;
    let acme = store
        .create_publisher("acme", &profile("Acme"), ada.id, now)
        .await
        .unwrap();
    let zed = store
        .create_publisher("zed", &profile("Zed"), ada.id, now)
        .await
        .unwrap();
    assert_eq!(acme.verified_at, None);

    store
        .set_verification_request(acme.id, Some(("we are the Acme corporation", now)))
        .await
        .unwrap();
    let requested = store
        .list_publishers(PublisherFilter::VerificationRequested, None, 10)
        .await
        .unwrap();
    assert_eq!(requested.len(), 1);
    assert_eq!(
        requested[0].verification_note.as_deref(),
        Some("we are the Acme corporation")
    );
    store.set_verified(acme.id, Some(now)).await.unwrap();
    let acme_now = store.publisher_by_id(acme.id).await.unwrap();
    assert_eq!(acme_now.verified_at, Some(now));
    assert_eq!(
        acme_now.verification_requested_at, None,
        "granting clears the request"
    );
    assert_eq!(
        store
            .list_publishers(PublisherFilter::Verified, None, 10)
            .await
            .unwrap()
            .iter()
            .map(|p| p.slug.as_str())
            .collect::<Vec<_>>(),
        ["acme"]
    );

    store
        .set_suspended(zed.id, Some(("fraud", now)))
        .await
        .unwrap();
    let z = store.publisher_by_slug("zed").await.unwrap();
    assert_eq!(
        (z.suspended_at, z.suspension_reason.as_deref()),
        (Some(now), Some("fraud"))
    );
    assert_eq!(
        store
            .list_publishers(PublisherFilter::Suspended, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    store.set_suspended(zed.id, None).await.unwrap();
    assert_eq!(
        store.publisher_by_slug("zed").await.unwrap().suspended_at,
        None
    );
    let all = store
        .list_publishers(PublisherFilter::All, Some("acme"), 10)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(),
        ["zed"],
        "paged after a slug"
    );
    assert!(matches!(
        store.set_verified(999_999, Some(now)).await,
        Err(StoreError::NotFound)
    ));

    let mut ids = Vec::new();
    for i in 0..3 {
        let m = store
            .add_publisher_message(
                &NewPublisherMessage {
                    publisher_id: acme.id,
                    kind: "approved".into(),
                    subject: format!("shop 1.0.{i} is published"),
                    body: "A moderator approved it.".into(),
                    module_name: Some("shop".into()),
                    version: Some(format!("1.0.{i}")),
                },
                now,
            )
            .await
            .unwrap();
        ids.push(m.id);
    }
    assert_eq!(store.unread_publisher_messages(acme.id).await.unwrap(), 3);
    assert_eq!(store.unread_publisher_messages(zed.id).await.unwrap(), 0);
    let page = store.publisher_messages(acme.id, None, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].subject, "shop 1.0.2 is published");
    let rest = store
        .publisher_messages(acme.id, Some(page[1].id), 2)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].version.as_deref(), Some("1.0.0"));
    store
        .mark_publisher_messages_read(acme.id, ids[1], now)
        .await
        .unwrap();
    assert_eq!(store.unread_publisher_messages(acme.id).await.unwrap(), 1);
}

/// A job buried after its last attempt is never claimed, is listed as dead, and runs again once
/// revived (or enqueued again under its key); only a dead job can be revived.
pub async fn dead_jobs_are_parked_listed_and_revived(store: &dyn Store) {
    use crate::JobStatus;
    let now = Timestamp::now();
    let lease = Timestamp::from_millis(now.millis() + 60_000);
    for key in ["mail:1", "mail:2"] {
        store
            .enqueue_job("send_mail", key, "{}", now, now)
            .await
            .unwrap();
    }
    let first = store
        .claim_job("send_mail", "node-a", now, lease)
        .await
        .unwrap()
        .unwrap();
    // Only the holder may bury it.
    assert!(
        !store
            .bury_job(&first, "node-b", "smtp down", now)
            .await
            .unwrap()
    );
    assert!(
        store
            .bury_job(&first, "node-a", "smtp down", now)
            .await
            .unwrap()
    );
    let second = store
        .claim_job("send_mail", "node-a", now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(second.id, first.id);
    assert!(
        store
            .claim_job(
                "send_mail",
                "node-a",
                now.plus_secs(3600),
                now.plus_secs(7200)
            )
            .await
            .unwrap()
            .map(|j| j.id)
            != Some(first.id),
        "a dead job is never claimed, even long after"
    );
    let dead = store
        .list_jobs(JobStatus::Dead, now, None, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (
            dead[0].id,
            dead[0].status,
            dead[0].last_error.as_deref(),
            dead[0].attempts
        ),
        (first.id, JobStatus::Dead, Some("smtp down"), 1)
    );
    assert!(dead[0].dead_at.is_some() && dead[0].locked_by.is_none());
    let running = store
        .list_jobs(JobStatus::Running, now, None, 10)
        .await
        .unwrap();
    assert_eq!(
        running.iter().map(|j| j.id).collect::<Vec<_>>(),
        [second.id]
    );
    assert_eq!(running[0].locked_by.as_deref(), Some("node-a"));
    assert!(
        store
            .list_jobs(JobStatus::Queued, now, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Paging by id.
    assert!(
        store
            .list_jobs(JobStatus::Dead, now, Some(first.id), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Only a dead job can be revived.
    assert!(matches!(
        store.revive_job(second.id, now).await,
        Err(StoreError::Conflict { ref field }) if field == "status"
    ));
    assert!(matches!(
        store.revive_job(first.id + second.id + 100, now).await,
        Err(StoreError::NotFound)
    ));
    let revived = store.revive_job(first.id, now).await.unwrap();
    assert_eq!((revived.status, revived.attempts), (JobStatus::Queued, 0));
    let again = store
        .claim_job("send_mail", "node-b", now, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (first.id, 1));
    // Enqueuing under the key of a dead job brings it back too.
    assert!(
        store
            .bury_job(&again, "node-b", "still down", now)
            .await
            .unwrap()
    );
    store
        .enqueue_job("send_mail", "mail:1", "{}", now, now)
        .await
        .unwrap();
    assert!(
        store
            .list_jobs(JobStatus::Dead, now, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
