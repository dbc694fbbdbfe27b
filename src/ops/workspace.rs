//! The staff workspace's use cases: what a signed-in account sees of its municipality's
//! editions, saving one project from a form (the same validation as every import, an
//! optimistic version so that two people never overwrite each other silently, one audit entry
//! per changed field with the 変更理由), the review steps of each department's part
//! (提出・差戻し・承認・確定) and publishing, which waits for every part to be approved.
//!
//! Every function asks [`keikaku_core::workspace::check`] before it reads or writes: the
//! browser pages, the admin API and the command line share these rules and cannot differ.

use std::collections::BTreeMap;

use keikaku_core::audit::{AuditRecord, FieldChange, field_changes};
use keikaku_core::diagnostic::{Lang, Severity};
use keikaku_core::form::{FieldError, ProjectForm, check_in_edition, with_project};
use keikaku_core::sheet::row_version;
use keikaku_core::validate::Rules;
use keikaku_core::workspace::{Action, Actor, PartState, Refusal, Role, Transition, check};
use keikaku_core::{
    Edition, EditionSpan, EditionState, MunicipalityCode, PolicyCode, Project, ProjectId,
};

use super::OpsError;
use crate::storage::audit::AuditFilter;
use crate::storage::read::EditionInfo;
use crate::storage::workspace::ProjectChange;
use crate::storage::write::{EditionStamp, Entry, Via, WriteTx};
use crate::storage::{Store, StoreError};

/// Why a workspace action did not happen.
#[derive(Debug)]
pub enum WorkspaceError {
    /// The rules refuse it (another municipality's object reads as not found).
    Refused(Refusal),
    /// The edition, project or department named does not exist (in the actor's municipality).
    NotFound(Missing),
    /// The form has errors; nothing was stored.
    Invalid(Vec<FieldError>),
    /// The project changed since the form was opened: nothing was stored. The fields where
    /// the stored project now differs from what was sent, and the last change on record.
    Stale(Box<Stale>),
    /// A change needs the version it was made from (`If-Match`), and none was given.
    VersionRequired,
    /// Someone else took a review step meanwhile; nothing was stored.
    Conflict(String),
    /// A step that needs a comment was given none.
    CommentRequired(Transition),
    /// A correction of a published edition was given no reason (the public sees it).
    ReasonRequired,
    /// Publishing waits for these parts (department, state) to be approved.
    Unapproved(Vec<(String, PartState)>),
    /// Publishing waits for amounts not filled in.
    Incomplete(keikaku_core::roll::Unfilled),
    /// The uploaded file (its name) has errors (each located); nothing was stored.
    Rejected(String, keikaku_core::diagnostic::Report),
    /// The uploaded file is not a keikaku sheet of this edition.
    NotASheet,
    /// The uploaded sheet changes projects the account may not change: each named with why.
    RowsRefused(Vec<(String, Refusal)>),
    /// Storage or another use case failed.
    Ops(OpsError),
}

/// What was not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No such edition in the municipality.
    Edition(String),
    /// No such project in the edition.
    Project(String),
    /// No such department in the edition.
    Department(String),
    /// No such policy in the edition.
    Policy(String),
}

/// A save refused because the project changed since the form was opened.
#[derive(Debug, Clone)]
pub struct Stale {
    /// The stored project's version now.
    pub current_version: String,
    /// Fields where the stored project differs from the form sent (old = stored now, new =
    /// what was sent).
    pub differences: Vec<FieldChange>,
    /// The newest change on record for the project, if any.
    pub last_change: Option<AuditRecord>,
}

impl From<OpsError> for WorkspaceError {
    fn from(e: OpsError) -> Self {
        WorkspaceError::Ops(e)
    }
}

impl From<StoreError> for WorkspaceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => WorkspaceError::Conflict(what),
            other => WorkspaceError::Ops(OpsError::Store(other)),
        }
    }
}

impl From<Refusal> for WorkspaceError {
    fn from(r: Refusal) -> Self {
        WorkspaceError::Refused(r)
    }
}

