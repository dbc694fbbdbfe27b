//! The column mapping of a town's own workbook (`列の対応`): which column became which field,
//! the fiscal years, the unit, what was ignored and every assumption made. keikaku prints it
//! before storing anything, writes it as a mapping file (`--write-map map.toml`) and reads a
//! town's edited copy back (`--map map.toml`) to override any part of what it detected.
//!
//! The mapping file is TOML:
//!
//! ```toml
//! sheet = "実施計画"          # xlsx only: the sheet to read
//! header_rows = [4, 5]       # the heading rows, 1-based as Excel numbers them
//! unit = "円"                 # 千円, 円, 万円, 百万円 or 億円
//! [columns]                  # column letter = field
//! A = "基本目標"
//! C = "事業名"
//! F = "R6 事業費"
//! K = "無視"
//! [defaults]
//! status = "継続"             # 区分 of every project when the sheet has no 区分 column
//! policy = "1-1 施策名"       # the one policy when the sheet names none
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

use super::amount::SheetUnit;
use super::heading::{Target, parse_target, target_label};
use crate::diagnostic::{Lang, Position};
use crate::fiscal::EditionSpan;
use crate::model::PolicyCode;
use crate::sheet::{cell_name, parse_cell_name};
use crate::status::Status;

/// One column and what it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedColumn {
    /// 0-based column.
    pub index: usize,
    /// The heading as the sheet writes it (the heading rows joined with ` / `).
    pub heading: String,
    /// What the column becomes.
    pub target: Target,
    /// True when the mapping file chose it.
    pub from_map: bool,
}

/// Where the unit came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitSource {
    /// A `単位：…` text at this cell.
    Sheet(Position),
    /// The amount headings (`事業費（円）`).
    Headings,
    /// The mapping file.
    Map,
    /// Nothing said: 千円 assumed.
    Assumed,
}

/// An assumption or remark printed with the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// In Japanese.
    pub ja: String,
    /// In English.
    pub en: String,
}

impl Note {
    /// A note in both languages.
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Note {
        Note {
            ja: ja.into(),
            en: en.into(),
        }
    }
}

/// The mapping used to read a town's own sheet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mapping {
    /// The sheet read (xlsx), `None` for CSV/TSV.
    pub sheet: Option<String>,
    /// 0-based heading rows.
    pub header_rows: Vec<usize>,
    /// Every column with a heading, in order.
    pub columns: Vec<MappedColumn>,
    /// The unit of the amounts.
    pub unit: SheetUnit,
    /// Where the unit came from.
    pub unit_source: Option<UnitSource>,
    /// The fiscal years of the amount columns.
    pub span: Option<EditionSpan>,
    /// 区分 of every project when the sheet has no 区分 column (from the mapping file).
    pub default_status: Option<Status>,
    /// The one policy when the sheet names none (from the mapping file).
    pub default_policy: Option<(PolicyCode, String)>,
    /// Assumptions and remarks, in the order they were made.
    pub notes: Vec<Note>,
}

