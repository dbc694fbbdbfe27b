//! CSV of projects, one row per project per fiscal year of its edition, as Japanese open
//! data expects: UTF-8 with a BOM so that Excel opens it, one header row, leading columns
//! 全国地方公共団体コード and 地方公共団体名 (as the 自治体標準オープンデータセット does).
//!
//! A year for which the plan states no amount, and an amount given as `-`, are both empty
//! cells: the CSV never turns "no amount" into 0.

use crate::model::{Edition, FundingKind, YearCost};

/// The UTF-8 byte order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The header row, in column order.
pub const COLUMNS: [&str; 24] = [
    "全国地方公共団体コード",
    "地方公共団体名",
    "計画期間",
    "基本目標番号",
    "基本目標",
    "施策コード",
    "施策",
    "事業ID",
    "事業番号",
    "事業名",
    "事業概要",
    "区分",
    "地方創生事業",
    "担当課",
    "年度",
    "年度表記",
    "事業費（千円）",
    "特定財源（千円）",
    "一般財源（千円）",
    "国庫支出金（千円）",
    "県支出金（千円）",
    "国・県支出金（千円）",
    "地方債（千円）",
    "その他特定財源（千円）",
];

/// Every row (without the header) for `editions`, as cell strings.
pub fn rows(editions: &[Edition]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for edition in editions {
        for goal in &edition.goals {
            for policy in &goal.policies {
                for project in &policy.projects {
                    for year in edition.span.years() {
                        let cost = project.cost(year);
                        let amount = |pick: fn(&YearCost) -> Option<crate::money::Money>| {
                            cost.and_then(pick)
                                .map(|m| m.thousand_yen().to_string())
                                .unwrap_or_default()
                        };
                        let part = |kind: FundingKind| {
                            cost.and_then(|c| {
                                c.earmarked_breakdown.iter().find(|(k, _)| *k == kind)
                            })
                            .map(|(_, m)| m.thousand_yen().to_string())
                            .unwrap_or_default()
                        };
                        out.push(vec![
                            edition.municipality.code.to_string(),
                            edition.municipality.name.clone(),
                            edition.span.label(),
                            goal.number.to_string(),
                            goal.title.clone(),
                            policy.code.to_string(),
                            policy.title.clone(),
                            project.id.to_string(),
                            project.number.to_string(),
                            project.name.clone(),
                            project.summary.clone(),
                            project.status.label().to_owned(),
                            project
                                .strategies
                                .iter()
                                .map(|s| s.code.to_string())
                                .collect::<Vec<_>>()
                                .join(" "),
                            project.departments.join(" "),
                            year.year().to_string(),
                            year.label(),
                            amount(|c| c.total),
                            amount(|c| c.earmarked),
                            amount(|c| c.general),
                            part(FundingKind::National),
                            part(FundingKind::Prefectural),
                            part(FundingKind::NationalAndPrefectural),
                            part(FundingKind::Bonds),
                            part(FundingKind::Other),
                        ]);
                    }
                }
            }
        }
    }
    out
}

/// The CSV text (with header, CRLF line ends as Excel writes them), without a BOM.
pub fn to_csv_string(editions: &[Edition]) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; any error would leave the output short, not panic.
    let _ = writer.write_record(COLUMNS);
    for row in rows(editions) {
        let _ = writer.write_record(&row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The CSV as UTF-8 with a BOM, the form Excel opens directly.
pub fn to_csv_utf8_bom(editions: &[Edition]) -> Vec<u8> {
    let mut out = BOM.to_vec();
    out.extend_from_slice(to_csv_string(editions).as_bytes());
    out
}
