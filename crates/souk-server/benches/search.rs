//! Search speed against full-text baselines: `cargo bench -p souk-server --bench search`.
//!
//! For each catalog size N (10,000 and 100,000; `SOUK_BENCH_SIZES=10000` to pick):
//! 1. generates N modules with made-up but realistic text (a fixed seed, so every run and every
//!    engine sees the same catalog): names such as `auction-house-pro` from a few hundred game,
//!    server and business words, summaries and descriptions built from sentence templates, tags,
//!    keywords, the seeded categories, about 2,000 publishers (3% verified), Zipf-like download
//!    counts and platform ranges; writes them straight into a fresh SQLite database with raw SQL;
//! 2. starts the application in this process on a random port (opening `AppState` finds no index
//!    and builds it from the database: that is the index build time) and prints the index size
//!    and the process's memory;
//! 3. runs a query mix (one to three words, prefixes as typed, typos, filters with and without
//!    words, some sorted by downloads, most with facets) from 50 keep-alive HTTP clients for a
//!    fixed time after a warm-up, and prints latency percentiles, throughput, errors and the mean
//!    number of hits per query class. The clients run a closed loop (each sends its next query
//!    when the last is answered), which saturates the server: latency is then mostly queueing,
//!    about clients / throughput. A second run paces the same clients at a fixed total rate, for
//!    latency at a load the server can carry. Before both, every query runs once at a time in
//!    process (with and without facet counts) and over HTTP, to show where service time goes;
//! 4. runs the same mix on the same data as direct SQL over an sqlx pool: SQLite FTS5 (an FTS5
//!    table over the text fields; filters as joins; facet counts as GROUP BY queries when the
//!    query asks for facets) and, when `SOUK_BENCH_POSTGRES_URL` or `SOUK_TEST_POSTGRES_URL` is
//!    set, PostgreSQL full-text search (a `tsvector` column with a GIN index) in a fresh database;
//! 5. prints one summary table for every size.
//!
//! The clients, the server and the databases share the machine (and, for souk and SQLite, this
//! process): figures are for a loaded host, and noisy when something else runs. The 1-minute
//! load average is printed around every timed run.
//!
//! Environment: `SOUK_BENCH_SIZES` (comma-separated, default `10000,100000`),
//! `SOUK_BENCH_SECONDS` (per timed run, default 15), `SOUK_BENCH_WARMUP` (seconds, default 3),
//! `SOUK_BENCH_CLIENTS` (default 50), `SOUK_BENCH_QUERIES` (size of the mix, default 3000),
//! `SOUK_BENCH_POOL` (database connections for the SQL baselines, default 8),
//! `SOUK_BENCH_ENGINES` (comma-separated subset of `souk,fts5,postgres`; default all),
//! `SOUK_BENCH_PROFILE` (0 to skip souk's one-query-at-a-time pass; default 1),
//! `SOUK_BENCH_PACED_RATE` (queries per second of souk's extra paced run, all clients together;
//! default 100, 0 for none), `SOUK_BENCH_SERIAL` (how many queries of the mix every engine also
//! runs one at a time, for service time without queueing; default 200).

use futures_util::future::BoxFuture;
use souk_server::config::Layers;
use souk_server::{AppState, Config, ServerKeys};
use sqlx::{Postgres, QueryBuilder, Row, Sqlite};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{env_num, machine, percentile};

/// The SPEC's budget for this benchmark.
const GOAL: &str = "SPEC goal: search at 100k modules with 50 concurrent clients, p95 < 20 ms";
const PUBLISHERS: usize = 2000;
const PAGE: usize = 20;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/// splitmix64: small, fast, and the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i + 1));
        }
    }
}

/// Ranks 0..n with probability proportional to 1 / (rank + 1)^s.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Self {
        let mut acc = 0.0;
        let cdf = (0..n)
            .map(|k| {
                acc += 1.0 / ((k + 1) as f64).powf(s);
                acc
            })
            .collect();
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit() * self.cdf[self.cdf.len() - 1];
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

const NOUNS: &str = "world edit auction house shop chest guard land claim region economy coin bank vault quest \
    dungeon arena battle duel skyblock survival creative spawn warp home teleport portal \
    nether dragon mob boss pet horse fishing farming crop harvest mining ore diamond emerald \
    gold iron anvil enchant potion spell magic mana rune skill level rank title badge reward \
    crate key loot kit bounty clan guild faction team party raid siege castle tower wall \
    village trader merchant market stock price tax rent plot block brush schematic terrain \
    biome forest ocean desert mountain cave structure generator seed weather season clock bed \
    death grave backpack inventory storage hopper furnace recipe item tool weapon sword bow \
    arrow armor shield helmet elytra rocket firework particle effect sound music radio \
    hologram scoreboard tablist nametag chat emoji color format filter ban warning jail report \
    ticket staff admin moderator vanish spy log audit rollback backup snapshot database cache \
    redis mysql config command alias script event hook trigger timer schedule task queue \
    worker performance lag monitor metrics profiler entity chunk loader border lobby hub proxy \
    velocity network server cluster node discord bridge webhook bot link account login \
    password captcha security anticheat exploit protection firewall vote poll survey \
    leaderboard stats achievement milestone streak bonus gift checkout payment donation store \
    coupon discount sale subscription license invoice billing analytics dashboard export \
    import api web panel map marker waypoint compass navigation npc citizen dialogue story \
    tutorial guide help menu gui button sign book text language translation placeholder \
    integration library framework core utility essentials toolkit suite manager editor builder \
    designer studio engine helper companion spawner trade auctioneer jobs salary wallet token \
    points credits cosmetic hat trail wings mount vehicle boat minecart rail train elevator \
    door lock key trap tnt explosion fire water lava ice snow rain storm lightning light \
    shadow night day sun moon star galaxy planet space void island sky garden tree flower \
    animal breeding zombie skeleton creeper villager golem wither spider slime ghost vampire \
    wizard knight archer class race perk ability talent stamina health hunger thirst \
    temperature disease medic hospital police prison court government election mayor town city \
    nation kingdom empire war alliance treaty border flag banner statue museum library school \
    casino lottery slots roulette jackpot minigame parkour maze race hunger bedwars skywars \
    spleef paintball tag hide seek murder mystery";

const VERBS: &str = "create manage protect track share sell buy trade claim build explore fight unlock earn \
    spend customize configure schedule sync export teleport reward ban mute vote craft enchant \
    store sort limit monitor restore backup translate display announce upgrade rent repair \
    collect";

const ADJECTIVES: &str = "simple advanced lightweight fast async modern classic custom powerful flexible secure \
    friendly complete modular smart easy beautiful configurable reliable optimized tiny \
    ultimate premium free open multi global local dynamic realistic hardcore casual \
    competitive cooperative seasonal daily weekly automatic interactive visual";

const NAME_SUFFIXES: &str =
    "pro plus lite core x reborn 2 advanced ultimate api remastered classic";

const PUBLISHER_SUFFIXES: &str =
    "studio labs dev works team games craft plugins software mc hq network";

const EXTRA_TAGS: &str = "paper spigot bukkit folia fabric forge velocity bungeecord sponge 1-20 1-19 1-21 async gui \
    mysql sqlite redis placeholderapi vault luckperms worldguard citizens multiverse geyser \
    bedrock java kotlin open-source lightweight premium free beta stable legacy api library \
    minigame rpg survival skyblock factions prison creative hardcore anarchy towny lobby hub \
    network proxy";

const LICENSES: &str = "MIT Apache-2.0 GPL-3.0 LGPL-3.0 proprietary BSD-3-Clause";

const SUMMARY_TEMPLATES: &[&str] = &[
    "{A} {t} {n} for your {n} server.",
    "Lets players {v} {t} and {v} their {n}.",
    "{A} {t} plugin with {n} and {n} support.",
    "{V} {t} {n} from one {A} {n} menu.",
    "The {A} way to {v} {t} on {A} servers.",
    "Adds {t}, {n} and {n} to survival worlds.",
];

const DESCRIPTION_TEMPLATES: &[&str] = &[
    "{A} {t} {n} for your {n} server.",
    "Lets players {v} {t} and {v} their {n} with a {A} {n}.",
    "Supports {n}, {n} and {t} out of the box.",
    "Configure every {t} from a simple {n} file and reload it without a restart.",
    "Works with {n} and {n} plugins, and with {A} {n} setups.",
    "Admins can {v} {t} {n} in game or from the console.",
    "Includes a {A} {t} {n} with {n} support.",
    "No {n} required: {v} the {t} and go.",
    "Built for {A} {n} servers with thousands of players.",
    "Tracks {t} and {n} per {n}, and shows them on a {A} {n}.",
    "Every {t} can have its own {n}, {n} and {n}.",
    "Players {v} {n} to {v} {t} and earn {n}.",
    "Uses {A} {n} storage so that your {t} never loses a {n}.",
    "Translated into many languages; the {n} messages are easy to change.",
    "Questions and ideas are welcome on our {n} and {n} channels.",
];

