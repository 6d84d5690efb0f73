//! Client commands: what a module author runs on their own machine. `init` and `pack` work
//! offline, on a folder; the commands that talk to a marketplace build on them.
//!
//! Like every `souk` command, they fail with one line (`error: ...`) and exit 1.

pub mod init;
pub mod pack;
