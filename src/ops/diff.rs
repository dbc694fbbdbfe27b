//! What changed between two editions of a municipality, and one project through its editions.

use keikaku_core::diff::{self, EditionDiff, Link};
use keikaku_core::{Edition, EditionSpan, Policy, Project};

use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;
use crate::storage::read::EditionInfo;

/// The diff from edition `from` to edition `to` of the municipality.
pub async fn diff(
    store: &Store,
    municipality: Option<String>,
    from: EditionSpan,
    to: EditionSpan,
    links: &[Link],
) -> Result<(EditionInfo, EditionInfo, EditionDiff), OpsError> {
    let a = find_edition(
        store,
        &EditionSelector {
            municipality: municipality.clone(),
            span: Some(from),
        },
    )
    .await?;
    let b = find_edition(
        store,
        &EditionSelector {
            municipality,
            span: Some(to),
        },
    )
    .await?;
    if a.municipality.code != b.municipality.code {
        return Err(OpsError::BadRequest(
            "both editions must belong to one municipality".into(),
        ));
    }
    let (ea, eb) = (store.edition(a.id).await?, store.edition(b.id).await?);
    let result = diff::diff(&ea, &eb, links).map_err(|e| OpsError::BadRequest(e.to_string()))?;
    Ok((a, b, result))
}

/// Every edition of the municipality (oldest first) with the project there, following the
/// project named `reference` (e.g. `7-3-5`, or a stable id) in edition `at` (default: the
/// latest edition that has it).
pub async fn history(
    store: &Store,
    municipality: Option<String>,
    reference: &str,
    at: Option<EditionSpan>,
) -> Result<Vec<(EditionInfo, Option<(Policy, Project)>)>, OpsError> {
    let anchor = find_edition(
        store,
        &EditionSelector {
            municipality,
            span: at,
        },
    )
    .await?;
    let infos: Vec<EditionInfo> = store.editions_of(&anchor.municipality.code).await?;
    let mut editions: Vec<Edition> = Vec::with_capacity(infos.len());
    for info in &infos {
        editions.push(store.edition(info.id).await?);
    }
    let has = |e: &Edition| {
        e.projects().any(|(p, j)| {
            j.id.as_str() == reference || format!("{}-{}", p.code, j.number) == reference
        })
    };
    let start = match at {
        Some(span) => infos.iter().position(|i| i.span == span),
        None => (0..editions.len()).rev().find(|k| has(&editions[*k])),
    }
    .ok_or_else(|| {
        OpsError::NotFound(format!(
            "no project {reference} in {}",
            anchor.municipality.name
        ))
    })?;
    let refs: Vec<&Edition> = editions.iter().collect();
    let trail = diff::history(&refs, start, reference).ok_or_else(|| {
        OpsError::NotFound(format!("no project {reference} in {}", infos[start].span))
    })?;
    Ok(infos
        .into_iter()
        .zip(trail)
        .map(|(info, found)| (info, found.map(|(p, j)| (p.clone(), j.clone()))))
        .collect())
}