/// The words everything is made of.
struct Vocab {
    /// Distinct nouns in popularity order (shuffled once with a fixed seed).
    nouns: Vec<&'static str>,
    noun_zipf: Zipf,
    /// Flatter: names draw on the whole vocabulary more evenly than prose does.
    name_zipf: Zipf,
    tags: Vec<String>,
    tag_zipf: Zipf,
    verbs: Vec<&'static str>,
    adjectives: Vec<&'static str>,
    name_suffixes: Vec<&'static str>,
    publisher_suffixes: Vec<&'static str>,
    licenses: Vec<&'static str>,
}

fn words(list: &'static str) -> Vec<&'static str> {
    list.split_whitespace().collect()
}

impl Vocab {
    fn new() -> Self {
        let mut rng = Rng::new(7);
        let mut seen = HashSet::new();
        let mut nouns: Vec<&'static str> = words(NOUNS)
            .into_iter()
            .filter(|n| seen.insert(*n))
            .collect();
        rng.shuffle(&mut nouns);
        let mut tags: Vec<String> = words(EXTRA_TAGS).into_iter().map(str::to_owned).collect();
        let mut tag_seen: HashSet<String> = tags.iter().cloned().collect();
        for n in &nouns {
            if tags.len() >= 150 {
                break;
            }
            if tag_seen.insert((*n).to_owned()) {
                tags.push((*n).to_owned());
            }
        }
        rng.shuffle(&mut tags);
        Vocab {
            noun_zipf: Zipf::new(nouns.len(), 1.0),
            name_zipf: Zipf::new(nouns.len(), 0.6),
            tag_zipf: Zipf::new(tags.len(), 1.0),
            nouns,
            tags,
            verbs: words(VERBS),
            adjectives: words(ADJECTIVES),
            name_suffixes: words(NAME_SUFFIXES),
            publisher_suffixes: words(PUBLISHER_SUFFIXES),
            licenses: words(LICENSES),
        }
    }

    fn noun(&self, rng: &mut Rng) -> &'static str {
        self.nouns[self.noun_zipf.sample(rng)]
    }

    fn name_noun(&self, rng: &mut Rng) -> &'static str {
        self.nouns[self.name_zipf.sample(rng)]
    }

    fn tag(&self, rng: &mut Rng) -> &str {
        &self.tags[self.tag_zipf.sample(rng)]
    }

    /// A template with its slots filled: `{n}` a noun (one of `theme` a third of the time),
    /// `{t}` a theme noun, `{v}`/`{V}` a verb, `{a}`/`{A}` an adjective (capitalized when the
    /// slot letter is). Nouns used are appended to `used`.
    fn fill(
        &self,
        template: &str,
        rng: &mut Rng,
        theme: &[&'static str],
        used: &mut Vec<&'static str>,
    ) -> String {
        let mut out = String::with_capacity(template.len() + 40);
        let mut chars = template.chars();
        while let Some(c) = chars.next() {
            if c != '{' {
                out.push(c);
                continue;
            }
            let slot = chars.next().unwrap_or('n');
            chars.next(); // '}'
            let word = match slot {
                'n' | 't' => {
                    let w = if slot == 't' || rng.chance(0.33) {
                        *rng.pick(theme)
                    } else {
                        self.noun(rng)
                    };
                    used.push(w);
                    w
                }
                'v' | 'V' => *rng.pick(&self.verbs),
                _ => *rng.pick(&self.adjectives),
            };
            if out.is_empty() || slot.is_ascii_uppercase() {
                out.push_str(&capitalize(word));
            } else {
                out.push_str(word);
            }
        }
        out
    }
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

struct Category {
    id: i64,
    slug: String,
    parent: Option<i64>,
}

struct ModuleRow {
    id: i64,
    name: String,
    display_name: String,
    summary: String,
    description: String,
    category: Option<i64>,
    keywords: String,
    publisher: i64,
    downloads: i64,
    created: i64,
    updated: i64,
    version: String,
    platform: String,
    license: &'static str,
    sha256: String,
    tags: Vec<String>,
}

/// Words of a few generated modules, for queries that find something.
struct Sample {
    name: Vec<&'static str>,
    content: Vec<&'static str>,
}

/// A catalog's generator: one module at a time, so memory stays flat however large N is.
struct Generator {
    rng: Rng,
    vocab: Arc<Vocab>,
    names: HashSet<String>,
    categories: Vec<i64>,
    publisher_zipf: Zipf,
    /// Publisher index by popularity rank.
    publisher_order: Vec<i64>,
    minor_zipf: Zipf,
    now: i64,
}

impl Generator {
    fn new(vocab: Arc<Vocab>, categories: &[Category], seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut publisher_order: Vec<i64> = (1..=PUBLISHERS as i64).collect();
        rng.shuffle(&mut publisher_order);
        Generator {
            rng,
            vocab,
            names: HashSet::new(),
            categories: categories.iter().map(|c| c.id).collect(),
            publisher_zipf: Zipf::new(PUBLISHERS, 0.6),
            publisher_order,
            minor_zipf: Zipf::new(13, 0.7),
            // A fixed "now" keeps the data identical from run to run.
            now: 1_760_000_000_000,
        }
    }

    fn name(&mut self) -> (String, String, Vec<&'static str>) {
        let rng = &mut self.rng;
        let count = match rng.below(100) {
            0..15 => 1,
            15..75 => 2,
            _ => 3,
        };
        let mut theme: Vec<&'static str> = Vec::new();
        while theme.len() < count {
            let w = self.vocab.name_noun(rng);
            if !theme.contains(&w) {
                theme.push(w);
            }
        }
        let mut words: Vec<String> = theme.iter().map(|w| (*w).to_owned()).collect();
        if rng.chance(0.2) {
            words.push((*rng.pick(&self.vocab.name_suffixes)).to_owned());
        }
        let mut name = words.join("-");
        let mut n = 2;
        while self.names.contains(&name) {
            name = format!("{}-{n}", words.join("-"));
            n += 1;
        }
        self.names.insert(name.clone());
        let display = if rng.chance(0.2) {
            name.split('-').map(capitalize).collect::<String>()
        } else {
            name.split('-')
                .map(capitalize)
                .collect::<Vec<_>>()
                .join(" ")
        };
        (name, display, theme)
    }

    fn platform(&mut self) -> String {
        let rng = &mut self.rng;
        let a = 20 - self.minor_zipf.sample(rng);
        let p = rng.range(0, 4);
        match rng.below(100) {
            0..40 => format!(">=1.{a}, <1.{}", a + rng.range(1, 3)),
            40..65 => format!(">=1.{a}"),
            65..75 => format!("^1.{a}.{p}"),
            75..85 => format!("=1.{a}.{p}"),
            85..90 => format!("~1.{a}"),
            _ => "*".to_owned(),
        }
    }

    fn module(&mut self, id: i64, sample: bool) -> (ModuleRow, Option<Sample>) {
        let (name, display_name, theme) = self.name();
        let vocab = self.vocab.clone();
        let mut used = Vec::new();
        let summary = loop {
            used.clear();
            let template = *self.rng.pick(SUMMARY_TEMPLATES);
            let mut s = vocab.fill(template, &mut self.rng, &theme, &mut used);
            if self.rng.chance(0.5) {
                s.push(' ');
                let template = *self.rng.pick(SUMMARY_TEMPLATES);
                s.push_str(&vocab.fill(template, &mut self.rng, &theme, &mut used));
            }
            if (8..=20).contains(&s.split_whitespace().count()) {
                break s;
            }
        };
        let target = self.rng.range(50, 200);
        let mut description = String::new();
        let mut words = 0;
        let mut scratch = Vec::new();
        while words < target {
            let template = *self.rng.pick(DESCRIPTION_TEMPLATES);
            let sentence = vocab.fill(template, &mut self.rng, &theme, &mut scratch);
            words += sentence.split_whitespace().count();
            if !description.is_empty() {
                description.push(if self.rng.chance(0.2) { '\n' } else { ' ' });
            }
            description.push_str(&sentence);
        }
        let rng = &mut self.rng;
        let mut tags: Vec<String> = Vec::new();
        let tag_count = rng.range(1, 5);
        if rng.chance(0.5) {
            tags.push(theme[0].to_owned());
        }
        while tags.len() < tag_count {
            let t = vocab.tag(rng).to_owned();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let keywords: Vec<&str> = (0..rng.range(0, 5)).map(|_| vocab.noun(rng)).collect();
        let category = if rng.chance(0.03) {
            None
        } else {
            Some(*rng.pick(&self.categories))
        };
        let publisher = self.publisher_order[self.publisher_zipf.sample(rng)];
        // Pareto-tailed: most modules have a few dozen downloads, a handful millions.
        let u = rng.unit().max(1e-12);
        let downloads = ((20.0 * u.powf(-1.0 / 0.9)) as i64 - 20).min(50_000_000);
        let created = self.now - rng.range(0, 4 * 365 * 24 * 3600) as i64 * 1000;
        let updated = created + rng.range(0, ((self.now - created) / 1000) as usize) as i64 * 1000;
        let version = format!(
            "{}.{}.{}",
            rng.range(0, 4),
            rng.range(0, 20),
            rng.range(0, 9)
        );
        let sha256 = format!(
            "{:016x}{:016x}{:016x}{:016x}",
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64(),
            rng.next_u64()
        );
        let license = *rng.pick(&vocab.licenses);
        let platform = self.platform();
        let sample = sample.then(|| Sample {
            name: theme.clone(),
            content: used,
        });
        let row = ModuleRow {
            id,
            name,
            display_name,
            summary,
            description,
            category,
            keywords: serde_json::to_string(&keywords).unwrap(),
            publisher,
            downloads,
            created,
            updated,
            version,
            platform,
            license,
            sha256,
            tags,
        };
        (row, sample)
    }
}

async fn sqlite_categories(pool: &sqlx::SqlitePool) -> Vec<Category> {
    sqlx::query("SELECT id, slug, parent_id FROM categories ORDER BY id")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| Category {
            id: r.get(0),
            slug: r.get(1),
            parent: r.get(2),
        })
        .collect()
}

/// Writes ~2,000 publishers and `n` modules (with a version and tags each) into the database.
/// Returns the query samples.
async fn populate(
    pool: &sqlx::SqlitePool,
    vocab: &Arc<Vocab>,
    categories: &[Category],
    n: usize,
) -> Vec<Sample> {
    let mut rng = Rng::new(11);
    let mut tx = pool.begin().await.unwrap();
    let mut slugs = HashSet::new();
    let mut pubs = Vec::new();
    for id in 1..=PUBLISHERS as i64 {
        let mut slug = format!(
            "{}-{}",
            vocab.name_noun(&mut rng),
            rng.pick(&vocab.publisher_suffixes)
        );
        while !slugs.insert(slug.clone()) {
            slug = format!("{slug}{}", rng.below(10));
        }
        let display = slug
            .split('-')
            .map(capitalize)
            .collect::<Vec<_>>()
            .join(" ");
        let verified = rng.chance(0.03).then_some(1_700_000_000_000i64);
        pubs.push((id, slug, display, verified));
    }
    for chunk in pubs.chunks(1000) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO publishers (id, slug, display_name, verified_at, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, (id, slug, display, verified)| {
            b.push_bind(*id)
                .push_bind(slug)
                .push_bind(display)
                .push_bind(*verified)
                .push_bind(1_600_000_000_000i64)
                .push_bind(1_600_000_000_000i64);
        });
        qb.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut generator = Generator::new(vocab.clone(), categories, 42);
    let sample_p = (4000.0 / n as f64).min(1.0);
    let mut samples = Vec::new();
    let mut id = 1i64;
    const CHUNK: usize = 500;
    while (id as usize) <= n {
        let mut tx = pool.begin().await.unwrap();
        // 20 statements of 500 rows per table per transaction.
        for _ in 0..20 {
            let end = (id as usize + CHUNK - 1).min(n) as i64;
            if id > end {
                break;
            }
            let mut rows = Vec::with_capacity(CHUNK);
            for i in id..=end {
                let want = generator.rng.chance(sample_p);
                let (row, sample) = generator.module(i, want);
                rows.push(row);
                samples.extend(sample);
            }
            id = end + 1;
            insert_rows(&mut tx, &rows).await;
        }
        tx.commit().await.unwrap();
    }
    samples
}

async fn insert_rows(tx: &mut sqlx::Transaction<'_, Sqlite>, rows: &[ModuleRow]) {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO modules (id, name, name_normalized, publisher_id, display_name, summary, \
         description, category_id, keywords, visibility, latest_version, downloads, created_at, \
         updated_at) ",
    );
    qb.push_values(rows, |mut b, r| {
        b.push_bind(r.id)
            .push_bind(&r.name)
            .push_bind(&r.name)
            .push_bind(r.publisher)
            .push_bind(&r.display_name)
            .push_bind(&r.summary)
            .push_bind(&r.description)
            .push_bind(r.category)
            .push_bind(&r.keywords)
            .push_bind("public")
            .push_bind(&r.version)
            .push_bind(r.downloads)
            .push_bind(r.created)
            .push_bind(r.updated);
    });
    qb.build().execute(&mut **tx).await.unwrap();

    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO versions (module_id, version, prerelease, status, sha256, size, format, \
         unpacked_size, license, description, platform, manifest, files, downloads, created_at) ",
    );
    qb.push_values(rows, |mut b, r| {
        b.push_bind(r.id)
            .push_bind(&r.version)
            .push_bind(0i64)
            .push_bind("published")
            .push_bind(&r.sha256)
            .push_bind(40_000 + r.id % 300_000)
            .push_bind("zip")
            .push_bind(90_000 + r.id % 700_000)
            .push_bind(r.license)
            .push_bind(&r.summary)
            .push_bind(&r.platform)
            .push_bind("{}")
            .push_bind("[]")
            .push_bind(r.downloads)
            .push_bind(r.updated);
    });
    qb.build().execute(&mut **tx).await.unwrap();

    let tags: Vec<(i64, &str)> = rows
        .iter()
        .flat_map(|r| r.tags.iter().map(move |t| (r.id, t.as_str())))
        .collect();
    let mut qb = QueryBuilder::<Sqlite>::new("INSERT INTO module_tags (module_id, tag) ");
    qb.push_values(&tags, |mut b, (id, tag)| {
        b.push_bind(*id).push_bind(*tag);
    });
    qb.build().execute(&mut **tx).await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The query mix
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Class {
    One,
    Two,
    Three,
    Prefix,
    Typo,
    Filter,
    FilterWords,
}

