//! A town's OWN plan workbook or CSV/TSV, read into a new edition (a draft until published).
//!
//! Nearly every town keeps its 実施計画 in a workbook of its own design. This layout finds the
//! table in it ([`detect`]: heading rows below title rows, columns by their names and
//! synonyms, fiscal years in every notation, the unit), then reads each row below as a
//! project, with goals and policies given as columns (merged down the rows or written once
//! per group) or as section rows (`基本目標1 …`, `施策 1-2 …`). What it decided is a
//! [`Mapping`], printed before anything is stored (`列の対応`) and overridable with a mapping
//! file ([`Overrides`]).
//!
//! It reads only the bytes it is given. The checks common to every layout (sums, 区分,
//! negative amounts…) run afterwards in [`super::read`], located through the [`SourceMap`]
//! this layout fills with each cell's position.

pub mod amount;
pub mod detect;
pub mod heading;
pub mod mapping;
pub mod table;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap};

use unicode_normalization::UnicodeNormalization;

pub use mapping::{MapError, Mapping, Overrides};

use self::amount::{CellError, read_cell};
use self::heading::Target;
use self::mapping::Note;
use self::table::{Table, first_line, is_table_file, read_sheet, read_text, sheet_names};
use super::{Context, Layout, Parsed, ReadEdition};
use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::EditionSpan;
use crate::model::{
    Edition, EditionState, FundingKind, Goal, Policy, PolicyCode, Project, ProjectId, YearCost,
};
use crate::money::Money;
use crate::municipality::Municipality;
use crate::sheet::grid::{Value, looks_like_xlsx};
use crate::sheet::{AmountField, INFO_SHEET, PROJECT_SHEET};
use crate::source::Source;
use crate::status::Status;
use crate::strategy::{StrategyCode, StrategyLink, split_codes};
use crate::validate::{Field, GoalMap, PolicyMap, ProjectMap, SourceMap};

/// A town's own workbook (xlsx) or CSV/TSV.
pub struct OwnPlan;

impl Layout for OwnPlan {
    fn name(&self) -> &'static str {
        "own"
    }

    fn description(&self) -> &'static str {
        "a town's own plan workbook (xlsx) or CSV/TSV, columns found by their headings: creates a new edition (draft)"
    }

    fn sniff(&self, source: &Source<'_>, context: &Context) -> bool {
        is_table_file(source) && !is_keikaku_sheet(source, context)
    }

    fn names_municipality(&self) -> bool {
        false
    }

    fn read(&self, source: &Source<'_>, context: &Context) -> Parsed {
        read_own(source, context).0
    }
}

/// True for the spreadsheet `keikaku template` writes (read by the `sheet-*` layouts): an
/// instructions sheet, or a 事業ID column in the first row.
fn is_keikaku_sheet(source: &Source<'_>, context: &Context) -> bool {
    let marks = |cells: &[String]| {
        cells.iter().any(|c| c == "事業ID") && cells.iter().any(|c| c == "施策コード")
    };
    if looks_like_xlsx(source.bytes) {
        let Ok(names) = sheet_names(source.bytes) else {
            return false;
        };
        if names.iter().any(|n| n == INFO_SHEET) {
            return true;
        }
        let first = if names.iter().any(|n| n == PROJECT_SHEET) {
            PROJECT_SHEET.to_owned()
        } else {
            names.first().cloned().unwrap_or_default()
        };
        // A sheet that cannot be read is left to this layout, which reports where it breaks.
        return read_sheet(source.bytes, &first).is_ok_and(|table| {
            let cells: Vec<String> = (0..table.width()).map(|c| table.raw(0, c).text()).collect();
            marks(&cells)
        });
    }
    // Only the first line: a template grown too large is still the template (and its own
    // layout says where it is too large).
    marks(&first_line(source, context.encoding))
}

/// The mapping keikaku would use for this file, for printing before anything is stored; or
/// the problems that keep it from finding one.
pub fn describe(source: &Source<'_>, context: &Context) -> Result<Mapping, Report> {
    let (parsed, mapping) = read_own(source, context);
    mapping.ok_or(parsed.report)
}

