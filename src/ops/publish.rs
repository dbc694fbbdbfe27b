//! What the public sees: the published editions, the municipalities that have them (with
//! their recorded populations), and the data version that tells a running server when to
//! reload.

use keikaku_core::{Edition, Municipality, Population};

use super::OpsError;
use crate::storage::Store;
use crate::storage::read::EditionInfo;

/// A municipality with at least one published edition.
#[derive(Debug, Clone)]
pub struct PublicMunicipality {
    /// Code and name.
    pub municipality: Municipality,
    /// Recorded population, if any.
    pub population: Option<Population>,
}

/// The listing of everything public, without the editions' contents.
#[derive(Debug, Clone)]
pub struct Published {
    /// The data version it was read at.
    pub version: i64,
    /// Municipalities with published editions, by code.
    pub municipalities: Vec<PublicMunicipality>,
    /// Published editions, by municipality code and first year.
    pub editions: Vec<EditionInfo>,
}

/// Lists what is public. The version is read first, so a change made while listing shows
/// up as a newer version at the next poll.
pub async fn published(store: &Store) -> Result<Published, OpsError> {
    let version = store.data_version().await?;
    let editions: Vec<EditionInfo> = store
        .editions()
        .await?
        .into_iter()
        .filter(|e| e.state == "published")
        .collect();
    let populations = store.populations().await?;
    let mut municipalities: Vec<PublicMunicipality> = Vec::new();
    for info in &editions {
        if municipalities
            .last()
            .is_none_or(|m| m.municipality.code != info.municipality.code)
        {
            municipalities.push(PublicMunicipality {
                population: populations.get(&info.municipality.code).copied(),
                municipality: info.municipality.clone(),
            });
        }
    }
    Ok(Published {
        version,
        municipalities,
        editions,
    })
}

/// The contents of listed editions, in the same order.
pub async fn contents(store: &Store, infos: &[EditionInfo]) -> Result<Vec<Edition>, OpsError> {
    let ids: Vec<i64> = infos.iter().map(|i| i.id).collect();
    Ok(store.editions_by_id(&ids).await?)
}

/// The current data version (changes with every write).
pub async fn version(store: &Store) -> Result<i64, OpsError> {
    Ok(store.data_version().await?)
}

/// The current data version and public version (which writes that change drafts alone
/// leave as it is).
pub async fn versions(store: &Store) -> Result<(i64, i64), OpsError> {
    Ok(store.versions().await?)
}

/// Corrections made to published editions (the workspace's `correct-project` entries), by
/// edition subject (`072052 R3-R5`). Few: read whole at each reload.
pub async fn corrections(
    store: &Store,
) -> Result<std::collections::HashMap<String, Vec<keikaku_core::audit::AuditRecord>>, OpsError> {
    let records = store
        .audit_entries(&crate::storage::audit::AuditFilter {
            action: Some(super::workspace::CORRECTION.to_owned()),
            ..Default::default()
        })
        .await?;
    let mut by_subject: std::collections::HashMap<String, Vec<_>> = Default::default();
    for record in records {
        by_subject
            .entry(record.subject.clone())
            .or_default()
            .push(record);
    }
    Ok(by_subject)
}