impl WorkspaceError {
    /// The message in `lang` (field errors are listed one per line).
    pub fn message(&self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        match self {
            WorkspaceError::Refused(Refusal::NotFound) => if ja {
                "見つかりません。"
            } else {
                "not found"
            }
            .to_owned(),
            WorkspaceError::Refused(refusal) => refusal.message(lang),
            WorkspaceError::NotFound(missing) => match (missing, ja) {
                (Missing::Edition(e), true) => format!("計画期間 {e} はありません。"),
                (Missing::Edition(e), false) => format!("no edition {e}"),
                (Missing::Project(p), true) => format!("事業 {p} はこの計画にありません。"),
                (Missing::Project(p), false) => format!("no project {p} in this edition"),
                (Missing::Department(d), true) => {
                    format!("担当課「{d}」はこの計画にありません。")
                }
                (Missing::Department(d), false) => format!("no department {d:?} in this edition"),
                (Missing::Policy(p), true) => format!("施策 {p} はこの計画にありません。"),
                (Missing::Policy(p), false) => format!("no policy {p} in this edition"),
            },
            WorkspaceError::Invalid(errors) => {
                let mut lines = vec![
                    if ja {
                        "入力に誤りがあります。保存していません。"
                    } else {
                        "the form has errors; nothing was saved"
                    }
                    .to_owned(),
                ];
                for e in errors {
                    let field = e.field.as_ref().map_or("", |f| f.0.as_str());
                    lines.push(format!("{field}: {}", e.message(lang)));
                }
                lines.join("\n")
            }
            WorkspaceError::Stale(stale) => {
                let who = stale
                    .last_change
                    .as_ref()
                    .map(|r| format!("{} ({})", r.actor, super::accounts::local_time(&r.at)));
                match (ja, who) {
                    (true, Some(who)) => format!(
                        "この事業は開いた後に {who} が変更しました。保存していません。最新の内容を確認してからもう一度入力してください。"
                    ),
                    (true, None) => "この事業は開いた後に変更されました。保存していません。最新の内容を確認してからもう一度入力してください。".to_owned(),
                    (false, Some(who)) => format!(
                        "the project was changed by {who} after you opened it; nothing was saved: check the current values and enter your change again"
                    ),
                    (false, None) => "the project was changed after you opened it; nothing was saved".to_owned(),
                }
            }
            WorkspaceError::VersionRequired => if ja {
                "変更の元になった版（If-Match）を指定してください。"
            } else {
                "the version the change was made from is required (If-Match)"
            }
            .to_owned(),
            WorkspaceError::Conflict(what) => {
                if ja {
                    format!("{what} は他の人が同時に操作しました。画面を読み込み直してください。")
                } else {
                    format!("{what} was changed by someone else meanwhile; reload and try again")
                }
            }
            WorkspaceError::CommentRequired(step) => {
                if ja {
                    format!("{}には理由（コメント）が必要です。", step.label())
                } else {
                    format!("{} needs a comment (the reason)", step.key())
                }
            }
            WorkspaceError::ReasonRequired => if ja {
                "公開中の計画の訂正には理由が必要です（訂正の理由は公開されます）。"
            } else {
                "correcting a published edition needs a reason (the reason is shown to the public)"
            }
            .to_owned(),
            WorkspaceError::Unapproved(parts) => {
                let list: Vec<String> = parts
                    .iter()
                    .map(|(d, s)| format!("{d}（{}）", s.label()))
                    .collect();
                if ja {
                    format!(
                        "承認されていない担当課があるため公開できません: {}。すべて承認するか、企画担当が強制公開（記録されます）してください。",
                        list.join("、")
                    )
                } else {
                    format!(
                        "not every department's part is approved: {}; approve them, or publish with force (recorded)",
                        list.join(", ")
                    )
                }
            }
            WorkspaceError::Incomplete(missing) => missing.message(lang),
            WorkspaceError::Rejected(file, report) => {
                let mut lines = vec![
                    if ja {
                        format!("ファイルに {} 件の誤りがあります。何も保存していません。", report.error_count())
                    } else {
                        format!("the file has {} error(s); nothing was stored", report.error_count())
                    },
                ];
                lines.extend(report.diagnostics.iter().map(|d| d.render(file, lang)));
                lines.join("\n")
            }
            WorkspaceError::NotASheet => if ja {
                "このファイルは keikaku の入力シート（作業画面または keikaku template でダウンロードしたもの）ではありません。"
            } else {
                "this file is not a keikaku entry sheet (download one from the workspace or with keikaku template)"
            }
            .to_owned(),
            WorkspaceError::RowsRefused(rows) => {
                let mut lines = vec![
                    if ja {
                        "変更できない事業を変更しているため、何も保存していません。"
                    } else {
                        "the sheet changes projects this account may not change; nothing was stored"
                    }
                    .to_owned(),
                ];
                for (project, why) in rows {
                    lines.push(format!("{project}: {}", why.message(lang)));
                }
                lines.join("\n")
            }
            WorkspaceError::Ops(e) => e.to_string(),
        }
    }
}

/// A department's part of a draft edition, with what the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The department.
    pub department: String,
    /// Where it stands.
    pub state: PartState,
    /// The comment of the last step.
    pub comment: String,
    /// When and by whom the last step was taken (empty when never).
    pub updated_at: String,
    /// Who took it.
    pub updated_by: String,
    /// Its projects in the edition.
    pub projects: usize,
    /// Its projects lacking a 事業費 for a year the edition covers.
    pub missing_amounts: usize,
}

