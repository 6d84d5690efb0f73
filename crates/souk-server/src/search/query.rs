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

mod facets;
use facets::*;

#[cfg(test)]
mod tests;
