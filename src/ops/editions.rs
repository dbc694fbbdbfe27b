//! Managing editions: starting the next one from the current one (roll), and switching an
//! edition between draft and published.

use keikaku_core::roll::roll as roll_edition;
use keikaku_core::{EditionSpan, EditionState};

use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;
use crate::storage::read::EditionInfo;
use crate::storage::write::Replace;

/// Creates edition `to` of the municipality as a draft carrying every project of edition
/// `from` forward (see `keikaku_core::roll`). Refuses to overwrite an existing edition.
pub async fn roll(
    store: &Store,
    municipality: Option<String>,
    from: EditionSpan,
    to: EditionSpan,
    actor: &str,
) -> Result<EditionInfo, OpsError> {
    let source = find_edition(
        store,
        &EditionSelector {
            municipality: municipality.clone(),
            span: Some(from),
        },
    )
    .await?;
    let edition = store.edition(source.id).await?;
    let next = roll_edition(&edition, to).map_err(|e| OpsError::BadRequest(e.to_string()))?;
    let mut tx = store.begin_write(actor).await?;
    // Never replaces: an existing edition `to` is refused with EditionExists.
    let stored = tx.store_edition(&next, Replace::Refuse).await?;
    tx.audit(
        "roll-edition",
        &format!("{} {}", source.municipality.code, to.label()),
        &format!("from={}", from.label()),
    )
    .await?;
    tx.commit().await?;
    let code = source.municipality.code.to_string();
    let infos = store.editions().await?;
    infos
        .into_iter()
        .find(|e| e.id == stored.id)
        .ok_or_else(|| {
            OpsError::NotFound(format!(
                "the new edition {to} of {code} was not found after storing it"
            ))
        })
}

/// Sets the state of the selected edition; returns it as it was before.
pub async fn set_state(
    store: &Store,
    selector: &EditionSelector,
    state: EditionState,
    actor: &str,
) -> Result<EditionInfo, OpsError> {
    let info = find_edition(store, selector).await?;
    let mut tx = store.begin_write(actor).await?;
    tx.set_state(
        info.id,
        state,
        &format!("{} {}", info.municipality.code, info.span.label()),
    )
    .await?;
    tx.commit().await?;
    Ok(info)
}