/// Reads the file: the table, its mapping, the edition.
pub fn read_own(source: &Source<'_>, context: &Context) -> (Parsed, Option<Mapping>) {
    let overrides = context.mapping.as_ref();
    let found = if looks_like_xlsx(source.bytes) {
        find_sheet(source.bytes, overrides)
    } else {
        read_text(source, context.encoding)
            .map_err(single)
            .and_then(|table| {
                let detected = detect::detect(&table, None, overrides)?;
                Ok((table, detected))
            })
    };
    let (table, (mut mapping, mut report)) = match found {
        Ok(found) => found,
        Err(report) => {
            return (
                Parsed {
                    editions: Vec::new(),
                    report,
                },
                None,
            );
        }
    };
    if let Some(encoding) = table.encoding {
        mapping.notes.insert(
            0,
            Note::new(
                format!("UTF-8 ではないため {encoding} として読みました。"),
                format!("not UTF-8: read as {encoding}"),
            ),
        );
    }
    let Some(span) = edition_span(&table, &mut mapping, context, &mut report) else {
        return (
            Parsed {
                editions: Vec::new(),
                report,
            },
            Some(mapping),
        );
    };
    let mut reader = RowReader::new(&table, &mut mapping, context, source.name, report, span);
    reader.read_rows();
    let parsed = reader.finish();
    (parsed, Some(mapping))
}

/// The edition's years: those given (`--edition`), which must hold the headings' years, or
/// those of the headings.
fn edition_span(
    table: &Table,
    mapping: &mut Mapping,
    context: &Context,
    report: &mut Report,
) -> Option<EditionSpan> {
    let last = mapping.header_rows.iter().copied().max().unwrap_or(0);
    let header_at = table.position(last, 0);
    let span = match (context.span, mapping.span) {
        (Some(given), Some(read)) => {
            if !(given.contains(read.first()) && given.contains(read.last())) {
                report.push(Diagnostic::new(
                    Code::EditionMismatch,
                    header_at.clone(),
                    format!(
                        "見出しの年度 {} が指定の計画期間 {} に入りません。",
                        read.long_label(),
                        given.long_label()
                    ),
                    format!("the headings' years {read} lie outside the edition {given} given"),
                ));
            }
            Some(given)
        }
        (given, read) => given.or(read),
    };
    if span.is_none() {
        report.push(Diagnostic::new(
            Code::BadHeader,
            header_at,
            "金額（事業費・特定財源・一般財源）の列がなく、計画期間が分かりません。--edition R6-R8 のように指定してください。",
            "there are no amount columns (事業費, 特定財源, 一般財源), so the edition's years are unknown: pass --edition, e.g. R6-R8",
        ));
    }
    mapping.span = span;
    span
}

fn single(diagnostic: Diagnostic) -> Report {
    let mut report = Report::default();
    report.push(diagnostic);
    report
}

type Found = (Table, (Mapping, Report));

/// The sheet holding the plan: the one the mapping file names, else the first sheet whose
/// headings name a 事業名 column.
fn find_sheet(bytes: &[u8], overrides: Option<&Overrides>) -> Result<Found, Report> {
    let names = sheet_names(bytes).map_err(single)?;
    if let Some(name) = overrides.and_then(|o| o.sheet.as_ref()) {
        if !names.contains(name) {
            return Err(single(Diagnostic::new(
                Code::BadHeader,
                Position::File,
                format!(
                    "対応ファイルのシート「{name}」がありません（あるシート: {}）。",
                    names.join("、")
                ),
                format!(
                    "the mapping file names the sheet {name:?}, which does not exist (sheets: {})",
                    names.join(", ")
                ),
            )));
        }
        let table = read_sheet(bytes, name).map_err(single)?;
        let detected = detect::detect(&table, Some(name), overrides)?;
        return Ok((table, detected));
    }
    let mut first_failure = None;
    for name in &names {
        let table = read_sheet(bytes, name).map_err(single)?;
        match detect::detect(&table, Some(name), overrides) {
            Ok(detected) => return Ok((table, detected)),
            Err(report) => {
                first_failure.get_or_insert(report);
            }
        }
    }
    Err(first_failure.unwrap_or_else(|| {
        single(Diagnostic::new(
            Code::NotAPlan,
            Position::File,
            "ブックにシートがありません。",
            "the workbook has no sheet",
        ))
    }))
}

