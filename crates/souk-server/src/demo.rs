//! `souk serve --demo`: loads, once, a sample catalog so that a newcomer sees a living
//! marketplace at once: five publishers, thirty modules across the seeded categories, several
//! versions each (a yanked one, prereleases), with dependencies between them. Every version is a
//! real package generated here and published through the same service as an upload, so the demo
//! exercises the real path: manifest checks, archive inspection, blob storage, downloads.
//!
//! The demo account `demo@souk.example.com` (password [`DEMO_PASSWORD`]) is an owner of every demo
//! publisher, so the publisher portal can be tried too. Loading is skipped when that account
//! exists, which makes the flag safe to leave on.

use crate::AppState;
use crate::services::audit::{Actor, LOCAL_ADDR};
use anyhow::Context;
use souk_core::package::{PackageFile, write_tar_gz};
use souk_core::{Role, Timestamp};
use souk_store::StoreError;

pub const DEMO_EMAIL: &str = "demo@souk.example.com";
pub const DEMO_PASSWORD: &str = "souk-demo-catalog";
/// A moderator account (same password) for the moderation console.
pub const DEMO_MODERATOR_EMAIL: &str = "moderator@souk.example.com";
/// The demo publisher that is not verified: its new modules go to review.
const UNVERIFIED_PUBLISHER: &str = "pixel-tavern";
/// A module of that publisher left waiting in the review queue.
const LEFT_IN_REVIEW: &str = "welcome-tour";

struct DemoPublisher {
    slug: &'static str,
    name: &'static str,
    bio: &'static str,
}

const PUBLISHERS: &[DemoPublisher] = &[
    DemoPublisher {
        slug: "acme-games",
        name: "Acme Games",
        bio: "Gameplay systems for busy server owners since 2019.",
    },
    DemoPublisher {
        slug: "blockforge",
        name: "BlockForge",
        bio: "World building, generation and the tools around them.",
    },
    DemoPublisher {
        slug: "pixel-tavern",
        name: "Pixel Tavern",
        bio: "Chat, community and everything social.",
    },
    DemoPublisher {
        slug: "ironclad-labs",
        name: "Ironclad Labs",
        bio: "Administration, permissions and moderation done right.",
    },
    DemoPublisher {
        slug: "nimbus-tools",
        name: "Nimbus Tools",
        bio: "Integrations and libraries other modules build on.",
    },
];

