//! Storage on both backends: schema parity, exact round trips, atomic and refused writes.

use keikaku::ops::OpsError;
use keikaku::ops::import::{self, ImportError, ImportRequest};
use keikaku::storage::StoreError;
use keikaku_core::import::Context;
use keikaku_core::{Municipality, MunicipalityCode, canonical};

use super::support::{databases, seed_path};

fn shirakawa() -> Context {
    Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse("072052").expect("code"),
            name: "白河市".into(),
        }),
        ..Context::default()
    }
}

fn seed() -> Vec<u8> {
    std::fs::read(seed_path()).expect("seed")
}

fn request<'a>(
    name: &'a str,
    bytes: &'a [u8],
    context: Context,
    replace: bool,
) -> ImportRequest<'a> {
    ImportRequest {
        name,
        bytes,
        layout: None,
        context,
        replace,
        actor: "test",
    }
}

#[tokio::test]
async fn both_dialects_have_the_same_tables_and_columns() {
    let mut schemas = Vec::new();
    for db in databases().await {
        let store = db.store().await;
        let schema = store.schema().await.expect("schema");
        let tables: Vec<&str> = schema.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            tables,
            [
                "audit_log",
                "edition",
                "edition_total",
                "goal",
                "municipality",
                "policy",
                "project",
                "project_cost",
                "project_department",
                "project_funding",
                "project_strategy"
            ],
            "{}",
            db.label
        );
        schemas.push((db.label, schema));
        store.close().await;
        db.cleanup().await;
    }
    if let [(_, sqlite), (_, postgres)] = schemas.as_slice() {
        assert_eq!(sqlite, postgres, "SQLite and PostgreSQL migrations differ");
    }
}

#[tokio::test]
async fn stored_seed_reads_back_exactly() {
    let bytes = seed();
    let parsed = import::validate("shirakawa-r2-r4-goal7.txt", &bytes, None, &shirakawa());
    for db in databases().await {
        let store = db.store().await;
        let outcome = import::import(
            &store,
            request("shirakawa-r2-r4-goal7.txt", &bytes, shirakawa(), false),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.label));
        assert_eq!(outcome.editions.len(), 1);
        assert_eq!(outcome.editions[0].projects, 33);
        let loaded = store
            .edition(outcome.editions[0].stored.id)
            .await
            .expect("load");
        assert_eq!(loaded, parsed.editions[0].edition, "{}", db.label);
        let log = store.audit_log(10).await.expect("audit");
        assert_eq!(log.len(), 1);
        assert_eq!(log[0][1], "test");
        assert_eq!(log[0][2], "import-edition");
        assert_eq!(log[0][3], "072052 R2-R4");
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_second_import_is_refused_and_replace_swaps_atomically() {
    let bytes = seed();
    let renamed = String::from_utf8(bytes.clone())
        .expect("utf-8")
        .replace("三市交流事業", "三市交流推進事業");
    for db in databases().await {
        let store = db.store().await;
        import::import(&store, request("a.txt", &bytes, shirakawa(), false))
            .await
            .expect("first import");
        let again = import::import(&store, request("a.txt", &bytes, shirakawa(), false)).await;
        assert!(
            matches!(
                again,
                Err(ImportError::Ops(OpsError::Store(
                    StoreError::EditionExists { .. }
                )))
            ),
            "{}: {again:?}",
            db.label
        );
        let outcome = import::import(
            &store,
            request("b.txt", renamed.as_bytes(), shirakawa(), true),
        )
        .await
        .expect("replace");
        assert!(outcome.editions[0].stored.replaced);
        let editions = store.editions().await.expect("editions");
        assert_eq!(editions.len(), 1, "{}", db.label);
        assert_eq!(editions[0].source, "b.txt");
        let edition = store.edition(editions[0].id).await.expect("load");
        assert!(
            edition
                .projects()
                .any(|(_, p)| p.name == "三市交流推進事業")
        );
        assert!(!edition.projects().any(|(_, p)| p.name == "三市交流事業"));
        let actions: Vec<String> = store
            .audit_log(10)
            .await
            .expect("audit")
            .into_iter()
            .map(|r| r[2].clone())
            .collect();
        assert_eq!(actions, ["replace-edition", "import-edition"]);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_failing_write_rolls_back_everything_in_its_transaction() {
    let bytes = seed();
    let parsed = import::validate("seed.txt", &bytes, None, &shirakawa());
    let edition = parsed.editions[0].edition.clone();
    // Two editions in one file: the second exists already, so the first must not be stored.
    let mut other = edition.clone();
    other.span = keikaku_core::EditionSpan::parse("R3-R5").expect("span");
    other.goals[0].policies[0].projects[0].costs.clear();
    for db in databases().await {
        let store = db.store().await;
        import::import(&store, request("seed.txt", &bytes, shirakawa(), false))
            .await
            .expect("seed");
        let before = canonical::to_json(&store.all_editions().await.expect("all"));
        let both = canonical::to_json(&[other.clone(), edition.clone()]);
        let result = import::import(
            &store,
            request("both.json", both.as_bytes(), Context::default(), false),
        )
        .await;
        assert!(result.is_err(), "{}", db.label);
        let after = canonical::to_json(&store.all_editions().await.expect("all"));
        assert_eq!(
            before, after,
            "{}: a failed import changed the database",
            db.label
        );
        assert_eq!(store.audit_log(10).await.expect("audit").len(), 1);

        // A transaction dropped without commit leaves nothing.
        let mut tx = store.begin_write("test").await.expect("begin");
        tx.store_edition(&other, false).await.expect("store in tx");
        tx.rollback().await.expect("rollback");
        assert_eq!(store.editions().await.expect("editions").len(), 1);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_imports_of_one_edition_one_wins_the_other_is_told() {
    let bytes = seed();
    for db in databases().await {
        let store = db.store().await;
        let (a, b) = tokio::join!(
            import::import(&store, request("a.txt", &bytes, shirakawa(), false)),
            import::import(&store, request("b.txt", &bytes, shirakawa(), false)),
        );
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(
            outcomes.iter().filter(|ok| **ok).count(),
            1,
            "{}: {outcomes:?}",
            db.label
        );
        let loser = if a.is_err() { a } else { b };
        match loser {
            Err(ImportError::Ops(OpsError::Store(
                StoreError::EditionExists { .. } | StoreError::Conflict(_),
            ))) => {}
            other => panic!("{}: unexpected {other:?}", db.label),
        }
        let editions = store.editions().await.expect("editions");
        assert_eq!(editions.len(), 1);
        assert_eq!(editions[0].projects, 33);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_unspecified_municipality_is_never_stored() {
    let bytes = seed();
    for db in databases().await {
        let store = db.store().await;
        let result = import::import(
            &store,
            request("seed.txt", &bytes, Context::default(), false),
        )
        .await;
        assert!(
            matches!(result, Err(ImportError::MissingMunicipality)),
            "{}: {result:?}",
            db.label
        );
        assert!(store.editions().await.expect("editions").is_empty());
        store.close().await;
        db.cleanup().await;
    }
}
