//! Client commands: what a module author runs on their own machine. `init` and `pack` work
//! offline, on a folder; `login`, `publish`, `yank`, `unyank`, `info`, `download`, `search` and
//! `verify` talk to a marketplace's API, chosen as [`config`] describes (`verify` works offline
//! too, given a key and a signature file).
//!
//! Like every `souk` command, they fail with one line (`error: ...`) and exit 1.

pub mod api;
pub mod config;
pub mod download;
pub mod info;
pub mod init;
pub mod login;
pub mod pack;
pub mod publish;
pub mod search;
pub mod spec;
pub mod verify;
pub mod yank;
