//! The text of a plan book's tables as a PDF table extraction gives it: one line per table
//! line, cells separated by tabs.
//!
//! This is how 白河市 and many other municipalities publish: a PDF book whose text, once
//! extracted, has these traits (each handled here and tested in `tests`):
//!
//! - Goal headings twice: a cover (`基本目標7`, the title and `【分野】` on separate lines,
//!   sometimes spelled differently) and a page header on one line. The page header wins.
//! - A policy heading `施策 7-1 title`, then `【めざすまちの姿】` and the vision prose.
//! - Table headers of one to three lines whose wording varies (`3年間の事業計画`,
//!   `3カ年の…`, `3か年の…`, `3年の…`); some put 特定財源 and 一般財源 in their own
//!   columns, one lacks R4.
//! - The first-year cost cell stacked on up to three lines: total, then 特定財源, then
//!   一般財源, under the same column, with the other cells on the first line only. A row of
//!   dashes may be one line (`-⇥-`, ⇥ being a tab). Some rows put two amounts on the first line; these are
//!   read by the header's column positions and flagged for a person to check.
//! - Rows shifted one column against their header: 区分, strategy codes and departments are
//!   recognised by what they contain (vocabulary, `Ⅲ(4)` pattern, 課/室/局/… suffixes) and
//!   the header only decides for cells whose content says nothing.
//! - Lines that are not rows: `※` footnotes, repeated page headers, vision prose.
//!
//! The document does not name its municipality; the caller supplies it.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::{Context, Layout, Parsed, ReadEdition};
use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, Goal, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::{Amount, Unit, is_dash, parse_amount};
use crate::municipality::Municipality;
use crate::source::{Source, decode_text};
use crate::status::Status;
use crate::strategy::{StrategyCode, StrategyLink, split_codes};
use crate::validate::{Field, GoalMap, PolicyMap, ProjectMap, Rules, SourceMap};

/// The layout of plan tables extracted from a PDF as tab-separated text.
pub struct PdfTableText;

impl Layout for PdfTableText {
    fn name(&self) -> &'static str {
        "pdf-text"
    }

    fn description(&self) -> &'static str {
        "text of plan tables extracted from a PDF: tab-separated cells, amounts stacked on up to three lines"
    }

    fn sniff(&self, source: &Source<'_>, context: &Context) -> bool {
        match decode_text(source.bytes, context.encoding) {
            Ok(text) => text.lines().any(|line| is_table_header(&split_cells(line))),
            Err(_) => false,
        }
    }

    fn names_municipality(&self) -> bool {
        false
    }

    fn read(&self, source: &Source<'_>, context: &Context) -> Parsed {
        let text = match decode_text(source.bytes, context.encoding) {
            Ok(text) => text,
            Err(diagnostic) => {
                let mut report = Report::default();
                report.push(diagnostic);
                return Parsed {
                    editions: Vec::new(),
                    report,
                };
            }
        };
        // Lines are read one at a time: what is kept is the plan and the problems, never
        // the whole file split into lines.
        let lines = text.split('\n').enumerate().map(|(i, raw)| Line {
            number: u32::try_from(i + 1).unwrap_or(u32::MAX),
            cells: split_cells(raw.strip_suffix('\r').unwrap_or(raw)),
        });
        Reader::new(context).run(lines, source.name)
    }

    fn near_miss(&self, source: &Source<'_>, context: &Context) -> Option<super::NearMiss> {
        let text = decode_text(source.bytes, context.encoding).ok()?;
        // The line that holds most of a table header's labels, among the first lines.
        let labels: [(&str, LabelTest); 4] = [
            ("No", is_number_label),
            ("事業名", |c| c.contains("事業名")),
            ("事業概要", |c| c.contains("事業概要")),
            ("事業費", |c| {
                c.contains("事業費") || c.contains("事業計画")
            }),
        ];
        let (line, cells, found) = text
            .lines()
            .take(2_000)
            .enumerate()
            .map(|(i, l)| {
                let cells = split_cells(l);
                let found: Vec<bool> = labels
                    .iter()
                    .map(|(_, is)| cells.iter().any(|c| is(c)))
                    .collect();
                (i + 1, cells, found)
            })
            .max_by_key(|(_, _, found)| found.iter().filter(|f| **f).count())?;
        let score = found.iter().filter(|f| **f).count();
        if score < 2 {
            return None;
        }
        let missing: Vec<&str> = labels
            .iter()
            .zip(&found)
            .filter(|(_, f)| !**f)
            .map(|((label, _), _)| *label)
            .collect();
        let seen: Vec<&str> = cells
            .iter()
            .copied()
            .filter(|c| !c.is_empty())
            .take(12)
            .collect();
        let (ja_missing, en_missing) = if missing.is_empty() {
            (
                "No が最初の列にありません".to_owned(),
                "No is not the first cell".to_owned(),
            )
        } else {
            (
                format!("{} がありません", missing.join("・")),
                format!("{} missing", missing.join(", ")),
            )
        };
        Some(super::NearMiss {
            score,
            ja: format!(
                "{line} 行目の見出し行に {ja_missing}（見えた見出し: {}）。見出し行は No・事業名・事業概要・事業費 をタブで区切ります",
                seen.join("、")
            ),
            en: format!(
                "the heading row at line {line} has {en_missing} (headings seen: {}); a heading row holds No, 事業名, 事業概要, 事業費 separated by tabs",
                seen.join(", ")
            ),
        })
    }
}

/// Whether a cell is a table header's label.
type LabelTest = fn(&str) -> bool;

/// Lines outside any table, heading or vision text from which, when they outnumber the
/// lines read as the plan, the file is refused as mostly not a plan.
const MOSTLY_NOT_A_PLAN: usize = 100;

/// One line of the text, split into trimmed cells.
struct Line<'a> {
    number: u32,
    cells: Vec<&'a str>,
}