/// An edition as the workspace opens it.
#[derive(Debug, Clone)]
pub struct Opened {
    /// What the store knows of it.
    pub info: EditionInfo,
    /// Draft or published.
    pub state: EditionState,
    /// Its contents.
    pub edition: Edition,
    /// Every department of its projects, with its part.
    pub parts: Vec<Part>,
}

impl Opened {
    /// The parts' states for a list of departments (入力中 for any without a part).
    pub fn states_of(&self, departments: &[String]) -> Vec<(String, PartState)> {
        departments
            .iter()
            .map(|d| {
                let state = self
                    .parts
                    .iter()
                    .find(|p| &p.department == d)
                    .map_or(PartState::Open, |p| p.state);
                (d.clone(), state)
            })
            .collect()
    }

    /// The project with stable id `id` and its policy.
    pub fn project(&self, id: &str) -> Option<(PolicyCode, &Project)> {
        find_project(&self.edition, id)
    }

    /// The project with stable id `id` as its form shows it.
    pub fn view(&self, id: &str) -> Result<ProjectView, WorkspaceError> {
        let (policy, project) = self
            .project(id)
            .ok_or_else(|| WorkspaceError::NotFound(Missing::Project(id.to_owned())))?;
        Ok(ProjectView {
            policy,
            version: row_version(policy, project),
            parts: self.states_of(&project.departments),
            project: project.clone(),
        })
    }
}

/// The project with stable id `id` in `edition`, with its policy's code.
pub(crate) fn find_project<'a>(
    edition: &'a Edition,
    id: &str,
) -> Option<(PolicyCode, &'a Project)> {
    edition
        .goals
        .iter()
        .flat_map(|g| &g.policies)
        .find_map(|p| {
            p.projects
                .iter()
                .find(|j| j.id.as_str() == id)
                .map(|j| (p.code, j))
        })
}

/// True when a project has no 事業費 for some year of `span`.
fn lacks_amount(project: &Project, span: EditionSpan) -> bool {
    // A year stated as `-` is a deliberate "no amount" and counts as filled.
    span.years().any(|year| project.cost(year).is_none())
}

/// The editions of the actor's municipality (every municipality's for an administrator of
/// all), newest first.
pub async fn editions_for(store: &Store, actor: &Actor) -> Result<Vec<EditionInfo>, OpsError> {
    let listed = match &actor.municipality {
        Some(code) => store.editions_of(code).await?,
        None => store.editions().await?,
    };
    let mut editions: Vec<EditionInfo> = listed
        .into_iter()
        .filter(|e| actor.serves(&e.municipality.code))
        .collect();
    editions.sort_by(|a, b| (&a.municipality.code, b.span).cmp(&(&b.municipality.code, a.span)));
    Ok(editions)
}

async fn find_info(
    store: &Store,
    actor: &Actor,
    code: &MunicipalityCode,
    span: EditionSpan,
) -> Result<EditionInfo, WorkspaceError> {
    if !actor.serves(code) {
        return Err(Refusal::NotFound.into());
    }
    store
        .edition_info(code, span)
        .await
        .map_err(OpsError::from)?
        .ok_or_else(|| WorkspaceError::NotFound(Missing::Edition(span.label())))
}

fn state_of(info: &EditionInfo) -> EditionState {
    EditionState::parse(&info.state).unwrap_or(EditionState::Draft)
}

/// Opens an edition for reading: its contents and every department's part.
pub async fn open(
    store: &Store,
    actor: &Actor,
    code: &MunicipalityCode,
    span: EditionSpan,
) -> Result<Opened, WorkspaceError> {
    let info = find_info(store, actor, code, span).await?;
    let state = state_of(&info);
    check(actor, code, state, Action::Read)?;
    let edition = store.edition(info.id).await.map_err(OpsError::from)?;
    let stored = store.parts(code, span).await.map_err(OpsError::from)?;
    let mut parts: BTreeMap<String, Part> = BTreeMap::new();
    for (_, project) in edition.projects() {
        let missing = lacks_amount(project, span);
        for department in &project.departments {
            let part = parts.entry(department.clone()).or_insert_with(|| Part {
                department: department.clone(),
                state: PartState::Open,
                comment: String::new(),
                updated_at: String::new(),
                updated_by: String::new(),
                projects: 0,
                missing_amounts: 0,
            });
            part.projects += 1;
            part.missing_amounts += usize::from(missing);
        }
    }
    for record in stored {
        if let Some(part) = parts.get_mut(&record.department) {
            part.state = record.state;
            part.comment = record.comment;
            part.updated_at = record.updated_at;
            part.updated_by = record.updated_by;
        }
    }
    Ok(Opened {
        info,
        state,
        edition,
        parts: parts.into_values().collect(),
    })
}

