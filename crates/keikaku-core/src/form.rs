//! One project as a form: the fields a department fills in the browser (or sends to the admin
//! API), as text, read into a [`Project`] by the same rules as every import, with each problem
//! tied to its field so that a page can show it next to the input.
//!
//! The form reads what a person types: amounts in 千円 with or without separators, `-` for no
//! amount, an empty amount field for a year not filled in; several departments or strategy
//! codes separated by `、`, commas, spaces or line breaks. After reading, the project is checked
//! with the rest of its edition by [`crate::validate::check_edition`] (sums, vocabulary,
//! duplicates), and those problems are tied to fields too ([`Field`] keys).

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic, Lang, Position, Report};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::{Money, Unit, parse_amount};
use crate::sheet::split_list;
use crate::status::Status;
use crate::strategy::{StrategyCode, StrategyLink, split_codes};
use crate::validate::{
    Field as Place, GoalMap, PolicyMap, ProjectMap, Rules, SourceMap, check_edition,
};

/// Longest text accepted in a form field (a 事業概要 is a few hundred characters).
pub const MAX_FIELD_CHARS: usize = 4_000;

/// A field of the form, by its stable key (`name`, `cost.2021.total`…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldKey(pub String);

impl FieldKey {
    fn of(place: Place) -> FieldKey {
        FieldKey(match place {
            Place::Number => "number".to_owned(),
            Place::Name => "name".to_owned(),
            Place::Summary => "summary".to_owned(),
            Place::Status => "status".to_owned(),
            Place::Strategy => "strategies".to_owned(),
            Place::Department => "departments".to_owned(),
            Place::Id => "id".to_owned(),
            Place::Total(y) => format!("cost.{}.total", y.year()),
            Place::Earmarked(y) => format!("cost.{}.earmarked", y.year()),
            Place::General(y) => format!("cost.{}.general", y.year()),
            Place::Breakdown(y, kind) => format!("cost.{}.{}", y.year(), kind.key()),
        })
    }
}

/// The name of a form field as people read it: `name` → 事業名 / project name,
/// `cost.2021.total` → 令和3年度 事業費 / FY2021 total. Unknown keys are returned as they are.
pub fn field_label(key: &str, lang: Lang) -> String {
    let ja = lang == Lang::Ja;
    let text = |j: &str, e: &str| if ja { j.to_owned() } else { e.to_owned() };
    match key {
        "policy" => return text("施策コード", "policy code"),
        "number" => return text("事業番号", "project number"),
        "name" => return text("事業名", "project name"),
        "summary" => return text("事業概要", "summary"),
        "status" => return text("区分", "status"),
        "departments" => return text("担当課", "departments"),
        "strategies" => return text("地方創生事業", "strategy codes"),
        _ => {}
    }
    let mut parts = key.split('.');
    if let (Some("cost"), Some(year), Some(part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    {
        let fiscal = year.parse::<i32>().ok().and_then(FiscalYear::new);
        let part = match (part, ja) {
            ("total", true) => "事業費",
            ("total", false) => "total",
            ("earmarked", true) => "特定財源",
            ("earmarked", false) => "earmarked funds",
            ("general", true) => "一般財源",
            ("general", false) => "general funds",
            (other, _) => other,
        };
        return match (fiscal, ja) {
            (Some(y), true) => format!("{} {part}", y.label()),
            (_, false) => format!("FY{year} {part}"),
            (None, true) => format!("{year}年度 {part}"),
        };
    }
    key.to_owned()
}

/// A project's form, every field as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectForm {
    /// 施策コード, e.g. `7-1`.
    pub policy: String,
    /// 事業番号.
    pub number: String,
    /// 事業名.
    pub name: String,
    /// 事業概要.
    pub summary: String,
    /// 区分.
    pub status: String,
    /// 担当課, several separated by `、`, commas, spaces or line breaks.
    pub departments: String,
    /// 地方創生事業, e.g. `Ⅲ(4) Ⅰ(2)`.
    pub strategies: String,
    /// Per fiscal year of the edition: 事業費, 特定財源, 一般財源 in 千円 (`-` no amount, empty
    /// not filled in).
    pub costs: Vec<(FiscalYear, [String; 3])>,
}

/// A problem with a field, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (`None`: the project as a whole).
    pub field: Option<FieldKey>,
    /// The stable code of the problem.
    pub code: Code,
    /// Error or warning.
    pub severity: crate::diagnostic::Severity,
    message_ja: String,
    message_en: String,
}

