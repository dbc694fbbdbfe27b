//! Problems found while reading and validating a plan, each with a stable code, a severity
//! and the place in the source where a person can fix it.
//!
//! Messages exist in Japanese and English; the caller picks one with [`Lang`]. The code
//! (`sum-mismatch`, `not-a-number`, …) never changes once published, so scripts and the
//! configuration can refer to it.

use std::fmt;

/// The language of messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 日本語.
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// Picks the language from a locale string such as `ja_JP.UTF-8` or `en_US`;
    /// anything that does not start with `ja` is English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.trim().to_ascii_lowercase().starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }
}

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Nothing can be stored while an error remains.
    Error,
    /// A plausible but uncertain reading that a person should check.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, $severity:ident, $adjustable:literal; )*) => {
        /// The stable code of a problem.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, for documentation and configuration checks.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as written in reports and configuration, e.g. `sum-mismatch`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $text, )* }
            }

            /// The severity unless configuration says otherwise.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// Whether configuration may change the severity. Problems that leave no
            /// plan to store (an empty file, a wrong encoding…) cannot be downgraded.
            pub fn adjustable(self) -> bool {
                match self { $( Code::$variant => $adjustable, )* }
            }

            /// The code with this text.
            pub fn parse(text: &str) -> Option<Code> {
                Code::ALL.iter().copied().find(|c| c.as_str() == text)
            }
        }
    };
}

