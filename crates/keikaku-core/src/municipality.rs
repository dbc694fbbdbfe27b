//! Municipalities and their 全国地方公共団体コード.
//!
//! The code has six digits: two for the prefecture, three for the municipality and a
//! check digit computed modulo 11 (JIS X 0402). 白河市 is 072052.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// A validated 6-digit 全国地方公共団体コード.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MunicipalityCode(String);

/// Why a municipality code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Not six ASCII digits.
    #[error("a municipality code has 6 digits (e.g. 072052), got {0:?}")]
    Shape(String),
    /// The check digit does not match the first five digits.
    #[error("check digit of {code} is wrong: expected {expected}")]
    CheckDigit {
        /// The code as given.
        code: String,
        /// The check digit the first five digits call for.
        expected: u32,
    },
    /// The first two digits name no prefecture.
    #[error("{0} does not start with a prefecture number 01–47")]
    Prefecture(String),
}

impl MunicipalityCode {
    /// Validates a code: six digits (full-width accepted), a known prefecture and the check digit.
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        let code: String = text.trim().nfkc().collect();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(CodeError::Shape(text.to_owned()));
        }
        let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
        let expected = check_digit(&digits[..5]);
        if digits[5] != expected {
            return Err(CodeError::CheckDigit { code, expected });
        }
        let prefecture = digits[0] * 10 + digits[1];
        if !(1..=47).contains(&prefecture) {
            return Err(CodeError::Prefecture(code));
        }
        Ok(MunicipalityCode(code))
    }

    /// The code of municipality `local` (0–999, the three digits after the prefecture)
    /// in prefecture `prefecture` (1–47), with its check digit.
    pub fn from_parts(prefecture: u8, local: u16) -> Option<Self> {
        if !(1..=47).contains(&prefecture) || local > 999 {
            return None;
        }
        let first_five = format!("{prefecture:02}{local:03}");
        let digits: Vec<u32> = first_five.chars().filter_map(|c| c.to_digit(10)).collect();
        Some(MunicipalityCode(format!(
            "{first_five}{}",
            check_digit(&digits)
        )))
    }

    /// The six digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefecture number, 1 (北海道) to 47 (沖縄県).
    pub fn prefecture_number(&self) -> u8 {
        self.0[..2].parse().unwrap_or(0)
    }

    /// The prefecture's name, e.g. 福島県 for 072052.
    pub fn prefecture_name(&self) -> &'static str {
        PREFECTURES
            .get(usize::from(self.prefecture_number()).wrapping_sub(1))
            .copied()
            .unwrap_or("")
    }
}

/// The JIS X 0402 check digit of five digits: 11 − (Σ digit × weight 6..2) mod 11, last digit.
fn check_digit(first_five: &[u32]) -> u32 {
    let sum: u32 = first_five
        .iter()
        .zip([6, 5, 4, 3, 2])
        .map(|(d, w)| d * w)
        .sum();
    (11 - sum % 11) % 10
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A municipality (市町村) whose plans keikaku keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    /// Its 全国地方公共団体コード.
    pub code: MunicipalityCode,
    /// Its name, e.g. 白河市.
    pub name: String,
}

/// The placeholder code `000000`, which no real municipality has (its check digit is wrong).
const UNSPECIFIED: &str = "000000";

impl Municipality {
    /// A stand-in for checking a document whose municipality the user has not named
    /// (`keikaku validate FILE`). It can never be stored.
    pub fn unspecified() -> Self {
        Municipality {
            code: MunicipalityCode(UNSPECIFIED.to_owned()),
            name: "（未指定）".to_owned(),
        }
    }

    /// True for [`Municipality::unspecified`].
    pub fn is_unspecified(&self) -> bool {
        self.code.0 == UNSPECIFIED
    }
}

/// A municipality's population as counted on a date (usually the 国勢調査 of 1 October),
/// for amounts per inhabitant. The date is always shown with the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    /// Inhabitants.
    pub count: u64,
    /// The date the count refers to.
    pub as_of: Date,
}