/// (name, publisher, category, summary, dependencies as (name, range))
type DemoModule = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const MODULES: &[DemoModule] = &[
    (
        "nimbus-core",
        "nimbus-tools",
        "libraries",
        "Shared utilities: config loading, scheduling, i18n.",
        &[],
    ),
    (
        "nimbus-db",
        "nimbus-tools",
        "libraries",
        "A small storage layer with migrations for modules.",
        &[("nimbus-core", "^1")],
    ),
    (
        "nimbus-web",
        "nimbus-tools",
        "web",
        "Serve dashboards from your server with one call.",
        &[("nimbus-core", "^1")],
    ),
    (
        "discord-bridge",
        "nimbus-tools",
        "discord",
        "Two-way chat between your server and a Discord channel.",
        &[("nimbus-core", "^1")],
    ),
    (
        "metrics-exporter",
        "nimbus-tools",
        "integrations",
        "Prometheus metrics for players, ticks and memory.",
        &[("nimbus-web", "^1")],
    ),
    (
        "webhooks",
        "nimbus-tools",
        "integrations",
        "Send server events to any HTTP endpoint, signed.",
        &[("nimbus-core", "^1")],
    ),
    (
        "economy-core",
        "acme-games",
        "economy",
        "Balances, currencies and transactions for every player.",
        &[("nimbus-db", "^1")],
    ),
    (
        "shopkeeper",
        "acme-games",
        "shops",
        "Chest shops and admin shops on top of economy-core.",
        &[("economy-core", "^1")],
    ),
    (
        "auction-house",
        "acme-games",
        "shops",
        "Timed auctions with bids, buyouts and history.",
        &[("economy-core", "^1")],
    ),
    (
        "jobs",
        "acme-games",
        "economy",
        "Earn money by mining, farming, building and more.",
        &[("economy-core", "^1")],
    ),
    (
        "bounty-board",
        "acme-games",
        "pvp",
        "Put a price on a rival's head.",
        &[("economy-core", "^1")],
    ),
    (
        "arena-duels",
        "acme-games",
        "pvp",
        "1v1 and team duels with kits, queues and ratings.",
        &[],
    ),
    (
        "parkour-pro",
        "acme-games",
        "minigames",
        "Checkpoints, timers and leaderboards for parkour maps.",
        &[],
    ),
    (
        "spleef-classic",
        "acme-games",
        "minigames",
        "The classic minigame, with arenas that rebuild themselves.",
        &[],
    ),
    (
        "terrain-plus",
        "blockforge",
        "worldgen",
        "Richer terrain: cliffs, rivers, and caves worth exploring.",
        &[],
    ),
    (
        "structure-kit",
        "blockforge",
        "world",
        "Place prefabricated structures from a library.",
        &[],
    ),
    (
        "world-border",
        "blockforge",
        "world",
        "Round or square borders with soft warnings.",
        &[],
    ),
    (
        "region-guard",
        "blockforge",
        "world",
        "Protect regions with flags and owners.",
        &[("nimbus-db", "^1")],
    ),
    (
        "schematic-io",
        "blockforge",
        "utilities",
        "Import and export schematics between worlds.",
        &[],
    ),
    (
        "biome-painter",
        "blockforge",
        "worldgen",
        "Repaint biomes with a brush.",
        &[("terrain-plus", ">=1.0.0, <3.0.0")],
    ),
    (
        "chat-channels",
        "pixel-tavern",
        "chat",
        "Global, local, trade and staff channels.",
        &[],
    ),
    (
        "friends-list",
        "pixel-tavern",
        "chat",
        "Friends, requests and online notifications.",
        &[("nimbus-db", "^1")],
    ),
    (
        "party-system",
        "pixel-tavern",
        "gameplay",
        "Group up: shared chat, teleports and XP.",
        &[("friends-list", "^1")],
    ),
    (
        "emotes",
        "pixel-tavern",
        "chat",
        "Fun chat emotes with cooldowns.",
        &[("chat-channels", "^1")],
    ),
    (
        "welcome-tour",
        "pixel-tavern",
        "utilities",
        "Guide new players around your server.",
        &[],
    ),
    (
        "perm-groups",
        "ironclad-labs",
        "permissions",
        "Groups, inheritance and per-world permissions.",
        &[("nimbus-db", "^1")],
    ),
    (
        "mod-tools",
        "ironclad-labs",
        "moderation",
        "Kick, ban, mute and warn with reasons and history.",
        &[("perm-groups", "^1")],
    ),
    (
        "anti-grief",
        "ironclad-labs",
        "moderation",
        "Roll back griefing with a block log.",
        &[("nimbus-db", "^1")],
    ),
    (
        "staff-chat",
        "ironclad-labs",
        "moderation",
        "A private channel for your team.",
        &[("chat-channels", "^1")],
    ),
    (
        "backup-scheduler",
        "ironclad-labs",
        "administration",
        "Scheduled, rotated world backups.",
        &[("nimbus-core", "^1")],
    ),
];

/// Versions published for the module at `index`: a few stable releases, sometimes a prerelease.
fn versions_for(index: usize) -> Vec<&'static str> {
    match index % 4 {
        0 => vec!["1.0.0", "1.1.0", "1.2.0"],
        1 => vec!["0.9.0", "1.0.0", "1.0.1", "2.0.0-beta.1"],
        2 => vec!["1.0.0", "1.0.1"],
        _ => vec!["1.0.0", "1.1.0", "2.0.0"],
    }
}