impl Line<'_> {
    fn cell(&self, index: usize) -> &str {
        self.cells.get(index).copied().unwrap_or("")
    }

    fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.is_empty())
    }

    /// The text when the line has exactly one non-empty cell, and it is the first.
    fn single_text(&self) -> Option<&str> {
        let first = self.cells.first().copied().filter(|c| !c.is_empty())?;
        self.cells[1..]
            .iter()
            .all(|c| c.is_empty())
            .then_some(first)
    }

    fn non_empty(&self) -> impl Iterator<Item = (usize, &str)> {
        self.cells
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
    }

    fn at(&self, column: usize) -> Position {
        Position::at(self.number, u32::try_from(column + 1).unwrap_or(u32::MAX))
    }
}

fn split_cells(line: &str) -> Vec<&str> {
    line.split('\t').map(str::trim).collect()
}

/// NFKC with all whitespace removed, for matching labels.
fn compact(text: &str) -> String {
    nfkc(text).chars().filter(|c| !c.is_whitespace()).collect()
}

/// NFKC, without its cost for text already in that form (most lines): every line is
/// tested against several labels, and a file may have millions of lines.
fn nfkc(text: &str) -> std::borrow::Cow<'_, str> {
    match unicode_normalization::is_nfkc_quick(text.chars()) {
        unicode_normalization::IsNormalized::Yes => std::borrow::Cow::Borrowed(text),
        _ => std::borrow::Cow::Owned(text.nfkc().collect()),
    }
}

fn is_number_label(cell: &str) -> bool {
    matches!(compact(cell).as_str(), "No" | "No." | "NO" | "no" | "番号")
}

fn is_table_header(cells: &[&str]) -> bool {
    cells.first().is_some_and(|c| is_number_label(c)) && cells.iter().any(|c| c.contains("事業名"))
}

fn is_vision_marker(text: &str) -> bool {
    let t = compact(text);
    let inner = t.trim_start_matches('【').trim_end_matches('】');
    inner == "めざすまちの姿" || inner == "目指すまちの姿" || inner == "めざす姿"
}

/// Reads a whole number such as a project number (`1`, `１`).
fn parse_count(text: &str) -> Option<u32> {
    let t = compact(text);
    let t = t
        .strip_prefix("No.")
        .or_else(|| t.strip_prefix("No"))
        .unwrap_or(&t);
    if t.is_empty() || t.len() > 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok().filter(|n| *n > 0)
}

/// Splits `基本目標7 title【field】` into (7, rest) where rest may be empty.
fn goal_heading(text: &str) -> Option<(u32, String)> {
    let t = nfkc(text);
    let rest = t.trim_start().strip_prefix("基本目標")?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().ok().filter(|n| *n > 0 && *n < 1_000)?;
    let after = rest[digits.len()..].trim();
    Some((number, after.to_owned()))
}

/// Splits a title with a trailing `【field】` into title and field.
fn title_and_field(text: &str) -> (String, String) {
    let text = text.trim();
    if let Some(open) = text.rfind('【')
        && let Some(inner) = text[open..]
            .strip_prefix('【')
            .and_then(|s| s.strip_suffix('】'))
    {
        return (text[..open].trim().to_owned(), inner.trim().to_owned());
    }
    (text.to_owned(), String::new())
}

/// Parses `施策 7-1 title`.
fn policy_heading(text: &str) -> Option<(Option<PolicyCode>, String, String)> {
    let rest = text.trim_start().strip_prefix("施策")?;
    let rest = rest.trim_start();
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (code_text, title) = rest.split_at(end);
    Some((
        PolicyCode::parse(code_text),
        code_text.to_owned(),
        title.trim().to_owned(),
    ))
}

/// Department name endings (担当課 cells are recognised by them).
const DEPARTMENT_SUFFIXES: [&str; 11] = [
    "課",
    "室",
    "局",
    "部",
    "係",
    "センター",
    "所",
    "館",
    "委員会",
    "班",
    "担当",
];

fn is_department_cell(text: &str) -> bool {
    let mut tokens = text.split_whitespace().peekable();
    tokens.peek().is_some() && tokens.all(|t| DEPARTMENT_SUFFIXES.iter().any(|s| t.ends_with(s)))
}

fn is_strategy_cell(text: &str) -> bool {
    let mut codes = split_codes(text).peekable();
    codes.peek().is_some() && codes.all(|c| StrategyCode::parse(c).is_some())
}

/// What a cell's content says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Status,
    Strategy,
    Department,
    Amount,
    Unknown,
}

fn classify(text: &str, rules: &Rules) -> Kind {
    if rules.is_status_word(text) {
        Kind::Status
    } else if is_strategy_cell(text) {
        Kind::Strategy
    } else if is_department_cell(text) {
        Kind::Department
    } else if is_dash(text) || parse_amount(text, Unit::ThousandYen).is_ok() {
        Kind::Amount
    } else {
        Kind::Unknown
    }
}

/// The column layout of one table, read from its header lines.
#[derive(Debug, Clone)]
struct Table {
    header_line: u32,
    number: usize,
    name: usize,
    summary: Option<usize>,
    cost: usize,
    cost_year: FiscalYear,
    unit: Unit,
    /// A 一般財源 column of its own (two-level headers); `None` when 一般財源 is stacked.
    general: Option<usize>,
    plan_years: Vec<(usize, FiscalYear)>,
    span_years: Option<i32>,
    status: Option<usize>,
    strategy: Option<usize>,
    department: Option<usize>,
}

impl Table {
    fn column_of(&self, kind: Kind) -> Option<usize> {
        match kind {
            Kind::Status => self.status,
            Kind::Strategy => self.strategy,
            Kind::Department => self.department,
            Kind::Amount | Kind::Unknown => None,
        }
    }

