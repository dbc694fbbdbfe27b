//! Comparing municipalities: the totals of one fiscal year by policy field, strategy code or
//! 区分, for chosen municipalities or all of them, read from the per-year totals each edition
//! stores (migration 0002). For each municipality the published edition used is the latest
//! one whose span covers the year.

use keikaku_core::aggregate::GroupBy;
use keikaku_core::{FiscalYear, MunicipalityCode, Population};
use sqlx::Row;
use sqlx::any::AnyArguments;
use sqlx::{Arguments, any::AnyRow};

use super::{Store, StoreError};

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareQuery {
    /// The municipalities, or `None` for every one with a published edition.
    pub codes: Option<Vec<MunicipalityCode>>,
    /// Field, strategy or status; any other grouping compares the totals only.
    pub by: GroupBy,
    /// The fiscal year.
    pub year: FiscalYear,
}

/// A municipality in a comparison, with the edition its figures come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    /// Code.
    pub code: MunicipalityCode,
    /// Name.
    pub name: String,
    /// Recorded population.
    pub population: Option<Population>,
    /// First and last fiscal year of the edition used.
    pub edition: (i32, i32),
}

/// One group of one municipality (or of all, for national totals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompareRow {
    /// Municipality code (empty in national totals).
    pub code: String,
    /// Group key (`all` for the total).
    pub key: String,
    /// Group name.
    pub name: String,
    /// Projects in the group.
    pub projects: i64,
    /// How many of them state a 事業費 in the year (none: the group has no amount, `-`).
    pub priced: i64,
    /// 事業費 in 千円.
    pub total: i64,
    /// 特定財源 in 千円.
    pub earmarked: i64,
    /// 一般財源 in 千円.
    pub general: i64,
    /// How many state a 特定財源 in the year (none: no amount, `-`).
    pub with_earmarked: i64,
    /// How many state a 一般財源 in the year (none: no amount, `-`).
    pub with_general: i64,
}

/// The stored dimension for a grouping.
fn dimension(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Field | GroupBy::Strategy | GroupBy::Status => by.as_str(),
        _ => "all",
    }
}

/// The latest published edition covering `$1` of each municipality (optionally only the
/// `codes` listed from parameter `$first_code` on).
fn chosen_sql(codes: usize, first_code: usize) -> String {
    let filter = if codes == 0 {
        String::new()
    } else {
        let list: Vec<String> = (0..codes).map(|i| format!("${}", i + first_code)).collect();
        format!(" AND municipality_code IN ({})", list.join(", "))
    };
    format!(
        "chosen AS (SELECT id, municipality_code, first_year, last_year FROM (\
            SELECT id, municipality_code, first_year, last_year, \
                   ROW_NUMBER() OVER (PARTITION BY municipality_code ORDER BY first_year DESC) AS rn \
            FROM edition WHERE state = 'published' AND first_year <= $1 AND last_year >= $1{filter}) ranked \
         WHERE rn = 1)"
    )
}

/// `$1` the year, then (`with_dimension`) `$2` the stored dimension, then the codes.
fn arguments(
    query: &CompareQuery,
    with_dimension: bool,
) -> Result<AnyArguments<'static>, StoreError> {
    let mut args = AnyArguments::default();
    args.add(i64::from(query.year.year()))
        .map_err(sqlx::Error::Encode)?;
    if with_dimension {
        args.add(dimension(query.by).to_owned())
            .map_err(sqlx::Error::Encode)?;
    }
    for code in query.codes.iter().flatten() {
        args.add(code.as_str().to_owned())
            .map_err(sqlx::Error::Encode)?;
    }
    Ok(args)
}

fn row(r: &AnyRow, with_code: bool) -> Result<CompareRow, StoreError> {
    Ok(CompareRow {
        code: if with_code {
            r.try_get("municipality_code")?
        } else {
            String::new()
        },
        key: r.try_get("key")?,
        name: r.try_get("name")?,
        projects: r.try_get("projects")?,
        priced: r.try_get("priced")?,
        total: r.try_get("total")?,
        earmarked: r.try_get("earmarked")?,
        general: r.try_get("general")?,
        with_earmarked: r.try_get("with_earmarked")?,
        with_general: r.try_get("with_general")?,
    })
}

