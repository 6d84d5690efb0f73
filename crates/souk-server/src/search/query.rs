//! Search requests: validating what a client asks for, turning it into a tantivy query, and
//! reading the answer (cards, total, facet counts).
//!
//! Query text is never parsed as a query language: it is split into words by the same analyzer
//! as the index, so `"(:*^~` and unbalanced quotes are just characters. It is bounded
//! ([`MAX_QUERY_CHARS`], [`MAX_WORDS`]) so that a long query costs no more than a short one.
//!
//! Matching: every word must match some field (name, display name, keywords, tags, publisher,
//! summary, description, the last two stemmed); the last word also matches as a prefix while the
//! visitor is still typing (no trailing space); words of 4+ letters match with one typo, 8+ with
//! two, in the name-like fields. Alternatively the whole query, separators removed, equals the
//! module's name: that match is boosted far above any other, so an exact name comes first.
//! Relevance is then nudged by downloads: at most +28% at a million, so popularity breaks ties
//! between similar text matches without burying a better one.

use super::SearchIndex;
use super::schema::{self, Card, Fields, exact_key, facet};
use crate::error::{AppError, AppResult};
use serde::{Deserialize, Serialize};
use souk_core::Cursor;
use souk_store::{Category, DynStore, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::index::SegmentId;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, Query,
    TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Term, Value};
use tantivy::{DocAddress, DocId, Order, Score, SegmentOrdinal, SegmentReader, TantivyDocument};
use utoipa::{IntoParams, ToSchema};

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_WORDS: usize = 8;
/// Deepest result a cursor can reach; past it, narrow the query.
pub const MAX_OFFSET: usize = 10_000;
/// Pricing models a module can have; every module is `free` until commerce arrives.
pub const PRICING: &[&str] = &["free", "one_time", "subscription", "trial", "usage", "tier"];

/// The query string of `GET /api/v1/search` (and of browsing, which is a search without `q`).
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to look for. Empty or absent: browse every module with the filters.
    pub q: Option<String>,
    /// A category slug; its subcategories are included.
    pub category: Option<String>,
    /// A tag, or several separated by commas (all must match).
    pub tag: Option<String>,
    /// A pricing model: `free`, `one_time`, `subscription`, `trial`, `usage` or `tier`.
    pub pricing: Option<String>,
    /// A host-platform version (`1.20` or `1.20.4`): modules whose range admits that line.
    pub platform: Option<String>,
    /// A publisher slug.
    pub publisher: Option<String>,
    /// `true` for verified publishers only, `false` for the others.
    pub verified: Option<String>,
    /// `relevance` (default with `q`), `downloads` (default without), `newest`, `updated` or
    /// `trending`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 20.
    #[serde(default, deserialize_with = "crate::extract::whole_number_limit")]
    pub limit: Option<u32>,
    /// `false` to leave out facet counts (autocomplete does not need them).
    pub facets: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Downloads,
    Newest,
    Updated,
    Trending,
}