impl Mapping {
    /// The columns that become `target`.
    pub fn columns_for(&self, target: Target) -> impl Iterator<Item = usize> + '_ {
        self.columns
            .iter()
            .filter(move |c| c.target == target)
            .map(|c| c.index)
    }

    /// The one column that becomes `target`, if any.
    pub fn column(&self, target: Target) -> Option<usize> {
        self.columns_for(target).next()
    }

    /// The mapping as printed before anything is stored (`列の対応`).
    pub fn render(&self, file: &str, lang: Lang) -> String {
        let mut out = String::new();
        let rows: Vec<String> = self
            .header_rows
            .iter()
            .map(|r| (r + 1).to_string())
            .collect();
        let rows = rows.join(", ");
        let place = match &self.sheet {
            Some(sheet) => format!("{file}:{sheet}"),
            None => file.to_owned(),
        };
        out.push_str(&match lang {
            Lang::Ja => format!("列の対応（{place}、見出し行 {rows}）\n"),
            Lang::En => format!("column mapping (列の対応) of {place}, heading rows {rows}\n"),
        });
        for column in &self.columns {
            let letter = cell_name(0, column.index);
            let letter = letter.trim_end_matches('1');
            let target = match (column.target, lang) {
                (Target::Ignored, Lang::Ja) => "（読みません）".to_owned(),
                (Target::Ignored, Lang::En) => "(ignored)".to_owned(),
                (Target::Remarks, Lang::Ja) => "備考（保存しません）".to_owned(),
                (Target::Remarks, Lang::En) => "備考 remarks (not stored)".to_owned(),
                (Target::Change, Lang::Ja) => {
                    "増減（計画額ではないため読みません。△ があっても誤りにしません）".to_owned()
                }
                (Target::Change, Lang::En) => {
                    "増減 change (not a plan amount: not read, so △ is no error)".to_owned()
                }
                (Target::PeriodTotal, Lang::Ja) => {
                    "総事業費（年度の事業費の合計と照合）".to_owned()
                }
                (Target::PeriodTotal, Lang::En) => {
                    "総事業費 period total (checked against the years)".to_owned()
                }
                (target, _) => target_label(target),
            };
            let by = match (column.from_map, lang) {
                (true, Lang::Ja) => "（対応ファイルによる）",
                (true, Lang::En) => " (from the mapping file)",
                (false, _) => "",
            };
            out.push_str(&format!(
                "  {letter:<3} {}  → {target}{by}\n",
                column.heading
            ));
        }
        let span = self
            .span
            .map_or_else(|| "-".to_owned(), |s| format!("{} ({})", s.long_label(), s));
        let unit = self.unit.label();
        // A cell prints as `sheet!M2`; a line of a text file needs the file before it.
        let at = |at: &Position| match at {
            Position::Line { .. } => format!("{file}:{at}"),
            other => other.to_string(),
        };
        let from = match (&self.unit_source, lang) {
            (Some(UnitSource::Sheet(cell)), Lang::Ja) => format!("（{} の記載による）", at(cell)),
            (Some(UnitSource::Sheet(cell)), Lang::En) => format!(" (as stated at {})", at(cell)),
            (Some(UnitSource::Headings), Lang::Ja) => "（見出しの記載による）".to_owned(),
            (Some(UnitSource::Headings), Lang::En) => " (as the headings say)".to_owned(),
            (Some(UnitSource::Map), Lang::Ja) => "（対応ファイルによる）".to_owned(),
            (Some(UnitSource::Map), Lang::En) => " (from the mapping file)".to_owned(),
            (Some(UnitSource::Assumed) | None, Lang::Ja) => {
                "（記載がないため千円とみなしました）".to_owned()
            }
            (Some(UnitSource::Assumed) | None, Lang::En) => {
                " (not stated: assumed to be 千円)".to_owned()
            }
        };
        match lang {
            Lang::Ja => {
                out.push_str(&format!("  年度: {span}\n"));
                out.push_str(&format!("  単位: {unit}{from} → 千円の整数で保存\n"));
            }
            Lang::En => {
                out.push_str(&format!("  fiscal years: {span}\n"));
                out.push_str(&format!("  unit: {unit}{from}, stored as whole 千円\n"));
            }
        }
        if let Some(status) = &self.default_status {
            out.push_str(&match lang {
                Lang::Ja => format!("  区分の既定: {status}（対応ファイルによる）\n"),
                Lang::En => format!("  default 区分: {status} (from the mapping file)\n"),
            });
        }
        if let Some((code, title)) = &self.default_policy {
            out.push_str(&match lang {
                Lang::Ja => format!("  施策の既定: {code} {title}（対応ファイルによる）\n"),
                Lang::En => format!("  default policy: {code} {title} (from the mapping file)\n"),
            });
        }
        if !self.notes.is_empty() {
            out.push_str(match lang {
                Lang::Ja => "  前提と注意:\n",
                Lang::En => "  assumptions and remarks:\n",
            });
            for note in &self.notes {
                let text = match lang {
                    Lang::Ja => &note.ja,
                    Lang::En => &note.en,
                };
                out.push_str(&format!("    - {text}\n"));
            }
        }
        out
    }

    /// The mapping as a mapping file a town can edit and pass back with `--map`.
    pub fn to_toml(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut out = String::from(
            "# keikaku の列の対応。編集して `keikaku import --map このファイル` で使えます。\n\
             # 書式は docs/import.md を参照してください。\n",
        );
        if let Some(sheet) = &self.sheet {
            out.push_str(&format!("sheet = {}\n", quote(sheet)));
        }
        let rows: Vec<String> = self
            .header_rows
            .iter()
            .map(|r| (r + 1).to_string())
            .collect();
        out.push_str(&format!("header_rows = [{}]\n", rows.join(", ")));
        out.push_str(&format!("unit = {}\n", quote(self.unit.label())));
        out.push_str("\n[columns]\n");
        for column in &self.columns {
            let letter = cell_name(0, column.index);
            let letter = letter.trim_end_matches('1');
            out.push_str(&format!(
                "{letter} = {}  # {}\n",
                quote(&target_label(column.target)),
                column.heading.replace('\n', " ")
            ));
        }
        out.push_str("\n[defaults]\n");
        match &self.default_status {
            Some(status) => out.push_str(&format!("status = {}\n", quote(status.label()))),
            None => out.push_str("# status = \"継続\"\n"),
        }
        match &self.default_policy {
            Some((code, title)) => {
                out.push_str(&format!("policy = {}\n", quote(&format!("{code} {title}"))));
            }
            None => out.push_str("# policy = \"1-1 施策名\"\n"),
        }
        out
    }
}