codes! {
    /// The file has no content.
    EmptyFile = "empty-file", Error, false;
    /// The bytes are not UTF-8 (or not the encoding the user named).
    Encoding = "encoding", Error, false;
    /// The file is not a plan in any layout keikaku reads.
    NotAPlan = "not-a-plan", Error, false;
    /// The file ends in the middle of a project.
    Truncated = "truncated", Error, false;
    /// The canonical JSON cannot be read (syntax or shape).
    BadJson = "bad-json", Error, false;
    /// A newer or unknown format version.
    UnsupportedVersion = "unsupported-version", Error, false;
    /// No municipality was given and the layout names none.
    MissingMunicipality = "missing-municipality", Error, false;
    /// A municipality code with a wrong shape or check digit.
    BadMunicipalityCode = "bad-municipality-code", Error, false;
    /// A table header that does not name the columns keikaku needs.
    BadHeader = "bad-header", Error, false;
    /// The fiscal years of the document disagree with each other or with the command line.
    EditionMismatch = "edition-mismatch", Error, true;
    /// A policy heading outside any goal, or whose code names another goal.
    PolicyGoalMismatch = "policy-goal-mismatch", Error, true;
    /// A project row before any policy heading or table header.
    RowOutsideTable = "row-outside-table", Error, true;
    /// A cell that should hold an amount holds something else (`12,3a4`).
    NotANumber = "not-a-number", Error, true;
    /// A negative amount.
    NegativeAmount = "negative-amount", Error, true;
    /// An amount larger than any real project (configurable limit).
    AbsurdAmount = "absurd-amount", Error, true;
    /// 事業費 ≠ 特定財源 + 一般財源.
    SumMismatch = "sum-mismatch", Error, true;
    /// The 特定財源 breakdown does not add up to 特定財源.
    BreakdownMismatch = "breakdown-mismatch", Error, true;
    /// The lines of a stacked amount cell disagree or there are too many of them.
    ConflictingAmounts = "conflicting-amounts", Error, true;
    /// An amount for a fiscal year outside the edition.
    YearOutsideEdition = "year-outside-edition", Error, true;
    /// A project without a name.
    MissingName = "missing-name", Error, true;
    /// A project row without a number.
    MissingNumber = "missing-number", Error, true;
    /// A project number that is not a whole number ≥ 1.
    BadNumber = "bad-number", Error, true;
    /// Two projects with the same number in one policy.
    DuplicateNumber = "duplicate-number", Error, true;
    /// Two projects with the same stable id in one edition.
    DuplicateId = "duplicate-id", Error, true;
    /// A malformed stable id.
    BadId = "bad-id", Error, true;
    /// Two policies with the same code in one edition.
    DuplicatePolicy = "duplicate-policy", Error, true;
    /// A 区分 outside the accepted vocabulary.
    UnknownStatus = "unknown-status", Error, true;
    /// A project without 区分.
    MissingStatus = "missing-status", Error, true;
    /// A strategy code that is not of the form `Ⅲ(4)`.
    BadStrategyCode = "bad-strategy-code", Error, true;
    /// A policy with no projects.
    EmptyPolicy = "empty-policy", Error, true;
    /// A malformed policy code.
    BadPolicyCode = "bad-policy-code", Error, true;
    /// A project without 担当課.
    MissingDepartment = "missing-department", Warning, true;
    /// Two amounts on one line, read by column position: check the reading.
    AmbiguousAmounts = "ambiguous-amounts", Warning, true;
    /// Only the total is given, without 特定財源 and 一般財源.
    MissingFundingSplit = "missing-funding-split", Warning, true;
    /// A non-empty cell that keikaku does not read.
    IgnoredCell = "ignored-cell", Warning, true;
    /// A line that belongs to no known part of the layout.
    IgnoredLine = "ignored-line", Warning, true;
    /// The same goal number with two different titles in page headers.
    GoalTitleVariant = "goal-title-variant", Warning, true;
    /// A spreadsheet row for a policy the edition does not have.
    UnknownPolicy = "unknown-policy", Error, true;
    /// A stable id that belongs to another edition or municipality.
    ForeignId = "foreign-id", Error, true;
    /// A stable id that no project has (edited by hand?).
    UnknownId = "unknown-id", Error, true;
    /// A cell whose formula failed (`#VALUE!`, `#DIV/0!`…).
    FormulaError = "formula-error", Error, true;
    /// A hidden spreadsheet row: its content would be read without anyone seeing it.
    HiddenRow = "hidden-row", Error, true;
    /// Merged cells: every cell but the first of the region looks empty.
    MergedCells = "merged-cells", Error, true;
    /// A row repeated exactly.
    DuplicateRow = "duplicate-row", Error, true;
    /// Amounts about 1,000 times what the project, the plan or the previous edition suggest:
    /// entered in 円 instead of 千円? (An error when a whole sheet is off.)
    YenNotThousandYen = "yen-not-thousand-yen", Warning, true;
    /// A spreadsheet for an edition that is not in the database yet.
    MissingEdition = "missing-edition", Error, false;
    /// A sheet row changed both in the sheet and, since the sheet was made, in the database;
    /// or changed in the sheet while the project has been taken out of the edition since.
    StaleRow = "stale-row", Error, false;
    /// A 版 (row version) cell that is empty or not a version keikaku wrote.
    BadVersion = "bad-version", Error, true;
    /// A control character (NUL, ESC, BEL…) in a text: terminals would obey it, PostgreSQL
    /// cannot store NUL, Excel cannot show it. Only tabs and line breaks are text.
    ControlCharacter = "control-character", Error, false;
    /// The same fiscal year twice among one project's amounts.
    DuplicateYear = "duplicate-year", Error, false;
    /// Two goals with the same number in one edition.
    DuplicateGoal = "duplicate-goal", Error, false;
    /// The same edition (municipality and years) twice in one document.
    DuplicateEdition = "duplicate-edition", Error, false;
    /// The same municipality twice in one document.
    DuplicateMunicipality = "duplicate-municipality", Error, false;
    /// A workbook whose parts do not hold together: a cell reference or shared string that
    /// does not exist, a cell given twice, a value that is not of its stated type.
    BrokenWorkbook = "broken-workbook", Error, false;
    /// More rows, columns, cells or text than keikaku reads.
    TooLarge = "too-large", Error, false;
    /// A 区分 the document does not state, taken from its conventions (a bulletin list marks
    /// only what is not 継続).
    AssumedStatus = "assumed-status", Warning, true;
    /// A heading with nothing after it at the end of the text: a section cut off, not counted.
    CutOff = "cut-off", Warning, true;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the source a problem is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Position {
    /// The file as a whole.
    #[default]
    File,
    /// A line of a text file, with the 1-based cell or character column where known.
    Line {
        /// 1-based line number.
        line: u32,
        /// 1-based column (cell number in tab-separated text, character in JSON).
        column: Option<u32>,
    },
    /// A cell of a spreadsheet, e.g. sheet 実施計画, cell F12 (printed that way).
    Cell {
        /// Sheet name.
        sheet: String,
        /// 0-based row (F12 is row 11).
        row: u32,
        /// 0-based column (F12 is column 5).
        column: u32,
    },
    /// A path into a structured document, e.g. `municipalities[0].editions[0]`.
    Path(String),
}

impl Position {
    /// A line without a column.
    pub fn line(line: u32) -> Position {
        Position::Line { line, column: None }
    }

    /// A line and 1-based column.
    pub fn at(line: u32, column: u32) -> Position {
        Position::Line {
            line,
            column: Some(column),
        }
    }

    /// The 1-based line, if the position has one.
    pub fn line_number(&self) -> Option<u32> {
        match self {
            Position::Line { line, .. } => Some(*line),
            _ => None,
        }
    }
}

impl fmt::Display for Position {
    /// The part after `FILE:` in `FILE:LINE:COL: …`; empty for the file as a whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::File => Ok(()),
            Position::Line { line, column: None } => write!(f, "{line}"),
            Position::Line {
                line,
                column: Some(c),
            } => write!(f, "{line}:{c}"),
            Position::Cell { sheet, row, column } => {
                write!(
                    f,
                    "{sheet}!{}",
                    crate::sheet::cell_name(*row as usize, *column as usize)
                )
            }
            Position::Path(path) => f.write_str(path),
        }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// Where it is.
    pub position: Position,
    /// The field concerned, in Japanese (`事業費`, `区分`…), if any.
    pub field: Option<&'static str>,
    message_ja: String,
    message_en: String,
    /// For a summary: how many problems of its code it stands for (0 for a problem).
    left_out: usize,
}

