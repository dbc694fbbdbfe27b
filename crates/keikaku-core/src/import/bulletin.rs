//! Plan lists as towns publish them in their bulletins (広報) and budget summaries: one
//! project per line, a mark in front, the amount at the end, under headings.
//!
//! ```text
//! 令和6年度 当初予算の主な事業
//! ◆子育て・教育
//! ○子ども医療費助成事業〔継続〕 1億1,231万円
//! ・学校給食費支援事業(拡充) 499万2千円
//!   市民1人当たり約1,894円
//! ■道路・交通
//! ▽市道改良事業〔新規〕（建設課） 1億7,400万5千円
//! ```
//!
//! What this layout makes of it, a single-year edition (a draft, like every import that
//! creates an edition):
//!
//! - The fiscal year comes from the title lines (`令和6年度`, `R6`, `2024年度`), or from
//!   `--edition`; the two must agree.
//! - A line ending in an amount in 円 (`1億1,231万円`, `499万2千円`, `3,500千円`) is a
//!   project: its amount becomes exact 千円, refused at its line when it is not a whole
//!   number of 千円. Its 区分 is the marker in brackets (`〔新規〕`, `(拡充)`, `【継続】`);
//!   a line without one is taken as 継続 (the marks flag what is not) and the report says
//!   how many. A bracketed name ending in 課・室・係… is its 担当課.
//! - A line with a mark (`◆`, `■`, `○`…) and no amount is a heading: the headings
//!   directly above projects become policies (1-1, 1-2, … in order); a heading directly
//!   above another heading becomes a goal.
//! - Figures per person (`市民1人当たり約1,894円`) are not costs and are passed over.
//! - A heading with no project after it at the end of the text (a section cut off) is
//!   reported and not counted.

use super::{Context, Layout, Parsed, ReadEdition};
use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, EditionState, Goal, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::{AmountError, Unit, parse_amount};
use crate::municipality::Municipality;
use crate::source::{Source, decode_text};
use crate::status::Status;
use crate::validate::{Field, GoalMap, PolicyMap, ProjectMap, SourceMap};

/// The layout of bulletin-style plan lists.
pub struct BulletinList;

/// Marks that start a heading or a project line.
const MARKS: &[char] = &[
    '◆', '◇', '■', '□', '●', '○', '◎', '・', '▽', '▼', '△', '▲', '◯', '☆', '★', '◦', '※',
];

/// Words that make an amount a figure per person, not a cost.
const PER_PERSON: &[&str] = &["当たり", "あたり", "1人", "一人"];

/// Department name endings (a bracketed 担当課 after the project name).
const DEPARTMENT_ENDINGS: &[&str] = &["課", "室", "係", "局", "センター", "事務所", "委員会"];

/// Lines that are neither headings, projects nor per-person figures, from which, when they
/// outnumber the projects, the file is refused as mostly not a plan list.
const MOSTLY_NOT_A_LIST: usize = 100;

