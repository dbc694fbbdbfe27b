//! Questions about a stored edition: totals grouped one way, and projects matching filters.

use keikaku_core::aggregate::{self, Aggregate, GroupBy};
use keikaku_core::{Edition, FiscalYear, Policy, Project, StrategyCode};

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

/// Which projects to list.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    /// Policy code, e.g. `7-3`.
    pub policy: Option<String>,
    /// A department (exact name).
    pub department: Option<String>,
    /// 区分 (its label, e.g. 新規).
    pub status: Option<String>,
    /// Strategy code in any spelling (`Ⅲ(4)`, `III(4)`).
    pub strategy: Option<String>,
}

/// The selected edition and its projects (with their policies) that pass `filter`.
pub async fn projects(
    store: &Store,
    selector: &EditionSelector,
    filter: &ProjectFilter,
) -> Result<(Edition, Vec<(Policy, Project)>), OpsError> {
    let strategy = match &filter.strategy {
        Some(text) => Some(StrategyCode::parse(text).ok_or_else(|| {
            OpsError::BadRequest(format!(
                "{text:?} is not a strategy code (e.g. Ⅲ(4) or III(4))"
            ))
        })?),
        None => None,
    };
    let info = find_edition(store, selector).await?;
    let edition = store.edition(info.id).await?;
    if let Some(code) = &filter.policy
        && !edition.policies().any(|p| p.code.to_string() == *code)
    {
        let known: Vec<String> = edition.policies().map(|p| p.code.to_string()).collect();
        return Err(OpsError::NotFound(format!(
            "no policy {code} in {} (policies: {})",
            info.span,
            known.join(", ")
        )));
    }
    let selected = edition
        .projects()
        .filter(|(policy, project)| {
            filter
                .policy
                .as_ref()
                .is_none_or(|c| policy.code.to_string() == *c)
                && filter
                    .department
                    .as_ref()
                    .is_none_or(|d| project.departments.contains(d))
                && filter
                    .status
                    .as_ref()
                    .is_none_or(|s| project.status.label() == s)
                && strategy.is_none_or(|code| project.strategies.iter().any(|l| l.code == code))
        })
        .map(|(policy, project)| (policy.clone(), project.clone()))
        .collect();
    Ok((edition, selected))
}
