//! Questions about a stored edition: totals grouped one way, and projects matching a
//! [`ProjectFilter`] (whose rules live in keikaku-core, shared with the web server).

use keikaku_core::aggregate::{self, Aggregate, GroupBy};
use keikaku_core::filter::{FilterError, ProjectFilter};
use keikaku_core::{Edition, FiscalYear, Policy, Project};

use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;
use crate::storage::read::EditionInfo;

/// Totals of the selected edition grouped by `by`, for one fiscal year or all.
pub async fn report(
    store: &Store,
    selector: &EditionSelector,
    by: GroupBy,
    year: Option<FiscalYear>,
) -> Result<(EditionInfo, Aggregate), OpsError> {
    let info = find_edition(store, selector).await?;
    if let Some(year) = year
        && !info.span.contains(year)
    {
        return Err(OpsError::BadRequest(format!(
            "{} is outside the edition {} ({})",
            year.label(),
            info.span,
            info.span.long_label()
        )));
    }
    let edition = store.edition(info.id).await?;
    Ok((info, aggregate::aggregate(&edition, by, year)))
}

/// Why a project listing could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ProjectsError {
    /// The edition could not be read.
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// A filter value names nothing in the edition (the edition is given for messages).
    #[error("{error} ({edition})")]
    Filter {
        /// What is wrong.
        error: FilterError,
        /// The edition's label, e.g. `R2-R4`.
        edition: String,
    },
}

/// The selected edition and its projects (with their policies) that pass `filter`; a
/// filter value that names nothing in the edition is an error, never an empty list.
pub async fn projects(
    store: &Store,
    selector: &EditionSelector,
    filter: &ProjectFilter,
) -> Result<(Edition, Vec<(Policy, Project)>), ProjectsError> {
    let info = find_edition(store, selector).await?;
    let edition = store.edition(info.id).await.map_err(OpsError::from)?;
    let selected = filter
        .select(&edition)
        .map_err(|error| ProjectsError::Filter {
            error,
            edition: info.span.label(),
        })?
        .into_iter()
        .map(|(policy, project)| (policy.clone(), project.clone()))
        .collect();
    Ok((edition, selected))
}
