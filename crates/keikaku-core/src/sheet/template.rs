//! Writes the spreadsheet a department fills in: the edition's projects, one per row.
//!
//! The xlsx has a header row that stays in view, the first four columns frozen, 千円 number
//! formats, drop-down lists for 区分, 施策コード and 計画から外す, the 事業ID and 版 columns
//! locked (the sheet is protected without a password, every other cell editable, rows can be
//! added, deleted and sorted), an instructions sheet in Japanese naming the municipality and
//! edition, a sheet listing the policies, and the structure sheet (施策体系: the goals and
//! policies, one row each, editable: importing the workbook adds goals and policies and changes
//! their titles, 分野 and めざすまちの姿). The instructions sheet records the structure's version
//! ([`super::structure_version`]) next to the municipality and edition.
//!
//! A blank workbook ([`blank_edition`]) is the same workbook for an edition with nothing in
//! it: the planning office of a town with nothing stored yet fills in the structure and the
//! projects, and importing it creates the edition as a draft.
//!
//! The CSV has the project columns only (UTF-8 with BOM); its text cells are neutralised
//! against formula injection like every CSV keikaku writes.
//!
//! Amounts: a year the plan states nothing for is left empty; a stated "no amount" is `-`;
//! zero is `0`. Reading the file back gives the same edition exactly.

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatBorder, Formula,
    ProtectionOptions, Workbook, XlsxError,
};

use super::{
    AmountField, Column, INFO_CODE, INFO_EDITION, INFO_NAME, INFO_SHEET, INFO_STRUCTURE,
    LIST_SEPARATOR, POLICY_SHEET, PROJECT_SHEET, STRUCTURE_SHEET, StructureColumn, columns,
    row_version, structure_version,
};
use crate::fiscal::EditionSpan;
use crate::model::{Edition, EditionState, Project};
use crate::money::Money;
use crate::municipality::Municipality;
use crate::status::STANDARD;

/// Rows below the projects that stay open for new ones (drop-downs reach them).
const SPARE_ROWS: u32 = 500;

/// Rows below the structure that stay open for new goals and policies (the policy drop-down
/// of the projects sheet reaches them).
const SPARE_STRUCTURE_ROWS: u32 = 200;

/// The edition a blank workbook is written for: the municipality and years, the default
/// title, no goals, a draft (importing the filled workbook creates it unpublished).
pub fn blank_edition(municipality: Municipality, span: EditionSpan) -> Edition {
    Edition {
        title: Edition::default_title(&municipality, span),
        municipality,
        span,
        source: String::new(),
        state: EditionState::Draft,
        goals: Vec::new(),
    }
}

/// One cell to write.
#[derive(Debug, Clone, PartialEq)]
enum Out {
    Empty,
    Text(String),
    Number(i64),
}

fn amount(value: Option<Money>) -> Out {
    match value {
        Some(m) => Out::Number(m.thousand_yen()),
        None => Out::Text("-".to_owned()),
    }
}

