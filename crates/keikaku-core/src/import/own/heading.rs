//! What a column heading of a town's own workbook says: which field (by the usual names and
//! their synonyms) and which fiscal year (in every notation towns use: `R6`, `令和6年度`,
//! `2024`, `2024年度`, `H30`, `平成32年度`).
//!
//! Headings are compared after NFKC normalisation with spaces, line breaks, bracketed units
//! (`（千円）`) and the `うち` of breakdown columns removed, so `事 業 名` and `事業名` are one.
//! Only whole headings are recognised, never a word inside a title (`令和6年度 実施計画一覧`
//! is not a 事業名 column).

use unicode_normalization::UnicodeNormalization;

use crate::fiscal::FiscalYear;
use crate::model::FundingKind;
use crate::sheet::AmountField;

/// What a column of the town's sheet becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// 基本目標 (also 政策, 分野): number and title, possibly only one of them.
    Goal,
    /// 施策 (also 施策名, 施策コード): code and title, possibly only one of them.
    Policy,
    /// No / 番号.
    Number,
    /// 事業名.
    Name,
    /// 事業概要.
    Summary,
    /// 区分.
    Status,
    /// 総合戦略 / 地方創生 codes.
    Strategy,
    /// 担当課.
    Department,
    /// An amount of a fiscal year.
    Amount(FiscalYear, AmountField),
    /// A total over the whole plan period (総事業費 beside the yearly columns): checked
    /// against the sum of the yearly 事業費, not stored.
    PeriodTotal,
    /// 備考: recognised, not stored.
    Remarks,
    /// A change column (増減, 対前年度増減, 前年度比較…): a difference between two amounts,
    /// not a plan amount. Recognised and not read, so its `△` negatives are no error.
    Change,
    /// Not read.
    Ignored,
}

/// A field a heading names, before its year is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// A column that is not an amount.
    Plain(Target),
    /// An amount field, whose year comes from the heading or the heading above it.
    Amount(AmountField),
}

/// Headings and their synonyms, compared with the normalised heading.
const PLAIN: &[(Target, &[&str])] = &[
    (
        Target::Name,
        &[
            "事業名",
            "事務事業名",
            "主要事業名",
            "事業名称",
            "事務事業の名称",
            "事業の名称",
            "主な事業名",
            "実施事業名",
        ],
    ),
    (
        Target::Summary,
        &[
            "事業概要",
            "事業内容",
            "概要",
            "事業の概要",
            "事業の内容",
            "内容",
            "事業概要・目的",
        ],
    ),
    (
        Target::Department,
        &[
            "担当課",
            "所管課",
            "担当部課",
            "担当部署",
            "所管部署",
            "担当課名",
            "所管課名",
            "担当",
            "所管",
            "担当部局",
        ],
    ),
    (
        Target::Status,
        &[
            "区分",
            "新規・継続",
            "新規/継続",
            "新規継続",
            "事業区分",
            "新規・継続の別",
        ],
    ),
    (
        Target::Strategy,
        &[
            "総合戦略",
            "地方創生",
            "戦略コード",
            "地方創生事業",
            "総合戦略コード",
            "総合戦略番号",
            "地方創生総合戦略",
            "総合戦略の施策",
        ],
    ),
    (
        Target::Goal,
        &[
            "基本目標",
            "政策",
            "分野",
            "基本目標名",
            "政策名",
            "分野名",
            "政策分野",
        ],
    ),
    (
        Target::Policy,
        &["施策", "施策名", "施策コード", "施策番号", "施策の名称"],
    ),
    (
        Target::Number,
        &[
            "No",
            "NO",
            "no",
            "No.",
            "番号",
            "事業番号",
            "№",
            "項番",
            "通番",
        ],
    ),
    (
        Target::PeriodTotal,
        &[
            "総事業費",
            "計画期間事業費",
            "計画期間合計",
            "事業費合計",
            "合計",
        ],
    ),
    (Target::Remarks, &["備考", "摘要", "特記事項"]),
    (
        Target::Change,
        &[
            "増減",
            "増減額",
            "増減率",
            "事業費増減",
            "事業費増減額",
            "対前年度増減",
            "対前年度増減額",
            "対前年度比較",
            "前年度比較",
            "前年度比",
            "前年比",
            "比較増減",
            "差引",
            "差引増減",
            "差額",
        ],
    ),
];

