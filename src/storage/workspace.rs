//! What the staff workspace stores: the review state of each department's part of a draft
//! edition, and changes to single projects made in place (a form saved in the browser), so
//! that an edition is not replaced whole for one changed project.
//!
//! Parts are keyed by municipality, span and department, which survive an edition being
//! replaced by an import (its database id changes). A project changed in place keeps its row;
//! its departments, strategy links and amounts are written again, the edition's stored
//! per-year totals are computed again, and `edition.updated_at` moves, all in the caller's
//! transaction with the audit entries the caller records.

use std::collections::HashSet;

use keikaku_core::workspace::PartState;
use keikaku_core::{Edition, EditionSpan, MunicipalityCode, PolicyCode, Project};
use sqlx::Row;

use super::write::{WriteTx, now};
use super::{Store, StoreError};

/// A department's part of a draft edition as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// The department.
    pub department: String,
    /// Where it stands.
    pub state: PartState,
    /// The comment of the last step (a return's reason).
    pub comment: String,
    /// When the last step was taken.
    pub updated_at: String,
    /// Who took it.
    pub updated_by: String,
}

/// One change to the projects of an edition.
#[derive(Debug, Clone, Copy)]
pub enum ProjectChange<'a> {
    /// Add the project, or replace the stored project with the same stable id, in `policy`.
    Put {
        /// The policy it belongs to.
        policy: PolicyCode,
        /// The project as it is to be stored.
        project: &'a Project,
    },
    /// Take the project with this stable id out of the edition.
    Remove(&'a str),
}

fn span_years(span: EditionSpan) -> (i64, i64) {
    (
        i64::from(span.first().year()),
        i64::from(span.last().year()),
    )
}

impl Store {
    /// The stored parts of a municipality's edition, by department (departments without a
    /// stored part are 入力中).
    pub async fn parts(
        &self,
        code: &MunicipalityCode,
        span: EditionSpan,
    ) -> Result<Vec<PartRecord>, StoreError> {
        let (first, last) = span_years(span);
        let rows = sqlx::query(
            "SELECT department, state, comment, updated_at, updated_by FROM edition_part \
             WHERE municipality_code = $1 AND first_year = $2 AND last_year = $3 ORDER BY department",
        )
        .bind(code.as_str())
        .bind(first)
        .bind(last)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(PartRecord {
                    department: r.try_get("department")?,
                    state: PartState::parse(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("part state {state:?}")))?,
                    comment: r.try_get("comment")?,
                    updated_at: r.try_get("updated_at")?,
                    updated_by: r.try_get("updated_by")?,
                })
            })
            .collect()
    }
}

impl WriteTx {
    /// The state of a department's part as this transaction sees it (入力中 when none is
    /// stored).
    pub async fn part_state(
        &mut self,
        code: &MunicipalityCode,
        span: EditionSpan,
        department: &str,
    ) -> Result<PartState, StoreError> {
        let (first, last) = span_years(span);
        let state: Option<String> = sqlx::query_scalar(
            "SELECT state FROM edition_part WHERE municipality_code = $1 AND first_year = $2 \
             AND last_year = $3 AND department = $4",
        )
        .bind(code.as_str())
        .bind(first)
        .bind(last)
        .bind(department)
        .fetch_optional(self.transaction())
        .await?;
        match state {
            None => Ok(PartState::Open),
            Some(text) => PartState::parse(&text)
                .ok_or_else(|| StoreError::Corrupt(format!("part state {text:?}"))),
        }
    }