    fn is_amount_column(&self, column: usize) -> bool {
        column == self.cost || Some(column) == self.general
    }

    /// Reads the header lines; `Err` names what is missing.
    fn from_header(lines: &[&Line<'_>]) -> Result<Table, Diagnostic> {
        let header_line = lines.first().map_or(0, |l| l.number);
        let mut number = None;
        let mut name = None;
        let mut summary = None;
        let mut cost = None;
        let mut general = None;
        let mut plan_years = Vec::new();
        let mut span_years = None;
        let mut status = None;
        let mut strategy = None;
        let mut department = None;
        for line in lines {
            for (i, cell) in line.non_empty() {
                let c = compact(cell);
                if i == 0 && is_number_label(cell) {
                    number = Some(i);
                } else if c.contains("事業名") {
                    name = Some(i);
                } else if c.contains("概要") {
                    summary = Some(i);
                } else if let Some(at) = c.find("事業費") {
                    let unit = if c.contains("(千円)") {
                        Unit::ThousandYen
                    } else if c.contains("(万円)") {
                        Unit::TenThousandYen
                    } else if c.contains("(円)") {
                        Unit::Yen
                    } else {
                        Unit::ThousandYen
                    };
                    cost = Some((i, FiscalYear::parse(&c[..at]), unit));
                } else if c.contains("事業計画") {
                    let digits: String = c.chars().take_while(char::is_ascii_digit).collect();
                    span_years = digits.parse().ok();
                } else if c == "区分" {
                    status = Some(i);
                } else if c.contains("地方創生") || c.contains("総合戦略") {
                    strategy = Some(i);
                } else if c.contains("担当") || c.contains("所管") {
                    department = Some(i);
                } else {
                    for token in cell.split_whitespace() {
                        let t = compact(token);
                        if t == "一般財源" {
                            general = Some(i);
                        } else if t.starts_with(|ch: char| !ch.is_ascii_digit())
                            && let Some(year) = FiscalYear::parse(&t)
                        {
                            plan_years.push((i, year));
                        }
                    }
                }
            }
        }
        let missing: Vec<&str> = [
            (number.is_none(), "No"),
            (name.is_none(), "事業名"),
            (cost.is_none(), "事業費"),
        ]
        .into_iter()
        .filter_map(|(absent, label)| absent.then_some(label))
        .collect();
        let (Some(number), Some(name), Some((cost, cost_year, unit))) = (number, name, cost) else {
            return Err(Diagnostic::new(
                Code::BadHeader,
                Position::line(header_line),
                format!("表の見出しに {} の列がありません。", missing.join("・")),
                format!("the table header has no column for {}", missing.join(", ")),
            ));
        };
        let Some(cost_year) = cost_year else {
            return Err(Diagnostic::new(
                Code::BadHeader,
                Position::line(header_line),
                "事業費の見出しに年度がありません（例: R2事業費(千円)）。",
                "the cost header does not name its fiscal year (e.g. R2事業費(千円))",
            ));
        };
        Ok(Table {
            header_line,
            number,
            name,
            summary,
            cost,
            cost_year,
            unit,
            general: general.filter(|g| *g != cost),
            plan_years,
            span_years,
            status,
            strategy,
            department,
        })
    }
}

/// A project whose lines are still being read.
struct ProjectDraft {
    number: u32,
    name: String,
    summary: String,
    status: Status,
    departments: Vec<String>,
    strategies: Vec<StrategyLink>,
    map: ProjectMap,
    /// Amount cells per line: (line, cost-column cell, separate-general-column cell).
    amounts: Vec<AmountLine>,
    /// Cells in the widest row so far, to spot a line cut short by truncation.
    cells: usize,
}

/// A table header line, kept (owned) until the table's first row.
struct HeaderLine {
    number: u32,
    cells: Vec<String>,
}

impl HeaderLine {
    fn of(line: &Line<'_>) -> Self {
        HeaderLine {
            number: line.number,
            cells: line.cells.iter().map(|c| (*c).to_owned()).collect(),
        }
    }
}

struct AmountLine {
    line: u32,
    main: Option<(usize, String)>,
    side: Option<(usize, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Start,
    Cover,
    Vision,
    Header,
    Rows,
    SkipTable,
    AfterTable,
}

/// A goal as read so far; turned into a [`Goal`] once the edition's span (and so the
/// projects' ids) is known.
struct GoalDraft {
    number: u32,
    title: String,
    field: String,
    policies: Vec<PolicyDraft>,
    map: GoalMap,
    titled_by_page_header: bool,
}

impl GoalDraft {
    fn new(number: u32, line: u32) -> Self {
        GoalDraft {
            number,
            title: String::new(),
            field: String::new(),
            policies: Vec::new(),
            map: GoalMap {
                at: Position::line(line),
                policies: Vec::new(),
            },
            titled_by_page_header: false,
        }
    }
}

struct PolicyDraft {
    code: PolicyCode,
    title: String,
    vision: String,
    rows: Vec<Row>,
}

/// A project fully read, waiting for its id.
struct Row {
    number: u32,
    name: String,
    summary: String,
    status: Status,
    departments: Vec<String>,
    strategies: Vec<StrategyLink>,
    cost: Option<YearCost>,
}

struct Reader<'c> {
    context: &'c Context,
    report: Report,
    goals: Vec<GoalDraft>,
    goal: Option<usize>,
    policy: Option<(usize, usize)>,
    mode: Mode,
    /// The current table's header lines, kept until its first row arrives.
    header: Vec<HeaderLine>,
    table: Option<Table>,
    project: Option<ProjectDraft>,
    first_year: Option<(FiscalYear, u32)>,
    span_years: Option<(i32, u32)>,
    last_plan_year: Option<FiscalYear>,
    first_header: Option<u32>,
    /// Widest row seen in the current table, to recognise a last line cut short.
    table_width: usize,
    /// Non-blank lines read, those ignored among them, and the first ignored one.
    lines: usize,
    ignored: usize,
    first_ignored: Option<u32>,
}

impl<'c> Reader<'c> {
    fn new(context: &'c Context) -> Self {
        Reader {
            context,
            report: Report::default(),
            goals: Vec::new(),
            goal: None,
            policy: None,
            mode: Mode::Start,
            header: Vec::new(),
            table: None,
            project: None,
            first_year: None,
            span_years: None,
            last_plan_year: None,
            first_header: None,
            table_width: 0,
            lines: 0,
            ignored: 0,
            first_ignored: None,
        }
    }