impl Sort {
    pub const ALL: [Sort; 5] = [
        Sort::Relevance,
        Sort::Downloads,
        Sort::Newest,
        Sort::Updated,
        Sort::Trending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Downloads => "downloads",
            Sort::Newest => "newest",
            Sort::Updated => "updated",
            Sort::Trending => "trending",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A validated request.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub q: String,
    /// The category's slugs from the root.
    pub category: Option<Vec<String>>,
    pub tags: Vec<String>,
    pub pricing: Option<String>,
    /// `MAJOR.MINOR`.
    pub platform: Option<String>,
    pub publisher: Option<String>,
    pub verified: Option<bool>,
    /// Only modules with a positive trending score.
    pub trending_only: bool,
    pub sort: Option<Sort>,
    pub offset: usize,
    pub limit: usize,
    pub facets: bool,
}

#[derive(Serialize, Deserialize)]
struct SearchCursor {
    o: usize,
}

fn invalid(code: &'static str, field: &'static str, message: String) -> AppError {
    AppError::unprocessable(code, field, message)
}

/// Cuts `s` to at most `max` characters.
pub fn bounded(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl SearchRequest {
    /// Validates the query string against the category tree and the publishers: an unknown
    /// filter value or sort is a 422, a cursor this server did not issue a 400.
    pub async fn parse(p: &SearchParams, store: &DynStore) -> AppResult<SearchRequest> {
        let q = bounded(p.q.as_deref().unwrap_or("").trim_start(), MAX_QUERY_CHARS).to_owned();
        let category = match p.category.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(slug) => Some(category_path(&store.categories().await?, slug).ok_or_else(
                || {
                    invalid(
                        "unknown_category",
                        "category",
                        format!("there is no category `{}`", bounded(slug, 64)),
                    )
                },
            )?),
        };
        let mut tags = Vec::new();
        for t in p
            .tag
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let ok = t.len() <= 32
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(invalid(
                    "invalid_tag",
                    "tag",
                    format!("`{}` is not a tag", bounded(t, 64)),
                ));
            }
            tags.push(t.to_owned());
        }
        if tags.len() > 10 {
            return Err(invalid("invalid_tag", "tag", "at most 10 tags".into()));
        }
        let pricing = match p.pricing.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) if PRICING.contains(&s) => Some(s.to_owned()),
            Some(s) => {
                return Err(invalid(
                    "unknown_pricing",
                    "pricing",
                    format!(
                        "`{}` is not a pricing model; one of {}",
                        bounded(s, 64),
                        PRICING.join(", ")
                    ),
                ));
            }
        };
        let platform = match p.platform.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(platform_line(s).ok_or_else(|| {
                invalid(
                    "invalid_platform",
                    "platform",
                    format!(
                        "`{}` is not a version such as 1.20 or 1.20.4",
                        bounded(s, 64)
                    ),
                )
            })?),
        };
        let publisher = match p.publisher.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(slug) => match store.publisher_by_slug(slug).await {
                Ok(p) => Some(p.slug),
                Err(StoreError::NotFound) => {
                    return Err(invalid(
                        "unknown_publisher",
                        "publisher",
                        format!("there is no publisher `{}`", bounded(slug, 64)),
                    ));
                }
                Err(e) => return Err(e.into()),
            },
        };
        let verified = match p.verified.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(invalid(
                    "invalid_verified",
                    "verified",
                    format!("`{}` is neither true nor false", bounded(other, 64)),
                ));
            }
        };
        let sort = match p.sort.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(Sort::parse(s).ok_or_else(|| {
                let all: Vec<&str> = Sort::ALL.iter().map(|s| s.as_str()).collect();
                invalid(
                    "invalid_sort",
                    "sort",
                    format!(
                        "`{}` is not a sort; one of {}",
                        bounded(s, 64),
                        all.join(", ")
                    ),
                )
            })?),
        };
        let offset = match p.cursor.as_deref() {
            None | Some("") => 0,
            Some(c) => {
                let c: SearchCursor = Cursor::decode(c)
                    .map_err(|e| AppError::bad_request("invalid_cursor", e.to_string()))?;
                if c.o > MAX_OFFSET {
                    return Err(AppError::bad_request(
                        "invalid_cursor",
                        "cursor: is not a cursor this server issued",
                    ));
                }
                c.o
            }
        };
        let facets = !matches!(p.facets.as_deref(), Some("false" | "0"));
        Ok(SearchRequest {
            q,
            category,
            tags,
            pricing,
            platform,
            publisher,
            verified,
            trending_only: false,
            sort,
            offset,
            limit: souk_core::cursor::page_limit(p.limit) as usize,
            facets,
        })
    }

    /// The sort in effect: relevance needs words to be relevant to.
    pub fn effective_sort(&self) -> Sort {
        match self.sort {
            Some(Sort::Relevance) | None if !self.has_words() => Sort::Downloads,
            Some(s) => s,
            None => Sort::Relevance,
        }
    }

    fn has_words(&self) -> bool {
        self.q.chars().any(char::is_alphanumeric)
    }
}

