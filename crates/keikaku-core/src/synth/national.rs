//! A synthetic national dataset: every municipality of a country shaped like Japan (47
//! prefectures, cities, towns and villages with skewed populations), each with consecutive
//! rolling editions whose projects carry forward, end, start, get renamed and move, as real
//! plans do. Reproducible from a seed; each municipality is generated on its own, so a
//! caller can write them one at a time with bounded memory.
//!
//! Names are made from word lists and do not describe real places.

use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, EditionState, Goal, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::Money;
use crate::municipality::{Date, Municipality, MunicipalityCode, PREFECTURES, Population};
use crate::roll::roll;
use crate::status::Status;
use crate::strategy::{StrategyCode, StrategyLink};

use super::{AIMS, KINDS, MEANS};

/// How many municipalities each prefecture has (as of 2024), in JIS order: 1,741 in all.
const PER_PREFECTURE: [u32; 47] = [
    179, 40, 33, 35, 25, 35, 59, 44, 25, 35, 63, 54, 62, 33, 30, 15, 19, 17, 27, 77, 42, 35, 54,
    29, 19, 26, 43, 41, 39, 30, 19, 19, 27, 23, 19, 24, 17, 20, 34, 60, 20, 21, 45, 18, 26, 43, 41,
];

const NAME_HEADS: [&str; 40] = [
    "北", "南", "東", "西", "上", "下", "中", "大", "小", "高", "新", "本", "若", "長", "白", "黒",
    "赤", "青", "緑", "金", "松", "竹", "梅", "桜", "花", "森", "林", "山", "川", "沢", "野", "原",
    "田", "浜", "岡", "島", "谷", "石", "岩", "富",
];
const NAME_TAILS: [&str; 30] = [
    "川", "田", "山", "野", "原", "沢", "浜", "岡", "島", "谷", "崎", "瀬", "津", "井", "見", "宮",
    "里", "郷", "根", "部", "木", "倉", "橋", "尾", "塚", "平", "江", "浦", "坂", "森",
];

/// Policy fields (分野) and the topics of their projects.
const FIELDS: [(&str, [&str; 8]); 8] = [
    (
        "子育て・教育分野",
        [
            "子育て支援",
            "保育所",
            "学校施設",
            "放課後児童",
            "給食センター",
            "教育ICT",
            "不登校対策",
            "奨学金",
        ],
    ),
    (
        "健康・福祉分野",
        [
            "健康づくり",
            "介護予防",
            "地域包括ケア",
            "障がい者福祉",
            "高齢者見守り",
            "母子保健",
            "国民健康保険",
            "生活困窮者支援",
        ],
    ),
    (
        "産業・経済分野",
        [
            "農業担い手",
            "観光振興",
            "企業誘致",
            "商店街活性化",
            "特産品開発",
            "雇用創出",
            "森林整備",
            "創業支援",
        ],
    ),
    (
        "生活環境・防災分野",
        [
            "防災力強化",
            "消防団",
            "河川改修",
            "空き家対策",
            "ごみ減量",
            "交通安全",
            "防犯灯",
            "地域医療",
        ],
    ),
    (
        "都市基盤分野",
        [
            "道路維持",
            "橋りょう長寿命化",
            "公共交通",
            "上下水道",
            "公園整備",
            "市営住宅",
            "景観形成",
            "駅周辺整備",
        ],
    ),
    (
        "環境分野",
        [
            "再生可能エネルギー",
            "脱炭素",
            "自然環境保全",
            "水質保全",
            "環境学習",
            "省エネルギー",
            "緑化推進",
            "鳥獣被害対策",
        ],
    ),
    (
        "文化・スポーツ分野",
        [
            "生涯学習",
            "文化財保存",
            "スポーツ振興",
            "図書館",
            "芸術文化",
            "国際交流",
            "公民館",
            "歴史資料",
        ],
    ),
    (
        "コミュニティ・行財政分野",
        [
            "地域コミュニティ",
            "市民協働",
            "男女共同参画",
            "移住定住",
            "情報発信",
            "行政DX",
            "ふるさと納税",
            "公共施設マネジメント",
        ],
    ),
];

