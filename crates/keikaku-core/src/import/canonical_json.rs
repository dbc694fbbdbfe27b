//! Reads keikaku's own canonical JSON (see [`crate::canonical`]): the format of
//! `keikaku export --format json`, of backups and of hand-made fixtures.
//!
//! Syntax and shape errors point at the line and column; problems in values (a bad
//! municipality code, an unreadable strategy code) point at the JSON path of the value.

use std::collections::HashMap;

use super::{Context, Layout, Parsed, ReadEdition};
use crate::canonical::{
    self, CostRecord, EditionRecord, PlanFile, PopulationRecord, ProjectRecord, Stated,
};
use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, EditionState, Goal, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::Money;
use crate::municipality::{Date, Municipality, MunicipalityCode, Population};
use crate::source::{Source, decode_text};
use crate::status::Status;
use crate::strategy::{StrategyCode, StrategyLink};
use crate::validate::{Field, GoalMap, PolicyMap, ProjectMap, SourceMap};

/// keikaku's canonical JSON.
pub struct CanonicalJson;

impl Layout for CanonicalJson {
    fn name(&self) -> &'static str {
        "keikaku-json"
    }

    fn description(&self) -> &'static str {
        "keikaku's canonical JSON (keikaku export --format json)"
    }

    fn sniff(&self, source: &Source<'_>, _context: &Context) -> bool {
        let start: Vec<u8> = source
            .bytes
            .iter()
            .copied()
            .skip_while(|b| b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF))
            .take(64)
            .collect();
        start.first() == Some(&b'{') && String::from_utf8_lossy(&start).contains("\"format\"")
    }

    fn names_municipality(&self) -> bool {
        true
    }

    fn near_miss(&self, source: &Source<'_>, _context: &Context) -> Option<super::NearMiss> {
        let first = source
            .bytes
            .iter()
            .copied()
            .find(|b| !(b.is_ascii_whitespace() || matches!(b, 0xEF | 0xBB | 0xBF)))?;
        matches!(first, b'{' | b'[').then(|| super::NearMiss {
            score: 1,
            ja: format!(
                "JSON の先頭に \"format\": \"{}\" がありません（keikaku export --format json が書く形式です）",
                crate::canonical::FORMAT
            ),
            en: format!(
                "the JSON does not start with \"format\": \"{}\" (the format keikaku export --format json writes)",
                crate::canonical::FORMAT
            ),
        })
    }

    fn read(&self, source: &Source<'_>, _context: &Context) -> Parsed {
        let mut report = Report::default();
        let text = match decode_text(source.bytes, None) {
            Ok(text) => text,
            Err(diagnostic) => {
                report.push(diagnostic);
                return Parsed {
                    editions: Vec::new(),
                    report,
                };
            }
        };
        let file: PlanFile = match serde_json::from_str(&text) {
            Ok(file) => file,
            Err(err) => {
                report.push(json_error(&text, &err));
                return Parsed {
                    editions: Vec::new(),
                    report,
                };
            }
        };
        if file.format != canonical::FORMAT {
            report.push(Diagnostic::new(
                Code::NotAPlan,
                Position::Path("format".into()),
                format!("format が「{}」です（keikaku-plan のはず）。", file.format),
                format!("format is {:?}, expected \"keikaku-plan\"", file.format),
            ));
            return Parsed {
                editions: Vec::new(),
                report,
            };
        }
        if file.version == 0 || file.version > canonical::VERSION {
            report.push(Diagnostic::new(
                Code::UnsupportedVersion,
                Position::Path("version".into()),
                format!(
                    "形式のバージョン {} は読めません（{} まで）。keikaku を更新してください。",
                    file.version,
                    canonical::VERSION
                ),
                format!(
                    "format version {} is not supported (up to {}); update keikaku",
                    file.version,
                    canonical::VERSION
                ),
            ));
            return Parsed {
                editions: Vec::new(),
                report,
            };
        }
        let mut editions = Vec::new();
        let mut codes: HashMap<&str, usize> = HashMap::new();
        for (m, record) in file.municipalities.iter().enumerate() {
            let path = format!("municipalities[{m}]");
            if let Some(first) = codes.get(record.code.as_str()) {
                report.push(Diagnostic::new(
                    Code::DuplicateMunicipality,
                    Position::Path(format!("{path}.code")),
                    format!(
                        "団体コード {} が municipalities[{first}] にもあります。1つの団体の計画期間は1か所にまとめてください。",
                        record.code
                    ),
                    format!(
                        "municipality {} is also at municipalities[{first}]; list each municipality once, with all its editions",
                        record.code
                    ),
                ));
            } else {
                codes.insert(&record.code, m);
            }
            let code = match MunicipalityCode::parse(&record.code) {
                Ok(code) => code,
                Err(err) => {
                    report.push(Diagnostic::new(
                        Code::BadMunicipalityCode,
                        Position::Path(format!("{path}.code")),
                        format!(
                            "地方公共団体コード「{}」が正しくありません: {err}",
                            record.code
                        ),
                        format!("municipality code {:?} is wrong: {err}", record.code),
                    ));
                    continue;
                }
            };
            let municipality = Municipality {
                code,
                name: record.name.clone(),
            };
            let population = record
                .population
                .as_ref()
                .and_then(|p| read_population(p, &format!("{path}.population"), &mut report));
            for (e, edition) in record.editions.iter().enumerate() {
                let path = format!("{path}.editions[{e}]");
                if let Some(mut read) = read_edition(&municipality, edition, &path, &mut report) {
                    read.population = population;
                    editions.push(read);
                }
            }
        }
        if editions.is_empty() && !report.has_errors() {
            report.push(Diagnostic::new(
                Code::NotAPlan,
                Position::Path("municipalities".into()),
                "計画が1つも含まれていません。",
                "the file contains no edition",
            ));
        }
        Parsed { editions, report }
    }
}

