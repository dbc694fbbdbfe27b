//! Writing plans. Every write happens in a [`WriteTx`]: one database transaction that
//! knows who is writing and records each change in the audit log before it commits, so a
//! change and its audit row are stored together or not at all.
//!
//! Rows are inserted in multi-row statements (hundreds of rows per round trip), which keeps
//! an import of tens of thousands of projects to seconds on both backends.

use std::collections::HashMap;

use keikaku_core::audit::AuditRecord;
use keikaku_core::{Edition, MunicipalityCode};
use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Row, Transaction};

use super::{Backend, Store, StoreError};

/// A value bound into a batched statement.
enum Value {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
}

/// The most bind parameters one statement may carry (SQLite allows 32,766).
const MAX_PARAMETERS: usize = 30_000;

/// Whether [`WriteTx::store_edition`] may replace an edition already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Never: an existing edition is refused with [`StoreError::EditionExists`].
    Refuse,
    /// Yes, but only the edition the writer read before it started (its stamp, or `None`
    /// when there was none): if another writer stored, replaced or changed the edition in
    /// the meantime, the write fails with [`StoreError::Conflict`] instead of silently
    /// undoing the other writer's work.
    Seen(Option<EditionStamp>),
    /// Whatever is stored (restores and tools that hold the write lock throughout).
    Any,
}

/// One state of a stored edition: its database id (new whenever it is replaced whole) and
/// its revision (moved by every change made in place: a form saved, a review step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditionStamp {
    /// Database id.
    pub id: i64,
    /// Changes made in place since it was stored.
    pub revision: i64,
}

impl EditionStamp {
    /// The stamp in a row with the columns `id` and `revision`.
    pub(super) fn of_row(r: &sqlx::any::AnyRow) -> Result<EditionStamp, StoreError> {
        Ok(EditionStamp {
            id: r.try_get("id")?,
            revision: r.try_get("revision")?,
        })
    }
}

/// What [`WriteTx::store_edition`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The edition's database id.
    pub id: i64,
    /// True when an edition with the same municipality and span was replaced.
    pub replaced: bool,
}

/// A write transaction with its author.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    actor: String,
    backend: Backend,
    via: Via,
    file: Option<(String, String)>,
    /// Audit entries written by this transaction (database id and content), chained when it
    /// commits.
    pending: Vec<(i64, AuditRecord)>,
    /// Whether what the public sees may change (true unless the writer said it changes
    /// drafts only): such a commit also bumps the public version.
    public: bool,
}

/// Through what a change came, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The command line.
    Cli,
    /// A form of the workspace in the browser.
    Browser,
    /// A file uploaded in the browser.
    Upload,
    /// The admin API.
    Api,
    /// keikaku itself (migrations of older data).
    System,
}

impl Via {
    /// `cli`, `browser`, `upload`, `api` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Cli => "cli",
            Via::Browser => "browser",
            Via::Upload => "upload",
            Via::Api => "api",
            Via::System => "system",
        }
    }
}

/// One entry to record in the audit log (who and through what come from the transaction).
#[derive(Debug, Clone, Copy, Default)]
pub struct Entry<'a> {
    /// What was done: `import-edition`, `edit-project`, `submit`…
    pub action: &'a str,
    /// The edition or object concerned (`072052 R3-R5`).
    pub subject: &'a str,
    /// Free detail.
    pub detail: &'a str,
    /// The project's stable id, if the entry concerns one.
    pub project: &'a str,
    /// The field changed, if the entry records one change.
    pub field: &'a str,
    /// The value before.
    pub old: Option<&'a str>,
    /// The value after.
    pub new: Option<&'a str>,
    /// The comment given with the change.
    pub comment: &'a str,
}

