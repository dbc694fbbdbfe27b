//! The planning spreadsheet of an edition, for departments to fill in.

use keikaku_core::sheet::template;

use super::export::Download;
use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;

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
    if csv {
        return Ok(Download {
            file_name: format!("{stem}.csv"),
            content_type: "text/csv; charset=utf-8",
            bytes: template::to_csv(&edition),
            replaced_characters: 0,
        });
    }
    let bytes = template::to_xlsx(&edition, extra_statuses)
        .map_err(|e| OpsError::BadRequest(format!("cannot write the workbook: {e}")))?;
    Ok(Download {
        file_name: format!("{stem}.xlsx"),
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
        replaced_characters: 0,
    })
}
