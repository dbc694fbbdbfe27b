//! `keikaku check`: the database's own integrity (SQLite's `integrity_check`), every foreign
//! key, the money rules on every stored amount (事業費 = 特定財源 + 一般財源, breakdowns adding
//! up, no negative amounts), the shape rules (every edition has projects, every policy has
//! projects), the stored per-year totals against the projects they summarise, and the audit
//! log's hash chain (a changed or deleted entry is found).

use std::collections::HashMap;

use sqlx::Row;

use super::{Backend, Store, StoreError};

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What rule: `integrity`, `foreign-key`, `sum`, `breakdown`, `negative`, `empty`,
    /// `totals`, `audit-chain`.
    pub rule: &'static str,
    /// Where and what.
    pub detail: String,
}

/// What was checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Municipalities, editions, projects and cost rows checked.
    pub counts: [i64; 4],
    /// Everything found wrong (at most [`MAX_PER_RULE`] per rule).
    pub problems: Vec<Problem>,
}

/// Problems listed per rule; more are counted in one last line.
pub const MAX_PER_RULE: usize = 20;

/// Each foreign key: (child table, column, parent table, parent column).
const FOREIGN_KEYS: [(&str, &str, &str, &str); 10] = [
    ("edition", "municipality_code", "municipality", "code"),
    ("goal", "edition_id", "edition", "id"),
    ("policy", "edition_id", "edition", "id"),
    ("policy", "goal_id", "goal", "id"),
    ("project", "edition_id", "edition", "id"),
    ("project", "policy_id", "policy", "id"),
    ("project_department", "project_id", "project", "id"),
    ("project_strategy", "project_id", "project", "id"),
    ("project_cost", "project_id", "project", "id"),
    ("edition_total", "edition_id", "edition", "id"),
];

/// Rows that break a money or shape rule: (rule, SQL returning one text column `what`).
const ROW_RULES: [(&str, &str); 7] = [
    (
        "sum",
        "SELECT 'project ' || p.stable_id || ' FY' || CAST(c.fiscal_year AS TEXT) || ': 事業費 ' || CAST(c.total AS TEXT) \
         || ' ≠ 特定財源 ' || CAST(c.earmarked AS TEXT) || ' + 一般財源 ' || CAST(c.general AS TEXT) AS what \
         FROM project_cost c JOIN project p ON p.id = c.project_id \
         WHERE c.total IS NOT NULL AND c.earmarked IS NOT NULL AND c.general IS NOT NULL \
         AND c.total <> c.earmarked + c.general",
    ),
    (
        "sum",
        "SELECT 'project ' || p.stable_id || ' FY' || CAST(c.fiscal_year AS TEXT) || ': funding without a 事業費' AS what \
         FROM project_cost c JOIN project p ON p.id = c.project_id \
         WHERE c.total IS NULL AND (c.earmarked IS NOT NULL OR c.general IS NOT NULL)",
    ),
    (
        "negative",
        "SELECT 'project ' || p.stable_id || ' FY' || CAST(c.fiscal_year AS TEXT) || ': negative amount' AS what \
         FROM project_cost c JOIN project p ON p.id = c.project_id \
         WHERE c.total < 0 OR c.earmarked < 0 OR c.general < 0",
    ),
    (
        "breakdown",
        "SELECT 'project ' || p.stable_id || ' FY' || CAST(c.fiscal_year AS TEXT) || ': 特定財源 ' \
         || COALESCE(CAST(c.earmarked AS TEXT), '-') || ' ≠ its breakdown ' || CAST(SUM(f.amount) AS TEXT) AS what \
         FROM project_funding f JOIN project_cost c ON c.project_id = f.project_id AND c.fiscal_year = f.fiscal_year \
         JOIN project p ON p.id = c.project_id \
         GROUP BY c.project_id, p.stable_id, c.fiscal_year, c.earmarked HAVING c.earmarked IS NULL OR SUM(f.amount) <> c.earmarked",
    ),
    (
        "foreign-key",
        "SELECT 'funding of project ' || CAST(f.project_id AS TEXT) || ' FY' || CAST(f.fiscal_year AS TEXT) \
         || ' has no cost row' AS what FROM project_funding f LEFT JOIN project_cost c \
         ON c.project_id = f.project_id AND c.fiscal_year = f.fiscal_year WHERE c.project_id IS NULL",
    ),
    (
        "empty",
        "SELECT 'edition ' || e.municipality_code || ' ' || CAST(e.first_year AS TEXT) || '-' || CAST(e.last_year AS TEXT) \
         || ' has no project' AS what FROM edition e \
         WHERE NOT EXISTS (SELECT 1 FROM project p WHERE p.edition_id = e.id)",
    ),
    (
        "empty",
        "SELECT 'policy ' || po.code || ' of edition ' || e.municipality_code || ' ' || CAST(e.first_year AS TEXT) \
         || ' has no project' AS what FROM policy po JOIN edition e ON e.id = po.edition_id \
         WHERE NOT EXISTS (SELECT 1 FROM project p WHERE p.policy_id = po.id)",
    ),
];

