//! Amounts of a town's own workbook: the unit the sheet states (単位：円, 千円, 万円, 百万円, 億円)
//! and the exact conversion of one cell into integer 千円.
//!
//! A cell converts only when the result is a whole number of 千円: `1,234,000` 円 is 1,234
//! 千円, `1,234,500` 円 is refused (never rounded), and so is `12.3456` 百万円. Dashes and
//! empty cells are "no amount", never 0. Negative amounts (`△`, `▲`, `-`) are read as
//! negative so that the common checks refuse them at their cell.

use unicode_normalization::UnicodeNormalization;

use crate::money::{Money, Unit, is_dash, parse_amount};
use crate::sheet::grid::Value;

/// The unit a sheet states its amounts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SheetUnit {
    /// 円.
    Yen,
    /// 千円 (what keikaku stores).
    #[default]
    ThousandYen,
    /// 万円.
    TenThousandYen,
    /// 百万円.
    MillionYen,
    /// 億円.
    HundredMillionYen,
}

impl SheetUnit {
    /// Every unit, longest label first (so that `百万円` is not read as `万円`).
    pub const ALL: [SheetUnit; 5] = [
        SheetUnit::MillionYen,
        SheetUnit::HundredMillionYen,
        SheetUnit::ThousandYen,
        SheetUnit::TenThousandYen,
        SheetUnit::Yen,
    ];

    /// The label as sheets write it: `千円`.
    pub fn label(self) -> &'static str {
        match self {
            SheetUnit::Yen => "円",
            SheetUnit::ThousandYen => "千円",
            SheetUnit::TenThousandYen => "万円",
            SheetUnit::MillionYen => "百万円",
            SheetUnit::HundredMillionYen => "億円",
        }
    }

    /// Yen in one unit.
    fn yen(self) -> i128 {
        match self {
            SheetUnit::Yen => 1,
            SheetUnit::ThousandYen => 1_000,
            SheetUnit::TenThousandYen => 10_000,
            SheetUnit::MillionYen => 1_000_000,
            SheetUnit::HundredMillionYen => 100_000_000,
        }
    }

    /// The unit called `text` (`千円`, `円`, `万円`, `百万円`; full width allowed).
    pub fn parse(text: &str) -> Option<SheetUnit> {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        SheetUnit::ALL.into_iter().find(|u| u.label() == t)
    }

    /// The unit a text declares: `単位：円`, `（単位:千円）`, `単位 百万円`. `None` when the
    /// text declares none.
    pub fn declared_in(text: &str) -> Option<SheetUnit> {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        let at = t.find("単位")?;
        let rest = t[at + "単位".len()..].trim_start_matches([':', '=', '(', '[']);
        SheetUnit::ALL
            .into_iter()
            .find(|u| rest.starts_with(u.label()))
    }

    /// The unit a column heading names in brackets: `事業費（千円）`, `(円)`.
    pub fn in_heading(text: &str) -> Option<SheetUnit> {
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        SheetUnit::ALL.into_iter().find(|u| {
            t.contains(&format!("({})", u.label())) || t.contains(&format!("[{}]", u.label()))
        })
    }
}

/// Why a cell is not an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellError {
    /// Not a number at all.
    NotANumber,
    /// A number that is not a whole number of 千円 in this unit.
    Inexact,
}

/// Reads one amount cell stated in `unit` into 千円. `Ok(None)` for an empty cell or a
/// dash.
pub fn read_cell(value: &Value, unit: SheetUnit) -> Result<Option<Money>, CellError> {
    let text = match value {
        Value::Empty => return Ok(None),
        Value::Number(n) => number_text(*n).ok_or(CellError::NotANumber)?,
        Value::Text(t) => t.trim().to_owned(),
        Value::Error(_) => return Err(CellError::NotANumber),
    };
    read_text(&text, unit)
}

/// The shortest decimal text of a number cell (`1234`, `12.5`); `None` for NaN or infinity.
fn number_text(n: f64) -> Option<String> {
    if !n.is_finite() {
        return None;
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        // Exact: an integral f64 below 1e15 converts to i64 without loss.
        return Some(format!("{}", n as i64));
    }
    // Rust prints the shortest text that reads back as the same f64: what Excel shows.
    let text = format!("{n}");
    (!text.contains(['e', 'E'])).then_some(text)
}

