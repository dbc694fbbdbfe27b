//! What changed between two editions: projects that are new, ended, renamed, moved to another
//! policy, or changed (区分, departments, strategy codes, amounts of the years both editions
//! cover), and the totals of each policy and goal in both.
//!
//! Totals are compared over the fiscal years both editions cover ([`EditionDiff::compared`]),
//! never over each edition's own span: R2–R4 → R3–R5 compares 令和3–4年度. Summing each
//! edition's own years would drop the old first year on one side and add a new year that is
//! not filled in yet on the other, so every policy would look cut. A group in which no project
//! states a 事業費 in those years has no amount ([`Totals::amount`]), and a change from no
//! amount to an amount is not an increase from 0 ([`CostChange`]).
//!
//! Projects are matched in this order: links the user gives (`--link OLD=NEW`), then the
//! stable id (editions rolled or filled from a template keep it), then an identical name in
//! the same policy, then an identical name anywhere. Editions read from separate documents
//! have no shared ids; for them, names that are merely similar are reported as *uncertain*
//! matches and are not applied: the projects stay new and ended until a person links them.

use std::collections::HashSet;

use crate::aggregate::Totals;
use crate::fiscal::{EditionSpan, FiscalYear};
use crate::model::{Edition, Policy, Project, YearCost};
use crate::money::{Money, group_thousands};
use crate::search::fold;

/// A project as a diff shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// Stable id.
    pub id: String,
    /// Policy code and number, e.g. `7-1-3`.
    pub reference: String,
    /// Policy code.
    pub policy: String,
    /// 事業名.
    pub name: String,
}

/// A value before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<T> {
    /// In the earlier edition.
    pub from: T,
    /// In the later edition.
    pub to: T,
}

/// One amount that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountChange {
    /// Fiscal year.
    pub year: FiscalYear,
    /// `total`, `earmarked`, `general`, or a funding kind key.
    pub field: &'static str,
    /// Before (`None`: no amount).
    pub from: Option<Money>,
    /// After.
    pub to: Option<Money>,
}

/// A project present in both editions, with what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// In the earlier edition.
    pub from: Side,
    /// In the later edition.
    pub to: Side,
    /// 区分, if it changed.
    pub status: Option<Change<String>>,
    /// 担当課, if they changed.
    pub departments: Option<Change<Vec<String>>>,
    /// Strategy codes (normalised), if they changed.
    pub strategies: Option<Change<Vec<String>>>,
    /// True when 事業概要 changed.
    pub summary: bool,
    /// Amounts of the years both editions cover that changed.
    pub amounts: Vec<AmountChange>,
}

/// A possible match that needs a person's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncertain {
    /// The ended project.
    pub from: Side,
    /// The new project that may be the same.
    pub to: Side,
    /// Similarity of the names, 0–100.
    pub similarity: u8,
}

/// Totals of a policy or goal in both editions (`None` where it does not exist), over the
/// fiscal years both editions cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChange {
    /// Policy code or goal number.
    pub key: String,
    /// Title (the later edition's when both have it).
    pub name: String,
    /// In the earlier edition (over the compared years).
    pub from: Option<Totals>,
    /// In the later edition (over the compared years).
    pub to: Option<Totals>,
}

/// How a group's 事業費 changed, over the compared years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostChange {
    /// Both editions state an amount: the later minus the earlier.
    By(Money),
    /// Only the later edition states an amount (none before: not an increase from 0).
    NewlyStated(Money),
    /// Only the earlier edition states an amount (none after: not a cut to 0).
    NoLongerStated(Money),
    /// Neither edition states an amount.
    Neither,
}

impl CostChange {
    /// The change as a cell of a Japanese table: `+1,200`, `-300`, `±0`, `新たに計上`,
    /// `計上なしに`, or `-` when neither edition states an amount.
    pub fn text(self) -> String {
        match self {
            CostChange::By(d) if d.is_negative() => group_thousands(d.thousand_yen()),
            CostChange::By(d) if d == Money::ZERO => "±0".to_owned(),
            CostChange::By(d) => format!("+{}", group_thousands(d.thousand_yen())),
            CostChange::NewlyStated(_) => "新たに計上".to_owned(),
            CostChange::NoLongerStated(_) => "計上なしに".to_owned(),
            CostChange::Neither => "-".to_owned(),
        }
    }

