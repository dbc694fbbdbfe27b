//! keikaku's integration tests: one binary, one module per area. Storage and CLI tests run
//! on SQLite always and on PostgreSQL too when `KEIKAKU_TEST_PG_URL` is set (each test in a
//! fresh schema of its own).

#[path = "../crates/keikaku-core/tests/golden/mod.rs"]
mod golden;

mod integration {
    pub mod cli;
    pub mod faults;
    pub mod input;
    pub mod national;
    pub mod rolling;
    pub mod storage;
    pub mod support;
    pub mod web;
}