/// A goal being built, with where it was read.
struct GoalEntry {
    goal: Goal,
    map: GoalMap,
}

/// A goal or policy cell read: its number or code if it states one, and its title.
struct Heading {
    number: Option<u32>,
    code: Option<PolicyCode>,
    title: String,
    field: String,
}

/// Reads the rows below the headings into goals, policies and projects.
struct RowReader<'a> {
    table: &'a Table,
    mapping: &'a mut Mapping,
    context: &'a Context,
    name: &'a str,
    report: Report,
    /// The edition's years.
    span: EditionSpan,
    goals: Vec<GoalEntry>,
    /// (goal index, policy index) rows go to.
    current: Option<(usize, usize)>,
    /// The text the goal and policy columns held last (for cells left empty under them).
    last_goal: String,
    last_policy: String,
    /// Names seen per policy, for the same project twice.
    names: HashMap<(usize, usize, String), Position>,
    earmarked_from_parts: bool,
    carried: bool,
    goals_from_codes: bool,
}

impl<'a> RowReader<'a> {
    fn new(
        table: &'a Table,
        mapping: &'a mut Mapping,
        context: &'a Context,
        name: &'a str,
        report: Report,
        span: EditionSpan,
    ) -> Self {
        RowReader {
            table,
            mapping,
            context,
            name,
            report,
            span,
            goals: Vec::new(),
            current: None,
            last_goal: String::new(),
            last_policy: String::new(),
            names: HashMap::new(),
            earmarked_from_parts: false,
            carried: false,
            goals_from_codes: false,
        }
    }

    fn heading_end(&self) -> usize {
        self.mapping.header_rows.iter().copied().max().unwrap_or(0) + 1
    }

    /// The joined texts of the columns mapped to `target` in `row`, as a person sees them.
    fn joined(&self, row: usize, target: Target) -> String {
        let texts: Vec<String> = self
            .mapping
            .columns_for(target)
            .map(|c| self.table.text(row, c))
            .filter(|t| !t.is_empty())
            .collect();
        texts.join(" ")
    }

    fn read_rows(&mut self) {
        if self.mapping.column(Target::Status).is_none() && self.mapping.default_status.is_none() {
            let at = self.table.position(self.heading_end() - 1, 0);
            self.report.push(
                Diagnostic::new(
                    Code::BadHeader,
                    at,
                    "区分（新規・継続）の列がありません。対応ファイルの [defaults] status で全事業の区分を指定するか、列を対応づけてください。",
                    "there is no 区分 (新規・継続) column: set [defaults] status in a mapping file, or map a column to 区分",
                )
                .with_field("区分"),
            );
        }
        let has_structure = self.mapping.column(Target::Goal).is_some()
            || self.mapping.column(Target::Policy).is_some();
        if let Some((code, title)) = self.mapping.default_policy.clone()
            && !has_structure
        {
            let at = self.table.position(self.heading_end() - 1, 0);
            self.enter_policy(
                Heading {
                    number: Some(code.number()),
                    code: Some(code),
                    title,
                    field: String::new(),
                },
                at,
            );
        }
        for row in self.heading_end()..self.table.height() {
            self.read_row(row);
        }
    }

