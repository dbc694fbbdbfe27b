//! Charts as inline SVG, drawn on the server: horizontal bars, optionally stacked
//! (特定財源 + 一般財源). Every chart has a title and a text description (for screen readers
//! and search engines) and carries the same numbers as an HTML table shown next to it, so
//! nothing is only in the picture. No script, no chart library, nothing from a CDN.

use keikaku_core::Money;
use keikaku_core::aggregate::{Row, Sum};
use keikaku_core::money::group_thousands;

/// Chart drawing width in SVG units (it scales to the page).
const WIDTH: u32 = 760;
/// Where bars start (labels sit to the left of it).
const BARS_X: u32 = 250;
/// Longest bar.
const BARS_WIDTH: u32 = 400;
/// Height of one row.
const ROW: u32 = 30;
/// Space above the first row (for the legend).
const TOP: u32 = 34;

/// A bar segment.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Left edge.
    pub x: u32,
    /// Width.
    pub width: u32,
    /// CSS class giving its colour.
    pub class: &'static str,
}

/// One row: a label, its segments and its value label.
#[derive(Debug, Clone)]
pub struct BarRow {
    /// Label on the left (shortened if long).
    pub label: String,
    /// The full label, as a tooltip.
    pub full_label: String,
    /// Top of the bar.
    pub y: u32,
    /// Baseline of the row's text.
    pub text_y: u32,
    /// Segments, left to right.
    pub segments: Vec<Segment>,
    /// Value shown after the bar.
    pub value: String,
    /// Where the value starts.
    pub value_x: u32,
}

/// A legend entry.
#[derive(Debug, Clone)]
pub struct Legend {
    /// CSS class of the colour swatch.
    pub class: &'static str,
    /// Text.
    pub label: &'static str,
    /// Left edge of the swatch.
    pub x: u32,
}

/// The table that repeats a chart's numbers.
#[derive(Debug, Clone)]
pub struct DataTable {
    /// Column headings.
    pub headers: Vec<&'static str>,
    /// Rows: label, then numbers (already formatted).
    pub rows: Vec<Vec<String>>,
}

/// A chart ready for the template.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Unique id on the page (for `aria-labelledby`).
    pub id: &'static str,
    /// Title.
    pub title: String,
    /// A sentence describing what it shows, with the largest values.
    pub description: String,
    /// SVG width.
    pub width: u32,
    /// SVG height.
    pub height: u32,
    /// Rows.
    pub rows: Vec<BarRow>,
    /// Legend (empty for single-colour charts).
    pub legend: Vec<Legend>,
    /// The numbers as a table.
    pub table: DataTable,
    /// A vertical axis line at this x (charts of changes), if any.
    pub axis: Option<u32>,
}

fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_owned()
    } else {
        let mut short: String = label.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

fn scale(value: i64, max: i64) -> u32 {
    if max <= 0 || value <= 0 {
        return 0;
    }
    // The ratio is in [0, 1]; the product fits easily.
    let width = (value as f64 / max as f64 * f64::from(BARS_WIDTH)).round();
    width.clamp(0.0, f64::from(BARS_WIDTH)) as u32
}

/// A row before layout: its label, its segments (value and CSS class) and its value label.
struct Unplaced {
    label: String,
    parts: Vec<(i64, &'static str)>,
    value: String,
}

fn layout_rows(rows: Vec<Unplaced>) -> (Vec<BarRow>, u32) {
    let max = rows
        .iter()
        .map(|r| r.parts.iter().map(|(v, _)| (*v).max(0)).sum::<i64>())
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for (
        i,
        Unplaced {
            label,
            parts,
            value,
        },
    ) in rows.into_iter().enumerate()
    {
        let y = TOP + u32::try_from(i).unwrap_or(0) * ROW;
        let mut x = BARS_X;
        let segments: Vec<Segment> = parts
            .into_iter()
            .filter_map(|(v, class)| {
                let width = scale(v, max);
                let segment = Segment { x, width, class };
                x += width;
                (width > 0).then_some(segment)
            })
            .collect();
        out.push(BarRow {
            label: shorten(&label, 17),
            full_label: label,
            y: y + 6,
            text_y: y + 20,
            segments,
            value,
            value_x: x + 6,
        });
    }
    let height = TOP + u32::try_from(out.len()).unwrap_or(0) * ROW + 8;
    (out, height)
}

/// A group's amount for a table cell: `-` when no project of the group states that amount.
fn stated_cell(totals: &keikaku_core::aggregate::Totals, which: Sum) -> String {
    totals
        .amount(which)
        .map_or_else(|| "-".to_owned(), |m| group_thousands(m.thousand_yen()))
}

/// A group's amount next to its bar: `1,234千円`, or `-` for no amount.
fn stated_text(totals: &keikaku_core::aggregate::Totals, which: Sum) -> String {
    totals.amount(which).map_or_else(
        || "-".to_owned(),
        |m| format!("{}千円", group_thousands(m.thousand_yen())),
    )
}

/// Cost per group with 特定財源 and 一般財源 stacked.
pub fn stacked_cost(
    id: &'static str,
    title: String,
    first_header: &'static str,
    rows: &[Row],
    label: impl Fn(&Row) -> String,
) -> Chart {
    let drawn = rows
        .iter()
        .map(|r| {
            // Amounts not split into funding (total only) still show, in a third colour.
            let split = r.totals.earmarked.thousand_yen() + r.totals.general.thousand_yen();
            let unsplit = (r.totals.cost.thousand_yen() - split).max(0);
            Unplaced {
                label: label(r),
                parts: vec![
                    (r.totals.earmarked.thousand_yen(), "earmarked"),
                    (r.totals.general.thousand_yen(), "general"),
                    (unsplit, "unsplit"),
                ],
                value: stated_text(&r.totals, Sum::Cost),
            }
        })
        .collect();
    let (bars, height) = layout_rows(drawn);
    let total: Money = rows.iter().map(|r| r.totals.cost).sum();
    let largest = rows.iter().max_by_key(|r| r.totals.cost);
    let description = match largest {
        Some(top) if total > Money::ZERO => format!(
            "{}件の事業費（合計{}千円）の内訳。最も多いのは{}で{}千円（特定財源{}千円、一般財源{}千円）。",
            rows.len(),
            group_thousands(total.thousand_yen()),
            label(top),
            group_thousands(top.totals.cost.thousand_yen()),
            group_thousands(top.totals.earmarked.thousand_yen()),
            group_thousands(top.totals.general.thousand_yen()),
        ),
        _ => "計上されている事業費はありません。".to_owned(),
    };
    Chart {
        id,
        title,
        description,
        width: WIDTH,
        height,
        rows: bars,
        axis: None,
        legend: vec![
            Legend {
                class: "earmarked",
                label: "特定財源",
                x: BARS_X,
            },
            Legend {
                class: "general",
                label: "一般財源",
                x: BARS_X + 110,
            },
        ],
        table: DataTable {
            headers: vec![
                first_header,
                "事業数",
                "事業費（千円）",
                "特定財源（千円）",
                "一般財源（千円）",
            ],
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        label(r),
                        r.totals.projects.to_string(),
                        stated_cell(&r.totals, Sum::Cost),
                        stated_cell(&r.totals, Sum::Earmarked),
                        stated_cell(&r.totals, Sum::General),
                    ]
                })
                .collect(),
        },
    }
}