impl Store {
    /// Starts a write transaction on behalf of `actor` (a user name, `cli`, …). On SQLite it
    /// takes the write lock at once so that concurrent writers wait instead of failing.
    pub async fn begin_write(&self, actor: &str) -> Result<WriteTx, StoreError> {
        let tx = match self.backend() {
            Backend::Sqlite => self.pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool().begin().await?,
        };
        Ok(WriteTx {
            tx,
            actor: actor.to_owned(),
            backend: self.backend(),
            via: Via::Cli,
            file: None,
            pending: Vec::new(),
            public: true,
        })
    }
}

impl Store {
    /// Computes the per-year totals of editions stored before they existed (databases made
    /// by an earlier keikaku). Runs when the store opens; usually finds nothing to do.
    pub(super) async fn backfill_year_totals(&self) -> Result<usize, StoreError> {
        let missing: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM edition e WHERE NOT EXISTS \
             (SELECT 1 FROM edition_total t WHERE t.edition_id = e.id)",
        )
        .fetch_all(self.pool())
        .await?;
        if !missing.is_empty() {
            tracing::warn!(
                editions = missing.len(),
                "computing the per-year totals of editions stored by an earlier keikaku (once)"
            );
        }
        for id in &missing {
            let edition = self.edition(*id).await?;
            let mut tx = self.begin_write("keikaku").await?;
            let done: Option<i64> = sqlx::query_scalar(
                "SELECT edition_id FROM edition_total WHERE edition_id = $1 LIMIT 1",
            )
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?;
            if done.is_some() {
                continue;
            }
            match tx.insert_year_totals(*id, &edition).await {
                // Another process filled them in at the same moment.
                Err(StoreError::Database(sqlx::Error::Database(db)))
                    if db.is_unique_violation() => {}
                Err(other) => return Err(other),
                Ok(()) => tx.commit().await?,
            }
        }
        Ok(missing.len())
    }
}

pub(super) fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

impl WriteTx {
    /// The same transaction, recording `via` as the way its changes came.
    pub fn via(mut self, via: Via) -> WriteTx {
        self.via = via;
        self
    }

    /// The same transaction, recording that its changes came from the file `name` with this
    /// SHA-256.
    pub fn with_file(mut self, name: &str, sha256: &str) -> WriteTx {
        self.file = Some((name.to_owned(), sha256.to_owned()));
        self
    }

    /// The backend this transaction runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Who is writing.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The connection of the transaction, for statements of other storage modules.
    pub(super) fn transaction(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// The transaction itself, for the readers of other storage modules.
    pub(super) fn inner(&mut self) -> &mut Transaction<'static, Any> {
        &mut self.tx
    }

    /// Declares that this transaction changes drafts alone (and the audit log): committing it
    /// leaves the public version as it is, so that the portal does not look for a change.
    /// The caller must have read, under the edition's lock, that the edition is a draft.
    pub fn drafts_only(&mut self) {
        self.public = false;
    }

    /// Takes audit entries written before the chain existed into this transaction's chaining.
    pub(super) fn adopt_pending(&mut self, entries: Vec<(i64, AuditRecord)>) {
        self.pending.extend(entries);
    }

    /// Commits every change and its audit entries, bumping the data version and chaining the
    /// entries to the audit log.
    ///
    /// Both happen under the data version row's lock, taken by the last statements before the
    /// commit and held only while committing: a second writer waits for it and then reads the
    /// first one's committed values, so versions and the audit chain follow commit order. A
    /// reader that sees a version therefore sees every write with that version or a lower one
    /// (ids taken at insert, as the audit log's, do not have this property on PostgreSQL).
    pub async fn commit(mut self) -> Result<(), StoreError> {
        let head = sqlx::query(
            "UPDATE data_version SET version = version + 1, public_version = public_version + $1 \
             WHERE id = 1 RETURNING audit_seq, audit_hash",
        )
        .bind(i64::from(self.public))
        .fetch_one(&mut *self.tx)
        .await?;
        if !self.pending.is_empty() {
            let mut seq: i64 = head.try_get("audit_seq")?;
            let mut hash: String = head.try_get("audit_hash")?;
            for (id, record) in &mut self.pending {
                record.chain_after(seq, &hash);
                sqlx::query(
                    "UPDATE audit_log SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4",
                )
                .bind(record.seq)
                .bind(&record.prev_hash)
                .bind(&record.hash)
                .bind(*id)
                .execute(&mut *self.tx)
                .await?;
                seq = record.seq;
                hash = record.hash.clone();
            }
            sqlx::query("UPDATE data_version SET audit_seq = $1, audit_hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(&hash)
                .execute(&mut *self.tx)
                .await?;
        }
        self.tx.commit().await.map_err(StoreError::from)
    }

    /// Abandons every change.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await.map_err(StoreError::from)
    }