/// Amount headings and their synonyms.
const AMOUNTS: &[(AmountField, &[&str])] = &[
    (
        AmountField::Total,
        &[
            "事業費",
            "計画事業費",
            "事業費計",
            "事業費(計)",
            "計画額",
            "事業費見込",
        ],
    ),
    (AmountField::Earmarked, &["特定財源", "特定財源計"]),
    (
        AmountField::Kind(FundingKind::NationalAndPrefectural),
        &["国県支出金", "国・県支出金", "国県補助金", "国・県補助金"],
    ),
    (
        AmountField::Kind(FundingKind::National),
        &["国庫支出金", "国庫補助金", "国支出金"],
    ),
    (
        AmountField::Kind(FundingKind::Prefectural),
        &["県支出金", "県補助金", "都道府県支出金"],
    ),
    (AmountField::Kind(FundingKind::Bonds), &["地方債", "起債"]),
    (
        AmountField::Kind(FundingKind::Other),
        &["その他", "その他特定財源"],
    ),
    (AmountField::General, &["一般財源"]),
];

/// The heading as compared: NFKC, without spaces, line breaks, bracketed parts (`（千円）`,
/// `(単位:円)`) or a leading `うち`.
pub fn normalise(text: &str) -> String {
    let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
    let mut out = String::with_capacity(t.len());
    let mut depth = 0usize;
    for c in t.chars() {
        match c {
            '(' | '[' | '【' | '〔' => depth += 1,
            ')' | ']' | '】' | '〕' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.strip_prefix("うち").map(str::to_owned).unwrap_or(out)
}

/// The field a normalised heading (year removed) names.
pub fn named(heading: &str) -> Option<Named> {
    if heading.is_empty() {
        return None;
    }
    if let Some((target, _)) = PLAIN.iter().find(|(_, names)| names.contains(&heading)) {
        return Some(Named::Plain(*target));
    }
    AMOUNTS
        .iter()
        .find(|(_, names)| names.contains(&heading))
        .map(|(field, _)| Named::Amount(*field))
}

/// The label keikaku uses for an amount field in headings and the mapping file.
pub fn amount_label(field: AmountField) -> &'static str {
    match field {
        AmountField::Total => "事業費",
        AmountField::Earmarked => "特定財源",
        AmountField::Kind(FundingKind::NationalAndPrefectural) => "国県支出金",
        AmountField::Kind(kind) => kind.label(),
        AmountField::General => "一般財源",
    }
}

/// The amount field called `label` (as [`amount_label`] writes it, or a synonym).
pub fn amount_field(label: &str) -> Option<AmountField> {
    match named(&normalise(label))? {
        Named::Amount(field) => Some(field),
        Named::Plain(_) => None,
    }
}

/// The label of a target, as the mapping prints it and the mapping file writes it.
pub fn target_label(target: Target) -> String {
    match target {
        Target::Goal => "基本目標".into(),
        Target::Policy => "施策".into(),
        Target::Number => "No".into(),
        Target::Name => "事業名".into(),
        Target::Summary => "事業概要".into(),
        Target::Status => "区分".into(),
        Target::Strategy => "総合戦略".into(),
        Target::Department => "担当課".into(),
        Target::Amount(year, field) => format!("{} {}", year.short(), amount_label(field)),
        Target::PeriodTotal => "総事業費".into(),
        Target::Remarks => "備考".into(),
        Target::Change => "増減".into(),
        Target::Ignored => "無視".into(),
    }
}

/// The target a mapping file names: the labels of [`target_label`], their synonyms, and
/// `〈year〉 〈amount field〉` in any year notation.
pub fn parse_target(text: &str) -> Option<Target> {
    let trimmed = text.trim();
    if matches!(trimmed, "無視" | "ignore" | "-") {
        return Some(Target::Ignored);
    }
    if let Some((year, rest)) = trimmed.split_once(char::is_whitespace)
        && let Some(year) = FiscalYear::parse(year)
    {
        return amount_field(rest).map(|field| Target::Amount(year, field));
    }
    match named(&normalise(trimmed))? {
        Named::Plain(target) => Some(target),
        Named::Amount(_) => None,
    }
}

/// The fiscal years a heading names, each with the heading left once the year is taken out.
/// Notations: `R6`, `令和6年度`, `令和元年度`, `H30`, `平成32年度`, `2024`, `2024年度`,
/// `FY2024`; a number of four digits counts only between 1989 and 2200.
pub fn years_in(heading: &str) -> (Vec<FiscalYear>, String) {
    let chars: Vec<char> = heading.nfkc().filter(|c| !c.is_whitespace()).collect();
    let mut years = Vec::new();
    let mut rest = String::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some((year, end)) = year_at(&chars, i) {
            years.push(year);
            i = end;
        } else {
            rest.push(chars[i]);
            i += 1;
        }
    }
    (years, rest)
}