/// Each group's share of the total cost, as single-colour bars labelled with percentages.
pub fn share(
    id: &'static str,
    title: String,
    first_header: &'static str,
    rows: &[Row],
    label: impl Fn(&Row) -> String,
) -> Chart {
    let total: i64 = rows.iter().map(|r| r.totals.cost.thousand_yen()).sum();
    let percent = |value: i64| -> String {
        if total <= 0 {
            return "0.0%".to_owned();
        }
        // One decimal place, computed in integers to avoid float rounding surprises.
        let tenths = (value * 1_000 + total / 2) / total;
        format!("{}.{}%", tenths / 10, tenths % 10)
    };
    let drawn = rows
        .iter()
        .map(|r| {
            let cost = r.totals.cost.thousand_yen();
            Unplaced {
                label: label(r),
                parts: vec![(cost, "share")],
                value: match r.totals.amount(keikaku_core::aggregate::Sum::Cost) {
                    Some(_) => format!("{}（{}千円）", percent(cost), group_thousands(cost)),
                    None => "-".to_owned(),
                },
            }
        })
        .collect();
    let (bars, height) = layout_rows(drawn);
    let description = match rows.iter().max_by_key(|r| r.totals.cost) {
        Some(top) if total > 0 => format!(
            "事業費合計{}千円のうち、{}が{}を占めています。事業が複数の番号に該当する場合はそれぞれに計上しています。",
            group_thousands(total),
            label(top),
            percent(top.totals.cost.thousand_yen())
        ),
        _ => "計上されている事業費はありません。".to_owned(),
    };
    Chart {
        id,
        title,
        description,
        width: WIDTH,
        height,
        rows: bars,
        legend: Vec::new(),
        axis: None,
        table: DataTable {
            headers: vec![first_header, "事業数", "事業費（千円）", "割合"],
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        label(r),
                        r.totals.projects.to_string(),
                        stated_cell(&r.totals, Sum::Cost),
                        percent(r.totals.cost.thousand_yen()),
                    ]
                })
                .collect(),
        },
    }
}

/// One group of a chart of changes: its amount before and after (`None`: no amount) and the
/// change as it is written (`+1,200`, `新たに計上`, …).
#[derive(Debug, Clone)]
pub struct ChangeRow {
    /// Label.
    pub label: String,
    /// Before, in 千円; `None` for no amount.
    pub before: Option<i64>,
    /// After, in 千円; `None` for no amount.
    pub after: Option<i64>,
    /// The change as text.
    pub change: String,
}

impl ChangeRow {
    /// The difference, only when both sides state an amount: a change from no amount to an
    /// amount is not an increase from 0, so it gets no bar.
    fn difference(&self) -> Option<i64> {
        Some(self.after? - self.before?)
    }
}

/// The change of a value per group (e.g. each policy's cost between two editions): bars to the
/// right of a centre line for increases, to the left for decreases. Groups with no amount on
/// either side get no bar, and their text says so.
pub fn change(
    id: &'static str,
    title: String,
    first_header: &'static str,
    columns: [&'static str; 2],
    rows: &[ChangeRow],
) -> Chart {
    let largest = rows
        .iter()
        .filter_map(ChangeRow::difference)
        .map(i64::abs)
        .max()
        .unwrap_or(0);
    let centre = BARS_X + BARS_WIDTH / 2;
    let half = i64::from(BARS_WIDTH / 2);
    let mut bars = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + u32::try_from(i).unwrap_or(0) * ROW;
        let d = row.difference().unwrap_or(0);
        // |d| ≤ largest, so the width fits in half the bar area.
        let width = if largest == 0 {
            0
        } else {
            u32::try_from(d.abs() * half / largest).unwrap_or(0)
        };
        let (x, class) = if d >= 0 {
            (centre, "increase")
        } else {
            (centre - width, "decrease")
        };
        let value = match row.difference() {
            Some(_) => format!("{}千円", row.change),
            None => row.change.clone(),
        };
        bars.push(BarRow {
            label: shorten(&row.label, 17),
            full_label: row.label.clone(),
            y: y + 6,
            text_y: y + 20,
            segments: if width > 0 {
                vec![Segment { x, width, class }]
            } else {
                Vec::new()
            },
            value,
            value_x: if d >= 0 {
                centre + width + 6
            } else {
                centre + 6
            },
        });
    }
    let height = TOP + u32::try_from(bars.len()).unwrap_or(0) * ROW + 8;
    let differences: Vec<i64> = rows.iter().filter_map(ChangeRow::difference).collect();
    let up = differences.iter().filter(|d| **d > 0).count();
    let down = differences.iter().filter(|d| **d < 0).count();
    let total: i64 = differences.iter().sum();
    let unstated = rows.len() - differences.len();
    let mut description = format!(
        "{}件のうち増加{}件・減少{}件、両計画に金額のある施策の合計で{}{}千円。",
        rows.len(),
        up,
        down,
        if total > 0 { "+" } else { "" },
        group_thousands(total)
    );
    if unstated > 0 {
        description.push_str(&format!(
            "{unstated}件は一方または両方の計画に金額がない（計上なし）ため比較していません。"
        ));
    }
    let cell = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), group_thousands);
    Chart {
        id,
        description,
        title,
        width: WIDTH,
        height,
        rows: bars,
        legend: vec![
            Legend {
                class: "increase",
                label: "増加",
                x: BARS_X,
            },
            Legend {
                class: "decrease",
                label: "減少",
                x: BARS_X + 80,
            },
        ],
        axis: Some(centre),
        table: DataTable {
            headers: vec![first_header, columns[0], columns[1], "増減（千円）"],
            rows: rows
                .iter()
                .map(|row| {
                    vec![
                        row.label.clone(),
                        cell(row.before),
                        cell(row.after),
                        row.change.clone(),
                    ]
                })
                .collect(),
        },
    }
}

