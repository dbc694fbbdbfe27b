//! Pieces every page shares: the layout (title, breadcrumbs, search box, navigation, edition
//! switcher), amounts as people read them, and URLs. Page types compute every string they
//! show here, in Rust, so templates only place them (and escape them).

use keikaku_core::money::group_thousands;
use keikaku_core::{Money, Municipality};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::snapshot::{EditionView, MunicipalityView};

/// The site's name where no municipality is in view.
pub const SITE: &str = "実施計画ポータル";

/// One step of the breadcrumb trail; the last has no link (it is the current page).
#[derive(Debug, Clone)]
pub struct Crumb {
    /// Text.
    pub label: String,
    /// Link, `None` for the current page.
    pub href: Option<String>,
}

/// A link in the navigation or the edition switcher.
#[derive(Debug, Clone)]
pub struct Link {
    /// Text.
    pub label: String,
    /// Target.
    pub href: String,
    /// True for the page (or edition) being shown.
    pub current: bool,
}

/// What the layout around every page needs.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's own title (also its `<h1>` unless the page says otherwise).
    pub title: String,
    /// The site title shown in the header: 〈municipality〉 実施計画, or the portal's name.
    pub site: String,
    /// Where the site title links to.
    pub home: String,
    /// Breadcrumb trail, starting at the site home.
    pub crumbs: Vec<Crumb>,
    /// Search form target.
    pub search_action: String,
    /// The query to show in the search box.
    pub query: String,
    /// Main navigation.
    pub nav: Vec<Link>,
    /// Other editions of the same municipality.
    pub editions: Vec<Link>,
    /// The page comparing editions, when there is more than one.
    pub compare: Option<String>,
    /// A one-sentence description for `<meta name="description">`.
    pub description: String,
}

impl Layout {
    /// A page outside any municipality (the portal root, errors).
    pub fn plain(title: impl Into<String>) -> Layout {
        let title = title.into();
        Layout {
            crumbs: vec![Crumb { label: "トップ".into(), href: Some("/".into()) }, Crumb { label: title.clone(), href: None }],
            title,
            site: SITE.into(),
            home: "/".into(),
            search_action: "/search".into(),
            query: String::new(),
            nav: vec![
                Link { label: "団体一覧".into(), href: "/municipalities".into(), current: false },
                Link { label: "団体をくらべる".into(), href: "/compare".into(), current: false },
                Link { label: "オープンデータ".into(), href: "/opendata".into(), current: false },
                Link { label: "API".into(), href: "/api/docs/".into(), current: false },
            ],
            editions: Vec::new(),
            compare: None,
            description: "市町村の実施計画（事業・事業費・財源）を検索し、集計とオープンデータを入手できます。".into(),
        }
    }

    /// A page of `edition`; `section` marks the current navigation item and `trail` continues
    /// the breadcrumbs after the edition's home.
    pub fn edition(
        municipality: &MunicipalityView,
        edition: &EditionView,
        title: impl Into<String>,
        section: Option<&str>,
        trail: Vec<Crumb>,
    ) -> Layout {
        let title = title.into();
        let name = &municipality.municipality.name;
        let base = &edition.base;
        let home_label = format!("{} 実施計画 {}", name, edition.info.span.label());
        let mut crumbs = vec![
            Crumb {
                label: "トップ".into(),
                href: Some("/".into()),
            },
            Crumb {
                label: home_label,
                href: Some(base.clone()),
            },
        ];
        crumbs.extend(trail);
        let sections = [
            ("policies", "施策一覧", format!("{base}/policies")),
            ("departments", "担当課別", format!("{base}/departments")),
            ("strategies", "地方創生事業", format!("{base}/strategies")),
            ("status", "区分別", format!("{base}/status")),
            ("opendata", "オープンデータ", "/opendata".to_owned()),
            ("api", "API", "/api/docs/".to_owned()),
        ];
        Layout {
            title,
            site: format!("{name} 実施計画"),
            home: base.clone(),
            crumbs,
            search_action: format!("{base}/search"),
            query: String::new(),
            nav: sections
                .into_iter()
                .map(|(key, label, href)| Link {
                    label: label.into(),
                    href,
                    current: section == Some(key),
                })
                .collect(),
            editions: municipality
                .editions
                .iter()
                .rev()
                .map(|e| Link {
                    label: format!("{}（{}）", e.info.span.label(), e.info.span.long_label()),
                    href: e.base.clone(),
                    current: e.base == edition.base,
                })
                .collect(),
            compare: (municipality.editions.len() > 1)
                .then(|| format!("/{}/diff", municipality.municipality.code)),
            description: format!(
                "{name}の実施計画（{}）の事業・事業費・財源を施策・担当課・地方創生事業ごとに掲載しています。",
                edition.info.span.long_label()
            ),
        }
    }

    /// The same layout with `query` in the search box.
    pub fn with_query(mut self, query: &str) -> Layout {
        self.query = query.to_owned();
        self
    }
}

/// An amount for a table cell in 千円: `16,759`, or `-` for no amount.
pub fn amount(money: Option<Money>) -> String {
    money.map_or_else(|| "-".to_owned(), |m| m.grouped())
}

/// A total for a table cell (always a number).
pub fn total(money: Money) -> String {
    group_thousands(money.thousand_yen())
}

/// An amount in running text: `16,759千円`, or `-（計上なし）`.
pub fn amount_text(money: Option<Money>) -> String {
    money.map_or_else(
        || "-（計上なし）".to_owned(),
        |m| format!("{}千円", m.grouped()),
    )
}

/// Characters left as they are in URL path segments.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment (department names, 区分 labels).
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Percent-encodes a query value.
pub fn query_value(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// `白河市（福島県）`.
pub fn municipality_label(municipality: &Municipality) -> String {
    format!(
        "{}（{}）",
        municipality.name,
        municipality.code.prefecture_name()
    )
}
