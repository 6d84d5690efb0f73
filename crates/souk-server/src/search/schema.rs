//! The index's fields and analyzers, and how a module becomes a document.
//!
//! Text fields are matched word by word: `souk_words` splits on anything that is not a letter or
//! digit (so `world-edit` is `world` and `edit`), lowercases and folds accents; `souk_stem` adds
//! English stemming for the prose fields (summary, description). `name_exact` holds the module name
//! with separators removed so that `world edit`, `world-edit` and `WorldEdit` all find
//! `world-edit` as an exact match. Facets live in one hierarchical field under the roots
//! `/category`, `/tag`, `/pricing`, `/platform`, `/verified` and `/publisher`.
//!
//! [`SCHEMA_VERSION`] is stored with every commit; an index built by another version is rebuilt.

use serde::Serialize;
use souk_store::IndexDoc;
use std::collections::HashMap;
use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, TokenStream,
};
use tantivy::{Index, TantivyDocument};

/// Bump when fields or analyzers change: nodes then rebuild their index at start.
pub const SCHEMA_VERSION: u32 = 1;

pub const WORDS: &str = "souk_words";
pub const STEM: &str = "souk_stem";

/// Every field, resolved once.
#[derive(Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub name: Field,
    pub name_exact: Field,
    pub display_name: Field,
    pub keywords: Field,
    pub tags: Field,
    pub publisher: Field,
    pub summary: Field,
    pub description: Field,
    pub facets: Field,
    pub downloads: Field,
    pub created: Field,
    pub updated: Field,
    pub trending: Field,
    pub trending_flag: Field,
    pub card: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let raw = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | FAST | STORED),
        name: b.add_text_field("name", text(WORDS)),
        name_exact: b.add_text_field("name_exact", raw),
        display_name: b.add_text_field("display_name", text(WORDS)),
        keywords: b.add_text_field("keywords", text(WORDS)),
        tags: b.add_text_field("tags", text(WORDS)),
        publisher: b.add_text_field("publisher", text(WORDS)),
        summary: b.add_text_field("summary", text(STEM)),
        description: b.add_text_field("description", text(STEM)),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        downloads: b.add_u64_field("downloads", FAST),
        created: b.add_i64_field("created", FAST),
        updated: b.add_i64_field("updated", FAST),
        trending: b.add_f64_field("trending", FAST),
        trending_flag: b.add_u64_field("trending_flag", INDEXED),
        card: b.add_text_field("card", STORED),
    };
    (b.build(), fields)
}

fn analyzer(stem: bool) -> TextAnalyzer {
    let b = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    if stem {
        b.filter(Stemmer::new(Language::English)).build()
    } else {
        b.build()
    }
}

/// Registers Souk's analyzers on an index (they are not stored in it).
pub fn register_analyzers(index: &Index) {
    index.tokenizers().register(WORDS, analyzer(false));
    index.tokenizers().register(STEM, analyzer(true));
}