impl Class {
    const ALL: [Class; 7] = [
        Class::One,
        Class::Two,
        Class::Three,
        Class::Prefix,
        Class::Typo,
        Class::Filter,
        Class::FilterWords,
    ];

    fn label(self) -> &'static str {
        match self {
            Class::One => "1 word",
            Class::Two => "2 words",
            Class::Three => "3 words",
            Class::Prefix => "prefix",
            Class::Typo => "typo",
            Class::Filter => "filters only",
            Class::FilterWords => "filters+words",
        }
    }
}

#[derive(Clone)]
struct Query {
    class: Class,
    q: String,
    /// The slug, and the ids it stands for (itself and its subcategories).
    category: Option<(String, Vec<i64>)>,
    tag: Option<String>,
    verified: bool,
    platform: Option<String>,
    by_downloads: bool,
    facets: bool,
    /// The query string of `GET /api/v1/search`.
    url: String,
}

impl Query {
    /// The words as a SQL full-text engine would tokenize them.
    fn words(&self) -> Vec<String> {
        self.q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }
}

fn letter(rng: &mut Rng) -> char {
    (b'a' + rng.below(26) as u8) as char
}

/// One edit (substitution, deletion, insertion or transposition) past the first letter.
fn typo(rng: &mut Rng, word: &str) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    let pos = rng.range(1, chars.len() - 1);
    match rng.below(4) {
        0 => {
            let mut c = letter(rng);
            while c == chars[pos] {
                c = letter(rng);
            }
            chars[pos] = c;
        }
        1 => {
            chars.remove(pos);
        }
        2 => chars.insert(pos, letter(rng)),
        _ => {
            let p = pos.min(chars.len() - 2);
            if chars[p] == chars[p + 1] {
                chars.remove(p);
            } else {
                chars.swap(p, p + 1);
            }
        }
    }
    chars.into_iter().collect()
}

