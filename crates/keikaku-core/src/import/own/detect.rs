//! Finding the layout of a town's own sheet: the heading rows below any title rows (one, two
//! or three rows, merged cells read as a person sees them), what each column is, the fiscal
//! years and the unit. The result is a [`Mapping`]; the mapping file's [`Overrides`] replace
//! any part of it.
//!
//! Contradictions are reported, never resolved by a guess: two years over one column, two
//! columns for one field, units that disagree.

use std::collections::BTreeSet;

use super::amount::SheetUnit;
use super::heading::{Named, Target, named, normalise, target_label, years_in};
use super::mapping::{MappedColumn, Mapping, Note, Overrides, UnitSource};
use super::table::Table;
use crate::diagnostic::{Code, Diagnostic, Position, Report};
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::sheet::{AmountField, cell_name};

/// How far down the heading row is looked for.
const SEARCH_ROWS: usize = 60;
/// The most heading rows one table has.
const MAX_HEADING_ROWS: usize = 3;

/// What a heading cell says.
struct Reading {
    years: Vec<FiscalYear>,
    named: Option<Named>,
    /// Only years, nothing else.
    only_years: bool,
}

fn read_heading(text: &str) -> Reading {
    let (years, rest) = years_in(text);
    let rest = normalise(&rest);
    Reading {
        only_years: !years.is_empty() && rest.is_empty(),
        named: named(&rest),
        years,
    }
}

/// True when row `row` reads as a heading row: each non-empty cell is a known heading, a
/// year, or repeats the cell beside it in `other` (a merged heading), and one names a year or
/// an amount. A row `above` the headings needs two different texts: one text over the whole
/// row is a title, even when it is only a year.
fn heading_like(table: &Table, row: usize, other: usize, above: bool) -> bool {
    let mut distinct: Vec<String> = Vec::new();
    let mut amounts = false;
    for column in 0..table.width() {
        let text = table.text(row, column);
        if text.is_empty() {
            continue;
        }
        if !distinct.contains(&text) {
            distinct.push(text.clone());
        }
        let reading = read_heading(&text);
        let known = reading.named.is_some() || reading.only_years;
        if !known && text != table.text(other, column) {
            return false;
        }
        amounts |= !reading.years.is_empty() || matches!(reading.named, Some(Named::Amount(_)));
    }
    !distinct.is_empty() && (!above || distinct.len() >= 2) && amounts
}

/// The rows holding the headings: the topmost row naming a 事業名 column, and the heading
/// rows just above and below it.
fn find_heading_rows(table: &Table) -> Option<Vec<usize>> {
    let mut best: Option<(usize, usize)> = None;
    for row in 0..table.height().min(SEARCH_ROWS) {
        let mut has_name = false;
        let mut score = 0;
        for column in 0..table.width() {
            let reading = read_heading(&table.text(row, column));
            has_name |= reading.named == Some(Named::Plain(Target::Name));
            score += usize::from(reading.named.is_some() || reading.only_years);
        }
        if has_name && best.is_none_or(|(_, s)| score > s) {
            best = Some((row, score));
        }
    }
    let (row, _) = best?;
    let mut rows = vec![row];
    while rows.len() < MAX_HEADING_ROWS
        && let Some(above) = rows[0].checked_sub(1)
        && heading_like(table, above, rows[0], true)
    {
        rows.insert(0, above);
    }
    while rows.len() < MAX_HEADING_ROWS {
        let last = rows[rows.len() - 1];
        if last + 1 < table.height() && heading_like(table, last + 1, last, false) {
            rows.push(last + 1);
        } else {
            break;
        }
    }
    Some(rows)
}

/// The headings a person sees in the heading rows, to show when nothing fits.
pub fn headings_seen(table: &Table) -> Vec<String> {
    let mut seen = Vec::new();
    for row in 0..table.height().min(SEARCH_ROWS) {
        for column in 0..table.width() {
            let text = table.text(row, column);
            // Numbers are amounts or counts of the table's rows, never headings.
            let number = text
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '-' | '△' | '▲'));
            if !text.is_empty() && !number && text.chars().count() <= 20 && !seen.contains(&text) {
                seen.push(text);
            }
            if seen.len() >= 20 {
                return seen;
            }
        }
    }
    seen
}