/// `1.20` or `1.20.4` to the line `1.20`.
fn platform_line(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.trim().split('.').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 9 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let major: u64 = parts[0].parse().ok()?;
    let minor: u64 = parts[1].parse().ok()?;
    Some(format!("{major}.{minor}"))
}

/// The slugs from the root down to the category `slug`.
pub fn category_path(all: &[Category], slug: &str) -> Option<Vec<String>> {
    let c = all.iter().find(|c| c.slug == slug)?;
    Some(slugs(all, c.id))
}

/// The slugs of the category `id` and its ancestors, root first.
pub fn slugs(all: &[Category], id: i64) -> Vec<String> {
    souk_store::category_ancestry(all, id)
        .into_iter()
        .map(|c| c.slug.clone())
        .collect()
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// Counts over the whole result set, per value.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Facets {
    /// Top-level categories, and the subcategories of the category filtered on.
    pub category: Vec<FacetValue>,
    /// The 30 most frequent tags.
    pub tag: Vec<FacetValue>,
    pub pricing: Vec<FacetValue>,
    /// Platform lines, newest first (`any`: modules that claim every platform).
    pub platform: Vec<FacetValue>,
    /// `true` and `false`: verified publishers or not.
    pub verified: Vec<FacetValue>,
}

pub struct SearchResults {
    pub total: u64,
    pub items: Vec<Card>,
    pub sort: Sort,
    pub next_offset: Option<usize>,
    pub facets: Option<Facets>,
}

impl SearchResults {
    pub fn next_cursor(&self) -> Option<String> {
        self.next_offset
            .map(|o| Cursor::encode(&SearchCursor { o }).into_string())
    }
}

fn term_q(field: Field, text: &str, boost: Score) -> Box<dyn Query> {
    let q = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    Box::new(BoostQuery::new(Box::new(q), boost))
}

fn fuzzy_q(field: Field, text: &str, distance: u8, prefix: bool, boost: Score) -> Box<dyn Query> {
    let term = Term::from_field_text(field, text);
    let q = if prefix {
        FuzzyTermQuery::new_prefix(term, distance, true)
    } else {
        FuzzyTermQuery::new(term, distance, true)
    };
    Box::new(BoostQuery::new(Box::new(q), boost))
}

fn facet_q(f: &Fields, facet: tantivy::schema::Facet) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_facet(f.facets, &facet),
        IndexRecordOption::Basic,
    ))
}

/// The words part of the query; `None` when the text has no words.
fn text_query(f: &Fields, q: &str) -> Option<Box<dyn Query>> {
    let mut words = schema::tokens(false, q);
    words.truncate(MAX_WORDS);
    if words.is_empty() {
        // Letters that made no word (one longer than any indexed word) match nothing; only
        // punctuation or nothing at all browses.
        return q
            .chars()
            .any(char::is_alphanumeric)
            .then(|| Box::new(EmptyQuery) as Box<dyn Query>);
    }
    let still_typing = !q.ends_with(char::is_whitespace);
    let name_like = [
        (f.name, 6.0),
        (f.display_name, 4.0),
        (f.keywords, 3.0),
        (f.tags, 3.0),
    ];
    let n = words.len();
    let per_word: Vec<Box<dyn Query>> = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut any: Vec<Box<dyn Query>> = name_like
                .iter()
                .map(|&(field, b)| term_q(field, w, b))
                .collect();
            any.push(term_q(f.publisher, w, 1.5));
            let stem = schema::tokens(true, w)
                .into_iter()
                .next()
                .unwrap_or_else(|| w.clone());
            any.push(term_q(f.summary, &stem, 2.0));
            any.push(term_q(f.description, &stem, 1.0));
            let chars = w.chars().count();
            if i + 1 == n && still_typing && chars >= 2 {
                any.extend(
                    name_like
                        .iter()
                        .map(|&(field, b)| fuzzy_q(field, w, 0, true, b * 0.5)),
                );
            }
            let typos = match chars {
                0..4 => 0,
                4..8 => 1,
                _ => 2,
            };
            if typos > 0 {
                any.extend(
                    name_like
                        .iter()
                        .map(|&(field, b)| fuzzy_q(field, w, typos, false, b * 0.3)),
                );
            }
            Box::new(BooleanQuery::union(any)) as Box<dyn Query>
        })
        .collect();
    let mut either: Vec<Box<dyn Query>> = vec![Box::new(BooleanQuery::intersection(per_word))];
    let key = exact_key(q);
    if !key.is_empty() && key.len() <= 128 {
        either.push(term_q(f.name_exact, &key, 40.0));
    }
    Some(Box::new(BooleanQuery::union(either)))
}