fn make_queries(
    vocab: &Vocab,
    samples: &[Sample],
    categories: &[Category],
    count: usize,
) -> Vec<Query> {
    let mut rng = Rng::new(99);
    let long: Vec<&str> = vocab
        .nouns
        .iter()
        .copied()
        .filter(|w| w.len() >= 5)
        .collect();
    let weights = [
        (Class::One, 18),
        (Class::Two, 18),
        (Class::Three, 10),
        (Class::Prefix, 20),
        (Class::Typo, 14),
        (Class::Filter, 8),
        (Class::FilterWords, 12),
    ];
    let total: usize = weights.iter().map(|w| w.1).sum();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut x = rng.below(total);
        let class = weights
            .iter()
            .find(|(_, w)| {
                if x < *w {
                    true
                } else {
                    x -= w;
                    false
                }
            })
            .unwrap()
            .0;
        let s = rng.pick(samples);
        let pool: Vec<&str> = s.name.iter().chain(s.content.iter()).copied().collect();
        let distinct = |rng: &mut Rng, k: usize| -> Vec<&str> {
            let mut words: Vec<&str> = Vec::new();
            for _ in 0..20 {
                let w = *rng.pick(&pool);
                if !words.contains(&w) {
                    words.push(w);
                }
                if words.len() == k {
                    break;
                }
            }
            words
        };
        let mut query = Query {
            class,
            q: String::new(),
            category: None,
            tag: None,
            verified: false,
            platform: None,
            by_downloads: rng.chance(0.1),
            facets: !rng.chance(0.1),
            url: String::new(),
        };
        match class {
            Class::One => query.q = vocab.noun(&mut rng).to_owned(),
            Class::Two => query.q = distinct(&mut rng, 2).join(" "),
            Class::Three => query.q = distinct(&mut rng, 3).join(" "),
            Class::Prefix => {
                let w = vocab.noun(&mut rng);
                let len = rng.range(2, 5).min(w.len());
                let prefix: String = w.chars().take(len).collect();
                query.q = if rng.chance(0.4) {
                    format!("{} {prefix}", s.name[0])
                } else {
                    prefix
                };
                // Autocomplete asks for no facets more often.
                query.facets = rng.chance(0.5);
            }
            Class::Typo => {
                let candidates: Vec<&str> = pool.iter().copied().filter(|w| w.len() >= 5).collect();
                let w = if candidates.is_empty() {
                    *rng.pick(&long)
                } else {
                    *rng.pick(&candidates)
                };
                let bad = typo(&mut rng, w);
                query.q = if rng.chance(0.4) {
                    let other = *rng.pick(&pool);
                    if other == w {
                        bad
                    } else {
                        format!("{other} {bad}")
                    }
                } else {
                    bad
                };
            }
            Class::Filter | Class::FilterWords => {
                if class == Class::FilterWords {
                    query.q = if rng.chance(0.5) {
                        vocab.noun(&mut rng).to_owned()
                    } else {
                        distinct(&mut rng, 2).join(" ")
                    };
                }
                query.by_downloads = rng.chance(0.4);
                loop {
                    if rng.chance(0.4) {
                        let c = rng.pick(categories);
                        let ids: Vec<i64> = categories
                            .iter()
                            .filter(|x| x.id == c.id || x.parent == Some(c.id))
                            .map(|x| x.id)
                            .collect();
                        query.category = Some((c.slug.clone(), ids));
                    }
                    if rng.chance(0.35) {
                        query.tag = Some(vocab.tag(&mut rng).to_owned());
                    }
                    query.verified = rng.chance(0.2);
                    if rng.chance(0.3) {
                        query.platform = Some(format!("1.{}", 21 - rng.range(0, 9)));
                    }
                    if query.category.is_some()
                        || query.tag.is_some()
                        || query.verified
                        || query.platform.is_some()
                    {
                        break;
                    }
                }
            }
        }
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        if !query.q.is_empty() {
            url.append_pair("q", &query.q);
        }
        if let Some((slug, _)) = &query.category {
            url.append_pair("category", slug);
        }
        if let Some(t) = &query.tag {
            url.append_pair("tag", t);
        }
        if query.verified {
            url.append_pair("verified", "true");
        }
        if let Some(p) = &query.platform {
            url.append_pair("platform", p);
        }
        if query.by_downloads {
            url.append_pair("sort", "downloads");
        }
        if !query.facets {
            url.append_pair("facets", "false");
        }
        query.url = url.finish();
        out.push(query);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Load generation and figures
// ---------------------------------------------------------------------------------------------

/// Runs query `query` as client `client`; answers the total number of hits.
type Exec = Arc<dyn Fn(usize, usize) -> BoxFuture<'static, Result<u64, String>> + Send + Sync>;

#[derive(Clone, Default)]
struct Stats {
    count: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    max: Duration,
    rps: f64,
    errors: usize,
    mean_hits: f64,
}

fn stats(mut lat: Vec<Duration>, hits: u64, errors: usize, secs: f64) -> Stats {
    if lat.is_empty() {
        return Stats {
            errors,
            ..Stats::default()
        };
    }
    lat.sort();
    Stats {
        count: lat.len(),
        p50: percentile(&lat, 0.50),
        p95: percentile(&lat, 0.95),
        p99: percentile(&lat, 0.99),
        max: lat[lat.len() - 1],
        rps: lat.len() as f64 / secs,
        errors,
        mean_hits: hits as f64 / lat.len() as f64,
    }
}

struct LoadRun {
    classes: BTreeMap<Class, Stats>,
    overall: Stats,
    first_errors: Vec<String>,
    load_before: String,
    load_after: String,
    cpu: String,
}

/// CPU ticks so far: (the whole machine busy, this process, the whole machine in all).
fn cpu_ticks() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = cpu.iter().take(8).sum();
    let idle = cpu.get(3).copied().unwrap_or(0) + cpu.get(4).copied().unwrap_or(0);
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name (which may hold spaces), utime and stime are the 12th and 13th.
    let after = me.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| -> u64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
    let mine = field(11) + field(12);
    (total - idle, mine, total)
}

/// How the machine's CPU was shared between `before` and now, in cores: this process, and
/// everything else (other builds, and the database servers when a baseline runs).
fn cpu_use(before: (u64, u64, u64)) -> String {
    let now = cpu_ticks();
    let total = now.2.saturating_sub(before.2).max(1) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let busy = now.0.saturating_sub(before.0) as f64 / total * cores;
    let mine = (now.1.saturating_sub(before.1) as f64 / total * cores).min(busy);
    format!(
        "CPU used: this process {mine:.2} cores, other processes {:.2} of {cores:.0}",
        busy - mine
    )
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// `clients` tasks run the mix round-robin (each from its own offset) for `warmup`, unrecorded,
/// then for `run`, recorded. Without `rate` every client sends its next query as soon as the last
/// is answered (closed loop: the server is saturated and latency is mostly queueing, about
/// clients / throughput). With `rate` (queries per second, all clients together) each client
/// sends on a fixed schedule instead, and latency counts from the scheduled time, so that a slow
/// answer delays the ones behind it as it would for real visitors.
async fn load(
    queries: &Arc<Vec<Query>>,
    exec: Exec,
    clients: usize,
    warmup: Duration,
    run: Duration,
    rate: Option<f64>,
) -> LoadRun {
    let load_before = loadavg();
    let ticks = cpu_ticks();
    let start = Instant::now();
    let measure_from = start + warmup;
    let deadline = measure_from + run;
    let mut tasks = Vec::new();
    for client in 0..clients {
        let queries = queries.clone();
        let exec = exec.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = client * queries.len() / clients;
            let mut rec: Vec<(Class, Duration, u64)> = Vec::new();
            let mut errors: Vec<(Class, String)> = Vec::new();
            let mut last_done = measure_from;
            let interval = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
            // Spread the clients' schedules over one interval.
            let mut due =
                start + interval.map_or(Duration::ZERO, |d| d * client as u32 / clients as u32);
            loop {
                let t = match interval {
                    Some(every) => {
                        tokio::time::sleep_until(due.into()).await;
                        let t = due;
                        due += every;
                        t
                    }
                    None => Instant::now(),
                };
                if t >= deadline {
                    break;
                }
                let q = &queries[i % queries.len()];
                let res = exec(client, i % queries.len()).await;
                let took = t.elapsed();
                if t >= measure_from {
                    match res {
                        Ok(hits) => rec.push((q.class, took, hits)),
                        Err(e) => errors.push((q.class, e)),
                    }
                    last_done = Instant::now();
                }
                i += 1;
            }
            (rec, errors, last_done)
        }));
    }
    let mut all = Vec::new();
    let mut errors = Vec::new();
    // Until the last answer (a closed loop's last queries start before the deadline), and at
    // least the whole run (a paced client may have nothing due in its last moments).
    let mut end = deadline;
    for t in tasks {
        let (rec, errs, finished) = t.await.unwrap();
        all.extend(rec);
        errors.extend(errs);
        end = end.max(finished);
    }
    let secs = (end - measure_from).as_secs_f64();
    let mut classes = BTreeMap::new();
    for class in Class::ALL {
        let lat: Vec<Duration> = all.iter().filter(|r| r.0 == class).map(|r| r.1).collect();
        let hits = all.iter().filter(|r| r.0 == class).map(|r| r.2).sum();
        let errs = errors.iter().filter(|e| e.0 == class).count();
        classes.insert(class, stats(lat, hits, errs, secs));
    }
    let overall = stats(
        all.iter().map(|r| r.1).collect(),
        all.iter().map(|r| r.2).sum(),
        errors.len(),
        secs,
    );
    LoadRun {
        classes,
        overall,
        first_errors: errors.into_iter().take(3).map(|e| e.1).collect(),
        load_before,
        load_after: loadavg(),
        cpu: cpu_use(ticks),
    }
}

/// Runs every typo query once (concurrently): how many found something.
async fn typo_hits(queries: &Arc<Vec<Query>>, exec: &Exec, clients: usize) -> (usize, usize) {
    let typos: Vec<usize> = (0..queries.len())
        .filter(|&i| queries[i].class == Class::Typo)
        .collect();
    let typos = Arc::new(typos);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (typos, next, exec) = (typos.clone(), next.clone(), exec.clone());
        tasks.push(tokio::spawn(async move {
            let mut found = 0;
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&i) = typos.get(k) else { break };
                if exec(client, i).await.unwrap_or(0) > 0 {
                    found += 1;
                }
            }
            found
        }));
    }
    let mut found = 0;
    for t in tasks {
        found += t.await.unwrap();
    }
    (found, typos.len())
}

/// The first `k` queries of the mix one after the other: service time without queueing.
async fn serial(queries: &Arc<Vec<Query>>, exec: &Exec, k: usize) -> Stats {
    let started = Instant::now();
    let (mut lat, mut hits, mut errors) = (Vec::new(), 0, 0);
    for i in 0..k.min(queries.len()) {
        let t = Instant::now();
        match exec(0, i).await {
            Ok(h) => {
                lat.push(t.elapsed());
                hits += h;
            }
            Err(_) => errors += 1,
        }
    }
    stats(lat, hits, errors, started.elapsed().as_secs_f64())
}

