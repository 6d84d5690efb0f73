//! Debian's `minisign`, which the signature tests check Souk against.

use std::process::Command;

/// Whether Debian's `minisign` can be run; when it cannot, the check is skipped with a note,
/// unless `SOUK_TEST_REQUIRE_ALL` is set.
pub fn minisign_available() -> bool {
    let found = Command::new("minisign").arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("SOUK_TEST_REQUIRE_ALL").is_none(),
            "SOUK_TEST_REQUIRE_ALL is set but minisign is not installed (apt-get install minisign)"
        );
        eprintln!("skipped the minisign checks: minisign is not installed");
    }
    found
}
