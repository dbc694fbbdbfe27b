//! keikaku-core: the pure domain of keikaku, software that keeps, checks and publishes a
//! Japanese municipality's 実施計画 (rolling three-year implementation plan).
//!
//! This crate owns the plan model, reading documents into it, validating it, aggregating it
//! and writing it out. It performs no I/O of its own: no database, network, clock, environment
//! or file system access beyond the bytes and values a caller passes in. That keeps every rule
//! testable in isolation and lets the CLI, the web server and the tests share one
//! implementation.

pub mod aggregate;
pub mod audit;
pub mod canonical;
pub mod diagnostic;
pub mod diff;
pub mod export;
pub mod filter;
pub mod fiscal;
pub mod form;
pub mod import;
pub mod model;
pub mod money;
pub mod municipality;
pub mod roll;
pub mod search;
pub mod sheet;
pub mod source;
pub mod status;
pub mod strategy;
pub mod synth;
pub mod validate;
pub mod workspace;

pub use diagnostic::{Code, Diagnostic, Lang, Position, Severity};
pub use fiscal::{EditionSpan, FiscalYear};
pub use model::{
    Edition, EditionState, FundingKind, Goal, Policy, PolicyCode, Project, ProjectId, YearCost,
};
pub use money::Money;
pub use municipality::{Date, Municipality, MunicipalityCode, Population};
pub use status::Status;
pub use strategy::{StrategyCode, StrategyLink};
