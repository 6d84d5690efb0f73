//! Facet counting for a search: per root (category, tag, pricing, platform, verified), the
//! number of matching modules under each child, counted by a tantivy collector over a per-segment
//! table of each document's children.

use super::*;

/// The roots a search counts facets under, in the order [`ChildCounts`] answers them.
pub(super) const ROOTS: [&str; 5] = ["category", "tag", "pricing", "platform", "verified"];

/// The roots, and (one level is counted per collector, as tantivy's `FacetCollector` does) the
/// subcategories of the category filtered on.
pub(super) type FacetCollectors = (ChildCounter, Option<ChildCounter>);
pub(super) type Counted = (ChildCounts, Option<ChildCounts>);

pub(super) fn facet_collectors(r: &SearchRequest) -> FacetCollectors {
    let roots = ChildCounter::new(ROOTS.iter().map(|root| facet(&[root], &[])).collect());
    let sub = r
        .category
        .as_ref()
        .map(|path| ChildCounter::new(vec![facet(&["category"], path)]));
    (roots, sub)
}

/// The children of the root at position `root` of the counter's roots, by name.
pub(super) fn values(counts: &ChildCounts, root: usize) -> Vec<FacetValue> {
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

pub(super) fn facets_of((counts, sub): &Counted) -> Facets {
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
pub(super) struct ChildTable {
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

pub(super) const NO_SLOT: u32 = u32::MAX;
/// Memory the tables may take (about 4.5 MB per 100,000 documents for the search roots); past
/// it the cache starts over. Segments come and go as the index merges.
pub(super) const MAX_TABLE_BYTES: usize = 128 * 1024 * 1024;

pub(super) type TableKey = (SegmentId, Vec<Facet>);

#[derive(Default)]
pub(super) struct Tables {
    tables: HashMap<TableKey, Arc<ChildTable>>,
    bytes: usize,
}

/// Segment ids are random UUIDs and segments never change, so a table stays right for as long
/// as anyone can ask for it, whichever index of the process it came from.
static TABLES: LazyLock<Mutex<Tables>> = LazyLock::new(Default::default);

/// The table of `segment` for `roots`, from the cache or built with one pass over the facet
/// dictionary and one over the segment's documents.
pub(super) fn child_table(
    segment: &SegmentReader,
    roots: &[Facet],
) -> tantivy::Result<Arc<ChildTable>> {
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
