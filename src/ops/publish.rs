//! What the public sees: the published editions with their contents, and the data version
//! that tells a running server when to reload them.

use keikaku_core::Edition;

use super::OpsError;
use crate::storage::Store;
use crate::storage::read::EditionInfo;

/// Every published edition with its contents, by municipality code and first year, and the
/// data version they were read at.
pub async fn published(store: &Store) -> Result<(i64, Vec<(EditionInfo, Edition)>), OpsError> {
    let version = store.data_version().await?;
    let mut out = Vec::new();
    for info in store.editions().await? {
        if info.state != "published" {
            continue;
        }
        let edition = store.edition(info.id).await?;
        out.push((info, edition));
    }
    Ok((version, out))
}

/// The current data version (changes with every write).
pub async fn version(store: &Store) -> Result<i64, OpsError> {
    Ok(store.data_version().await?)
}