const DEPARTMENT_STEMS: [&str; 16] = [
    "企画政策",
    "財政",
    "総務",
    "住民",
    "生活防災",
    "健康増進",
    "こども支援",
    "高齢福祉",
    "農林整備",
    "商工観光",
    "建設",
    "都市計画",
    "上下水道",
    "学校教育",
    "生涯学習",
    "環境",
];

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct NationalConfig {
    /// Number of municipalities (1,741 is Japan's count).
    pub municipalities: u32,
    /// Consecutive editions per municipality.
    pub editions: u32,
    /// Span of the first edition.
    pub first_span: EditionSpan,
    /// The seed everything derives from.
    pub seed: u64,
}

/// One entry of the roster: who the municipality is and how big.
#[derive(Debug, Clone)]
pub struct RosterEntry {
    /// Code and name.
    pub municipality: Municipality,
    /// Population on the census date.
    pub population: Population,
}

/// A generated municipality with its editions, oldest first.
#[derive(Debug, Clone)]
pub struct SynthMunicipality {
    /// Code, name and population.
    pub entry: RosterEntry,
    /// Consecutive editions.
    pub editions: Vec<Edition>,
}

/// The municipalities: spread over the prefectures in proportion to the real counts, each
/// a 市, 町 or 村 with a population drawn from a long-tailed distribution for its kind.
pub fn roster(config: &NationalConfig) -> Vec<RosterEntry> {
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let census = Date::CENSUS_2020;
    let real_total: u32 = PER_PREFECTURE.iter().sum();
    // Largest remainder: counts per prefecture that add up to exactly `municipalities`.
    let wanted = u64::from(config.municipalities);
    let mut counts: Vec<(usize, u64, u64)> = PER_PREFECTURE
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let exact = u64::from(*n) * wanted;
            (
                i,
                exact / u64::from(real_total),
                exact % u64::from(real_total),
            )
        })
        .collect();
    let assigned: u64 = counts.iter().map(|c| c.1).sum();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by_key(|i| (std::cmp::Reverse(counts[*i].2), *i));
    for i in by_remainder
        .into_iter()
        .take(usize::try_from(wanted.saturating_sub(assigned)).unwrap_or(0))
    {
        counts[i].1 += 1;
    }
    let mut out = Vec::new();
    for (prefecture, count, _) in counts {
        let mut names = std::collections::HashSet::new();
        let (mut cities, mut towns) = (0u16, 0u16);
        for _ in 0..count {
            let kind = rng.u8(..100);
            let (suffix, population) = match kind {
                0..=43 => ("市", long_tail(&mut rng, 30_000.0, 60_000.0, 3_700_000.0)),
                44..=88 => ("町", long_tail(&mut rng, 1_500.0, 12_000.0, 60_000.0)),
                _ => ("村", long_tail(&mut rng, 200.0, 3_000.0, 30_000.0)),
            };
            let local = if suffix == "市" {
                cities += 1;
                200 + cities
            } else {
                towns += 1;
                300 + towns
            };
            let prefecture_number = u8::try_from(prefecture + 1).unwrap_or(1);
            let Some(code) = MunicipalityCode::from_parts(prefecture_number, local) else {
                continue;
            };
            let name = loop {
                let stem = format!(
                    "{}{}",
                    NAME_HEADS[rng.usize(..NAME_HEADS.len())],
                    NAME_TAILS[rng.usize(..NAME_TAILS.len())]
                );
                if names.insert(stem.clone()) {
                    break format!("{stem}{suffix}");
                }
            };
            out.push(RosterEntry {
                municipality: Municipality { code, name },
                population: Population {
                    count: population,
                    as_of: census,
                },
            });
        }
    }
    out
}

/// A value at least `min`, typically `median`, rarely up to `max`: log-normal, clamped.
fn long_tail(rng: &mut fastrand::Rng, min: f64, median: f64, max: f64) -> u64 {
    // Sum of uniforms ≈ normal (Irwin–Hall), scaled to σ ≈ 0.9 in log space.
    let normal = (0..6).map(|_| rng.f64()).sum::<f64>() - 3.0;
    let value = (median.ln() + normal * 0.9 * 1.41).exp().clamp(min, max);
    // Truncation is intended: populations are whole people.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped above"
    )]
    let whole = value as u64;
    whole
}

/// Projects per edition for a population: about 30 for a village, 55 for a town, 110 for a
/// city of 60,000 and up to 1,000 for the largest cities.
fn project_count(rng: &mut fastrand::Rng, population: u64) -> usize {
    #[expect(clippy::cast_precision_loss, reason = "populations are far below 2^52")]
    let people = population as f64;
    let base = 10.4 * (people / 1_000.0).max(0.2).powf(0.55) + 18.6;
    let jitter = 0.8 + rng.f64() * 0.4;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped"
    )]
    let count = (base * jitter).clamp(20.0, 1_000.0) as usize;
    count
}

