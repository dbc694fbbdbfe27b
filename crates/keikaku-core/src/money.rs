//! Money in 千円 (thousands of yen) and the parsing of amount cells.
//!
//! Plans state costs as integers of 千円. A dash (`-`, `－`, `—`) means "no amount / not
//! budgeted" and is represented as `None`, never as zero; `0` is a real zero. This module
//! owns the reading of one amount cell and the formatting of amounts; it knows nothing of
//! tables or files.

use std::fmt;
use std::iter::Sum;
use std::ops::Add;

use unicode_normalization::UnicodeNormalization;

/// An amount in 千円 (thousand yen). Integer only: totals must be exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Zero yen.
    pub const ZERO: Money = Money(0);

    /// An amount of `value` 千円.
    pub const fn from_thousand_yen(value: i64) -> Self {
        Money(value)
    }

    /// The amount in 千円.
    pub const fn thousand_yen(self) -> i64 {
        self.0
    }

    /// True when the amount is below zero (△ or ▲ in Japanese documents).
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Exact addition; `None` on overflow, which no real plan reaches.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// The amount with thousands separators and no unit, e.g. `16,759` or `-1,200`.
    pub fn grouped(self) -> String {
        group_thousands(self.0)
    }

    /// Yen per inhabitant, rounded to the nearest yen (halves away from zero); `None` for
    /// no inhabitants.
    pub fn per_capita_yen(self, population: u64) -> Option<i64> {
        if population == 0 {
            return None;
        }
        let yen = i128::from(self.0) * 1_000;
        let people = i128::from(population);
        let rounded = (yen.abs() * 2 + people) / (people * 2);
        i64::try_from(if yen < 0 { -rounded } else { rounded }).ok()
    }
}

impl Add for Money {
    type Output = Money;
    /// Saturating: amounts are bounded by validation long before `i64` limits.
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    /// `16,759千円`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}千円", self.grouped())
    }
}

/// Formats an integer with `,` every three digits.
pub fn group_thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The unit a document states its amounts in. Amounts are always stored in 千円.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// 円: must be a multiple of 1,000 to convert exactly.
    Yen,
    /// 千円: the unit keikaku stores.
    #[default]
    ThousandYen,
    /// 万円: ten 千円.
    TenThousandYen,
}

/// Why a cell could not be read as an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// The cell holds something that is not a number (`12,3a4`).
    #[error("not a number: {0:?}")]
    NotANumber(String),
    /// Digit grouping is wrong (`1,23,4`), which usually means a typing or extraction error.
    #[error("misplaced thousands separator: {0:?}")]
    BadGrouping(String),
    /// The number does not fit in the stored range.
    #[error("number too large: {0:?}")]
    TooLarge(String),
    /// An amount in 円 that is not a whole number of 千円.
    #[error("{0:?} is not a whole number of 千円")]
    Fractional(String),
}

/// The reading of one amount cell: `Ok(None)` for a dash, `Ok(Some(_))` for a number.
pub type Amount = Option<Money>;

/// True when `cell` is one of the dashes plans use for "no amount".
pub fn is_dash(cell: &str) -> bool {
    matches!(
        cell.trim(),
        "-" | "－" | "‐" | "‒" | "–" | "—" | "―" | "ー" | "−"
    )
}

/// Reads one amount cell stated in `unit`, converting to 千円.
///
/// Accepts ASCII and full-width digits, `,`/`，` thousands separators, and `△`/`▲`/`-` for
/// negative values (validation decides whether a negative amount is allowed). Also accepts
/// Japanese unit notation such as `1億7,400万5千円`, which names its own unit.
pub fn parse_amount(cell: &str, unit: Unit) -> Result<Amount, AmountError> {
    let raw = cell.trim();
    if is_dash(raw) {
        return Ok(None);
    }
    let text: String = raw.nfkc().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Err(AmountError::NotANumber(raw.to_owned()));
    }
    let (negative, body) = match text.strip_prefix(['△', '▲', '-']) {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    let yen = if body.contains(['億', '万', '千', '円']) {
        parse_kanji_units(body).ok_or_else(|| AmountError::NotANumber(raw.to_owned()))?
    } else {
        let n = parse_grouped_integer(body, raw)?;
        let factor: i128 = match unit {
            Unit::Yen => 1,
            Unit::ThousandYen => 1_000,
            Unit::TenThousandYen => 10_000,
        };
        n * factor
    };
    if yen % 1_000 != 0 {
        return Err(AmountError::Fractional(raw.to_owned()));
    }
    let thousands =
        i64::try_from(yen / 1_000).map_err(|_| AmountError::TooLarge(raw.to_owned()))?;
    Ok(Some(Money(if negative { -thousands } else { thousands })))
}

/// Parses `16,759` or `16759` into an integer, rejecting wrong grouping.
fn parse_grouped_integer(body: &str, raw: &str) -> Result<i128, AmountError> {
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return Err(AmountError::NotANumber(raw.to_owned()));
    }
    if body.contains(',') {
        let groups: Vec<&str> = body.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        if !first_ok || !rest_ok {
            return Err(AmountError::BadGrouping(raw.to_owned()));
        }
    }
    let digits: String = body.chars().filter(|c| *c != ',').collect();
    if digits.len() > 30 {
        return Err(AmountError::TooLarge(raw.to_owned()));
    }
    digits
        .parse::<i128>()
        .map_err(|_| AmountError::NotANumber(raw.to_owned()))
}

