//! Trending: which modules are growing. A module's activity on a day is its downloads plus a
//! fifth of its page views (a view is a weaker signal than an install); its score compares the
//! last [`WINDOW_DAYS`] days with the [`WINDOW_DAYS`] before:
//! `(recent - previous) / (previous + DAMPING)`. The damping keeps a module that went from 0 to 3
//! downloads from outranking one that went from 1,000 to 2,000. Only positive scores trend.

use souk_store::DayActivity;
use std::collections::HashMap;

pub const WINDOW_DAYS: i64 = 7;
const DAMPING: f64 = 20.0;
const VIEW_WEIGHT: f64 = 0.2;

/// Scores of every module with activity in the last two windows up to `today`.
pub fn scores(activity: &[DayActivity], today: i64) -> HashMap<i64, f64> {
    let mut sums: HashMap<i64, (f64, f64)> = HashMap::new();
    for a in activity {
        let age = today - a.day;
        if !(0..WINDOW_DAYS * 2).contains(&age) {
            continue;
        }
        let weight = a.downloads as f64 + a.views as f64 * VIEW_WEIGHT;
        let e = sums.entry(a.module_id).or_default();
        if age < WINDOW_DAYS {
            e.0 += weight;
        } else {
            e.1 += weight;
        }
    }
    sums.into_iter()
        .map(|(id, (recent, previous))| (id, (recent - previous) / (previous + DAMPING)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(module_id: i64, day: i64, downloads: i64, views: i64) -> DayActivity {
        DayActivity {
            module_id,
            day,
            downloads,
            views,
        }
    }

    #[test]
    fn growth_beats_size_and_old_days_do_not_count() {
        let today = 1000;
        let activity = [
            // Big and flat.
            day(1, today - 10, 5000, 0),
            day(1, today - 2, 5000, 0),
            // Small and growing fast.
            day(2, today - 9, 10, 0),
            day(2, today, 200, 50),
            // Shrinking.
            day(3, today - 8, 300, 0),
            day(3, today - 1, 100, 0),
            // Outside both windows.
            day(4, today - 30, 999, 0),
        ];
        let s = scores(&activity, today);
        assert!(s[&2] > 5.0, "{s:?}");
        assert!(s[&1].abs() < 0.01);
        assert!(s[&3] < 0.0);
        assert!(!s.contains_key(&4));
        // Views count a fifth of a download.
        let v = scores(&[day(5, today, 0, 100)], today);
        assert!((v[&5] - 1.0).abs() < 1e-9);
    }
}