/// Problems of one code shown in a report; more are counted in one summary.
pub const SHOWN_PER_CODE: usize = 100;

/// `text` with control characters shown as escapes (`\u{1b}`), so that printing it can
/// never move a terminal's cursor, change its colours or ring its bell. With
/// `keep_line_breaks`, line feeds stay (a table cell may span lines) and a tab becomes a
/// space; otherwise every control character is escaped.
pub fn visible(text: &str, keep_line_breaks: bool) -> std::borrow::Cow<'_, str> {
    let needs = |c: char| c.is_control() && !(keep_line_breaks && c == '\n');
    if !text.chars().any(needs) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if keep_line_breaks => out.push('\n'),
            '\t' if keep_line_breaks => out.push(' '),
            '\r' if keep_line_breaks => {}
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Diagnostic {
    /// A problem with the code's default severity. Control characters in the messages (a
    /// message may quote the document) are shown as escapes.
    pub fn new(
        code: Code,
        position: Position,
        ja: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        let clean = |text: String| match visible(&text, false) {
            std::borrow::Cow::Borrowed(_) => text,
            std::borrow::Cow::Owned(escaped) => escaped,
        };
        Diagnostic {
            code,
            severity: code.default_severity(),
            position,
            field: None,
            message_ja: clean(ja.into()),
            message_en: clean(en.into()),
            left_out: 0,
        }
    }

    /// The summary of `count` problems of `code` left out of a report, the first of them at
    /// `position`.
    fn summary(code: Code, severity: Severity, position: Position, count: usize) -> Self {
        let n = crate::money::group_thousands(i64::try_from(count).unwrap_or(i64::MAX));
        let mut summary = Diagnostic::new(
            code,
            position,
            format!(
                "同じ種類（{code}）の問題がここからほかに {n} 件あります。最初の {SHOWN_PER_CODE} 件だけを示しました。"
            ),
            format!(
                "{n} more problems of this kind ({code}) from here on were left out; only the first {SHOWN_PER_CODE} are shown"
            ),
        );
        summary.severity = severity;
        summary.left_out = count;
        summary
    }

    /// For a summary of problems left out of a report, how many it stands for; 0 for a
    /// problem of its own.
    pub fn left_out(&self) -> usize {
        self.left_out
    }

    /// How many problems this entry counts for: itself, or those a summary stands for.
    fn weight(&self) -> usize {
        if self.left_out > 0 { self.left_out } else { 1 }
    }

    /// The same problem, naming the field concerned.
    pub fn with_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// The same problem with another severity (for checks whose severity depends on how
    /// much of the document they concern).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.message_ja,
            Lang::En => &self.message_en,
        }
    }

    /// One line in the form compilers use: `FILE:LINE: error[CODE]: message`.
    pub fn render(&self, file: &str, lang: Lang) -> String {
        let position = self.position.to_string();
        let place = if position.is_empty() {
            file.to_owned()
        } else {
            format!("{file}:{position}")
        };
        let field = match (self.field, lang) {
            (Some(f), Lang::Ja) => format!("{f}: "),
            (Some(f), Lang::En) => format!("{}: ", field_in_english(f)),
            (None, _) => String::new(),
        };
        format!(
            "{place}: {}[{}]: {field}{}",
            self.severity.as_str(),
            self.code,
            self.message(lang)
        )
    }
}