/// The cells of one project, in [`columns`] order.
fn row(edition: &Edition, policy: &crate::model::Policy, project: &Project) -> Vec<Out> {
    columns(edition.span)
        .into_iter()
        .map(|column| match column {
            Column::Policy => Out::Text(policy.code.to_string()),
            Column::Number => Out::Number(i64::from(project.number)),
            Column::Id => Out::Text(project.id.to_string()),
            Column::Name => Out::Text(project.name.clone()),
            Column::Summary => Out::Text(project.summary.clone()),
            Column::Status => Out::Text(project.status.label().to_owned()),
            Column::Strategies => Out::Text(
                project
                    .strategies
                    .iter()
                    .map(|s| s.raw.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Column::Departments => Out::Text(project.departments.join(LIST_SEPARATOR)),
            Column::Amount(year, field) => match project.cost(year) {
                // A year the plan says nothing about stays empty.
                None => Out::Empty,
                Some(cost) => match field {
                    AmountField::Total => amount(cost.total),
                    AmountField::Earmarked => amount(cost.earmarked),
                    AmountField::General => amount(cost.general),
                    AmountField::Kind(kind) => cost
                        .earmarked_breakdown
                        .iter()
                        .find(|(k, _)| *k == kind)
                        .map_or(Out::Empty, |(_, m)| Out::Number(m.thousand_yen())),
                },
            },
            Column::Remove => Out::Empty,
            Column::Version => Out::Text(row_version(policy.code, project)),
        })
        .collect()
}

/// The CSV field of a cell in `column`: amount columns and 事業番号 are numeric (a negative
/// amount stays a number, `-` stays "no amount"); every other column is text, neutralised
/// against formula injection (the sheet reader removes the quote again).
fn field_of(cell: &Out, column: Column) -> crate::export::csv::Field<'_> {
    use crate::export::csv::Field;
    let numeric = matches!(column, Column::Amount(..) | Column::Number);
    match cell {
        Out::Empty => Field::integer(None),
        Out::Number(n) => Field::integer(Some(*n)),
        Out::Text(t) if numeric => Field::number(t.as_str()),
        Out::Text(t) => Field::text(t.as_str()),
    }
}

/// The template as CSV (UTF-8 with BOM, CRLF).
pub fn to_csv(edition: &Edition) -> Vec<u8> {
    let columns = columns(edition.span);
    let mut writer = crate::export::csv::Writer::new();
    let headers: Vec<String> = columns.iter().map(|c| c.header()).collect();
    writer.header(headers.iter().map(String::as_str));
    for (policy, project) in edition.projects() {
        let cells = row(edition, policy, project);
        writer.row(
            cells
                .iter()
                .zip(&columns)
                .map(|(cell, column)| field_of(cell, *column)),
        );
    }
    let mut out = crate::export::csv::BOM.to_vec();
    out.extend(writer.into_string().into_bytes());
    out
}

fn col(index: usize) -> Result<u16, XlsxError> {
    u16::try_from(index).map_err(|_| XlsxError::ParameterError("too many columns".into()))
}

/// The template as an xlsx workbook. `extra_statuses` are the 区分 words the municipality has
/// added to the standard ones (they join the drop-down).
pub fn to_xlsx(edition: &Edition, extra_statuses: &[String]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_background_color(Color::RGB(0x00DDE7F3))
        .set_border_bottom(FormatBorder::Thin);
    let locked = Format::new()
        .set_background_color(Color::RGB(0x00EEEEEE))
        .set_font_color(Color::RGB(0x00444444));
    let editable = Format::new().set_unlocked();
    let editable_amount = Format::new().set_unlocked().set_num_format("#,##0");
    let columns = columns(edition.span);

    let sheet = workbook.add_worksheet();
    sheet.set_name(PROJECT_SHEET)?;
    for (c, column) in columns.iter().enumerate() {
        let c = col(c)?;
        sheet.write_string_with_format(0, c, column.header(), &header)?;
        let (width, format) = match column {
            Column::Id => (22.0, &locked),
            Column::Version => (14.0, &locked),
            Column::Remove => (12.0, &editable),
            Column::Name => (30.0, &editable),
            Column::Summary => (50.0, &editable),
            Column::Departments | Column::Strategies => (18.0, &editable),
            Column::Amount(..) => (13.0, &editable_amount),
            _ => (10.0, &editable),
        };
        sheet.set_column_width(c, width)?;
        sheet.set_column_format(c, format)?;
    }
    sheet.set_row_height(0, 45)?;
    let mut last = 0;
    for (r, (policy, project)) in edition.projects().enumerate() {
        let line =
            u32::try_from(r + 1).map_err(|_| XlsxError::ParameterError("too many rows".into()))?;
        last = line;
        for (c, (cell, column)) in row(edition, policy, project)
            .iter()
            .zip(&columns)
            .enumerate()
        {
            let c = col(c)?;
            let format = match column {
                Column::Id | Column::Version => &locked,
                Column::Amount(..) => &editable_amount,
                _ => &editable,
            };
            match cell {
                Out::Empty => sheet.write_blank(line, c, format)?,
                Out::Text(text) => sheet.write_string_with_format(line, c, text, format)?,
                // Amounts in 千円 and numbers are far below 2^53: f64 holds them exactly.
                Out::Number(n) => sheet.write_number_with_format(line, c, *n as f64, format)?,
            };
        }
    }
    let last_row = last + SPARE_ROWS;
    let status_column = col(columns
        .iter()
        .position(|c| *c == Column::Status)
        .unwrap_or(0))?;
    let mut statuses: Vec<String> = STANDARD
        .iter()
        .map(|(_, label)| (*label).to_owned())
        .collect();
    statuses.extend(extra_statuses.iter().cloned());
    let status_choices: Vec<&str> = statuses.iter().map(String::as_str).collect();
    let status_rule = DataValidation::new()
        .allow_list_strings(&status_choices)?
        .set_error_style(DataValidationErrorStyle::Stop)
        .set_error_title("区分")?
        .set_error_message(
            "一覧から選んでください（新規・継続・拡充・縮小・完了・休止・統合・廃止）。",
        )?;
    sheet.add_data_validation(1, status_column, last_row, status_column, &status_rule)?;
    // The choices are the structure sheet's policy codes, with its spare rows: a policy added
    // there can be chosen at once.
    let structure_rows = u32::try_from(edition.goals.len() + edition.policies().count())
        .unwrap_or(0)
        + SPARE_STRUCTURE_ROWS;
    let code_letter = crate::sheet::cell_name(0, structure_column(StructureColumn::Policy))
        .trim_end_matches('1')
        .to_owned();
    let policy_rule = DataValidation::new()
        .allow_list_formula(Formula::new(format!(
            "={STRUCTURE_SHEET}!${code_letter}$2:${code_letter}${}",
            structure_rows + 1
        )))
        .set_error_style(DataValidationErrorStyle::Stop)
        .set_error_title("施策コード")?
        .set_error_message("施策体系シートにある施策コードを選んでください。")?;
    sheet.add_data_validation(1, 0, last_row, 0, &policy_rule)?;
    let remove_column = col(columns
        .iter()
        .position(|c| *c == Column::Remove)
        .unwrap_or(0))?;
    let remove_rule = DataValidation::new()
        .allow_list_strings(&["○"])?
        .set_error_style(DataValidationErrorStyle::Stop)
        .set_error_title("計画から外す")?
        .set_error_message("この計画期間から外す事業だけ「○」を選びます。")?;
    sheet.add_data_validation(1, remove_column, last_row, remove_column, &remove_rule)?;
    sheet.set_freeze_panes(1, 4)?;
    sheet.autofilter(0, 0, last.max(1), col(columns.len() - 1)?)?;
    let options = ProtectionOptions {
        insert_rows: true,
        delete_rows: true,
        sort: true,
        use_autofilter: true,
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    };
    sheet.protect_with_options(&options);

    let info = workbook.add_worksheet();
    info.set_name(INFO_SHEET)?;
    info.set_column_width(0, 16)?;
    info.set_column_width(1, 90)?;
    let bold = Format::new().set_bold();
    info.write_string_with_format(0, 0, format!("{} 記入方法", edition.title), &bold)?;
    let identity = [
        (INFO_CODE, edition.municipality.code.to_string()),
        (INFO_NAME, edition.municipality.name.clone()),
        (INFO_EDITION, edition.span.label()),
        ("年度", edition.span.long_label()),
        (INFO_STRUCTURE, structure_version(&edition.goals)),
    ];
    for (i, (key, value)) in identity.iter().enumerate() {
        let r = u32::try_from(i + 2).unwrap_or(2);
        info.write_string_with_format(r, 0, *key, &bold)?;
        info.write_string(r, 1, value)?;
    }
    let instructions = [
        "「実施計画」シートに、事業を1行に1つずつ記入します。",
        "金額の単位は千円です。円で入力しないでください。計上しない場合は「-」、0円の場合は「0」と入力します。",
        "事業費 ＝ 特定財源 ＋ 一般財源 になるようにしてください。特定財源の内訳（国庫支出金など）を書く場合は、その合計が特定財源と一致するようにします。",
        "空欄の年度は「記載なし」として扱います。",
        "区分は一覧（新規・継続・拡充・縮小・完了・休止・統合・廃止）から選びます。",
        "施策コードは「施策体系」シートにあるものから選びます。",
        "「施策体系」シートには基本目標と施策を1行に1つずつ記入します。基本目標の行には基本目標番号・基本目標・分野を、施策の行には施策コード（例: 1-1。先頭の数字が基本目標番号）・施策名・めざすまちの姿を書きます。施策を追加したり、名称を直したりできます。事業が残っている施策の行は削除できません。",
        "担当課・地方創生事業が複数ある場合は「、」で区切ります（例: 企画政策課、財政課 / Ⅲ(4)、Ⅰ(2)）。",
        "事業IDと版は変更しないでください（灰色の列）。新しい事業は一番下の行に、事業IDと版を空欄のまま追加します。",
        "この計画期間から外す事業は「計画から外す」列に「○」を付けます。行を削除しても事業は外れません（シートにない行は保存済みの内容のまま残ります）。完了・廃止する事業は区分で示します。",
        "取り込むと、このシートで変えた行だけが反映されます。シートを作った後にほかの課が同じ行を変えていた場合は、両方の値を示して取り込みを止めます（新しいシートを作り直してください）。",
        "行を非表示にしたり、セルを結合したりしないでください。",
        "取り込み: keikaku import このファイル.xlsx、または職員用画面でアップロード（団体と計画期間はこのブックに書かれているため指定は要りません。誤りがあれば、シート名とセル番地を示して知らせます）",
    ];
    for (i, text) in instructions.iter().enumerate() {
        let r = u32::try_from(i + 8).unwrap_or(8);
        info.write_string(r, 0, format!("{}.", i + 1))?;
        info.write_string(r, 1, *text)?;
    }

    let policies = workbook.add_worksheet();
    policies.set_name(POLICY_SHEET)?;
    for (c, title) in ["施策コード", "施策", "基本目標"].iter().enumerate() {
        policies.write_string_with_format(0, col(c)?, *title, &header)?;
    }
    policies.set_column_width(1, 40)?;
    policies.set_column_width(2, 40)?;
    let mut r = 1;
    for goal in &edition.goals {
        for policy in &goal.policies {
            policies.write_string(r, 0, policy.code.to_string())?;
            policies.write_string(r, 1, &policy.title)?;
            policies.write_string(r, 2, format!("基本目標{} {}", goal.number, goal.title))?;
            r += 1;
        }
    }
    write_structure(&mut workbook, edition, &header)?;
    workbook.save_to_buffer()
}

/// The 0-based column of `column` in the structure sheet.
fn structure_column(column: StructureColumn) -> usize {
    StructureColumn::ALL
        .iter()
        .position(|c| *c == column)
        .unwrap_or(0)
}

/// The structure sheet: a row per goal (number, title, 分野), followed by a row per policy of
/// that goal (its goal's number, code, title, めざすまちの姿). Every cell is editable.
fn write_structure(
    workbook: &mut Workbook,
    edition: &Edition,
    header: &Format,
) -> Result<(), XlsxError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name(STRUCTURE_SHEET)?;
    let wrap = Format::new().set_text_wrap();
    for (c, column) in StructureColumn::ALL.iter().enumerate() {
        let c = col(c)?;
        sheet.write_string_with_format(0, c, column.header(), header)?;
        let width = match column {
            StructureColumn::GoalNumber | StructureColumn::Policy => 12.0,
            StructureColumn::Field => 20.0,
            StructureColumn::GoalTitle | StructureColumn::PolicyTitle => 36.0,
            StructureColumn::Vision => 60.0,
        };
        sheet.set_column_width(c, width)?;
    }
    let at = |column: StructureColumn| col(structure_column(column));
    let mut r: u32 = 1;
    for goal in &edition.goals {
        sheet.write_number(r, at(StructureColumn::GoalNumber)?, f64::from(goal.number))?;
        sheet.write_string(r, at(StructureColumn::GoalTitle)?, &goal.title)?;
        sheet.write_string(r, at(StructureColumn::Field)?, &goal.field)?;
        r += 1;
        for policy in &goal.policies {
            sheet.write_number(r, at(StructureColumn::GoalNumber)?, f64::from(goal.number))?;
            sheet.write_string(r, at(StructureColumn::Policy)?, policy.code.to_string())?;
            sheet.write_string(r, at(StructureColumn::PolicyTitle)?, &policy.title)?;
            sheet.write_string_with_format(
                r,
                at(StructureColumn::Vision)?,
                &policy.vision,
                &wrap,
            )?;
            r += 1;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}
