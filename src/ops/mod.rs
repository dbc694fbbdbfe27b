//! Use cases shared by the command line and the web server. Each function takes a
//! [`Store`] and plain inputs, does one thing, and returns domain values or an [`OpsError`];
//! rendering is the caller's business.

pub mod accounts;
pub mod backup;
pub mod compare;
pub mod diff;
pub mod editions;
pub mod export;
pub mod import;
pub mod publish;
pub mod query;
pub mod sample;
pub mod sheet;
pub mod workspace;

use keikaku_core::{EditionSpan, MunicipalityCode};

use crate::storage::read::EditionInfo;
use crate::storage::{Store, StoreError};

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing matches what was asked for.
    #[error("{0}")]
    NotFound(String),
    /// The request is ambiguous or malformed.
    #[error("{0}")]
    BadRequest(String),
}

/// Which edition a command is about: a municipality (code or name) and a span, each optional.
#[derive(Debug, Clone, Default)]
pub struct EditionSelector {
    /// Municipality code or name.
    pub municipality: Option<String>,
    /// The edition's span; the latest when absent.
    pub span: Option<EditionSpan>,
}

/// Finds the edition the selector names: within the municipality (required only when the
/// database holds several), the given span or else the latest.
pub async fn find_edition(
    store: &Store,
    selector: &EditionSelector,
) -> Result<EditionInfo, OpsError> {
    // A municipality named by its code is listed alone (a national database holds thousands
    // of editions); a name, or none, needs the whole list.
    let editions = match selector
        .municipality
        .as_deref()
        .and_then(|m| MunicipalityCode::parse(m).ok())
    {
        Some(code) => match store.editions_of(&code).await? {
            found if found.is_empty() => store.editions().await?,
            found => found,
        },
        None => store.editions().await?,
    };
    if editions.is_empty() {
        return Err(OpsError::NotFound(
            "the database holds no plan yet; import one with `keikaku import FILE`".into(),
        ));
    }
    let in_municipality: Vec<&EditionInfo> = match &selector.municipality {
        Some(wanted) => editions
            .iter()
            .filter(|e| e.municipality.code.as_str() == wanted || e.municipality.name == *wanted)
            .collect(),
        None => {
            let mut codes: Vec<String> = editions
                .iter()
                .map(|e| format!("{} {}", e.municipality.code, e.municipality.name))
                .collect();
            codes.dedup();
            if codes.len() > 1 {
                // A national database holds 1,741: name a few, count the rest.
                const NAMED: usize = 5;
                let more = codes.len().saturating_sub(NAMED);
                let mut named = codes.into_iter().take(NAMED).collect::<Vec<_>>().join(", ");
                if more > 0 {
                    named.push_str(&format!(
                        " and {more} more; `keikaku municipality list` lists them"
                    ));
                }
                return Err(OpsError::BadRequest(format!(
                    "the database holds several municipalities ({named}); choose one with --municipality"
                )));
            }
            editions.iter().collect()
        }
    };
    if in_municipality.is_empty() {
        return Err(OpsError::NotFound(format!(
            "no plan for municipality {:?}",
            selector.municipality.as_deref().unwrap_or_default()
        )));
    }
    let chosen = match selector.span {
        Some(span) => in_municipality.iter().find(|e| e.span == span).copied(),
        None => in_municipality.iter().max_by_key(|e| e.span).copied(),
    };
    chosen.cloned().ok_or_else(|| {
        let stored: Vec<String> = in_municipality.iter().map(|e| e.span.label()).collect();
        OpsError::NotFound(format!(
            "no edition {} (stored: {})",
            selector.span.map(|s| s.label()).unwrap_or_default(),
            stored.join(", ")
        ))
    })
}