fn print_serial(engine: &str, k: usize, st: &Stats) {
    println!(
        "  {engine}, the first {k} queries one at a time: p50 {} ms, p95 {} ms, p99 {} ms, \
         max {} ms, mean hits {:.0}, errors {}",
        ms(st.p50),
        ms(st.p95),
        ms(st.p99),
        ms(st.max),
        st.mean_hits,
        st.errors
    );
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn print_run(engine: &str, run: &LoadRun, typos: (usize, usize)) {
    println!(
        "  {engine}: load average {} before, {} after; {} (warm-up included)",
        run.load_before, run.load_after, run.cpu
    );
    println!(
        "    {:<14} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>9}",
        "class", "queries", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s", "errors", "mean hits"
    );
    let row = |label: &str, s: &Stats| {
        println!(
            "    {:<14} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8.0} {:>6} {:>9.0}",
            label,
            s.count,
            ms(s.p50),
            ms(s.p95),
            ms(s.p99),
            ms(s.max),
            s.rps,
            s.errors,
            s.mean_hits
        );
    };
    for (class, s) in &run.classes {
        row(class.label(), s);
    }
    row("all", &run.overall);
    println!(
        "    typo queries that found something: {} of {}",
        typos.0, typos.1
    );
    for e in &run.first_errors {
        println!("    error: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Process and disk figures
// ---------------------------------------------------------------------------------------------

/// (VmRSS, VmHWM) in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets VmHWM to the current RSS (Linux 4.0+), so that the next reading is the peak since.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_size(&e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

// ---------------------------------------------------------------------------------------------
// souk over HTTP
// ---------------------------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct Page {
    total: u64,
}

fn souk_exec(base: &str, queries: &Arc<Vec<Query>>, clients: usize) -> Exec {
    // One keep-alive connection per client, as 50 browsers would have.
    let http: Arc<Vec<reqwest::Client>> = Arc::new(
        (0..clients)
            .map(|_| {
                reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap()
            })
            .collect(),
    );
    let base = format!("{base}/api/v1/search?");
    let queries = queries.clone();
    Arc::new(move |client, i| {
        let http = http[client % http.len()].clone();
        let url = format!("{base}{}", queries[i].url);
        Box::pin(async move {
            let resp = http.get(&url).send().await.map_err(|e| e.to_string())?;
            let status = resp.status();
            let body = resp.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!(
                    "{url}: {status} {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                ));
            }
            let page: Page = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            Ok(page.total)
        })
    })
}

/// The mix as the API's query string structure.
fn params(q: &Query) -> souk_server::search::query::SearchParams {
    souk_server::search::query::SearchParams {
        q: (!q.q.is_empty()).then(|| q.q.clone()),
        category: q.category.as_ref().map(|c| c.0.clone()),
        tag: q.tag.clone(),
        platform: q.platform.clone(),
        verified: q.verified.then(|| "true".to_owned()),
        sort: q.by_downloads.then(|| "downloads".to_owned()),
        facets: (!q.facets).then(|| "false".to_owned()),
        ..Default::default()
    }
}

/// Where souk's time goes: every query of the mix once, one at a time (no queueing), in
/// process without HTTP (as asked, and with facets left out), and over HTTP with one client.
async fn profile_souk(state: &AppState, base: &str, queries: &Arc<Vec<Query>>) {
    let mut in_process: BTreeMap<Class, Vec<Duration>> = BTreeMap::new();
    let mut no_facets: BTreeMap<Class, Vec<Duration>> = BTreeMap::new();
    let mut http: BTreeMap<Class, Vec<Duration>> = BTreeMap::new();
    for q in queries.iter() {
        let mut p = params(q);
        let t = Instant::now();
        state.discovery.search(&p, None).await.unwrap();
        in_process.entry(q.class).or_default().push(t.elapsed());
        p.facets = Some("false".into());
        let t = Instant::now();
        state.discovery.search(&p, None).await.unwrap();
        no_facets.entry(q.class).or_default().push(t.elapsed());
    }
    let exec = souk_exec(base, queries, 1);
    for (i, q) in queries.iter().enumerate() {
        let t = Instant::now();
        exec(0, i).await.unwrap();
        http.entry(q.class).or_default().push(t.elapsed());
    }
    println!("  souk, one query at a time (service time without queueing), mean / p95 in ms:");
    println!(
        "    {:<14} {:>16} {:>16} {:>16}",
        "class", "search as asked", "without facets", "HTTP, 1 client"
    );
    let fmt = |v: &mut Vec<Duration>| {
        v.sort();
        let mean = v.iter().sum::<Duration>() / v.len().max(1) as u32;
        format!("{} / {}", ms(mean), ms(percentile(v, 0.95)))
    };
    let mut all = (Vec::new(), Vec::new(), Vec::new());
    for class in Class::ALL {
        let (Some(a), Some(b), Some(c)) = (
            in_process.get_mut(&class),
            no_facets.get_mut(&class),
            http.get_mut(&class),
        ) else {
            continue;
        };
        all.0.extend(a.iter().copied());
        all.1.extend(b.iter().copied());
        all.2.extend(c.iter().copied());
        println!(
            "    {:<14} {:>16} {:>16} {:>16}",
            class.label(),
            fmt(a),
            fmt(b),
            fmt(c)
        );
    }
    println!(
        "    {:<14} {:>16} {:>16} {:>16}",
        "all",
        fmt(&mut all.0),
        fmt(&mut all.1),
        fmt(&mut all.2)
    );
}

// ---------------------------------------------------------------------------------------------
// SQLite FTS5
// ---------------------------------------------------------------------------------------------

/// What a module must be for search to show it.
const LISTED: &str = "m.visibility = 'public' AND m.archived_at IS NULL \
     AND m.latest_version IS NOT NULL AND p.suspended_at IS NULL";

enum Arg {
    Text(String),
    Int(i64),
}

/// An FTS5 MATCH expression: every word quoted (so no word is syntax), AND'ed; the last word of
/// a prefix query is a prefix.
fn fts5_match(q: &Query) -> Option<String> {
    let words = q.words();
    if words.is_empty() {
        return None;
    }
    let n = words.len();
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if q.class == Class::Prefix && i + 1 == n {
                    format!("\"{w}\"*")
                } else {
                    format!("\"{w}\"")
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// FROM and WHERE for the hits of `q`, with their arguments in order.
fn fts5_hits(q: &Query) -> (String, String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut clauses = vec![LISTED.to_owned()];
    let from = match fts5_match(q) {
        Some(m) => {
            clauses.insert(0, "modules_fts MATCH ?".into());
            args.push(Arg::Text(m));
            "modules_fts JOIN modules m ON m.id = modules_fts.rowid \
             JOIN publishers p ON p.id = m.publisher_id"
        }
        None => "modules m JOIN publishers p ON p.id = m.publisher_id",
    };
    if let Some((_, ids)) = &q.category {
        let marks = vec!["?"; ids.len()].join(", ");
        clauses.push(format!("m.category_id IN ({marks})"));
        args.extend(ids.iter().map(|&id| Arg::Int(id)));
    }
    if let Some(t) = &q.tag {
        clauses.push(
            "EXISTS (SELECT 1 FROM module_tags t WHERE t.module_id = m.id AND t.tag = ?)".into(),
        );
        args.push(Arg::Text(t.clone()));
    }
    if q.verified {
        clauses.push("p.verified_at IS NOT NULL".into());
    }
    if let Some(line) = &q.platform {
        clauses.push(
            "EXISTS (SELECT 1 FROM bench_platform_lines l WHERE l.module_id = m.id \
             AND l.line IN (?, 'any'))"
                .into(),
        );
        args.push(Arg::Text(line.clone()));
    }
    (from.to_owned(), clauses.join(" AND "), args)
}

fn bind_sqlite<'q>(
    mut query: sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    for a in args {
        query = match a {
            Arg::Text(s) => query.bind(s.as_str()),
            Arg::Int(i) => query.bind(*i),
        };
    }
    query
}

/// The page and the counts of `q`; answers the total.
async fn fts5_search(pool: &sqlx::SqlitePool, q: &Query) -> Result<u64, sqlx::Error> {
    let (from, clauses, args) = fts5_hits(q);
    let order = if q.by_downloads || q.words().is_empty() {
        "m.downloads DESC, m.id"
    } else {
        // Column weights as souk's: name, display name, summary, description, tags, keywords.
        "bm25(modules_fts, 6.0, 4.0, 2.0, 1.0, 3.0, 3.0)"
    };
    let page = format!(
        "SELECT m.name, m.display_name, m.summary, m.downloads, m.latest_version, p.slug, \
         p.display_name FROM {from} WHERE {clauses} ORDER BY {order} LIMIT {PAGE}"
    );
    let rows = bind_sqlite(sqlx::query(&page), &args)
        .fetch_all(pool)
        .await?;
    let mut names = 0usize;
    for r in &rows {
        let name: &str = r.try_get(0)?;
        names += name.len();
    }
    std::hint::black_box(names);
    let hits = format!("SELECT m.id, m.category_id, p.verified_at FROM {from} WHERE {clauses}");
    if !q.facets {
        let total: i64 = bind_sqlite(
            sqlx::query(&format!("SELECT COUNT(*) FROM ({hits})")),
            &args,
        )
        .fetch_one(pool)
        .await?
        .try_get(0)?;
        return Ok(total as u64);
    }
    let sub = if q.category.is_some() {
        " UNION ALL SELECT 'subcategory', CAST(h.category_id AS TEXT), COUNT(*) FROM hits h \
         GROUP BY 2"
    } else {
        ""
    };
    let counts = format!(
        "WITH hits AS MATERIALIZED ({hits}) \
         SELECT 'total', '', COUNT(*) FROM hits \
         UNION ALL SELECT 'category', CAST(COALESCE(c.parent_id, c.id) AS TEXT), COUNT(*) \
           FROM hits h JOIN categories c ON c.id = h.category_id GROUP BY 2 \
         UNION ALL SELECT 'verified', CAST(h.verified_at IS NOT NULL AS TEXT), COUNT(*) \
           FROM hits h GROUP BY 2 \
         UNION ALL SELECT * FROM (SELECT 'tag', t.tag, COUNT(*) AS n FROM hits h \
           JOIN module_tags t ON t.module_id = h.id GROUP BY 2 ORDER BY n DESC LIMIT 30) \
         UNION ALL SELECT 'platform', l.line, COUNT(*) FROM hits h \
           JOIN bench_platform_lines l ON l.module_id = h.id GROUP BY 2{sub}"
    );
    let rows = bind_sqlite(sqlx::query(&counts), &args)
        .fetch_all(pool)
        .await?;
    let mut total = 0;
    for r in &rows {
        let kind: &str = r.try_get(0)?;
        if kind == "total" {
            total = r.try_get::<i64, _>(2)?;
        }
    }
    Ok(total as u64)
}

/// Creates the FTS5 table and the platform-line table the baseline filters on. Answers the
/// time the FTS5 table took and its size.
async fn build_fts5(pool: &sqlx::SqlitePool) -> (Duration, u64) {
    let size = || async {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(pool)
            .await
            .unwrap();
        let page: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(pool)
            .await
            .unwrap();
        (pages * page) as u64
    };
    let before = size().await;
    let started = Instant::now();
    // The same word splitting as souk (letters and digits, accents folded) with English
    // stemming on every column (FTS5 has one tokenizer per table); prefix indexes for 2 and 3
    // letters so that short prefixes do not scan the vocabulary.
    sqlx::query(
        "CREATE VIRTUAL TABLE modules_fts USING fts5(name, display_name, summary, description, \
         tags, keywords, tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO modules_fts (rowid, name, display_name, summary, description, tags, keywords) \
         SELECT m.id, m.name, m.display_name, m.summary, COALESCE(m.description, ''), \
         COALESCE((SELECT group_concat(tag, ' ') FROM module_tags t WHERE t.module_id = m.id), ''), \
         m.keywords FROM modules m",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO modules_fts (modules_fts) VALUES ('optimize')")
        .execute(pool)
        .await
        .unwrap();
    let took = started.elapsed();
    let fts_size = size().await - before;

    // Platform ranges are semver requirements SQL cannot evaluate: the lines each admits are
    // precomputed, as souk's index does for its facet.
    sqlx::query(
        "CREATE TABLE bench_platform_lines (module_id INTEGER NOT NULL, line TEXT NOT NULL, \
         PRIMARY KEY (module_id, line)) WITHOUT ROWID",
    )
    .execute(pool)
    .await
    .unwrap();
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.id, v.platform FROM modules m \
         JOIN versions v ON v.module_id = m.id AND v.version = m.latest_version",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut lines: Vec<(i64, String)> = Vec::new();
    for (id, range) in rows {
        let ls = souk_server::search::schema::platform_lines(&range);
        if ls.is_empty() {
            lines.push((id, "any".into()));
        }
        lines.extend(ls.into_iter().map(|l| (id, l)));
    }
    let mut tx = pool.begin().await.unwrap();
    for chunk in lines.chunks(5000) {
        let mut qb = QueryBuilder::<Sqlite>::new("INSERT INTO bench_platform_lines ");
        qb.push_values(chunk, |mut b, (id, l)| {
            b.push_bind(*id).push_bind(l);
        });
        qb.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("CREATE INDEX bench_platform_lines_line ON bench_platform_lines (line, module_id)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
    (took, fts_size)
}

fn fts5_exec(pool: sqlx::SqlitePool, queries: &Arc<Vec<Query>>) -> Exec {
    let queries = queries.clone();
    Arc::new(move |_, i| {
        let (pool, queries) = (pool.clone(), queries.clone());
        Box::pin(async move {
            fts5_search(&pool, &queries[i])
                .await
                .map_err(|e| e.to_string())
        })
    })
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL full-text search
// ---------------------------------------------------------------------------------------------

/// A `to_tsquery` text: words AND'ed, the last word of a prefix query as a prefix. Words hold
/// only letters and digits, so none is syntax.
fn pg_tsquery(q: &Query) -> Option<String> {
    let words = q.words();
    if words.is_empty() {
        return None;
    }
    let n = words.len();
    Some(
        words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if q.class == Class::Prefix && i + 1 == n {
                    format!("{w}:*")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" & "),
    )
}

fn bind_pg<'q>(
    mut query: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
    args: &'q [Arg],
) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
    for a in args {
        query = match a {
            Arg::Text(s) => query.bind(s.as_str()),
            Arg::Int(i) => query.bind(*i),
        };
    }
    query
}

fn pg_hits(q: &Query) -> (String, String, Vec<Arg>) {
    let mut args = Vec::new();
    let mut clauses = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    let from = match pg_tsquery(q) {
        Some(t) => {
            let p = next();
            args.push(Arg::Text(t));
            clauses.push("m.tsv @@ tq".to_owned());
            format!("bench_modules m, to_tsquery('english', {p}) tq")
        }
        None => "bench_modules m".to_owned(),
    };
    if let Some((_, ids)) = &q.category {
        let marks: Vec<String> = ids.iter().map(|_| next()).collect();
        clauses.push(format!("m.category_id IN ({})", marks.join(", ")));
        args.extend(ids.iter().map(|&id| Arg::Int(id)));
    }
    if let Some(t) = &q.tag {
        clauses.push(format!("m.tags @> ARRAY[{}]::text[]", next()));
        args.push(Arg::Text(t.clone()));
    }
    if q.verified {
        clauses.push("m.verified".into());
    }
    if let Some(line) = &q.platform {
        clauses.push(format!(
            "m.platform_lines && ARRAY[{}, 'any']::text[]",
            next()
        ));
        args.push(Arg::Text(line.clone()));
    }
    if clauses.is_empty() {
        clauses.push("TRUE".into());
    }
    (from, clauses.join(" AND "), args)
}

async fn pg_search(pool: &sqlx::PgPool, q: &Query) -> Result<u64, sqlx::Error> {
    let (from, clauses, args) = pg_hits(q);
    let order = if q.by_downloads || q.words().is_empty() {
        "m.downloads DESC, m.id"
    } else {
        "ts_rank(m.tsv, tq) DESC, m.id"
    };
    let page = format!(
        "SELECT m.name, m.display_name, m.summary, m.downloads, m.latest_version, \
         m.publisher_slug, m.publisher_name FROM {from} WHERE {clauses} ORDER BY {order} \
         LIMIT {PAGE}"
    );
    let rows = bind_pg(sqlx::query(&page), &args).fetch_all(pool).await?;
    let mut names = 0usize;
    for r in &rows {
        let name: &str = r.try_get(0)?;
        names += name.len();
    }
    std::hint::black_box(names);
    let hits = format!(
        "SELECT m.id, m.category_id, m.top_category_id, m.verified, m.tags, m.platform_lines \
         FROM {from} WHERE {clauses}"
    );
    if !q.facets {
        let total: i64 = bind_pg(
            sqlx::query(&format!("SELECT count(*) FROM ({hits}) h")),
            &args,
        )
        .fetch_one(pool)
        .await?
        .try_get(0)?;
        return Ok(total as u64);
    }
    let sub = if q.category.is_some() {
        " UNION ALL SELECT 'subcategory', h.category_id::text, count(*) FROM hits h GROUP BY 2"
    } else {
        ""
    };
    let counts = format!(
        "WITH hits AS MATERIALIZED ({hits}) \
         SELECT 'total' AS kind, '' AS value, count(*) AS n FROM hits \
         UNION ALL SELECT 'category', h.top_category_id::text, count(*) FROM hits h \
           WHERE h.top_category_id IS NOT NULL GROUP BY 2 \
         UNION ALL SELECT 'verified', h.verified::text, count(*) FROM hits h GROUP BY 2 \
         UNION ALL (SELECT 'tag', t, count(*) FROM hits h, unnest(h.tags) t GROUP BY 2 \
           ORDER BY 3 DESC LIMIT 30) \
         UNION ALL SELECT 'platform', l, count(*) FROM hits h, unnest(h.platform_lines) l \
           GROUP BY 2{sub}"
    );
    let rows = bind_pg(sqlx::query(&counts), &args).fetch_all(pool).await?;
    let mut total = 0;
    for r in &rows {
        let kind: &str = r.try_get(0)?;
        if kind == "total" {
            total = r.try_get::<i64, _>(2)?;
        }
    }
    Ok(total as u64)
}

struct PgBench {
    admin: sqlx::PgPool,
    pool: sqlx::PgPool,
    database: String,
    load_time: Duration,
    index_time: Duration,
    size: u64,
}

/// Copies the catalog from SQLite into a fresh PostgreSQL database: one denormalized table with
/// a weighted `tsvector` (name and display name A, keywords and tags B, summary C, description
/// D) under a GIN index, and indexes for the filters.
async fn build_pg(
    url: &str,
    n: usize,
    sqlite: &sqlx::SqlitePool,
    categories: &[Category],
    pool_size: u32,
) -> Result<PgBench, String> {
    let err = |e: sqlx::Error| e.to_string();
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .map_err(err)?;
    let database = format!("souk_bench_{}_{n}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database}"))
        .execute(&admin)
        .await
        .map_err(err)?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&admin)
        .await
        .map_err(err)?;
    let mut db_url = url::Url::parse(url).map_err(|e| e.to_string())?;
    db_url.set_path(&format!("/{database}"));
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(pool_size)
        .connect(db_url.as_str())
        .await
        .map_err(err)?;
    let started = Instant::now();
    sqlx::query(
        "CREATE TABLE bench_modules (
            id BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            display_name TEXT NOT NULL,
            summary TEXT NOT NULL,
            description TEXT NOT NULL,
            keywords TEXT NOT NULL,
            tags TEXT[] NOT NULL,
            tags_text TEXT NOT NULL,
            category_id BIGINT,
            top_category_id BIGINT,
            verified BOOLEAN NOT NULL,
            downloads BIGINT NOT NULL,
            platform_lines TEXT[] NOT NULL,
            latest_version TEXT NOT NULL,
            publisher_slug TEXT NOT NULL,
            publisher_name TEXT NOT NULL,
            tsv tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', name || ' ' || display_name), 'A') ||
                setweight(to_tsvector('english', keywords || ' ' || tags_text), 'B') ||
                setweight(to_tsvector('english', summary), 'C') ||
                setweight(to_tsvector('english', description), 'D')) STORED
        )",
    )
    .execute(&pool)
    .await
    .map_err(err)?;
    let parent: HashMap<i64, Option<i64>> = categories.iter().map(|c| (c.id, c.parent)).collect();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT m.id, m.name, m.display_name, m.summary, COALESCE(m.description, ''), \
             m.keywords, COALESCE((SELECT group_concat(tag, ' ') FROM module_tags t \
             WHERE t.module_id = m.id), ''), m.category_id, p.verified_at IS NOT NULL, \
             m.downloads, v.platform, m.latest_version, p.slug, p.display_name \
             FROM modules m JOIN publishers p ON p.id = m.publisher_id \
             JOIN versions v ON v.module_id = m.id AND v.version = m.latest_version \
             WHERE m.id > ? ORDER BY m.id LIMIT 2000",
        )
        .bind(after)
        .fetch_all(sqlite)
        .await
        .map_err(err)?;
        let Some(last) = rows.last() else { break };
        after = last.get(0);
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO bench_modules (id, name, display_name, summary, description, keywords, \
             tags, tags_text, category_id, top_category_id, verified, downloads, platform_lines, \
             latest_version, publisher_slug, publisher_name) ",
        );
        qb.push_values(&rows, |mut b, r| {
            let tags_text: String = r.get(6);
            let tags: Vec<String> = tags_text.split_whitespace().map(str::to_owned).collect();
            let category: Option<i64> = r.get(7);
            let top = category.map(|c| parent.get(&c).copied().flatten().unwrap_or(c));
            let mut lines = souk_server::search::schema::platform_lines(&r.get::<String, _>(10));
            if lines.is_empty() {
                lines.push("any".into());
            }
            b.push_bind(r.get::<i64, _>(0))
                .push_bind(r.get::<String, _>(1))
                .push_bind(r.get::<String, _>(2))
                .push_bind(r.get::<String, _>(3))
                .push_bind(r.get::<String, _>(4))
                .push_bind(r.get::<String, _>(5))
                .push_bind(tags)
                .push_bind(tags_text)
                .push_bind(category)
                .push_bind(top)
                .push_bind(r.get::<bool, _>(8))
                .push_bind(r.get::<i64, _>(9))
                .push_bind(lines)
                .push_bind(r.get::<String, _>(11))
                .push_bind(r.get::<String, _>(12))
                .push_bind(r.get::<String, _>(13));
        });
        qb.build().execute(&pool).await.map_err(err)?;
    }
    let load_time = started.elapsed();
    let started = Instant::now();
    for ddl in [
        "CREATE INDEX bench_modules_tsv ON bench_modules USING gin (tsv)",
        "CREATE INDEX bench_modules_tags ON bench_modules USING gin (tags)",
        "CREATE INDEX bench_modules_lines ON bench_modules USING gin (platform_lines)",
        "CREATE INDEX bench_modules_category ON bench_modules (category_id)",
        "CREATE INDEX bench_modules_downloads ON bench_modules (downloads DESC, id)",
        "VACUUM ANALYZE bench_modules",
    ] {
        sqlx::query(ddl).execute(&pool).await.map_err(err)?;
    }
    let index_time = started.elapsed();
    let size: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('bench_modules')")
        .fetch_one(&pool)
        .await
        .map_err(err)?;
    Ok(PgBench {
        admin,
        pool,
        database,
        load_time,
        index_time,
        size: size as u64,
    })
}