    fn read_row(&mut self, row: usize) {
        let table = self.table;
        let width = table.width();
        let mut texts: Vec<String> = Vec::new();
        for column in 0..width {
            let text = table.text(row, column);
            if !text.is_empty() && !texts.contains(&text) {
                texts.push(text);
            }
        }
        if texts.is_empty() {
            return;
        }
        let first_column = (0..width)
            .find(|c| !table.shown(row, *c).is_empty())
            .unwrap_or(0);
        let at_first = table.position(row, first_column);
        if table.is_hidden(row) {
            self.report.push(Diagnostic::new(
                Code::HiddenRow,
                at_first.clone(),
                "非表示の行に内容があります。見えない内容を取り込まないよう、再表示するか削除してください。",
                "a hidden row holds content: unhide or delete it, so that nothing unseen is imported",
            ));
        }
        let has_amount = self.mapping.columns.iter().any(|c| {
            matches!(c.target, Target::Amount(..) | Target::PeriodTotal)
                && !table.raw(row, c.index).is_empty()
        });
        if texts.len() == 1 && !has_amount && self.section_row(&texts[0], at_first.clone()) {
            return;
        }
        let name_column = self.mapping.column(Target::Name).unwrap_or(0);
        let name = table.raw(row, name_column).text();
        let first_text = &texts[0];
        let compact: String = first_text.nfkc().filter(|c| !c.is_whitespace()).collect();
        if matches!(compact.as_str(), "合計" | "計" | "小計" | "総計" | "再掲")
            || compact.starts_with("合計")
            || compact.starts_with("小計")
        {
            self.ignore(at_first, first_text, "合計の行", "a total row");
            return;
        }
        if name.is_empty() && !has_amount && (compact.starts_with('※') || compact.starts_with("注"))
        {
            self.ignore(at_first, first_text, "注記", "a note");
            return;
        }
        self.read_project(row, name);
    }

    fn ignore(&mut self, at: Position, text: &str, ja: &str, en: &str) {
        let shown: String = text.chars().take(30).collect();
        self.report.push(Diagnostic::new(
            Code::IgnoredLine,
            at,
            format!("{ja}として読み飛ばしました:「{shown}」"),
            format!("skipped as {en}: {shown:?}"),
        ));
    }

    /// A row holding only a goal or policy heading (`基本目標1 …`, `施策 1-2 …`, `1-2 …`).
    fn section_row(&mut self, text: &str, at: Position) -> bool {
        let t: String = text.nfkc().collect();
        let t = t.trim();
        for prefix in ["基本目標", "政策", "分野"] {
            if let Some(rest) = t.strip_prefix(prefix) {
                self.enter_goal(parse_heading(rest), at);
                self.current = None;
                return true;
            }
        }
        if let Some(rest) = t.strip_prefix("施策") {
            self.enter_policy(parse_heading(rest), at);
            return true;
        }
        let heading = parse_heading(t);
        if heading.code.is_some() && !heading.title.is_empty() {
            self.enter_policy(heading, at);
            return true;
        }
        false
    }

    fn enter_goal(&mut self, heading: Heading, at: Position) -> usize {
        let number = heading.number.unwrap_or_else(|| {
            self.goals
                .iter()
                .find(|g| g.goal.title == heading.title)
                .map_or(self.goals.len() as u32 + 1, |g| g.goal.number)
        });
        if let Some(i) = self.goals.iter().position(|g| g.goal.number == number) {
            return i;
        }
        let title = if heading.title.is_empty() {
            format!("基本目標{number}")
        } else {
            heading.title
        };
        self.goals.push(GoalEntry {
            goal: Goal {
                number,
                title,
                field: heading.field,
                policies: Vec::new(),
            },
            map: GoalMap {
                at,
                policies: Vec::new(),
            },
        });
        self.goals.len() - 1
    }

    /// Enters a policy (creating it and, from its code, its goal when needed); returns false
    /// when it cannot be placed.
    fn enter_policy(&mut self, heading: Heading, at: Position) -> bool {
        // Goals made from the codes follow the codes: a code of another goal enters that goal.
        let current = self.current_goal().filter(|g| {
            !(self.goals_from_codes
                && heading
                    .code
                    .is_some_and(|c| self.goals[*g].goal.number != c.goal()))
        });
        let goal = match (heading.code, current) {
            (Some(code), Some(g)) if self.goals[g].goal.number != code.goal() => {
                let number = self.goals[g].goal.number;
                self.report.push(
                    Diagnostic::new(
                        Code::PolicyGoalMismatch,
                        at.clone(),
                        format!("施策 {code} は基本目標{number} の下にあります。"),
                        format!("policy {code} stands under goal {number}"),
                    )
                    .with_field("施策"),
                );
                g
            }
            (_, Some(g)) => g,
            (Some(code), None) => {
                self.goals_from_codes = true;
                self.enter_goal(
                    Heading {
                        number: Some(code.goal()),
                        code: None,
                        title: String::new(),
                        field: String::new(),
                    },
                    at.clone(),
                )
            }
            (None, None) => return false,
        };
        let goal_number = self.goals[goal].goal.number;
        let entry = &mut self.goals[goal];
        let existing = entry.goal.policies.iter().position(|p| match heading.code {
            Some(code) => p.code == code,
            None => !heading.title.is_empty() && p.title == heading.title,
        });
        let index = match existing {
            Some(index) => index,
            None => {
                let code = heading
                    .code
                    .or_else(|| PolicyCode::new(goal_number, heading.number?))
                    .or_else(|| PolicyCode::new(goal_number, entry.goal.policies.len() as u32 + 1));
                let Some(code) = code else {
                    return false;
                };
                let title = if heading.title.is_empty() {
                    format!("施策{code}")
                } else {
                    heading.title
                };
                entry.goal.policies.push(Policy {
                    code,
                    title,
                    vision: String::new(),
                    projects: Vec::new(),
                });
                entry.map.policies.push(PolicyMap {
                    at,
                    projects: Vec::new(),
                });
                entry.goal.policies.len() - 1
            }
        };
        self.current = Some((goal, index));
        true
    }