    /// Records an action in the audit log.
    pub async fn audit(
        &mut self,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.record(&Entry {
            action,
            subject,
            detail,
            ..Entry::default()
        })
        .await
    }

    /// Records one entry in the audit log, chained to the one before.
    pub async fn record(&mut self, entry: &Entry<'_>) -> Result<(), StoreError> {
        let (file_name, file_sha256) = self.file.clone().unwrap_or_default();
        let record = AuditRecord {
            at: now(),
            actor: self.actor.clone(),
            via: self.via.as_str().to_owned(),
            action: entry.action.to_owned(),
            subject: entry.subject.to_owned(),
            detail: entry.detail.to_owned(),
            project: entry.project.to_owned(),
            field: entry.field.to_owned(),
            old: entry.old.map(str::to_owned),
            new: entry.new.map(str::to_owned),
            comment: entry.comment.to_owned(),
            file_name,
            file_sha256,
            ..AuditRecord::default()
        };
        self.append_record(&record).await
    }

    /// Inserts `record`, to be chained when the transaction commits.
    async fn append_record(&mut self, record: &AuditRecord) -> Result<(), StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit_log (at, actor, action, subject, detail, via, project, field, old_value, \
             new_value, comment, file_name, file_sha256) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(&record.at)
        .bind(&record.actor)
        .bind(&record.action)
        .bind(&record.subject)
        .bind(&record.detail)
        .bind(&record.via)
        .bind(&record.project)
        .bind(&record.field)
        .bind(&record.old)
        .bind(&record.new)
        .bind(&record.comment)
        .bind(&record.file_name)
        .bind(&record.file_sha256)
        .fetch_one(&mut *self.tx)
        .await?;
        self.pending.push((id, record.clone()));
        Ok(())
    }

    /// The id of the stored edition of `code` with this span, if any.
    async fn existing(
        &mut self,
        code: &MunicipalityCode,
        edition: &Edition,
    ) -> Result<Option<EditionStamp>, StoreError> {
        let row = sqlx::query(
            "SELECT id, revision FROM edition WHERE municipality_code = $1 AND first_year = $2 AND last_year = $3",
        )
        .bind(code.as_str())
        .bind(i64::from(edition.span.first().year()))
        .bind(i64::from(edition.span.last().year()))
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(EditionStamp::of_row).transpose()
    }

    /// Stores a validated edition (and its municipality). If the same municipality already
    /// has this edition, refuses unless `replace`, in which case the old one is deleted in
    /// the same transaction, so readers see either the old or the new, never a mix.
    pub async fn store_edition(
        &mut self,
        edition: &Edition,
        replace: Replace,
    ) -> Result<Stored, StoreError> {
        let municipality = &edition.municipality;
        let subject = format!("{} {}", municipality.code, edition.span.label());
        if municipality.is_unspecified() {
            return Err(StoreError::NotFound(
                "the municipality is not named; pass --municipality CODE --municipality-name NAME"
                    .into(),
            ));
        }
        sqlx::query(
            "INSERT INTO municipality (code, name) VALUES ($1, $2) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(municipality.code.as_str())
        .bind(&municipality.name)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| conflict(e, &subject))?;
        let stamp = self.existing(&municipality.code, edition).await?;
        if let Replace::Seen(seen) = replace
            && seen != stamp
        {
            return Err(StoreError::Conflict(subject));
        }
        let existing = stamp.map(|s| s.id);
        // SQLite reuses the highest row id once it is deleted; the replacement takes a new
        // one, so that an edition's id changes whenever its content does.
        let mut new_id = None;
        if let Some(old) = existing {
            if replace == Replace::Refuse {
                return Err(StoreError::EditionExists {
                    municipality: format!("{} {}", municipality.code, municipality.name),
                    edition: edition.span.label(),
                });
            }
            if self.backend == Backend::Sqlite {
                new_id = sqlx::query_scalar::<_, i64>("SELECT MAX(id) + 1 FROM edition")
                    .fetch_optional(&mut *self.tx)
                    .await?;
            }
            let deleted = sqlx::query("DELETE FROM edition WHERE id = $1")
                .bind(old)
                .execute(&mut *self.tx)
                .await?
                .rows_affected();
            if deleted != 1 {
                return Err(StoreError::Conflict(subject));
            }
        }
        let id = self
            .insert_tree(edition, new_id)
            .await
            .map_err(|e| match e {
                StoreError::Repeated(what) => StoreError::Repeated(format!("{subject}: {what}")),
                StoreError::Conflict(_) => StoreError::Conflict(subject.clone()),
                other => other,
            })?;
        let projects = edition.projects().count();
        let action = if existing.is_some() {
            "replace-edition"
        } else {
            "import-edition"
        };
        self.audit(
            action,
            &subject,
            &format!("source={}; projects={projects}", edition.source),
        )
        .await?;
        Ok(Stored {
            id,
            replaced: existing.is_some(),
        })
    }

    /// Inserts the edition and everything in it; `id` is the edition's id, or `None` for the
    /// database's next one.
    async fn insert_tree(&mut self, edition: &Edition, id: Option<i64>) -> Result<i64, StoreError> {
        // Only SQLite is given an id; PostgreSQL's identity sequence never reuses one.
        let sql = if id.is_some() {
            "INSERT INTO edition (id, municipality_code, first_year, last_year, title, source, state, imported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
        } else {
            "INSERT INTO edition (municipality_code, first_year, last_year, title, source, state, imported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
        };
        let mut query = sqlx::query(sql);
        if let Some(id) = id {
            query = query.bind(id);
        }
        // Only the edition row can meet another writer's: the rows below belong to it.
        let edition_id: i64 = query
            .bind(edition.municipality.code.as_str())
            .bind(i64::from(edition.span.first().year()))
            .bind(i64::from(edition.span.last().year()))
            .bind(&edition.title)
            .bind(&edition.source)
            .bind(edition.state.as_str())
            .bind(now())
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|e| conflict(e, ""))?
            .try_get("id")?;

        let goal_rows = edition
            .goals
            .iter()
            .enumerate()
            .map(|(i, g)| {
                vec![
                    Value::Int(edition_id),
                    Value::Int(to_i64(i)),
                    Value::Int(i64::from(g.number)),
                    Value::Text(g.title.clone()),
                    Value::Text(g.field.clone()),
                ]
            })
            .collect();
        let goal_ids = self
            .insert(
                "goal",
                &["edition_id", "position", "number", "title", "field"],
                goal_rows,
                Some("number"),
            )
            .await?;

        let mut policy_rows = Vec::new();
        for goal in &edition.goals {
            let goal_id = lookup(&goal_ids, &goal.number.to_string())?;
            for policy in &goal.policies {
                policy_rows.push(vec![
                    Value::Int(edition_id),
                    Value::Int(goal_id),
                    Value::Int(to_i64(policy_rows.len())),
                    Value::Text(policy.code.to_string()),
                    Value::Text(policy.title.clone()),
                    Value::Text(policy.vision.clone()),
                ]);
            }
        }
        let policy_ids = self
            .insert(
                "policy",
                &[
                    "edition_id",
                    "goal_id",
                    "position",
                    "code",
                    "title",
                    "vision",
                ],
                policy_rows,
                Some("code"),
            )
            .await?;

        let mut project_rows = Vec::new();
        for policy in edition.policies() {
            let policy_id = lookup(&policy_ids, &policy.code.to_string())?;
            for (position, project) in policy.projects.iter().enumerate() {
                project_rows.push(vec![
                    Value::Int(edition_id),
                    Value::Int(policy_id),
                    Value::Int(to_i64(position)),
                    Value::Int(i64::from(project.number)),
                    Value::Text(project.id.to_string()),
                    Value::Text(project.name.clone()),
                    Value::Text(project.summary.clone()),
                    Value::Text(project.status.label().to_owned()),
                ]);
            }
        }
        let project_ids = self
            .insert(
                "project",
                &[
                    "edition_id",
                    "policy_id",
                    "position",
                    "number",
                    "stable_id",
                    "name",
                    "summary",
                    "status",
                ],
                project_rows,
                Some("stable_id"),
            )
            .await?;

        let mut departments = Vec::new();
        let mut strategies = Vec::new();
        let mut costs = Vec::new();
        let mut funding = Vec::new();
        for (_, project) in edition.projects() {
            let project_id = lookup(&project_ids, project.id.as_str())?;
            for (i, name) in project.departments.iter().enumerate() {
                departments.push(vec![
                    Value::Int(project_id),
                    Value::Int(to_i64(i)),
                    Value::Text(name.clone()),
                ]);
            }
            for (i, link) in project.strategies.iter().enumerate() {
                strategies.push(vec![
                    Value::Int(project_id),
                    Value::Int(to_i64(i)),
                    Value::Int(i64::from(link.code.goal())),
                    Value::Int(i64::from(link.code.measure())),
                    Value::Text(link.raw.clone()),
                ]);
            }
            for cost in &project.costs {
                let year = i64::from(cost.year.year());
                costs.push(vec![
                    Value::Int(project_id),
                    Value::Int(year),
                    Value::OptInt(cost.total.map(|m| m.thousand_yen())),
                    Value::OptInt(cost.earmarked.map(|m| m.thousand_yen())),
                    Value::OptInt(cost.general.map(|m| m.thousand_yen())),
                ]);
                for (kind, money) in &cost.earmarked_breakdown {
                    funding.push(vec![
                        Value::Int(project_id),
                        Value::Int(year),
                        Value::Text(kind.key().to_owned()),
                        Value::Int(money.thousand_yen()),
                    ]);
                }
            }
        }
        self.insert(
            "project_department",
            &["project_id", "position", "name"],
            departments,
            None,
        )
        .await?;
        self.insert(
            "project_strategy",
            &["project_id", "position", "goal", "measure", "raw"],
            strategies,
            None,
        )
        .await?;
        self.insert(
            "project_cost",
            &["project_id", "fiscal_year", "total", "earmarked", "general"],
            costs,
            None,
        )
        .await?;
        self.insert(
            "project_funding",
            &["project_id", "fiscal_year", "kind", "amount"],
            funding,
            None,
        )
        .await?;
        self.insert_year_totals(edition_id, edition).await?;
        Ok(edition_id)
    }

    /// Stores the edition's totals per year for comparisons (see migration 0002).
    pub(super) async fn insert_year_totals(
        &mut self,
        edition_id: i64,
        edition: &Edition,
    ) -> Result<(), StoreError> {
        let rows = keikaku_core::aggregate::year_totals(edition)
            .into_iter()
            .map(|t| {
                vec![
                    Value::Int(edition_id),
                    Value::Text(t.dimension.to_owned()),
                    Value::Int(i64::from(t.year.year())),
                    Value::Text(t.key),
                    Value::Text(t.name),
                    Value::Int(i64::try_from(t.totals.projects).unwrap_or(i64::MAX)),
                    Value::Int(i64::try_from(t.totals.priced).unwrap_or(i64::MAX)),
                    Value::Int(t.totals.cost.thousand_yen()),
                    Value::Int(t.totals.earmarked.thousand_yen()),
                    Value::Int(t.totals.general.thousand_yen()),
                    Value::Int(i64::try_from(t.totals.with_earmarked).unwrap_or(i64::MAX)),
                    Value::Int(i64::try_from(t.totals.with_general).unwrap_or(i64::MAX)),
                ]
            })
            .collect();
        self.insert(
            "edition_total",
            &[
                "edition_id",
                "dimension",
                "fiscal_year",
                "key",
                "name",
                "projects",
                "priced",
                "total",
                "earmarked",
                "general",
                "with_earmarked",
                "with_general",
            ],
            rows,
            None,
        )
        .await?;
        Ok(())
    }

    /// Inserts `rows` in as few statements as the parameter limit allows. With
    /// `returning = Some(column)`, returns each new row's id keyed by that column's text.
    async fn insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: Vec<Vec<Value>>,
        returning: Option<&str>,
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut ids = HashMap::new();
        let per_statement = (MAX_PARAMETERS / columns.len().max(1)).max(1);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_statement).collect();
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            let mut arguments = AnyArguments::default();
            let mut n = 0;
            for (r, row) in chunk.into_iter().enumerate() {
                sql.push_str(if r == 0 { "(" } else { ", (" });
                for (c, value) in row.into_iter().enumerate() {
                    n += 1;
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    // SQLite looks up each named parameter (`$7`) by a linear scan, which
                    // makes big batches quadratic; its anonymous `?` is positional and O(1).
                    match self.backend {
                        Backend::Sqlite => sql.push('?'),
                        Backend::Postgres => {
                            sql.push('$');
                            sql.push_str(&n.to_string());
                        }
                    }
                    let added = match value {
                        Value::Int(v) => arguments.add(v),
                        Value::OptInt(v) => arguments.add(v),
                        Value::Text(v) => arguments.add(v),
                    };
                    added.map_err(sqlx::Error::Encode)?;
                }
                sql.push(')');
            }
            match returning {
                Some(key) => {
                    sql.push_str(&format!(" RETURNING id, CAST({key} AS TEXT) AS key"));
                    for row in sqlx::query_with(&sql, arguments)
                        .fetch_all(&mut *self.tx)
                        .await
                        .map_err(|e| repeated(e, table))?
                    {
                        ids.insert(
                            row.try_get::<String, _>("key")?,
                            row.try_get::<i64, _>("id")?,
                        );
                    }
                }
                None => {
                    sqlx::query_with(&sql, arguments)
                        .execute(&mut *self.tx)
                        .await
                        .map_err(|e| repeated(e, table))?;
                }
            }
        }
        Ok(ids)
    }
}