impl Store {
    /// The latest first year of a published edition of these municipalities (of any when
    /// `codes` is empty).
    pub async fn latest_published_first_year(
        &self,
        codes: &[MunicipalityCode],
    ) -> Result<Option<FiscalYear>, StoreError> {
        let filter = if codes.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
            format!(" AND municipality_code IN ({})", list.join(", "))
        };
        let mut args = AnyArguments::default();
        for code in codes {
            args.add(code.as_str().to_owned())
                .map_err(sqlx::Error::Encode)?;
        }
        let year: Option<i64> = sqlx::query_scalar_with(
            &format!("SELECT MAX(first_year) FROM edition WHERE state = 'published'{filter}"),
            args,
        )
        .fetch_one(self.pool())
        .await?;
        Ok(year
            .and_then(|y| i32::try_from(y).ok())
            .and_then(FiscalYear::new))
    }

    /// The municipalities compared and their rows, by municipality code then group order
    /// (largest 事業費 first; the total row `all` is always there).
    pub async fn compare(
        &self,
        query: &CompareQuery,
    ) -> Result<(Vec<Compared>, Vec<CompareRow>), StoreError> {
        let codes = query.codes.as_ref().map_or(0, Vec::len);
        let heads = sqlx::query_with(
            &format!(
                "WITH {} SELECT c.municipality_code, m.name, m.population, m.population_as_of, \
                        c.first_year, c.last_year \
                 FROM chosen c JOIN municipality m ON m.code = c.municipality_code \
                 ORDER BY c.municipality_code",
                chosen_sql(codes, 2)
            ),
            arguments(query, false)?,
        )
        .fetch_all(self.pool())
        .await?;
        let mut compared = Vec::with_capacity(heads.len());
        for r in &heads {
            let code: String = r.try_get("municipality_code")?;
            let population: Option<i64> = r.try_get("population")?;
            let as_of: Option<String> = r.try_get("population_as_of")?;
            compared.push(Compared {
                code: MunicipalityCode::parse(&code)
                    .map_err(|_| StoreError::Corrupt(format!("municipality code {code:?}")))?,
                name: r.try_get("name")?,
                population: population.zip(as_of).and_then(|(count, as_of)| {
                    Some(Population {
                        count: u64::try_from(count).ok()?,
                        as_of: keikaku_core::Date::parse(&as_of)?,
                    })
                }),
                edition: (
                    i32::try_from(r.try_get::<i64, _>("first_year")?).unwrap_or(0),
                    i32::try_from(r.try_get::<i64, _>("last_year")?).unwrap_or(0),
                ),
            });
        }
        let with = chosen_sql(codes, 3);
        let rows = sqlx::query_with(
            &format!(
                "WITH {with} SELECT c.municipality_code, t.key, t.name, t.projects, t.priced, t.total, t.earmarked, t.general, \
                        t.with_earmarked, t.with_general \
                 FROM chosen c JOIN edition_total t ON t.edition_id = c.id \
                 WHERE t.fiscal_year = $1 AND (t.dimension = $2 OR t.dimension = 'all') \
                 ORDER BY c.municipality_code, t.dimension = 'all' DESC, t.total DESC, t.key"
            ),
            arguments(query, true)?,
        )
        .fetch_all(self.pool())
        .await?;
        let rows = rows
            .iter()
            .map(|r| row(r, true))
            .collect::<Result<_, _>>()?;
        Ok((compared, rows))
    }

    /// Totals of every municipality together (each with its latest published edition
    /// covering the year), by group, largest 事業費 first after the total row.
    pub async fn national_totals(
        &self,
        query: &CompareQuery,
    ) -> Result<Vec<CompareRow>, StoreError> {
        let codes = query.codes.as_ref().map_or(0, Vec::len);
        let with = chosen_sql(codes, 3);
        let rows = sqlx::query_with(
            &format!(
                "WITH {with} SELECT t.key, MIN(t.name) AS name, CAST(SUM(t.projects) AS BIGINT) AS projects, \
                        CAST(SUM(t.priced) AS BIGINT) AS priced, CAST(SUM(t.total) AS BIGINT) AS total, CAST(SUM(t.earmarked) AS BIGINT) AS earmarked, \
                        CAST(SUM(t.general) AS BIGINT) AS general, \
                        CAST(SUM(t.with_earmarked) AS BIGINT) AS with_earmarked, \
                        CAST(SUM(t.with_general) AS BIGINT) AS with_general \
                 FROM chosen c JOIN edition_total t ON t.edition_id = c.id \
                 WHERE t.fiscal_year = $1 AND (t.dimension = $2 OR t.dimension = 'all') \
                 GROUP BY t.dimension, t.key \
                 ORDER BY t.dimension = 'all' DESC, SUM(t.total) DESC, t.key"
            ),
            arguments(query, true)?,
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| row(r, false)).collect()
    }

    /// The same national totals by policy field or by 区分 computed from every project's
    /// costs, without the stored totals: the reference the stored totals are checked and
    /// benchmarked against. Any other grouping gives the field's.
    pub async fn national_totals_from_projects(
        &self,
        year: FiscalYear,
        by: GroupBy,
    ) -> Result<Vec<CompareRow>, StoreError> {
        let query = CompareQuery {
            codes: None,
            by,
            year,
        };
        let with = chosen_sql(0, 2);
        let sql = if by == GroupBy::Status {
            format!(
                "WITH {with} \
                 SELECT p.status AS key, p.status AS name, CAST(COUNT(*) AS BIGINT) AS projects, \
                        CAST(COUNT(c.total) AS BIGINT) AS priced, \
                        CAST(COALESCE(SUM(c.total), 0) AS BIGINT) AS total, \
                        CAST(COALESCE(SUM(c.earmarked), 0) AS BIGINT) AS earmarked, \
                        CAST(COALESCE(SUM(c.general), 0) AS BIGINT) AS general, \
                        CAST(COUNT(c.earmarked) AS BIGINT) AS with_earmarked, \
                        CAST(COUNT(c.general) AS BIGINT) AS with_general \
                 FROM project p JOIN chosen e ON e.id = p.edition_id \
                 LEFT JOIN project_cost c ON c.project_id = p.id AND c.fiscal_year = $1 \
                 GROUP BY p.status ORDER BY SUM(c.total) DESC, p.status"
            )
        } else {
            format!(
                "WITH {with}, per_policy AS (\
                    SELECT p.policy_id, COUNT(*) AS projects, COUNT(c.total) AS priced, SUM(c.total) AS total, \
                           SUM(c.earmarked) AS earmarked, SUM(c.general) AS general, \
                           COUNT(c.earmarked) AS with_earmarked, COUNT(c.general) AS with_general \
                    FROM project p JOIN chosen e ON e.id = p.edition_id \
                    LEFT JOIN project_cost c ON c.project_id = p.id AND c.fiscal_year = $1 \
                    GROUP BY p.policy_id) \
                 SELECT CASE WHEN g.field = '' THEN 'none' ELSE g.field END AS key, \
                        CASE WHEN g.field = '' THEN '（分野の記載なし）' ELSE g.field END AS name, \
                        CAST(SUM(pp.projects) AS BIGINT) AS projects, CAST(SUM(pp.priced) AS BIGINT) AS priced, \
                        CAST(COALESCE(SUM(pp.total), 0) AS BIGINT) AS total, \
                        CAST(COALESCE(SUM(pp.earmarked), 0) AS BIGINT) AS earmarked, \
                        CAST(COALESCE(SUM(pp.general), 0) AS BIGINT) AS general, \
                        CAST(SUM(pp.with_earmarked) AS BIGINT) AS with_earmarked, \
                        CAST(SUM(pp.with_general) AS BIGINT) AS with_general \
                 FROM per_policy pp JOIN policy po ON po.id = pp.policy_id JOIN goal g ON g.id = po.goal_id \
                 GROUP BY g.field ORDER BY SUM(pp.total) DESC, g.field"
            )
        };
        let rows = sqlx::query_with(&sql, arguments(&query, false)?)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| row(r, false)).collect()
    }
}