fn package(
    name: &str,
    version: &str,
    publisher: &str,
    summary: &str,
    deps: &[(&str, &str)],
) -> anyhow::Result<Vec<u8>> {
    let mut manifest = format!(
        "[module]\nname = \"{name}\"\nversion = \"{version}\"\npublisher = \"{publisher}\"\n\
         description = \"{summary}\"\nlicense = \"MIT\"\nplatform = \">=1.0.0, <3.0.0\"\n\
         keywords = [\"demo\"]\n\n[dependencies]\n"
    );
    for (d, r) in deps {
        manifest.push_str(&format!("{d} = \"{r}\"\n"));
    }
    let title = name.replace('-', " ");
    let readme = format!(
        "# {title}\n\n{summary}\n\n## Install\n\n```\nsouk download {name}@{version}\n```\n\n\
         ## Configure\n\nEdit `config.toml` after the first start. Every option is documented \
         in the file itself.\n\n| option | default |\n|---|---|\n| enabled | true |\n| locale | en |\n"
    );
    let changelog = format!("# Changelog\n\n## {version}\n\n- Improvements and fixes.\n");
    let files = [
        ("souk.toml", manifest.into_bytes()),
        ("README.md", readme.into_bytes()),
        ("CHANGELOG.md", changelog.into_bytes()),
        ("config.toml", b"enabled = true\nlocale = \"en\"\n".to_vec()),
        (
            "src/main.lua",
            format!("-- {name} {version}\nreturn {{ name = \"{name}\" }}\n").into_bytes(),
        ),
    ];
    let files: Vec<PackageFile> = files
        .into_iter()
        .map(|(path, contents)| PackageFile {
            path: path.to_owned(),
            contents,
            executable: false,
        })
        .collect();
    Ok(write_tar_gz(&files, Vec::new())?)
}