impl PgBench {
    async fn drop_database(self) {
        self.pool.close().await;
        let _ = sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.database
        ))
        .execute(&self.admin)
        .await;
        self.admin.close().await;
    }
}

fn pg_exec(pool: sqlx::PgPool, queries: &Arc<Vec<Query>>) -> Exec {
    let queries = queries.clone();
    Arc::new(move |_, i| {
        let (pool, queries) = (pool.clone(), queries.clone());
        Box::pin(async move {
            pg_search(&pool, &queries[i])
                .await
                .map_err(|e| e.to_string())
        })
    })
}

// ---------------------------------------------------------------------------------------------
// One catalog size
// ---------------------------------------------------------------------------------------------

struct Summary {
    n: usize,
    rows: Vec<SummaryRow>,
}

/// One engine's line in the summary.
struct SummaryRow {
    engine: String,
    /// The closed-loop (or paced) run.
    run: Stats,
    /// The first queries of the mix, one at a time.
    serial: Option<Stats>,
    typos: (usize, usize),
    build: String,
}

struct Settings {
    clients: usize,
    warmup: Duration,
    run: Duration,
    queries: usize,
    pool: u32,
    postgres: Option<String>,
    engines: Vec<String>,
    profile: bool,
    /// Queries per second of souk's paced run (0: none).
    paced: f64,
    /// Queries run one at a time on every engine.
    serial: usize,
}