/// A year starting at `chars[i]`, with the index after it (and after `年度` or `年`).
fn year_at(chars: &[char], i: usize) -> Option<(FiscalYear, usize)> {
    let starts_word = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
    let take_digits = |from: usize| {
        let mut end = from;
        while end < chars.len() && chars[end].is_ascii_digit() {
            end += 1;
        }
        end
    };
    let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    let suffix = |end: usize| {
        if chars.get(end) == Some(&'年') {
            if chars.get(end + 1) == Some(&'度') {
                end + 2
            } else {
                end + 1
            }
        } else {
            end
        }
    };
    let era = |len: usize, base: i32| -> Option<(FiscalYear, usize)> {
        let from = i + len;
        if chars.get(from) == Some(&'元') {
            return Some((FiscalYear::new(base + 1)?, suffix(from + 1)));
        }
        let end = take_digits(from);
        if end == from || end - from > 2 || chars.get(end).is_some_and(char::is_ascii_alphabetic) {
            return None;
        }
        let n: i32 = text(from, end).parse().ok()?;
        (n >= 1).then_some(())?;
        Some((FiscalYear::new(base + n)?, suffix(end)))
    };
    let c = chars[i];
    if c == '令' && chars.get(i + 1) == Some(&'和') {
        return era(2, 2018);
    }
    if c == '平' && chars.get(i + 1) == Some(&'成') {
        return era(2, 1988);
    }
    if !starts_word {
        return None;
    }
    match c {
        'R' | 'r' => era(1, 2018),
        'H' | 'h' => era(1, 1988),
        'F' if chars.get(i + 1) == Some(&'Y') => {
            let end = take_digits(i + 2);
            (end - (i + 2) == 4)
                .then(|| FiscalYear::new(text(i + 2, end).parse().ok()?))
                .flatten()
                .map(|y| (y, suffix(end)))
        }
        c if c.is_ascii_digit() => {
            let end = take_digits(i);
            if end - i != 4 || chars.get(end).is_some_and(|c| matches!(c, '-' | '.' | ',')) {
                return None;
            }
            let year = FiscalYear::new(text(i, end).parse().ok()?)?;
            Some((year, suffix(end)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(n: i32) -> FiscalYear {
        FiscalYear::new(n).expect("year")
    }

    #[test]
    fn years_in_every_notation() {
        for (text, year) in [
            ("R6", 2024),
            ("令和6年度", 2024),
            ("令和元年度", 2019),
            ("2024", 2024),
            ("2024年度", 2024),
            ("H30", 2018),
            ("平成32年度", 2020),
            ("ＦＹ２０２４", 2024),
            ("Ｒ６", 2024),
        ] {
            let (years, rest) = years_in(text);
            assert_eq!(years, [y(year)], "{text}");
            assert_eq!(rest, "", "{text}");
        }
        let (years, rest) = years_in("令和6年度事業費");
        assert_eq!((years, rest.as_str()), (vec![y(2024)], "事業費"));
        let (years, rest) = years_in("R6事業費");
        assert_eq!((years, rest.as_str()), (vec![y(2024)], "事業費"));
        assert!(years_in("No").0.is_empty());
        assert!(years_in("HR課").0.is_empty());
        assert!(years_in("12345").0.is_empty());
        assert_eq!(years_in("R4/R5").0, [y(2022), y(2023)]);
    }

    #[test]
    fn headings_and_synonyms() {
        for (text, target) in [
            ("事 業 名", Target::Name),
            ("事務事業名", Target::Name),
            ("主要事業名", Target::Name),
            ("事業内容", Target::Summary),
            ("所管課", Target::Department),
            ("担当部課", Target::Department),
            ("新規・継続", Target::Status),
            ("地方創生", Target::Strategy),
            ("政策", Target::Goal),
            ("施策コード", Target::Policy),
            ("総事業費（千円）", Target::PeriodTotal),
            ("備考", Target::Remarks),
            ("対前年度増減（千円）", Target::Change),
            ("前年度比較", Target::Change),
            ("増 減", Target::Change),
        ] {
            assert_eq!(
                named(&normalise(text)),
                Some(Named::Plain(target)),
                "{text}"
            );
        }
        assert_eq!(
            named(&normalise("うち地方債")),
            Some(Named::Amount(AmountField::Kind(FundingKind::Bonds)))
        );
        assert_eq!(
            named(&normalise("計画事業費\n（千円）")),
            Some(Named::Amount(AmountField::Total))
        );
        assert_eq!(named(&normalise("令和6年度実施計画一覧")), None);
    }

    #[test]
    fn mapping_file_targets_round_trip() {
        let targets = [
            Target::Goal,
            Target::Policy,
            Target::Name,
            Target::Amount(y(2024), AmountField::Total),
            Target::Amount(
                y(2024),
                AmountField::Kind(FundingKind::NationalAndPrefectural),
            ),
            Target::Amount(y(2025), AmountField::Kind(FundingKind::Bonds)),
            Target::Amount(y(2026), AmountField::General),
            Target::Change,
            Target::Ignored,
        ];
        for target in targets {
            assert_eq!(parse_target(&target_label(target)), Some(target));
        }
        assert_eq!(
            parse_target("令和6年度 特定財源"),
            Some(Target::Amount(y(2024), AmountField::Earmarked))
        );
        assert_eq!(parse_target("事業費"), None, "an amount needs its year");
    }
}
