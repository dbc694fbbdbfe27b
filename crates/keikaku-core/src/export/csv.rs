//! CSV as Japanese users open it: UTF-8 with a BOM (Excel reads it correctly), one header
//! row, CRLF line ends; or Shift_JIS (CP932) for older software.
//!
//! Characters that CP932 cannot encode are replaced by a look-alike where one exists
//! (〜 → ～) or by 〓 (the traditional replacement mark), and counted so the caller can say
//! so; the encoder is never allowed to write HTML character references into a CSV.
//!
//! **Formula injection.** Excel runs a cell that begins with `=`, `+`, `-`, `@`, a tab or a
//! carriage return as a formula, so a 事業名 such as `=HYPERLINK(…)` in a plan would run on
//! the computer of whoever opens the download. Every CSV keikaku writes goes through
//! [`Writer`], which passes each text cell through [`neutralise`]: such a cell gets a single
//! quote in front (`'=HYPERLINK(…)`), as the OWASP guidance on CSV injection recommends.
//! Numeric cells (amounts, counts, years) are written as they are, so a negative amount stays a
//! number and `-` stays "no amount"; a numeric cell that is not a plain number is treated as
//! text. [`restore`] undoes [`neutralise`] when keikaku reads its own sheet back.

use std::borrow::Cow;

use crate::export::tables::{self, Table};
use crate::model::Edition;

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What readers of keikaku's CSV need to know about [`neutralise`], for the open-data
/// descriptions (the Data Package's description says it).
pub const NEUTRALISED_NOTE: &str = "文字列の項目のうち =、+、-、@、タブ、復帰（CR）で始まるものは、表計算ソフトで数式として実行されないよう先頭に半角の ' を付けています（OWASP の CSV インジェクション対策）。数値の項目には付けていません。";

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when `text`, after any single quotes already in front, begins like a formula.
fn starts_like_formula(text: &str) -> bool {
    text.trim_start_matches('\'')
        .starts_with(FORMULA_STARTS.as_slice())
}

/// A text cell as it is safe to write into a CSV: with a single quote in front when it begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return, so that a spreadsheet shows it as
/// text instead of running it. Text that already begins with quotes followed by one of those
/// characters gets one more quote, so that [`restore`] gives back exactly what was written.
/// Every CSV writer of keikaku calls this (through [`Writer`]); numbers must not go through it.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if starts_like_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text [`neutralise`] was given: one leading quote removed where it added one (a quote
/// followed, after any further quotes, by `=`, `+`, `-`, `@`, a tab or a carriage return).
/// Everything else is returned unchanged.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if starts_like_formula(rest) => rest,
        _ => cell,
    }
}

/// True for what a numeric column holds: empty (no value), `-` (no amount), or a whole or
/// decimal number with an optional sign.
fn is_plain_number(text: &str) -> bool {
    if text.is_empty() || text == "-" {
        return true;
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// One cell of a CSV row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<'a> {
    /// Text: written through [`neutralise`].
    Text(Cow<'a, str>),
    /// A cell of a numeric column: a number, `-` (no amount) or empty, written as it is.
    /// Anything else is written as text would be.
    Number(Cow<'a, str>),
}

impl<'a> Field<'a> {
    /// A text cell.
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        Field::Text(text.into())
    }

    /// A numeric cell given as text (`-1234`, `-`, empty).
    pub fn number(text: impl Into<Cow<'a, str>>) -> Self {
        Field::Number(text.into())
    }

    /// A whole number, or an empty cell for no value.
    pub fn integer(value: Option<i64>) -> Self {
        Field::Number(value.map_or(Cow::Borrowed(""), |n| Cow::Owned(n.to_string())))
    }

    /// The cell's text as written into the file.
    pub fn written(&self) -> Cow<'_, str> {
        match self {
            Field::Number(text) if is_plain_number(text) => Cow::Borrowed(text),
            Field::Text(text) | Field::Number(text) => neutralise(text),
        }
    }
}

/// Writes CSV text: CRLF line ends, quoting where needed, every text cell neutralised (see the
/// module documentation). The one way keikaku writes CSV.
pub struct Writer {
    inner: ::csv::Writer<Vec<u8>>,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::new()
    }
}

