//! The planning spreadsheet of an edition, for departments to fill in: the whole edition's, or
//! one department's (its projects only; importing it keeps every other project as it is,
//! because the sheet import keeps projects a sheet has no row for).

use keikaku_core::municipality::Municipality;
use keikaku_core::sheet::template;
use keikaku_core::{Edition, EditionSpan, Lang};

use super::export::Download;
use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;
use crate::storage::read::EditionInfo;

/// The spreadsheet of the selected edition, as xlsx (`csv = false`) or CSV. `extra_statuses`
/// are the configured 区分 words that join the drop-down.
pub async fn template(
    store: &Store,
    selector: &EditionSelector,
    csv: bool,
    extra_statuses: &[String],
) -> Result<Download, OpsError> {
    let info = find_edition(store, selector).await?;
    let edition = store.edition(info.id).await?;
    let stem = format!(
        "keikaku-{}-{}-template",
        info.municipality.code,
        info.span.slug()
    );
    write(&edition, &stem, csv, extra_statuses)
}

/// The blank planning workbook of an edition not stored yet (`keikaku template --blank`): the
/// structure sheet and the projects sheet, both empty, naming `municipality` and `span` as the
/// stored edition's workbook does. Importing the filled workbook creates the edition as a
/// draft. As CSV, the projects' columns only (the structure needs the xlsx, or an edition
/// already stored).
pub fn blank_template(
    municipality: Municipality,
    span: EditionSpan,
    csv: bool,
    extra_statuses: &[String],
) -> Result<Download, OpsError> {
    let stem = format!("keikaku-{}-{}-blank", municipality.code, span.slug());
    let edition = template::blank_edition(municipality, span);
    write(&edition, &stem, csv, extra_statuses)
}

/// A department the edition's projects do not name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDepartment {
    /// The department asked for.
    pub department: String,
    /// The edition (`R3-R5`).
    pub edition: String,
    /// The departments its projects name, sorted.
    pub known: Vec<String>,
}

impl UnknownDepartment {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::Ja => format!(
                "担当課「{}」は {} の事業にありません（見つかりません）。担当課: {}",
                self.department,
                self.edition,
                self.known.join("、")
            ),
            Lang::En => format!(
                "department {:?} not found: no project of {} names it; its departments: {}",
                self.department,
                self.edition,
                self.known.join(", ")
            ),
        }
    }
}

/// Why a department's sheet could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// No project of the edition names the department.
    #[error("{}", .0.message(Lang::En))]
    UnknownDepartment(UnknownDepartment),
    /// The edition was not found, or storage failed.
    #[error(transparent)]
    Ops(#[from] OpsError),
}

/// The spreadsheet of the selected edition with only the projects whose 担当課 include
/// `department` (a project of two departments is in both sheets). Every policy stays in the
/// policy list, so a department can add a project to any policy.
pub async fn department_template(
    store: &Store,
    selector: &EditionSelector,
    department: &str,
    csv: bool,
    extra_statuses: &[String],
) -> Result<Download, TemplateError> {
    let info: EditionInfo = find_edition(store, selector).await?;
    let edition = store.edition(info.id).await.map_err(OpsError::from)?;
    let department = department.trim();
    let Some(mine) = only_department(&edition, department) else {
        let mut known: Vec<String> = edition
            .projects()
            .flat_map(|(_, p)| p.departments.iter().cloned())
            .collect();
        known.sort();
        known.dedup();
        return Err(TemplateError::UnknownDepartment(UnknownDepartment {
            department: department.to_owned(),
            edition: info.span.label(),
            known,
        }));
    };
    let stem = format!(
        "keikaku-{}-{}-{}-template",
        info.municipality.code,
        info.span.slug(),
        file_name_part(department)
    );
    Ok(write(&mine, &stem, csv, extra_statuses)?)
}

/// The edition with only `department`'s projects, or `None` when it has none.
fn only_department(edition: &Edition, department: &str) -> Option<Edition> {
    let mut mine = edition.clone();
    let mut any = false;
    for goal in &mut mine.goals {
        for policy in &mut goal.policies {
            policy
                .projects
                .retain(|p| p.departments.iter().any(|d| d == department));
            any |= !policy.projects.is_empty();
        }
    }
    any.then_some(mine)
}

/// A department's name as part of a file name: path separators and control characters
/// become `_`.
fn file_name_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn write(
    edition: &Edition,
    stem: &str,
    csv: bool,
    extra_statuses: &[String],
) -> Result<Download, OpsError> {
    if csv {
        return Ok(Download {
            file_name: format!("{stem}.csv"),
            content_type: "text/csv; charset=utf-8",
            bytes: template::to_csv(edition),
            replaced_characters: 0,
        });
    }
    let bytes = template::to_xlsx(edition, extra_statuses)
        .map_err(|e| OpsError::BadRequest(format!("cannot write the workbook: {e}")))?;
    Ok(Download {
        file_name: format!("{stem}.xlsx"),
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
        replaced_characters: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn department_names_are_safe_in_file_names() {
        assert_eq!(file_name_part("健康福祉課"), "健康福祉課");
        assert_eq!(file_name_part("../a\\b\nc"), ".._a_b_c");
    }
}
