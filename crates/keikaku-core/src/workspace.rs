//! The rules of the staff workspace: who may do what to a draft edition, and how each
//! department's part of a draft moves from 入力中 through 提出 to 承認 and 確定.
//!
//! The yearly round: the planning office (企画政策課) opens a draft edition (roll); every
//! department (担当課) enters or updates its own projects and submits its part; the planning
//! office returns a part with a comment (差戻し) or approves it (承認), and may fix it (確定),
//! which locks it for everyone, administrators included; the edition is published once every
//! part is approved. These rules are pure: the web layer and the command line ask them and map
//! a refusal to a status code or a message; storage records the states.

use std::fmt;

use crate::diagnostic::Lang;
use crate::model::EditionState;
use crate::municipality::MunicipalityCode;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Accounts and settings, and everything the planning office may do.
    Admin,
    /// The planning office: the whole plan of its municipality (structure, review, publish).
    Planning,
    /// A department: only projects whose 担当課 is one of its departments, only in a draft.
    Department,
    /// Reads drafts; changes nothing.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Planning, Role::Department, Role::Viewer];

    /// `admin`, `planning`, `department` or `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planning => "planning",
            Role::Department => "department",
            Role::Viewer => "viewer",
        }
    }

    /// The role called `text`.
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// The Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理者",
            Role::Planning => "企画担当（計画全体）",
            Role::Department => "担当課",
            Role::Viewer => "閲覧のみ",
        }
    }

    /// True for the roles that review and publish (the planning office and administrators).
    pub fn reviews(self) -> bool {
        matches!(self, Role::Admin | Role::Planning)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a department's part of a draft edition stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PartState {
    /// 入力中: the department is entering its projects.
    #[default]
    Open,
    /// 提出: submitted for review; the department can no longer change it.
    Submitted,
    /// 差戻し: returned with a comment; the department changes it and submits again.
    Returned,
    /// 承認: approved by the planning office.
    Approved,
    /// 確定: fixed; nobody changes it any more, administrators included.
    Final,
}

impl PartState {
    /// Every state, in the order of the round.
    pub const ALL: [PartState; 5] = [
        PartState::Open,
        PartState::Submitted,
        PartState::Returned,
        PartState::Approved,
        PartState::Final,
    ];

    /// A stable ASCII key for storage and the API.
    pub fn key(self) -> &'static str {
        match self {
            PartState::Open => "open",
            PartState::Submitted => "submitted",
            PartState::Returned => "returned",
            PartState::Approved => "approved",
            PartState::Final => "final",
        }
    }

    /// The state with this key.
    pub fn parse(key: &str) -> Option<PartState> {
        PartState::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The Japanese label: 入力中, 提出, 差戻し, 承認, 確定.
    pub fn label(self) -> &'static str {
        match self {
            PartState::Open => "入力中",
            PartState::Submitted => "提出済み",
            PartState::Returned => "差戻し",
            PartState::Approved => "承認",
            PartState::Final => "確定",
        }
    }

    /// True while the department may change its projects.
    pub fn department_may_edit(self) -> bool {
        matches!(self, PartState::Open | PartState::Returned)
    }

    /// True once the planning office has approved the part (publishing needs it).
    pub fn is_approved(self) -> bool {
        matches!(self, PartState::Approved | PartState::Final)
    }
}

/// A step of the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// 提出: the department hands its part in.
    Submit,
    /// 差戻し: the planning office returns it, with a comment.
    Return,
    /// 承認: the planning office approves it.
    Approve,
    /// 確定: the planning office fixes it for good.
    Finalize,
}

impl Transition {
    /// Every step.
    pub const ALL: [Transition; 4] = [
        Transition::Submit,
        Transition::Return,
        Transition::Approve,
        Transition::Finalize,
    ];