/// The mapping of `table`, with problems found in its headings. `Err` when no column can be
/// the 事業名 (the report says so, with the headings seen).
pub fn detect(
    table: &Table,
    sheet: Option<&str>,
    overrides: Option<&Overrides>,
) -> Result<(Mapping, Report), Report> {
    let mut report = Report::default();
    let mut mapping = Mapping {
        sheet: sheet.map(str::to_owned),
        ..Mapping::default()
    };
    let header_rows = match overrides.and_then(|o| o.header_rows.clone()) {
        Some(rows) => rows,
        None => match find_heading_rows(table) {
            Some(rows) => rows,
            None => {
                // Headings are looked for from the top: the message points at the first row.
                report.push(no_name_column(table, table.position(0, 0)));
                return Err(report);
            }
        },
    };
    let first_heading = header_rows.iter().copied().min().unwrap_or(0);
    let last_heading = header_rows.iter().copied().max().unwrap_or(0);
    // A year stated once above the table (`令和6年度 主要事業一覧`) for amount headings
    // that name none.
    let title_years: BTreeSet<FiscalYear> = (0..first_heading)
        .flat_map(|row| (0..table.width()).map(move |column| (row, column)))
        .flat_map(|(row, column)| years_in(&table.text(row, column)).0)
        .collect();
    let title_year = (title_years.len() == 1)
        .then(|| title_years.first().copied())
        .flatten();
    let mut heading_units: Vec<(SheetUnit, Position)> = Vec::new();
    let mut year_only_note = false;
    let mut title_year_used = false;
    for column in 0..table.width() {
        let mut pieces: Vec<(String, usize)> = Vec::new();
        for &row in &header_rows {
            let text = table.text(row, column);
            if !text.is_empty() && pieces.last().is_none_or(|(t, _)| *t != text) {
                pieces.push((text, row));
            }
        }
        if pieces.is_empty() {
            continue;
        }
        let heading = pieces
            .iter()
            .map(|(t, _)| t.replace('\n', " "))
            .collect::<Vec<_>>()
            .join(" / ");
        let at = |row: usize| table.position(row, column);
        let mut years: Vec<(FiscalYear, usize)> = Vec::new();
        let mut field: Option<Named> = None;
        let mut all_years = true;
        for (text, row) in &pieces {
            let reading = read_heading(text);
            for year in reading.years {
                if !years.iter().any(|(y, _)| *y == year) {
                    years.push((year, *row));
                }
            }
            if reading.named.is_some() {
                field = reading.named;
            }
            all_years &= reading.only_years;
            if let Some(unit) = SheetUnit::in_heading(text) {
                heading_units.push((unit, at(*row)));
            }
        }
        let target = match field {
            Some(Named::Plain(target)) => target,
            Some(Named::Amount(amount)) => match years.as_slice() {
                [(year, _)] => Target::Amount(*year, amount),
                [] => match title_year {
                    Some(year) => {
                        title_year_used = true;
                        Target::Amount(year, amount)
                    }
                    None => {
                        report.push(
                            Diagnostic::new(
                                Code::BadHeader,
                                at(pieces[pieces.len() - 1].1),
                                format!(
                                    "見出し「{heading}」の年度が分かりません。見出しに年度（R6、令和6年度、2024 など）を書くか、対応ファイルで「R6 {}」のように指定してください。",
                                    super::heading::amount_label(amount)
                                ),
                                format!(
                                    "the heading {heading:?} names no fiscal year: add one (R6, 令和6年度, 2024…) or map the column in the mapping file, e.g. \"R6 {}\"",
                                    super::heading::amount_label(amount)
                                ),
                            )
                            .with_field("年度"),
                        );
                        Target::Ignored
                    }
                },
                [(first, _), (second, row), ..] => {
                    report.push(
                        Diagnostic::new(
                            Code::EditionMismatch,
                            at(*row),
                            format!(
                                "列 {} の見出しの年度が食い違います（{} と {}）。どちらの年度の金額か分からないため読みません。",
                                column_letter(column),
                                first.label(),
                                second.label()
                            ),
                            format!(
                                "the headings of column {} disagree on the fiscal year ({} and {}); which year its amounts are for is unknown",
                                column_letter(column),
                                first.short(),
                                second.short()
                            ),
                        )
                        .with_field("年度"),
                    );
                    Target::Ignored
                }
            },
            None if all_years && years.len() == 1 => {
                year_only_note = true;
                Target::Amount(years[0].0, AmountField::Total)
            }
            None => Target::Ignored,
        };
        mapping.columns.push(MappedColumn {
            index: column,
            heading,
            target,
            from_map: false,
        });
    }
    if let Some(overrides) = overrides {
        for &(index, target) in &overrides.columns {
            match mapping.columns.iter_mut().find(|c| c.index == index) {
                Some(column) => {
                    column.target = target;
                    column.from_map = true;
                }
                None => mapping.columns.push(MappedColumn {
                    index,
                    heading: String::new(),
                    target,
                    from_map: true,
                }),
            }
        }
        mapping.columns.sort_by_key(|c| c.index);
        mapping.default_status = overrides.status.clone();
        mapping.default_policy = overrides.policy.clone();
    }
    mapping.header_rows = header_rows;
    if year_only_note {
        mapping.notes.push(Note::new(
            "年度だけの見出しの列は、その年度の事業費として読みました。",
            "columns headed by a year only were read as that year's 事業費",
        ));
    }
    if title_year_used && let Some(year) = title_year {
        mapping.notes.push(Note::new(
            format!(
                "年度のない金額の見出しは、表題の {} の金額として読みました。",
                year.label()
            ),
            format!(
                "amount headings without a year were read as FY{} as the title says",
                year.year()
            ),
        ));
    }
    check_duplicates(table, &mapping, last_heading, &mut report);
    if mapping.column(Target::Name).is_none() {
        report.push(no_name_column(table, table.position(last_heading, 0)));
        return Err(report);
    }
    choose_unit(
        table,
        &mut mapping,
        overrides,
        last_heading,
        heading_units,
        &mut report,
    );
    let years: BTreeSet<FiscalYear> = mapping
        .columns
        .iter()
        .filter_map(|c| match c.target {
            Target::Amount(year, _) => Some(year),
            _ => None,
        })
        .collect();
    if let (Some(first), Some(last)) = (years.first(), years.last()) {
        mapping.span = EditionSpan::new(*first, *last);
        if mapping.span.is_none() {
            report.push(Diagnostic::new(
                Code::EditionMismatch,
                table.position(last_heading, 0),
                format!(
                    "金額の列の年度 {}～{} は実施計画の計画期間として長すぎます。",
                    first.label(),
                    last.label()
                ),
                format!(
                    "the amount columns span FY{}–{}, longer than any edition",
                    first.year(),
                    last.year()
                ),
            ));
        }
    }
    Ok((mapping, report))
}

