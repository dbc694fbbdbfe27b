//! Exports of stored plans: the canonical JSON (everything, or one edition) and open-data CSV.

use keikaku_core::{Edition, canonical, export};

use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;

/// The editions to export: the selected one, or every edition when `selector` is `None`.
pub async fn editions(
    store: &Store,
    selector: Option<&EditionSelector>,
) -> Result<Vec<Edition>, OpsError> {
    match selector {
        Some(selector) => {
            let info = find_edition(store, selector).await?;
            Ok(vec![store.edition(info.id).await?])
        }
        None => Ok(store.all_editions().await?),
    }
}

/// Canonical JSON of the chosen editions.
pub async fn json(store: &Store, selector: Option<&EditionSelector>) -> Result<String, OpsError> {
    Ok(canonical::to_json(&editions(store, selector).await?))
}

/// Open-data CSV (UTF-8 with BOM) of the chosen editions.
pub async fn csv(store: &Store, selector: Option<&EditionSelector>) -> Result<Vec<u8>, OpsError> {
    Ok(export::csv::to_csv_utf8_bom(
        &editions(store, selector).await?,
    ))
}