impl Layout for BulletinList {
    fn name(&self) -> &'static str {
        "bulletin"
    }

    fn description(&self) -> &'static str {
        "a plan list as bulletins publish it: ○事業名〔新規〕 1億1,231万円 under ◆/■ headings; a single-year edition (draft)"
    }

    fn sniff(&self, source: &Source<'_>, context: &Context) -> bool {
        let Ok(text) = decode_text(source.bytes, context.encoding) else {
            return false;
        };
        if text.trim_start().starts_with(['{', '[']) {
            return false;
        }
        text.lines()
            .filter(|l| {
                matches!(classify(l), Kind::Project(_) | Kind::Ambiguous(_)) && starts_with_mark(l)
            })
            .take(2)
            .count()
            == 2
    }

    fn names_municipality(&self) -> bool {
        false
    }

    fn near_miss(&self, source: &Source<'_>, context: &Context) -> Option<super::NearMiss> {
        let text = decode_text(source.bytes, context.encoding).ok()?;
        let marked: Vec<&str> = text.lines().filter(|l| starts_with_mark(l)).collect();
        let projects = marked
            .iter()
            .filter(|l| matches!(classify(l), Kind::Project(_)))
            .count();
        if marked.len() < 2 {
            return None;
        }
        // Marked lines ending in a bare number: amounts without their unit.
        let bare = marked
            .iter()
            .filter(|l| {
                l.trim_end()
                    .ends_with(|c: char| c.is_ascii_digit() || ('０'..='９').contains(&c))
            })
            .count();
        Some(super::NearMiss {
            score: 1 + usize::from(bare > 0),
            ja: format!(
                "印（○・◆ など）で始まる行 {} 行のうち、行末に円の金額（1億1,231万円、499万2千円 など）がある事業の行が {projects} 行しかありません。2行以上必要です{}",
                marked.len(),
                if bare > 0 {
                    format!("。{bare} 行は行末の数に「円」などの単位がありません")
                } else {
                    String::new()
                }
            ),
            en: format!(
                "of {} lines starting with a mark (○, ◆…), only {projects} end in an amount in 円 (1億1,231万円, 499万2千円…); at least 2 are needed{}",
                marked.len(),
                if bare > 0 {
                    format!("; {bare} end in a number without a unit such as 円")
                } else {
                    String::new()
                }
            ),
        })
    }

    fn read(&self, source: &Source<'_>, context: &Context) -> Parsed {
        let mut report = Report::default();
        let text = match decode_text(source.bytes, context.encoding) {
            Ok(text) => text,
            Err(diagnostic) => {
                report.push(diagnostic);
                return Parsed {
                    editions: Vec::new(),
                    report,
                };
            }
        };
        let lines: Vec<(u32, Kind)> = text
            .lines()
            .enumerate()
            .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), classify(l)))
            .collect();
        let Some(year) = fiscal_year(&lines, context, &mut report) else {
            return Parsed {
                editions: Vec::new(),
                report,
            };
        };
        let municipality = context
            .municipality
            .clone()
            .unwrap_or_else(Municipality::unspecified);
        let title = lines
            .iter()
            .find_map(|(_, k)| match k {
                Kind::Text(t) => Some(t.clone()),
                _ => None,
            })
            .unwrap_or_else(|| format!("{}年度 主な事業", year.label()));
        let Some(span) = EditionSpan::new(year, year) else {
            return Parsed {
                editions: Vec::new(),
                report,
            };
        };
        let builder = Builder::new(&municipality, span, &title);
        let Some(edition) = builder.build(&lines, year, &mut report) else {
            return Parsed {
                editions: Vec::new(),
                report,
            };
        };
        let (mut edition, map) = edition;
        edition.source = source.name.to_owned();
        Parsed {
            editions: vec![ReadEdition {
                edition,
                map,
                population: None,
                changes: None,
            }],
            report,
        }
    }
}

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Blank,
    /// A line with a mark and no amount.
    Heading(String),
    /// A line ending in an amount.
    Project(Item),
    /// A figure per person: not a cost.
    PerPerson,
    /// A line with more than one amount: which one is the project's cost is not guessed.
    Ambiguous(Vec<String>),
    /// Other text (a title, an explanation).
    Text(String),
}

/// A project line, before its amount is converted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    name: String,
    status: Option<Status>,
    department: Option<String>,
    /// The amount as written (`1億1,231万円`).
    amount: String,
    /// The 1-based character column where the amount starts.
    amount_column: u32,
}

fn starts_with_mark(line: &str) -> bool {
    line.trim_start().starts_with(MARKS)
}

fn classify(raw: &str) -> Kind {
    // Full-width digits are read as digits; every other character stays as written.
    let line = digits_normalised(raw);
    let line = line.trim();
    if line.is_empty() {
        return Kind::Blank;
    }
    let marked = line.starts_with(MARKS);
    let body = line.trim_start_matches(MARKS).trim();
    // A figure per person in brackets beside a project's cost is not a second amount.
    let (body, had_per_person) = without_per_person(body);
    let body = body.as_str();
    let per_person = had_per_person || PER_PERSON.iter().any(|w| body.contains(w));
    if let Some((before, amount)) = trailing_amount(body) {
        if PER_PERSON.iter().any(|w| before.contains(w)) {
            return Kind::PerPerson;
        }
        if let Some(other) = first_amount(before) {
            return Kind::Ambiguous(vec![other.to_owned(), amount.to_owned()]);
        }
        let (name, status, department) = name_parts(before);
        if !name.is_empty() {
            // The 1-based character column where the amount starts.
            let full = digits_normalised(raw);
            let column = full
                .rfind(amount)
                .map_or(1, |i| full[..i].chars().count() + 1);
            return Kind::Project(Item {
                name,
                status,
                department,
                amount: amount.to_owned(),
                amount_column: u32::try_from(column).unwrap_or(1),
            });
        }
    }
    if per_person {
        return Kind::PerPerson;
    }
    if marked {
        Kind::Heading(body.trim_matches(['【', '】', ' ']).trim().to_owned())
    } else {
        Kind::Text(line.to_owned())
    }
}

/// `text` with full-width digits, commas and minus signs as ASCII.
fn digits_normalised(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '０'..='９' => {
                char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
            }
            '，' => ',',
            '−' | '－' => '-',
            c => c,
        })
        .collect()
}

