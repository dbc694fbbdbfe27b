//! Comparing municipalities by policy field, strategy code or 区分 in one fiscal year: totals,
//! project counts and, where a population is recorded, yen per inhabitant. Shared by
//! `keikaku compare`, the portal's comparison page and `/api/v1/compare`.

use keikaku_core::aggregate::{GroupBy, Sum};
use keikaku_core::municipality::PREFECTURES;
use keikaku_core::{FiscalYear, Money, MunicipalityCode, Population};

use super::OpsError;
use crate::storage::Store;
use crate::storage::compare::{CompareQuery, CompareRow};

/// The most municipalities one comparison holds (a prefecture has at most 179).
pub const MAX_MUNICIPALITIES: usize = 200;

/// The groupings a comparison offers.
pub const DIMENSIONS: [GroupBy; 3] = [GroupBy::Field, GroupBy::Strategy, GroupBy::Status];

/// Which municipalities to compare.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Codes or names.
    pub municipalities: Vec<String>,
    /// Every municipality of this prefecture (number 1–47 or name, e.g. 福島県) as well.
    pub prefecture: Option<String>,
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// Group key (`all` for the total).
    pub key: String,
    /// Group name.
    pub name: String,
    /// Projects.
    pub projects: i64,
    /// How many of them state a 事業費 in the year; none means no amount: see
    /// [`Figures::stated`].
    pub priced: i64,
    /// How many state a 特定財源 in the year.
    pub with_earmarked: i64,
    /// How many state a 一般財源 in the year.
    pub with_general: i64,
    /// 事業費 in 千円.
    pub total: Money,
    /// 特定財源 in 千円.
    pub earmarked: Money,
    /// 一般財源 in 千円.
    pub general: Money,
    /// 事業費 per inhabitant in yen, when the population is recorded.
    pub per_capita_yen: Option<i64>,
}

/// One municipality in a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComparedMunicipality {
    /// Code.
    pub code: MunicipalityCode,
    /// Name.
    pub name: String,
    /// Population and its date, if recorded.
    pub population: Option<Population>,
    /// The edition the figures come from, e.g. R6-R8.
    pub edition: String,
    /// Every project of that edition.
    pub total: Figures,
    /// By group, largest 事業費 first.
    pub groups: Vec<Figures>,
}

/// A comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The fiscal year compared.
    pub year: FiscalYear,
    /// The grouping.
    pub by: GroupBy,
    /// Municipalities, by code; those without a published edition covering the year are
    /// listed in `missing`.
    pub municipalities: Vec<ComparedMunicipality>,
    /// Asked for but without a published edition covering the year.
    pub missing: Vec<String>,
}

/// Every municipality together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalTotals {
    /// The fiscal year.
    pub year: FiscalYear,
    /// The grouping.
    pub by: GroupBy,
    /// How many municipalities have a published edition covering the year.
    pub municipalities: usize,
    /// Population of those with one recorded, and how many that is.
    pub population: (u64, usize),
    /// All projects.
    pub total: Figures,
    /// By group.
    pub groups: Vec<Figures>,
}

impl Figures {
    /// The sum `which`, or `None` when no project of the group states that amount in the
    /// year: no amount, shown as `-` (or null), never as 0.
    pub fn amount(&self, which: Sum) -> Option<Money> {
        match which {
            Sum::Cost => (self.priced > 0).then_some(self.total),
            Sum::Earmarked => (self.with_earmarked > 0).then_some(self.earmarked),
            Sum::General => (self.with_general > 0).then_some(self.general),
        }
    }
}

fn figures(row: &CompareRow, population: Option<u64>) -> Figures {
    let total = Money::from_thousand_yen(row.total);
    Figures {
        key: row.key.clone(),
        name: row.name.clone(),
        projects: row.projects,
        priced: row.priced,
        with_earmarked: row.with_earmarked,
        with_general: row.with_general,
        total,
        earmarked: Money::from_thousand_yen(row.earmarked),
        general: Money::from_thousand_yen(row.general),
        per_capita_yen: population
            .filter(|_| row.priced > 0)
            .and_then(|p| total.per_capita_yen(p)),
    }
}

/// The prefecture number for `text`: `7`, `07` or `福島県`.
pub fn prefecture_number(text: &str) -> Option<u8> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u8>() {
        return (1..=47).contains(&n).then_some(n);
    }
    PREFECTURES
        .iter()
        .position(|p| *p == text)
        .and_then(|i| u8::try_from(i + 1).ok())
}