impl FieldError {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.message_ja,
            Lang::En => &self.message_en,
        }
    }

    fn from_diagnostic(d: &Diagnostic) -> FieldError {
        let field = match &d.position {
            Position::Path(key) if !key.is_empty() => Some(FieldKey(key.clone())),
            _ => None,
        };
        FieldError {
            field,
            code: d.code,
            severity: d.severity,
            message_ja: d.message(Lang::Ja).to_owned(),
            message_en: d.message(Lang::En).to_owned(),
        }
    }

    /// The 特定財源 of a year changed while the stored project splits it into parts (国庫支出金
    /// and the like), which the form does not hold: the parts would no longer add up.
    pub fn breakdown_kept(year: i32) -> FieldError {
        FieldError::new(
            &format!("cost.{year}.earmarked"),
            Code::BreakdownMismatch,
            format!(
                "{year}年度の特定財源には内訳（国庫支出金など）があります。特定財源を変えるときは、入力シートで内訳とともに変更してください。"
            ),
            format!(
                "the earmarked funds of FY{year} are split into parts (national, prefectural…): change them with their parts in the entry sheet"
            ),
        )
    }

    /// Amounts for a fiscal year the edition does not cover.
    pub fn outside_span(year: i32, span: EditionSpan) -> FieldError {
        FieldError::new(
            &format!("cost.{year}.total"),
            Code::YearOutsideEdition,
            format!("{year}年度はこの計画期間（{}）にありません。", span.label()),
            format!("fiscal year {year} is outside the edition {}", span.label()),
        )
    }

    fn new(field: &str, code: Code, ja: String, en: String) -> FieldError {
        FieldError {
            field: Some(FieldKey(field.to_owned())),
            code,
            severity: code.default_severity(),
            message_ja: ja,
            message_en: en,
        }
    }
}

fn amount_text(money: Option<Money>) -> String {
    money.map_or_else(|| "-".to_owned(), |m| m.thousand_yen().to_string())
}