/// `text` without bracketed parts that speak of a figure per person, and whether it had any.
fn without_per_person(text: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut found = false;
    while let Some(open) = rest.find(['(', '（']) {
        let Some(len) = rest[open..].find([')', '）']) else {
            break;
        };
        let part = &rest[open..open + len];
        let end = open + len + rest[open + len..].chars().next().map_or(0, char::len_utf8);
        if PER_PERSON.iter().any(|w| part.contains(w)) {
            out.push_str(&rest[..open]);
            found = true;
        } else {
            out.push_str(&rest[..end]);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    (out.trim_end().to_owned(), found)
}

/// Characters of an amount in 円 (before its final 円).
fn amount_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, ',' | '億' | '万' | '千' | '百')
}

/// The first amount in 円 inside `text` (`1,000万円` in `C事業 1,000万円（前年度`), if any.
fn first_amount(text: &str) -> Option<&str> {
    let mut start = None;
    for (i, c) in text.char_indices() {
        match start {
            None if c.is_ascii_digit() => start = Some(i),
            Some(s) if c == '円' => return Some(&text[s..i + c.len_utf8()]),
            Some(_) if amount_char(c) => {}
            _ => start = None,
        }
    }
    None
}

/// Splits `text` into what comes before a closing amount in 円 and that amount (digits,
/// separators and 億/万/千/百, ending in 円, with its `△`/`▲`/`-` sign), if it ends in one.
fn trailing_amount(text: &str) -> Option<(&str, &str)> {
    let body = text.trim_end().trim_end_matches([')', '）']);
    if !body.ends_with('円') {
        return None;
    }
    let first = body
        .char_indices()
        .rev()
        .take_while(|(_, c)| amount_char(*c) || *c == '円')
        .last()
        .map(|(i, _)| i)?;
    let mut start = first + (body[first..].len() - body[first..].trim_start_matches(',').len());
    if !body[start..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // A sign just before the number belongs to it: a negative amount, refused by the checks.
    let head = body[..start].trim_end();
    if let Some(sign) = head.chars().last()
        && matches!(sign, '△' | '▲' | '-')
    {
        start = head.len() - sign.len_utf8();
    }
    let amount = &body[start..];
    let before = body[..start]
        .trim_end_matches([
            '約', '(', '（', ' ', '\u{3000}', '…', '‥', '.', ':', '：', '―',
        ])
        .trim_end();
    Some((before, amount))
}

/// The name of a project line with its 区分 mark and bracketed 担当課 taken out.
fn name_parts(text: &str) -> (String, Option<Status>, Option<String>) {
    let mut name = String::new();
    let mut status = None;
    let mut department = None;
    let mut rest = text;
    while let Some(open) = rest.find(['〔', '(', '【', '<', '[', '〈', '（', '［', '＜']) {
        let close_char = match rest[open..].chars().next() {
            Some('〔') => '〕',
            Some('(') => ')',
            Some('【') => '】',
            Some('<') => '>',
            Some('[') => ']',
            Some('〈') => '〉',
            Some('（') => '）',
            Some('［') => '］',
            _ => '＞',
        };
        let Some(len) = rest[open..].find(close_char) else {
            break;
        };
        let inner = rest[open..open + len]
            .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '・')
            .trim();
        let word = Status::parse(inner);
        if status.is_none() && !matches!(word, Status::Other(_)) {
            status = Some(word);
        } else if department.is_none() && DEPARTMENT_ENDINGS.iter().any(|e| inner.ends_with(e)) {
            department = Some(inner.to_owned());
        } else {
            name.push_str(&rest[..open + len + close_char.len_utf8()]);
            rest = &rest[open + len + close_char.len_utf8()..];
            continue;
        }
        name.push_str(&rest[..open]);
        rest = &rest[open + len + close_char.len_utf8()..];
    }
    name.push_str(rest);
    (name.trim().to_owned(), status, department)
}

