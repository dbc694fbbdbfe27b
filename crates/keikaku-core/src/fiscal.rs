//! Fiscal years (年度) and edition spans.
//!
//! A Japanese fiscal year runs from 1 April to 31 March. keikaku stores the Western year in
//! which a fiscal year starts (令和2年度 = 2020) and shows era labels only for display.
//! 令和n = 2018 + n (令和元年 = 2019), 平成n = 1988 + n; 平成31年度 and 令和元年度 are both
//! FY2019, and plans written before 2019 say 平成32年度 for FY2020.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// A fiscal year as the Western year in which it starts (FY2020 = 令和2年度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FiscalYear(i32);

/// The earliest and latest fiscal years keikaku accepts; anything else is a typing error.
const FIRST_SUPPORTED: i32 = 1989;
const LAST_SUPPORTED: i32 = 2200;

impl FiscalYear {
    /// The fiscal year starting in `year`, if it is in the supported range (1989–2200).
    pub fn new(year: i32) -> Option<Self> {
        (FIRST_SUPPORTED..=LAST_SUPPORTED)
            .contains(&year)
            .then_some(FiscalYear(year))
    }

    /// The Western year in which this fiscal year starts.
    pub const fn year(self) -> i32 {
        self.0
    }

    /// The following fiscal year.
    pub fn next(self) -> Option<Self> {
        FiscalYear::new(self.0 + 1)
    }

    /// The short era form used in plan tables: `R2`, `R1` for 2019, `H30` before.
    pub fn short(self) -> String {
        match self.0 {
            y if y >= 2019 => format!("R{}", y - 2018),
            y => format!("H{}", y - 1988),
        }
    }

    /// The full label, e.g. `令和2年度`, `令和元年度`, `平成30年度`.
    pub fn label(self) -> String {
        match self.0 {
            2019 => "令和元年度".to_owned(),
            y if y > 2019 => format!("令和{}年度", y - 2018),
            1989 => "平成元年度".to_owned(),
            y => format!("平成{}年度", y - 1988),
        }
    }

    /// Reads `R2`, `令和2`, `令和2年度`, `令和元年度`, `H31`, `平成32年度`, `2020`,
    /// `FY2020`, with full-width digits allowed. `None` if it is not a fiscal year.
    pub fn parse(text: &str) -> Option<Self> {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        let t = t.strip_suffix("年度").unwrap_or(&t);
        let t = t.strip_suffix('年').unwrap_or(t);
        let (era_base, number) = split_era(t)?;
        let n: i32 = if number == "元" {
            1
        } else {
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) || number.len() > 4
            {
                return None;
            }
            number.parse().ok()?
        };
        match era_base {
            Some(base) if (1..100).contains(&n) => FiscalYear::new(base + n),
            Some(_) => None,
            None => FiscalYear::new(n),
        }
    }
}

/// Splits an era prefix from the number; the base is the year before year 1 of the era.
fn split_era(t: &str) -> Option<(Option<i32>, &str)> {
    const ERAS: [(&str, i32); 6] = [
        ("令和", 2018),
        ("平成", 1988),
        ("R", 2018),
        ("H", 1988),
        ("r", 2018),
        ("h", 1988),
    ];
    for (prefix, base) in ERAS {
        if let Some(rest) = t.strip_prefix(prefix) {
            return Some((Some(base), rest));
        }
    }
    let rest = t
        .strip_prefix("FY")
        .or_else(|| t.strip_prefix("fy"))
        .unwrap_or(t);
    Some((None, rest))
}

impl fmt::Display for FiscalYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The fiscal years an edition of the 実施計画 covers, e.g. R2–R4 = FY2020–2022.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EditionSpan {
    first: FiscalYear,
    last: FiscalYear,
}

/// The longest span keikaku accepts; 実施計画 cover 3 to 5 years.
const MAX_SPAN_YEARS: i32 = 10;

impl EditionSpan {
    /// The span `first..=last`; `None` if it is empty or longer than ten years.
    pub fn new(first: FiscalYear, last: FiscalYear) -> Option<Self> {
        let len = last.0 - first.0 + 1;
        (1..=MAX_SPAN_YEARS)
            .contains(&len)
            .then_some(EditionSpan { first, last })
    }

    /// A span of `years` fiscal years starting at `first`.
    pub fn starting(first: FiscalYear, years: i32) -> Option<Self> {
        EditionSpan::new(first, FiscalYear::new(first.0 + years - 1)?)
    }

