//! Writes the spreadsheet a department fills in: the edition's projects, one per row.
//!
//! The xlsx has a header row that stays in view, the first four columns frozen, 千円 number
//! formats, drop-down lists for 区分, 施策コード and 計画から外す, the 事業ID and 版 columns
//! locked (the sheet is protected without a password, every other cell editable, rows can be
//! added, deleted and sorted), an instructions sheet in Japanese naming the municipality and
//! edition, and a sheet listing the policies. The CSV has the same columns (UTF-8 with BOM);
//! its text cells are neutralised against formula injection like every CSV keikaku writes.
//!
//! Amounts: a year the plan states nothing for is left empty; a stated "no amount" is `-`;
//! zero is `0`. Reading the file back gives the same edition exactly.

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, FormatBorder, Formula,
    ProtectionOptions, Workbook, XlsxError,
};

use super::{
    AmountField, Column, INFO_CODE, INFO_EDITION, INFO_SHEET, LIST_SEPARATOR, POLICY_SHEET,
    PROJECT_SHEET, columns, row_version,
};
use crate::model::{Edition, Project};
use crate::money::Money;
use crate::status::STANDARD;

/// Rows below the projects that stay open for new ones (drop-downs reach them).
const SPARE_ROWS: u32 = 500;

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
    let policy_count = edition.policies().count();
    let policy_rule = DataValidation::new()
        .allow_list_formula(Formula::new(format!(
            "={POLICY_SHEET}!$A$2:$A${}",
            policy_count + 1
        )))
        .set_error_style(DataValidationErrorStyle::Stop)
        .set_error_title("施策コード")?
        .set_error_message("施策一覧シートにある施策コードを選んでください。")?;
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
        ("団体名", edition.municipality.name.clone()),
        (INFO_EDITION, edition.span.label()),
        ("年度", edition.span.long_label()),
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
        "施策コードは「施策一覧」シートにあるものから選びます。",
        "担当課・地方創生事業が複数ある場合は「、」で区切ります（例: 企画政策課、財政課 / Ⅲ(4)、Ⅰ(2)）。",
        "事業IDと版は変更しないでください（灰色の列）。新しい事業は一番下の行に、事業IDと版を空欄のまま追加します。",
        "この計画期間から外す事業は「計画から外す」列に「○」を付けます。行を削除しても事業は外れません（シートにない行は保存済みの内容のまま残ります）。完了・廃止する事業は区分で示します。",
        "取り込むと、このシートで変えた行だけが反映されます。シートを作った後にほかの課が同じ行を変えていた場合は、両方の値を示して取り込みを止めます（新しいシートを作り直してください）。",
        "行を非表示にしたり、セルを結合したりしないでください。",
        "取り込み: keikaku import このファイル.xlsx --edition 計画期間（誤りがあれば、シート名とセル番地を示して知らせます）",
    ];
    for (i, text) in instructions.iter().enumerate() {
        let r = u32::try_from(i + 7).unwrap_or(7);
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
    workbook.save_to_buffer()
}