    /// The goal of the last section row or goal cell.
    fn current_goal(&self) -> Option<usize> {
        match self.current {
            Some((g, _)) => Some(g),
            None => self.goals.len().checked_sub(1),
        }
    }

    /// Places a row under its goal and policy (from its cells, or the last section row).
    fn place(&mut self, row: usize) -> Option<(usize, usize)> {
        let table = self.table;
        let mut goal_text = self.joined(row, Target::Goal);
        let mut policy_text = self.joined(row, Target::Policy);
        let goal_columns = self.mapping.column(Target::Goal).is_some();
        let policy_columns = self.mapping.column(Target::Policy).is_some();
        if goal_columns && goal_text.is_empty() && !self.last_goal.is_empty() {
            goal_text = self.last_goal.clone();
            self.carried = true;
        }
        if policy_columns && policy_text.is_empty() && !self.last_policy.is_empty() {
            policy_text = self.last_policy.clone();
            self.carried = true;
        }
        let goal_at = self
            .mapping
            .column(Target::Goal)
            .map_or_else(|| table.position(row, 0), |c| table.position(row, c));
        let policy_at = self
            .mapping
            .column(Target::Policy)
            .map_or_else(|| table.position(row, 0), |c| table.position(row, c));
        if !goal_text.is_empty() && goal_text != self.last_goal {
            let t: String = goal_text.nfkc().collect();
            let t = t.trim();
            let rest = ["基本目標", "政策", "分野"]
                .iter()
                .find_map(|p| t.strip_prefix(p))
                .unwrap_or(t);
            let g = self.enter_goal(parse_heading(rest), goal_at);
            self.current = None;
            self.last_goal = goal_text;
            if !policy_columns {
                // Goals only: one policy per goal would be a guess; the policy must be named.
                self.current = self.goals[g]
                    .goal
                    .policies
                    .len()
                    .checked_sub(1)
                    .map(|p| (g, p));
            }
        }
        if !policy_text.is_empty() && (policy_text != self.last_policy || self.current.is_none()) {
            let t: String = policy_text.nfkc().collect();
            let t = t.trim();
            let rest = t.strip_prefix("施策").unwrap_or(t);
            if !self.enter_policy(parse_heading(rest), policy_at.clone()) {
                return None;
            }
            self.last_policy = policy_text;
        }
        self.current
    }

