//! The plan model: an edition of a municipality's 実施計画 with its goals, policies and
//! projects, and each project's cost per fiscal year.
//!
//! These types describe the plan and nothing else: they carry no database ids, no file
//! positions and no serialisation format. Importers build them, validation checks them,
//! storage and exports convert them to their own row and record types.

use std::fmt;

use crate::fiscal::{EditionSpan, FiscalYear};
use crate::money::Money;
use crate::municipality::Municipality;
use crate::status::Status;
use crate::strategy::StrategyLink;

/// One edition of a municipality's 実施計画, e.g. 白河市 R2–R4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edition {
    /// The municipality whose plan this is.
    pub municipality: Municipality,
    /// The fiscal years covered.
    pub span: EditionSpan,
    /// The title, e.g. `白河市実施計画（令和2年度～令和4年度）`.
    pub title: String,
    /// The name of the document it was read from.
    pub source: String,
    /// Whether the public may see it.
    pub state: EditionState,
    /// The 基本目標 covered, in document order.
    pub goals: Vec<Goal>,
}

/// Whether an edition is public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EditionState {
    /// Being prepared: not on the portal, not in open data.
    Draft,
    /// Public.
    #[default]
    Published,
}

impl EditionState {
    /// `draft` or `published`.
    pub fn as_str(self) -> &'static str {
        match self {
            EditionState::Draft => "draft",
            EditionState::Published => "published",
        }
    }

    /// The state called `text`.
    pub fn parse(text: &str) -> Option<EditionState> {
        match text {
            "draft" => Some(EditionState::Draft),
            "published" => Some(EditionState::Published),
            _ => None,
        }
    }

    /// The Japanese label: 作成中 or 公開.
    pub fn label(self) -> &'static str {
        match self {
            EditionState::Draft => "作成中（非公開）",
            EditionState::Published => "公開",
        }
    }
}

impl Edition {
    /// Every policy of every goal, in document order.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.goals.iter().flat_map(|g| g.policies.iter())
    }

    /// Every project with its policy, in document order.
    pub fn projects(&self) -> impl Iterator<Item = (&Policy, &Project)> {
        self.policies()
            .flat_map(|p| p.projects.iter().map(move |j| (p, j)))
    }

    /// The default title when a document states none.
    pub fn default_title(municipality: &Municipality, span: EditionSpan) -> String {
        format!("{}実施計画（{}）", municipality.name, span.long_label())
    }
}

/// A 基本目標 (basic goal) of the 総合計画.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    /// Its number, e.g. 7.
    pub number: u32,
    /// Its title, e.g. 地域のふれあいと支え合いで共に創るまち.
    pub title: String,
    /// The field in 【】, e.g. コミュニティ・行財政分野; empty if none.
    pub field: String,
    /// Its 施策, in document order.
    pub policies: Vec<Policy>,
}

/// A policy code such as `7-1`: goal number and policy number within the goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyCode {
    goal: u32,
    number: u32,
}

impl PolicyCode {
    /// The code `goal-number`; both parts at least 1.
    pub fn new(goal: u32, number: u32) -> Option<Self> {
        (goal >= 1 && number >= 1 && goal < 1_000 && number < 1_000)
            .then_some(PolicyCode { goal, number })
    }

    /// The goal number (7 in `7-1`).
    pub const fn goal(self) -> u32 {
        self.goal
    }

    /// The policy number within its goal (1 in `7-1`).
    pub const fn number(self) -> u32 {
        self.number
    }

    /// Reads `7-1` (also `7－1`, `７-１`).
    pub fn parse(text: &str) -> Option<Self> {
        use unicode_normalization::UnicodeNormalization;
        let t: String = text.nfkc().filter(|c| !c.is_whitespace()).collect();
        let (g, n) = t.split_once(['-', '‐', '−', '–'])?;
        let all_digits =
            |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(g) || !all_digits(n) {
            return None;
        }
        PolicyCode::new(g.parse().ok()?, n.parse().ok()?)
    }
}

impl fmt::Display for PolicyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.goal, self.number)
    }
}

/// A 施策 (policy) with its vision and projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Its code, e.g. 7-1.
    pub code: PolicyCode,
    /// Its title, e.g. 市民との協働による地域づくり.
    pub title: String,
    /// The 【めざすまちの姿】 text, lines joined with `\n`; empty if none.
    pub vision: String,
    /// Its 事業, in document order.
    pub projects: Vec<Project>,
}