/// Generates municipality `entry` with `config.editions` consecutive editions. Depends only
/// on the seed and the municipality code.
pub fn municipality(config: &NationalConfig, entry: &RosterEntry) -> SynthMunicipality {
    let code_number: u64 = entry.municipality.code.as_str().parse().unwrap_or(0);
    let mut rng =
        fastrand::Rng::with_seed(config.seed ^ (code_number.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let mut editions = Vec::new();
    let mut first = first_edition(&mut rng, entry, config.first_span);
    editions.push(first.clone());
    let mut span = config.first_span;
    for _ in 1..config.editions {
        let Some(next) = next_span(span) else { break };
        let Ok(rolled) = roll(&first, next) else {
            break;
        };
        first = evolve(&mut rng, rolled, entry);
        editions.push(first.clone());
        span = next;
    }
    SynthMunicipality {
        entry: entry.clone(),
        editions,
    }
}

fn next_span(span: EditionSpan) -> Option<EditionSpan> {
    EditionSpan::new(span.first().next()?, span.last().next()?)
}

fn pick<'a>(rng: &mut fastrand::Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

/// A long-tailed amount in 千円 for a municipality of `population`.
fn amount(rng: &mut fastrand::Rng, population: u64) -> i64 {
    #[expect(clippy::cast_precision_loss, reason = "populations are far below 2^52")]
    let scale = (population as f64 / 50_000.0).clamp(0.05, 40.0).sqrt();
    let exponent = 2.0 + rng.f64() * 3.0 + if rng.u8(..25) == 0 { 1.2 } else { 0.0 };
    #[expect(
        clippy::cast_possible_truncation,
        reason = "bounded by the exponent above"
    )]
    let value = (10f64.powf(exponent) * scale) as i64;
    value.max(1)
}

/// One year's cost: earmarked + general = total, sometimes with a breakdown; 3% dashes.
fn year_cost(rng: &mut fastrand::Rng, year: FiscalYear, population: u64) -> YearCost {
    if rng.u8(..33) == 0 {
        return YearCost::empty(year);
    }
    let total = amount(rng, population);
    let earmarked = match rng.u8(..4) {
        0 => 0,
        1 => total / 2,
        _ => rng.i64(0..=total),
    };
    YearCost {
        year,
        total: Some(Money::from_thousand_yen(total)),
        earmarked: Some(Money::from_thousand_yen(earmarked)),
        general: Some(Money::from_thousand_yen(total - earmarked)),
        earmarked_breakdown: Vec::new(),
    }
}

fn departments(rng: &mut fastrand::Rng, suffix: &str) -> Vec<String> {
    let mut out = vec![format!("{}{suffix}", pick(rng, &DEPARTMENT_STEMS))];
    if rng.u8(..12) == 0 {
        let second = format!("{}{suffix}", pick(rng, &DEPARTMENT_STEMS));
        if second != out[0] {
            out.push(second);
        }
    }
    out
}

fn strategies(rng: &mut fastrand::Rng) -> Vec<StrategyLink> {
    let mut out: Vec<StrategyLink> = Vec::new();
    for _ in 0..rng.usize(..3) {
        if let Some(code) = StrategyCode::new(rng.u8(1..=4), rng.u8(1..=6))
            && !out.iter().any(|l| l.code == code)
        {
            out.push(StrategyLink {
                code,
                raw: code.to_string(),
            });
        }
    }
    out
}

#[expect(clippy::too_many_arguments, reason = "a private builder")]
fn project(
    rng: &mut fastrand::Rng,
    entry: &RosterEntry,
    span: EditionSpan,
    code: PolicyCode,
    number: u32,
    topics: &[&str],
    department_suffix: &str,
    status: Status,
) -> Project {
    let name = format!("{}{}", pick(rng, topics), pick(rng, &KINDS));
    let summary = format!(
        "{}{}{}",
        pick(rng, &AIMS),
        pick(rng, topics),
        pick(rng, &MEANS).replacen("取組", "の取組", 1)
    );
    Project {
        id: ProjectId::derived(&entry.municipality, span, code, number),
        number,
        name,
        summary,
        status,
        departments: departments(rng, department_suffix),
        strategies: strategies(rng),
        costs: span
            .years()
            .map(|y| year_cost(rng, y, entry.population.count))
            .collect(),
    }
}

