//! Synthetic plans for benchmarks and load tests: realistic-looking Japanese names and
//! summaries from word lists, skewed amounts, consistent sums, reproducible from a seed.
//!
//! Nothing here describes a real municipality; generated plans exist to measure keikaku.

pub mod national;

use crate::fiscal::EditionSpan;
use crate::model::{Edition, Goal, Policy, PolicyCode, Project, ProjectId, YearCost};
use crate::money::Money;
use crate::municipality::Municipality;
use crate::status::Status;
use crate::strategy::{StrategyCode, StrategyLink};

const TOPICS: [&str; 40] = [
    "子育て支援",
    "地域包括ケア",
    "移住定住",
    "観光振興",
    "農業担い手",
    "森林整備",
    "防災力強化",
    "道路維持",
    "公共交通",
    "商店街活性化",
    "企業誘致",
    "学校施設",
    "生涯学習",
    "文化財保存",
    "スポーツ振興",
    "健康づくり",
    "介護予防",
    "障がい者福祉",
    "上下水道",
    "ごみ減量",
    "再生可能エネルギー",
    "空き家対策",
    "地域コミュニティ",
    "男女共同参画",
    "国際交流",
    "情報発信",
    "行政DX",
    "職員研修",
    "ふるさと納税",
    "消防団",
    "河川改修",
    "公園整備",
    "図書館",
    "給食センター",
    "保育所",
    "高齢者見守り",
    "雇用創出",
    "特産品開発",
    "景観形成",
    "市民協働",
];
pub(crate) const KINDS: [&str; 10] = [
    "推進事業",
    "支援事業",
    "整備事業",
    "事業",
    "補助事業",
    "運営事業",
    "強化事業",
    "促進事業",
    "管理事務",
    "活用事業",
];
pub(crate) const AIMS: [&str; 8] = [
    "地域の活力を高めるため、",
    "安全で安心な暮らしを守るため、",
    "持続可能な行政運営を図るため、",
    "若い世代の定住を促すため、",
    "誰もが暮らしやすいまちをつくるため、",
    "地域資源を活かすため、",
    "市民の利便性を高めるため、",
    "将来にわたり施設を維持するため、",
];
pub(crate) const MEANS: [&str; 8] = [
    "関係団体と連携して取組を進める。",
    "補助金を交付し、活動を支援する。",
    "計画的に施設の改修を行う。",
    "相談体制を充実させる。",
    "情報発信を強化する。",
    "専門人材を確保し、事業を実施する。",
    "市民参加の機会を設ける。",
    "効果を検証しながら事業を進める。",
];
const DEPARTMENTS: [&str; 16] = [
    "企画政策課",
    "財政課",
    "総務課",
    "市民課",
    "生活防災課",
    "健康増進課",
    "こども支援課",
    "高齢福祉課",
    "農林整備課",
    "商工観光課",
    "建設課",
    "都市計画課",
    "上下水道課",
    "学校教育課",
    "生涯学習課",
    "経営改革推進室",
];

/// A generator with its own deterministic random stream.
pub struct Generator {
    rng: fastrand::Rng,
}

impl Generator {
    /// A generator whose output depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.rng.usize(..items.len())]
    }

    /// A long-tailed amount in 千円: most projects cost hundreds to tens of thousands,
    /// a few hundreds of thousands.
    fn amount(&mut self) -> Money {
        let exponent = 2.0 + self.rng.f64() * 3.5 + if self.rng.u8(..20) == 0 { 1.0 } else { 0.0 };
        // Truncation is intended: amounts are whole 千円.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "bounded by the exponent above"
        )]
        let value = 10f64.powf(exponent) as i64;
        Money::from_thousand_yen(value)
    }

    /// One year's cost with earmarked + general = total, or a row of dashes (5%).
    fn year_cost(&mut self, year: crate::fiscal::FiscalYear) -> YearCost {
        if self.rng.u8(..20) == 0 {
            return YearCost::empty(year);
        }
        let total = self.amount();
        let share = match self.rng.u8(..3) {
            0 => 0,
            1 => self.rng.i64(0..=total.thousand_yen()),
            _ => total.thousand_yen() / 2,
        };
        YearCost {
            year,
            total: Some(total),
            earmarked: Some(Money::from_thousand_yen(share)),
            general: Some(Money::from_thousand_yen(total.thousand_yen() - share)),
            earmarked_breakdown: Vec::new(),
        }
    }

    /// A project of policy `code`.
    pub fn project(
        &mut self,
        municipality: &Municipality,
        span: EditionSpan,
        code: PolicyCode,
        number: u32,
        all_years: bool,
    ) -> Project {
        let name = format!("{}{}", self.pick(&TOPICS), self.pick(&KINDS));
        let summary = format!("{}{}", self.pick(&AIMS), self.pick(&MEANS));
        let status = match self.rng.u8(..10) {
            0 | 1 => Status::New,
            2 => Status::Expanded,
            _ => Status::Continuing,
        };
        let mut departments = vec![self.pick(&DEPARTMENTS).to_owned()];
        if self.rng.u8(..15) == 0 {
            let second = self.pick(&DEPARTMENTS).to_owned();
            if second != departments[0] {
                departments.push(second);
            }
        }
        let strategies = (0..self.rng.usize(..3))
            .filter_map(|_| StrategyCode::new(self.rng.u8(1..=4), self.rng.u8(1..=6)))
            .map(|code| StrategyLink {
                code,
                raw: code.to_string(),
            })
            .fold(Vec::<StrategyLink>::new(), |mut acc, link| {
                if !acc.iter().any(|l| l.code == link.code) {
                    acc.push(link);
                }
                acc
            });
        let years: Vec<_> = if all_years {
            span.years().collect()
        } else {
            vec![span.first()]
        };
        let costs = years.into_iter().map(|y| self.year_cost(y)).collect();
        Project {
            id: ProjectId::derived(municipality, span, code, number),
            number,
            name,
            summary,
            status,
            departments,
            strategies,
            costs,
        }
    }

    /// An edition with `policies` policies of `projects_per_policy` projects each, spread
    /// over goals of up to ten policies.
    pub fn edition(
        &mut self,
        municipality: &Municipality,
        span: EditionSpan,
        policies: u32,
        projects_per_policy: u32,
        all_years: bool,
    ) -> Edition {
        let per_goal = 10;
        let goal_count = policies.div_ceil(per_goal).max(1);
        let mut goals = Vec::new();
        let mut remaining = policies;
        for g in 1..=goal_count {
            let count = remaining.min(per_goal);
            remaining -= count;
            let mut goal_policies = Vec::new();
            for p in 1..=count {
                let Some(code) = PolicyCode::new(g, p) else {
                    continue;
                };
                let projects = (1..=projects_per_policy)
                    .map(|n| self.project(municipality, span, code, n, all_years))
                    .collect();
                goal_policies.push(Policy {
                    code,
                    title: format!("{}の推進", self.pick(&TOPICS)),
                    vision: format!("{}{}", self.pick(&AIMS), self.pick(&MEANS)),
                    projects,
                });
            }
            goals.push(Goal {
                number: g,
                title: format!("{}と{}のまち", self.pick(&TOPICS), self.pick(&TOPICS)),
                field: "総合分野".to_owned(),
                policies: goal_policies,
            });
        }
        Edition {
            title: Edition::default_title(municipality, span),
            municipality: municipality.clone(),
            span,
            source: "synthetic".to_owned(),
            state: crate::model::EditionState::Published,
            goals,
        }
    }
}