    fn read_project(&mut self, row: usize, name: String) {
        let table = self.table;
        let Some((g, p)) = self.place(row) else {
            let at = table.position(row, self.mapping.column(Target::Name).unwrap_or(0));
            self.report.push(Diagnostic::new(
                Code::RowOutsideTable,
                at,
                "この事業の施策が分かりません。施策の列か区分行（「施策 1-1 …」）を置くか、対応ファイルの [defaults] policy で指定してください。",
                "the policy of this project is unknown: add a 施策 column or section rows (施策 1-1 …), or set [defaults] policy in a mapping file",
            ).with_field("施策"));
            return;
        };
        let position = |column: usize| table.position(row, column);
        let name_column = self.mapping.column(Target::Name).unwrap_or(0);
        let mut map = ProjectMap {
            at: position(name_column),
            fields: HashMap::new(),
        };
        map.fields.insert(Field::Name, position(name_column));
        let policy = &self.goals[g].goal.policies[p];
        let code = policy.code;
        let number = match self.mapping.column(Target::Number) {
            Some(column) => {
                map.fields.insert(Field::Number, position(column));
                let text: String = table.raw(row, column).text().nfkc().collect();
                match text.trim().parse::<u32>() {
                    Ok(n) if n >= 1 => n,
                    _ => {
                        self.report.push(
                            Diagnostic::new(
                                Code::BadNumber,
                                position(column),
                                format!("No「{text}」は 1 以上の整数ではありません。"),
                                format!("No {text:?} is not a whole number of at least 1"),
                            )
                            .with_field("No"),
                        );
                        0
                    }
                }
            }
            None => policy.projects.len() as u32 + 1,
        };
        let summary = match self.mapping.column(Target::Summary) {
            Some(column) => {
                map.fields.insert(Field::Summary, position(column));
                table.raw(row, column).text()
            }
            None => String::new(),
        };
        let status = match self.mapping.column(Target::Status) {
            Some(column) => {
                map.fields.insert(Field::Status, position(column));
                Status::parse(&table.text(row, column))
            }
            None => self
                .mapping
                .default_status
                .clone()
                .unwrap_or(Status::Continuing),
        };
        let departments = match self.mapping.column(Target::Department) {
            Some(column) => {
                map.fields.insert(Field::Department, position(column));
                split_departments(&table.text(row, column))
            }
            None => Vec::new(),
        };
        let strategies = match self.mapping.column(Target::Strategy) {
            Some(column) => {
                map.fields.insert(Field::Strategy, position(column));
                self.strategies(&table.text(row, column), position(column))
            }
            None => Vec::new(),
        };
        let costs = self.costs(row, &mut map);
        let key = (g, p, name.clone());
        if !name.is_empty() {
            if let Some(first) = self.names.get(&key) {
                self.report.push(
                    Diagnostic::new(
                        Code::DuplicateRow,
                        map.at.clone(),
                        format!(
                            "施策 {code} に同じ事業「{name}」が2回あります（最初は {first}）。"
                        ),
                        format!("policy {code} has the project {name:?} twice (first at {first})"),
                    )
                    .with_field("事業名"),
                );
            } else {
                self.names.insert(key, map.at.clone());
            }
        }
        let municipality = self
            .context
            .municipality
            .clone()
            .unwrap_or_else(Municipality::unspecified);
        let id = ProjectId::derived(&municipality, self.span, code, number);
        let entry = &mut self.goals[g];
        entry.goal.policies[p].projects.push(Project {
            id,
            number,
            name,
            summary,
            status,
            departments,
            strategies,
            costs,
        });
        entry.map.policies[p].projects.push(map);
    }

    fn strategies(&mut self, cell: &str, at: Position) -> Vec<StrategyLink> {
        let mut links = Vec::new();
        for part in split_codes(cell) {
            match StrategyCode::read(part) {
                Some(code) => links.push(StrategyLink {
                    code,
                    raw: part.to_owned(),
                }),
                None => self.report.push(
                    Diagnostic::new(
                        Code::BadStrategyCode,
                        at.clone(),
                        format!(
                            "総合戦略の番号「{part}」が読めません（1-2、Ⅰ-2、Ⅰ(2)、1(2) の形で書いてください）。"
                        ),
                        format!(
                            "strategy code {part:?} cannot be read (write 1-2, Ⅰ-2, Ⅰ(2) or 1(2))"
                        ),
                    )
                    .with_field("地方創生事業"),
                ),
            }
        }
        links
    }