fn build_query(f: &Fields, r: &SearchRequest) -> Box<dyn Query> {
    let text = text_query(f, &r.q).unwrap_or_else(|| Box::new(AllQuery));
    let mut filters: Vec<Box<dyn Query>> = Vec::new();
    if let Some(path) = &r.category {
        filters.push(facet_q(f, facet(&["category"], path)));
    }
    for t in &r.tags {
        filters.push(facet_q(f, facet(&["tag"], std::slice::from_ref(t))));
    }
    if let Some(p) = &r.pricing {
        filters.push(facet_q(f, facet(&["pricing", p], &[])));
    }
    if let Some(line) = &r.platform {
        filters.push(Box::new(BooleanQuery::union(vec![
            facet_q(f, facet(&["platform"], std::slice::from_ref(line))),
            facet_q(f, facet(&["platform", "any"], &[])),
        ])));
    }
    if let Some(p) = &r.publisher {
        filters.push(facet_q(f, facet(&["publisher"], std::slice::from_ref(p))));
    }
    if let Some(v) = r.verified {
        filters.push(facet_q(
            f,
            facet(&["verified", if v { "true" } else { "false" }], &[]),
        ));
    }
    if r.trending_only {
        filters.push(Box::new(TermQuery::new(
            Term::from_field_u64(f.trending_flag, 1),
            IndexRecordOption::Basic,
        )));
    }
    if filters.is_empty() {
        return text;
    }
    let mut clauses = vec![(Occur::Must, text)];
    clauses.extend(filters.into_iter().map(|q| {
        (
            Occur::Must,
            Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>,
        )
    }));
    Box::new(BooleanQuery::new(clauses))
}

/// The roots a search counts facets under, in the order [`ChildCounts`] answers them.
const ROOTS: [&str; 5] = ["category", "tag", "pricing", "platform", "verified"];

/// The roots, and (one level is counted per collector, as tantivy's `FacetCollector` does) the
/// subcategories of the category filtered on.
type FacetCollectors = (ChildCounter, Option<ChildCounter>);
type Counted = (ChildCounts, Option<ChildCounts>);

fn facet_collectors(r: &SearchRequest) -> FacetCollectors {
    let roots = ChildCounter::new(ROOTS.iter().map(|root| facet(&[root], &[])).collect());
    let sub = r
        .category
        .as_ref()
        .map(|path| ChildCounter::new(vec![facet(&["category"], path)]));
    (roots, sub)
}

/// The children of the root at position `root` of the counter's roots, by name.
fn values(counts: &ChildCounts, root: usize) -> Vec<FacetValue> {
    counts
        .0
        .get(root)
        .into_iter()
        .flatten()
        .map(|(value, &count)| FacetValue {
            value: value.clone(),
            count,
        })
        .collect()
}

fn facets_of((counts, sub): &Counted) -> Facets {
    let mut category = values(counts, 0);
    if let Some(sub) = sub {
        category.extend(values(sub, 0));
    }
    // The 30 most frequent tags; among equal counts, the first by name.
    let mut tag = values(counts, 1);
    tag.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    tag.truncate(30);
    let mut platform = values(counts, 3);
    let key = |v: &FacetValue| -> (u64, u64) {
        let mut it = v
            .value
            .split('.')
            .map(|p| p.parse::<u64>().unwrap_or(u64::MAX));
        (it.next().unwrap_or(0), it.next().unwrap_or(0))
    };
    platform.sort_by_key(|v| std::cmp::Reverse(key(v)));
    platform.truncate(20);
    Facets {
        category,
        tag,
        pricing: values(counts, 2),
        platform,
        verified: values(counts, 4),
    }
}