/// A calendar date (year, month, day), validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// 1 October 2020, the date of the 2020 国勢調査 (census).
    pub const CENSUS_2020: Date = Date {
        year: 2020,
        month: 10,
        day: 1,
    };

    /// Parses `YYYY-MM-DD` (years 1900–2199; the day must exist in that month).
    pub fn parse(text: &str) -> Option<Date> {
        let text = text.trim();
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let year: u16 = y.parse().ok()?;
        let month: u8 = m.parse().ok()?;
        let day: u8 = d.parse().ok()?;
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1900..=2199).contains(&year) && (1..=days).contains(&day)).then_some(Date {
            year,
            month,
            day,
        })
    }

    /// In Japanese: `2020年10月1日`.
    pub fn japanese(self) -> String {
        format!("{}年{}月{}日", self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The 47 prefectures in JIS X 0401 order.
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_parts_carry_their_check_digit() {
        assert_eq!(
            MunicipalityCode::from_parts(7, 205).map(|c| c.to_string()),
            Some("072052".to_owned())
        );
        assert_eq!(
            MunicipalityCode::from_parts(13, 101).map(|c| c.to_string()),
            Some("131016".to_owned()),
            "千代田区"
        );
        assert_eq!(MunicipalityCode::from_parts(48, 1), None);
        assert_eq!(MunicipalityCode::from_parts(1, 1000), None);
    }

    #[test]
    fn dates_are_checked() {
        assert_eq!(
            Date::parse("2020-10-01").map(|d| d.to_string()),
            Some("2020-10-01".to_owned())
        );
        assert_eq!(
            Date::parse("2020-10-01").map(Date::japanese),
            Some("2020年10月1日".to_owned())
        );
        assert!(Date::parse("2024-02-29").is_some());
        for bad in [
            "2023-02-29",
            "2020-13-01",
            "2020-1-01",
            "20-10-01",
            "2020/10/01",
            "",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn accepts_real_codes() {
        for code in ["072052", "010006", "130001", "131016", "271004", "472018"] {
            assert!(MunicipalityCode::parse(code).is_ok(), "{code}");
        }
        assert_eq!(
            MunicipalityCode::parse("０７２０５２").unwrap().as_str(),
            "072052"
        );
    }

    #[test]
    fn rejects_wrong_check_digit_and_shape() {
        assert_eq!(
            MunicipalityCode::parse("072051"),
            Err(CodeError::CheckDigit {
                code: "072051".into(),
                expected: 2
            })
        );
        assert!(matches!(
            MunicipalityCode::parse("07205"),
            Err(CodeError::Shape(_))
        ));
        assert!(matches!(
            MunicipalityCode::parse("07205a"),
            Err(CodeError::Shape(_))
        ));
        assert!(matches!(
            MunicipalityCode::parse("990001"),
            Err(CodeError::Prefecture(_))
        ));
    }

    #[test]
    fn check_digit_edge_remainders() {
        // Remainder 0 gives check digit 1, remainder 1 gives 0 (the last digit of 11 and 10).
        assert_eq!(check_digit(&[0, 0, 0, 0, 0]), 1);
        // 0*6+1*5+0*4+0*3+3*2 = 11 → remainder 0 → 1
        assert_eq!(check_digit(&[0, 1, 0, 0, 3]), 1);
        // 0*6+1*5+0*4+0*3+4*2 = 13 → remainder 2 → 9
        assert_eq!(check_digit(&[0, 1, 0, 0, 4]), 9);
        // 1*6+0*5+1*4+0*3+0*2 = 10 → remainder 10 → 1
        assert_eq!(check_digit(&[1, 0, 1, 0, 0]), 1);
        // 1*6+0*5+0*4+2*3+0 = 12 → remainder 1 → 0
        assert_eq!(check_digit(&[1, 0, 0, 2, 0]), 0);
    }

    #[test]
    fn prefecture_of_shirakawa() {
        let code = MunicipalityCode::parse("072052").unwrap();
        assert_eq!(code.prefecture_number(), 7);
        assert_eq!(code.prefecture_name(), "福島県");
    }
}