    /// One amount cell, in 千円, with its problems reported at the cell.
    fn amount(&mut self, row: usize, column: usize, label: &'static str) -> Option<Money> {
        let table = self.table;
        let at = table.position(row, column);
        if table.uncached.contains(&(row, column)) {
            self.report.push(
                Diagnostic::new(
                    Code::FormulaError,
                    at,
                    "式の結果がファイルに保存されていません。Excel で開いて保存し直してください。",
                    "the formula's result is not stored in the file: open and save it in Excel",
                )
                .with_field(label),
            );
            return None;
        }
        if table.merged_origin(row, column).is_some() {
            self.report.push(
                Diagnostic::new(
                    Code::MergedCells,
                    at,
                    "金額のセルが結合されています。どの年度・項目の金額か分からないため、結合を解除してください。",
                    "an amount cell is merged with others: which year and field it is for is unknown; unmerge it",
                )
                .with_field(label),
            );
            return None;
        }
        let value = table.raw(row, column);
        if let Value::Error(error) = value {
            self.report.push(
                Diagnostic::new(
                    Code::FormulaError,
                    at,
                    format!("式がエラー {error} です。"),
                    format!("the formula failed with {error}"),
                )
                .with_field(label),
            );
            return None;
        }
        let unit = self.mapping.unit;
        match read_cell(value, unit) {
            Ok(amount) => amount,
            Err(CellError::Inexact) => {
                let shown = value.text();
                self.report.push(
                    Diagnostic::new(
                        Code::NotANumber,
                        at,
                        format!(
                            "「{shown}」（単位 {}）は千円の整数になりません。端数を丸めずに止めました。単位か金額を確かめてください。",
                            unit.label()
                        ),
                        format!(
                            "{shown:?} (unit {}) is not a whole number of 千円; nothing was rounded: check the unit or the amount",
                            unit.label()
                        ),
                    )
                    .with_field(label),
                );
                None
            }
            Err(CellError::NotANumber) => {
                let shown = value.text();
                self.report.push(
                    Diagnostic::new(
                        Code::NotANumber,
                        at,
                        format!("「{shown}」は金額として読めません。"),
                        format!("{shown:?} is not an amount"),
                    )
                    .with_field(label),
                );
                None
            }
        }
    }

    /// The costs of a row, per fiscal year of the amount columns.
    fn costs(&mut self, row: usize, map: &mut ProjectMap) -> Vec<YearCost> {
        let columns: Vec<(usize, Target)> = self
            .mapping
            .columns
            .iter()
            .map(|c| (c.index, c.target))
            .collect();
        let years: BTreeSet<_> = columns
            .iter()
            .filter_map(|(_, t)| match t {
                Target::Amount(year, _) => Some(*year),
                _ => None,
            })
            .collect();
        let mut costs = Vec::new();
        for year in years {
            let mut cost = YearCost::empty(year);
            let mut has_earmarked_column = false;
            let mut parts: Vec<(FundingKind, Money)> = Vec::new();
            for &(column, target) in &columns {
                let Target::Amount(y, field) = target else {
                    continue;
                };
                if y != year {
                    continue;
                }
                let (key, label) = match field {
                    AmountField::Total => (Field::Total(year), "事業費"),
                    AmountField::Earmarked => (Field::Earmarked(year), "特定財源"),
                    AmountField::General => (Field::General(year), "一般財源"),
                    AmountField::Kind(kind) => (Field::Breakdown(year, kind), kind.label()),
                };
                map.fields.insert(key, self.table.position(row, column));
                let amount = self.amount(row, column, label);
                match field {
                    AmountField::Total => cost.total = amount,
                    AmountField::Earmarked => {
                        has_earmarked_column = true;
                        cost.earmarked = amount;
                    }
                    AmountField::General => cost.general = amount,
                    AmountField::Kind(kind) => {
                        if let Some(money) = amount {
                            parts.push((kind, money));
                        }
                    }
                }
            }
            parts.sort_by_key(|(kind, _)| *kind);
            if !has_earmarked_column && !parts.is_empty() {
                cost.earmarked = Some(parts.iter().map(|(_, m)| *m).sum());
                self.earmarked_from_parts = true;
                if let Some((kind, _)) = parts.first() {
                    let at = map.fields.get(&Field::Breakdown(year, *kind)).cloned();
                    if let Some(at) = at {
                        map.fields.insert(Field::Earmarked(year), at);
                    }
                }
            }
            cost.earmarked_breakdown = parts;
            costs.push(cost);
        }
        if let Some(column) = self.mapping.column(Target::PeriodTotal)
            && let Some(total) = self.amount(row, column, "事業費")
        {
            let yearly: Option<Vec<Money>> = costs.iter().map(|c| c.total).collect();
            if let Some(yearly) = yearly.filter(|y| !y.is_empty()) {
                let sum: Money = yearly.into_iter().sum();
                if sum != total {
                    self.report.push(
                        Diagnostic::new(
                            Code::ConflictingAmounts,
                            self.table.position(row, column),
                            format!(
                                "総事業費 {} が各年度の事業費の合計 {} と合いません。",
                                total.grouped(),
                                sum.grouped()
                            ),
                            format!(
                                "the period total {} differs from the sum of the yearly 事業費 {}",
                                total.grouped(),
                                sum.grouped()
                            ),
                        )
                        .with_field("事業費"),
                    );
                }
            }
        }
        costs
    }

