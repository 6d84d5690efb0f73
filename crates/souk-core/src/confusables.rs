//! Look-alike module names: `world-edit`, `wor1dedit` or a Cyrillic `wоrldedit` next to a popular
//! `worldedit` is how typosquatting starts, so a new name that looks like an existing one goes to
//! a moderator.
//!
//! Two names look alike when their [`skeleton`]s are equal, or when the skeletons are long enough
//! and one or two typing slips apart (Damerau-Levenshtein distance; see [`lookalike`]). Names that
//! are equal once normalized (`my_mod` and `My-Mod`) are not look-alikes: they are the *same*
//! name, a plain conflict that [`crate::names`] settles.
//!
//! The skeleton is deliberately conservative, so that it folds what really looks the same in a
//! sans-serif font and little else (a false match costs a publisher a review):
//!
//! 1. Unicode NFKC, which turns compatibility forms into their plain letters: fullwidth `ｗ`,
//!    mathematical `𝐰`, ligatures `ﬁ`, the script `ℓ`;
//! 2. invisible characters (zero-width spaces and joiners, soft hyphens, bidi controls, variation
//!    selectors) removed;
//! 3. each character folded through a table of Cyrillic, Greek and IPA letters that are drawn like
//!    Latin ones (`а` → `a`, `ο` → `o`), then lower-cased; the digits `0` → `o` and `1` → `l`;
//! 4. separators removed: `-`, `_`, `.` and whitespace;
//! 5. the letter pairs `rn` → `m` and `vv` → `w`, after separators, so that the skeleton depends
//!    only on the letters.
//!
//! Not folded, on purpose: other digits (`5` and `s`, `3` and `e` are told apart in any UI font),
//! accented letters (`é` is visibly not `e`; the edit distance still catches a single one), and
//! `cl`/`d` (too many real words).

use crate::names::normalize_name;
use unicode_normalization::UnicodeNormalization;

/// Why a name looks like an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookalikeReason {
    /// The skeletons are equal: the names look the same.
    SameSkeleton,
    /// The skeletons are this many edits (insertion, deletion, substitution, swap of neighbours)
    /// apart.
    EditDistance(usize),
}

/// An existing name that a candidate looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookalike {
    pub reason: LookalikeReason,
    pub existing_name: String,
}

/// Skeletons at least this long may be one edit apart and still look alike; shorter ones differ
/// in too large a share of their letters (`chat` and `chad` are different names).
pub const MIN_LEN_FOR_ONE_EDIT: usize = 5;
/// Skeletons at least this long may be two edits apart.
pub const MIN_LEN_FOR_TWO_EDITS: usize = 10;

/// The form two look-alike names share; see the module documentation for the steps.
pub fn skeleton(name: &str) -> String {
    let folded: String = name
        .nfkc()
        .filter(|&c| !is_invisible(c))
        .flat_map(fold_char)
        .filter(|&c| !is_separator(c))
        .collect();
    fold_pairs(&folded)
}

/// Whether `candidate` looks like `existing` without being the same normalized name.
///
/// Equal skeletons always look alike. Otherwise the shorter skeleton decides how many edits are
/// tolerated: one from [`MIN_LEN_FOR_ONE_EDIT`] characters, two from [`MIN_LEN_FOR_TWO_EDITS`].
pub fn lookalike(candidate: &str, existing: &str) -> Option<Lookalike> {
    let candidate_skeleton = skeleton(candidate);
    compare(
        &normalize_name(candidate),
        &candidate_skeleton,
        existing,
        &skeleton(existing),
    )
}

