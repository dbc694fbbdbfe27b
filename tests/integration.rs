//! keikaku's integration tests: one binary, one module per area. Every test that touches
//! storage runs on SQLite always and on PostgreSQL too when `KEIKAKU_TEST_PG_URL` is set, each
//! in a database of its own (see `integration/support.rs`).

#[path = "../crates/keikaku-core/tests/golden/mod.rs"]
mod golden;

mod integration {
    pub mod blank;
    pub mod cli;
    pub mod data_version;
    pub mod docs;
    pub mod downloads;
    pub mod exports;
    pub mod faults;
    pub mod input;
    pub mod national;
    pub mod own;
    pub mod rolling;
    pub mod server;
    pub mod storage;
    pub mod support;
    pub mod web;
    pub mod workspace;
    pub mod workspace_cli;
}