/// Counts, under each of some root facets, the matching documents per direct child of the root:
/// a document counts once for a child when it has that child or a facet below it. These are the
/// counts of tantivy's `FacetCollector`, which this replaces.
///
/// The difference is the work per search. `FacetCollector` streams the segment's facet
/// dictionary at the start of every search to map ordinals to children, decodes each matching
/// document's ordinals from the facet column, and looks every counted child up in the dictionary
/// again at the end: under load that was a quarter of all CPU time, and more for broad queries.
/// A segment never changes, so this works out once per segment and set of roots which children
/// each document counts for (see [`child_table`]) and keeps that; a search only adds ones.
pub struct ChildCounter {
    roots: Vec<Facet>,
}

impl ChildCounter {
    pub fn new(roots: Vec<Facet>) -> Self {
        Self { roots }
    }
}

/// Per root (in the counter's order), child name to count; counts above zero only.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChildCounts(Vec<BTreeMap<String, u64>>);

/// One segment's children per document for one set of roots.
struct ChildTable {
    /// Document `d` counts for the slots `doc_slots[starts[d]..starts[d + 1]]`.
    starts: Vec<u32>,
    doc_slots: Vec<u32>,
    /// Per slot: the root's position and the child's name.
    slots: Vec<(usize, String)>,
}

impl ChildTable {
    fn bytes(&self) -> usize {
        4 * (self.starts.len() + self.doc_slots.len())
    }
}

const NO_SLOT: u32 = u32::MAX;
/// Memory the tables may take (about 4.5 MB per 100,000 documents for the search roots); past
/// it the cache starts over. Segments come and go as the index merges.
const MAX_TABLE_BYTES: usize = 128 * 1024 * 1024;

type TableKey = (SegmentId, Vec<Facet>);

#[derive(Default)]
struct Tables {
    tables: HashMap<TableKey, Arc<ChildTable>>,
    bytes: usize,
}

/// Segment ids are random UUIDs and segments never change, so a table stays right for as long
/// as anyone can ask for it, whichever index of the process it came from.
static TABLES: LazyLock<Mutex<Tables>> = LazyLock::new(Default::default);

/// The table of `segment` for `roots`, from the cache or built with one pass over the facet
/// dictionary and one over the segment's documents.
fn child_table(segment: &SegmentReader, roots: &[Facet]) -> tantivy::Result<Arc<ChildTable>> {
    let key = (segment.segment_id(), roots.to_vec());
    if let Some(t) = TABLES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .tables
        .get(&key)
    {
        return Ok(t.clone());
    }
    let reader = segment.facet_reader("facets")?;
    let encoded: Vec<&[u8]> = roots.iter().map(|r| r.encoded_str().as_bytes()).collect();
    let mut slot_of = vec![NO_SLOT; reader.num_facets()];
    let mut slots: Vec<(usize, String)> = Vec::new();
    let mut slot_ids: HashMap<(usize, Vec<u8>), u32> = HashMap::new();
    let mut stream = reader.facet_dict().range().into_stream()?;
    while stream.advance() {
        let term = stream.key();
        // Strictly below a root: the root's bytes, a separator, then the child and more.
        let below = encoded.iter().enumerate().find_map(|(i, r)| {
            let under = !r.is_empty()
                && term.len() > r.len() + 1
                && term.starts_with(r)
                && term[r.len()] == 0;
            under.then(|| (i, &term[r.len() + 1..]))
        });
        let Some((root, rest)) = below else {
            continue;
        };
        let child = &rest[..rest.iter().position(|&b| b == 0).unwrap_or(rest.len())];
        let next = slots.len() as u32;
        let slot = *slot_ids.entry((root, child.to_vec())).or_insert_with(|| {
            slots.push((root, String::from_utf8_lossy(child).into_owned()));
            next
        });
        slot_of[stream.term_ord() as usize] = slot;
    }
    let mut starts = Vec::with_capacity(segment.max_doc() as usize + 1);
    let mut doc_slots = Vec::new();
    starts.push(0);
    for doc in 0..segment.max_doc() {
        // A document's ordinals come sorted, and the facets under one child are contiguous in
        // that order: skipping a repeat of the previous slot keeps each child once.
        let mut previous = NO_SLOT;
        for ord in reader.facet_ords(doc) {
            let slot = slot_of[ord as usize];
            if slot != NO_SLOT && slot != previous {
                doc_slots.push(slot);
            }
            previous = slot;
        }
        starts.push(doc_slots.len() as u32);
    }
    let table = Arc::new(ChildTable {
        starts,
        doc_slots,
        slots,
    });
    let mut cache = TABLES.lock().unwrap_or_else(|p| p.into_inner());
    if cache.bytes + table.bytes() > MAX_TABLE_BYTES {
        *cache = Tables::default();
    }
    cache.bytes += table.bytes();
    if let Some(old) = cache.tables.insert(key, table.clone()) {
        cache.bytes -= old.bytes();
    }
    Ok(table)
}