impl Store {
    /// Checks everything (see the module documentation). Reads only.
    pub async fn check(&self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport {
            counts: self.counts().await?,
            problems: Vec::new(),
        };
        let pool = self.pool();
        if self.backend() == Backend::Sqlite {
            let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_all(pool)
                .await?;
            for row in rows.into_iter().filter(|r| r != "ok") {
                report.problems.push(Problem {
                    rule: "integrity",
                    detail: row,
                });
            }
        }
        for (child, column, parent, key) in FOREIGN_KEYS {
            let sql = format!(
                "SELECT CAST(c.{column} AS TEXT) AS what FROM {child} c LEFT JOIN {parent} p \
                 ON p.{key} = c.{column} WHERE p.{key} IS NULL"
            );
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            push(
                &mut report,
                "foreign-key",
                rows.iter().map(|r| {
                    let what: String = r.try_get("what").unwrap_or_default();
                    format!("{child}.{column} = {what} names no {parent}")
                }),
            );
        }
        for (rule, sql) in ROW_RULES {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            push(
                &mut report,
                rule,
                rows.iter()
                    .map(|r| r.try_get::<String, _>("what").unwrap_or_default()),
            );
        }
        self.check_totals(&mut report).await?;
        if let Err(broken) = self.verify_audit_chain().await? {
            report.problems.push(Problem {
                rule: "audit-chain",
                detail: format!("audit log entry {}: {}", broken.seq, broken.reason),
            });
        }
        Ok(report)
    }

    /// Compares the stored per-year totals with totals computed from the projects.
    async fn check_totals(&self, report: &mut CheckReport) -> Result<(), StoreError> {
        let infos = self.editions().await?;
        let mut wrong = Vec::new();
        for batch in infos.chunks(200) {
            let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
            let editions = self.editions_by_id(&ids).await?;
            let mut stored: HashMap<(i64, String, i64, String), [i64; 7]> = HashMap::new();
            let sql = format!(
                "SELECT edition_id, dimension, fiscal_year, key, projects, priced, total, earmarked, general, \
                        with_earmarked, with_general FROM edition_total WHERE edition_id IN ({})",
                ids.iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for r in sqlx::query(&sql).fetch_all(self.pool()).await? {
                stored.insert(
                    (
                        r.try_get("edition_id")?,
                        r.try_get("dimension")?,
                        r.try_get("fiscal_year")?,
                        r.try_get("key")?,
                    ),
                    [
                        r.try_get("projects")?,
                        r.try_get("priced")?,
                        r.try_get("total")?,
                        r.try_get("earmarked")?,
                        r.try_get("general")?,
                        r.try_get("with_earmarked")?,
                        r.try_get("with_general")?,
                    ],
                );
            }
            for (info, edition) in batch.iter().zip(&editions) {
                for t in keikaku_core::aggregate::year_totals(edition) {
                    let key = (
                        info.id,
                        t.dimension.to_owned(),
                        i64::from(t.year.year()),
                        t.key.clone(),
                    );
                    let expected = [
                        i64::try_from(t.totals.projects).unwrap_or(i64::MAX),
                        i64::try_from(t.totals.priced).unwrap_or(i64::MAX),
                        t.totals.cost.thousand_yen(),
                        t.totals.earmarked.thousand_yen(),
                        t.totals.general.thousand_yen(),
                        i64::try_from(t.totals.with_earmarked).unwrap_or(i64::MAX),
                        i64::try_from(t.totals.with_general).unwrap_or(i64::MAX),
                    ];
                    match stored.remove(&key) {
                        Some(found) if found == expected => {}
                        found => wrong.push(format!(
                            "edition {} {} FY{} {} {}: stored {:?}, the projects give {:?}",
                            info.municipality.code, info.span, key.2, key.1, key.3, found, expected
                        )),
                    }
                }
            }
            wrong.extend(stored.keys().map(|(id, dimension, year, key)| {
                format!(
                    "edition id {id} FY{year} {dimension} {key}: a stored total no project gives"
                )
            }));
        }
        push(report, "totals", wrong.into_iter());
        Ok(())
    }
}

fn push(report: &mut CheckReport, rule: &'static str, details: impl Iterator<Item = String>) {
    let mut more = 0usize;
    for detail in details {
        if report.problems.iter().filter(|p| p.rule == rule).count() < MAX_PER_RULE {
            report.problems.push(Problem { rule, detail });
        } else {
            more += 1;
        }
    }
    if more > 0 {
        report.problems.push(Problem {
            rule,
            detail: format!("… and {more} more"),
        });
    }
}