impl Writer {
    /// An empty CSV.
    pub fn new() -> Self {
        Writer {
            inner: ::csv::WriterBuilder::new()
                .terminator(::csv::Terminator::CRLF)
                .from_writer(Vec::new()),
        }
    }

    /// Appends a header row (text cells).
    pub fn header<'h>(&mut self, names: impl IntoIterator<Item = &'h str>) {
        self.row(names.into_iter().map(Field::text));
    }

    /// Appends a row.
    pub fn row<'f>(&mut self, fields: impl IntoIterator<Item = Field<'f>>) {
        let cells: Vec<Field<'f>> = fields.into_iter().collect();
        // Writing into a Vec cannot fail.
        let _ = self
            .inner
            .write_record(cells.iter().map(|f| f.written().into_owned()));
    }

    /// The CSV text, without a BOM.
    pub fn into_string(self) -> String {
        let bytes = self.inner.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// The CSV text with a BOM in front (U+FEFF), as printed to a terminal or a file.
    pub fn into_string_with_bom(self) -> String {
        format!("\u{FEFF}{}", self.into_string())
    }
}

/// The table as CSV text (header and rows, CRLF), without a BOM.
pub fn to_string(table: &Table) -> String {
    rows_to_string(table, true)
}

/// The table's rows as CSV text (CRLF), with the header row first when `header`: pieces of
/// one long CSV written a batch at a time. Text cells are neutralised (see the module
/// documentation).
pub fn rows_to_string(table: &Table, header: bool) -> String {
    let mut writer = Writer::new();
    if header {
        writer.header(table.columns.iter().map(|c| c.name));
    }
    for row in &table.rows {
        writer.row(row.iter().map(tables::Cell::field));
    }
    writer.into_string()
}

/// The table as UTF-8 CSV with a BOM.
pub fn to_utf8_bom(table: &Table) -> Vec<u8> {
    let mut out = BOM.to_vec();
    out.extend_from_slice(to_string(table).as_bytes());
    out
}

/// The table as Shift_JIS (CP932) CSV, and how many characters had to be replaced.
pub fn to_shift_jis(table: &Table) -> (Vec<u8>, usize) {
    encode_shift_jis(&to_string(table))
}

/// Encodes text as CP932, replacing what it cannot hold (see the module documentation).
pub fn encode_shift_jis(text: &str) -> (Vec<u8>, usize) {
    let (bytes, _, had_errors) = encoding_rs::SHIFT_JIS.encode(text);
    if !had_errors {
        return (bytes.into_owned(), 0);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut replaced = 0;
    let mut buffer = [0u8; 4];
    for c in text.chars() {
        let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buffer));
        if !bad {
            out.extend_from_slice(&bytes);
            continue;
        }
        replaced += 1;
        let substitute = match c {
            '〜' => '～',
            '•' | '･' => '・',
            '–' | '—' => '－',
            _ => '〓',
        };
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(substitute.encode_utf8(&mut buffer));
        out.extend_from_slice(&bytes);
    }
    (out, replaced)
}