/// Per department, how many of its projects differ from the previous edition of the
/// municipality (added, ended, renamed, moved or changed); `None` when there is no previous
/// edition to compare with.
pub async fn changes_by_department(
    store: &Store,
    opened: &Opened,
) -> Result<Option<BTreeMap<String, usize>>, OpsError> {
    let previous = store
        .editions_of(&opened.info.municipality.code)
        .await?
        .into_iter()
        .filter(|e| e.span.first() < opened.info.span.first())
        .max_by_key(|e| e.span);
    let Some(previous) = previous else {
        return Ok(None);
    };
    let before = store.edition(previous.id).await?;
    let Ok(diff) = keikaku_core::diff::diff(&before, &opened.edition, &[]) else {
        return Ok(None);
    };
    let mut ids: Vec<(&str, bool)> = Vec::new();
    ids.extend(diff.new.iter().map(|s| (s.id.as_str(), true)));
    ids.extend(diff.ended.iter().map(|s| (s.id.as_str(), false)));
    ids.extend(diff.renamed.iter().map(|c| (c.to.id.as_str(), true)));
    ids.extend(diff.moved.iter().map(|c| (c.to.id.as_str(), true)));
    ids.extend(diff.changed.iter().map(|c| (c.to.id.as_str(), true)));
    ids.extend(diff.uncertain.iter().map(|c| (c.to.id.as_str(), true)));
    ids.sort_unstable();
    ids.dedup();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (id, in_current) in ids {
        let edition = if in_current { &opened.edition } else { &before };
        if let Some((_, project)) = find_project(edition, id) {
            for department in &project.departments {
                *counts.entry(department.clone()).or_default() += 1;
            }
        }
    }
    Ok(Some(counts))
}

/// One project as the form shows it, with the version a save must name.
#[derive(Debug, Clone)]
pub struct ProjectView {
    /// Its policy.
    pub policy: PolicyCode,
    /// The project.
    pub project: Project,
    /// Its version (the `ETag` of the admin API, a hidden field of the form).
    pub version: String,
    /// Its departments' parts.
    pub parts: Vec<(String, PartState)>,
}

/// One project for reading, with its edition's state, read alone (not the rest of its
/// edition): the admin API's GET and the form a PATCH starts from.
pub async fn project(
    store: &Store,
    actor: &Actor,
    code: &MunicipalityCode,
    span: EditionSpan,
    id: &str,
) -> Result<(EditionState, ProjectView), WorkspaceError> {
    let info = find_info(store, actor, code, span).await?;
    let state = state_of(&info);
    check(actor, code, state, Action::Read)?;
    let (policy, project) = store
        .edition_project(info.id, id)
        .await
        .map_err(OpsError::from)?
        .ok_or_else(|| WorkspaceError::NotFound(Missing::Project(id.to_owned())))?;
    let stored = store.parts(code, span).await.map_err(OpsError::from)?;
    let parts = project
        .departments
        .iter()
        .map(|d| {
            let state = stored
                .iter()
                .find(|p| &p.department == d)
                .map_or(PartState::Open, |p| p.state);
            (d.clone(), state)
        })
        .collect();
    Ok((
        state,
        ProjectView {
            policy,
            version: row_version(policy, &project),
            parts,
            project,
        },
    ))
}

/// The audit action of a correction to a published edition (shown on the public portal).
pub const CORRECTION: &str = "correct-project";

/// Who acts, and through what: the login recorded in the audit log.
#[derive(Debug, Clone)]
pub struct Acting<'a> {
    /// The account's rules.
    pub actor: &'a Actor,
    /// The login recorded as the actor.
    pub login: &'a str,
    /// Browser form, upload, admin API or command line.
    pub via: Via,
}

/// A project form to save.
#[derive(Debug, Clone)]
pub struct SaveProject<'a> {
    /// The municipality.
    pub code: &'a MunicipalityCode,
    /// The edition.
    pub span: EditionSpan,
    /// The project changed, or `None` for a new one.
    pub id: Option<&'a str>,
    /// The version the form was made from (required for an existing project).
    pub version: Option<&'a str>,
    /// The form as sent.
    pub form: &'a ProjectForm,
    /// The 変更理由.
    pub comment: &'a str,
}

/// What a save did.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The project as stored now, with its new version and its departments' parts.
    pub view: ProjectView,
    /// The project's stable id.
    pub id: String,
    /// Its new version.
    pub version: String,
    /// The fields changed (none: the form changed nothing and nothing was written).
    pub changes: Vec<FieldChange>,
    /// Warnings of the validation (stored anyway).
    pub warnings: Vec<FieldError>,
}