/// The edition's year: from the title lines (before the first heading or project), or from
/// `--edition`; refused when they disagree or neither says.
fn fiscal_year(
    lines: &[(u32, Kind)],
    context: &Context,
    report: &mut Report,
) -> Option<FiscalYear> {
    let stated = lines
        .iter()
        .take_while(|(_, k)| matches!(k, Kind::Text(_) | Kind::Blank))
        .find_map(|(n, k)| match k {
            Kind::Text(t) => super::own::heading::years_in(t).0.first().map(|y| (*n, *y)),
            _ => None,
        });
    match (stated, context.span) {
        (Some((line, year)), Some(span)) if span.first() != year || span.last() != year => {
            report.push(Diagnostic::new(
                Code::EditionMismatch,
                Position::line(line),
                format!(
                    "文書の年度（{}）と指定された計画期間 {span} が食い違います。",
                    year.label()
                ),
                format!(
                    "the document is for {} but the edition given is {span}",
                    year.short()
                ),
            ));
            None
        }
        (Some((_, year)), _) => Some(year),
        (None, Some(span)) if span.first() == span.last() => Some(span.first()),
        (None, _) => {
            report.push(Diagnostic::new(
                Code::BadHeader,
                Position::File,
                "一覧の年度が分かりません。表題に年度（令和6年度、R6、2024年度 など）を書くか、--edition R6-R6 のように指定してください。",
                "the list names no fiscal year: put one in its title (令和6年度, R6, 2024年度…) or pass --edition, e.g. --edition R6-R6",
            ));
            None
        }
    }
}

/// Builds the edition from the classified lines.
struct Builder {
    edition: Edition,
    map: SourceMap,
    /// Projects taken as 継続 for want of a mark.
    unmarked: usize,
    /// Lines that are none of the list's parts.
    other: usize,
    /// A goal heading waiting for its first policy (a goal is made only with one).
    goal_heading: Option<(String, u32)>,
    projects: usize,
}

impl Builder {
    fn new(municipality: &Municipality, span: EditionSpan, title: &str) -> Builder {
        Builder {
            edition: Edition {
                municipality: municipality.clone(),
                span,
                title: title.to_owned(),
                source: String::new(),
                state: EditionState::Draft,
                goals: Vec::new(),
            },
            map: SourceMap::default(),
            unmarked: 0,
            other: 0,
            goal_heading: None,
            projects: 0,
        }
    }

    /// A goal heading: it becomes a goal with its first policy. One that never gets a
    /// policy (the text ended, or another goal heading came) is reported and not counted.
    fn goal_heading(&mut self, title: &str, line: u32, report: &mut Report) {
        if let Some((waiting, at)) = self.goal_heading.replace((title.to_owned(), line)) {
            report.push(cut_off(&waiting, at));
        }
    }

    fn goal(&mut self, title: &str, line: u32) {
        let number = u32::try_from(self.edition.goals.len() + 1).unwrap_or(u32::MAX);
        self.edition.goals.push(Goal {
            number,
            title: title.to_owned(),
            field: String::new(),
            policies: Vec::new(),
        });
        self.map.goals.push(GoalMap {
            at: Position::line(line),
            policies: Vec::new(),
        });
    }

    fn policy(&mut self, title: &str, line: u32) {
        if let Some((goal, at)) = self.goal_heading.take() {
            self.goal(&goal, at);
        } else if self.edition.goals.is_empty() {
            let goal_title = self.edition.title.clone();
            self.goal(&goal_title, line);
        }
        let g = self.edition.goals.len() - 1;
        let goal = &mut self.edition.goals[g];
        let number = u32::try_from(goal.policies.len() + 1).unwrap_or(u32::MAX);
        let Some(code) = PolicyCode::new(goal.number, number) else {
            return;
        };
        goal.policies.push(Policy {
            code,
            title: title.to_owned(),
            vision: String::new(),
            projects: Vec::new(),
        });
        self.map.goals[g].policies.push(PolicyMap {
            at: Position::line(line),
            projects: Vec::new(),
        });
    }

    fn project(&mut self, item: &Item, line: u32, year: FiscalYear, report: &mut Report) {
        let needs_policy = self
            .edition
            .goals
            .last()
            .is_none_or(|g| g.policies.is_empty());
        if needs_policy {
            let title = self.edition.title.clone();
            self.policy(&title, line);
        }
        let amount_at = Position::at(line, item.amount_column);
        let total = match parse_amount(&item.amount, Unit::Yen) {
            Ok(amount) => amount,
            Err(err) => {
                let (ja, en) = match err {
                    AmountError::Fractional(_) => (
                        format!(
                            "金額 {} は千円単位で割り切れません。keikaku は千円単位で保存します（丸めません）。",
                            item.amount
                        ),
                        format!(
                            "the amount {} is not a whole number of 千円 (keikaku stores 千円 and never rounds)",
                            item.amount
                        ),
                    ),
                    other => (
                        format!("金額 {} を読めません（{other}）。", item.amount),
                        format!("cannot read the amount {} ({other})", item.amount),
                    ),
                };
                report.push(
                    Diagnostic::new(Code::NotANumber, amount_at.clone(), ja, en)
                        .with_field("事業費"),
                );
                None
            }
        };
        let status = item.status.clone().unwrap_or_else(|| {
            self.unmarked += 1;
            Status::Continuing
        });
        let g = self.edition.goals.len() - 1;
        let goal = &mut self.edition.goals[g];
        let p = goal.policies.len() - 1;
        let policy = &mut goal.policies[p];
        let number = u32::try_from(policy.projects.len() + 1).unwrap_or(u32::MAX);
        policy.projects.push(Project {
            id: ProjectId::derived(
                &self.edition.municipality,
                self.edition.span,
                policy.code,
                number,
            ),
            number,
            name: item.name.clone(),
            summary: String::new(),
            status,
            departments: item.department.iter().cloned().collect(),
            strategies: Vec::new(),
            costs: vec![YearCost {
                total,
                ..YearCost::empty(year)
            }],
        });
        let mut fields = std::collections::HashMap::new();
        fields.insert(Field::Total(year), amount_at);
        self.map.goals[g].policies[p].projects.push(ProjectMap {
            at: Position::line(line),
            fields,
        });
        self.projects += 1;
    }