/// The existing name `candidate` looks most like: one with the same skeleton if there is one,
/// otherwise the one fewest edits away (the first of equals).
pub fn find_lookalike<'a, I>(candidate: &str, existing: I) -> Option<Lookalike>
where
    I: IntoIterator<Item = &'a str>,
{
    let normalized = normalize_name(candidate);
    let candidate_skeleton = skeleton(candidate);
    let mut best: Option<Lookalike> = None;
    for name in existing {
        let Some(found) = compare(&normalized, &candidate_skeleton, name, &skeleton(name)) else {
            continue;
        };
        let rank = |l: &Lookalike| match l.reason {
            LookalikeReason::SameSkeleton => 0,
            LookalikeReason::EditDistance(d) => d,
        };
        if best.as_ref().is_none_or(|b| rank(&found) < rank(b)) {
            let same = found.reason == LookalikeReason::SameSkeleton;
            best = Some(found);
            if same {
                break;
            }
        }
    }
    best
}

fn compare(
    candidate_normalized: &str,
    candidate_skeleton: &str,
    existing: &str,
    existing_skeleton: &str,
) -> Option<Lookalike> {
    if candidate_normalized == normalize_name(existing) || candidate_skeleton.is_empty() {
        return None;
    }
    let found = |reason| {
        Some(Lookalike {
            reason,
            existing_name: existing.to_string(),
        })
    };
    if candidate_skeleton == existing_skeleton {
        return found(LookalikeReason::SameSkeleton);
    }
    let a: Vec<char> = candidate_skeleton.chars().collect();
    let b: Vec<char> = existing_skeleton.chars().collect();
    let shorter = a.len().min(b.len());
    let tolerated = if shorter >= MIN_LEN_FOR_TWO_EDITS {
        2
    } else if shorter >= MIN_LEN_FOR_ONE_EDIT {
        1
    } else {
        0
    };
    // Lengths further apart than the tolerance cannot be within it; skip the table.
    if tolerated == 0 || a.len().abs_diff(b.len()) > tolerated {
        return None;
    }
    match damerau_levenshtein(&a, &b) {
        d if d <= tolerated => found(LookalikeReason::EditDistance(d)),
        _ => None,
    }
}