    fn run<'t>(mut self, lines: impl Iterator<Item = Line<'t>>, source_name: &str) -> Parsed {
        let mut last = None;
        for line in lines {
            self.line(&line);
            if !line.is_blank() {
                last = Some(line);
            }
        }
        if let Some(last) = &last {
            self.finish_project_at(Some(last));
        }
        self.check_mostly_plan();
        self.finish(source_name)
    }

    /// Refuses a file most of whose lines are not the plan (a plan followed by megabytes of
    /// something else): storing its plan would hide that the file is not what it seems.
    fn check_mostly_plan(&mut self) {
        let Some(first) = self.first_ignored else {
            return;
        };
        let plan = self.lines.saturating_sub(self.ignored);
        if self.ignored >= MOSTLY_NOT_A_PLAN && self.ignored > plan {
            let (ignored, lines) = (
                crate::money::group_thousands(i64::try_from(self.ignored).unwrap_or(i64::MAX)),
                crate::money::group_thousands(i64::try_from(self.lines).unwrap_or(i64::MAX)),
            );
            self.report.push(Diagnostic::new(
                Code::NotAPlan,
                Position::line(first),
                format!(
                    "空行を除く {lines} 行のうち {ignored} 行（この行から）が表・見出し・めざすまちの姿のどれにも当たりません。\
                     ファイルの大部分が実施計画ではないため、取り込みません。計画の部分だけのファイルにしてください。"
                ),
                format!(
                    "{ignored} of the {lines} non-blank lines (from this one on) are not part of a table, a heading or a vision text: \
                     the file is mostly not a plan and is refused; keep only the plan in the file"
                ),
            ));
        }
    }

    fn line(&mut self, line: &Line<'_>) {
        if line.is_blank() {
            return;
        }
        self.lines += 1;
        if let Some(text) = line.single_text() {
            if text.starts_with('※') {
                self.finish_project();
                if matches!(self.mode, Mode::Rows | Mode::Header | Mode::SkipTable) {
                    self.mode = Mode::AfterTable;
                }
                return;
            }
            if let Some((number, rest)) = goal_heading(text) {
                self.finish_project();
                self.goal_line(line, number, &rest);
                return;
            }
            if let Some((code, code_text, title)) = policy_heading(text) {
                self.finish_project();
                self.policy_line(line, code, &code_text, title);
                return;
            }
            if is_vision_marker(text) {
                self.finish_project();
                self.mode = Mode::Vision;
                return;
            }
        }
        if is_table_header(&line.cells) {
            self.finish_project();
            self.header = vec![HeaderLine::of(line)];
            self.first_header.get_or_insert(line.number);
            self.mode = Mode::Header;
            return;
        }
        match self.mode {
            Mode::Cover => self.cover_line(line),
            Mode::Vision => self.vision_line(line),
            Mode::Header | Mode::Rows => self.table_line(line),
            Mode::SkipTable => {}
            Mode::Start | Mode::AfterTable => self.ignored_line(line),
        }
    }

    fn ignored_line(&mut self, line: &Line<'_>) {
        self.ignored += 1;
        self.first_ignored.get_or_insert(line.number);
        if self.report.is_full(Code::IgnoredLine) {
            // Left out of the report anyway: count it without building its message.
            self.report
                .left_out(Code::IgnoredLine, Position::line(line.number));
            return;
        }
        let text: String = line
            .non_empty()
            .map(|(_, c)| c)
            .collect::<Vec<_>>()
            .join(" ");
        let preview: String = text.chars().take(30).collect();
        self.report.push(Diagnostic::new(
            Code::IgnoredLine,
            Position::line(line.number),
            format!("この行は表・見出し・めざすまちの姿のどれにも当たらないため読み飛ばしました: 「{preview}」"),
            format!("line skipped: it is not part of a table, a heading or a vision text: {preview:?}"),
        ));
    }

    fn goal_line(&mut self, line: &Line<'_>, number: u32, rest: &str) {
        let index = self.goal_index(number, line.number);
        self.goal = Some(index);
        self.policy = None;
        if rest.is_empty() {
            // A cover: title and field follow on their own lines.
            self.mode = Mode::Cover;
            return;
        }
        self.mode = Mode::AfterTable;
        let (title, field) = title_and_field(rest);
        let draft = &mut self.goals[index];
        if !draft.titled_by_page_header {
            // The page header is the goal's title; a cover may spell it differently.
            draft.title = title;
            draft.field = field;
            draft.titled_by_page_header = true;
            draft.map.at = Position::line(line.number);
        } else if draft.title != title || (!field.is_empty() && draft.field != field) {
            let existing = draft.title.clone();
            self.report.push(Diagnostic::new(
                Code::GoalTitleVariant,
                Position::line(line.number),
                format!("基本目標{number} の題名が前のページ見出し「{existing}」と違います: 「{title}」"),
                format!("goal {number} is titled {title:?} here but {existing:?} in an earlier page header"),
            ).with_field("基本目標"));
        }
    }

