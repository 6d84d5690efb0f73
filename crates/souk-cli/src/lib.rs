//! The client commands of `souk`: what a module author runs on their own machine (see
//! [`client`]). This crate knows the marketplace only through its HTTP API; the `souk` binary
//! (crate `souk`) joins it to the server.

pub mod client;