    fn build(
        mut self,
        lines: &[(u32, Kind)],
        year: FiscalYear,
        report: &mut Report,
    ) -> Option<(Edition, SourceMap)> {
        // A heading waits until the next line says what it is: projects make it a policy,
        // another heading a goal.
        let mut pending: Option<(String, u32)> = None;
        let mut started = false;
        for (line, kind) in lines {
            match kind {
                Kind::Blank | Kind::PerPerson => {}
                Kind::Ambiguous(amounts) => {
                    started = true;
                    report.push(
                        Diagnostic::new(
                            Code::ConflictingAmounts,
                            Position::line(*line),
                            format!(
                                "この行には金額が2つ以上あります（{}）。どれが事業費か分からないため読みません。1行に事業費だけを書いてください。",
                                amounts.join("、")
                            ),
                            format!(
                                "this line holds more than one amount ({}): which one is the project's cost is not guessed; keep only the cost on the line",
                                amounts.join(", ")
                            ),
                        )
                        .with_field("事業費"),
                    );
                }
                Kind::Text(_) => self.other += usize::from(started),
                Kind::Heading(title) => {
                    started = true;
                    if let Some((goal, at)) = pending.take() {
                        self.goal_heading(&goal, at, report);
                    }
                    pending = Some((title.clone(), *line));
                }
                Kind::Project(item) => {
                    started = true;
                    if let Some((policy, at)) = pending.take() {
                        self.policy(&policy, at);
                    }
                    self.project(item, *line, year, report);
                }
            }
        }
        if let Some((title, line)) = pending {
            report.push(cut_off(&title, line));
        }
        if let Some((goal, line)) = self.goal_heading.take() {
            report.push(cut_off(&goal, line));
        }
        if self.projects == 0 {
            report.push(Diagnostic::new(
                Code::NotAPlan,
                Position::File,
                "事業の行（○事業名 1億1,231万円 のように、行末に円の金額がある行）が一つもありません。",
                "no project lines (a line ending in an amount in 円, such as ○事業名 1億1,231万円)",
            ));
            return None;
        }
        if self.other >= MOSTLY_NOT_A_LIST && self.other > self.projects {
            report.push(Diagnostic::new(
                Code::NotAPlan,
                Position::File,
                format!(
                    "事業 {} 件に対して、見出しでも事業でもない行が {} 行あります。ファイルの大部分が事業の一覧ではないため、取り込みません。",
                    self.projects, self.other
                ),
                format!(
                    "{} lines are neither headings nor projects, against {} projects: the file is mostly not a plan list and is refused",
                    self.other, self.projects
                ),
            ));
            return None;
        }
        if self.unmarked > 0 {
            report.push(Diagnostic::new(
                Code::AssumedStatus,
                Position::File,
                format!(
                    "区分の印（〔新規〕・(拡充) など）のない事業 {} 件を「継続」としました。違う事業は区分を直してください。",
                    self.unmarked
                ),
                format!(
                    "{} project(s) without a 区分 mark (〔新規〕, (拡充)…) were taken as 継続; correct any that are not",
                    self.unmarked
                ),
            ));
        }
        Some((self.edition, self.map))
    }
}

fn cut_off(title: &str, line: u32) -> Diagnostic {
    Diagnostic::new(
        Code::CutOff,
        Position::line(line),
        format!(
            "見出し「{title}」の後に事業がありません（文書がここで切れている可能性があります）。この見出しは数えません。"
        ),
        format!(
            "the heading {title:?} has no project after it (the text may be cut off here); it is not counted"
        ),
    )
}

#[cfg(test)]
#[path = "bulletin_tests.rs"]
mod tests;