/// Reads an amount written as text in `unit`.
pub fn read_text(text: &str, unit: SheetUnit) -> Result<Option<Money>, CellError> {
    let raw = text.trim();
    if raw.is_empty() || is_dash(raw) {
        return Ok(None);
    }
    let t: String = raw.nfkc().filter(|c| !c.is_whitespace()).collect();
    if t.contains(['億', '万', '千', '円']) {
        // The text names its own unit (`1億7,400万5千円`).
        return match parse_amount(&t, Unit::ThousandYen) {
            Ok(amount) => Ok(amount),
            Err(crate::money::AmountError::Fractional(_)) => Err(CellError::Inexact),
            Err(_) => Err(CellError::NotANumber),
        };
    }
    let (negative, body) = match t.strip_prefix(['△', '▲', '-']) {
        Some(rest) => (true, rest),
        None => (false, t.as_str()),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit() || c == ',')
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || whole.starts_with(',')
        || whole.ends_with(',')
        || whole.contains(",,")
    {
        return Err(CellError::NotANumber);
    }
    if whole.contains(',') {
        let groups: Vec<&str> = whole.split(',').collect();
        if groups.iter().skip(1).any(|g| g.len() != 3) || groups[0].len() > 3 {
            return Err(CellError::NotANumber);
        }
    }
    let digits: String = whole
        .chars()
        .filter(|c| *c != ',')
        .chain(fraction.chars())
        .collect();
    if digits.len() > 30 {
        return Err(CellError::NotANumber);
    }
    let mantissa: i128 = digits.parse().map_err(|_| CellError::NotANumber)?;
    let scale = 10i128.pow(u32::try_from(fraction.len()).map_err(|_| CellError::NotANumber)?);
    // yen = mantissa × unit / scale; 千円 = yen / 1000: both divisions must be exact.
    let numerator = mantissa
        .checked_mul(unit.yen())
        .ok_or(CellError::NotANumber)?;
    let denominator = scale * 1_000;
    if numerator % denominator != 0 {
        return Err(CellError::Inexact);
    }
    let thousands = i64::try_from(numerator / denominator).map_err(|_| CellError::NotANumber)?;
    Ok(Some(Money::from_thousand_yen(if negative {
        -thousands
    } else {
        thousands
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(v: i64) -> Result<Option<Money>, CellError> {
        Ok(Some(Money::from_thousand_yen(v)))
    }

    #[test]
    fn units_convert_exactly() {
        assert_eq!(read_text("1,234,000", SheetUnit::Yen), k(1_234));
        assert_eq!(
            read_text("1,234,500", SheetUnit::Yen),
            Err(CellError::Inexact)
        );
        assert_eq!(read_text("12", SheetUnit::TenThousandYen), k(120));
        assert_eq!(read_text("12.3", SheetUnit::TenThousandYen), k(123));
        assert_eq!(
            read_text("12.34", SheetUnit::TenThousandYen),
            Err(CellError::Inexact)
        );
        assert_eq!(read_text("1.5", SheetUnit::MillionYen), k(1_500));
        assert_eq!(
            read_text("0.0015", SheetUnit::MillionYen),
            Err(CellError::Inexact)
        );
        assert_eq!(read_text("１２，０００", SheetUnit::ThousandYen), k(12_000));
        assert_eq!(read_text("1億7,400万5千円", SheetUnit::Yen), k(174_005));
        assert_eq!(
            read_text("1.23456", SheetUnit::HundredMillionYen),
            k(123_456)
        );
        assert_eq!(
            read_text("0.000001", SheetUnit::HundredMillionYen),
            Err(CellError::Inexact)
        );
    }

    #[test]
    fn dashes_and_empty_are_no_amount_and_zero_is_zero() {
        for dash in ["-", "－", "―", "", "  "] {
            assert_eq!(read_text(dash, SheetUnit::Yen), Ok(None), "{dash:?}");
        }
        assert_eq!(read_text("0", SheetUnit::Yen), k(0));
        assert_eq!(read_cell(&Value::Empty, SheetUnit::Yen), Ok(None));
    }

    #[test]
    fn negatives_are_read_as_negative() {
        assert_eq!(read_text("△1,000", SheetUnit::ThousandYen), k(-1_000));
        assert_eq!(read_text("▲2000", SheetUnit::Yen), k(-2));
    }

    #[test]
    fn numbers_and_junk() {
        assert_eq!(
            read_cell(&Value::Number(1_234_000.0), SheetUnit::Yen),
            k(1_234)
        );
        assert_eq!(
            read_cell(&Value::Number(2.5), SheetUnit::TenThousandYen),
            k(25)
        );
        assert_eq!(
            read_cell(&Value::Number(1_500.5), SheetUnit::ThousandYen),
            Err(CellError::Inexact)
        );
        for junk in ["12a", "1,23,4", ",123", "1.2.3", "約100"] {
            assert_eq!(
                read_text(junk, SheetUnit::ThousandYen),
                Err(CellError::NotANumber),
                "{junk}"
            );
        }
    }

    #[test]
    fn declared_units() {
        assert_eq!(SheetUnit::declared_in("（単位：円）"), Some(SheetUnit::Yen));
        assert_eq!(
            SheetUnit::declared_in("単位:千円"),
            Some(SheetUnit::ThousandYen)
        );
        assert_eq!(
            SheetUnit::declared_in("単位 百万円"),
            Some(SheetUnit::MillionYen)
        );
        assert_eq!(
            SheetUnit::declared_in("単位：万円"),
            Some(SheetUnit::TenThousandYen)
        );
        assert_eq!(SheetUnit::declared_in("事業費"), None);
        assert_eq!(
            SheetUnit::in_heading("事業費（千円）"),
            Some(SheetUnit::ThousandYen)
        );
        assert_eq!(
            SheetUnit::in_heading("事業費(百万円)"),
            Some(SheetUnit::MillionYen)
        );
    }
}