    fn cover_line(&mut self, line: &Line<'_>) {
        let (Some(text), Some(index)) = (line.single_text(), self.goal) else {
            self.ignored_line(line);
            return;
        };
        let draft = &mut self.goals[index];
        if draft.titled_by_page_header {
            return;
        }
        let (title, field) = title_and_field(text);
        if title.is_empty() && !field.is_empty() {
            draft.field = field;
        } else if draft.title.is_empty() {
            draft.title = title;
            if !field.is_empty() {
                draft.field = field;
            }
        } else {
            self.ignored_line(line);
        }
    }

    fn policy_line(
        &mut self,
        line: &Line<'_>,
        code: Option<PolicyCode>,
        code_text: &str,
        title: String,
    ) {
        self.mode = Mode::AfterTable;
        let Some(code) = code else {
            self.report.push(
                Diagnostic::new(
                    Code::BadPolicyCode,
                    Position::line(line.number),
                    format!("施策コード「{code_text}」が読めません（例: 7-1）。"),
                    format!("cannot read policy code {code_text:?} (expected e.g. 7-1)"),
                )
                .with_field("施策"),
            );
            self.policy = None;
            self.mode = Mode::SkipTable;
            return;
        };
        let goal_index = match self.goal {
            Some(g) if self.goals[g].number == code.goal() => g,
            current => {
                let (ja, en) = match current {
                    Some(g) => {
                        let n = self.goals[g].number;
                        (
                            format!(
                                "施策 {code} は基本目標{n} の下にありますが、コードは基本目標{} を指しています。",
                                code.goal()
                            ),
                            format!(
                                "policy {code} appears under goal {n} but its code names goal {}",
                                code.goal()
                            ),
                        )
                    }
                    None => (
                        format!("施策 {code} の前に基本目標の見出しがありません。"),
                        format!("policy {code} comes before any goal heading"),
                    ),
                };
                self.report.push(
                    Diagnostic::new(
                        Code::PolicyGoalMismatch,
                        Position::line(line.number),
                        ja,
                        en,
                    )
                    .with_field("施策"),
                );
                self.goal_index(code.goal(), line.number)
            }
        };
        self.goal = Some(goal_index);
        let goal = &mut self.goals[goal_index];
        if let Some(p) = goal.policies.iter().position(|p| p.code == code) {
            // The heading repeated on a new page: continue the same policy.
            self.policy = Some((goal_index, p));
            return;
        }
        goal.policies.push(PolicyDraft {
            code,
            title,
            vision: String::new(),
            rows: Vec::new(),
        });
        goal.map.policies.push(PolicyMap {
            at: Position::line(line.number),
            projects: Vec::new(),
        });
        self.policy = Some((goal_index, goal.policies.len() - 1));
    }

    fn vision_line(&mut self, line: &Line<'_>) {
        match (line.single_text(), self.policy) {
            (Some(text), Some((g, p))) => {
                let vision = &mut self.goals[g].policies[p].vision;
                if !vision.is_empty() {
                    vision.push('\n');
                }
                vision.push_str(text);
            }
            _ => self.ignored_line(line),
        }
    }

    fn table_line(&mut self, line: &Line<'_>) {
        let first = line.cell(0);
        let numbered = parse_count(first);
        if self.mode == Mode::Header {
            let looks_like_row =
                numbered.is_some() || (!first.is_empty() && !line.cell(1).is_empty());
            let name_only_row = first.is_empty() && !line.cell(1).is_empty();
            if !looks_like_row && !name_only_row {
                self.header.push(HeaderLine::of(line));
                return;
            }
            self.start_table(line);
            if self.mode == Mode::SkipTable {
                return;
            }
        }
        let Some(table) = self.table.clone() else {
            return;
        };
        let name = line.cell(table.name);
        if first.is_empty()
            && name.is_empty()
            && line.cell(table.summary.unwrap_or(table.name)).is_empty()
        {
            self.continuation_line(line, &table);
            return;
        }
        self.finish_project();
        let number = match numbered {
            Some(n) => n,
            None if first.is_empty() => {
                self.report.push(
                    Diagnostic::new(
                        Code::MissingNumber,
                        line.at(table.number),
                        format!("事業「{name}」の No がありません。"),
                        format!("project {name:?} has no number"),
                    )
                    .with_field("No"),
                );
                0
            }
            None => {
                self.report.push(
                    Diagnostic::new(
                        Code::BadNumber,
                        line.at(table.number),
                        format!("No「{first}」は 1 以上の整数ではありません。"),
                        format!("No {first:?} is not a whole number of 1 or more"),
                    )
                    .with_field("No"),
                );
                0
            }
        };
        self.project_line(line, number, &table);
    }

    fn start_table(&mut self, row: &Line<'_>) {
        let header = std::mem::take(&mut self.header);
        let lines: Vec<Line<'_>> = header
            .iter()
            .map(|h| Line {
                number: h.number,
                cells: h.cells.iter().map(String::as_str).collect(),
            })
            .collect();
        let header_lines: Vec<&Line<'_>> = lines.iter().collect();
        match Table::from_header(&header_lines) {
            Ok(table) => {
                self.check_years(&table);
                self.table = Some(table);
                self.table_width = 0;
                self.mode = Mode::Rows;
            }
            Err(diagnostic) => {
                self.report.push(diagnostic);
                self.table = None;
                self.mode = Mode::SkipTable;
            }
        }
        if self.policy.is_none() && self.mode == Mode::Rows {
            self.report.push(Diagnostic::new(
                Code::RowOutsideTable,
                Position::line(row.number),
                "表の前に施策の見出し（例: 施策 7-1 …）がありません。",
                "this table comes before any policy heading (e.g. 施策 7-1 …)",
            ));
            self.mode = Mode::SkipTable;
        }
    }