    /// `submit`, `return`, `approve` or `finalize` (URL segments and the audit log).
    pub fn key(self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::Return => "return",
            Transition::Approve => "approve",
            Transition::Finalize => "finalize",
        }
    }

    /// The step with this key.
    pub fn parse(key: &str) -> Option<Transition> {
        Transition::ALL.into_iter().find(|t| t.key() == key)
    }

    /// The Japanese label.
    pub fn label(self) -> &'static str {
        match self {
            Transition::Submit => "提出",
            Transition::Return => "差戻し",
            Transition::Approve => "承認",
            Transition::Finalize => "確定",
        }
    }

    /// The state after the step, from `from`, or `None` when the step does not apply there.
    pub fn apply(self, from: PartState) -> Option<PartState> {
        match (self, from) {
            (Transition::Submit, PartState::Open | PartState::Returned) => {
                Some(PartState::Submitted)
            }
            (Transition::Return, PartState::Submitted | PartState::Approved) => {
                Some(PartState::Returned)
            }
            (Transition::Approve, PartState::Submitted) => Some(PartState::Approved),
            (Transition::Finalize, PartState::Approved) => Some(PartState::Final),
            _ => None,
        }
    }

    /// True when the step needs a comment (a return says why).
    pub fn needs_comment(self) -> bool {
        self == Transition::Return
    }

    /// `submitted`, `returned`, `approved`, `fixed`.
    pub fn past_participle(self) -> &'static str {
        match self {
            Transition::Submit => "submitted",
            Transition::Return => "returned",
            Transition::Approve => "approved",
            Transition::Finalize => "fixed",
        }
    }

    /// True when the department itself takes the step (the others are the reviewers').
    pub fn by_department(self) -> bool {
        self == Transition::Submit
    }
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Their role.
    pub role: Role,
    /// Their municipality; `None` only for an administrator of every municipality.
    pub municipality: Option<MunicipalityCode>,
    /// For a department account: the departments it speaks for.
    pub departments: Vec<String>,
}

impl Actor {
    /// True when the actor belongs to (or administers every) municipality `code`.
    pub fn serves(&self, code: &MunicipalityCode) -> bool {
        match &self.municipality {
            Some(own) => own == code,
            None => self.role == Role::Admin,
        }
    }

    /// True when one of `departments` is the actor's own (always, for reviewers).
    pub fn owns_any(&self, departments: &[String]) -> bool {
        self.role.reviews() || departments.iter().any(|d| self.departments.contains(d))
    }
}

/// What an actor wants to do in a municipality's edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// See the draft editions, their projects and the review dashboard.
    Read,
    /// Change an existing project whose 担当課 are `departments`, each department's part in
    /// the state given.
    EditProject(&'a [(String, PartState)]),
    /// Add a project with these departments and their parts' states.
    AddProject(&'a [(String, PartState)]),
    /// Take a project out of the draft (the planning office; departments propose ending a
    /// project by its 区分 instead).
    RemoveProject(&'a [(String, PartState)]),
    /// Take a step of a department's part, which is in the given state.
    Step(Transition, &'a str, PartState),
    /// Publish the edition.
    Publish,
    /// Read the audit log of the municipality.
    ReadAudit,
    /// Manage accounts.
    ManageUsers,
}

/// Why an action is refused. The web layer maps each to a status: 404, 403, 409, 409.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The object belongs to another municipality: answered as if it did not exist.
    NotFound,
    /// The role, or the department, may not.
    Forbidden(Why),
    /// The edition is published: the workspace changes drafts only.
    Published,
    /// The part is in a state that does not allow it (submitted, approved, fixed).
    Locked(Why),
}

/// The reason behind a [`Refusal::Forbidden`] or [`Refusal::Locked`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A viewer changes nothing.
    ReadOnly,
    /// A viewer does not read the audit log.
    NoAudit,
    /// Accounts are managed by administrators.
    AdminOnly,
    /// Publishing, removing projects and reviewing are the planning office's.
    ReviewersOnly(&'static str),
    /// The project's 担当課 is not one of the account's departments.
    NotOwnDepartment,
    /// A department submits its own part only.
    SubmitOwnOnly(String),
    /// The department's part is fixed (確定).
    Fixed(String),
    /// The department's part is submitted or approved: it must be returned first.
    HandedIn(String, PartState),
    /// The step does not apply in the part's state.
    WrongState(Transition, String, PartState),
}

impl Refusal {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        match self {
            Refusal::NotFound => if ja {
                "見つかりません。"
            } else {
                "not found"
            }
            .to_owned(),
            Refusal::Published => if ja {
                "公開済みの計画期間は変更できません（作成中の計画期間だけを編集できます）。"
            } else {
                "the edition is published: the workspace changes draft editions only"
            }
            .to_owned(),
            Refusal::Forbidden(why) | Refusal::Locked(why) => why.message(lang),
        }
    }
}

impl Why {
    /// The message in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        let ja = lang == Lang::Ja;
        match self {
            Why::ReadOnly => if ja {
                "閲覧のみのアカウントでは変更できません。"
            } else {
                "a read-only account changes nothing"
            }
            .to_owned(),
            Why::NoAudit => if ja {
                "閲覧のみのアカウントでは変更履歴を見られません。"
            } else {
                "a read-only account does not see the audit log"
            }
            .to_owned(),
            Why::AdminOnly => if ja {
                "アカウントの管理は管理者だけができます。"
            } else {
                "only administrators manage accounts"
            }
            .to_owned(),
            Why::ReviewersOnly(what) if ja => {
                format!("{what}は企画担当（計画全体）のアカウントで行います。")
            }
            Why::ReviewersOnly(what) => format!(
                "{} is done by the planning office (a planning or admin account)",
                english(what)
            ),
            Why::NotOwnDepartment => if ja {
                "担当課がこのアカウントの課ではない事業は変更できません。"
            } else {
                "the project's 担当課 is not one of this account's departments"
            }
            .to_owned(),
            Why::SubmitOwnOnly(department) if ja => {
                format!("{department} の提出は、{department} のアカウントか企画担当が行います。")
            }
            Why::SubmitOwnOnly(department) => format!(
                "{department}'s part is submitted by {department} or by the planning office"
            ),
            Why::Fixed(department) if ja => {
                format!("{department} の部分は確定しているため、だれも変更できません。")
            }
            Why::Fixed(department) => {
                format!("{department}'s part is fixed (確定): nobody changes it any more")
            }
            Why::HandedIn(department, state) if ja => format!(
                "{department} は「{}」のため変更できません。変更するには企画担当に差し戻してもらってください。",
                state.label()
            ),
            Why::HandedIn(department, state) => format!(
                "{department}'s part is {}: ask the planning office to return it before changing it",
                state.key()
            ),
            Why::WrongState(step, department, state) if ja => format!(
                "{department} は「{}」のため、{}できません。",
                state.label(),
                step.label()
            ),
            Why::WrongState(step, department, state) => format!(
                "{department}'s part is {}: it cannot be {}",
                state.key(),
                step.past_participle()
            ),
        }
    }
}