impl ProjectForm {
    /// The form filled with a stored project, for every year of `span`.
    pub fn of(policy: PolicyCode, project: &Project, span: EditionSpan) -> ProjectForm {
        ProjectForm {
            policy: policy.to_string(),
            number: project.number.to_string(),
            name: project.name.clone(),
            summary: project.summary.clone(),
            status: project.status.label().to_owned(),
            departments: project.departments.join(crate::sheet::LIST_SEPARATOR),
            // As written (`III(4)`), so that a form saved untouched changes nothing.
            strategies: project
                .strategies
                .iter()
                .map(|s| s.raw.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            costs: span
                .years()
                .map(|year| {
                    let texts = match project.cost(year) {
                        None => [String::new(), String::new(), String::new()],
                        Some(c) => [
                            amount_text(c.total),
                            amount_text(c.earmarked),
                            amount_text(c.general),
                        ],
                    };
                    (year, texts)
                })
                .collect(),
        }
    }

    /// An empty form for a new project of `policy` in an edition spanning `span`.
    pub fn blank(policy: PolicyCode, span: EditionSpan) -> ProjectForm {
        ProjectForm {
            policy: policy.to_string(),
            costs: span.years().map(|y| (y, Default::default())).collect(),
            ..ProjectForm::default()
        }
    }

    /// The text of the amount field `key` (`cost.2021.total`…), if the form has it.
    pub fn amount(&self, year: FiscalYear, part: usize) -> &str {
        self.costs
            .iter()
            .find(|(y, _)| *y == year)
            .and_then(|(_, texts)| texts.get(part))
            .map_or("", String::as_str)
    }

    /// Reads the form into a project with id `id` (its policy code apart), or every problem
    /// that stops it being read.
    pub fn read(
        &self,
        id: ProjectId,
        span: EditionSpan,
    ) -> Result<(PolicyCode, Project), Vec<FieldError>> {
        let mut errors = Vec::new();
        for (key, text) in [
            ("policy", &self.policy),
            ("number", &self.number),
            ("name", &self.name),
            ("summary", &self.summary),
            ("status", &self.status),
            ("departments", &self.departments),
            ("strategies", &self.strategies),
        ] {
            if text.chars().count() > MAX_FIELD_CHARS {
                errors.push(FieldError::new(
                    key,
                    Code::TooLarge,
                    format!("{MAX_FIELD_CHARS}文字以内にしてください。"),
                    format!("at most {MAX_FIELD_CHARS} characters"),
                ));
            }
        }
        let policy = PolicyCode::parse(&self.policy);
        if policy.is_none() {
            errors.push(FieldError::new(
                "policy",
                Code::BadPolicyCode,
                format!(
                    "施策コード「{}」が読めません（例: 7-1）。",
                    self.policy.trim()
                ),
                format!(
                    "cannot read the policy code {:?} (e.g. 7-1)",
                    self.policy.trim()
                ),
            ));
        }
        let number = match self.number.trim().parse::<u32>() {
            Ok(n) if (1..1_000_000).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "number",
                    Code::BadNumber,
                    "事業番号は1以上の整数で入力してください。".to_owned(),
                    "the project number must be a whole number of 1 or more".to_owned(),
                ));
                0
            }
        };
        let mut strategies = Vec::new();
        for raw in split_codes(&self.strategies) {
            match StrategyCode::read(raw) {
                Some(code) => strategies.push(StrategyLink {
                    code,
                    raw: raw.to_owned(),
                }),
                None => errors.push(FieldError::new(
                    "strategies",
                    Code::BadStrategyCode,
                    format!("地方創生事業の番号「{raw}」が読めません（例: Ⅲ(4)、Ⅲ-4、3-4）。"),
                    format!("cannot read the strategy code {raw:?} (e.g. Ⅲ(4), Ⅲ-4, 3-4)"),
                )),
            }
        }
        let mut costs = Vec::new();
        for year in span.years() {
            let mut cost = YearCost::empty(year);
            let mut stated = false;
            let mut broken = false;
            for (part, label) in ["total", "earmarked", "general"].into_iter().enumerate() {
                let text = self.amount(year, part).trim();
                if text.is_empty() {
                    continue;
                }
                stated = true;
                let key = format!("cost.{}.{label}", year.year());
                match parse_amount(text, Unit::ThousandYen) {
                    Ok(amount) => match part {
                        0 => cost.total = amount,
                        1 => cost.earmarked = amount,
                        _ => cost.general = amount,
                    },
                    Err(err) => {
                        broken = true;
                        errors.push(FieldError::new(
                            &key,
                            Code::NotANumber,
                            format!("「{text}」は千円単位の金額として読めません（{err}）。"),
                            format!("{text:?} is not an amount in 千円 ({err})"),
                        ));
                    }
                }
            }
            if stated && !broken {
                costs.push(cost);
            }
        }
        let Some(policy) = policy.filter(|_| errors.is_empty()) else {
            return Err(errors);
        };
        let project = Project {
            id,
            number,
            name: self.name.trim().to_owned(),
            summary: self.summary.trim().to_owned(),
            status: Status::parse(self.status.trim()),
            departments: split_list(&self.departments.replace(['\n', '\r', '・'], "、")),
            strategies,
            costs,
        };
        Ok((policy, project))
    }
}

/// Checks `edition` with the project `id` as it would be stored, and returns the problems
/// of that project (each tied to its field) and of its policy (numbers taken twice).
pub fn check_in_edition(edition: &Edition, id: &ProjectId, rules: &Rules) -> Vec<FieldError> {
    let mut map = SourceMap::default();
    for goal in &edition.goals {
        let mut goal_map = GoalMap::default();
        for policy in &goal.policies {
            goal_map.policies.push(PolicyMap {
                at: Position::Path(String::new()),
                projects: policy
                    .projects
                    .iter()
                    .map(|p| project_map(p, id, edition.span))
                    .collect(),
            });
        }
        map.goals.push(goal_map);
    }
    let report: Report = check_edition(edition, &map, rules);
    report
        .diagnostics
        .iter()
        // Problems of other projects (stored before a rule existed) are not this form's.
        .filter(|d| !matches!(&d.position, Position::File))
        .map(FieldError::from_diagnostic)
        .collect()
}