/// Starts a write transaction for `acting` and locks the edition against other writers.
async fn begin(store: &Store, acting: &Acting<'_>, edition: i64) -> Result<WriteTx, StoreError> {
    let mut tx = store.begin_write(acting.login).await?.via(acting.via);
    tx.lock_edition(edition).await?;
    Ok(tx)
}

async fn states_in(
    tx: &mut WriteTx,
    code: &MunicipalityCode,
    span: EditionSpan,
    departments: &[String],
) -> Result<Vec<(String, PartState)>, StoreError> {
    let mut out = Vec::with_capacity(departments.len());
    for d in departments {
        out.push((d.clone(), tx.part_state(code, span, d).await?));
    }
    Ok(out)
}

/// Saves one project form: checks who may, reads and validates the form within its edition,
/// refuses a stale version, stores the project in place and records each changed field.
pub async fn save_project(
    store: &Store,
    rules: &Rules,
    acting: &Acting<'_>,
    request: &SaveProject<'_>,
) -> Result<Saved, WorkspaceError> {
    let actor = acting.actor;
    let info = find_info(store, actor, request.code, request.span).await?;
    let mut tx = begin(store, acting, info.id).await?;
    // Read again inside the transaction: the state and contents are what this save changes.
    let state = tx.edition_state(info.id).await?;
    if state == EditionState::Draft {
        // Read under the edition's lock: the public portal has nothing to look for.
        tx.drafts_only();
    }
    let edition = tx.edition_in_transaction(info.id).await?;
    let old = match request.id {
        Some(id) => Some(
            find_project(&edition, id)
                .map(|(p, j)| (p, j.clone()))
                .ok_or_else(|| WorkspaceError::NotFound(Missing::Project(id.to_owned())))?,
        ),
        None => None,
    };
    // A published edition is changed only by the planning office, as a correction with a
    // reason that the public project page shows; review states do not apply to it.
    let correcting = state == EditionState::Published && actor.role.reviews() && old.is_some();
    if correcting && request.comment.trim().is_empty() {
        return Err(WorkspaceError::ReasonRequired);
    }
    // Authorisation first, on what is stored: a department may touch only its own projects.
    let old_parts = match &old {
        Some((_, project)) => {
            states_in(&mut tx, request.code, request.span, &project.departments).await?
        }
        None => Vec::new(),
    };
    if old.is_some() && !correcting {
        check(actor, request.code, state, Action::EditProject(&old_parts))?;
    }
    // A stale form is refused before it is read: whatever it says, it was made from another
    // version.
    if let Some((policy, project)) = &old {
        let current = row_version(*policy, project);
        match request.version {
            None => return Err(WorkspaceError::VersionRequired),
            Some(sent) if sent.trim() != current => {
                let differences = match request.form.read(project.id.clone(), request.span) {
                    Ok((p, sent)) => {
                        field_changes(Some((*policy, project)), Some((p, &sent)), request.span)
                    }
                    Err(_) => Vec::new(),
                };
                let last_change = store
                    .audit_entries(&AuditFilter {
                        project: Some(project.id.as_str().to_owned()),
                        limit: Some(1),
                        ..AuditFilter::default()
                    })
                    .await
                    .map_err(OpsError::from)?
                    .pop();
                return Err(WorkspaceError::Stale(Box::new(Stale {
                    current_version: current,
                    differences,
                    last_change,
                })));
            }
            Some(_) => {}
        }
    }
    let id = match &old {
        Some((_, project)) => project.id.clone(),
        None => match new_id(&edition, request.form) {
            Some(id) => id,
            // The form cannot be read: report why, under any id.
            None => {
                let placeholder = ProjectId::parse("new").ok_or(WorkspaceError::VersionRequired)?;
                return Err(WorkspaceError::Invalid(
                    request
                        .form
                        .read(placeholder, request.span)
                        .err()
                        .unwrap_or_default(),
                ));
            }
        },
    };
    let (policy, mut project) = request
        .form
        .read(id.clone(), request.span)
        .map_err(WorkspaceError::Invalid)?;
    // The form does not hold the parts of 特定財源 (国庫支出金 and the like): they are kept as
    // stored while the 特定財源 stays the same, and changing it is refused where there are parts.
    if let Some((_, stored)) = &old {
        let mut kept = Vec::new();
        for cost in &mut project.costs {
            let Some(before) = stored.costs.iter().find(|c| c.year == cost.year) else {
                continue;
            };
            if before.earmarked_breakdown.is_empty() {
                continue;
            }
            if before.earmarked == cost.earmarked {
                cost.earmarked_breakdown = before.earmarked_breakdown.clone();
            } else {
                kept.push(FieldError::breakdown_kept(cost.year.year()));
            }
        }
        if !kept.is_empty() {
            return Err(WorkspaceError::Invalid(kept));
        }
    }
    if !edition
        .goals
        .iter()
        .flat_map(|g| &g.policies)
        .any(|p| p.code == policy)
    {
        return Err(WorkspaceError::NotFound(Missing::Policy(
            policy.to_string(),
        )));
    }
    // The project as it will be: a department must keep it among its own departments.
    let new_parts = states_in(&mut tx, request.code, request.span, &project.departments).await?;
    let action = if old.is_some() {
        Action::EditProject(&new_parts)
    } else {
        Action::AddProject(&new_parts)
    };
    if !correcting {
        check(actor, request.code, state, action)?;
    }
    let next = with_project(&edition, policy, &project);
    let (errors, warnings): (Vec<FieldError>, Vec<FieldError>) =
        check_in_edition(&next, &project.id, rules)
            .into_iter()
            .partition(|e| e.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(WorkspaceError::Invalid(errors));
    }
    let changes = field_changes(
        old.as_ref().map(|(p, j)| (*p, j)),
        Some((policy, &project)),
        request.span,
    );
    let version = row_version(policy, &project);
    let view = ProjectView {
        policy,
        project: project.clone(),
        version: version.clone(),
        parts: new_parts.clone(),
    };
    if changes.is_empty() {
        // Nothing changed: nothing is written (the transaction is dropped).
        return Ok(Saved {
            view,
            id: id.as_str().to_owned(),
            version,
            changes,
            warnings,
        });
    }
    tx.change_projects(
        info.id,
        &[ProjectChange::Put {
            policy,
            project: &project,
        }],
        &next,
    )
    .await?;
    let subject = format!("{} {}", request.code, request.span.label());
    let action = match (&old, correcting) {
        (_, true) => CORRECTION,
        (Some(_), false) => "edit-project",
        (None, false) => "add-project",
    };
    for change in &changes {
        tx.record(&Entry {
            action,
            subject: &subject,
            detail: &project.name,
            project: id.as_str(),
            field: &change.field,
            old: change.old.as_deref(),
            new: change.new.as_deref(),
            comment: request.comment.trim(),
        })
        .await?;
    }
    tx.commit().await?;
    Ok(Saved {
        view,
        id: id.as_str().to_owned(),
        version,
        changes,
        warnings,
    })
}