/// English names of the reviewers' actions named in [`Why::ReviewersOnly`].
fn english(what: &str) -> &'static str {
    match what {
        "公開" => "publishing",
        "事業を計画から外すこと" => "taking a project out of the plan",
        "差戻し" => "returning a part",
        "承認" => "approving a part",
        "確定" => "fixing a part",
        _ => "this",
    }
}

/// Decides whether `actor` may take `action` in an edition of municipality `code` that is in
/// `state`. Every route of the workspace asks this one function.
pub fn check(
    actor: &Actor,
    code: &MunicipalityCode,
    state: EditionState,
    action: Action<'_>,
) -> Result<(), Refusal> {
    if !actor.serves(code) {
        return Err(Refusal::NotFound);
    }
    let reviewer = actor.role.reviews();
    match action {
        Action::Read => Ok(()),
        Action::ReadAudit => {
            if actor.role == Role::Viewer {
                Err(Refusal::Forbidden(Why::NoAudit))
            } else {
                Ok(())
            }
        }
        Action::ManageUsers => {
            if actor.role == Role::Admin {
                Ok(())
            } else {
                Err(Refusal::Forbidden(Why::AdminOnly))
            }
        }
        Action::Publish => {
            if reviewer {
                Ok(())
            } else {
                Err(Refusal::Forbidden(Why::ReviewersOnly("公開")))
            }
        }
        Action::EditProject(parts) | Action::AddProject(parts) => edit(actor, state, parts),
        Action::RemoveProject(parts) => {
            if !reviewer {
                return Err(Refusal::Forbidden(Why::ReviewersOnly(
                    "事業を計画から外すこと",
                )));
            }
            edit(actor, state, parts)
        }
        Action::Step(step, department, part) => {
            if state == EditionState::Published {
                return Err(Refusal::Published);
            }
            if step.by_department() {
                if !actor.owns_any(&[department.to_owned()]) || actor.role == Role::Viewer {
                    return Err(Refusal::Forbidden(Why::SubmitOwnOnly(
                        department.to_owned(),
                    )));
                }
            } else if !reviewer {
                return Err(Refusal::Forbidden(Why::ReviewersOnly(step.label())));
            }
            match step.apply(part) {
                Some(_) => Ok(()),
                None => Err(Refusal::Locked(Why::WrongState(
                    step,
                    department.to_owned(),
                    part,
                ))),
            }
        }
    }
}

