//! Reading plans back into `keikaku-core` types. Each query returns rows that are turned
//! into domain values here; a stored value that does not parse (a hand-edited database) is
//! reported as [`StoreError::Corrupt`], never passed on.

use std::collections::HashMap;

use keikaku_core::{
    Edition, EditionSpan, EditionState, FiscalYear, FundingKind, Goal, Money, Municipality,
    MunicipalityCode, Policy, PolicyCode, Project, ProjectId, Status, StrategyCode, StrategyLink,
    YearCost,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::write::EditionStamp;
use super::{Store, StoreError};

/// An edition as listed, without its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionInfo {
    /// Database id.
    pub id: i64,
    /// Its municipality.
    pub municipality: Municipality,
    /// Its span.
    pub span: EditionSpan,
    /// Its title.
    pub title: String,
    /// The document it came from.
    pub source: String,
    /// `draft` or `published`.
    pub state: String,
    /// When it was stored (RFC 3339, UTC).
    pub imported_at: String,
    /// When a project of it was last changed in place (a form of the workspace), if ever.
    pub updated_at: Option<String>,
    /// Number of projects.
    pub projects: i64,
    /// Changes made in place since it was stored (with `id`, one state of the edition).
    pub revision: i64,
}

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn municipality(code: &str, name: String) -> Result<Municipality, StoreError> {
    let code = MunicipalityCode::parse(code).map_err(|_| corrupt("municipality code", code))?;
    Ok(Municipality { code, name })
}

fn year(value: i64) -> Result<FiscalYear, StoreError> {
    i32::try_from(value)
        .ok()
        .and_then(FiscalYear::new)
        .ok_or_else(|| corrupt("fiscal year", value))
}

fn span(first: i64, last: i64) -> Result<EditionSpan, StoreError> {
    EditionSpan::new(year(first)?, year(last)?)
        .ok_or_else(|| corrupt("edition span", (first, last)))
}

fn small(value: i64, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(what, value))
}

impl Store {
    /// The listing of one edition (a municipality's span), if stored.
    pub async fn edition_info(
        &self,
        code: &MunicipalityCode,
        span: EditionSpan,
    ) -> Result<Option<EditionInfo>, StoreError> {
        let row = sqlx::query(
            "SELECT e.id, e.municipality_code, m.name, e.first_year, e.last_year, e.title, e.source, e.state, \
                    e.imported_at, e.updated_at, e.revision, (SELECT COUNT(*) FROM project p WHERE p.edition_id = e.id) AS projects \
             FROM edition e JOIN municipality m ON m.code = e.municipality_code \
             WHERE e.municipality_code = $1 AND e.first_year = $2 AND e.last_year = $3",
        )
        .bind(code.as_str())
        .bind(i64::from(span.first().year()))
        .bind(i64::from(span.last().year()))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(edition_info).transpose()
    }