fn department_suffix(entry: &RosterEntry) -> &'static str {
    if entry.municipality.name.ends_with('市') && entry.population.count > 200_000 {
        "局"
    } else {
        "課"
    }
}

fn topics_of(field: &str) -> &'static [&'static str] {
    FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(&FIELDS[0].1[..], |(_, t)| &t[..])
}

fn first_edition(rng: &mut fastrand::Rng, entry: &RosterEntry, span: EditionSpan) -> Edition {
    let total = project_count(rng, entry.population.count);
    let goal_count = 5 + rng.usize(..4);
    let mut fields: Vec<usize> = (0..FIELDS.len()).collect();
    rng.shuffle(&mut fields);
    let policy_counts: Vec<usize> = (0..goal_count).map(|_| 3 + rng.usize(..4)).collect();
    let policies: usize = policy_counts.iter().sum();
    let total = total.max(policies);
    let suffix = department_suffix(entry);
    let mut goals = Vec::new();
    let mut left = total;
    let mut policies_left = policies;
    for (g, count) in policy_counts.iter().enumerate() {
        let (field, topics) = &FIELDS[fields[g % fields.len()]];
        let goal_number = u32::try_from(g + 1).unwrap_or(1);
        let mut goal_policies = Vec::new();
        for p in 0..*count {
            let Some(code) = PolicyCode::new(goal_number, u32::try_from(p + 1).unwrap_or(1)) else {
                continue;
            };
            // An even share with ±50% variation, at least one project.
            let share = left / policies_left.max(1);
            // `left` never drops below the number of policies still to fill.
            let n = if policies_left == 1 {
                left
            } else {
                (share / 2 + rng.usize(..=share.max(1))).clamp(1, left - (policies_left - 1))
            };
            left = left.saturating_sub(n);
            policies_left -= 1;
            let projects = (1..=n)
                .map(|number| {
                    let status = match rng.u8(..10) {
                        0 => Status::New,
                        1 => Status::Expanded,
                        _ => Status::Continuing,
                    };
                    project(
                        rng,
                        entry,
                        span,
                        code,
                        u32::try_from(number).unwrap_or(1),
                        topics,
                        suffix,
                        status,
                    )
                })
                .collect();
            goal_policies.push(Policy {
                code,
                title: format!("{}の推進", pick(rng, topics)),
                vision: format!("{}{}", pick(rng, &AIMS), pick(rng, &MEANS)),
                projects,
            });
        }
        goals.push(Goal {
            number: goal_number,
            title: format!("{}と{}のまち", pick(rng, topics), pick(rng, topics)),
            field: (*field).to_owned(),
            policies: goal_policies,
        });
    }
    Edition {
        title: Edition::default_title(&entry.municipality, span),
        municipality: entry.municipality.clone(),
        span,
        source: "synthetic".to_owned(),
        state: EditionState::Published,
        goals,
    }
}