    /// Moves a department's part from `from` to `to` with `comment`, if it is still in `from`
    /// (otherwise [`StoreError::Conflict`]: someone else took a step meanwhile).
    pub async fn set_part_state(
        &mut self,
        code: &MunicipalityCode,
        span: EditionSpan,
        department: &str,
        from: PartState,
        to: PartState,
        comment: &str,
    ) -> Result<(), StoreError> {
        let (first, last) = span_years(span);
        let current = self.part_state(code, span, department).await?;
        if current != from {
            return Err(StoreError::Conflict(format!(
                "{code} {} {department}",
                span.label()
            )));
        }
        let at = now();
        let actor = self.actor().to_owned();
        sqlx::query(
            "DELETE FROM edition_part WHERE municipality_code = $1 AND first_year = $2 \
             AND last_year = $3 AND department = $4",
        )
        .bind(code.as_str())
        .bind(first)
        .bind(last)
        .bind(department)
        .execute(self.transaction())
        .await?;
        sqlx::query(
            "INSERT INTO edition_part (municipality_code, first_year, last_year, department, state, \
             comment, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(code.as_str())
        .bind(first)
        .bind(last)
        .bind(department)
        .bind(to.key())
        .bind(comment)
        .bind(&at)
        .bind(&actor)
        .execute(self.transaction())
        .await?;
        // A sheet checked against the parts' states before this step must be checked again.
        sqlx::query(
            "UPDATE edition SET revision = revision + 1 WHERE municipality_code = $1 \
             AND first_year = $2 AND last_year = $3",
        )
        .bind(code.as_str())
        .bind(first)
        .bind(last)
        .execute(self.transaction())
        .await?;
        Ok(())
    }

    /// Makes this transaction the only writer of edition `id` until it ends: PostgreSQL locks
    /// the edition's row (SQLite's write transactions already exclude each other).
    pub async fn lock_edition(&mut self, id: i64) -> Result<(), StoreError> {
        if self.backend() == super::Backend::Postgres {
            sqlx::query("SELECT id FROM edition WHERE id = $1 FOR UPDATE")
                .bind(id)
                .execute(self.transaction())
                .await?;
        }
        Ok(())
    }

    /// The state of edition `id` as this transaction sees it.
    pub async fn edition_state(
        &mut self,
        id: i64,
    ) -> Result<keikaku_core::EditionState, StoreError> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM edition WHERE id = $1")
            .bind(id)
            .fetch_optional(self.transaction())
            .await?;
        let state =
            state.ok_or_else(|| StoreError::NotFound(format!("no edition with id {id}")))?;
        keikaku_core::EditionState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("edition state {state:?}")))
    }

    /// The edition with database id `id` as this transaction sees it.
    pub async fn edition_in_transaction(&mut self, id: i64) -> Result<Edition, StoreError> {
        super::read::read_editions(self.inner(), &[id])
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("no edition with id {id}")))
    }

    /// Applies `changes` to the projects of edition `id` in place, then orders each changed
    /// policy's projects by number, stores the totals of `result` (the edition as the changes
    /// make it, which the caller has validated) and moves its `updated_at`. The caller records
    /// the audit entries.
    pub async fn change_projects(
        &mut self,
        id: i64,
        changes: &[ProjectChange<'_>],
        result: &Edition,
    ) -> Result<(), StoreError> {
        let mut touched: HashSet<i64> = HashSet::new();
        // Numbers are unique per policy: park the rows that change at a number no project has
        // (their negated row id) before writing the new numbers, so that swapping two numbers
        // does not collide half-way.
        for change in changes {
            if let ProjectChange::Put { project, .. } = change
                && let Some((row, policy)) = self.project_row(id, project.id.as_str()).await?
            {
                touched.insert(policy);
                sqlx::query("UPDATE project SET number = -id WHERE id = $1")
                    .bind(row)
                    .execute(self.transaction())
                    .await?;
            }
        }
        for change in changes {
            match change {
                ProjectChange::Remove(stable_id) => {
                    if let Some((row, policy)) = self.project_row(id, stable_id).await? {
                        touched.insert(policy);
                        sqlx::query("DELETE FROM project WHERE id = $1")
                            .bind(row)
                            .execute(self.transaction())
                            .await?;
                    }
                }
                ProjectChange::Put { policy, project } => {
                    let policy_id = self.policy_row(id, *policy).await?;
                    touched.insert(policy_id);
                    let row = match self.project_row(id, project.id.as_str()).await? {
                        Some((row, _)) => {
                            sqlx::query(
                                "UPDATE project SET policy_id = $1, number = $2, name = $3, summary = $4, \
                                 status = $5 WHERE id = $6",
                            )
                            .bind(policy_id)
                            .bind(i64::from(project.number))
                            .bind(&project.name)
                            .bind(&project.summary)
                            .bind(project.status.label())
                            .bind(row)
                            .execute(self.transaction())
                            .await?;
                            for table in ["project_department", "project_strategy", "project_cost"]
                            {
                                sqlx::query(&format!("DELETE FROM {table} WHERE project_id = $1"))
                                    .bind(row)
                                    .execute(self.transaction())
                                    .await?;
                            }
                            row
                        }
                        None => {
                            sqlx::query_scalar(
                                "INSERT INTO project (edition_id, policy_id, position, number, stable_id, \
                                 name, summary, status) VALUES ($1, $2, $3, $3, $4, $5, $6, $7) RETURNING id",
                            )
                            .bind(id)
                            .bind(policy_id)
                            .bind(i64::from(project.number))
                            .bind(project.id.as_str())
                            .bind(&project.name)
                            .bind(&project.summary)
                            .bind(project.status.label())
                            .fetch_one(self.transaction())
                            .await?
                        }
                    };
                    self.insert_project_parts(row, project).await?;
                }
            }
        }
        for policy in touched {
            let rows: Vec<i64> =
                sqlx::query_scalar("SELECT id FROM project WHERE policy_id = $1 ORDER BY number")
                    .bind(policy)
                    .fetch_all(self.transaction())
                    .await?;
            for (position, row) in rows.into_iter().enumerate() {
                sqlx::query("UPDATE project SET position = $1 WHERE id = $2")
                    .bind(i64::try_from(position).unwrap_or(i64::MAX))
                    .bind(row)
                    .execute(self.transaction())
                    .await?;
            }
        }
        sqlx::query("DELETE FROM edition_total WHERE edition_id = $1")
            .bind(id)
            .execute(self.transaction())
            .await?;
        // The totals of the edition as the caller validated it (what the changes make of it).
        self.insert_year_totals(id, result).await?;
        sqlx::query("UPDATE edition SET updated_at = $1, revision = revision + 1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(self.transaction())
            .await?;
        Ok(())
    }

    /// The row id and policy row id of the project with this stable id in edition `id`.
    async fn project_row(
        &mut self,
        id: i64,
        stable_id: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, policy_id FROM project WHERE edition_id = $1 AND stable_id = $2",
        )
        .bind(id)
        .bind(stable_id)
        .fetch_optional(self.transaction())
        .await?;
        match row {
            Some(r) => Ok(Some((r.try_get("id")?, r.try_get("policy_id")?))),
            None => Ok(None),
        }
    }

    async fn policy_row(&mut self, id: i64, code: PolicyCode) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT id FROM policy WHERE edition_id = $1 AND code = $2")
            .bind(id)
            .bind(code.to_string())
            .fetch_optional(self.transaction())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no policy {code} in edition {id}")))
    }

    /// Writes a project's departments, strategy links and amounts.
    async fn insert_project_parts(
        &mut self,
        row: i64,
        project: &Project,
    ) -> Result<(), StoreError> {
        for (position, name) in project.departments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO project_department (project_id, position, name) VALUES ($1, $2, $3)",
            )
            .bind(row)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(name)
            .execute(self.transaction())
            .await?;
        }
        for (position, link) in project.strategies.iter().enumerate() {
            sqlx::query(
                "INSERT INTO project_strategy (project_id, position, goal, measure, raw) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(row)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(i64::from(link.code.goal()))
            .bind(i64::from(link.code.measure()))
            .bind(&link.raw)
            .execute(self.transaction())
            .await?;
        }
        for cost in &project.costs {
            let year = i64::from(cost.year.year());
            sqlx::query(
                "INSERT INTO project_cost (project_id, fiscal_year, total, earmarked, general) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(row)
            .bind(year)
            .bind(cost.total.map(|m| m.thousand_yen()))
            .bind(cost.earmarked.map(|m| m.thousand_yen()))
            .bind(cost.general.map(|m| m.thousand_yen()))
            .execute(self.transaction())
            .await?;
            for (kind, money) in &cost.earmarked_breakdown {
                sqlx::query(
                    "INSERT INTO project_funding (project_id, fiscal_year, kind, amount) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(row)
                .bind(year)
                .bind(kind.key())
                .bind(money.thousand_yen())
                .execute(self.transaction())
                .await?;
            }
        }
        Ok(())
    }
}
