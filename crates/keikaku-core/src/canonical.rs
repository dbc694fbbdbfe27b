//! keikaku's canonical plan format: versioned JSON that holds municipalities, their
//! editions and everything in them, with nothing lost.
//!
//! It is what `keikaku export --format json` writes and what `keikaku import` reads back;
//! the JSON Schema is `docs/schema/keikaku-plan-v1.schema.json`. Output is deterministic
//! (fixed key order, two-space indentation, a final newline), so exporting, importing into an
//! empty database and exporting again gives identical bytes.
//!
//! Rules of the format: amounts are integers of 千円 and `null` means "no amount" (`-`),
//! never zero; fiscal years are Western years in which the fiscal year starts; strategy
//! links keep the text as written (`raw`) beside the normalised code.

use serde::{Deserialize, Serialize};

use crate::model::{Edition, FundingKind, Project, YearCost};
use crate::municipality::{MunicipalityCode, Population};

/// The value of `format`.
pub const FORMAT: &str = "keikaku-plan";
/// The version this code writes and the newest it reads.
pub const VERSION: u32 = 1;

/// A whole file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Always `keikaku-plan`.
    pub format: String,
    /// Format version, currently 1.
    pub version: u32,
    /// Municipalities by code.
    pub municipalities: Vec<MunicipalityRecord>,
}

/// A municipality and its editions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityRecord {
    /// 6-digit 全国地方公共団体コード.
    pub code: String,
    /// Name, e.g. 白河市.
    pub name: String,
    /// Population on a date, when recorded (for amounts per inhabitant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<PopulationRecord>,
    /// Editions by first fiscal year.
    pub editions: Vec<EditionRecord>,
}

/// A population count and the date it refers to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PopulationRecord {
    /// Inhabitants.
    pub count: u64,
    /// `YYYY-MM-DD`.
    pub as_of: String,
}

/// One edition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EditionRecord {
    /// First fiscal year (Western), e.g. 2020 for R2.
    pub first_year: i32,
    /// Last fiscal year, e.g. 2022 for R4.
    pub last_year: i32,
    /// Title.
    pub title: String,
    /// The document it was first read from.
    pub source: String,
    /// `draft` for an edition being prepared; absent for a published one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// 基本目標 in order.
    pub goals: Vec<GoalRecord>,
}

/// One goal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GoalRecord {
    /// Goal number.
    pub number: u32,
    /// Title.
    pub title: String,
    /// Field (分野), may be empty.
    pub field: String,
    /// 施策 in order.
    pub policies: Vec<PolicyRecord>,
}

/// One policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyRecord {
    /// Code such as `7-1`.
    pub code: String,
    /// Title.
    pub title: String,
    /// めざすまちの姿, lines joined with `\n`.
    pub vision: String,
    /// 事業 in order.
    pub projects: Vec<ProjectRecord>,
}

/// One project.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectRecord {
    /// Stable id across editions.
    pub id: String,
    /// No within its policy.
    pub number: u32,
    /// 事業名.
    pub name: String,
    /// 事業概要.
    pub summary: String,
    /// 区分 as its canonical label (`継続`).
    pub status: String,
    /// 担当課.
    pub departments: Vec<String>,
    /// 地方創生事業.
    pub strategies: Vec<StrategyRecord>,
    /// Cost per fiscal year.
    pub costs: Vec<CostRecord>,
}

/// One strategy link.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StrategyRecord {
    /// Normalised code, e.g. `Ⅲ(4)`.
    pub code: String,
    /// As written in the source, e.g. `III(4)`.
    pub raw: String,
}

/// One fiscal year's amounts; `null` is "no amount".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CostRecord {
    /// Fiscal year (Western).
    pub year: i32,
    /// 事業費 in 千円.
    pub total: Option<i64>,
    /// 特定財源 in 千円.
    #[serde(default)]
    pub earmarked: Stated,
    /// 一般財源 in 千円.
    #[serde(default)]
    pub general: Stated,
    /// Breakdown of 特定財源 where known.
    #[serde(default, skip_serializing_if = "Breakdown::is_empty")]
    pub earmarked_breakdown: Breakdown,
}

/// A funding amount, which the format requires: a number of 千円, or `null` for no
/// amount. Reading tells a key left out (which the reader reports) from a `null`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Stated {
    /// The key is not there.
    #[default]
    Absent,
    /// `null`: no amount.
    Null,
    /// An amount in 千円.
    Amount(i64),
}

impl Stated {
    /// The amount, `None` for `null` or an absent key.
    pub fn amount(self) -> Option<i64> {
        match self {
            Stated::Amount(value) => Some(value),
            Stated::Absent | Stated::Null => None,
        }
    }
}

impl From<Option<i64>> for Stated {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Stated::Null, Stated::Amount)
    }
}

impl Serialize for Stated {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.amount().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Stated {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<i64>::deserialize(deserializer).map(Stated::from)
    }
}

/// The 特定財源 breakdown by kind, in 千円.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    /// 国庫支出金.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national: Option<i64>,
    /// 県支出金.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefectural: Option<i64>,
    /// 国・県支出金 stated together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_prefectural: Option<i64>,
    /// 地方債.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonds: Option<i64>,
    /// その他.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<i64>,
}

