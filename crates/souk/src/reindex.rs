//! `souk admin reindex`: rebuild the search index from the database.
//!
//! Two situations, told apart by the index's writer lock:
//!
//! - No server holds `DATA_DIR/search` (the marketplace is stopped, or this machine runs none):
//!   the index there is rebuilt by this process, and a rebuild request is written to the
//!   change log so that every other node (running, or when it next starts) rebuilds its own.
//! - A `souk serve` holds it: only the request is written; every running node, that one
//!   included, reads it from the change log within its follow interval (250 ms by default) and
//!   rebuilds, answering searches from the old index until the new one is committed.

use anyhow::Context;
use souk_core::Timestamp;
use souk_server::Config;
use souk_server::search::{SearchIndex, index_dir};
use std::time::{Duration, Instant};

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let store = souk_server::open_store(config, true).await?;
    let outcome = reindex(config, &store).await;
    store.close().await;
    println!("{}", outcome?);
    Ok(())
}

async fn reindex(config: &Config, store: &souk_store::DynStore) -> anyhow::Result<String> {
    let dir = index_dir(&config.data_dir);
    let started = Instant::now();
    // Written first: opening the index then rebuilds it once, whether it is missing or stale
    // (open rebuilds those) or fresh (open catches up with the log and meets this request).
    let change = store
        .request_search_rebuild(Timestamp::now())
        .await
        .context("cannot write the rebuild request to the change log")?;
    let index = match SearchIndex::open(&dir, store.clone()).await {
        Ok(index) => index,
        Err(e)
            if e.downcast_ref::<souk_server::search::IndexInUse>()
                .is_some() =>
        {
            return Ok(format!(
                "the search index in {} is in use by a running souk serve: asked every node to \
                 rebuild (change {change}); running nodes rebuild within a second, answering \
                 from their current index until then",
                dir.display()
            ));
        }
        Err(e) => return Err(e),
    };
    if index.position() < change {
        // Not reached as open works today; cheap insurance should it ever defer the request.
        index.rebuild().await?;
    }
    let modules = index.num_docs();
    let took = started.elapsed();
    drop(index);
    Ok(format!(
        "rebuilt the search index in {}: {modules} {} indexed in {}; other nodes rebuild theirs \
         from the change log (change {change})",
        dir.display(),
        if modules == 1 { "module" } else { "modules" },
        human_duration(took)
    ))
}

/// `412 ms`, `3.2 s`.
fn human_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(human_duration(Duration::from_millis(412)), "412 ms");
        assert_eq!(human_duration(Duration::from_millis(3240)), "3.2 s");
    }
}