    /// Every stored edition, by municipality code and first year.
    pub async fn editions(&self) -> Result<Vec<EditionInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.municipality_code, m.name, e.first_year, e.last_year, e.title, e.source, e.state, \
                    e.imported_at, e.updated_at, e.revision, (SELECT COUNT(*) FROM project p WHERE p.edition_id = e.id) AS projects \
             FROM edition e JOIN municipality m ON m.code = e.municipality_code \
             ORDER BY e.municipality_code, e.first_year, e.last_year",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(edition_info).collect()
    }

    /// The stored editions of municipality `code`, by first year.
    pub async fn editions_of(
        &self,
        code: &MunicipalityCode,
    ) -> Result<Vec<EditionInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.municipality_code, m.name, e.first_year, e.last_year, e.title, e.source, e.state, \
                    e.imported_at, e.updated_at, e.revision, (SELECT COUNT(*) FROM project p WHERE p.edition_id = e.id) AS projects \
             FROM edition e JOIN municipality m ON m.code = e.municipality_code \
             WHERE e.municipality_code = $1 ORDER BY e.first_year, e.last_year",
        )
        .bind(code.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(edition_info).collect()
    }

    /// The id of the stored edition of `code` with this span, if any.
    pub async fn edition_id(
        &self,
        code: &MunicipalityCode,
        span: EditionSpan,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self.edition_stamp(code, span).await?.map(|s| s.id))
    }

    /// The stamp (id and revision) of the stored edition of `code` with this span, if any.
    pub async fn edition_stamp(
        &self,
        code: &MunicipalityCode,
        span: EditionSpan,
    ) -> Result<Option<EditionStamp>, StoreError> {
        let row = sqlx::query(
            "SELECT id, revision FROM edition WHERE municipality_code = $1 AND first_year = $2 AND last_year = $3",
        )
        .bind(code.as_str())
        .bind(i64::from(span.first().year()))
        .bind(i64::from(span.last().year()))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(EditionStamp::of_row).transpose()
    }

    /// Every stored edition's stamp by municipality code and span (first and last year).
    pub async fn edition_stamps(
        &self,
    ) -> Result<HashMap<(String, i64, i64), EditionStamp>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, revision, municipality_code, first_year, last_year FROM edition",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    (
                        r.try_get("municipality_code")?,
                        r.try_get("first_year")?,
                        r.try_get("last_year")?,
                    ),
                    EditionStamp::of_row(r)?,
                ))
            })
            .collect()
    }

    /// Every stored municipality, by code.
    pub async fn municipalities(&self) -> Result<Vec<Municipality>, StoreError> {
        let rows = sqlx::query("SELECT code, name FROM municipality ORDER BY code")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| municipality(&r.try_get::<String, _>("code")?, r.try_get("name")?))
            .collect()
    }

    /// Recorded populations by municipality code.
    pub async fn populations(&self) -> Result<keikaku_core::canonical::Populations, StoreError> {
        let rows = sqlx::query(
            "SELECT code, population, population_as_of FROM municipality \
             WHERE population IS NOT NULL AND population_as_of IS NOT NULL",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = keikaku_core::canonical::Populations::new();
        for r in &rows {
            let code: String = r.try_get("code")?;
            let count: i64 = r.try_get("population")?;
            let as_of: String = r.try_get("population_as_of")?;
            let population = keikaku_core::Population {
                count: u64::try_from(count)
                    .ok()
                    .filter(|c| *c > 0)
                    .ok_or_else(|| corrupt("population", count))?,
                as_of: keikaku_core::Date::parse(&as_of)
                    .ok_or_else(|| corrupt("population date", &as_of))?,
            };
            out.insert(
                MunicipalityCode::parse(&code).map_err(|_| corrupt("municipality code", &code))?,
                population,
            );
        }
        Ok(out)
    }

    /// Every edition with its contents, by municipality code and first year.
    pub async fn all_editions(&self) -> Result<Vec<Edition>, StoreError> {
        let ids: Vec<i64> = self.editions().await?.iter().map(|e| e.id).collect();
        self.editions_by_id(&ids).await
    }

    /// The edition with database id `id`, with everything in it.
    pub async fn edition(&self, id: i64) -> Result<Edition, StoreError> {
        self.editions_by_id(&[id])
            .await?
            .pop()
            .ok_or_else(|| StoreError::NotFound(format!("no edition with id {id}")))
    }

    /// The editions with these ids, in the same order, read in one read-only transaction (so
    /// an edition replaced meanwhile is read whole, old or new) with a few queries for all of
    /// them. Ids that do not exist are an error.
    pub async fn editions_by_id(&self, ids: &[i64]) -> Result<Vec<Edition>, StoreError> {
        let mut tx = self.read_tx().await?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(EDITIONS_PER_READ) {
            out.extend(read_editions(&mut tx, chunk).await?);
        }
        tx.commit().await?;
        Ok(out)
    }
}