fn lookup(ids: &HashMap<String, i64>, key: &str) -> Result<i64, StoreError> {
    ids.get(key)
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("row {key:?} was not returned by its insert")))
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A unique violation on the rows of a new edition: they belong to this edition alone, so
/// the edition itself repeats something (no other writer can be the cause).
fn repeated(error: sqlx::Error, table: &str) -> StoreError {
    match &error {
        // Totals are computed, not read; a clash there is another writer's backfill.
        sqlx::Error::Database(db) if db.is_unique_violation() && table != "edition_total" => {
            StoreError::Repeated(match table {
                "goal" => "the same goal number is given twice".to_owned(),
                "policy" => "the same policy code is given twice".to_owned(),
                "project" => {
                    "the same project number is given twice in one policy, or the same project id twice"
                        .to_owned()
                }
                "project_cost" => {
                    "the amounts of the same fiscal year are given twice in one project".to_owned()
                }
                "project_funding" => {
                    "the same kind of 特定財源 is given twice for one year".to_owned()
                }
                other => format!("the same row is given twice ({other})"),
            })
        }
        _ => StoreError::Database(error),
    }
}

/// A unique violation during a write means another writer stored the same edition first.
fn conflict(error: sqlx::Error, subject: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(subject.to_owned())
        }
        _ => StoreError::Database(error),
    }
}