    /// Every table must state the same first year and span.
    fn check_years(&mut self, table: &Table) {
        match self.first_year {
            None => self.first_year = Some((table.cost_year, table.header_line)),
            Some((year, line)) if year != table.cost_year => self.report.push(
                Diagnostic::new(
                    Code::EditionMismatch,
                    Position::line(table.header_line),
                    format!(
                        "この表の事業費は {} ですが、{line} 行目の表は {} です。",
                        table.cost_year.label(),
                        year.label()
                    ),
                    format!(
                        "this table's cost is for FY{} but the table at line {line} is for FY{}",
                        table.cost_year.year(),
                        year.year()
                    ),
                )
                .with_field("年度"),
            ),
            Some(_) => {}
        }
        if let Some(years) = table.span_years {
            match self.span_years {
                None => self.span_years = Some((years, table.header_line)),
                Some((span, line)) if span != years => self.report.push(Diagnostic::new(
                    Code::EditionMismatch,
                    Position::line(table.header_line),
                    format!("この表は {years} か年の計画ですが、{line} 行目の表は {span} か年です。"),
                    format!("this table plans {years} years but the table at line {line} plans {span}"),
                ).with_field("年度")),
                Some(_) => {}
            }
        }
        for (_, year) in &table.plan_years {
            if self.last_plan_year.is_none_or(|y| *year > y) {
                self.last_plan_year = Some(*year);
            }
        }
    }

    fn project_line(&mut self, line: &Line<'_>, number: u32, table: &Table) {
        let rules = &self.context.rules;
        let mut map = ProjectMap {
            at: Position::line(line.number),
            fields: HashMap::new(),
        };
        map.fields.insert(Field::Number, line.at(table.number));
        map.fields.insert(Field::Name, line.at(table.name));
        if let Some(summary) = table.summary {
            map.fields.insert(Field::Summary, line.at(summary));
        }
        let summary_col = table.summary.unwrap_or(table.name);
        let tail: Vec<(usize, &str, Kind)> = line
            .non_empty()
            .filter(|(i, _)| *i > summary_col.max(table.name) && !table.is_amount_column(*i))
            .map(|(i, c)| (i, c, classify(c, rules)))
            .collect();
        let shift = column_shift(&tail, table);
        let mut status = None;
        let mut strategies = Vec::new();
        let mut departments = Vec::new();
        for &(i, cell, kind) in &tail {
            let expected = [Kind::Status, Kind::Strategy, Kind::Department]
                .into_iter()
                .find(|k| {
                    table
                        .column_of(*k)
                        .and_then(|c| c.checked_add_signed(shift))
                        == Some(i)
                });
            match (kind, expected) {
                (Kind::Status, _) | (Kind::Unknown, Some(Kind::Status)) if status.is_none() => {
                    status = Some(Status::parse(cell));
                    map.fields.insert(Field::Status, line.at(i));
                }
                (Kind::Strategy, _) | (Kind::Unknown, Some(Kind::Strategy)) => {
                    map.fields
                        .entry(Field::Strategy)
                        .or_insert_with(|| line.at(i));
                    for raw in split_codes(cell) {
                        match StrategyCode::parse(raw) {
                            Some(code) => strategies.push(StrategyLink {
                                code,
                                raw: raw.to_owned(),
                            }),
                            None => self.report.push(
                                Diagnostic::new(
                                    Code::BadStrategyCode,
                                    line.at(i),
                                    format!(
                                        "地方創生事業の番号「{raw}」が読めません（例: Ⅲ(4)）。"
                                    ),
                                    format!(
                                        "cannot read strategy code {raw:?} (expected e.g. Ⅲ(4))"
                                    ),
                                )
                                .with_field("地方創生事業"),
                            ),
                        }
                    }
                }
                (Kind::Department, _) | (Kind::Unknown, Some(Kind::Department)) => {
                    map.fields
                        .entry(Field::Department)
                        .or_insert_with(|| line.at(i));
                    departments.extend(cell.split_whitespace().map(str::to_owned));
                }
                _ => self.ignored_cell(line, i, cell),
            }
        }
        let summary = table.summary.map(|c| line.cell(c)).unwrap_or("").to_owned();
        self.table_width = self.table_width.max(line.cells.len());
        let mut draft = ProjectDraft {
            number,
            name: line.cell(table.name).to_owned(),
            summary,
            status: status.unwrap_or(Status::Other(String::new())),
            departments,
            strategies,
            map,
            amounts: Vec::new(),
            cells: line.cells.len(),
        };
        draft.amounts.push(amount_line(line, table));
        self.project = Some(draft);
    }

    fn continuation_line(&mut self, line: &Line<'_>, table: &Table) {
        let Some(project) = self.project.as_mut() else {
            self.ignored_line(line);
            return;
        };
        let amounts = amount_line(line, table);
        let others: Vec<(usize, &str)> = line
            .non_empty()
            .filter(|(i, _)| !table.is_amount_column(*i))
            .collect();
        if amounts.main.is_none() && amounts.side.is_none() {
            self.ignored_line(line);
            return;
        }
        project.amounts.push(amounts);
        project.cells = line.cells.len();
        for (i, cell) in others {
            self.ignored_cell(line, i, cell);
        }
    }

    fn ignored_cell(&mut self, line: &Line<'_>, column: usize, cell: &str) {
        self.report.push(Diagnostic::new(
            Code::IgnoredCell,
            line.at(column),
            format!(
                "{} 列目の「{cell}」はどの項目にも当たらないため読み飛ばしました。",
                column + 1
            ),
            format!(
                "cell {} ({cell:?}) matches no field and was not read",
                column + 1
            ),
        ));
    }