impl Store {
    /// The project with stable id `stable_id` in edition `edition` and its policy's code,
    /// read alone (a form or the admin API reads one project without the rest of the edition).
    pub async fn edition_project(
        &self,
        edition: i64,
        stable_id: &str,
    ) -> Result<Option<(PolicyCode, Project)>, StoreError> {
        let mut tx = self.read_tx().await?;
        let row = sqlx::query(
            "SELECT p.id, c.code FROM project p JOIN policy c ON c.id = p.policy_id \
             WHERE p.edition_id = $1 AND p.stable_id = $2",
        )
        .bind(edition)
        .bind(stable_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let code: String = row.try_get("code")?;
        let policy = PolicyCode::parse(&code).ok_or_else(|| corrupt("policy code", &code))?;
        let project = read_projects(&mut tx, BY_ROW, &[row.try_get("id")?])
            .await?
            .into_values()
            .flatten()
            .next();
        tx.commit().await?;
        Ok(project.map(|p| (policy, p)))
    }
}

impl Store {
    /// A read-only transaction that sees one state of the database throughout (so that what
    /// is read in several queries fits together).
    async fn read_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.backend() {
            super::Backend::Sqlite => self.pool().begin().await?,
            super::Backend::Postgres => {
                self.pool()
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }
}

fn edition_info(r: &AnyRow) -> Result<EditionInfo, StoreError> {
    Ok(EditionInfo {
        id: r.try_get("id")?,
        municipality: municipality(
            &r.try_get::<String, _>("municipality_code")?,
            r.try_get("name")?,
        )?,
        span: span(r.try_get("first_year")?, r.try_get("last_year")?)?,
        title: r.try_get("title")?,
        source: r.try_get("source")?,
        state: r.try_get("state")?,
        imported_at: r.try_get("imported_at")?,
        updated_at: r.try_get("updated_at")?,
        projects: r.try_get("projects")?,
        revision: r.try_get("revision")?,
    })
}

/// Groups rows ordered by `project_id` into a map of converted values.
fn grouped<T>(
    rows: Vec<AnyRow>,
    mut convert: impl FnMut(&AnyRow) -> Result<T, StoreError>,
) -> Result<HashMap<i64, Vec<T>>, StoreError> {
    let mut map: HashMap<i64, Vec<T>> = HashMap::new();
    for row in &rows {
        map.entry(row.try_get("project_id")?)
            .or_default()
            .push(convert(row)?);
    }
    Ok(map)
}

impl Store {
    /// A number that grows whenever stored plans change: every write transaction bumps it
    /// just before it commits, in commit order (see [`super::write::WriteTx::commit`]), so
    /// a reader that saw a version never misses a write committed before it. Cheap enough
    /// to poll.
    pub async fn data_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM data_version WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// The data version and the public version (which only writes that may change what the
    /// public sees move), read together.
    pub async fn versions(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query("SELECT version, public_version FROM data_version WHERE id = 1")
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => (row.try_get("version")?, row.try_get("public_version")?),
            None => (0, 0),
        })
    }
}

/// The tables [`Store::counts`] counts: municipalities, editions, projects, cost rows.
pub const COUNTED_TABLES: [&str; 4] = ["municipality", "edition", "project", "project_cost"];

impl Store {
    /// Row counts of [`COUNTED_TABLES`].
    pub async fn counts(&self) -> Result<[i64; 4], StoreError> {
        let mut counts = [0; 4];
        for (count, table) in counts.iter_mut().zip(COUNTED_TABLES) {
            *count = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(self.pool())
                .await?;
        }
        Ok(counts)
    }

    /// Every stable project id stored for municipality `code`, with where it lives: (id,
    /// municipality code and name, edition label), e.g. `("072052-r2-7-1-3", "072052 白河市
    /// R2-R4")`. Another municipality's ids are not its business (and may be drafts).
    pub async fn stable_ids_of(
        &self,
        code: &MunicipalityCode,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.stable_id, e.municipality_code, m.name, e.first_year, e.last_year FROM project p \
             JOIN edition e ON e.id = p.edition_id JOIN municipality m ON m.code = e.municipality_code \
             WHERE e.municipality_code = $1",
        )
        .bind(code.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let span = span(r.try_get("first_year")?, r.try_get("last_year")?)?;
                let code: String = r.try_get("municipality_code")?;
                let name: String = r.try_get("name")?;
                Ok((r.try_get("stable_id")?, format!("{code} {name} {span}")))
            })
            .collect()
    }
}

/// How many editions one batch of queries reads.
const EDITIONS_PER_READ: usize = 200;