    fn finish(self) -> Parsed {
        if self.carried {
            self.mapping.notes.push(Note::new(
                "基本目標・施策の空欄は、上の行と同じとして読みました。",
                "empty goal and policy cells were read as the same as the row above",
            ));
        }
        if self.goals_from_codes {
            self.mapping.notes.push(Note::new(
                "基本目標は施策コードの上位の番号から作りました（題名は「基本目標n」）。",
                "goals were made from the first number of the policy codes (titled 基本目標n)",
            ));
        }
        if self.earmarked_from_parts {
            self.mapping.notes.push(Note::new(
                "特定財源の列がないため、国県支出金・地方債・その他などの内訳の合計を特定財源としました。",
                "there is no 特定財源 column: 特定財源 is the sum of its parts (国県支出金, 地方債, その他…)",
            ));
        }
        let header_at = self.table.position(self.heading_end() - 1, 0);
        let span = self.span;
        let municipality = self
            .context
            .municipality
            .clone()
            .unwrap_or_else(Municipality::unspecified);
        let title = self
            .context
            .title
            .clone()
            .unwrap_or_else(|| Edition::default_title(&municipality, span));
        let (goals, maps): (Vec<Goal>, Vec<GoalMap>) =
            self.goals.into_iter().map(|e| (e.goal, e.map)).unzip();
        let edition = Edition {
            municipality,
            span,
            title,
            source: self.name.to_owned(),
            state: EditionState::Draft,
            goals,
        };
        Parsed {
            editions: vec![ReadEdition {
                edition,
                map: SourceMap {
                    edition: header_at,
                    goals: maps,
                },
                population: None,
                changes: None,
            }],
            report: self.report,
        }
    }
}

/// Reads a goal or policy cell: `1 子育て…`, `1-2 子育て支援`, `1-2子育て支援`, `第1章 …`,
/// `子育て支援` (no number), with `【分野】` taken out as the goal's field.
fn parse_heading(text: &str) -> Heading {
    let t: String = text.nfkc().collect();
    let t = t.trim().trim_start_matches('第').trim();
    let prefix_len: usize = t
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || matches!(c, '-' | '‐' | '−' | '–' | '―'))
        .map(|(_, c)| c.len_utf8())
        .sum();
    let (head, rest) = t.split_at(prefix_len);
    let code = PolicyCode::parse(head);
    let number = match code {
        Some(code) => Some(code.number()),
        None => head.parse::<u32>().ok().filter(|n| *n >= 1 && *n < 1_000),
    };
    let rest = if code.is_some() || number.is_some() {
        rest
    } else {
        t
    };
    let rest = rest
        .trim_start_matches(['章', '節', '.', '．', ':', '：', '、', ')', '）'])
        .trim();
    let (title, field) = match (rest.find('【'), rest.find('】')) {
        (Some(open), Some(close)) if open < close => {
            let field = rest[open + '【'.len_utf8()..close].trim().to_owned();
            let title = format!("{}{}", &rest[..open], &rest[close + '】'.len_utf8()..]);
            (title.trim().to_owned(), field)
        }
        _ => (rest.to_owned(), String::new()),
    };
    Heading {
        number,
        code,
        title,
        field,
    }
}

/// Departments in one cell: separated by `・`, `、`, commas, spaces or line breaks.
fn split_departments(cell: &str) -> Vec<String> {
    cell.split(|c: char| c.is_whitespace() || matches!(c, '・' | '、' | ',' | '，' | '／' | '/'))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