impl WriteTx {
    /// Records a municipality's population (creating the municipality when `name` is given
    /// and it is not stored yet).
    pub async fn set_population(
        &mut self,
        code: &MunicipalityCode,
        name: Option<&str>,
        population: keikaku_core::Population,
    ) -> Result<(), StoreError> {
        let count = i64::try_from(population.count).map_err(|_| {
            StoreError::NotFound(format!("population {} is too large", population.count))
        })?;
        if let Some(name) = name {
            sqlx::query(
                "INSERT INTO municipality (code, name) VALUES ($1, $2) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
            )
            .bind(code.as_str())
            .bind(name)
            .execute(&mut *self.tx)
            .await?;
        }
        let changed = sqlx::query(
            "UPDATE municipality SET population = $1, population_as_of = $2 WHERE code = $3",
        )
        .bind(count)
        .bind(population.as_of.to_string())
        .bind(code.as_str())
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "no municipality {code} in the database; give its name (--name) to add it"
            )));
        }
        self.audit(
            "set-population",
            code.as_str(),
            &format!(
                "population={}; as_of={}",
                population.count, population.as_of
            ),
        )
        .await
    }

    /// Sets an edition's state (draft or published) and records who did it.
    pub async fn set_state(
        &mut self,
        id: i64,
        state: keikaku_core::EditionState,
        subject: &str,
    ) -> Result<(), StoreError> {
        let changed = sqlx::query("UPDATE edition SET state = $1 WHERE id = $2")
            .bind(state.as_str())
            .bind(id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound(format!("no edition with id {id}")));
        }
        self.audit(&format!("set-state-{}", state.as_str()), subject, "")
            .await
    }
}