/// Loads the demo catalog unless it is there already. Answers whether it loaded.
pub async fn load(state: &AppState) -> anyhow::Result<bool> {
    let email = souk_core::Email::parse(DEMO_EMAIL).expect("the demo email is valid");
    match state.store.user_by_email(&email).await {
        Ok(_) => return Ok(false),
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    let user = state
        .accounts
        .create_user(
            DEMO_EMAIL,
            DEMO_PASSWORD,
            Some("Demo Publisher"),
            Role::User,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the demo account: {e}"))?;
    for p in PUBLISHERS {
        let profile = crate::services::catalog::publisher_profile(
            p.name,
            Some(p.bio),
            Some(&format!("https://{}.example.com", p.slug)),
            Some(&format!("support@{}.example.com", p.slug)),
        )
        .map_err(|e| anyhow::anyhow!("demo publisher {}: {e}", p.slug))?;
        let created = state
            .catalog
            .create_publisher(&user, p.slug, profile)
            .await
            .map_err(|e| anyhow::anyhow!("demo publisher {}: {e}", p.slug))?;
        // Every demo publisher but one is verified, so the badge and the review of new
        // publishers can both be seen.
        if p.slug != UNVERIFIED_PUBLISHER {
            state
                .store
                .set_verified(created.id, Some(Timestamp::now()))
                .await?;
        }
    }
    let mut published = 0;
    for (i, (name, publisher, category, summary, deps)) in MODULES.iter().enumerate() {
        for version in versions_for(i) {
            let bytes = package(name, version, publisher, summary, deps)?;
            let staged = state
                .catalog
                .blobs()
                .stage_bytes(bytes.into())
                .await
                .context("cannot stage a demo package")?;
            state
                .catalog
                .publish(&user, name, staged, &state.config.packages, None)
                .await
                .map_err(|e| anyhow::anyhow!("demo module {name} {version}: {e}"))?;
            published += 1;
        }
        let edit = crate::services::catalog::ModuleEdit {
            display_name: Some(title_case(name)),
            category: Some((*category).to_owned()),
            tags: Some(vec!["demo".to_owned(), (*category).to_owned()]),
            homepage: Some(format!("https://{publisher}.example.com/{name}")),
            ..Default::default()
        };
        let module = state
            .catalog
            .update_module(&user, name, edit)
            .await
            .map_err(|e| anyhow::anyhow!("demo module {name}: {e}"))?;
        // A believable spread of downloads over the last two weeks; every fourth module is
        // taking off this week, so that trending has something to show.
        let rising = i % 4 == 1;
        let versions = state.store.versions(module.id).await?;
        let today = Timestamp::now().day();
        let mut counts = Vec::new();
        for (vi, v) in versions.iter().enumerate() {
            for day in 0..14 {
                let n = ((i * 37 + vi * 11 + day as usize * 7) % 50) as i64 + 1;
                let boost = if rising && day < 7 { 4 } else { 1 };
                counts.push((
                    v.id,
                    today - day,
                    boost * n * (MODULES.len() - i) as i64 / 4 + 1,
                ));
            }
        }
        state.store.record_downloads(&counts).await?;
    }
    // The uploads go through the automated checks like any other. What the review policy sends
    // to a moderator is approved by the demo moderator, except one module left in the queue for
    // the console to show.
    state
        .jobs
        .run_due()
        .await
        .map_err(|e| anyhow::anyhow!("demo checks: {e}"))?;
    let moderator = state
        .accounts
        .create_user(
            DEMO_MODERATOR_EMAIL,
            DEMO_PASSWORD,
            Some("Demo Moderator"),
            Role::Moderator,
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the demo moderator: {e}"))?;
    let waiting = state
        .store
        .moderation_queue(&[souk_store::VersionStatus::PendingReview], None, 1000)
        .await?;
    for entry in waiting {
        if entry.module.name == LEFT_IN_REVIEW {
            continue;
        }
        state
            .moderation
            .approve(
                &Actor::new(&moderator, LOCAL_ADDR),
                &entry.module.name,
                &entry.version.version,
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo approval of {}: {e}", entry.module.name))?;
    }
    // One yanked release, so the marks can be seen.
    state
        .catalog
        .set_yanked(
            &Actor::new(&user, LOCAL_ADDR),
            "auction-house",
            "1.1.0",
            Some("Bids could be placed after an auction ended; fixed in 1.2.0."),
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo yank: {e}"))?;
    // A few featured modules for the home page, in the order admins would set.
    let mut featured = Vec::new();
    for (name, ..) in MODULES.iter().step_by(7).take(4) {
        featured.push(
            state
                .store
                .module_by_name(&souk_core::normalize_name(name))
                .await?
                .id,
        );
    }
    state
        .store
        .set_featured(&featured, user.id, Timestamp::now())
        .await?;
    // The index takes the catalog in now, so the first page served shows it.
    state.search.sync().await?;
    state.search.refresh_trending().await?;
    tracing::info!(
        publishers = PUBLISHERS.len(),
        modules = MODULES.len(),
        versions = published,
        account = DEMO_EMAIL,
        password = DEMO_PASSWORD,
        "loaded the demo catalog"
    );
    Ok(true)
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_package_passes_inspection() {
        let names: Vec<&str> = MODULES.iter().map(|m| m.0).collect();
        for (i, (name, publisher, _, summary, deps)) in MODULES.iter().enumerate() {
            // Dependencies point at modules published earlier, so publishing in order works.
            for (d, _) in deps.iter() {
                let at = names
                    .iter()
                    .position(|n| n == d)
                    .expect("dependency exists");
                assert!(at < i, "{name} depends on {d}, which comes later");
            }
            for v in versions_for(i) {
                let bytes = package(name, v, publisher, summary, deps).unwrap();
                let got = souk_core::archive::inspect(
                    std::io::Cursor::new(bytes),
                    &souk_core::archive::Limits::default(),
                )
                .unwrap();
                assert_eq!(got.manifest.name.as_str(), *name);
                assert!(got.readme.is_some());
            }
        }
        assert_eq!(title_case("economy-core"), "Economy Core");
    }
}