/// The 事業 table of `editions` as UTF-8 CSV with a BOM (what `keikaku export --format csv`
/// writes).
pub fn to_csv_utf8_bom(editions: &[Edition]) -> Vec<u8> {
    to_utf8_bom(&tables::projects(editions))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tables::{Cell, Column, Kind};

    const COLUMNS: [Column; 3] = [
        Column {
            name: "事業名",
            kind: Kind::Text,
            required: true,
            description: "",
        },
        Column {
            name: "事業費（千円）",
            kind: Kind::Amount,
            required: false,
            description: "",
        },
        Column {
            name: "年度",
            kind: Kind::Integer,
            required: true,
            description: "",
        },
    ];

    #[test]
    fn text_that_could_start_a_formula_gets_a_quote_and_numbers_stay_numbers() {
        let names = [
            "=HYPERLINK(\"http://example.com\",\"x\")",
            "+SUM(A1)",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\t=1+1",
            "\r=1+1",
            "'=1+1",
            "地域おこし協力隊活用事業",
            "-",
            "",
        ];
        let rows = names
            .iter()
            .map(|name| {
                vec![
                    Cell::Text((*name).to_owned()),
                    Cell::Integer(Some(-1_200)),
                    Cell::Integer(None),
                ]
            })
            .collect();
        let table = Table {
            name: "projects",
            title: "事業",
            columns: &COLUMNS,
            primary_key: &[],
            rows,
        };
        let text = to_string(&table);
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let cells: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_owned).collect())
            .collect();
        let written: Vec<&str> = cells.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            written,
            [
                "'=HYPERLINK(\"http://example.com\",\"x\")",
                "'+SUM(A1)",
                "'-2+3+cmd|' /C calc'!A0",
                "'@SUM(A1)",
                "'\t=1+1",
                "'\r=1+1",
                "''=1+1",
                "地域おこし協力隊活用事業",
                "'-",
                "",
            ]
        );
        for row in &cells {
            assert_eq!(row[1], "-1200", "a negative amount stays a number");
            assert_eq!(row[2], "", "no value stays empty");
        }
        // Shift_JIS goes through the same writer.
        let (sjis, _) = to_shift_jis(&table);
        let decoded = encoding_rs::SHIFT_JIS.decode(&sjis).0.into_owned();
        assert_eq!(decoded, text);
        assert!(decoded.contains("\r\n'+SUM(A1),-1200,\r\n"), "{decoded}");
    }

    #[test]
    fn restore_undoes_neutralise() {
        for text in [
            "=1+1", "'=1+1", "''=1+1", "'", "''", "-", "'-", "a'=b", "", "普通", "\t", "'x",
        ] {
            let written = neutralise(text);
            assert!(
                !written.starts_with(FORMULA_STARTS.as_slice()),
                "{text:?} → {written:?}"
            );
            assert_eq!(restore(&written), text, "{written:?}");
        }
        assert_eq!(
            restore("'x"),
            "'x",
            "only a quote before a formula start is keikaku's"
        );
        assert_eq!(Field::number("-").written(), "-", "no amount stays `-`");
        assert_eq!(Field::number("-12.5").written(), "-12.5");
        assert_eq!(
            Field::number("-1+2").written(),
            "'-1+2",
            "not a number: text"
        );
        assert_eq!(Field::number("1.").written(), "1.");
    }

    #[test]
    fn the_template_csv_neutralises_text_and_reads_back_exactly() {
        use crate::fiscal::EditionSpan;
        use crate::municipality::{Municipality, MunicipalityCode};
        use crate::sheet::grid::{Value, read_csv};
        let municipality = Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        };
        let span = EditionSpan::parse("R3-R5").expect("span");
        let mut edition = crate::synth::Generator::new(3).edition(&municipality, span, 1, 2, true);
        let project = &mut edition.goals[0].policies[0].projects[0];
        project.name = "=1+2".into();
        project.summary = "-3+4 の事業".into();
        project.departments = vec!["@経理課".into()];
        let bytes = crate::sheet::template::to_csv(&edition);
        let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
        let line = text.lines().nth(1).expect("first project");
        assert!(
            line.contains(",'=1+2,'-3+4 の事業,") && line.contains(",'@経理課,"),
            "{line}"
        );
        let grid = read_csv(&bytes, None).expect("grid");
        let column = |name: &str| {
            grid.rows[0]
                .iter()
                .position(|v| v.text() == name)
                .expect("column")
        };
        assert_eq!(grid.rows[1][column("事業名")], Value::Text("=1+2".into()));
        assert_eq!(
            grid.rows[1][column("事業概要")],
            Value::Text("-3+4 の事業".into())
        );
        assert_eq!(
            grid.rows[1][column("担当課")],
            Value::Text("@経理課".into())
        );
    }

    #[test]
    fn shift_jis_replaces_what_cp932_cannot_hold() {
        let (bytes, replaced) = encode_shift_jis("令和2年度〜令和4年度 𠮷野");
        assert_eq!(replaced, 2);
        let (text, _, errors) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!errors);
        assert_eq!(text, "令和2年度～令和4年度 〓野");
        assert!(!String::from_utf8_lossy(&bytes).contains("&#"));
        let (plain, none) = encode_shift_jis("白河市①髙");
        assert_eq!(none, 0);
        assert_eq!(encoding_rs::SHIFT_JIS.decode(&plain).0, "白河市①髙");
    }
}