    /// The first fiscal year.
    pub const fn first(self) -> FiscalYear {
        self.first
    }

    /// The last fiscal year.
    pub const fn last(self) -> FiscalYear {
        self.last
    }

    /// Every fiscal year of the span, in order.
    pub fn years(self) -> impl Iterator<Item = FiscalYear> {
        (self.first.0..=self.last.0).map(FiscalYear)
    }

    /// True when `year` lies within the span.
    pub fn contains(self, year: FiscalYear) -> bool {
        self.first <= year && year <= self.last
    }

    /// The label used on the command line and in file names: `R2-R4`.
    pub fn label(self) -> String {
        format!("{}-{}", self.first.short(), self.last.short())
    }

    /// The lower-case form used in URLs: `r2-r4`.
    pub fn slug(self) -> String {
        self.label().to_lowercase()
    }

    /// The long form for titles: `令和2年度～令和4年度`.
    pub fn long_label(self) -> String {
        format!("{}～{}", self.first.label(), self.last.label())
    }

    /// Reads `R2-R4`, `r2-r4`, `R2–R4`, `2020-2022`, `令和2-4`, `令和2年度～令和4年度`,
    /// `H30-R2`. A bare number on the right inherits the era of the left side.
    pub fn parse(text: &str) -> Option<Self> {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        let (left, right) = t.split_once(['-', '–', '—', '~', '～', '〜', '‐', '−'])?;
        let first = FiscalYear::parse(left)?;
        let last = match FiscalYear::parse(right) {
            Some(y) if right.chars().next().is_some_and(|c| !c.is_ascii_digit()) => y,
            _ => {
                // `令和2-4`: the right side is a bare number in the left side's era.
                let digits = right
                    .strip_suffix("年度")
                    .unwrap_or(right)
                    .trim_end_matches('年');
                let n: i32 = digits.parse().ok()?;
                if n >= 1000 {
                    FiscalYear::new(n)?
                } else {
                    let (base, _) = split_era(left)?;
                    FiscalYear::new(base? + n)?
                }
            }
        };
        EditionSpan::new(first, last)
    }
}

impl fmt::Display for EditionSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fy(y: i32) -> FiscalYear {
        FiscalYear::new(y).unwrap()
    }

    #[test]
    fn era_conversion() {
        assert_eq!(FiscalYear::parse("R2"), Some(fy(2020)));
        assert_eq!(FiscalYear::parse("令和2年度"), Some(fy(2020)));
        assert_eq!(FiscalYear::parse("令和元年度"), Some(fy(2019)));
        assert_eq!(FiscalYear::parse("平成31年度"), Some(fy(2019)));
        assert_eq!(FiscalYear::parse("平成32年度"), Some(fy(2020)));
        assert_eq!(FiscalYear::parse("Ｒ２"), Some(fy(2020)));
        assert_eq!(FiscalYear::parse("2022"), Some(fy(2022)));
        assert_eq!(FiscalYear::parse("FY2021"), Some(fy(2021)));
        assert_eq!(FiscalYear::parse("R"), None);
        assert_eq!(FiscalYear::parse("事業費"), None);
        assert_eq!(FiscalYear::parse("3000"), None);
    }

    #[test]
    fn labels() {
        assert_eq!(fy(2020).label(), "令和2年度");
        assert_eq!(fy(2019).label(), "令和元年度");
        assert_eq!(fy(2018).label(), "平成30年度");
        assert_eq!(fy(2019).short(), "R1");
        assert_eq!(fy(2018).short(), "H30");
    }

    #[test]
    fn spans() {
        let r2r4 = EditionSpan::new(fy(2020), fy(2022)).unwrap();
        for text in [
            "R2-R4",
            "r2-r4",
            "R2–R4",
            "2020-2022",
            "令和2-4",
            "令和2年度～令和4年度",
        ] {
            assert_eq!(EditionSpan::parse(text), Some(r2r4), "{text}");
        }
        assert_eq!(r2r4.label(), "R2-R4");
        assert_eq!(r2r4.slug(), "r2-r4");
        assert_eq!(r2r4.years().count(), 3);
        assert_eq!(
            EditionSpan::parse("H30-R2").map(|s| (s.first().year(), s.last().year())),
            Some((2018, 2020))
        );
        assert_eq!(EditionSpan::parse("R4-R2"), None);
        assert_eq!(EditionSpan::parse("R2"), None);
        assert_eq!(EditionSpan::parse("2020-2040"), None);
    }
}
