//! Importing documents: read → validate → store in one transaction. A document with any
//! error writes nothing; a valid one is stored entirely or, if storing fails, not at all.

use std::collections::HashMap;

use keikaku_core::diagnostic::Report;
use keikaku_core::import::sheet::SheetChanges;
use keikaku_core::import::{self, Base, Context, Layout, Parsed};
use keikaku_core::source::Source;
use keikaku_core::{EditionSpan, EditionState};

use super::{EditionSelector, OpsError, find_edition};
use crate::storage::write::{EditionStamp, Replace, Stored, Via};
use crate::storage::{Store, StoreError};

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
    /// Replace editions that are already stored (and, for spreadsheets, allow changing a
    /// published edition).
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
    /// For a spreadsheet: what it changed in the stored edition (nothing is written when it
    /// changes nothing).
    pub changes: Option<SheetChanges>,
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

impl From<crate::storage::StoreError> for ImportError {
    fn from(err: crate::storage::StoreError) -> Self {
        ImportError::Ops(OpsError::Store(err))
    }
}

/// What a successful import did, with the warnings a person should still check.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// Editions stored.
    pub editions: Vec<ImportedEdition>,
    /// Warnings (no errors, or nothing would have been stored).
    pub report: Report,
}

/// Checks a document without storing anything, for layouts that need no stored edition.
pub fn validate(
    name: &str,
    bytes: &[u8],
    layout: Option<&'static dyn Layout>,
    context: &Context,
) -> Parsed {
    import::read(&Source { name, bytes }, layout, context)
}

/// For a town's own workbook or CSV/TSV (layout `own`): the column mapping (`列の対応`) keikaku
/// reads it with, to show before anything is stored, or the problems that keep it from
/// finding one. `None` for documents in other layouts.
pub fn column_mapping(
    name: &str,
    bytes: &[u8],
    layout: Option<&'static dyn Layout>,
    context: &Context,
) -> Option<Result<import::own::Mapping, Report>> {
    let source = Source { name, bytes };
    let layout = layout.or_else(|| import::detect(&source, context))?;
    (layout.name() == import::own::OwnPlan.name()).then(|| import::own::describe(&source, context))
}

/// True when reading this document needs the database (a spreadsheet updates a stored
/// edition, which has to be loaded first).
pub fn needs_store(
    name: &str,
    bytes: &[u8],
    layout: Option<&'static dyn Layout>,
    context: &Context,
) -> bool {
    let source = Source { name, bytes };
    layout
        .or_else(|| import::detect(&source, context))
        .is_some_and(|l| l.updates_existing())
}

/// Reads and validates a document; for a spreadsheet, against the stored edition it updates
/// (named by `--edition`, or by the workbook itself).
pub async fn read(store: &Store, request: &ImportRequest<'_>) -> Result<Parsed, ImportError> {
    let source = Source {
        name: request.name,
        bytes: request.bytes,
    };
    let layout = request
        .layout
        .or_else(|| import::detect(&source, &request.context));
    let mut context = request.context.clone();
    if let Some(layout) = layout.filter(|l| l.updates_existing()) {
        context.base = load_base(store, layout, &source, &context).await?;
    }
    Ok(import::read(&source, layout, &context))
}

/// The stored edition a spreadsheet updates, with the ids stored elsewhere and the previous
/// edition. `None` when the edition is not named at all (the importer says so).
async fn load_base(
    store: &Store,
    layout: &dyn Layout,
    source: &Source<'_>,
    context: &Context,
) -> Result<Option<Base>, ImportError> {
    // The document is asked which edition it is only when the caller did not say.
    let identity = if context.municipality.is_none() || context.span.is_none() {
        layout.identify(source)
    } else {
        None
    };
    let municipality = context
        .municipality
        .as_ref()
        .map(|m| m.code.to_string())
        .or_else(|| identity.as_ref().map(|(code, _)| code.clone()));
    let span = context.span.or_else(|| {
        identity
            .as_ref()
            .and_then(|(_, label)| EditionSpan::parse(label))
    });
    let Some(span) = span else {
        return Ok(None);
    };
    // A blank workbook (`keikaku template --blank`) for an edition not stored yet is read
    // against an empty draft of that edition, which importing creates.
    if let Some((blank, blank_span)) = import::sheet::blank_identity(source.bytes)
        && blank_span == span
        && municipality
            .as_deref()
            .is_none_or(|m| m == blank.code.as_str())
        && !store
            .editions()
            .await?
            .iter()
            .any(|e| e.municipality.code == blank.code && e.span == span)
    {
        let other_ids = store
            .stable_ids_of(&blank.code)
            .await?
            .into_iter()
            .collect();
        return Ok(Some(Base {
            edition: keikaku_core::sheet::template::blank_edition(blank, span),
            other_ids,
            previous: None,
        }));
    }
    let info = find_edition(
        store,
        &EditionSelector {
            municipality,
            span: Some(span),
        },
    )
    .await
    .map_err(|err| match err {
        OpsError::NotFound(message) => OpsError::NotFound(format!(
            "{message}; create the edition first with `keikaku roll --from … --to {span}`, \
             or from the workbook of `keikaku template --blank` (xlsx)"
        )),
        other => other,
    })?;
    let edition = store.edition(info.id).await?;
    let own: std::collections::HashSet<String> =
        edition.projects().map(|(_, p)| p.id.to_string()).collect();
    // Ids of the municipality's other editions only: a sheet is never told what another
    // municipality stores (an id of theirs reads as unknown).
    let other_ids: HashMap<String, String> = store
        .stable_ids_of(&info.municipality.code)
        .await?
        .into_iter()
        .filter(|(id, _)| !own.contains(id))
        .collect();
    let previous = match store
        .editions_of(&info.municipality.code)
        .await?
        .into_iter()
        .filter(|e| e.span.first() < info.span.first())
        .max_by_key(|e| e.span)
    {
        Some(previous) => Some(store.edition(previous.id).await?),
        None => None,
    };
    Ok(Some(Base {
        edition,
        other_ids,
        previous,
    }))
}