/// English names of the Japanese field labels used in diagnostics.
pub fn field_in_english(field: &str) -> &str {
    match field {
        "No" => "No",
        "事業名" => "project name",
        "事業概要" => "summary",
        "事業費" => "total cost",
        "特定財源" => "earmarked funding",
        "一般財源" => "general funding",
        "区分" => "status",
        "地方創生事業" => "strategy code",
        "担当課" => "department",
        "施策" => "policy",
        "基本目標" => "goal",
        "年度" => "fiscal year",
        "分野" => "goal field",
        "めざすまちの姿" => "vision",
        "計画の題名" => "edition title",
        "出典" => "source",
        "団体名" => "municipality name",
        other => other,
    }
}

/// Every problem found in one source, in source order. Of each code, the first
/// [`SHOWN_PER_CODE`] are kept; the others are only counted, and [`Report::summarise`] (also
/// run by [`Report::sort`] and [`Report::apply_overrides`]) adds one summary saying how many
/// were left out and where the first of them is. A file with millions of stray lines thus
/// costs a hundred diagnostics, not gigabytes, and the counts stay exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The problems.
    pub diagnostics: Vec<Diagnostic>,
    /// Per code: how many were kept, and those left out and not summarised yet.
    tally: std::collections::BTreeMap<Code, Tally>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    kept: usize,
    left_out: usize,
    first_left_out: Option<(Position, Severity)>,
}

impl Report {
    /// Adds a problem (or counts it, beyond [`SHOWN_PER_CODE`] of its code).
    pub fn push(&mut self, diagnostic: Diagnostic) {
        let tally = self.tally.entry(diagnostic.code).or_default();
        if diagnostic.left_out > 0 {
            self.diagnostics.push(diagnostic);
        } else if tally.kept < SHOWN_PER_CODE {
            tally.kept += 1;
            self.diagnostics.push(diagnostic);
        } else {
            tally.left_out += 1;
            tally
                .first_left_out
                .get_or_insert((diagnostic.position, diagnostic.severity));
        }
    }

    /// True when problems of `code` are no longer kept, only counted: a reader meeting
    /// millions of them may then call [`Report::left_out`] instead of building each message.
    pub fn is_full(&self, code: Code) -> bool {
        self.tally
            .get(&code)
            .is_some_and(|t| t.kept >= SHOWN_PER_CODE)
    }