/// The tokens an analyzer makes of `text`, in order.
pub fn tokens(stem: bool, text: &str) -> Vec<String> {
    let mut a = analyzer(stem);
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// A name (or a query) with case folded and separators removed: what `name_exact` holds.
pub fn exact_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a search result shows about a module: stored whole with the document, so that answering
/// a query never touches the database.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Card {
    pub name: String,
    pub display_name: String,
    pub summary: String,
    pub publisher: CardPublisher,
    pub latest_version: String,
    pub downloads: i64,
    /// Category slug.
    pub category: Option<String>,
    pub tags: Vec<String>,
    /// `free` until commerce arrives.
    pub pricing: String,
    pub license: String,
    /// The latest version's host-platform range.
    pub platform: String,
    pub icon_url: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// When the latest version was published, RFC 3339.
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CardPublisher {
    pub slug: String,
    pub display_name: String,
    pub verified: bool,
}

/// Builds the document of a listed module. `category_paths` maps a category id to its slugs
/// from the root; `trending` is the module's trending score.
pub fn document(
    f: &Fields,
    doc: &IndexDoc,
    category_paths: &HashMap<i64, Vec<String>>,
    trending: f64,
) -> TantivyDocument {
    let m = &doc.module;
    let mut d = TantivyDocument::default();
    d.add_u64(f.id, m.id as u64);
    d.add_text(f.name, &m.name);
    d.add_text(f.name_exact, exact_key(&m.name));
    d.add_text(f.display_name, &m.display_name);
    for k in &m.keywords {
        d.add_text(f.keywords, k);
    }
    for t in &m.tags {
        d.add_text(f.tags, t);
    }
    d.add_text(f.publisher, &m.publisher_slug);
    d.add_text(f.publisher, &m.publisher_name);
    d.add_text(f.summary, &m.summary);
    if let Some(desc) = &m.description {
        // The first part of a long description says what matters; the cap bounds index size.
        d.add_text(f.description, truncate(desc, 16 * 1024));
    }
    let path = m.category_id.and_then(|id| category_paths.get(&id));
    if let Some(path) = path {
        d.add_facet(f.facets, facet(&["category"], path));
    }
    for t in &m.tags {
        d.add_facet(f.facets, facet(&["tag"], std::slice::from_ref(t)));
    }
    d.add_facet(f.facets, facet(&["pricing", "free"], &[]));
    let lines = platform_lines(&doc.platform);
    if lines.is_empty() {
        d.add_facet(f.facets, facet(&["platform", "any"], &[]));
    }
    for line in &lines {
        d.add_facet(f.facets, facet(&["platform"], std::slice::from_ref(line)));
    }
    let verified = if doc.publisher_verified {
        "true"
    } else {
        "false"
    };
    d.add_facet(f.facets, facet(&["verified", verified], &[]));
    d.add_facet(
        f.facets,
        facet(&["publisher"], std::slice::from_ref(&m.publisher_slug)),
    );
    d.add_u64(f.downloads, m.downloads.max(0) as u64);
    d.add_i64(f.created, m.created_at.millis());
    d.add_i64(f.updated, doc.published_at.millis());
    d.add_f64(f.trending, trending);
    d.add_u64(f.trending_flag, u64::from(trending > 0.0));
    let card = Card {
        name: m.name.clone(),
        display_name: m.display_name.clone(),
        summary: m.summary.clone(),
        publisher: CardPublisher {
            slug: m.publisher_slug.clone(),
            display_name: m.publisher_name.clone(),
            verified: doc.publisher_verified,
        },
        latest_version: m.latest_version.clone().unwrap_or_default(),
        downloads: m.downloads,
        category: path.and_then(|p| p.last().cloned()),
        tags: m.tags.clone(),
        pricing: "free".into(),
        license: doc.license.clone(),
        platform: doc.platform.clone(),
        icon_url: m
            .icon
            .as_ref()
            .map(|i| format!("/api/v1/images/{}", i.sha256)),
        created_at: m.created_at.to_rfc3339(),
        updated_at: doc.published_at.to_rfc3339(),
    };
    d.add_text(
        f.card,
        serde_json::to_string(&card).expect("cards serialize"),
    );
    d
}

pub fn facet(root: &[&str], rest: &[String]) -> tantivy::schema::Facet {
    tantivy::schema::Facet::from_path(root.iter().copied().chain(rest.iter().map(String::as_str)))
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The host-platform lines (`MAJOR.MINOR`) a version range admits, for the platform facet.
///
/// A range is open-ended more often than not (`>=1.20`), so the lines are enumerated from the
/// versions the range names: every minor of each named major up to five past the highest named
/// minor, kept when the range admits some patch of it. An empty answer means the range names no
/// version (`*`): the module claims every platform.
pub fn platform_lines(range: &str) -> Vec<String> {
    let Ok(req) = semver::VersionReq::parse(range) else {
        return Vec::new();
    };
    let mut majors: HashMap<u64, (u64, Vec<u64>)> = HashMap::new();
    for c in &req.comparators {
        let e = majors.entry(c.major).or_default();
        e.0 = e.0.max(c.minor.unwrap_or(0));
        e.1.push(c.patch.unwrap_or(0));
    }
    let mut lines = Vec::new();
    let mut sorted: Vec<_> = majors.into_iter().collect();
    sorted.sort_by_key(|(m, _)| *m);
    for (major, (max_minor, patches)) in sorted {
        for minor in 0..=(max_minor + 5).min(max_minor + 200) {
            let admits = [0, 999_999]
                .iter()
                .chain(patches.iter())
                .any(|&p| req.matches(&semver::Version::new(major, minor, p)));
            if admits {
                lines.push(format!("{major}.{minor}"));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_lines_follow_the_range() {
        assert_eq!(platform_lines(">=1.20, <1.22"), vec!["1.20", "1.21"]);
        assert_eq!(platform_lines("=1.19.2"), vec!["1.19"]);
        assert_eq!(
            platform_lines("^1.20.4"),
            vec!["1.20", "1.21", "1.22", "1.23", "1.24", "1.25"]
        );
        assert_eq!(platform_lines(">=2.0.0, <3.0.0").first().unwrap(), "2.0");
        assert!(platform_lines("*").is_empty());
        assert!(platform_lines("not a range").is_empty());
    }

    #[test]
    fn analyzers_split_fold_and_stem() {
        assert_eq!(
            tokens(false, "World-Edit Café"),
            vec!["world", "edit", "cafe"]
        );
        assert_eq!(tokens(true, "running shops"), vec!["run", "shop"]);
        assert_eq!(exact_key("World Edit_2"), "worldedit2");
    }
}
