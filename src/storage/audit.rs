//! Reading the audit log and keeping its chain whole: entries by project, actor or date for
//! `keikaku audit` and the workspace, the chain's verification for `keikaku check`, and the
//! one-time chaining of entries logged before the chain existed.
//!
//! Entries are written only by [`super::write::WriteTx`], in the transaction of the change
//! they record; nothing here changes an entry once it is chained.

use keikaku_core::audit::{AuditRecord, ChainBreak, verify_chain};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries about this project (stable id).
    pub project: Option<String>,
    /// Entries by this actor (login).
    pub actor: Option<String>,
    /// Entries at or after this time (`YYYY-MM-DD` or RFC 3339).
    pub since: Option<String>,
    /// Entries about this municipality (code `072052`): its own subject or its editions'.
    pub subject_prefix: Option<String>,
    /// Entries whose subject is exactly this (an edition: `072052 R3-R5`).
    pub subject: Option<String>,
    /// Entries of this action (`correct-project`, `submit`…).
    pub action: Option<String>,
    /// At most this many, the newest (all when `None`).
    pub limit: Option<i64>,
}

const COLUMNS: &str = "seq, at, actor, via, action, subject, detail, project, field, old_value, \
                       new_value, comment, file_name, file_sha256, prev_hash, hash";

fn record(r: &AnyRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: r.try_get::<Option<i64>, _>("seq")?.unwrap_or(0),
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        via: r.try_get("via")?,
        action: r.try_get("action")?,
        subject: r.try_get("subject")?,
        detail: r.try_get("detail")?,
        project: r.try_get("project")?,
        field: r.try_get("field")?,
        old: r.try_get("old_value")?,
        new: r.try_get("new_value")?,
        comment: r.try_get("comment")?,
        file_name: r.try_get("file_name")?,
        file_sha256: r.try_get("file_sha256")?,
        prev_hash: r
            .try_get::<Option<String>, _>("prev_hash")?
            .unwrap_or_default(),
        hash: r.try_get::<Option<String>, _>("hash")?.unwrap_or_default(),
    })
}

impl Store {
    /// Entries matching `filter`, oldest first.
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut conditions = vec!["seq IS NOT NULL".to_owned()];
        let mut binds: Vec<String> = Vec::new();
        let mut add = |condition: &str, value: String| {
            binds.push(value);
            conditions.push(condition.replace('?', &format!("${}", binds.len())));
        };
        if let Some(project) = &filter.project {
            add("project = ?", project.clone());
        }
        if let Some(actor) = &filter.actor {
            add("actor = ?", actor.clone());
        }
        if let Some(since) = &filter.since {
            add("at >= ?", since.clone());
        }
        if let Some(subject) = &filter.subject {
            add("subject = ?", subject.clone());
        }
        if let Some(action) = &filter.action {
            add("action = ?", action.clone());
        }
        if let Some(prefix) = &filter.subject_prefix {
            // A municipality: its own subject, or one of its editions (`072052 R3-R5`); never
            // another subject that merely starts with the same characters (an account's login).
            let safe: String = prefix.chars().filter(char::is_ascii_alphanumeric).collect();
            binds.push(safe.clone());
            let exact = binds.len();
            binds.push(format!("{safe} %"));
            conditions.push(format!(
                "(subject = ${exact} OR subject LIKE ${})",
                binds.len()
            ));
        }
        let limit = filter.limit.unwrap_or(i64::MAX);
        let sql = format!(
            "SELECT {COLUMNS} FROM (SELECT {COLUMNS} FROM audit_log WHERE {} ORDER BY seq DESC LIMIT {limit}) newest ORDER BY seq",
            conditions.join(" AND ")
        );
        let mut query = sqlx::query(&sql);
        for value in &binds {
            query = query.bind(value);
        }
        query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(record)
            .collect()
    }

    /// The newest `limit` entries, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let mut entries = self
            .audit_entries(&AuditFilter {
                limit: Some(limit),
                ..AuditFilter::default()
            })
            .await?;
        entries.reverse();
        Ok(entries)
    }

    /// The chain's head as the database keeps it: (seq, hash) of the last entry.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let row = sqlx::query("SELECT audit_seq, audit_hash FROM data_version WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok((row.try_get("audit_seq")?, row.try_get("audit_hash")?))
    }

    /// Verifies the whole chain: `Err` names the first entry that does not verify.
    pub async fn verify_audit_chain(&self) -> Result<Result<usize, ChainBreak>, StoreError> {
        let (seq, hash) = self.audit_head().await?;
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))
            .fetch_all(self.pool())
            .await?;
        let entries: Vec<AuditRecord> = rows.iter().map(record).collect::<Result<_, _>>()?;
        let unchained = rows
            .iter()
            .filter(|r| r.try_get::<Option<i64>, _>("seq").ok().flatten().is_none())
            .count();
        if unchained > 0 {
            return Ok(Err(ChainBreak {
                seq: 0,
                reason: format!("{unchained} entries are not chained"),
            }));
        }
        Ok(verify_chain(&entries, seq, &hash).map(|()| entries.len()))
    }

    /// Chains the entries logged before the chain existed (databases of an earlier keikaku),
    /// in the order they were logged. Runs when the store opens; usually finds nothing to do.
    pub(super) async fn chain_older_audit_entries(&self) -> Result<usize, StoreError> {
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL")
            .fetch_one(self.pool())
            .await?;
        if waiting == 0 {
            return Ok(0);
        }
        let mut tx = self.begin_write("keikaku").await?;
        let done = tx.chain_unchained().await?;
        tx.commit().await?;
        Ok(done)
    }
}

impl super::write::WriteTx {
    /// Takes every unchained entry, in id order, into this transaction's chaining.
    pub(super) async fn chain_unchained(&mut self) -> Result<usize, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT id, {COLUMNS} FROM audit_log WHERE seq IS NULL ORDER BY id"
        ))
        .fetch_all(self.transaction())
        .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            entries.push((row.try_get("id")?, record(row)?));
        }
        let n = entries.len();
        self.adopt_pending(entries);
        Ok(n)
    }
}