/// The stable id of a new project: derived from its policy and number like every first
/// reading, made unique within the edition if an earlier project already had it.
fn new_id(edition: &Edition, form: &ProjectForm) -> Option<ProjectId> {
    // A form without a readable policy or number has no id: reading it reports why.
    let policy = PolicyCode::parse(&form.policy)?;
    let number = form.number.trim().parse::<u32>().ok()?;
    let base = ProjectId::derived(&edition.municipality, edition.span, policy, number);
    let taken = |id: &ProjectId| edition.projects().any(|(_, p)| &p.id == id);
    if !taken(&base) {
        return Some(base);
    }
    (2..1_000)
        .filter_map(|n| ProjectId::parse(&format!("{}.{n}", base.as_str())))
        .find(|id| !taken(id))
}

/// Takes a review step of a department's part; returns the part's new state.
pub async fn step(
    store: &Store,
    acting: &Acting<'_>,
    code: &MunicipalityCode,
    span: EditionSpan,
    department: &str,
    transition: Transition,
    comment: &str,
) -> Result<PartState, WorkspaceError> {
    let actor = acting.actor;
    let opened = open(store, actor, code, span).await?;
    if !opened.parts.iter().any(|p| p.department == department) {
        return Err(WorkspaceError::NotFound(Missing::Department(
            department.to_owned(),
        )));
    }
    if transition.needs_comment() && comment.trim().is_empty() {
        return Err(WorkspaceError::CommentRequired(transition));
    }
    let mut tx = begin(store, acting, opened.info.id).await?;
    let state = tx.edition_state(opened.info.id).await?;
    let from = tx.part_state(code, span, department).await?;
    check(
        actor,
        code,
        state,
        Action::Step(transition, department, from),
    )?;
    let to = transition
        .apply(from)
        .ok_or(WorkspaceError::Refused(Refusal::Locked(
            keikaku_core::workspace::Why::WrongState(transition, department.to_owned(), from),
        )))?;
    tx.set_part_state(code, span, department, from, to, comment.trim())
        .await?;
    // A part's review state is never shown to the public.
    tx.drafts_only();
    let subject = format!("{code} {}", span.label());
    tx.record(&Entry {
        action: transition.key(),
        subject: &subject,
        detail: department,
        project: "",
        field: "part",
        old: Some(from.key()),
        new: Some(to.key()),
        comment: comment.trim(),
    })
    .await?;
    tx.commit().await?;
    Ok(to)
}