/// Parses `1億7,400万5千円` (also `5,000円`, `300万円`) into yen.
fn parse_kanji_units(body: &str) -> Option<i128> {
    let body = body.strip_suffix('円').unwrap_or(body);
    let mut total: i128 = 0;
    // The number below the next 億 or 万 (`2千` in `1億2千万円`), and the digits being read.
    let mut group: i128 = 0;
    let mut current = String::new();
    let mut last_big = i128::MAX;
    let mut last_small = i128::MAX;
    for ch in body.chars() {
        let (factor, big) = match ch {
            '億' => (100_000_000, true),
            '万' => (10_000, true),
            '千' => (1_000, false),
            '百' => (100, false),
            c if c.is_ascii_digit() || c == ',' => {
                current.push(c);
                continue;
            }
            _ => return None,
        };
        if big {
            // 億 before 万, each after a number (`1億`, `2千万`).
            if factor >= last_big {
                return None;
            }
            if !current.is_empty() {
                group = group.checked_add(parse_grouped_integer(&current, body).ok()?)?;
            }
            if group == 0 {
                return None;
            }
            total = total.checked_add(group.checked_mul(factor)?)?;
            group = 0;
            last_big = factor;
            last_small = i128::MAX;
        } else {
            // 千 before 百 within a group, each after a number (`5千`, `2千5百`).
            if factor >= last_small || current.is_empty() {
                return None;
            }
            let n = parse_grouped_integer(&current, body).ok()?;
            group = group.checked_add(n.checked_mul(factor)?)?;
            last_small = factor;
        }
        current.clear();
    }
    if !current.is_empty() {
        group = group.checked_add(parse_grouped_integer(&current, body).ok()?)?;
    }
    total.checked_add(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_capita_rounds_to_the_nearest_yen() {
        let m = Money::from_thousand_yen;
        // 184,787千円 for 59,491 people = 3,106.13… 円.
        assert_eq!(m(184_787).per_capita_yen(59_491), Some(3_106));
        assert_eq!(m(1).per_capita_yen(2_000), Some(1), "0.5 円 rounds up");
        assert_eq!(m(1).per_capita_yen(2_001), Some(0));
        assert_eq!(m(-1).per_capita_yen(2_000), Some(-1));
        assert_eq!(m(5).per_capita_yen(0), None);
    }

    fn k(v: i64) -> Amount {
        Some(Money::from_thousand_yen(v))
    }

    #[test]
    fn reads_plain_and_grouped_numbers() {
        assert_eq!(parse_amount("16,759", Unit::ThousandYen), Ok(k(16_759)));
        assert_eq!(parse_amount(" 0 ", Unit::ThousandYen), Ok(k(0)));
        assert_eq!(parse_amount("23364", Unit::ThousandYen), Ok(k(23_364)));
    }

    #[test]
    fn dash_is_none_not_zero() {
        assert_eq!(parse_amount("-", Unit::ThousandYen), Ok(None));
        assert_eq!(parse_amount("－", Unit::ThousandYen), Ok(None));
        assert_ne!(parse_amount("-", Unit::ThousandYen), Ok(k(0)));
    }

    #[test]
    fn full_width_digits_and_triangles() {
        assert_eq!(
            parse_amount("１２，３４５", Unit::ThousandYen),
            Ok(k(12_345))
        );
        assert_eq!(parse_amount("△1,200", Unit::ThousandYen), Ok(k(-1_200)));
        assert_eq!(parse_amount("▲5", Unit::ThousandYen), Ok(k(-5)));
        assert_eq!(parse_amount("-5", Unit::ThousandYen), Ok(k(-5)));
    }

    #[test]
    fn other_units_convert_exactly() {
        assert_eq!(
            parse_amount("1億7,400万5千円", Unit::ThousandYen),
            Ok(k(174_005))
        );
        assert_eq!(parse_amount("300万円", Unit::ThousandYen), Ok(k(3_000)));
        // 1億2千万円 = 100,000 + 2,000 × 10 = 120,000千円; 499万2千円 = 4,990 + 2.
        assert_eq!(
            parse_amount("1億2千万円", Unit::ThousandYen),
            Ok(k(120_000))
        );
        assert_eq!(parse_amount("499万2千円", Unit::ThousandYen), Ok(k(4_992)));
        assert_eq!(parse_amount("3,500千円", Unit::ThousandYen), Ok(k(3_500)));
        assert_eq!(parse_amount("2千5百万円", Unit::ThousandYen), Ok(k(25_000)));
        for bad in ["2万3億円", "千万円", "5百2千円", "億円", "1億億円"] {
            assert!(
                matches!(
                    parse_amount(bad, Unit::ThousandYen),
                    Err(AmountError::NotANumber(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(parse_amount("5,000", Unit::Yen), Ok(k(5)));
        assert_eq!(parse_amount("12", Unit::TenThousandYen), Ok(k(120)));
        assert!(matches!(
            parse_amount("1,500", Unit::Yen),
            Err(AmountError::Fractional(_))
        ));
    }

    #[test]
    fn rejects_non_numbers_and_bad_grouping() {
        assert!(matches!(
            parse_amount("12,3a4", Unit::ThousandYen),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("1,23,4", Unit::ThousandYen),
            Err(AmountError::BadGrouping(_))
        ));
        assert!(matches!(
            parse_amount("継続", Unit::ThousandYen),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("万5", Unit::ThousandYen),
            Err(AmountError::NotANumber(_))
        ));
        assert!(matches!(
            parse_amount("9999999999999999999999999", Unit::ThousandYen),
            Err(AmountError::TooLarge(_))
        ));
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1_000), "1,000");
        assert_eq!(group_thousands(-1_234_567), "-1,234,567");
        assert_eq!(Money::from_thousand_yen(16_759).to_string(), "16,759千円");
    }
}