/// A recorded population: a count of at least one inhabitant and a real date.
fn read_population(
    record: &PopulationRecord,
    path: &str,
    report: &mut Report,
) -> Option<Population> {
    let Some(as_of) = Date::parse(&record.as_of) else {
        report.push(Diagnostic::new(
            Code::BadJson,
            Position::Path(format!("{path}.as_of")),
            format!(
                "人口の基準日「{}」は YYYY-MM-DD の日付ではありません。",
                record.as_of
            ),
            format!(
                "population date {:?} is not a YYYY-MM-DD date",
                record.as_of
            ),
        ));
        return None;
    };
    if record.count == 0 {
        report.push(Diagnostic::new(
            Code::BadJson,
            Position::Path(format!("{path}.count")),
            "人口が 0 です。",
            "the population is 0",
        ));
        return None;
    }
    Some(Population {
        count: record.count,
        as_of,
    })
}

/// Turns a serde error into a located diagnostic.
fn json_error(text: &str, err: &serde_json::Error) -> Diagnostic {
    let line = u32::try_from(err.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(err.column()).unwrap_or(u32::MAX);
    let position = if line == 0 {
        Position::File
    } else {
        Position::at(line, column)
    };
    let truncated = err.is_eof() && !text.trim().is_empty();
    let code = if truncated {
        Code::Truncated
    } else {
        Code::BadJson
    };
    Diagnostic::new(
        code,
        position,
        format!("JSON として読めません: {err}"),
        format!("cannot read the JSON: {err}"),
    )
}

fn read_edition(
    municipality: &Municipality,
    record: &EditionRecord,
    path: &str,
    report: &mut Report,
) -> Option<ReadEdition> {
    let span = FiscalYear::new(record.first_year)
        .zip(FiscalYear::new(record.last_year))
        .and_then(|(first, last)| EditionSpan::new(first, last));
    let Some(span) = span else {
        report.push(Diagnostic::new(
            Code::EditionMismatch,
            Position::Path(format!("{path}.first_year")),
            format!(
                "計画期間 {}〜{} が正しくありません。",
                record.first_year, record.last_year
            ),
            format!(
                "edition years {}–{} are not a valid span",
                record.first_year, record.last_year
            ),
        ));
        return None;
    };
    let state = match record.state.as_deref() {
        None => EditionState::Published,
        Some(text) => match EditionState::parse(text) {
            Some(state) => state,
            None => {
                report.push(Diagnostic::new(
                    Code::BadJson,
                    Position::Path(format!("{path}.state")),
                    format!("state「{text}」は draft か published です。"),
                    format!("state {text:?} must be \"draft\" or \"published\""),
                ));
                return None;
            }
        },
    };
    let mut goals = Vec::new();
    let mut map = SourceMap {
        edition: Position::Path(path.to_owned()),
        goals: Vec::new(),
    };
    for (g, goal) in record.goals.iter().enumerate() {
        let goal_path = format!("{path}.goals[{g}]");
        let mut goal_map = GoalMap {
            at: Position::Path(goal_path.clone()),
            policies: Vec::new(),
        };
        let mut policies = Vec::new();
        for (p, policy) in goal.policies.iter().enumerate() {
            let policy_path = format!("{goal_path}.policies[{p}]");
            let Some(code) = PolicyCode::parse(&policy.code) else {
                report.push(Diagnostic::new(
                    Code::BadPolicyCode,
                    Position::Path(format!("{policy_path}.code")),
                    format!("施策コード「{}」が読めません（例: 7-1）。", policy.code),
                    format!(
                        "cannot read policy code {:?} (expected e.g. 7-1)",
                        policy.code
                    ),
                ));
                continue;
            };
            if code.goal() != goal.number {
                report.push(Diagnostic::new(
                    Code::PolicyGoalMismatch,
                    Position::Path(format!("{policy_path}.code")),
                    format!("施策 {code} が基本目標{} の下にあります。", goal.number),
                    format!("policy {code} is listed under goal {}", goal.number),
                ));
            }
            let mut policy_map = PolicyMap {
                at: Position::Path(policy_path.clone()),
                projects: Vec::new(),
            };
            let mut projects = Vec::new();
            for (j, project) in policy.projects.iter().enumerate() {
                let project_path = format!("{policy_path}.projects[{j}]");
                let (project, project_map) = read_project(project, &project_path, report);
                projects.push(project);
                policy_map.projects.push(project_map);
            }
            policies.push(Policy {
                code,
                title: policy.title.clone(),
                vision: policy.vision.clone(),
                projects,
            });
            goal_map.policies.push(policy_map);
        }
        goals.push(Goal {
            number: goal.number,
            title: goal.title.clone(),
            field: goal.field.clone(),
            policies,
        });
        map.goals.push(goal_map);
    }
    Some(ReadEdition {
        edition: Edition {
            municipality: municipality.clone(),
            span,
            title: record.title.clone(),
            source: record.source.clone(),
            state,
            goals,
        },
        map,
        population: None,
        changes: None,
    })
}

fn read_project(record: &ProjectRecord, path: &str, report: &mut Report) -> (Project, ProjectMap) {
    let mut map = ProjectMap {
        at: Position::Path(path.to_owned()),
        fields: HashMap::new(),
    };
    for (field, name) in [
        (Field::Id, "id"),
        (Field::Number, "number"),
        (Field::Name, "name"),
        (Field::Summary, "summary"),
        (Field::Status, "status"),
        (Field::Department, "departments"),
        (Field::Strategy, "strategies"),
    ] {
        map.fields
            .insert(field, Position::Path(format!("{path}.{name}")));
    }
    let id = ProjectId::parse(&record.id).unwrap_or_else(|| {
        report.push(Diagnostic::new(
            Code::BadId,
            Position::Path(format!("{path}.id")),
            format!(
                "事業ID「{}」は使えません（英数字と - _ . の64文字まで）。",
                record.id
            ),
            format!(
                "project id {:?} is not valid (up to 64 letters, digits, - _ .)",
                record.id
            ),
        ));
        ProjectId::invalid(path)
    });
    if record.number == 0 {
        report.push(Diagnostic::new(
            Code::BadNumber,
            Position::Path(format!("{path}.number")),
            "No は 1 以上の整数です。",
            "number must be 1 or more",
        ));
    }
    let mut strategies = Vec::new();
    for (s, link) in record.strategies.iter().enumerate() {
        let from_raw = StrategyCode::parse(&link.raw);
        let from_code = StrategyCode::parse(&link.code);
        match (from_raw, from_code) {
            (Some(code), Some(normal)) if code == normal => {
                strategies.push(StrategyLink {
                    code,
                    raw: link.raw.clone(),
                });
            }
            _ => report.push(Diagnostic::new(
                Code::BadStrategyCode,
                Position::Path(format!("{path}.strategies[{s}]")),
                format!(
                    "地方創生事業の番号「{}」/「{}」が読めないか一致しません。",
                    link.code, link.raw
                ),
                format!(
                    "strategy code {:?} / raw {:?} cannot be read or disagree",
                    link.code, link.raw
                ),
            )),
        }
    }
    let mut costs = Vec::new();
    for (c, cost) in record.costs.iter().enumerate() {
        let cost_path = format!("{path}.costs[{c}]");
        if let Some(year_cost) = read_cost(cost, &cost_path, &mut map, report) {
            costs.push(year_cost);
        }
    }
    let project = Project {
        id,
        number: record.number,
        name: record.name.clone(),
        summary: record.summary.clone(),
        status: Status::parse(&record.status),
        departments: record.departments.clone(),
        strategies,
        costs,
    };
    (project, map)
}

fn read_cost(
    record: &CostRecord,
    path: &str,
    map: &mut ProjectMap,
    report: &mut Report,
) -> Option<YearCost> {
    let Some(year) = FiscalYear::new(record.year) else {
        report.push(Diagnostic::new(
            Code::YearOutsideEdition,
            Position::Path(format!("{path}.year")),
            format!("年度 {} は扱えません。", record.year),
            format!("fiscal year {} is out of range", record.year),
        ));
        return None;
    };
    map.fields
        .insert(Field::Total(year), Position::Path(format!("{path}.total")));
    map.fields.insert(
        Field::Earmarked(year),
        Position::Path(format!("{path}.earmarked")),
    );
    map.fields.insert(
        Field::General(year),
        Position::Path(format!("{path}.general")),
    );
    let mut breakdown = Vec::new();
    for (kind, value) in record.earmarked_breakdown.entries() {
        map.fields.insert(
            Field::Breakdown(year, kind),
            Position::Path(format!("{path}.earmarked_breakdown.{}", kind.key())),
        );
        breakdown.push((kind, Money::from_thousand_yen(value)));
    }
    check_split(record, year, path, report);
    Some(YearCost {
        year,
        total: record.total.map(Money::from_thousand_yen),
        earmarked: record.earmarked.amount().map(Money::from_thousand_yen),
        general: record.general.amount().map(Money::from_thousand_yen),
        earmarked_breakdown: breakdown,
    })
}

/// `earmarked` and `general` are required (a `null` is "no amount"). A key left out is
/// reported as an incomplete split ([`Code::MissingFundingSplit`], as plan text missing its
/// funding lines is), unless the common checks already report the split: parts that do not
/// make up the total are theirs, for every layout.
fn check_split(record: &CostRecord, year: FiscalYear, path: &str, report: &mut Report) {
    let absent: Vec<&str> = [("earmarked", record.earmarked), ("general", record.general)]
        .into_iter()
        .filter(|(_, value)| *value == Stated::Absent)
        .map(|(key, _)| key)
        .collect();
    let Some(first) = absent.first() else {
        return;
    };
    let parts = [record.earmarked, record.general]
        .iter()
        .filter_map(|p| p.amount())
        .fold(0i64, i64::saturating_add);
    if record.total.is_some_and(|total| total != parts) {
        return;
    }
    let keys = absent.join(", ");
    report.push(
        Diagnostic::new(
            Code::MissingFundingSplit,
            Position::Path(format!("{path}.{first}")),
            format!(
                "{}の {keys} がありません（金額がなければ null と書きます）。特定財源・一般財源の内訳がそろっていません。",
                year.label()
            ),
            format!(
                "FY{}: {keys} is missing (write null for no amount); the split into 特定財源 and 一般財源 is incomplete",
                year.year()
            ),
        )
        .with_field("事業費"),
    );
}