/// The departments of an edition whose parts are not approved, when the municipality works
/// in the workspace (has department accounts); empty otherwise, or when all are approved.
pub async fn unapproved(
    store: &Store,
    info: &EditionInfo,
) -> Result<Vec<(String, PartState)>, OpsError> {
    let code = &info.municipality.code;
    let uses_workspace = store.accounts().await?.iter().any(|a| {
        a.role == Role::Department && a.municipality.as_ref() == Some(code) && !a.disabled
    });
    if !uses_workspace {
        return Ok(Vec::new());
    }
    let edition = store.edition(info.id).await?;
    let stored = store.parts(code, info.span).await?;
    let mut departments: Vec<String> = edition
        .projects()
        .flat_map(|(_, p)| p.departments.iter().cloned())
        .collect();
    departments.sort();
    departments.dedup();
    Ok(departments
        .into_iter()
        .map(|d| {
            let state = stored
                .iter()
                .find(|r| r.department == d)
                .map_or(PartState::Open, |r| r.state);
            (d, state)
        })
        .filter(|(_, s)| !s.is_approved())
        .collect())
}

/// Publishes a draft edition by the rules of `keikaku publish`: every part approved and
/// every amount filled in, or `force` (recorded with the parts it passed over).
pub async fn publish(
    store: &Store,
    acting: &Acting<'_>,
    code: &MunicipalityCode,
    span: EditionSpan,
    force: bool,
) -> Result<(), WorkspaceError> {
    let info = find_info(store, acting.actor, code, span).await?;
    let state = state_of(&info);
    check(acting.actor, code, state, Action::Publish)?;
    if state == EditionState::Published {
        return Err(Refusal::Published.into());
    }
    super::editions::change_state(
        store,
        &info,
        EditionState::Published,
        super::editions::PublishOverrides {
            allow_incomplete: force,
            force,
        },
        acting.login,
        acting.via,
    )
    .await
    .map_err(|e| match e {
        super::editions::StateError::Unapproved(parts) => WorkspaceError::Unapproved(parts),
        super::editions::StateError::Incomplete(missing) => WorkspaceError::Incomplete(missing),
        super::editions::StateError::Ops(e) => WorkspaceError::Ops(e),
    })
}

/// The audit log of the actor's municipality (entries whose subject is one of its editions),
/// oldest first.
pub async fn audit(
    store: &Store,
    actor: &Actor,
    code: &MunicipalityCode,
    mut filter: AuditFilter,
) -> Result<Vec<AuditRecord>, WorkspaceError> {
    check(actor, code, EditionState::Draft, Action::ReadAudit)?;
    filter.subject_prefix = Some(code.as_str().to_owned());
    Ok(store.audit_entries(&filter).await.map_err(OpsError::from)?)
}

/// What an uploaded sheet changed.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// Projects changed, added and taken out, as the sheet import lists them.
    pub changes: keikaku_core::import::sheet::SheetChanges,
    /// Warnings of the validation (stored anyway).
    pub warnings: keikaku_core::diagnostic::Report,
}