impl Breakdown {
    /// True when no kind is given.
    pub fn is_empty(&self) -> bool {
        self.entries().next().is_none()
    }

    /// The kinds given, in [`FundingKind`] order.
    pub fn entries(&self) -> impl Iterator<Item = (FundingKind, i64)> + '_ {
        FundingKind::ALL
            .into_iter()
            .filter_map(|kind| self.get(kind).map(|v| (kind, v)))
    }

    fn get(&self, kind: FundingKind) -> Option<i64> {
        match kind {
            FundingKind::National => self.national,
            FundingKind::Prefectural => self.prefectural,
            FundingKind::NationalAndPrefectural => self.national_prefectural,
            FundingKind::Bonds => self.bonds,
            FundingKind::Other => self.other,
        }
    }

    fn set(&mut self, kind: FundingKind, value: i64) {
        let slot = match kind {
            FundingKind::National => &mut self.national,
            FundingKind::Prefectural => &mut self.prefectural,
            FundingKind::NationalAndPrefectural => &mut self.national_prefectural,
            FundingKind::Bonds => &mut self.bonds,
            FundingKind::Other => &mut self.other,
        };
        *slot = Some(value);
    }
}

/// The records for `editions`, grouped by municipality in code order and by first year.
pub fn to_file(editions: &[Edition]) -> PlanFile {
    to_file_with(editions, &Populations::new())
}

/// Recorded populations by municipality code.
pub type Populations = std::collections::HashMap<MunicipalityCode, Population>;

/// As [`to_file`], with each municipality's recorded population.
pub fn to_file_with(editions: &[Edition], populations: &Populations) -> PlanFile {
    let mut sorted: Vec<&Edition> = editions.iter().collect();
    sorted.sort_by(|a, b| {
        (a.municipality.code.as_str(), a.span).cmp(&(b.municipality.code.as_str(), b.span))
    });
    let mut municipalities: Vec<MunicipalityRecord> = Vec::new();
    for edition in sorted {
        let record = edition_record(edition);
        match municipalities.last_mut() {
            Some(m) if m.code == edition.municipality.code.as_str() => m.editions.push(record),
            _ => municipalities.push(MunicipalityRecord {
                code: edition.municipality.code.to_string(),
                name: edition.municipality.name.clone(),
                population: populations
                    .get(&edition.municipality.code)
                    .map(|p| PopulationRecord {
                        count: p.count,
                        as_of: p.as_of.to_string(),
                    }),
                editions: vec![record],
            }),
        }
    }
    PlanFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        municipalities,
    }
}

/// The canonical JSON text of `editions`.
pub fn to_json(editions: &[Edition]) -> String {
    to_json_with(editions, &Populations::new())
}

/// The canonical JSON text of `editions` with populations.
pub fn to_json_with(editions: &[Edition], populations: &Populations) -> String {
    let mut text = serde_json::to_string_pretty(&to_file_with(editions, populations))
        .unwrap_or_else(|err| format!("{{\"error\": {:?}}}", err.to_string()));
    text.push('\n');
    text
}

fn edition_record(edition: &Edition) -> EditionRecord {
    EditionRecord {
        first_year: edition.span.first().year(),
        last_year: edition.span.last().year(),
        title: edition.title.clone(),
        source: edition.source.clone(),
        state: match edition.state {
            crate::model::EditionState::Draft => Some("draft".to_owned()),
            crate::model::EditionState::Published => None,
        },
        goals: edition
            .goals
            .iter()
            .map(|goal| GoalRecord {
                number: goal.number,
                title: goal.title.clone(),
                field: goal.field.clone(),
                policies: goal
                    .policies
                    .iter()
                    .map(|policy| PolicyRecord {
                        code: policy.code.to_string(),
                        title: policy.title.clone(),
                        vision: policy.vision.clone(),
                        projects: policy.projects.iter().map(project_record).collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The record of one project.
pub fn project_record(project: &Project) -> ProjectRecord {
    ProjectRecord {
        id: project.id.to_string(),
        number: project.number,
        name: project.name.clone(),
        summary: project.summary.clone(),
        status: project.status.label().to_owned(),
        departments: project.departments.clone(),
        strategies: project
            .strategies
            .iter()
            .map(|s| StrategyRecord {
                code: s.code.to_string(),
                raw: s.raw.clone(),
            })
            .collect(),
        costs: project.costs.iter().map(cost_record).collect(),
    }
}

fn cost_record(cost: &YearCost) -> CostRecord {
    let mut breakdown = Breakdown::default();
    for (kind, money) in &cost.earmarked_breakdown {
        breakdown.set(*kind, money.thousand_yen());
    }
    CostRecord {
        year: cost.year.year(),
        total: cost.total.map(|m| m.thousand_yen()),
        earmarked: cost.earmarked.map(|m| m.thousand_yen()).into(),
        general: cost.general.map(|m| m.thousand_yen()).into(),
        earmarked_breakdown: breakdown,
    }
}