/// A project's identity across editions, stable when it is carried into the next edition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProjectId(String);

impl ProjectId {
    /// Accepts 1–64 characters of ASCII letters, digits, `-`, `_` and `.`.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        ok.then(|| ProjectId(text.to_owned()))
    }

    /// The id given to a project first read from a document, which carries none:
    /// municipality, edition, policy and number, e.g. `072052-r2-7-1-3`.
    pub fn derived(
        municipality: &Municipality,
        span: EditionSpan,
        policy: PolicyCode,
        number: u32,
    ) -> Self {
        ProjectId(format!(
            "{}-{}-{}-{}",
            municipality.code,
            span.first().short().to_lowercase(),
            policy,
            number
        ))
    }

    /// A stand-in for an id that failed to parse, unique per place in the source; the
    /// edition it sits in has an error and is never stored.
    pub(crate) fn invalid(place: &str) -> Self {
        ProjectId(format!("invalid:{place}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 事業 (project).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Stable identity across editions.
    pub id: ProjectId,
    /// Its number within its policy (the No column).
    pub number: u32,
    /// 事業名.
    pub name: String,
    /// 事業概要.
    pub summary: String,
    /// 区分.
    pub status: Status,
    /// 担当課: one or more departments.
    pub departments: Vec<String>,
    /// 地方創生事業: zero or more links to the strategy.
    pub strategies: Vec<StrategyLink>,
    /// Cost per fiscal year, in year order; a year the document does not state is absent.
    pub costs: Vec<YearCost>,
}

impl Project {
    /// The cost stated for `year`, if any.
    pub fn cost(&self, year: FiscalYear) -> Option<&YearCost> {
        self.costs.iter().find(|c| c.year == year)
    }
}

/// The kinds of 特定財源 (earmarked funding) that some layouts break down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FundingKind {
    /// 国庫支出金: national subsidies.
    National,
    /// 県支出金: prefectural subsidies.
    Prefectural,
    /// 国・県支出金: national and prefectural subsidies stated together.
    NationalAndPrefectural,
    /// 地方債: municipal bonds.
    Bonds,
    /// その他: fees, donations, fund draw-downs and the rest.
    Other,
}

impl FundingKind {
    /// Every kind, in display order.
    pub const ALL: [FundingKind; 5] = [
        FundingKind::National,
        FundingKind::Prefectural,
        FundingKind::NationalAndPrefectural,
        FundingKind::Bonds,
        FundingKind::Other,
    ];

    /// The Japanese label used in documents and open data.
    pub fn label(self) -> &'static str {
        match self {
            FundingKind::National => "国庫支出金",
            FundingKind::Prefectural => "県支出金",
            FundingKind::NationalAndPrefectural => "国・県支出金",
            FundingKind::Bonds => "地方債",
            FundingKind::Other => "その他",
        }
    }

    /// A stable ASCII key for storage and JSON.
    pub fn key(self) -> &'static str {
        match self {
            FundingKind::National => "national",
            FundingKind::Prefectural => "prefectural",
            FundingKind::NationalAndPrefectural => "national_prefectural",
            FundingKind::Bonds => "bonds",
            FundingKind::Other => "other",
        }
    }

    /// The kind with this key.
    pub fn from_key(key: &str) -> Option<Self> {
        FundingKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// The cost of a project in one fiscal year. `None` is "no amount" (`-`), never zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearCost {
    /// The fiscal year.
    pub year: FiscalYear,
    /// 事業費: the total.
    pub total: Option<Money>,
    /// 特定財源: earmarked funding.
    pub earmarked: Option<Money>,
    /// 一般財源: general funding.
    pub general: Option<Money>,
    /// The breakdown of 特定財源 where the source gives one, in [`FundingKind`] order.
    pub earmarked_breakdown: Vec<(FundingKind, Money)>,
}

impl YearCost {
    /// A year with no amounts at all (a row of dashes).
    pub fn empty(year: FiscalYear) -> Self {
        YearCost {
            year,
            total: None,
            earmarked: None,
            general: None,
            earmarked_breakdown: Vec::new(),
        }
    }

    /// True when no amount is stated.
    pub fn is_empty(&self) -> bool {
        self.total.is_none()
            && self.earmarked.is_none()
            && self.general.is_none()
            && self.earmarked_breakdown.is_empty()
    }
}