    /// Counts a problem of `code` at `position` (with the code's default severity) that the
    /// report leaves out.
    pub fn left_out(&mut self, code: Code, position: Position) {
        let tally = self.tally.entry(code).or_default();
        tally.left_out += 1;
        tally
            .first_left_out
            .get_or_insert((position, code.default_severity()));
    }

    /// Adds several problems.
    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        for diagnostic in diagnostics {
            self.push(diagnostic);
        }
    }

    /// Adds the problems of another report, with those it left out.
    pub fn append(&mut self, other: Report) {
        self.extend(other.diagnostics);
        for (code, theirs) in other.tally {
            if let Some(first) = theirs.first_left_out {
                let ours = self.tally.entry(code).or_default();
                ours.left_out += theirs.left_out;
                ours.first_left_out.get_or_insert(first);
            }
        }
    }

    /// Adds one summary per code for the problems left out so far.
    pub fn summarise(&mut self) {
        for (code, tally) in &mut self.tally {
            if let Some((position, severity)) = tally.first_left_out.take() {
                self.diagnostics.push(Diagnostic::summary(
                    *code,
                    severity,
                    position,
                    tally.left_out,
                ));
                tally.left_out = 0;
            }
        }
    }

    fn count(&self, severity: Severity) -> usize {
        let listed: usize = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .map(Diagnostic::weight)
            .sum();
        let pending: usize = self
            .tally
            .values()
            .filter(|t| {
                t.first_left_out
                    .as_ref()
                    .is_some_and(|(_, s)| *s == severity)
            })
            .map(|t| t.left_out)
            .sum();
        listed + pending
    }

    /// Number of errors, those left out included.
    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Number of warnings, those left out included.
    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// True when at least one error remains.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// Sorts problems by position (stable for equal positions) so output follows the file;
    /// summaries of problems left out sit where the first of them would have been.
    pub fn sort(&mut self) {
        self.summarise();
        self.diagnostics.sort_by(|a, b| a.position.cmp(&b.position));
    }

    /// Applies the user's severity choices: each code may be raised to an error, lowered
    /// to a warning, or silenced, unless it is not adjustable.
    pub fn apply_overrides(&mut self, overrides: &[(Code, Option<Severity>)]) {
        self.summarise();
        self.diagnostics.retain_mut(|d| {
            match overrides
                .iter()
                .find(|(code, _)| *code == d.code && code.adjustable())
            {
                Some((_, Some(severity))) => {
                    d.severity = *severity;
                    true
                }
                Some((_, None)) => false,
                None => true,
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_compiler() {
        let d = Diagnostic::new(
            Code::SumMismatch,
            Position::line(22),
            "合いません",
            "does not add up",
        )
        .with_field("事業費");
        assert_eq!(
            d.render("plan.txt", Lang::En),
            "plan.txt:22: error[sum-mismatch]: total cost: does not add up"
        );
        assert_eq!(
            d.render("plan.txt", Lang::Ja),
            "plan.txt:22: error[sum-mismatch]: 事業費: 合いません"
        );
        let cell = Diagnostic::new(
            Code::NotANumber,
            Position::Cell {
                sheet: "実施計画".into(),
                row: 11,
                column: 5,
            },
            "数値ではありません",
            "not a number",
        );
        assert_eq!(
            cell.render("r3.xlsx", Lang::En),
            "r3.xlsx:実施計画!F12: error[not-a-number]: not a number"
        );
        let file = Diagnostic::new(Code::EmptyFile, Position::File, "空です", "empty");
        assert_eq!(
            file.render("x.txt", Lang::En),
            "x.txt: error[empty-file]: empty"
        );
    }

    #[test]
    fn codes_are_unique_and_parse_back() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(*code));
        }
        let mut texts: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        texts.sort_unstable();
        texts.dedup();
        assert_eq!(texts.len(), Code::ALL.len());
    }

    #[test]
    fn overrides_change_only_adjustable_codes() {
        let mut report = Report::default();
        report.push(Diagnostic::new(
            Code::UnknownStatus,
            Position::line(1),
            "",
            "",
        ));
        report.push(Diagnostic::new(Code::EmptyFile, Position::File, "", ""));
        report.push(Diagnostic::new(
            Code::IgnoredLine,
            Position::line(2),
            "",
            "",
        ));
        report.apply_overrides(&[
            (Code::UnknownStatus, Some(Severity::Warning)),
            (Code::EmptyFile, Some(Severity::Warning)),
            (Code::IgnoredLine, None),
        ]);
        assert_eq!(report.diagnostics.len(), 2);
        assert_eq!(report.diagnostics[0].severity, Severity::Warning);
        assert_eq!(report.diagnostics[1].severity, Severity::Error);
    }

    #[test]
    fn repeated_problems_are_summarised_after_a_hundred() {
        let mut report = Report::default();
        for line in 1..=250 {
            report.push(Diagnostic::new(
                Code::IgnoredLine,
                Position::line(line),
                "読み飛ばしました",
                "skipped",
            ));
        }
        report.push(Diagnostic::new(
            Code::SumMismatch,
            Position::line(7),
            "合いません",
            "does not add up",
        ));
        assert_eq!(report.warning_count(), 250);
        assert_eq!(report.error_count(), 1);
        report.sort();
        assert_eq!(report.diagnostics.len(), 100 + 1 + 1);
        assert_eq!(report.warning_count(), 250);
        let summary = report
            .diagnostics
            .iter()
            .find(|d| d.left_out() > 0)
            .expect("a summary");
        assert_eq!(summary.left_out(), 150);
        assert_eq!(summary.code, Code::IgnoredLine);
        assert_eq!(summary.severity, Severity::Warning);
        assert_eq!(summary.position, Position::line(101));
        assert!(
            summary.message(Lang::En).contains("150 more"),
            "{}",
            summary.message(Lang::En)
        );
        assert!(
            summary.message(Lang::Ja).contains("150 件"),
            "{}",
            summary.message(Lang::Ja)
        );
        // The summary follows the hundredth line shown.
        let at = report
            .diagnostics
            .iter()
            .position(|d| d.left_out() > 0)
            .expect("summary");
        assert_eq!(report.diagnostics[at - 1].position, Position::line(100));
        // Summarising twice adds nothing.
        report.sort();
        assert_eq!(report.diagnostics.len(), 102);

        // Silencing the code silences its summary too; raising it raises both.
        let mut silenced = report.clone();
        silenced.apply_overrides(&[(Code::IgnoredLine, None)]);
        assert_eq!((silenced.warning_count(), silenced.error_count()), (0, 1));
        report.apply_overrides(&[(Code::IgnoredLine, Some(Severity::Error))]);
        assert_eq!(report.error_count(), 251);
    }

    #[test]
    fn appended_reports_keep_what_they_left_out() {
        let mut theirs = Report::default();
        for line in 1..=120 {
            theirs.push(Diagnostic::new(
                Code::MissingNumber,
                Position::line(line),
                "",
                "",
            ));
        }
        let mut ours = Report::default();
        ours.append(theirs);
        assert_eq!(ours.error_count(), 120);
        ours.sort();
        assert_eq!(ours.diagnostics.len(), 101);
        assert_eq!(ours.error_count(), 120);
    }

    #[test]
    fn control_characters_in_messages_are_shown_as_escapes() {
        let d = Diagnostic::new(
            Code::IgnoredLine,
            Position::line(1),
            "「\u{1b}[2J\u{7}」",
            "\"\u{0}\u{9b}31m\"",
        );
        assert_eq!(d.message(Lang::Ja), "「\\u{1b}[2J\\u{7}」");
        assert_eq!(d.message(Lang::En), "\"\\u{0}\\u{9b}31m\"");
        assert_eq!(visible("a\tb\r\nc\u{1b}", true), "a b\nc\\u{1b}");
        assert_eq!(visible("a\nb", false), "a\\u{a}b");
    }

    #[test]
    fn locale_picks_language() {
        assert_eq!(Lang::from_locale("ja_JP.UTF-8"), Lang::Ja);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
    }
}