/// Edit distance where swapping two neighbours counts as one edit (the "optimal string
/// alignment" form: no substring is edited twice), since `worldedti` is one slip from `worldedit`.
fn damerau_levenshtein(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// Whether a name has anything but ASCII in it, or mixes scripts. The second implies the first
/// (ASCII letters are all Latin), so this is a plain ASCII check; [`is_mixed_script`] tells the
/// stronger sign of spoofing (Latin with Cyrillic, say) apart from an honest `café`.
pub fn is_non_ascii_or_mixed_script(name: &str) -> bool {
    !name.is_ascii()
}

/// Whether, after NFKC, the name's letters come from more than one of the Latin, Greek, Cyrillic
/// and Armenian scripts, the ones whose letters pass for each other. Digits and punctuation belong
/// to no script; letters of other scripts are not counted.
pub fn is_mixed_script(name: &str) -> bool {
    let mut seen: Option<Script> = None;
    for script in name.nfkc().filter_map(script_of) {
        match seen {
            None => seen = Some(script),
            Some(s) if s != script => return true,
            Some(_) => {}
        }
    }
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
    Armenian,
}

fn script_of(c: char) -> Option<Script> {
    if !c.is_alphabetic() {
        return None;
    }
    match u32::from(c) {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x250..=0x2AF | 0x1E00..=0x1EFF => {
            Some(Script::Latin)
        }
        0x370..=0x3FF | 0x1F00..=0x1FFF => Some(Script::Greek),
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => {
            Some(Script::Cyrillic)
        }
        0x530..=0x58F => Some(Script::Armenian),
        _ => None,
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.') || c.is_whitespace()
}

/// Characters that draw nothing (or only steer layout), so that `world\u{200B}edit` shows as
/// `worldedit`. Unicode's Default_Ignorable_Code_Point set, less the ranges no name would hold.
fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0xAD | 0x34F
            | 0x61C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Folds one character: through the look-alike table (upper-case entries included, since an
/// upper-case Cyrillic `В` passes for `B` while its lower case `в` does not pass for `b`), else
/// lower-cased and through the table again.
fn fold_char(c: char) -> Vec<char> {
    if let Some(latin) = latin_lookalike(c) {
        return vec![latin];
    }
    c.to_lowercase()
        .map(|l| latin_lookalike(l).unwrap_or(l))
        .collect()
}

/// The Latin letter (or, for digits, the letter) that `c` is drawn like, where it is drawn the
/// same in common fonts. After NFKC, so only canonical forms are listed.
fn latin_lookalike(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'l',
        // Cyrillic, lower case.
        'а' => 'a',
        'с' => 'c',
        'ԁ' => 'd',
        'е' => 'e',
        'һ' => 'h',
        'і' => 'i',
        'ј' => 'j',
        'ӏ' => 'l',
        'о' => 'o',
        'р' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'у' => 'y',
        'ԝ' => 'w',
        'х' => 'x',
        // Cyrillic, upper case whose lower case looks different.
        'В' => 'b',
        'Н' => 'h',
        'К' => 'k',
        'М' => 'm',
        'Т' => 't',
        // Greek, lower case.
        'α' => 'a',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'υ' => 'u',
        'χ' => 'x',
        // Greek, upper case whose lower case looks different.
        'Β' => 'b',
        'Ε' => 'e',
        'Ζ' => 'z',
        'Η' => 'h',
        'Ι' => 'i',
        'Μ' => 'm',
        'Ν' => 'n',
        'Τ' => 't',
        'Υ' => 'y',
        // Latin letters from IPA and Turkish that pass for plain ones.
        'ɑ' => 'a',
        'ɡ' => 'g',
        'ı' => 'i',
        'ɩ' => 'i',
        _ => return None,
    })
}

/// `rn` → `m` and `vv` → `w`, left to right.
fn fold_pairs(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('r', Some('n')) => {
                out.push('m');
                i += 2;
            }
            ('v', Some('v')) => {
                out.push('w');
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_skeleton(candidate: &str, existing: &str) {
        assert_eq!(
            lookalike(candidate, existing),
            Some(Lookalike {
                reason: LookalikeReason::SameSkeleton,
                existing_name: existing.to_string()
            }),
            "{candidate:?} vs {existing:?}"
        );
    }

    fn distance(candidate: &str, existing: &str, d: usize) {
        assert_eq!(
            lookalike(candidate, existing).map(|l| l.reason),
            Some(LookalikeReason::EditDistance(d)),
            "{candidate:?} vs {existing:?}"
        );
    }

    fn different(candidate: &str, existing: &str) {
        assert_eq!(
            lookalike(candidate, existing),
            None,
            "{candidate:?} vs {existing:?}"
        );
    }

    #[test]
    fn skeletons() {
        assert_eq!(skeleton("worldedit"), "worldedit");
        assert_eq!(skeleton("World-Edit"), "worldedit");
        assert_eq!(skeleton("world_edit"), "worldedit");
        assert_eq!(skeleton("world.edit plus"), "worldeditplus");
        assert_eq!(skeleton("wor1dedit"), "worldedit");
        assert_eq!(skeleton("w0rldedit"), "worldedit");
        // Cyrillic о and е, Greek ο.
        assert_eq!(skeleton("w\u{43E}rld\u{435}dit"), "worldedit");
        assert_eq!(skeleton("w\u{3BF}rldedit"), "worldedit");
        // Fullwidth and mathematical bold letters, through NFKC.
        assert_eq!(skeleton("ｗｏｒｌｄｅｄｉｔ"), "worldedit");
        assert_eq!(skeleton("\u{1D430}orldedit"), "worldedit");
        // Invisible characters.
        assert_eq!(skeleton("world\u{200B}edit\u{AD}"), "worldedit");
        // Upper-case Cyrillic that passes for Latin capitals.
        assert_eq!(skeleton("\u{41A}\u{41E}\u{41C}\u{410}"), "koma");
        assert_eq!(skeleton("\u{412}\u{41E}\u{421}\u{421}"), "bocc");
        // Letter pairs.
        assert_eq!(skeleton("modern"), "modem");
        assert_eq!(skeleton("vvorldedit"), "worldedit");
        assert_eq!(skeleton("r-n"), "m");
        // Not folded.
        assert_eq!(skeleton("cla55ic"), "cla55ic");
        assert_eq!(skeleton("café"), "café");
        assert_eq!(skeleton("---"), "");
    }

    #[test]
    fn realistic_lookalikes_of_worldedit() {
        same_skeleton("world-edit", "worldedit");
        same_skeleton("world_edit", "worldedit");
        same_skeleton("wor1dedit", "worldedit");
        same_skeleton("w0rld-edit", "worldedit");
        same_skeleton("w\u{43E}rldedit", "worldedit");
        same_skeleton("vvorldedit", "worldedit");
        // One slip: a swap, a missing, an extra or a wrong letter.
        distance("worldedti", "worldedit", 1);
        distance("worldeit", "worldedit", 1);
        distance("worldedits", "worldedit", 1);
        distance("worldedut", "worldedit", 1);
        distance("wrldedit", "world-edit", 1);
    }

    #[test]
    fn the_same_normalized_name_is_not_a_lookalike() {
        different("worldedit", "worldedit");
        different("WorldEdit", "worldedit");
        different("world_edit", "world-edit");
        different(" world-edit ", "World_Edit");
    }

    #[test]
    fn longer_names_tolerate_two_edits() {
        distance("essentialsx", "essentials", 1);
        distance("permisionsexx", "permissionsex", 2);
        distance("multiverse-cores", "multiverse-core", 1);
        // Two edits on a name under ten letters is too many.
        different("worlddeditt", "worldedit");
        different("wordedti", "worldedit");
    }

    #[test]
    fn clear_non_matches() {
        different("economy", "economic-plus");
        different("economy", "economic");
        different("multiverse-core", "multiverse-portals");
        different("luckperms", "luckperms-plus");
        different("worldguard", "worldedit");
        // Short names differ in too large a share of their letters.
        different("chat", "chad");
        different("tpa", "tpo");
        different("home", "homes");
        // A name of separators only has no skeleton to compare.
        different("--", "__x");
    }

    #[test]
    fn finds_the_closest_existing_name() {
        let popular = ["essentials", "worldedit", "worldguard", "world-edit-cui"];
        let found = find_lookalike("worldedti", popular).unwrap();
        assert_eq!(found.existing_name, "worldedit");
        assert_eq!(found.reason, LookalikeReason::EditDistance(1));

        let found = find_lookalike("wor1d-edit", popular).unwrap();
        assert_eq!(found.reason, LookalikeReason::SameSkeleton);
        assert_eq!(found.existing_name, "worldedit");

        // The exact name is a conflict, not a look-alike; but its neighbours still count.
        assert_eq!(find_lookalike("worldguard", popular), None);
        assert_eq!(find_lookalike("economy", popular), None);
        assert_eq!(find_lookalike("anything", []), None);
    }

    #[test]
    fn damerau_levenshtein_counts_swaps_as_one() {
        let d = |a: &str, b: &str| {
            damerau_levenshtein(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("", ""), 0);
        assert_eq!(d("abc", ""), 3);
        assert_eq!(d("", "ab"), 2);
        assert_eq!(d("ab", "ba"), 1);
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("worldedit", "worldedti"), 1);
        assert_eq!(d("ca", "abc"), 3);
    }

    #[test]
    fn scripts() {
        assert!(!is_non_ascii_or_mixed_script("worldedit"));
        assert!(!is_non_ascii_or_mixed_script("world-edit_2"));
        assert!(is_non_ascii_or_mixed_script("w\u{43E}rldedit"));
        assert!(is_non_ascii_or_mixed_script("café"));
        assert!(is_non_ascii_or_mixed_script("ｗｏｒｌｄ"));

        assert!(is_mixed_script("w\u{43E}rldedit"));
        assert!(is_mixed_script("\u{3B1}lpha-beta"));
        assert!(!is_mixed_script("café-crème"));
        assert!(!is_mixed_script("мир-2"));
        assert!(!is_mixed_script("ｗｏｒｌｄ edit"));
        assert!(!is_mixed_script("worldedit"));
    }
}
