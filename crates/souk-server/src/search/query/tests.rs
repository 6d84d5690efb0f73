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
