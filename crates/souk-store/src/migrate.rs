//! Embedded migrations. Each backend carries its own SQL files, numbered in lockstep, and a
//! checksum of every applied file is kept so that an edited, already-applied migration is an error
//! rather than a silent difference between databases.

#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        souk_core::secret::sha256_hex(self.sql.as_bytes())
    }
}
