//! keikaku keeps, checks and publishes a municipality's 実施計画 (the rolling three-year
//! implementation plan of its 総合計画).
//!
//! The library is layered so that dependencies point one way: [`cli`] (and the web server)
//! call [`ops`], `ops` calls [`storage`], and everything uses the pure domain in
//! `keikaku-core`. A command or handler parses its input, calls one `ops` function and
//! renders the result.

pub mod auth;
pub mod config;
pub mod ops;
pub mod storage;
pub mod web;
