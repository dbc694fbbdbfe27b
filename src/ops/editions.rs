//! Managing editions: starting the next one from the current one (roll), and switching an
//! edition between draft and published. Publishing refuses an edition whose projects still
//! have no 事業費 for a year it covers (a rolled edition nobody filled in), unless the caller
//! says to go ahead.

use keikaku_core::roll::{Unfilled, left_behind, roll as roll_edition, unfilled};
use keikaku_core::{EditionSpan, EditionState, Status};

use super::{EditionSelector, OpsError, find_edition};
use crate::storage::Store;
use crate::storage::read::EditionInfo;
use crate::storage::write::{Entry, Replace, Via};

/// A project that ended with the edition rolled from and was not carried forward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftBehind {
    /// Policy code and number in the edition rolled from, e.g. `7-1-2`.
    pub reference: String,
    /// 事業名.
    pub name: String,
    /// Its 区分 (完了 or 廃止).
    pub status: Status,
}

/// What [`roll`] made.
#[derive(Debug, Clone)]
pub struct Rolled {
    /// The new draft edition.
    pub info: EditionInfo,
    /// Projects of the edition rolled from that ended there (区分 完了 or 廃止).
    pub left_behind: Vec<LeftBehind>,
}

/// Creates edition `to` of the municipality as a draft carrying every project of edition
/// `from` forward except those that ended there (see `keikaku_core::roll`). Refuses to
/// overwrite an existing edition.
pub async fn roll(
    store: &Store,
    municipality: Option<String>,
    from: EditionSpan,
    to: EditionSpan,
    actor: &str,
) -> Result<Rolled, OpsError> {
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
    let ended: Vec<LeftBehind> = left_behind(&edition)
        .into_iter()
        .map(|(policy, project)| LeftBehind {
            reference: format!("{}-{}", policy.code, project.number),
            name: project.name.clone(),
            status: project.status.clone(),
        })
        .collect();
    let mut tx = store.begin_write(actor).await?;
    // Never replaces: an existing edition `to` is refused with EditionExists.
    let stored = tx.store_edition(&next, Replace::Refuse).await?;
    tx.audit(
        "roll-edition",
        &format!("{} {}", source.municipality.code, to.label()),
        &format!("from={}; ended={}", from.label(), ended.len()),
    )
    .await?;
    tx.commit().await?;
    let code = source.municipality.code.to_string();
    let infos = store.editions().await?;
    let info = infos
        .into_iter()
        .find(|e| e.id == stored.id)
        .ok_or_else(|| {
            OpsError::NotFound(format!(
                "the new edition {to} of {code} was not found after storing it"
            ))
        })?;
    Ok(Rolled {
        info,
        left_behind: ended,
    })
}

/// Why the state of an edition was not changed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The edition could not be found or stored.
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// Publishing was refused: projects have no 事業費 for a year the edition covers.
    #[error("{}", .0.message(keikaku_core::Lang::En))]
    Incomplete(Unfilled),
    /// Publishing was refused: the municipality works in the workspace and these
    /// departments' parts (department, state) are not approved.
    #[error("not every department's part is approved: {}", .0.iter().map(|(d, s)| format!("{d} ({})", s.key())).collect::<Vec<_>>().join(", "))]
    Unapproved(Vec<(String, keikaku_core::workspace::PartState)>),
}

impl StateError {
    /// The message in `lang`.
    pub fn message(&self, lang: keikaku_core::Lang) -> String {
        match self {
            StateError::Incomplete(missing) => missing.message(lang),
            StateError::Unapproved(parts) => {
                super::workspace::WorkspaceError::Unapproved(parts.clone()).message(lang)
            }
            StateError::Ops(e) => e.to_string(),
        }
    }
}

/// What publishing may pass over, each only when asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublishOverrides {
    /// Publish although projects have no 事業費 for a year the edition covers.
    pub allow_incomplete: bool,
    /// Publish although departments' parts are not approved (the planning office's call,
    /// recorded in the audit log with the parts passed over).
    pub force: bool,
}

impl From<crate::storage::StoreError> for StateError {
    fn from(e: crate::storage::StoreError) -> Self {
        StateError::Ops(e.into())
    }
}

/// Sets the state of the selected edition; returns it as it was before. Publishing a draft
/// whose projects have no 事業費 for a year it covers is refused with
/// [`StateError::Incomplete`] unless `allow_incomplete`.
pub async fn set_state(
    store: &Store,
    selector: &EditionSelector,
    state: EditionState,
    overrides: PublishOverrides,
    actor: &str,
) -> Result<EditionInfo, StateError> {
    let info = find_edition(store, selector).await?;
    change_state(store, &info, state, overrides, actor, Via::Cli).await?;
    Ok(info)
}

/// Sets the state of edition `info` on behalf of `actor` through `via`: the rules of
/// [`set_state`], shared by the command line and the workspace.
pub async fn change_state(
    store: &Store,
    info: &EditionInfo,
    state: EditionState,
    overrides: PublishOverrides,
    actor: &str,
    via: Via,
) -> Result<(), StateError> {
    let publishing = state == EditionState::Published && info.state != state.as_str();
    let waiting = if publishing {
        super::workspace::unapproved(store, info).await?
    } else {
        Vec::new()
    };
    if !waiting.is_empty() && !overrides.force {
        return Err(StateError::Unapproved(waiting));
    }
    if publishing && !overrides.allow_incomplete {
        let missing = unfilled(&store.edition(info.id).await?);
        if !missing.is_complete() {
            return Err(StateError::Incomplete(missing));
        }
    }
    let mut tx = store.begin_write(actor).await?.via(via);
    if !waiting.is_empty() {
        let list: Vec<String> = waiting
            .iter()
            .map(|(d, s)| format!("{d}={}", s.key()))
            .collect();
        tx.record(&Entry {
            action: "publish-forced",
            subject: &format!("{} {}", info.municipality.code, info.span.label()),
            detail: &list.join(", "),
            project: "",
            field: "",
            old: None,
            new: None,
            comment: "",
        })
        .await?;
    }
    tx.set_state(
        info.id,
        state,
        &format!("{} {}", info.municipality.code, info.span.label()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