    /// The difference when both editions state an amount.
    pub fn difference(self) -> Option<Money> {
        match self {
            CostChange::By(d) => Some(d),
            _ => None,
        }
    }
}

impl GroupChange {
    /// The group's 事業費 in the earlier edition; `None` for no amount (or no group).
    pub fn from_cost(&self) -> Option<Money> {
        self.from
            .and_then(|t| t.amount(crate::aggregate::Sum::Cost))
    }

    /// The group's 事業費 in the later edition; `None` for no amount (or no group).
    pub fn to_cost(&self) -> Option<Money> {
        self.to.and_then(|t| t.amount(crate::aggregate::Sum::Cost))
    }

    /// How the group's 事業費 changed.
    pub fn cost_change(&self) -> CostChange {
        match (self.from_cost(), self.to_cost()) {
            (Some(a), Some(b)) => CostChange::By(Money::from_thousand_yen(
                b.thousand_yen().saturating_sub(a.thousand_yen()),
            )),
            (None, Some(b)) => CostChange::NewlyStated(b),
            (Some(a), None) => CostChange::NoLongerStated(a),
            (None, None) => CostChange::Neither,
        }
    }
}

/// The fiscal years a diff compares, in Japanese, as tables and pages state them:
/// `令和3年度～令和4年度（両計画に共通する年度）で比較`.
pub fn compared_label(compared: Option<EditionSpan>) -> String {
    match compared {
        Some(span) if span.first() == span.last() => {
            format!("{}（両計画に共通する年度）で比較", span.first().label())
        }
        Some(span) => format!("{}（両計画に共通する年度）で比較", span.long_label()),
        None => "両計画に共通する年度がないため、金額は比較できません".to_owned(),
    }
}

/// Everything that changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EditionDiff {
    /// Only in the later edition.
    pub new: Vec<Side>,
    /// Only in the earlier edition.
    pub ended: Vec<Side>,
    /// Same project, another name.
    pub renamed: Vec<Change<Side>>,
    /// Same project, another policy.
    pub moved: Vec<Change<Side>>,
    /// Same project, other 区分, departments, codes, summary or amounts.
    pub changed: Vec<Changed>,
    /// Ended and new projects whose names are similar: maybe the same project.
    pub uncertain: Vec<Uncertain>,
    /// The fiscal years both editions cover, over which [`EditionDiff::policies`] and
    /// [`EditionDiff::goals`] are summed; `None` when they share no year.
    pub compared: Option<EditionSpan>,
    /// Every policy of either edition, in order.
    pub policies: Vec<GroupChange>,
    /// Every goal of either edition, in order.
    pub goals: Vec<GroupChange>,
}

/// A link given by the user: a project of the earlier edition is the same as one of the
/// later, each named by reference (`7-1-3`) or stable id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// In the earlier edition.
    pub from: String,
    /// In the later edition.
    pub to: String,
}

impl Link {
    /// Reads `OLD=NEW`.
    pub fn parse(text: &str) -> Option<Link> {
        let (from, to) = text.split_once('=')?;
        let (from, to) = (from.trim(), to.trim());
        (!from.is_empty() && !to.is_empty()).then(|| Link {
            from: from.to_owned(),
            to: to.to_owned(),
        })
    }
}

/// Why a diff cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// A link names a project that does not exist.
    #[error("--link {0}: no project {1} in {2}")]
    UnknownProject(String, String, String),
}

/// Lowest name similarity (percent) reported as an uncertain match.
const UNCERTAIN_FROM: u8 = 50;

fn side(policy: &Policy, project: &Project) -> Side {
    Side {
        id: project.id.to_string(),
        reference: format!("{}-{}", policy.code, project.number),
        policy: policy.code.to_string(),
        name: project.name.clone(),
    }
}

