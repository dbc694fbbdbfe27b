//! Importing documents: read → validate → store in one transaction. A document with any
//! error writes nothing; a valid one is stored entirely or, if storing fails, not at all.

use keikaku_core::diagnostic::Report;
use keikaku_core::import::{self, Context, Layout, Parsed};
use keikaku_core::source::Source;

use super::OpsError;
use crate::storage::Store;
use crate::storage::write::Stored;

/// A document to import.
pub struct ImportRequest<'a> {
    /// Its name (shown in diagnostics and recorded as the edition's source).
    pub name: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// The layout, or `None` to detect it.
    pub layout: Option<&'static dyn Layout>,
    /// What the caller knows (municipality, edition, encoding, rules).
    pub context: Context,
    /// Replace editions that are already stored.
    pub replace: bool,
    /// Who is importing, for the audit log.
    pub actor: &'a str,
}

/// One stored edition.
#[derive(Debug, Clone)]
pub struct ImportedEdition {
    /// Municipality code and name.
    pub municipality: String,
    /// Edition label.
    pub edition: String,
    /// Number of projects.
    pub projects: usize,
    /// Database id and whether it replaced an older copy.
    pub stored: Stored,
}

/// Why an import stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The document has errors; the report lists every problem.
    #[error("the document has {} error(s); nothing was stored", .0.error_count())]
    Invalid(Report),
    /// The layout does not name the municipality and none was given.
    #[error(
        "this document does not name its municipality; pass --municipality CODE --municipality-name NAME (or set [municipality] in keikaku.toml)"
    )]
    MissingMunicipality,
    /// Storing failed; the transaction was rolled back.
    #[error(transparent)]
    Ops(#[from] OpsError),
}

/// What a successful import did, with the warnings a person should still check.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// Editions stored.
    pub editions: Vec<ImportedEdition>,
    /// Warnings (no errors, or nothing would have been stored).
    pub report: Report,
}

/// Checks a document without storing anything.
pub fn validate(
    name: &str,
    bytes: &[u8],
    layout: Option<&'static dyn Layout>,
    context: &Context,
) -> Parsed {
    import::read(&Source { name, bytes }, layout, context)
}

/// Reads, validates and stores a document in one transaction.
pub async fn import(
    store: &Store,
    request: ImportRequest<'_>,
) -> Result<ImportOutcome, ImportError> {
    let parsed = validate(
        request.name,
        request.bytes,
        request.layout,
        &request.context,
    );
    if parsed.report.has_errors() {
        return Err(ImportError::Invalid(parsed.report));
    }
    if parsed
        .editions
        .iter()
        .any(|e| e.edition.municipality.is_unspecified())
    {
        return Err(ImportError::MissingMunicipality);
    }
    let mut tx = store
        .begin_write(request.actor)
        .await
        .map_err(OpsError::from)?;
    let mut editions = Vec::new();
    for read in &parsed.editions {
        let edition = &read.edition;
        // On error the transaction is dropped, which rolls it back: nothing is written.
        let stored = tx
            .store_edition(edition, request.replace)
            .await
            .map_err(OpsError::from)?;
        editions.push(ImportedEdition {
            municipality: format!(
                "{} {}",
                edition.municipality.code, edition.municipality.name
            ),
            edition: edition.span.label(),
            projects: edition.projects().count(),
            stored,
        });
    }
    tx.commit().await.map_err(OpsError::from)?;
    Ok(ImportOutcome {
        editions,
        report: parsed.report,
    })
}