pub struct ChildSegmentCounter {
    table: Arc<ChildTable>,
    counts: Vec<u64>,
    roots: usize,
}

impl Collector for ChildCounter {
    type Fruit = ChildCounts;
    type Child = ChildSegmentCounter;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<ChildSegmentCounter> {
        let table = child_table(segment, &self.roots)?;
        Ok(ChildSegmentCounter {
            counts: vec![0; table.slots.len()],
            table,
            roots: self.roots.len(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<ChildCounts>) -> tantivy::Result<ChildCounts> {
        let mut merged = ChildCounts(vec![BTreeMap::new(); self.roots.len()]);
        for fruit in fruits {
            for (into, from) in merged.0.iter_mut().zip(fruit.0) {
                for (child, count) in from {
                    *into.entry(child).or_insert(0) += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for ChildSegmentCounter {
    type Fruit = ChildCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let t = &self.table;
        let (from, to) = (t.starts[doc as usize], t.starts[doc as usize + 1]);
        for &slot in &t.doc_slots[from as usize..to as usize] {
            self.counts[slot as usize] += 1;
        }
    }

    fn harvest(self) -> ChildCounts {
        let mut counts = ChildCounts(vec![BTreeMap::new(); self.roots]);
        for (slot, &count) in self.counts.iter().enumerate() {
            if count > 0 {
                let (root, child) = &self.table.slots[slot];
                counts.0[*root].insert(child.clone(), count);
            }
        }
        counts
    }
}

/// The popularity prior: a relevance score is multiplied by `1 + 0.02 ln(1 + downloads)`.
fn popularity_boost(downloads: u64) -> Score {
    1.0 + 0.02 * (1.0 + downloads as f32).ln()
}

/// Boosts kept; past this the cache starts over.
const MAX_BOOST_TABLES: usize = 64;

static BOOSTS: LazyLock<Mutex<HashMap<SegmentId, Arc<[Score]>>>> = LazyLock::new(Default::default);

/// Every document's [`popularity_boost`] in `segment`, computed once per segment (a segment's
/// download counts never change: a new count is a new document) instead of a column read and a
/// logarithm for every matching document of every search.
fn popularity_boosts(segment: &SegmentReader) -> Arc<[Score]> {
    let id = segment.segment_id();
    if let Some(b) = BOOSTS.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
        return b.clone();
    }
    let downloads = segment
        .fast_fields()
        .u64("downloads")
        .ok()
        .map(|c| c.first_or_default_col(0));
    let boosts: Arc<[Score]> = (0..segment.max_doc())
        .map(|doc| popularity_boost(downloads.as_ref().map_or(0, |c| c.get_val(doc))))
        .collect();
    let mut cache = BOOSTS.lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() >= MAX_BOOST_TABLES {
        cache.clear();
    }
    cache.insert(id, boosts.clone());
    boosts
}

/// Collects one page with `top`, the total and (optionally) facet counts in one pass.
fn collect<K, C>(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    top: C,
    facets: Option<FacetCollectors>,
) -> tantivy::Result<(Vec<DocAddress>, u64, Option<Counted>)>
where
    C: Collector<Fruit = Vec<(K, DocAddress)>>,
{
    let (page, total, counts) = searcher.search(query, &(top, Count, facets))?;
    Ok((
        page.into_iter().map(|(_, a)| a).collect(),
        total as u64,
        counts,
    ))
}

impl SearchIndex {
    /// Runs a validated request against the current index.
    pub fn search(&self, r: &SearchRequest) -> anyhow::Result<SearchResults> {
        let f = self.fields();
        let searcher = self.searcher();
        let query = build_query(f, r);
        let sort = r.effective_sort();
        let facets = r.facets.then(|| facet_collectors(r));
        let top = TopDocs::with_limit(r.limit).and_offset(r.offset);
        let (page, total, counts) = match sort {
            Sort::Relevance => {
                let top = top.tweak_score(|seg: &SegmentReader| {
                    let boosts = popularity_boosts(seg);
                    move |doc: DocId, score: Score| score * boosts[doc as usize]
                });
                collect(&searcher, &*query, top, facets)?
            }
            Sort::Downloads => collect(
                &searcher,
                &*query,
                top.order_by_fast_field::<u64>("downloads", Order::Desc),
                facets,
            )?,
            Sort::Newest => collect(
                &searcher,
                &*query,
                top.order_by_fast_field::<i64>("created", Order::Desc),
                facets,
            )?,
            Sort::Updated => collect(
                &searcher,
                &*query,
                top.order_by_fast_field::<i64>("updated", Order::Desc),
                facets,
            )?,
            Sort::Trending => collect(
                &searcher,
                &*query,
                top.order_by_fast_field::<f64>("trending", Order::Desc),
                facets,
            )?,
        };
        let mut items = Vec::with_capacity(page.len());
        for addr in page {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let card = doc
                .get_first(f.card)
                .and_then(|v| v.as_str())
                .unwrap_or("{}");
            items.push(serde_json::from_str(card)?);
        }
        let end = r.offset + items.len();
        let next_offset =
            ((end as u64) < total && end <= MAX_OFFSET && !items.is_empty()).then_some(end);
        Ok(SearchResults {
            total,
            items,
            sort,
            next_offset,
            facets: counts.map(|c| facets_of(&c)),
        })
    }

    /// Listed modules per category slug, subcategories included.
    pub fn category_counts(
        &self,
        categories: &[Category],
    ) -> anyhow::Result<std::collections::HashMap<String, u64>> {
        let tops: Vec<&Category> = categories
            .iter()
            .filter(|c| c.parent_id.is_none())
            .collect();
        let top = ChildCounter::new(vec![facet(&["category"], &[])]);
        let children = ChildCounter::new(
            tops.iter()
                .map(|cat| facet(&["category"], std::slice::from_ref(&cat.slug)))
                .collect(),
        );
        let (top, children) = self.searcher().search(&AllQuery, &(top, children))?;
        let mut out = std::collections::HashMap::new();
        for v in values(&top, 0) {
            out.insert(v.value, v.count);
        }
        for i in 0..tops.len() {
            for v in values(&children, i) {
                out.insert(v.value, v.count);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_lines_parse() {
        assert_eq!(platform_line("1.20").as_deref(), Some("1.20"));
        assert_eq!(platform_line("1.20.4").as_deref(), Some("1.20"));
        assert_eq!(platform_line("01.020").as_deref(), Some("1.20"));
        for bad in ["1", "1.x", "1.20.4.5", "a.b", "1..2", "", "1.2-beta"] {
            assert!(platform_line(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn long_queries_are_cut_on_a_character_boundary() {
        let s = "é".repeat(1000);
        assert_eq!(
            bounded(&s, MAX_QUERY_CHARS).chars().count(),
            MAX_QUERY_CHARS
        );
        assert_eq!(bounded("short", MAX_QUERY_CHARS), "short");
    }

    /// The counts of [`ChildCounter`] are those of tantivy's `FacetCollector`, over several
    /// segments, deleted documents, documents at a root itself, and filtered queries.
    #[test]
    fn child_counts_equal_tantivys_facet_counts() {
        use tantivy::collector::FacetCollector;
        let (schema, f) = schema::schema();
        let index = tantivy::Index::create_in_ram(schema);
        schema::register_analyzers(&index);
        let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let categories: [&[&str]; 6] = [
            &["gameplay"],
            &["gameplay", "pvp"],
            &["gameplay", "minigames"],
            &["economy"],
            &["economy", "shops"],
            &["gameplay-extra"],
        ];
        let tags = ["chat", "economy", "pvp", "shop", "world", "a-b", "zz"];
        let mut id = 0u64;
        for _segment in 0..3 {
            for _ in 0..400 {
                id += 1;
                let mut d = TantivyDocument::default();
                d.add_u64(f.id, id);
                if next(10) > 0 {
                    let path = categories[next(6) as usize];
                    d.add_facet(f.facets, Facet::from_path(["category"].iter().chain(path)));
                }
                let mut seen = Vec::new();
                for _ in 0..next(4) {
                    let t = tags[next(7) as usize];
                    if !seen.contains(&t) {
                        seen.push(t);
                        d.add_facet(f.facets, Facet::from_path(["tag", t]));
                    }
                }
                d.add_facet(f.facets, Facet::from_path(["pricing", "free"]));
                for line in 0..next(4) {
                    d.add_facet(
                        f.facets,
                        Facet::from_path(["platform", &format!("1.{}", 18 + line)]),
                    );
                }
                let verified = if next(5) == 0 { "true" } else { "false" };
                d.add_facet(f.facets, Facet::from_path(["verified", verified]));
                d.add_facet(
                    f.facets,
                    Facet::from_path(["publisher", &format!("p{}", next(9))]),
                );
                w.add_document(d).unwrap();
            }
            for _ in 0..30 {
                w.delete_term(Term::from_field_u64(f.id, 1 + next(id)));
            }
            w.commit().unwrap();
        }
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1, "several segments");
        let queries: Vec<Box<dyn Query>> = vec![
            Box::new(AllQuery),
            facet_q(&f, Facet::from_path(["tag", "pvp"])),
            facet_q(&f, Facet::from_path(["category", "gameplay"])),
            facet_q(&f, Facet::from_path(["verified", "true"])),
        ];
        let root_sets: Vec<Vec<Facet>> = vec![
            ROOTS.iter().map(|r| Facet::from_path([r])).collect(),
            vec![Facet::from_path(["category", "gameplay"])],
            vec![
                Facet::from_path(["category", "economy"]),
                Facet::from_path(["category", "gameplay"]),
            ],
        ];
        let mut compared = 0;
        for q in &queries {
            for roots in &root_sets {
                // Twice: the second time from the cached tables.
                for _ in 0..2 {
                    let mut theirs = FacetCollector::for_field("facets");
                    for r in roots {
                        theirs.add_facet(r.clone());
                    }
                    let ours = ChildCounter::new(roots.clone());
                    let (expected, got) = searcher.search(&**q, &(theirs, ours)).unwrap();
                    for (i, r) in roots.iter().enumerate() {
                        let want: Vec<(String, u64)> = expected
                            .get(r.clone())
                            .map(|(f, c)| (f.to_path().last().unwrap().to_string(), c))
                            .collect();
                        let have: Vec<(String, u64)> = values(&got, i)
                            .into_iter()
                            .map(|v| (v.value, v.count))
                            .collect();
                        compared += want.len();
                        assert_eq!(have, want, "{q:?} under {r}");
                    }
                }
            }
        }
        assert!(compared > 50, "the comparison saw counts");
    }
}