/// Resolves the selection to municipality codes (in code order, without repeats).
async fn resolve(store: &Store, selection: &Selection) -> Result<Vec<MunicipalityCode>, OpsError> {
    let known = store.municipalities().await?;
    let mut codes = Vec::new();
    for wanted in &selection.municipalities {
        let wanted = wanted.trim();
        let found = known
            .iter()
            .find(|m| m.code.as_str() == wanted || m.name == wanted)
            .ok_or_else(|| {
                OpsError::NotFound(format!("no municipality {wanted:?} in the database"))
            })?;
        codes.push(found.code.clone());
    }
    if let Some(prefecture) = &selection.prefecture {
        let number = prefecture_number(prefecture).ok_or_else(|| {
            OpsError::BadRequest(format!(
                "{prefecture:?} is not a prefecture (a number 1–47 or a name such as 福島県)"
            ))
        })?;
        let found: Vec<MunicipalityCode> = known
            .iter()
            .filter(|m| m.code.prefecture_number() == number)
            .map(|m| m.code.clone())
            .collect();
        if found.is_empty() {
            return Err(OpsError::NotFound(format!(
                "no published plan in prefecture {prefecture:?}"
            )));
        }
        codes.extend(found);
    }
    codes.sort();
    codes.dedup();
    if codes.len() > MAX_MUNICIPALITIES {
        return Err(OpsError::BadRequest(format!(
            "{} municipalities chosen; a comparison holds at most {MAX_MUNICIPALITIES}",
            codes.len()
        )));
    }
    Ok(codes)
}

/// The year to compare when none is given: the latest first year of a published edition of
/// the chosen municipalities (or of any, for national totals).
async fn default_year(store: &Store, codes: &[MunicipalityCode]) -> Result<FiscalYear, OpsError> {
    store
        .latest_published_first_year(codes)
        .await?
        .ok_or_else(|| OpsError::NotFound("no published plan to compare".into()))
}

/// Compares the chosen municipalities.
pub async fn compare(
    store: &Store,
    selection: &Selection,
    by: GroupBy,
    year: Option<FiscalYear>,
) -> Result<Comparison, OpsError> {
    let codes = resolve(store, selection).await?;
    if codes.is_empty() {
        return Err(OpsError::BadRequest(
            "choose the municipalities to compare (codes or names, or a prefecture)".into(),
        ));
    }
    let year = match year {
        Some(year) => year,
        None => default_year(store, &codes).await?,
    };
    let (compared, rows) = store
        .compare(&CompareQuery {
            codes: Some(codes.clone()),
            by,
            year,
        })
        .await?;
    let mut municipalities = Vec::with_capacity(compared.len());
    for c in compared {
        let people = c.population.map(|p| p.count);
        let mine: Vec<&CompareRow> = rows.iter().filter(|r| r.code == c.code.as_str()).collect();
        let total = mine
            .iter()
            .find(|r| r.key == "all")
            .map_or_else(|| figures(&empty_row(), people), |r| figures(r, people));
        let groups = if DIMENSIONS.contains(&by) {
            mine.iter()
                .filter(|r| r.key != "all")
                .map(|r| figures(r, people))
                .collect()
        } else {
            Vec::new()
        };
        let edition = keikaku_core::EditionSpan::new(
            FiscalYear::new(c.edition.0).unwrap_or(year),
            FiscalYear::new(c.edition.1).unwrap_or(year),
        )
        .map(|s| s.label())
        .unwrap_or_default();
        municipalities.push(ComparedMunicipality {
            code: c.code,
            name: c.name,
            population: c.population,
            edition,
            total,
            groups,
        });
    }
    let missing = codes
        .iter()
        .filter(|code| !municipalities.iter().any(|m| m.code == **code))
        .map(ToString::to_string)
        .collect();
    Ok(Comparison {
        year,
        by,
        municipalities,
        missing,
    })
}

fn empty_row() -> CompareRow {
    CompareRow {
        code: String::new(),
        key: "all".into(),
        name: "合計".into(),
        projects: 0,
        priced: 0,
        total: 0,
        earmarked: 0,
        general: 0,
        with_earmarked: 0,
        with_general: 0,
    }
}

/// The totals of every municipality together (or of a prefecture's).
pub async fn national(
    store: &Store,
    prefecture: Option<&str>,
    by: GroupBy,
    year: Option<FiscalYear>,
) -> Result<NationalTotals, OpsError> {
    let codes = match prefecture {
        Some(p) => {
            let codes = resolve(
                store,
                &Selection {
                    municipalities: Vec::new(),
                    prefecture: Some(p.to_owned()),
                },
            )
            .await?;
            if codes.is_empty() {
                return Err(OpsError::NotFound(format!(
                    "no municipality of {p} in the database"
                )));
            }
            Some(codes)
        }
        None => None,
    };
    let year = match year {
        Some(year) => year,
        None => default_year(store, codes.as_deref().unwrap_or(&[])).await?,
    };
    let query = CompareQuery { codes, by, year };
    let rows = store.national_totals(&query).await?;
    let (compared, _) = store
        .compare(&CompareQuery {
            by: GroupBy::Year,
            ..query
        })
        .await?;
    let population = compared
        .iter()
        .filter_map(|c| c.population)
        .fold((0, 0), |(sum, n), p| (sum + p.count, n + 1));
    // Per inhabitant only when every municipality counted has a population.
    let people = (population.1 == compared.len() && !compared.is_empty()).then_some(population.0);
    let total = rows
        .iter()
        .find(|r| r.key == "all")
        .map_or_else(|| figures(&empty_row(), people), |r| figures(r, people));
    let groups = if DIMENSIONS.contains(&by) {
        rows.iter()
            .filter(|r| r.key != "all")
            .map(|r| figures(r, people))
            .collect()
    } else {
        Vec::new()
    };
    Ok(NationalTotals {
        year,
        by,
        municipalities: compared.len(),
        population,
        total,
        groups,
    })
}