/// What a mapping file overrides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overrides {
    /// The sheet to read.
    pub sheet: Option<String>,
    /// 0-based heading rows.
    pub header_rows: Option<Vec<usize>>,
    /// The unit.
    pub unit: Option<SheetUnit>,
    /// Column (0-based) → target.
    pub columns: Vec<(usize, Target)>,
    /// 区分 for every project when the sheet has no 区分 column.
    pub status: Option<Status>,
    /// The one policy when the sheet names none.
    pub policy: Option<(PolicyCode, String)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    sheet: Option<String>,
    header_rows: Option<Vec<i64>>,
    unit: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    defaults: Defaults,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Defaults {
    status: Option<String>,
    policy: Option<String>,
}

/// Why a mapping file was refused, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct MapError {
    /// In Japanese.
    pub ja: String,
    /// In English.
    pub en: String,
}

impl MapError {
    fn new(ja: impl Into<String>, en: impl Into<String>) -> MapError {
        MapError {
            ja: ja.into(),
            en: en.into(),
        }
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

impl Overrides {
    /// Reads a mapping file. Every key is checked: an unknown key, column letter, field,
    /// unit or policy is refused with what was wrong, never skipped.
    pub fn parse(text: &str) -> Result<Overrides, MapError> {
        let file: MapFile = toml::from_str(text).map_err(|e| {
            let message = e.message().to_owned();
            let at = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| before.matches('\n').count() + 1);
            match at {
                Some(line) => MapError::new(
                    format!("対応ファイルの {line} 行目が読めません: {message}"),
                    format!("line {line} of the mapping file cannot be read: {message}"),
                ),
                None => MapError::new(
                    format!("対応ファイルが読めません: {message}"),
                    format!("the mapping file cannot be read: {message}"),
                ),
            }
        })?;
        let header_rows = match file.header_rows {
            Some(rows) => {
                let mut out = Vec::new();
                for row in rows {
                    let zero_based = usize::try_from(row - 1).ok().filter(|_| row >= 1);
                    out.push(zero_based.ok_or_else(|| {
                        MapError::new(
                            format!(
                                "header_rows の {row} は行番号ではありません（1 から数えます）。"
                            ),
                            format!("header_rows: {row} is not a row number (rows count from 1)"),
                        )
                    })?);
                }
                if out.is_empty() {
                    return Err(MapError::new(
                        "header_rows が空です。",
                        "header_rows is empty",
                    ));
                }
                Some(out)
            }
            None => None,
        };
        let unit = match file.unit {
            Some(text) => Some(SheetUnit::parse(&text).ok_or_else(|| {
                MapError::new(
                    format!(
                        "unit の「{text}」は単位ではありません（千円・円・万円・百万円・億円）。"
                    ),
                    format!("unit {text:?} is not a unit (千円, 円, 万円, 百万円 or 億円)"),
                )
            })?),
            None => None,
        };
        let mut columns = Vec::new();
        for (letter, field) in &file.columns {
            let index = parse_cell_name(&format!("{}1", letter.trim().to_ascii_uppercase()))
                .map(|(_, c)| c)
                .ok_or_else(|| {
                    MapError::new(
                        format!(
                            "[columns] の「{letter}」は列の記号（A, B, …, AA）ではありません。"
                        ),
                        format!("[columns]: {letter:?} is not a column letter (A, B, …, AA)"),
                    )
                })?;
            let target = parse_target(field).ok_or_else(|| {
                MapError::new(
                    format!(
                        "[columns] {letter} の「{field}」は項目名ではありません（事業名、事業概要、担当課、区分、総合戦略、基本目標、施策、No、備考、無視、「R6 事業費」のような年度と金額の項目）。"
                    ),
                    format!(
                        "[columns] {letter}: {field:?} is not a field (事業名, 事業概要, 担当課, 区分, 総合戦略, 基本目標, 施策, No, 備考, 無視, or a year and amount such as \"R6 事業費\")"
                    ),
                )
            })?;
            columns.push((index, target));
        }
        let status = file.defaults.status.map(|s| Status::parse(&s));
        let policy = match file.defaults.policy {
            Some(text) => {
                let trimmed = text.trim();
                let (code, title) = trimmed
                    .split_once(char::is_whitespace)
                    .unwrap_or((trimmed, ""));
                let code = PolicyCode::parse(code).ok_or_else(|| {
                    MapError::new(
                        format!(
                            "[defaults] policy の「{text}」は「1-1 施策名」の形ではありません。"
                        ),
                        format!("[defaults] policy {text:?} is not of the form \"1-1 title\""),
                    )
                })?;
                Some((code, title.trim().to_owned()))
            }
            None => None,
        };
        Ok(Overrides {
            sheet: file.sheet,
            header_rows,
            unit,
            columns,
            status,
            policy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::FiscalYear;
    use crate::sheet::AmountField;

    #[test]
    fn written_mapping_reads_back() {
        let year = FiscalYear::new(2024).expect("year");
        let mapping = Mapping {
            sheet: Some("実施計画".into()),
            header_rows: vec![3, 4],
            columns: vec![
                MappedColumn {
                    index: 0,
                    heading: "基本目標".into(),
                    target: Target::Goal,
                    from_map: false,
                },
                MappedColumn {
                    index: 27,
                    heading: "令和6年度 / 事業費".into(),
                    target: Target::Amount(year, AmountField::Total),
                    from_map: false,
                },
                MappedColumn {
                    index: 3,
                    heading: "備考".into(),
                    target: Target::Ignored,
                    from_map: false,
                },
            ],
            unit: SheetUnit::Yen,
            default_status: Some(Status::Continuing),
            ..Mapping::default()
        };
        let back = Overrides::parse(&mapping.to_toml()).expect("parses");
        assert_eq!(back.sheet.as_deref(), Some("実施計画"));
        assert_eq!(back.header_rows, Some(vec![3, 4]));
        assert_eq!(back.unit, Some(SheetUnit::Yen));
        let mut columns = back.columns.clone();
        columns.sort_by_key(|(i, _)| *i);
        assert_eq!(
            columns,
            [
                (0, Target::Goal),
                (3, Target::Ignored),
                (27, Target::Amount(year, AmountField::Total))
            ]
        );
        assert_eq!(back.status, Some(Status::Continuing));
    }

    #[test]
    fn bad_mapping_files_say_what_is_wrong() {
        let err = Overrides::parse("unit = \"ドル\"").expect_err("unit");
        assert!(err.en.contains("ドル"), "{}", err.en);
        let err = Overrides::parse("[columns]\nC = \"事業費\"").expect_err("year");
        assert!(err.en.contains("[columns] C"), "{}", err.en);
        let err = Overrides::parse("[columns]\n\"1\" = \"事業名\"").expect_err("letter");
        assert!(err.en.contains("column letter"), "{}", err.en);
        let err = Overrides::parse("colums = 1").expect_err("unknown key");
        assert!(err.en.contains("line 1"), "{}", err.en);
        let err = Overrides::parse("header_rows = [0]").expect_err("row 0");
        assert!(err.ja.contains("1 から"), "{}", err.ja);
    }
}
