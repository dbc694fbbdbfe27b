//! Links from projects to the 総合戦略 (地方創生 strategy): codes such as `Ⅲ(4)`.
//!
//! A code names a strategy goal by a Roman numeral and a measure by a number in
//! parentheses. Documents mix Unicode Roman numerals (`Ⅲ`, U+2162) with ASCII (`III`) and
//! half-width with full-width parentheses; all of them are one code. keikaku groups by the
//! parsed numbers and keeps the text exactly as written for display.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// A parsed strategy code: goal Ⅲ, measure 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StrategyCode {
    goal: u8,
    measure: u8,
}

/// The largest goal or measure number accepted; real strategies have fewer than ten.
const MAX_NUMBER: u8 = 50;

impl StrategyCode {
    /// The code for strategy goal `goal` (1 = Ⅰ) and measure `measure`.
    pub fn new(goal: u8, measure: u8) -> Option<Self> {
        ((1..=MAX_NUMBER).contains(&goal) && (1..=MAX_NUMBER).contains(&measure))
            .then_some(StrategyCode { goal, measure })
    }

    /// The strategy goal number (Ⅲ = 3).
    pub const fn goal(self) -> u8 {
        self.goal
    }

    /// The measure number within the goal.
    pub const fn measure(self) -> u8 {
        self.measure
    }

    /// Reads one code: `Ⅲ(4)`, `III(4)`, `Ⅲ（４）`, `iii(4)`. `None` if malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        let open = t.find('(')?;
        let roman = &t[..open];
        let rest = t[open + 1..].strip_suffix(')')?;
        let goal = roman_to_number(roman)?;
        if rest.is_empty() || rest.len() > 2 || !rest.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        StrategyCode::new(goal, rest.parse().ok()?)
    }

    /// A code as people write it in a sheet or a form: `Ⅲ(4)`, `Ⅲ-4`, `3(4)`, `3-4`, in full
    /// width too. [`StrategyCode::parse`] takes the normalised form only.
    pub fn read(text: &str) -> Option<Self> {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        let (goal, measure) = if let Some(open) = t.find('(') {
            (&t[..open], t[open + 1..].strip_suffix(')')?)
        } else {
            t.split_once(['-', '‐', '−', '–', '―'])?
        };
        if measure.is_empty() || measure.len() > 2 || !measure.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let goal_number: u8 = if !goal.is_empty() && goal.bytes().all(|b| b.is_ascii_digit()) {
            goal.parse().ok()?
        } else {
            roman_to_number(goal)?
        };
        StrategyCode::new(goal_number, measure.parse().ok()?)
    }

    /// The URL form: `3-4`.
    pub fn slug(self) -> String {
        format!("{}-{}", self.goal, self.measure)
    }

    /// Reads the URL form `3-4`.
    pub fn from_slug(slug: &str) -> Option<Self> {
        let (g, m) = slug.split_once('-')?;
        StrategyCode::new(g.parse().ok()?, m.parse().ok()?)
    }
}

impl fmt::Display for StrategyCode {
    /// The normalised form, with a Unicode Roman numeral for goals up to 12: `Ⅲ(4)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNICODE: [&str; 12] = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "Ⅵ", "Ⅶ", "Ⅷ", "Ⅸ", "Ⅹ", "Ⅺ", "Ⅻ"];
        match UNICODE.get(usize::from(self.goal) - 1) {
            Some(numeral) => write!(f, "{numeral}({})", self.measure),
            None => write!(f, "{}({})", number_to_roman(self.goal), self.measure),
        }
    }
}

/// Reads an ASCII Roman numeral (after NFKC, `Ⅲ` is `III`), upper or lower case.
fn roman_to_number(roman: &str) -> Option<u8> {
    if roman.is_empty() || roman.len() > 8 {
        return None;
    }
    let upper = roman.to_ascii_uppercase();
    // Accept only canonical numerals: the number must print back to the same text.
    (1..=MAX_NUMBER).find(|n| number_to_roman(*n) == upper)
}

fn number_to_roman(mut n: u8) -> String {
    const TABLE: [(u8, &str); 7] = [
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, numeral) in TABLE {
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    out
}

/// One link from a project to the strategy: the parsed code and the text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyLink {
    /// The parsed code, used for grouping.
    pub code: StrategyCode,
    /// The code exactly as the source wrote it (`I(4)` or `Ⅰ(4)`).
    pub raw: String,
}

/// Splits a cell holding several codes (`I(4) III(4)`, `Ⅲ(4)、Ⅱ(2)`) into its parts.
pub fn split_codes(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(|c: char| c.is_whitespace() || matches!(c, '、' | ',' | '，' | '・' | '/' | '／'))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_and_ascii_are_one_code() {
        let c = StrategyCode::new(3, 4).unwrap();
        for text in ["Ⅲ(4)", "III(4)", "iii(4)", "Ⅲ（４）", " Ⅲ (4) "] {
            assert_eq!(StrategyCode::parse(text), Some(c), "{text}");
        }
        assert_eq!(c.to_string(), "Ⅲ(4)");
        assert_eq!(StrategyCode::parse("I(4)").unwrap().to_string(), "Ⅰ(4)");
        assert_eq!(StrategyCode::parse("Ⅱ(2)").unwrap().goal(), 2);
        assert_eq!(StrategyCode::parse("IV(1)").unwrap().goal(), 4);
    }

    #[test]
    fn malformed_codes() {
        for text in [
            "Ⅲ", "3(4)", "IIII(4)", "Ⅲ(a)", "Ⅲ(4", "(4)", "Ⅲ()", "ABC(1)", "Ⅲ(0)",
        ] {
            assert_eq!(StrategyCode::parse(text), None, "{text}");
        }
    }

    #[test]
    fn splits_cells_with_several_codes() {
        let parts: Vec<&str> = split_codes("I(4) III(4)").collect();
        assert_eq!(parts, ["I(4)", "III(4)"]);
        let parts: Vec<&str> = split_codes("Ⅲ(4)、Ⅱ(2)").collect();
        assert_eq!(parts, ["Ⅲ(4)", "Ⅱ(2)"]);
    }

    #[test]
    fn slugs_round_trip() {
        let c = StrategyCode::new(3, 4).unwrap();
        assert_eq!(c.slug(), "3-4");
        assert_eq!(StrategyCode::from_slug("3-4"), Some(c));
        assert_eq!(StrategyCode::from_slug("x-4"), None);
    }
}