impl WriteTx {
    /// Stores a municipality or renames it.
    pub async fn upsert_municipality(
        &mut self,
        code: &MunicipalityCode,
        name: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO municipality (code, name) VALUES ($1, $2) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(code.as_str())
        .bind(name)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Sets when an edition was first stored (a restore keeps the original time).
    pub async fn set_imported_at(&mut self, edition_id: i64, at: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE edition SET imported_at = $1 WHERE id = $2")
            .bind(at)
            .bind(edition_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// How many audit entries this transaction has recorded so far: those recorded after it
    /// can be discarded with [`WriteTx::discard_audit_since`].
    pub fn audit_mark(&self) -> usize {
        self.pending.len()
    }

    /// Removes the audit entries this transaction recorded after `mark` (a restore replaces
    /// them with the log it restores).
    pub async fn discard_audit_since(&mut self, mark: usize) -> Result<(), StoreError> {
        for (id, _) in self.pending.split_off(mark.min(self.pending.len())) {
            sqlx::query("DELETE FROM audit_log WHERE id = $1")
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Appends audit entries recorded elsewhere (a backup), oldest first: their content is
    /// kept, their place in the chain follows this log's.
    pub async fn append_audit_records(
        &mut self,
        records: &[AuditRecord],
    ) -> Result<(), StoreError> {
        for record in records {
            self.append_record(record).await?;
        }
        Ok(())
    }

    /// Row counts of the main tables as this transaction sees them: municipalities,
    /// editions, projects, cost rows.
    pub async fn counts(&mut self) -> Result<[i64; 4], StoreError> {
        let mut counts = [0; 4];
        for (count, table) in counts.iter_mut().zip(super::read::COUNTED_TABLES) {
            *count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *self.tx)
                .await?;
        }
        Ok(counts)
    }
}