/// Next year's plan from a rolled edition: the new year gets amounts, some amounts change,
/// about 4% of projects end, 5% start, 2% are renamed, 1% move to another policy.
fn evolve(rng: &mut fastrand::Rng, mut edition: Edition, entry: &RosterEntry) -> Edition {
    // A rolled edition starts as a draft; these stand for published plans.
    edition.state = EditionState::Published;
    let span = edition.span;
    let last = span.last();
    let population = entry.population.count;
    let suffix = department_suffix(entry);
    let mut moving = Vec::new();
    let policy_codes: Vec<PolicyCode> = edition.policies().map(|p| p.code).collect();
    for goal in &mut edition.goals {
        let topics = topics_of(&goal.field);
        for policy in &mut goal.policies {
            // About 4% end; a policy keeps at least one project.
            for i in (0..policy.projects.len()).rev() {
                if policy.projects.len() > 1 && rng.u8(..100) < 4 {
                    policy.projects.remove(i);
                }
            }
            for project in &mut policy.projects {
                project.costs.retain(|c| c.year != last);
                project.costs.push(year_cost(rng, last, population));
                for cost in &mut project.costs {
                    if rng.u8(..10) < 3
                        && let (Some(total), Some(earmarked)) = (cost.total, cost.earmarked)
                    {
                        let factor = 0.9 + rng.f64() * 0.2;
                        #[expect(
                            clippy::cast_precision_loss,
                            clippy::cast_possible_truncation,
                            reason = "amounts far below 2^52"
                        )]
                        let new_total = ((total.thousand_yen() as f64) * factor) as i64;
                        let new_earmarked = earmarked.thousand_yen().min(new_total);
                        cost.total = Some(Money::from_thousand_yen(new_total));
                        cost.earmarked = Some(Money::from_thousand_yen(new_earmarked));
                        cost.general = Some(Money::from_thousand_yen(new_total - new_earmarked));
                    }
                }
                if rng.u8(..50) == 0 {
                    project.name = format!("{}{}", pick(rng, topics), pick(rng, &KINDS));
                }
                if rng.u8(..20) == 0 {
                    project.status = if rng.bool() {
                        Status::Expanded
                    } else {
                        Status::Reduced
                    };
                }
            }
            if policy.projects.len() > 1 && rng.u8(..100) < 8 {
                let i = rng.usize(..policy.projects.len());
                moving.push(policy.projects.remove(i));
            }
            let additions = (policy.projects.len() / 20) + usize::from(rng.u8(..3) == 0);
            for _ in 0..additions {
                let number = policy.projects.iter().map(|p| p.number).max().unwrap_or(0) + 1;
                policy.projects.push(project(
                    rng,
                    entry,
                    span,
                    policy.code,
                    number,
                    topics,
                    suffix,
                    Status::New,
                ));
            }
        }
    }
    for mut project in moving {
        let target = policy_codes[rng.usize(..policy_codes.len())];
        if let Some(policy) = edition
            .goals
            .iter_mut()
            .flat_map(|g| g.policies.iter_mut())
            .find(|p| p.code == target)
        {
            project.number = policy.projects.iter().map(|p| p.number).max().unwrap_or(0) + 1;
            policy.projects.push(project);
        }
    }
    edition
}

/// The prefecture name of a roster entry, e.g. 福島県.
pub fn prefecture_of(entry: &RosterEntry) -> &'static str {
    PREFECTURES
        .get(usize::from(entry.municipality.code.prefecture_number()).wrapping_sub(1))
        .copied()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{Context, read};
    use crate::source::Source;

    fn config(municipalities: u32) -> NationalConfig {
        NationalConfig {
            municipalities,
            editions: 3,
            first_span: EditionSpan::parse("R4-R6").expect("span"),
            seed: 7,
        }
    }

    #[test]
    fn the_roster_has_valid_unique_codes_in_every_prefecture() {
        let all = roster(&config(1_741));
        assert_eq!(all.len(), 1_741);
        let codes: std::collections::HashSet<_> =
            all.iter().map(|e| e.municipality.code.clone()).collect();
        assert_eq!(codes.len(), 1_741, "codes are unique");
        let prefectures: std::collections::HashSet<_> = all
            .iter()
            .map(|e| e.municipality.code.prefecture_number())
            .collect();
        assert_eq!(prefectures.len(), 47);
        assert_eq!(
            all.iter()
                .filter(|e| e.municipality.code.prefecture_number() == 1)
                .count(),
            179,
            "北海道 keeps its real count"
        );
        let small = roster(&config(20));
        assert_eq!(small.len(), 20);
    }

    #[test]
    fn generation_is_reproducible_and_valid() {
        let config = config(30);
        for entry in &roster(&config) {
            let a = municipality(&config, entry);
            let b = municipality(&config, entry);
            assert_eq!(a.editions, b.editions, "same seed, same plans");
            assert_eq!(a.editions.len(), 3);
            let json = crate::canonical::to_json(&a.editions);
            let parsed = read(
                &Source {
                    name: "synthetic.json",
                    bytes: json.as_bytes(),
                },
                None,
                &Context::default(),
            );
            assert!(
                !parsed.report.has_errors(),
                "{:?}",
                parsed.report.diagnostics
            );
            assert_eq!(parsed.editions.len(), 3);
            assert!(
                a.editions
                    .iter()
                    .all(|e| e.state == EditionState::Published),
                "every generated edition is published"
            );
            // Consecutive editions share most projects by stable id.
            let ids = |e: &Edition| -> std::collections::HashSet<String> {
                e.projects().map(|(_, p)| p.id.to_string()).collect()
            };
            let (first, second) = (ids(&a.editions[0]), ids(&a.editions[1]));
            let shared = first.intersection(&second).count();
            assert!(
                shared * 10 >= first.len() * 8,
                "{shared} of {}",
                first.len()
            );
            assert!(second.len() > shared, "some projects are new");
        }
    }
}