fn column_letter(column: usize) -> String {
    cell_name(0, column).trim_end_matches('1').to_owned()
}

/// Two columns for one field: which one holds the field is unknown.
fn check_duplicates(table: &Table, mapping: &Mapping, row: usize, report: &mut Report) {
    for (i, column) in mapping.columns.iter().enumerate() {
        let shared = matches!(
            column.target,
            Target::Goal | Target::Policy | Target::Ignored | Target::Remarks | Target::Change
        );
        if shared {
            continue;
        }
        if let Some(first) = mapping.columns[..i]
            .iter()
            .find(|c| c.target == column.target)
        {
            let label = target_label(column.target);
            let (a, b) = (column_letter(first.index), column_letter(column.index));
            report.push(
                Diagnostic::new(
                    Code::BadHeader,
                    table.position(row, column.index),
                    format!(
                        "「{label}」に当たる列が2つあります（{a} と {b}）。対応ファイル（--map）で一方を「無視」にしてください。"
                    ),
                    format!(
                        "two columns are {label} ({a} and {b}); mark one \"無視\" in a mapping file (--map)"
                    ),
                )
                .with_field("見出し"),
            );
        }
    }
}

/// The unit: the mapping file's, else the sheet's `単位：…` above or in the headings, else the
/// unit in the amount headings, else 千円 (said so). Statements that disagree are an error.
fn choose_unit(
    table: &Table,
    mapping: &mut Mapping,
    overrides: Option<&Overrides>,
    last_heading: usize,
    heading_units: Vec<(SheetUnit, Position)>,
    report: &mut Report,
) {
    if let Some(unit) = overrides.and_then(|o| o.unit) {
        mapping.unit = unit;
        mapping.unit_source = Some(UnitSource::Map);
        return;
    }
    let mut stated: Vec<(SheetUnit, Position)> = Vec::new();
    for row in 0..=last_heading {
        for column in 0..table.width() {
            if table.merged_origin(row, column).is_some() {
                continue;
            }
            if let Some(unit) = SheetUnit::declared_in(&table.raw(row, column).text()) {
                stated.push((unit, table.position(row, column)));
            }
        }
    }
    let all: Vec<&(SheetUnit, Position)> = stated.iter().chain(&heading_units).collect();
    let Some((unit, at)) = all.first().map(|(u, p)| (*u, p.clone())) else {
        mapping.unit = SheetUnit::ThousandYen;
        mapping.unit_source = Some(UnitSource::Assumed);
        mapping.notes.push(Note::new(
            "金額の単位の記載（単位：千円 など）がないため、千円とみなしました。違う場合は対応ファイルの unit で指定してください。",
            "the sheet states no unit (単位：千円…): amounts were taken as 千円; set unit in a mapping file if that is wrong",
        ));
        return;
    };
    if let Some((other, other_at)) = all.iter().find(|(u, _)| *u != unit) {
        report.push(
            Diagnostic::new(
                Code::BadHeader,
                other_at.clone(),
                format!(
                    "単位の記載が食い違います（{at} は {}、ここは {}）。対応ファイルの unit で指定してください。",
                    unit.label(),
                    other.label()
                ),
                format!(
                    "the units stated disagree ({at} says {}, this cell {}); set unit in a mapping file",
                    unit.label(),
                    other.label()
                ),
            )
            .with_field("単位"),
        );
    }
    mapping.unit = unit;
    mapping.unit_source = Some(if stated.is_empty() {
        UnitSource::Headings
    } else {
        UnitSource::Sheet(at)
    });
}

/// `見出し行に 事業名 に当たる列がありません`, with the headings seen.
fn no_name_column(table: &Table, at: Position) -> Diagnostic {
    let seen = headings_seen(table).join("、");
    Diagnostic::new(
        Code::BadHeader,
        at,
        format!(
            "見出し行に 事業名 に当たる列がありません（事業名・事務事業名・主要事業名 など）。見えた見出し: {seen}。対応ファイル（--map）で列を指定できます。"
        ),
        format!(
            "no heading row has a column for 事業名 (事業名, 事務事業名, 主要事業名…); headings seen: {seen}. A mapping file (--map) can name the columns"
        ),
    )
    .with_field("見出し")
}