/// Imports a sheet uploaded in the workspace into a draft edition: the same reading, checks
/// and conflict rules as `keikaku import` of the sheet, and, before anything is stored, the
/// workspace's rules for every project the sheet changes (a department changes only its
/// own projects, while its part is open or returned). Recorded as an upload with the file's
/// name and SHA-256.
///
/// The checks hold for what is stored: the import stores only over the state of the edition
/// they were made against, and if someone saved a form or took a review step meanwhile, the
/// sheet is judged again against the new state (a few times, then the upload is refused as
/// a conflict, with nothing stored).
pub async fn upload_sheet(
    store: &Store,
    acting: &Acting<'_>,
    code: &MunicipalityCode,
    span: EditionSpan,
    file_name: &str,
    bytes: &[u8],
) -> Result<Uploaded, WorkspaceError> {
    // Reading a workbook takes memory (within `Limits::upload`): two at a time, the rest wait.
    let Ok(_permit) = UPLOADS.acquire().await else {
        return Err(WorkspaceError::Conflict(file_name.to_owned()));
    };
    let mut attempt = 1;
    loop {
        match upload_once(store, acting, code, span, file_name, bytes).await {
            Err(WorkspaceError::Conflict(_)) if attempt < UPLOAD_ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

/// Uploads read at once; the memory they take is bounded by this times one upload's limits.
static UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// How many times an upload is judged again when the edition changes under it.
const UPLOAD_ATTEMPTS: usize = 3;

async fn upload_once(
    store: &Store,
    acting: &Acting<'_>,
    code: &MunicipalityCode,
    span: EditionSpan,
    file_name: &str,
    bytes: &[u8],
) -> Result<Uploaded, WorkspaceError> {
    let actor = acting.actor;
    let opened = open(store, actor, code, span).await?;
    // The state every check below is made against (read before the contents).
    let seen = EditionStamp {
        id: opened.info.id,
        revision: opened.info.revision,
    };
    if opened.state == EditionState::Published {
        return Err(Refusal::Published.into());
    }
    // Who may change nothing is refused before the file is read.
    if actor.role == Role::Viewer {
        return Err(Refusal::Forbidden(keikaku_core::workspace::Why::ReadOnly).into());
    }
    if actor.role == Role::Department {
        let own: Vec<&Part> = opened
            .parts
            .iter()
            .filter(|p| actor.departments.contains(&p.department))
            .collect();
        if let Some(part) = own.first()
            && own.iter().all(|p| !p.state.department_may_edit())
        {
            return Err(Refusal::Locked(keikaku_core::workspace::Why::HandedIn(
                part.department.clone(),
                part.state,
            ))
            .into());
        }
    }
    let request = super::import::ImportRequest {
        name: file_name,
        bytes,
        layout: None,
        context: keikaku_core::import::Context {
            municipality: Some(opened.info.municipality.clone()),
            span: Some(span),
            limits: keikaku_core::sheet::workbook::Limits::upload(),
            // Goals and policies are the planning office's: a department's sheet keeps them.
            structure_edits: actor.role.reviews(),
            ..Default::default()
        },
        replace: false,
        actor: acting.login,
    };
    if !super::import::needs_store(file_name, bytes, None, &request.context) {
        return Err(WorkspaceError::NotASheet);
    }
    let parsed = super::import::read(store, &request)
        .await
        .map_err(|e| import_error(file_name, e))?;
    if parsed.report.has_errors() {
        return Err(WorkspaceError::Rejected(
            file_name.to_owned(),
            parsed.report,
        ));
    }
    let Some(read) = parsed
        .editions
        .iter()
        .find(|e| &e.edition.municipality.code == code && e.edition.span == span)
    else {
        return Err(WorkspaceError::NotASheet);
    };
    // Every project whose row the merged sheet changes, judged by the workspace's rules.
    let mut refused = Vec::new();
    let ids: std::collections::BTreeSet<&str> = opened
        .edition
        .projects()
        .chain(read.edition.projects())
        .map(|(_, p)| p.id.as_str())
        .collect();
    for id in ids {
        let before = find_project(&opened.edition, id);
        let after = find_project(&read.edition, id);
        let same = match (before, after) {
            (Some((a, p)), Some((b, q))) => row_version(a, p) == row_version(b, q),
            _ => false,
        };
        if same {
            continue;
        }
        let mut departments: Vec<String> = Vec::new();
        for (_, project) in before.iter().chain(after.iter()) {
            for d in &project.departments {
                if !departments.contains(d) {
                    departments.push(d.clone());
                }
            }
        }
        let parts = opened.states_of(&departments);
        let action = match (before, after) {
            (Some(_), Some(_)) => Action::EditProject(&parts),
            (None, _) => Action::AddProject(&parts),
            (Some(_), None) => Action::RemoveProject(&parts),
        };
        // A department must own the project as it was and as it will be.
        let own = |p: Option<(PolicyCode, &Project)>| {
            p.is_none_or(|(_, p)| actor.owns_any(&p.departments))
        };
        let verdict = check(actor, code, opened.state, action).and_then(|()| {
            if own(before) && own(after) {
                Ok(())
            } else {
                Err(Refusal::Forbidden(
                    keikaku_core::workspace::Why::NotOwnDepartment,
                ))
            }
        });
        if let Err(why) = verdict {
            let (policy, project) = after
                .or(before)
                .map_or(("?".to_owned(), id.to_owned()), |(p, j)| {
                    (p.to_string(), format!("No.{} {}", j.number, j.name))
                });
            refused.push((format!("{policy} {project}"), why));
        }
    }
    if !refused.is_empty() {
        return Err(WorkspaceError::RowsRefused(refused));
    }
    let outcome = super::import::import_sheet_over(store, &request, acting.via, seen)
        .await
        .map_err(|e| import_error(file_name, e))?;
    let changes = outcome
        .editions
        .into_iter()
        .find_map(|e| e.changes)
        .unwrap_or_default();
    Ok(Uploaded {
        changes,
        warnings: outcome.report,
    })
}

fn import_error(file: &str, err: super::import::ImportError) -> WorkspaceError {
    match err {
        super::import::ImportError::Invalid(report) => {
            WorkspaceError::Rejected(file.to_owned(), report)
        }
        super::import::ImportError::MissingMunicipality => WorkspaceError::NotASheet,
        super::import::ImportError::Ops(OpsError::Store(StoreError::Conflict(what))) => {
            WorkspaceError::Conflict(what)
        }
        super::import::ImportError::Ops(e) => WorkspaceError::Ops(e),
    }
}