fn folded(name: &str) -> Vec<char> {
    fold(name)
        .chars
        .into_iter()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Dice coefficient of the character bigrams of two folded names, 0–100.
fn similarity(a: &[char], b: &[char]) -> u8 {
    if a == b {
        return 100;
    }
    let grams = |s: &[char]| -> Vec<(char, char)> { s.windows(2).map(|w| (w[0], w[1])).collect() };
    let (ga, mut gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return 0;
    }
    let total = ga.len() + gb.len();
    let mut common = 0;
    for g in &ga {
        if let Some(i) = gb.iter().position(|x| x == g) {
            gb.swap_remove(i);
            common += 1;
        }
    }
    u8::try_from(200 * common / total).unwrap_or(100)
}

/// Which project of `b` each project of `a` is (by position in document order), and the
/// uncertain candidates among those left unmatched.
pub struct Matching {
    /// Pairs (index in a, index in b).
    pub pairs: Vec<(usize, usize)>,
    /// Candidates (index in a, index in b, similarity) not applied.
    pub uncertain: Vec<(usize, usize, u8)>,
}

/// Matches the projects of two editions (see the module documentation).
pub fn match_projects(a: &Edition, b: &Edition, links: &[Link]) -> Result<Matching, DiffError> {
    let xs: Vec<(&Policy, &Project)> = a.projects().collect();
    let ys: Vec<(&Policy, &Project)> = b.projects().collect();
    let find = |list: &[(&Policy, &Project)], key: &str| {
        list.iter()
            .position(|(p, j)| j.id.as_str() == key || format!("{}-{}", p.code, j.number) == key)
    };
    let mut pairing = Pairing::default();
    for link in links {
        let i = find(&xs, &link.from).ok_or_else(|| {
            DiffError::UnknownProject(
                format!("{}={}", link.from, link.to),
                link.from.clone(),
                a.span.label(),
            )
        })?;
        let j = find(&ys, &link.to).ok_or_else(|| {
            DiffError::UnknownProject(
                format!("{}={}", link.from, link.to),
                link.to.clone(),
                b.span.label(),
            )
        })?;
        pairing.add(i, j);
    }
    let by_id: std::collections::HashMap<&str, usize> = ys
        .iter()
        .enumerate()
        .map(|(j, (_, y))| (y.id.as_str(), j))
        .collect();
    for (i, (_, x)) in xs.iter().enumerate() {
        if let Some(j) = by_id.get(x.id.as_str()) {
            pairing.add(i, *j);
        }
    }
    let names_a: Vec<Vec<char>> = xs.iter().map(|(_, x)| folded(&x.name)).collect();
    let names_b: Vec<Vec<char>> = ys.iter().map(|(_, y)| folded(&y.name)).collect();
    let mut by_name: std::collections::HashMap<&[char], Vec<usize>> =
        std::collections::HashMap::new();
    for (j, name) in names_b.iter().enumerate() {
        by_name.entry(name.as_slice()).or_default().push(j);
    }
    for same_policy in [true, false] {
        for i in 0..xs.len() {
            if pairing.used_a.contains(&i) {
                continue;
            }
            let candidates: Vec<usize> = by_name
                .get(names_a[i].as_slice())
                .into_iter()
                .flatten()
                .copied()
                .filter(|j| !pairing.used_b.contains(j))
                .filter(|j| !same_policy || xs[i].0.code == ys[*j].0.code)
                .collect();
            if let [j] = candidates.as_slice() {
                pairing.add(i, *j);
            }
        }
    }
    let mut uncertain = Vec::new();
    for i in (0..xs.len()).filter(|i| !pairing.used_a.contains(i)) {
        let best = (0..ys.len())
            .filter(|j| !pairing.used_b.contains(j))
            .map(|j| (j, similarity(&names_a[i], &names_b[j])))
            .max_by_key(|(j, s)| (*s, std::cmp::Reverse(*j)));
        if let Some((j, score)) = best
            && score >= UNCERTAIN_FROM
        {
            uncertain.push((i, j, score));
        }
    }
    let mut pairs = pairing.pairs;
    pairs.sort_unstable();
    Ok(Matching { pairs, uncertain })
}

/// Pairs found so far; each project is paired at most once.
#[derive(Default)]
struct Pairing {
    pairs: Vec<(usize, usize)>,
    used_a: HashSet<usize>,
    used_b: HashSet<usize>,
}

impl Pairing {
    fn add(&mut self, i: usize, j: usize) {
        if !self.used_a.contains(&i) && !self.used_b.contains(&j) {
            self.used_a.insert(i);
            self.used_b.insert(j);
            self.pairs.push((i, j));
        }
    }
}

/// Reads one amount of a year's cost.
type Pick = fn(&YearCost) -> Option<Money>;

fn amount_changes(
    from: &Project,
    to: &Project,
    years: impl Iterator<Item = FiscalYear>,
) -> Vec<AmountChange> {
    let mut changes = Vec::new();
    for year in years {
        let (a, b) = (from.cost(year), to.cost(year));
        let get = |c: Option<&YearCost>, pick: Pick| c.and_then(pick);
        let fields: [(&'static str, Pick); 3] = [
            ("total", |c| c.total),
            ("earmarked", |c| c.earmarked),
            ("general", |c| c.general),
        ];
        for (field, pick) in fields {
            let (x, y) = (get(a, pick), get(b, pick));
            if x != y {
                changes.push(AmountChange {
                    year,
                    field,
                    from: x,
                    to: y,
                });
            }
        }
        for kind in crate::model::FundingKind::ALL {
            let part = |c: Option<&YearCost>| {
                c.and_then(|c| c.earmarked_breakdown.iter().find(|(k, _)| *k == kind))
                    .map(|(_, m)| *m)
            };
            let (x, y) = (part(a), part(b));
            if x != y {
                changes.push(AmountChange {
                    year,
                    field: kind.key(),
                    from: x,
                    to: y,
                });
            }
        }
    }
    changes
}

/// The fiscal years both spans cover, if any (spans are runs of years, so their common years
/// are one run too).
pub fn common_years(a: EditionSpan, b: EditionSpan) -> Option<EditionSpan> {
    let first = a.first().max(b.first());
    let last = a.last().min(b.last());
    if first > last {
        return None;
    }
    EditionSpan::new(first, last)
}

/// Whether to total by policy or by goal.
#[derive(Clone, Copy)]
enum Level {
    Policy,
    Goal,
}

/// One project's totals over `years` (none: nothing is summed, the project still counts).
fn project_totals(project: &Project, years: Option<EditionSpan>) -> Totals {
    crate::aggregate::project_totals(project, |y| years.is_some_and(|span| span.contains(y)))
}

/// The policies or goals of `edition` in order, each with its totals over `years`.
fn group_totals(
    edition: &Edition,
    level: Level,
    years: Option<EditionSpan>,
) -> Vec<(String, String, Totals)> {
    let mut out: Vec<(String, String, Totals)> = Vec::new();
    for goal in &edition.goals {
        for policy in &goal.policies {
            let (key, name) = match level {
                Level::Policy => (policy.code.to_string(), policy.title.clone()),
                Level::Goal => (goal.number.to_string(), goal.title.clone()),
            };
            let i = match out.iter().position(|(k, _, _)| *k == key) {
                Some(i) => i,
                None => {
                    out.push((key, name, Totals::default()));
                    out.len() - 1
                }
            };
            for project in &policy.projects {
                out[i].2.add(project_totals(project, years));
            }
        }
    }
    out
}

fn groups(a: &Edition, b: &Edition, level: Level, years: Option<EditionSpan>) -> Vec<GroupChange> {
    let (ra, rb) = (group_totals(a, level, years), group_totals(b, level, years));
    let mut keys: Vec<String> = ra.iter().map(|r| r.0.clone()).collect();
    for row in &rb {
        if !keys.contains(&row.0) {
            keys.push(row.0.clone());
        }
    }
    keys.into_iter()
        .map(|key| {
            let from = ra.iter().find(|r| r.0 == key);
            let to = rb.iter().find(|r| r.0 == key);
            GroupChange {
                name: to.or(from).map(|r| r.1.clone()).unwrap_or_default(),
                from: from.map(|r| r.2),
                to: to.map(|r| r.2),
                key,
            }
        })
        .collect()
}

/// What changed from `a` to `b`.
pub fn diff(a: &Edition, b: &Edition, links: &[Link]) -> Result<EditionDiff, DiffError> {
    let matching = match_projects(a, b, links)?;
    let xs: Vec<(&Policy, &Project)> = a.projects().collect();
    let ys: Vec<(&Policy, &Project)> = b.projects().collect();
    let mut out = EditionDiff::default();
    let matched_a: HashSet<usize> = matching.pairs.iter().map(|(i, _)| *i).collect();
    let matched_b: HashSet<usize> = matching.pairs.iter().map(|(_, j)| *j).collect();
    out.ended = (0..xs.len())
        .filter(|i| !matched_a.contains(i))
        .map(|i| side(xs[i].0, xs[i].1))
        .collect();
    out.new = (0..ys.len())
        .filter(|j| !matched_b.contains(j))
        .map(|j| side(ys[j].0, ys[j].1))
        .collect();
    let overlap: Vec<FiscalYear> = b.span.years().filter(|y| a.span.contains(*y)).collect();
    for (i, j) in &matching.pairs {
        let ((pa, x), (pb, y)) = (xs[*i], ys[*j]);
        let (from, to) = (side(pa, x), side(pb, y));
        if x.name != y.name {
            out.renamed.push(Change {
                from: from.clone(),
                to: to.clone(),
            });
        }
        if pa.code != pb.code {
            out.moved.push(Change {
                from: from.clone(),
                to: to.clone(),
            });
        }
        let codes = |p: &Project| {
            p.strategies
                .iter()
                .map(|s| s.code.to_string())
                .collect::<Vec<_>>()
        };
        let changed = Changed {
            status: (x.status != y.status).then(|| Change {
                from: x.status.label().to_owned(),
                to: y.status.label().to_owned(),
            }),
            departments: (x.departments != y.departments).then(|| Change {
                from: x.departments.clone(),
                to: y.departments.clone(),
            }),
            strategies: (codes(x) != codes(y)).then(|| Change {
                from: codes(x),
                to: codes(y),
            }),
            summary: x.summary != y.summary,
            amounts: amount_changes(x, y, overlap.iter().copied()),
            from,
            to,
        };
        let any = changed.status.is_some()
            || changed.departments.is_some()
            || changed.strategies.is_some()
            || changed.summary
            || !changed.amounts.is_empty();
        if any {
            out.changed.push(changed);
        }
    }
    out.uncertain = matching
        .uncertain
        .iter()
        .map(|(i, j, s)| Uncertain {
            from: side(xs[*i].0, xs[*i].1),
            to: side(ys[*j].0, ys[*j].1),
            similarity: *s,
        })
        .collect();
    out.compared = common_years(a.span, b.span);
    out.policies = groups(a, b, Level::Policy, out.compared);
    out.goals = groups(a, b, Level::Goal, out.compared);
    Ok(out)
}

/// One project through the editions: for each edition (in the order given), the project
/// there, if any, found by following matches edition to edition from `edition`'s project
/// `reference` (policy code and number, or stable id).
pub fn history<'e>(
    editions: &[&'e Edition],
    start: usize,
    reference: &str,
) -> Option<Vec<Option<(&'e Policy, &'e Project)>>> {
    let find = |e: &Edition| -> Option<usize> {
        e.projects().position(|(p, j)| {
            j.id.as_str() == reference || format!("{}-{}", p.code, j.number) == reference
        })
    };
    let at = find(editions.get(start)?)?;
    let mut positions: Vec<Option<usize>> = vec![None; editions.len()];
    positions[start] = Some(at);
    for k in (0..start).rev() {
        let next = positions[k + 1];
        positions[k] = next.and_then(|j| {
            let m = match_projects(editions[k], editions[k + 1], &[]).ok()?;
            m.pairs.iter().find(|(_, b)| *b == j).map(|(a, _)| *a)
        });
    }
    for k in start + 1..editions.len() {
        let previous = positions[k - 1];
        positions[k] = previous.and_then(|i| {
            let m = match_projects(editions[k - 1], editions[k], &[]).ok()?;
            m.pairs.iter().find(|(a, _)| *a == i).map(|(_, b)| *b)
        });
    }
    Some(
        positions
            .iter()
            .zip(editions)
            .map(|(position, edition)| position.and_then(|i| edition.projects().nth(i)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_of_names() {
        let s = |a: &str, b: &str| similarity(&folded(a), &folded(b));
        assert_eq!(
            s("地域おこし協力隊活用事業", "地域おこし協力隊活用事業"),
            100
        );
        assert!(s("地域おこし協力隊活用事業", "地域おこし協力隊推進事業") >= 70);
        assert!(s("財政調整基金積立金", "ふるさと納税取扱事務") < 20);
        assert_eq!(s("", "a"), 0);
    }

    use crate::fiscal::EditionSpan;
    use crate::model::ProjectId;
    use crate::municipality::{Municipality, MunicipalityCode};
    use crate::roll::roll;
    use crate::synth::Generator;

    fn editions() -> (Edition, Edition) {
        let municipality = Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        };
        let span = EditionSpan::parse("R2-R4").expect("span");
        let a = Generator::new(7).edition(&municipality, span, 3, 4, true);
        let b = roll(&a, EditionSpan::parse("R3-R5").expect("span")).expect("roll");
        (a, b)
    }

    fn policy(edition: &mut Edition, i: usize) -> &mut Policy {
        &mut edition.goals[0].policies[i]
    }

    #[test]
    fn a_rolled_edition_follows_every_project_by_id() {
        let (a, mut b) = editions();
        let unchanged = diff(&a, &b, &[]).expect("diff");
        assert!(unchanged.new.is_empty() && unchanged.ended.is_empty());
        assert!(unchanged.renamed.is_empty() && unchanged.moved.is_empty());

        policy(&mut b, 0).projects[0].name = "まったく別の名前".into();
        let moving = policy(&mut b, 1).projects.remove(2);
        policy(&mut b, 2).projects.push(moving.clone());
        let ended = policy(&mut b, 2).projects.remove(0);
        let d = diff(&a, &b, &[]).expect("diff");
        assert_eq!(d.renamed.len(), 1);
        assert_eq!(d.renamed[0].to.name, "まったく別の名前");
        assert_eq!(d.moved.len(), 1);
        assert_eq!(
            d.moved[0].from.policy,
            a.goals[0].policies[1].code.to_string()
        );
        assert_eq!(d.moved[0].to.policy, policy(&mut b, 2).code.to_string());
        assert_eq!(d.ended.len(), 1);
        assert_eq!(d.ended[0].id, ended.id.as_str());
        assert!(d.new.is_empty());
    }

    #[test]
    fn without_shared_ids_names_match_in_the_same_policy_first() {
        let (a, mut b) = editions();
        let twin = a.goals[0].policies[0].projects[0].name.clone();
        // The same name in two policies of the later edition, and no shared ids.
        policy(&mut b, 1).projects[0].name = twin.clone();
        for (n, project) in b.goals[0]
            .policies
            .iter_mut()
            .flat_map(|p| p.projects.iter_mut())
            .enumerate()
        {
            project.id = ProjectId::parse(&format!("other-{n}")).expect("id");
        }
        let m = match_projects(&a, &b, &[]).expect("match");
        let ys: Vec<_> = b.projects().collect();
        let (_, j) = m
            .pairs
            .iter()
            .find(|(i, _)| *i == 0)
            .copied()
            .expect("paired");
        assert_eq!(
            ys[j].0.code, a.goals[0].policies[0].code,
            "paired within its policy"
        );
        assert_eq!(ys[j].1.name, twin);
    }

    /// The bundled sample: 白河市 R2–R4, where only the R2 (FY2020) cost of each project
    /// survives in the PDF text.
    fn sample() -> Edition {
        let context = crate::import::Context {
            municipality: Some(Municipality {
                code: MunicipalityCode::parse("072052").expect("code"),
                name: "白河市".into(),
            }),
            ..crate::import::Context::default()
        };
        let mut parsed = crate::import::read(
            &crate::source::Source {
                name: "shirakawa-r2-r4-goal7.txt",
                bytes: include_bytes!("../../../data/samples/shirakawa-r2-r4-goal7.txt"),
            },
            Some(&crate::import::pdf_text::PdfTableText),
            &context,
        );
        parsed.editions.remove(0).edition
    }

    fn cost_in(year: i32, total: i64) -> YearCost {
        YearCost {
            total: Some(Money::from_thousand_yen(total)),
            ..YearCost::empty(FiscalYear::new(year).expect("year"))
        }
    }

    /// (key, projects before, projects after) of every group.
    fn counts(groups: &[GroupChange]) -> Vec<(&str, u64, u64)> {
        groups
            .iter()
            .map(|g| {
                (
                    g.key.as_str(),
                    g.from.map_or(0, |t| t.projects),
                    g.to.map_or(0, |t| t.projects),
                )
            })
            .collect()
    }

    #[test]
    fn totals_compare_only_the_years_both_editions_cover() {
        let a = sample();
        let mut b = roll(&a, EditionSpan::parse("R3-R5").expect("span")).expect("roll");
        let d = diff(&a, &b, &[]).expect("diff");
        assert_eq!(d.compared, EditionSpan::parse("R3-R4"));
        assert_eq!(
            compared_label(d.compared),
            "令和3年度～令和4年度（両計画に共通する年度）で比較"
        );
        // The sample states amounts for R2 only, which R3–R5 does not cover, and neither
        // edition states any for R3–R4: no amount on both sides, not a cut to 0.
        for g in d.policies.iter().chain(&d.goals) {
            assert_eq!((g.from_cost(), g.to_cost()), (None, None), "{}", g.key);
            assert_eq!(g.cost_change(), CostChange::Neither, "{}", g.key);
            assert_eq!(g.cost_change().text(), "-");
        }
        // Every project still counts (the sample's tables: 10, 2, 7, 5, 4 and 5 projects).
        assert_eq!(
            counts(&d.policies),
            [
                ("7-1", 10, 10),
                ("7-2", 2, 2),
                ("7-3", 7, 7),
                ("7-4", 5, 5),
                ("7-5", 4, 4),
                ("7-6", 5, 5)
            ]
        );
        assert_eq!(counts(&d.goals), [("7", 33, 33)]);

        // 7-1-1 gets an R3 amount in R3–R5 only; 7-4-1 (広報白河発行事業) had R3 stated in
        // R2–R4 as well (as a later book would) and changes; 7-3 gets an R5 amount, a year
        // R2–R4 does not cover.
        let mut a = a;
        a.goals[0].policies[3].projects[0]
            .costs
            .push(cost_in(2021, 16_001));
        b.goals[0].policies[0].projects[0].costs = vec![cost_in(2021, 17_000)];
        b.goals[0].policies[3].projects[0].costs = vec![cost_in(2021, 16_500)];
        b.goals[0].policies[2].projects[0].costs = vec![cost_in(2023, 900)];
        let d = diff(&a, &b, &[]).expect("diff");
        let change = |key: &str| {
            d.policies
                .iter()
                .chain(&d.goals)
                .find(|g| g.key == key)
                .expect("group")
                .cost_change()
        };
        let m = Money::from_thousand_yen;
        assert_eq!(change("7-1"), CostChange::NewlyStated(m(17_000)));
        assert_eq!(change("7-1").text(), "新たに計上");
        assert_eq!(change("7-4"), CostChange::By(m(499)));
        assert_eq!(change("7-4").text(), "+499");
        assert_eq!(change("7-3"), CostChange::Neither, "R5 is not compared");
        assert_eq!(change("7-2"), CostChange::Neither);
        // The goal: 16,001 before; 17,000 + 16,500 = 33,500 after.
        assert_eq!(change("7"), CostChange::By(m(17_499)));
        assert_eq!(change("7").text(), "+17,499");

        let mut cut = d.policies[3].clone();
        cut.to = cut.to.map(|t| Totals {
            cost: m(15_000),
            ..t
        });
        assert_eq!(cut.cost_change().text(), "-1,001");
        cut.to = cut.to.map(|t| Totals { priced: 0, ..t });
        assert_eq!(cut.cost_change(), CostChange::NoLongerStated(m(16_001)));
        assert_eq!(cut.cost_change().text(), "計上なしに");
    }

    #[test]
    fn editions_without_a_common_year_compare_no_amounts() {
        let a = sample();
        let b = roll(&a, EditionSpan::parse("R5-R7").expect("span")).expect("roll");
        let d = diff(&a, &b, &[]).expect("diff");
        assert_eq!(d.compared, None);
        assert_eq!(
            compared_label(d.compared),
            "両計画に共通する年度がないため、金額は比較できません"
        );
        assert!(
            d.goals
                .iter()
                .all(|g| g.cost_change() == CostChange::Neither)
        );
        assert_eq!(
            compared_label(EditionSpan::parse("R4-R4")),
            "令和4年度（両計画に共通する年度）で比較"
        );
    }

    #[test]
    fn links_parse() {
        assert_eq!(
            Link::parse("7-1-3=7-1-4"),
            Some(Link {
                from: "7-1-3".into(),
                to: "7-1-4".into()
            })
        );
        assert_eq!(Link::parse("7-1-3"), None);
        assert_eq!(Link::parse("=7-1-4"), None);
    }
}
