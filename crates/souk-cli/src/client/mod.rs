//! Client commands: what a module author runs on their own machine. `init` and `pack` work
//! offline, on a folder, and so do `key generate` and `sign`; `login`, `publish`, `yank`,
//! `unyank`, `info`, `download`, `search`, `key register|list|revoke` and `verify` talk to a
//! marketplace's API, chosen as [`config`] describes (`verify` works offline too, given keys and
//! signature files).
//!
//! Like every `souk` command, they fail with one line (`error: ...`) and exit 1.

pub mod api;
pub mod config;
pub mod download;
pub mod info;
pub mod init;
pub mod key;
pub mod login;
pub mod pack;
pub mod publish;
pub mod search;
pub mod sign;
pub mod spec;
pub mod verify;
pub mod yank;