/// `$1, $2, …` for `n` parameters.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `sql` (with `{ids}` standing for the id list) for `ids`.
async fn fetch_for(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    sql: &str,
    ids: &[i64],
) -> Result<Vec<AnyRow>, StoreError> {
    let sql = sql.replace("{ids}", &placeholders(ids.len()));
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

/// Which projects [`read_projects`] reads: `p.edition_id IN ({ids})` (every project of some
/// editions) or `p.id IN ({ids})` (some projects by row id).
const OF_EDITIONS: &str = "p.edition_id IN ({ids})";
const BY_ROW: &str = "p.id IN ({ids})";

/// `sql` reading the projects `which` selects.
fn select(which: &str, sql: &str) -> String {
    sql.replace("{which}", which)
}

/// Reads the projects that `which` (with `{ids}` standing for `ids`) selects, with their
/// departments, strategy links and costs, grouped by their policy's row id in stored order.
async fn read_projects(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    which: &str,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<Project>>, StoreError> {
    let departments = grouped(
        fetch_for(
            tx,
            &select(which, "SELECT d.project_id, d.name FROM project_department d JOIN project p ON p.id = d.project_id \
             WHERE {which} ORDER BY d.project_id, d.position"),
            ids,
        )
        .await?,
        |r| r.try_get::<String, _>("name").map_err(StoreError::from),
    )?;
    let strategies = grouped(
        fetch_for(
            tx,
            &select(
                which,
                "SELECT s.project_id, s.goal, s.measure, s.raw FROM project_strategy s \
             JOIN project p ON p.id = s.project_id WHERE {which} ORDER BY s.project_id, s.position",
            ),
            ids,
        )
        .await?,
        |r| {
            let goal: i64 = r.try_get("goal")?;
            let measure: i64 = r.try_get("measure")?;
            let code = u8::try_from(goal)
                .ok()
                .zip(u8::try_from(measure).ok())
                .and_then(|(g, m)| StrategyCode::new(g, m))
                .ok_or_else(|| corrupt("strategy code", (goal, measure)))?;
            Ok(StrategyLink {
                code,
                raw: r.try_get("raw")?,
            })
        },
    )?;
    let mut funding: HashMap<(i64, i64), Vec<(FundingKind, Money)>> = HashMap::new();
    for r in fetch_for(
        tx,
        &select(
            which,
            "SELECT f.project_id, f.fiscal_year, f.kind, f.amount FROM project_funding f \
         JOIN project p ON p.id = f.project_id WHERE {which}",
        ),
        ids,
    )
    .await?
    {
        let kind: String = r.try_get("kind")?;
        let kind = FundingKind::from_key(&kind).ok_or_else(|| corrupt("funding kind", &kind))?;
        funding
            .entry((r.try_get("project_id")?, r.try_get("fiscal_year")?))
            .or_default()
            .push((kind, Money::from_thousand_yen(r.try_get("amount")?)));
    }
    let mut costs = grouped(
        fetch_for(
            tx,
            &select(which, "SELECT c.project_id, c.fiscal_year, c.total, c.earmarked, c.general FROM project_cost c \
             JOIN project p ON p.id = c.project_id WHERE {which} ORDER BY c.project_id, c.fiscal_year"),
            ids,
        )
        .await?,
        |r| {
            let fiscal_year: i64 = r.try_get("fiscal_year")?;
            let project_id: i64 = r.try_get("project_id")?;
            let money = |column: &str| -> Result<Option<Money>, StoreError> {
                Ok(r.try_get::<Option<i64>, _>(column)?.map(Money::from_thousand_yen))
            };
            let mut breakdown = funding.remove(&(project_id, fiscal_year)).unwrap_or_default();
            breakdown.sort_by_key(|(kind, _)| *kind);
            Ok(YearCost {
                year: year(fiscal_year)?,
                total: money("total")?,
                earmarked: money("earmarked")?,
                general: money("general")?,
                earmarked_breakdown: breakdown,
            })
        },
    )?;
    let mut departments = departments;
    let mut strategies = strategies;
    let mut projects_by_policy: HashMap<i64, Vec<Project>> = HashMap::new();
    for r in fetch_for(
        tx,
        &select(which, "SELECT p.id, p.policy_id, p.number, p.stable_id, p.name, p.summary, p.status FROM project p \
         WHERE {which} ORDER BY p.policy_id, p.position"),
        ids,
    )
    .await?
    {
        let project_id: i64 = r.try_get("id")?;
        let stable: String = r.try_get("stable_id")?;
        let status: String = r.try_get("status")?;
        projects_by_policy
            .entry(r.try_get("policy_id")?)
            .or_default()
            .push(Project {
                id: ProjectId::parse(&stable).ok_or_else(|| corrupt("project id", &stable))?,
                number: small(r.try_get("number")?, "project number")?,
                name: r.try_get("name")?,
                summary: r.try_get("summary")?,
                status: Status::parse(&status),
                departments: departments.remove(&project_id).unwrap_or_default(),
                strategies: strategies.remove(&project_id).unwrap_or_default(),
                costs: costs.remove(&project_id).unwrap_or_default(),
            });
    }
    Ok(projects_by_policy)
}

/// Reads the editions `ids` (at most a few hundred) with one query per table.
pub(super) async fn read_editions(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ids: &[i64],
) -> Result<Vec<Edition>, StoreError> {
    let heads = fetch_for(
        tx,
        "SELECT e.id, e.municipality_code, m.name, e.first_year, e.last_year, e.title, e.source, e.state \
         FROM edition e JOIN municipality m ON m.code = e.municipality_code WHERE e.id IN ({ids})",
        ids,
    )
    .await?;
    let mut projects_by_policy = read_projects(tx, OF_EDITIONS, ids).await?;
    let mut policies_by_goal: HashMap<i64, Vec<Policy>> = HashMap::new();
    for r in fetch_for(
        tx,
        "SELECT id, goal_id, code, title, vision FROM policy WHERE edition_id IN ({ids}) ORDER BY edition_id, position",
        ids,
    )
    .await?
    {
        let code: String = r.try_get("code")?;
        policies_by_goal
            .entry(r.try_get("goal_id")?)
            .or_default()
            .push(Policy {
                code: PolicyCode::parse(&code).ok_or_else(|| corrupt("policy code", &code))?,
                title: r.try_get("title")?,
                vision: r.try_get("vision")?,
                projects: projects_by_policy
                    .remove(&r.try_get::<i64, _>("id")?)
                    .unwrap_or_default(),
            });
    }
    let mut goals_by_edition: HashMap<i64, Vec<Goal>> = HashMap::new();
    for r in fetch_for(
        tx,
        "SELECT id, edition_id, number, title, field FROM goal WHERE edition_id IN ({ids}) ORDER BY edition_id, position",
        ids,
    )
    .await?
    {
        goals_by_edition
            .entry(r.try_get("edition_id")?)
            .or_default()
            .push(Goal {
                number: small(r.try_get("number")?, "goal number")?,
                title: r.try_get("title")?,
                field: r.try_get("field")?,
                policies: policies_by_goal
                    .remove(&r.try_get::<i64, _>("id")?)
                    .unwrap_or_default(),
            });
    }
    let mut by_id: HashMap<i64, Edition> = HashMap::new();
    for head in &heads {
        let id: i64 = head.try_get("id")?;
        let state: String = head.try_get("state")?;
        by_id.insert(
            id,
            Edition {
                municipality: municipality(
                    &head.try_get::<String, _>("municipality_code")?,
                    head.try_get("name")?,
                )?,
                span: span(head.try_get("first_year")?, head.try_get("last_year")?)?,
                title: head.try_get("title")?,
                source: head.try_get("source")?,
                state: EditionState::parse(&state)
                    .ok_or_else(|| corrupt("edition state", &state))?,
                goals: goals_by_edition.remove(&id).unwrap_or_default(),
            },
        );
    }
    ids.iter()
        .map(|id| {
            by_id
                .remove(id)
                .ok_or_else(|| StoreError::NotFound(format!("no edition with id {id}")))
        })
        .collect()
}