    /// Files the project being read under the current policy. At the end of the file, a
    /// project whose amounts stop early, or whose last line has fewer cells than the
    /// table's rows, means the file was cut short.
    fn finish_project_at(&mut self, end_of_file: Option<&Line<'_>>) {
        let Some(draft) = self.project.take() else {
            return;
        };
        let (Some(table), Some((g, p))) = (self.table.clone(), self.policy) else {
            return;
        };
        let cut_short = end_of_file.is_some_and(|last| {
            self.table_width > 0
                && draft.cells < self.table_width
                && last.cells.len() == draft.cells
        });
        if cut_short && let Some(last) = end_of_file {
            self.report.push(Diagnostic::new(
                Code::Truncated,
                Position::line(last.number),
                format!(
                    "ファイルが行の途中で終わっています（{} 列のはずが {} 列）。ファイルが切れていないか確認してください。",
                    self.table_width, draft.cells
                ),
                format!(
                    "the file ends in the middle of a line ({} cells instead of {}); check whether it was cut short",
                    draft.cells, self.table_width
                ),
            ));
        }
        let mut map = draft.map;
        let at_end = end_of_file.is_some() && !cut_short;
        let cost = self.read_amounts(&draft.amounts, &table, &mut map, at_end);
        let goal = &mut self.goals[g];
        goal.policies[p].rows.push(Row {
            number: draft.number,
            name: draft.name,
            summary: draft.summary,
            status: draft.status,
            departments: draft.departments,
            strategies: draft.strategies,
            cost,
        });
        goal.map.policies[p].projects.push(map);
    }

    fn finish_project(&mut self) {
        self.finish_project_at(None);
    }

    /// Reads a stacked amount cell. Line 1 holds the total, line 2 特定財源, line 3
    /// 一般財源; a separate 一般財源 column may hold 一般財源 on line 2 (side by side) or,
    /// unusually, on line 1 (then the reading is flagged for a person to check).
    fn read_amounts(
        &mut self,
        lines: &[AmountLine],
        table: &Table,
        map: &mut ProjectMap,
        at_end_of_file: bool,
    ) -> Option<YearCost> {
        let year = table.cost_year;
        let first = lines.first()?;
        let mut read = |cell: &Option<(usize, String)>,
                        line: u32,
                        field: Field,
                        report: &mut Report|
         -> Option<Amount> {
            let (column, text) = cell.as_ref()?;
            let position = Position::at(line, u32::try_from(column + 1).unwrap_or(u32::MAX));
            map.fields.insert(field, position.clone());
            match parse_amount(text, table.unit) {
                Ok(amount) => Some(amount),
                Err(err) => {
                    report.push(
                        Diagnostic::new(
                            Code::NotANumber,
                            position,
                            format!("「{text}」は金額として読めません（{err}）。"),
                            format!("{text:?} is not an amount ({err})"),
                        )
                        .with_field(field.label()),
                    );
                    None
                }
            }
        };
        let mut report = Report::default();
        let total = read(&first.main, first.line, Field::Total(year), &mut report);
        let earmarked = lines
            .get(1)
            .and_then(|l| read(&l.main, l.line, Field::Earmarked(year), &mut report));
        let mut general_candidates: Vec<(u32, Amount)> = Vec::new();
        if let Some(amount) = read(&first.side, first.line, Field::General(year), &mut report) {
            general_candidates.push((first.line, amount));
            if amount.is_some() {
                let (t, g) = (show(total.flatten()), show(amount));
                report.push(Diagnostic::new(
                    Code::AmbiguousAmounts,
                    Position::line(first.line),
                    format!(
                        "1行に2つの金額があります。見出しの列位置から 事業費 {t}・一般財源 {g} と読み、\
                         次の行を特定財源としました。原本で確認してください。"
                    ),
                    format!(
                        "two amounts on one line: read by the header's columns as total {t} and general \
                         funding {g}, with the next line as earmarked funding; check against the original"
                    ),
                ));
            }
        }
        for (index, field_line) in lines.iter().enumerate().skip(1) {
            if let Some(amount) = read(
                &field_line.side,
                field_line.line,
                Field::General(year),
                &mut report,
            ) {
                general_candidates.push((field_line.line, amount));
            }
            if index == 2
                && let Some(amount) = read(
                    &field_line.main,
                    field_line.line,
                    Field::General(year),
                    &mut report,
                )
            {
                general_candidates.push((field_line.line, amount));
            }
        }
        if lines.len() > 3 {
            let extra = &lines[3];
            report.push(
                Diagnostic::new(
                    Code::ConflictingAmounts,
                    Position::line(extra.line),
                    "金額の行が4行以上あります（事業費・特定財源・一般財源の3行まで）。",
                    "more than three amount lines (total, earmarked, general)",
                )
                .with_field("事業費"),
            );
        }
        let general = match general_candidates.as_slice() {
            [] => None,
            [(_, amount)] => Some(*amount),
            [(first_line, first_amount), rest @ ..] => {
                if let Some((line, other)) = rest.iter().find(|(_, a)| a != first_amount) {
                    report.push(
                        Diagnostic::new(
                            Code::ConflictingAmounts,
                            Position::line(*line),
                            format!(
                                "一般財源が {first_line} 行目では {} 、{line} 行目では {} です。",
                                show(*first_amount),
                                show(*other)
                            ),
                            format!(
                                "general funding is {} at line {first_line} but {} at line {line}",
                                show(*first_amount),
                                show(*other)
                            ),
                        )
                        .with_field("一般財源"),
                    );
                }
                Some(*first_amount)
            }
        };
        let total = total.flatten();
        let earmarked_known = earmarked.is_some();
        let general_known = general.is_some();
        let all_dashes =
            total.is_none() && earmarked.flatten().is_none() && general.flatten().is_none();
        if !all_dashes && (!earmarked_known || !general_known) && !report.has_errors() {
            let line = lines.last().map_or(first.line, |l| l.line);
            if at_end_of_file {
                report.push(Diagnostic::new(
                    Code::Truncated,
                    Position::line(line),
                    "ファイルが事業の途中で終わっています（特定財源・一般財源の行がありません）。ファイルが切れていないか確認してください。",
                    "the file ends inside a project (its 特定財源 and 一般財源 lines are missing); check whether the file was cut short",
                ));
            }
            // Otherwise the common checks report the incomplete split (missing-funding-split),
            // as for every layout.
        }
        let unreadable = report
            .diagnostics
            .iter()
            .any(|d| d.code == Code::NotANumber);
        self.report.extend(report.diagnostics);
        if unreadable {
            // An amount that could not be read is unknown, not "no amount": keep no cost
            // for the year rather than one whose sums would raise misleading follow-on errors.
            return None;
        }
        Some(YearCost {
            year,
            total,
            earmarked: earmarked.flatten(),
            general: general.flatten(),
            earmarked_breakdown: Vec::new(),
        })
    }