impl Settings {
    fn wants(&self, engine: &str) -> bool {
        self.engines.iter().any(|e| e == engine)
    }
}

async fn bench_size(n: usize, vocab: &Arc<Vocab>, s: &Settings) -> Summary {
    println!();
    println!("=== {n} modules ===");
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("SOUK_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("SOUK_LOG".to_owned(), "warn".to_owned()),
    ];
    let config = Config::load(&Layers {
        env,
        ..Layers::default()
    })
    .unwrap();
    let (rss0, _) = memory();
    let store = souk_server::open_store(&config, true).await.unwrap();

    // Our own connection for bulk writes and the FTS5 baseline; the server has its own pool.
    let db_path = config.data_dir.join("souk.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&db_path)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    let writer = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap();
    let categories = sqlite_categories(&writer).await;
    let started = Instant::now();
    let samples = populate(&writer, vocab, &categories, n).await;
    let gen_time = started.elapsed();
    let db_size = std::fs::metadata(&db_path).map_or(0, |m| m.len())
        + std::fs::metadata(db_path.with_extension("db-wal")).map_or(0, |m| m.len());
    println!(
        "generated and inserted {n} modules ({PUBLISHERS} publishers) in {:.1} s; database {}",
        gen_time.as_secs_f64(),
        mib(db_size)
    );
    let queries = Arc::new(make_queries(vocab, &samples, &categories, s.queries));
    drop(samples);
    let mut by_class: BTreeMap<Class, usize> = BTreeMap::new();
    for q in queries.iter() {
        *by_class.entry(q.class).or_default() += 1;
    }
    println!(
        "query mix: {} queries ({}); {} with facets, {} sorted by downloads",
        queries.len(),
        by_class
            .iter()
            .map(|(c, k)| format!("{} {k}", c.label()))
            .collect::<Vec<_>>()
            .join(", "),
        queries.iter().filter(|q| q.facets).count(),
        queries.iter().filter(|q| q.by_downloads).count(),
    );
    for q in queries.iter().take(8) {
        println!("  e.g. {:<14} ?{}", q.class.label(), q.url);
    }

    let mut summary = Summary {
        n,
        rows: Vec::new(),
    };

    // souk: opening the state finds no index and builds it from the database.
    let (rss_before, _) = memory();
    let peak_reset = reset_peak();
    let keys = ServerKeys::load_or_create(&config).unwrap();
    let blobs = souk_server::blob::BlobStore::from_config(&config).unwrap();
    let started = Instant::now();
    let state = AppState::new(store, config.clone(), keys, blobs)
        .await
        .unwrap();
    let build = started.elapsed();
    let (rss_after, hwm) = memory();
    let index_dir = souk_server::search::index_dir(&config.data_dir);
    println!(
        "souk index: built in {:.1} s ({} documents, {} segments), {} on disk",
        build.as_secs_f64(),
        state.search.num_docs(),
        state.search.searcher().segment_readers().len(),
        mib(dir_size(&index_dir))
    );
    println!(
        "process RSS: {rss0:.0} MiB at start, {rss_before:.0} MiB after generating, \
         {rss_after:.0} MiB after the index build (peak during the build {})",
        if peak_reset {
            format!("{hwm:.0} MiB")
        } else {
            format!("unknown; VmHWM since start {hwm:.0} MiB")
        }
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = souk_server::app(state.clone());
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    if s.wants("souk") && s.profile {
        println!();
        profile_souk(&state, &format!("http://{addr}"), &queries).await;
    }
    if s.wants("souk") {
        let one = serial(
            &queries,
            &souk_exec(&format!("http://{addr}"), &queries, 1),
            s.serial,
        )
        .await;
        println!();
        print_serial("souk (HTTP, JSON)", s.serial, &one);
        let exec = souk_exec(&format!("http://{addr}"), &queries, s.clients);
        let typos = typo_hits(&queries, &exec, s.clients).await;
        let run = load(&queries, exec, s.clients, s.warmup, s.run, None).await;
        let (rss, hwm) = memory();
        println!();
        print_run("souk (HTTP, JSON), closed loop", &run, typos);
        println!("    process RSS after the run: {rss:.0} MiB (peak {hwm:.0} MiB)");
        summary.rows.push(SummaryRow {
            engine: "souk (HTTP, incl. JSON)".into(),
            run: run.overall.clone(),
            serial: Some(one),
            typos,
            build: format!(
                "index {:.1} s, {}",
                build.as_secs_f64(),
                mib(dir_size(&index_dir))
            ),
        });
        if s.paced > 0.0 {
            let exec = souk_exec(&format!("http://{addr}"), &queries, s.clients);
            let paced = load(&queries, exec, s.clients, s.warmup, s.run, Some(s.paced)).await;
            println!();
            print_run(
                &format!("souk (HTTP, JSON), paced at {:.0} queries/s", s.paced),
                &paced,
                typos,
            );
            summary.rows.push(SummaryRow {
                engine: format!("souk, paced at {:.0}/s", s.paced),
                run: paced.overall.clone(),
                serial: None,
                typos,
                build: String::new(),
            });
        }
    }
    server.abort();
    drop(state);

    if s.wants("fts5") {
        let version: String = sqlx::query_scalar("SELECT sqlite_version()")
            .fetch_one(&writer)
            .await
            .unwrap();
        let fts5: i64 = sqlx::query_scalar("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
            .fetch_one(&writer)
            .await
            .unwrap();
        println!();
        if fts5 == 0 {
            println!("  SQLite FTS5: skipped, the bundled SQLite {version} has no FTS5");
        } else {
            let (took, size) = build_fts5(&writer).await;
            println!(
                "  SQLite {version} FTS5: table built in {:.1} s, {}",
                took.as_secs_f64(),
                mib(size)
            );
            let readers = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(s.pool)
                .min_connections(s.pool)
                .connect_with(
                    options
                        .clone()
                        .read_only(true)
                        .pragma("cache_size", "-65536")
                        .pragma("mmap_size", "268435456"),
                )
                .await
                .unwrap();
            let exec = fts5_exec(readers.clone(), &queries);
            let one = serial(&queries, &exec, s.serial).await;
            print_serial("SQLite FTS5", s.serial, &one);
            let typos = typo_hits(&queries, &exec, s.clients).await;
            let run = load(&queries, exec, s.clients, s.warmup, s.run, None).await;
            print_run(
                &format!("SQLite FTS5 (direct SQL, pool of {})", s.pool),
                &run,
                typos,
            );
            summary.rows.push(SummaryRow {
                engine: "SQLite FTS5 (direct SQL)".into(),
                run: run.overall.clone(),
                serial: Some(one),
                typos,
                build: format!("table {:.1} s, {}", took.as_secs_f64(), mib(size)),
            });
            readers.close().await;
        }
    }

    if s.wants("postgres") {
        println!();
        match &s.postgres {
            None => println!(
                "  PostgreSQL: skipped (set SOUK_BENCH_POSTGRES_URL or SOUK_TEST_POSTGRES_URL)"
            ),
            Some(url) => match build_pg(url, n, &writer, &categories, s.pool).await {
                Err(e) => println!("  PostgreSQL: skipped, {e}"),
                Ok(pg) => {
                    let version: String = sqlx::query_scalar("SHOW server_version")
                        .fetch_one(&pg.pool)
                        .await
                        .unwrap_or_default();
                    println!(
                        "  PostgreSQL {version}: loaded in {:.1} s, indexed in {:.1} s, table \
                         with indexes {}",
                        pg.load_time.as_secs_f64(),
                        pg.index_time.as_secs_f64(),
                        mib(pg.size)
                    );
                    let exec = pg_exec(pg.pool.clone(), &queries);
                    let one = serial(&queries, &exec, s.serial).await;
                    print_serial("PostgreSQL FTS", s.serial, &one);
                    let typos = typo_hits(&queries, &exec, s.clients).await;
                    let run = load(&queries, exec, s.clients, s.warmup, s.run, None).await;
                    print_run(
                        &format!("PostgreSQL FTS (direct SQL, pool of {})", s.pool),
                        &run,
                        typos,
                    );
                    summary.rows.push(SummaryRow {
                        engine: "PostgreSQL FTS (direct SQL)".into(),
                        run: run.overall.clone(),
                        serial: Some(one),
                        typos,
                        build: format!(
                            "load {:.1} s + index {:.1} s, {}",
                            pg.load_time.as_secs_f64(),
                            pg.index_time.as_secs_f64(),
                            mib(pg.size)
                        ),
                    });
                    pg.drop_database().await;
                }
            },
        }
    }
    writer.close().await;
    summary
}

#[tokio::main]
async fn main() {
    souk_server::install_crypto_provider();
    let sizes: Vec<usize> = std::env::var("SOUK_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().replace('_', "").parse().ok())
        .collect();
    let settings = Settings {
        clients: env_num("SOUK_BENCH_CLIENTS", 50),
        warmup: Duration::from_secs(env_num("SOUK_BENCH_WARMUP", 3) as u64),
        run: Duration::from_secs(env_num("SOUK_BENCH_SECONDS", 15) as u64),
        queries: env_num("SOUK_BENCH_QUERIES", 3000),
        pool: env_num("SOUK_BENCH_POOL", 8) as u32,
        postgres: std::env::var("SOUK_BENCH_POSTGRES_URL")
            .or_else(|_| std::env::var("SOUK_TEST_POSTGRES_URL"))
            .ok()
            .filter(|u| !u.is_empty()),
        engines: std::env::var("SOUK_BENCH_ENGINES")
            .unwrap_or_else(|_| "souk,fts5,postgres".into())
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect(),
        profile: env_num("SOUK_BENCH_PROFILE", 1) != 0,
        paced: env_num("SOUK_BENCH_PACED_RATE", 100) as f64,
        serial: env_num("SOUK_BENCH_SERIAL", 200),
    };
    println!("search benchmark");
    println!("machine: {}", machine());
    println!(
        "build: release={}; {} clients, {} s warm-up then {} s per engine; load average at \
         start {}",
        !cfg!(debug_assertions),
        settings.clients,
        settings.warmup.as_secs(),
        settings.run.as_secs(),
        loadavg()
    );
    println!(
        "clients, server and databases share this machine (souk and SQLite also this process): \
         the figures include the load generator's own CPU use, and are noisy when anything else \
         runs"
    );
    let vocab = Arc::new(Vocab::new());
    println!(
        "vocabulary: {} nouns, {} verbs, {} adjectives, {} tags",
        vocab.nouns.len(),
        vocab.verbs.len(),
        vocab.adjectives.len(),
        vocab.tags.len()
    );
    let mut summaries = Vec::new();
    for &n in &sizes {
        summaries.push(bench_size(n, &vocab, &settings).await);
    }

    println!();
    println!("=== summary ({}) ===", machine());
    println!("{GOAL}");
    println!(
        "{} clients closed loop (each sends when answered) unless paced; \"one at a time\": the \
         first {} queries of the mix, sequentially",
        settings.clients, settings.serial
    );
    println!(
        "{:>7}  {:<27} {:>7} {:>7} {:>7} {:>7} {:>6} {:>9} {:>15}  build",
        "modules",
        "engine",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "errors",
        "typo hits",
        "1 at a time p50/p95"
    );
    for s in &summaries {
        for r in &s.rows {
            println!(
                "{:>7}  {:<27} {:>7} {:>7} {:>7} {:>7.0} {:>6} {:>9} {:>15}  {}",
                s.n,
                r.engine,
                ms(r.run.p50),
                ms(r.run.p95),
                ms(r.run.p99),
                r.run.rps,
                r.run.errors,
                format!("{}/{}", r.typos.0, r.typos.1),
                r.serial.as_ref().map_or(String::new(), |st| format!(
                    "{} / {}",
                    ms(st.p50),
                    ms(st.p95)
                )),
                r.build
            );
        }
    }
    println!("load average at the end: {}", loadavg());
}