/// Positions of the form's own project are its field keys; other projects are `File`.
fn project_map(project: &Project, id: &ProjectId, span: EditionSpan) -> ProjectMap {
    if project.id != *id {
        return ProjectMap {
            at: Position::File,
            fields: HashMap::new(),
        };
    }
    let mut fields = HashMap::new();
    let mut places = vec![
        Place::Number,
        Place::Name,
        Place::Summary,
        Place::Status,
        Place::Strategy,
        Place::Department,
    ];
    for year in span.years() {
        places.extend([
            Place::Total(year),
            Place::Earmarked(year),
            Place::General(year),
        ]);
    }
    for place in places {
        fields.insert(place, Position::Path(FieldKey::of(place).0));
    }
    ProjectMap {
        at: Position::Path(String::new()),
        fields,
    }
}

/// The edition with `project` put in `policy` (replacing the project with the same id, or
/// added), its policy's projects ordered by number.
pub fn with_project(edition: &Edition, policy: PolicyCode, project: &Project) -> Edition {
    let mut next = edition.clone();
    for p in next.goals.iter_mut().flat_map(|g| g.policies.iter_mut()) {
        p.projects.retain(|q| q.id != project.id);
    }
    if let Some(target) = next
        .goals
        .iter_mut()
        .flat_map(|g| g.policies.iter_mut())
        .find(|p: &&mut Policy| p.code == policy)
    {
        target.projects.push(project.clone());
        target.projects.sort_by_key(|p| p.number);
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span() -> EditionSpan {
        EditionSpan::parse("R3-R5").expect("span")
    }

    fn id() -> ProjectId {
        ProjectId::parse("072052-r2-7-1-1").expect("id")
    }

    fn form() -> ProjectForm {
        let mut form = ProjectForm::blank(PolicyCode::new(7, 1).expect("code"), span());
        form.number = "1".into();
        form.name = "地域おこし協力隊活用事業".into();
        form.status = "継続".into();
        form.departments = "企画政策課\n経営改革推進室".into();
        form.strategies = "III(4)、Ⅰ(2)".into();
        form.costs[0].1 = ["17,000".into(), "1000".into(), "16000".into()];
        form.costs[1].1 = ["-".into(), "-".into(), "-".into()];
        form
    }

    #[test]
    fn a_form_reads_as_an_import_would() {
        let (policy, project) = form().read(id(), span()).expect("read");
        assert_eq!(policy.to_string(), "7-1");
        assert_eq!(project.departments, ["企画政策課", "経営改革推進室"]);
        assert_eq!(project.strategies.len(), 2);
        assert_eq!(project.strategies[0].code.to_string(), "Ⅲ(4)");
        assert_eq!(project.costs.len(), 2, "R5 is not filled in");
        assert_eq!(
            project.costs[0].total,
            Some(Money::from_thousand_yen(17_000))
        );
        assert_eq!(project.costs[1].total, None, "- is no amount, not 0");
        let back = ProjectForm::of(policy, &project, span());
        assert_eq!(back.read(id(), span()).expect("again").1, project);
    }

    #[test]
    fn each_problem_names_its_field() {
        let mut bad = form();
        bad.number = "x".into();
        bad.strategies = "Ⅲ(x)".into();
        bad.costs[0].1[1] = "12,3a4".into();
        let errors = bad.read(id(), span()).expect_err("bad");
        let fields: Vec<String> = errors
            .iter()
            .filter_map(|e| e.field.as_ref().map(|f| f.0.clone()))
            .collect();
        assert_eq!(fields, ["number", "strategies", "cost.2021.earmarked"]);
        assert!(
            errors
                .iter()
                .all(|e| !e.message(Lang::Ja).is_empty() && !e.message(Lang::En).is_empty())
        );
    }
}