/// Changing projects: a draft only; reviewers unless a part is fixed; departments only their
/// own projects, while every part the project belongs to (theirs and any other department's)
/// is open or returned.
fn edit(actor: &Actor, state: EditionState, parts: &[(String, PartState)]) -> Result<(), Refusal> {
    if actor.role == Role::Viewer {
        return Err(Refusal::Forbidden(Why::ReadOnly));
    }
    if state == EditionState::Published {
        return Err(Refusal::Published);
    }
    if let Some((department, _)) = parts.iter().find(|(_, s)| *s == PartState::Final) {
        return Err(Refusal::Locked(Why::Fixed(department.clone())));
    }
    if actor.role.reviews() {
        return Ok(());
    }
    if !parts.iter().any(|(d, _)| actor.departments.contains(d)) {
        return Err(Refusal::Forbidden(Why::NotOwnDepartment));
    }
    // Every part the project belongs to must be open: a project shared with a department
    // whose part is handed in (submitted, approved) is not changed under it.
    match parts.iter().find(|(_, s)| !s.department_may_edit()) {
        Some((department, state)) => {
            Err(Refusal::Locked(Why::HandedIn(department.clone(), *state)))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> MunicipalityCode {
        MunicipalityCode::parse(text).expect("code")
    }

    fn actor(role: Role, departments: &[&str]) -> Actor {
        Actor {
            role,
            municipality: Some(code("072052")),
            departments: departments.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn a_department_does_not_change_a_shared_project_under_another_departments_handed_in_part() {
        let mine = actor(Role::Department, &["企画政策課"]);
        let code = code("072052");
        let shared = [
            ("企画政策課".to_owned(), PartState::Open),
            ("財政課".to_owned(), PartState::Approved),
        ];
        assert_eq!(
            check(
                &mine,
                &code,
                EditionState::Draft,
                Action::EditProject(&shared)
            ),
            Err(Refusal::Locked(Why::HandedIn(
                "財政課".into(),
                PartState::Approved
            )))
        );
        let both_open = [
            ("企画政策課".to_owned(), PartState::Open),
            ("財政課".to_owned(), PartState::Returned),
        ];
        assert_eq!(
            check(
                &mine,
                &code,
                EditionState::Draft,
                Action::EditProject(&both_open)
            ),
            Ok(())
        );
        // Planning reviews and may change it.
        let planning = actor(Role::Planning, &[]);
        assert_eq!(
            check(
                &planning,
                &code,
                EditionState::Draft,
                Action::EditProject(&shared)
            ),
            Ok(())
        );
    }

    fn parts(list: &[(&str, PartState)]) -> Vec<(String, PartState)> {
        list.iter().map(|(d, s)| ((*d).to_owned(), *s)).collect()
    }

    #[test]
    fn every_refusal_speaks_both_languages() {
        let whys = [
            Why::ReadOnly,
            Why::NoAudit,
            Why::AdminOnly,
            Why::ReviewersOnly("公開"),
            Why::ReviewersOnly("事業を計画から外すこと"),
            Why::ReviewersOnly("差戻し"),
            Why::ReviewersOnly("承認"),
            Why::ReviewersOnly("確定"),
            Why::NotOwnDepartment,
            Why::SubmitOwnOnly("財政課".into()),
            Why::Fixed("財政課".into()),
            Why::HandedIn("財政課".into(), PartState::Submitted),
            Why::WrongState(Transition::Approve, "財政課".into(), PartState::Open),
        ];
        let mut refusals = vec![Refusal::NotFound, Refusal::Published];
        refusals.extend(whys.into_iter().map(Refusal::Forbidden));
        for refusal in refusals {
            let (ja, en) = (refusal.message(Lang::Ja), refusal.message(Lang::En));
            assert!(
                ja.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
                "{ja}"
            );
            assert!(!en.starts_with("this "), "an unnamed action: {en}");
            // English may quote Japanese names (departments, 確定), never Japanese sentences.
            assert!(
                !en.chars().any(|c| ('\u{3040}'..='\u{309f}').contains(&c)),
                "{en}"
            );
        }
    }

    #[test]
    fn the_round_moves_one_way_and_returns_with_a_comment() {
        use PartState::*;
        use Transition::*;
        assert_eq!(Submit.apply(Open), Some(Submitted));
        assert_eq!(Submit.apply(Returned), Some(Submitted));
        assert_eq!(Submit.apply(Submitted), None);
        assert_eq!(Return.apply(Submitted), Some(Returned));
        assert_eq!(Return.apply(Approved), Some(Returned));
        assert_eq!(Return.apply(Final), None, "確定 is for good");
        assert_eq!(Approve.apply(Submitted), Some(Approved));
        assert_eq!(Approve.apply(Open), None, "only what was submitted");
        assert_eq!(Finalize.apply(Approved), Some(Final));
        assert_eq!(Finalize.apply(Submitted), None);
        assert!(Return.needs_comment() && !Approve.needs_comment());
        for state in PartState::ALL {
            assert_eq!(PartState::parse(state.key()), Some(state));
        }
        for step in Transition::ALL {
            assert_eq!(Transition::parse(step.key()), Some(step));
        }
    }

    #[test]
    fn departments_change_only_their_own_open_projects_of_a_draft() {
        let home = code("072052");
        let dept = actor(Role::Department, &["健康福祉課"]);
        let draft = EditionState::Draft;
        let own_open = parts(&[("健康福祉課", PartState::Open)]);
        let own_returned = parts(&[("健康福祉課", PartState::Returned)]);
        let own_submitted = parts(&[("健康福祉課", PartState::Submitted)]);
        let other = parts(&[("財政課", PartState::Open)]);
        let shared = parts(&[("財政課", PartState::Open), ("健康福祉課", PartState::Open)]);
        assert_eq!(
            check(&dept, &home, draft, Action::EditProject(&own_open)),
            Ok(())
        );
        assert_eq!(
            check(&dept, &home, draft, Action::EditProject(&own_returned)),
            Ok(())
        );
        assert_eq!(
            check(&dept, &home, draft, Action::EditProject(&shared)),
            Ok(())
        );
        assert!(matches!(
            check(&dept, &home, draft, Action::EditProject(&other)),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            check(&dept, &home, draft, Action::EditProject(&own_submitted)),
            Err(Refusal::Locked(_))
        ));
        assert_eq!(
            check(
                &dept,
                &home,
                EditionState::Published,
                Action::EditProject(&own_open)
            ),
            Err(Refusal::Published)
        );
        assert_eq!(
            check(
                &dept,
                &code("130001"),
                draft,
                Action::EditProject(&own_open)
            ),
            Err(Refusal::NotFound),
            "another municipality's objects do not exist for it"
        );
        assert!(matches!(
            check(&dept, &home, draft, Action::RemoveProject(&own_open)),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            check(&dept, &home, draft, Action::Publish),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn reviewers_review_and_a_fixed_part_locks_everyone() {
        let home = code("072052");
        let draft = EditionState::Draft;
        let planning = actor(Role::Planning, &[]);
        let admin = Actor {
            role: Role::Admin,
            municipality: None,
            departments: Vec::new(),
        };
        let fixed = parts(&[("健康福祉課", PartState::Final)]);
        let submitted = parts(&[("健康福祉課", PartState::Submitted)]);
        for who in [&planning, &admin] {
            assert_eq!(
                check(who, &home, draft, Action::EditProject(&submitted)),
                Ok(())
            );
            assert!(matches!(
                check(who, &home, draft, Action::EditProject(&fixed)),
                Err(Refusal::Locked(_))
            ));
            assert_eq!(
                check(
                    who,
                    &home,
                    draft,
                    Action::Step(Transition::Approve, "健康福祉課", PartState::Submitted)
                ),
                Ok(())
            );
            assert_eq!(check(who, &home, draft, Action::Publish), Ok(()));
        }
        assert_eq!(check(&admin, &code("130001"), draft, Action::Read), Ok(()));
        assert_eq!(
            check(&planning, &code("130001"), draft, Action::Read),
            Err(Refusal::NotFound)
        );
        assert!(check(&planning, &home, draft, Action::ManageUsers).is_err());
        assert_eq!(check(&admin, &home, draft, Action::ManageUsers), Ok(()));
        let dept = actor(Role::Department, &["健康福祉課"]);
        assert!(matches!(
            check(
                &dept,
                &home,
                draft,
                Action::Step(Transition::Approve, "健康福祉課", PartState::Submitted)
            ),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(
            check(
                &dept,
                &home,
                draft,
                Action::Step(Transition::Submit, "健康福祉課", PartState::Open)
            ),
            Ok(())
        );
        assert!(matches!(
            check(
                &dept,
                &home,
                draft,
                Action::Step(Transition::Submit, "財政課", PartState::Open)
            ),
            Err(Refusal::Forbidden(_))
        ));
        let viewer = actor(Role::Viewer, &[]);
        assert_eq!(check(&viewer, &home, draft, Action::Read), Ok(()));
        assert!(check(&viewer, &home, draft, Action::EditProject(&submitted)).is_err());
        assert!(check(&viewer, &home, draft, Action::ReadAudit).is_err());
    }
}