/// How often a spreadsheet import is merged again when another writer changed its edition
/// between reading and storing.
const SHEET_ATTEMPTS: usize = 3;

/// Reads, validates and stores a document in one transaction. A spreadsheet is merged into the
/// edition it updates (see [`keikaku_core::import::sheet`]); if another writer changes that
/// edition meanwhile, the sheet is merged again with what is stored now, so a concurrent change
/// is never undone. A published edition is changed only with `replace`.
pub async fn import(
    store: &Store,
    request: ImportRequest<'_>,
) -> Result<ImportOutcome, ImportError> {
    import_via(store, request, Via::Cli).await
}

/// [`import`], recorded as coming through `via` (the command line, or a file uploaded in the
/// workspace). The audit log records the file's name and SHA-256 either way.
pub async fn import_via(
    store: &Store,
    request: ImportRequest<'_>,
    via: Via,
) -> Result<ImportOutcome, ImportError> {
    let updates_existing = request
        .layout
        .or_else(|| {
            import::detect(
                &Source {
                    name: request.name,
                    bytes: request.bytes,
                },
                &request.context,
            )
        })
        .is_some_and(|l| l.updates_existing());
    let attempts = if updates_existing { SHEET_ATTEMPTS } else { 1 };
    let mut attempt = 1;
    loop {
        match import_once(store, &request, updates_existing, via, None).await {
            Err(ImportError::Ops(OpsError::Store(StoreError::Conflict(_))))
                if attempt < attempts =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Imports a spreadsheet that updates a stored edition, once, over the state `seen` of that
/// edition (taken by the caller before it read anything it judged the sheet by): if the
/// edition changed since, in place or whole, nothing is stored and the answer is
/// [`StoreError::Conflict`], for the caller to judge the sheet again. The workspace's upload
/// uses it so that its checks of who may change which row hold for what is stored.
pub async fn import_sheet_over(
    store: &Store,
    request: &ImportRequest<'_>,
    via: Via,
    seen: EditionStamp,
) -> Result<ImportOutcome, ImportError> {
    let code = request
        .context
        .municipality
        .as_ref()
        .map(|m| m.code.to_string())
        .unwrap_or_default();
    let span = request.context.span.map_or((0, 0), |s| {
        (i64::from(s.first().year()), i64::from(s.last().year()))
    });
    let seen = HashMap::from([((code, span.0, span.1), seen)]);
    import_once(store, request, true, via, Some(seen)).await
}

async fn import_once(
    store: &Store,
    request: &ImportRequest<'_>,
    updates_existing: bool,
    via: Via,
    seen: Option<HashMap<(String, i64, i64), EditionStamp>>,
) -> Result<ImportOutcome, ImportError> {
    // `--replace` replaces only the edition this import saw, so that a concurrent writer's
    // edition is never silently undone. A spreadsheet is read against the stored edition,
    // so what it saw is taken before reading (or given by the caller); other documents stand
    // alone, and what they replace is looked up (cheaply, per edition) just before writing.
    let seen_before = match seen {
        Some(seen) => Some(seen),
        None if updates_existing => Some(store.edition_stamps().await.map_err(OpsError::from)?),
        None => None,
    };
    let parsed = read(store, request).await?;
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
    if updates_existing
        && !request.replace
        && let Some(published) = parsed
            .editions
            .iter()
            .find(|e| e.edition.state == EditionState::Published)
    {
        return Err(ImportError::Ops(OpsError::BadRequest(format!(
            "{} is published: importing this sheet would change what the public sees; pass --replace to do it, \
             or work on a draft (keikaku publish --draft)",
            published.edition.span
        ))));
    }
    let mut seen = Vec::with_capacity(parsed.editions.len());
    for read in &parsed.editions {
        let edition = &read.edition;
        seen.push(match &seen_before {
            Some(ids) => ids
                .get(&(
                    edition.municipality.code.to_string(),
                    i64::from(edition.span.first().year()),
                    i64::from(edition.span.last().year()),
                ))
                .copied(),
            None => store
                .edition_stamp(&edition.municipality.code, edition.span)
                .await
                .map_err(OpsError::from)?,
        });
    }
    let mut tx = store
        .begin_write(request.actor)
        .await
        .map_err(OpsError::from)?
        .via(via)
        .with_file(request.name, &sha256_hex(request.bytes));
    let mut editions = Vec::new();
    let mut populated = std::collections::HashSet::new();
    for (read, seen) in parsed.editions.iter().zip(seen) {
        let edition = &read.edition;
        // On error the transaction is dropped, which rolls it back: nothing is written.
        let replace = if request.replace || updates_existing {
            Replace::Seen(seen)
        } else {
            Replace::Refuse
        };
        if let (Some(changes), Some(EditionStamp { id, .. })) = (&read.changes, seen)
            && changes.is_empty()
        {
            // The sheet changes nothing: nothing is written.
            editions.push(ImportedEdition {
                municipality: format!(
                    "{} {}",
                    edition.municipality.code, edition.municipality.name
                ),
                edition: edition.span.label(),
                projects: edition.projects().count(),
                stored: Stored {
                    id,
                    replaced: false,
                },
                changes: Some(changes.clone()),
            });
            continue;
        }
        // A sheet changes a stored edition: what it was, to record each changed field.
        let before = match (&read.changes, seen) {
            (Some(_), Some(stamp)) => Some(
                tx.edition_in_transaction(stamp.id)
                    .await
                    .map_err(OpsError::from)?,
            ),
            _ => None,
        };
        let stored = tx
            .store_edition(edition, replace)
            .await
            .map_err(OpsError::from)?;
        if let Some(changes) = &read.changes {
            let subject = format!("{} {}", edition.municipality.code, edition.span.label());
            tx.audit(
                "import-sheet",
                &subject,
                &sheet_detail(request.name, changes),
            )
            .await
            .map_err(OpsError::from)?;
            if let Some(before) = &before {
                record_field_changes(&mut tx, &subject, before, edition)
                    .await
                    .map_err(OpsError::from)?;
            }
        }
        if let Some(population) = read.population
            && populated.insert(edition.municipality.code.clone())
        {
            tx.set_population(&edition.municipality.code, None, population)
                .await
                .map_err(OpsError::from)?;
        }
        editions.push(ImportedEdition {
            municipality: format!(
                "{} {}",
                edition.municipality.code, edition.municipality.name
            ),
            edition: edition.span.label(),
            projects: edition.projects().count(),
            stored,
            changes: read.changes.clone(),
        });
    }
    tx.commit().await.map_err(OpsError::from)?;
    Ok(ImportOutcome {
        editions,
        report: parsed.report,
    })
}

/// The audit detail of a sheet import: the file and what it changed.
fn sheet_detail(file: &str, changes: &SheetChanges) -> String {
    format!(
        "file={file}; updated={}; added={}; removed={}; unchanged={}; not_in_sheet={}; structure={}",
        changes.updated.join(" | "),
        changes.added.join(" | "),
        changes.removed.join(" | "),
        changes.unchanged,
        changes.not_in_sheet,
        changes.structure.join(" | ")
    )
}

/// The SHA-256 of a file, in lower-case hex, as the audit log records it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Records one audit entry per goal or policy field the sheet's structure sheet changed (added
/// and removed ones too), then one per field a sheet changed, project by project (added and
/// removed projects too), as a form's save does.
async fn record_field_changes(
    tx: &mut crate::storage::write::WriteTx,
    subject: &str,
    before: &keikaku_core::Edition,
    after: &keikaku_core::Edition,
) -> Result<(), StoreError> {
    let find = super::workspace::find_project;
    let mut ids: Vec<&str> = before
        .projects()
        .chain(after.projects())
        .map(|(_, p)| p.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    for change in keikaku_core::audit::structure_changes(before, after) {
        tx.record(&crate::storage::write::Entry {
            action: "import-sheet",
            subject,
            detail: "施策体系",
            project: "",
            field: &change.field,
            old: change.old.as_deref(),
            new: change.new.as_deref(),
            comment: "",
        })
        .await?;
    }
    for id in ids {
        let (old, new) = (find(before, id), find(after, id));
        let name = new.or(old).map_or("", |(_, p)| p.name.as_str());
        for change in keikaku_core::audit::field_changes(old, new, after.span) {
            tx.record(&crate::storage::write::Entry {
                action: "import-sheet",
                subject,
                detail: name,
                project: id,
                field: &change.field,
                old: change.old.as_deref(),
                new: change.new.as_deref(),
                comment: "",
            })
            .await?;
        }
    }
    Ok(())
}