/// One value per row (e.g. 事業費 per inhabitant of each municipality) as single-colour bars,
/// largest first as given; `unit` follows each value (`円`).
pub fn values(
    id: &'static str,
    title: String,
    headers: [&'static str; 2],
    unit: &str,
    rows: &[(String, i64)],
) -> Chart {
    let drawn = rows
        .iter()
        .map(|(label, value)| Unplaced {
            label: label.clone(),
            parts: vec![(*value, "share")],
            value: format!("{}{unit}", group_thousands(*value)),
        })
        .collect();
    let (bars, height) = layout_rows(drawn);
    let description = match (
        rows.iter().max_by_key(|r| r.1),
        rows.iter().min_by_key(|r| r.1),
    ) {
        (Some(top), Some(bottom)) if rows.len() > 1 => format!(
            "{}件のうち最も多いのは{}で{}{unit}、最も少ないのは{}で{}{unit}です。",
            rows.len(),
            top.0,
            group_thousands(top.1),
            bottom.0,
            group_thousands(bottom.1)
        ),
        (Some(top), _) => format!("{}は{}{unit}です。", top.0, group_thousands(top.1)),
        _ => "表示する値がありません。".to_owned(),
    };
    Chart {
        id,
        title,
        description,
        width: WIDTH,
        height,
        rows: bars,
        legend: Vec::new(),
        axis: None,
        table: DataTable {
            headers: headers.to_vec(),
            rows: rows
                .iter()
                .map(|(label, value)| vec![label.clone(), group_thousands(*value)])
                .collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use keikaku_core::aggregate::Totals;

    use super::*;

    fn row(key: &str, cost: i64, earmarked: i64, general: i64) -> Row {
        Row {
            key: key.into(),
            name: key.into(),
            totals: Totals {
                projects: 1,
                priced: 1,
                cost: Money::from_thousand_yen(cost),
                earmarked: Money::from_thousand_yen(earmarked),
                general: Money::from_thousand_yen(general),
                with_earmarked: 1,
                with_general: 1,
            },
        }
    }

    #[test]
    fn bars_scale_to_the_largest_and_stack() {
        let chart = stacked_cost(
            "c",
            "t".into(),
            "施策",
            &[
                row("a", 100, 40, 60),
                row("b", 50, 0, 50),
                row("c", 0, 0, 0),
            ],
            |r| r.key.clone(),
        );
        assert_eq!(
            chart.rows[0].segments.iter().map(|s| s.width).sum::<u32>(),
            BARS_WIDTH
        );
        assert_eq!(chart.rows[0].segments[0].width, 160);
        assert_eq!(chart.rows[0].segments[1].x, BARS_X + 160);
        assert_eq!(
            chart.rows[1].segments.iter().map(|s| s.width).sum::<u32>(),
            BARS_WIDTH / 2
        );
        assert!(chart.rows[2].segments.is_empty());
        assert_eq!(chart.table.rows[0], ["a", "1", "100", "40", "60"]);
        assert!(
            chart.description.contains("最も多いのはaで100千円"),
            "{}",
            chart.description
        );
    }

    fn change_row(label: &str, before: Option<i64>, after: Option<i64>, change: &str) -> ChangeRow {
        ChangeRow {
            label: label.into(),
            before,
            after,
            change: change.into(),
        }
    }

    #[test]
    fn changes_grow_both_ways_from_the_centre() {
        let chart = change(
            "d",
            "t".into(),
            "施策",
            ["A", "B"],
            &[
                change_row("a", Some(100), Some(150), "+50"),
                change_row("b", Some(100), Some(0), "-100"),
                change_row("c", Some(5), Some(5), "±0"),
            ],
        );
        let centre = BARS_X + BARS_WIDTH / 2;
        assert_eq!(chart.rows[0].segments[0].x, centre);
        assert_eq!(chart.rows[0].segments[0].width, BARS_WIDTH / 4);
        assert_eq!(
            chart.rows[1].segments[0].x + chart.rows[1].segments[0].width,
            centre
        );
        assert_eq!(chart.rows[1].segments[0].width, BARS_WIDTH / 2);
        assert!(chart.rows[2].segments.is_empty());
        assert_eq!(chart.table.rows[1], ["b", "100", "0", "-100"]);
        assert!(
            chart.description.contains("増加1件・減少1件"),
            "{}",
            chart.description
        );
    }

    /// No amount is not 0: a policy that had no amount and now has one is not drawn as an
    /// increase (nor the other way round), and the numbers say `-`.
    #[test]
    fn no_amount_is_neither_an_increase_nor_a_decrease() {
        let chart = change(
            "d",
            "t".into(),
            "施策",
            ["A", "B"],
            &[
                change_row("a", Some(100), Some(150), "+50"),
                change_row("b", None, Some(17_000), "新たに計上"),
                change_row("c", Some(300), None, "計上なしに"),
                change_row("d", None, None, "-"),
            ],
        );
        assert_eq!(
            chart.rows[0].segments[0].width,
            BARS_WIDTH / 2,
            "the largest change with amounts on both sides fills the half"
        );
        for row in &chart.rows[1..] {
            assert!(row.segments.is_empty(), "{}", row.label);
        }
        assert_eq!(chart.rows[1].value, "新たに計上");
        assert_eq!(chart.table.rows[1], ["b", "-", "17,000", "新たに計上"]);
        assert_eq!(chart.table.rows[2], ["c", "300", "-", "計上なしに"]);
        assert_eq!(chart.table.rows[3], ["d", "-", "-", "-"]);
        assert!(
            chart.description.contains("増加1件・減少0件")
                && chart.description.contains("+50千円")
                && chart.description.contains("3件は"),
            "{}",
            chart.description
        );
    }

    #[test]
    fn shares_add_up_and_round_half_up() {
        let chart = share(
            "s",
            "t".into(),
            "番号",
            &[row("a", 2, 0, 0), row("b", 1, 0, 0)],
            |r| r.key.clone(),
        );
        assert_eq!(chart.table.rows[0][3], "66.7%");
        assert_eq!(chart.table.rows[1][3], "33.3%");
        let long = shorten("とても長い施策の名称がここに入ります長い長い", 17);
        assert_eq!(long.chars().count(), 17);
        assert!(long.ends_with('…'));
    }
}