    fn goal_index(&mut self, number: u32, line: u32) -> usize {
        match self.goals.iter().position(|g| g.number == number) {
            Some(index) => index,
            None => {
                self.goals.push(GoalDraft::new(number, line));
                self.goals.len() - 1
            }
        }
    }

    fn finish(mut self, source_name: &str) -> Parsed {
        let projects: usize = self
            .goals
            .iter()
            .flat_map(|g| &g.policies)
            .map(|p| p.rows.len())
            .sum();
        if projects == 0 && !self.report.has_errors() {
            self.report.push(Diagnostic::new(
                Code::NotAPlan,
                Position::File,
                "事業の行が1つもありません。実施計画の表を含むファイルか確認してください。",
                "no project rows found; check that the file contains the plan tables",
            ));
        }
        let span = self.span();
        let Some(span) = span else {
            return Parsed {
                editions: Vec::new(),
                report: self.report,
            };
        };
        let municipality = self
            .context
            .municipality
            .clone()
            .unwrap_or_else(Municipality::unspecified);
        let mut goals = Vec::with_capacity(self.goals.len());
        let mut goal_maps = Vec::with_capacity(self.goals.len());
        for draft in self.goals {
            let policies = draft
                .policies
                .into_iter()
                .map(|policy| Policy {
                    code: policy.code,
                    title: policy.title,
                    vision: policy.vision,
                    projects: policy
                        .rows
                        .into_iter()
                        .map(|row| Project {
                            id: ProjectId::derived(&municipality, span, policy.code, row.number),
                            number: row.number,
                            name: row.name,
                            summary: row.summary,
                            status: row.status,
                            departments: row.departments,
                            strategies: row.strategies,
                            costs: row.cost.into_iter().collect(),
                        })
                        .collect(),
                })
                .collect();
            goals.push(Goal {
                number: draft.number,
                title: draft.title,
                field: draft.field,
                policies,
            });
            goal_maps.push(draft.map);
        }
        let edition = Edition {
            title: self
                .context
                .title
                .clone()
                .unwrap_or_else(|| Edition::default_title(&municipality, span)),
            municipality,
            span,
            source: source_name.to_owned(),
            state: crate::model::EditionState::Published,
            goals,
        };
        let map = SourceMap {
            edition: self.first_header.map_or(Position::File, Position::line),
            goals: goal_maps,
        };
        Parsed {
            editions: vec![ReadEdition {
                edition,
                map,
                population: None,
                changes: None,
            }],
            report: self.report,
        }
    }

    /// The edition's span: the cost year plus the plan's length in years, checked against
    /// what the user said (`--edition`).
    fn span(&mut self) -> Option<EditionSpan> {
        let (first, line) = self.first_year?;
        let derived = match (self.span_years, self.last_plan_year) {
            (Some((years, _)), _) => EditionSpan::starting(first, years),
            (None, Some(last)) => EditionSpan::new(first, last),
            (None, None) => self.context.span.filter(|s| s.first() == first),
        };
        let Some(derived) = derived else {
            self.report.push(Diagnostic::new(
                Code::EditionMismatch,
                Position::line(line),
                "計画期間が読み取れません。--edition R2-R4 のように指定してください。",
                "cannot tell the plan period from the tables; pass it with --edition (e.g. R2-R4)",
            ));
            return None;
        };
        if let Some(expected) = self.context.span
            && expected != derived
        {
            self.report.push(Diagnostic::new(
                Code::EditionMismatch,
                Position::line(line),
                format!(
                    "表の計画期間は {} ですが、{} が指定されました。",
                    derived.long_label(),
                    expected.long_label()
                ),
                format!("the tables cover {derived} but the command line says {expected}"),
            ));
        }
        Some(derived)
    }
}

/// The amount cells of a line, by the table's columns.
fn amount_line(line: &Line<'_>, table: &Table) -> AmountLine {
    let cell = |column: usize| {
        let text = line.cell(column);
        (!text.is_empty()).then(|| (column, text.to_owned()))
    };
    AmountLine {
        line: line.number,
        main: cell(table.cost),
        side: table.general.and_then(cell),
    }
}

/// How far a row's cells sit from their header columns: the offset shared by the cells
/// recognised by content (0 when none is recognised or they disagree without a majority).
fn column_shift(tail: &[(usize, &str, Kind)], table: &Table) -> isize {
    let mut votes: HashMap<isize, usize> = HashMap::new();
    for &(i, _, kind) in tail {
        if let Some(column) = table.column_of(kind) {
            let (Ok(i), Ok(column)) = (isize::try_from(i), isize::try_from(column)) else {
                continue;
            };
            *votes.entry(i - column).or_default() += 1;
        }
    }
    votes
        .into_iter()
        .max_by_key(|(shift, count)| (*count, *shift == 0))
        .map_or(0, |(shift, _)| shift)
}

fn show(amount: Amount) -> String {
    amount.map_or_else(|| "-".to_owned(), |m| m.grouped())
}

#[cfg(test)]
#[path = "pdf_text_tests.rs"]
mod tests;
