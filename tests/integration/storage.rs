//! Storage on both backends: schema parity, exact round trips, atomic and refused writes.

use keikaku::ops::OpsError;
use keikaku::ops::import::{self, ImportError, ImportRequest};
use keikaku::storage::StoreError;
use keikaku_core::import::Context;
use keikaku_core::{Municipality, MunicipalityCode, canonical};

use super::support::{databases, seed_path, sqlite_db};

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
                "app_user",
                "audit_log",
                "data_version",
                "edition",
                "edition_part",
                "edition_total",
                "goal",
                "municipality",
                "policy",
                "project",
                "project_cost",
                "project_department",
                "project_funding",
                "project_strategy",
                "sign_in_throttle",
                "user_department",
                "user_session",
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
        assert_eq!(log[0].actor, "test");
        assert_eq!(log[0].action, "import-edition");
        assert_eq!(log[0].subject, "072052 R2-R4");
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
            .map(|r| r.action.clone())
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
        tx.store_edition(&other, keikaku::storage::write::Replace::Refuse)
            .await
            .expect("store in tx");
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

/// Runs raw SQL on a test database (to damage it the way a crash or a hand edit could).
async fn raw(db: &super::support::TestDb, sql: &str) {
    let pool = super::support::raw_pool(db, 1).await;
    sqlx::raw_sql(sql).execute(&pool).await.expect(sql);
    pool.close().await;
}

#[tokio::test]
async fn check_passes_on_a_stored_plan_and_names_every_damage() {
    let bytes = seed();
    for db in databases().await {
        let store = db.store().await;
        import::import(&store, request("seed.txt", &bytes, shirakawa(), false))
            .await
            .expect("import");
        let report = store.check().await.expect("check");
        assert_eq!(report.problems, [], "{}", db.label);
        // 1 municipality, 1 edition, 33 projects; the seed gives each project one year.
        assert_eq!(report.counts, [1, 1, 33, 33], "{}", db.label);
        store.close().await;

        // 7-1-1 FY2020: its 一般財源 no longer adds up; and the stored per-year total of
        // the 新規 projects no longer matches the projects.
        raw(
            &db,
            "UPDATE project_cost SET general = general + 1 WHERE fiscal_year = 2020 AND project_id = \
             (SELECT p.id FROM project p JOIN policy po ON po.id = p.policy_id WHERE po.code = '7-1' AND p.number = 1)",
        )
        .await;
        raw(
            &db,
            "UPDATE edition_total SET total = total + 5 WHERE dimension = 'status' AND key = '新規'",
        )
        .await;
        let store = db.store().await;
        let report = store.check().await.expect("check");
        let rules: Vec<&str> = report.problems.iter().map(|p| p.rule).collect();
        assert!(
            rules.contains(&"sum"),
            "{}: {:?}",
            db.label,
            report.problems
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.rule == "totals" && p.detail.contains("status 新規")),
            "{}: {:?}",
            db.label,
            report.problems
        );
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.rule == "sum" && p.detail.contains("FY2020")),
            "{}: {:?}",
            db.label,
            report.problems
        );
        store.close().await;
        db.cleanup().await;
    }
}

/// Every change is on record in a chain: changing an entry, deleting one in the middle or the
/// newest one is found by `check`; an untouched log verifies.
#[tokio::test]
async fn check_finds_a_changed_or_deleted_audit_entry() {
    let bytes = seed();
    for db in databases().await {
        let store = db.store().await;
        import::import(&store, request("seed.txt", &bytes, shirakawa(), false))
            .await
            .expect("import");
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            let mut tx = store.begin_write("tanaka").await.expect("tx");
            tx.audit("note", &format!("test {name}"), &i.to_string())
                .await
                .expect("audit");
            tx.commit().await.expect("commit");
        }
        let log = store.audit_log(10).await.expect("log");
        let seqs: Vec<i64> = log.iter().rev().map(|e| e.seq).collect();
        assert_eq!(
            seqs,
            [1, 2, 3, 4],
            "{}: one chain in commit order",
            db.label
        );
        assert_eq!(log[0].prev_hash, log[1].hash);
        assert_eq!(store.check().await.expect("check").problems, []);
        store.close().await;

        let chain_problem = |report: keikaku::storage::check::CheckReport| {
            report
                .problems
                .into_iter()
                .find(|p| p.rule == "audit-chain")
                .map(|p| p.detail)
        };
        // An entry's content changed by hand.
        raw(&db, "UPDATE audit_log SET actor = 'someone' WHERE seq = 2").await;
        let store = db.store().await;
        let found = chain_problem(store.check().await.expect("check"));
        assert!(
            found
                .as_deref()
                .is_some_and(|d| d.starts_with("audit log entry 2:")),
            "{}: {found:?}",
            db.label
        );
        store.close().await;
        raw(&db, "UPDATE audit_log SET actor = 'tanaka' WHERE seq = 2").await;
        // An entry deleted in the middle.
        raw(&db, "DELETE FROM audit_log WHERE seq = 3").await;
        let store = db.store().await;
        let found = chain_problem(store.check().await.expect("check"));
        assert!(
            found
                .as_deref()
                .is_some_and(|d| d.starts_with("audit log entry 3:")),
            "{}: {found:?}",
            db.label
        );
        store.close().await;
        // Only the newest deleted (its successor cannot tell): the head kept apart finds it.
        raw(&db, "DELETE FROM audit_log WHERE seq = 4").await;
        raw(&db, "UPDATE data_version SET audit_seq = 2 WHERE id = 1").await;
        let store = db.store().await;
        let found = chain_problem(store.check().await.expect("check"));
        assert!(found.is_some(), "{}: the head no longer matches", db.label);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn check_finds_rows_whose_parent_is_gone() {
    // Only SQLite lets a connection switch foreign keys off, as a hand edit could.
    let db = sqlite_db();
    let store = db.store().await;
    import::import(&store, request("seed.txt", &seed(), shirakawa(), false))
        .await
        .expect("import");
    store.close().await;
    raw(
        &db,
        "PRAGMA foreign_keys = OFF; DELETE FROM project WHERE number = 1 AND policy_id = \
         (SELECT id FROM policy WHERE code = '7-3')",
    )
    .await;
    let store = db.store().await;
    let report = store.check().await.expect("check");
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.rule == "foreign-key" && p.detail.starts_with("project_cost.project_id")),
        "{:?}",
        report.problems
    );
    store.close().await;
}

#[tokio::test]
async fn replace_refuses_when_another_writer_changed_the_edition_first() {
    let bytes = seed();
    for db in databases().await {
        let store = db.store().await;
        import::import(&store, request("seed.txt", &bytes, shirakawa(), false))
            .await
            .expect("import");
        let info = store.editions().await.expect("editions")[0].clone();
        let seen = keikaku::storage::write::EditionStamp {
            id: info.id,
            revision: info.revision,
        };
        let edition = store.edition(seen.id).await.expect("edition");
        // Another writer replaces the edition after this one read it …
        import::import(&store, request("again.txt", &bytes, shirakawa(), true))
            .await
            .expect("replace");
        let now = store.editions().await.expect("editions")[0].id;
        assert_ne!(
            now, seen.id,
            "{}: a replaced edition gets a new id",
            db.label
        );
        // … so replacing what this one saw is a conflict, and nothing changes.
        let mut tx = store.begin_write("test").await.expect("tx");
        let result = tx
            .store_edition(&edition, keikaku::storage::write::Replace::Seen(Some(seen)))
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(_))),
            "{}: {result:?}",
            db.label
        );
        drop(tx);
        // Storing as new what another writer has just stored is a conflict too.
        let mut tx = store.begin_write("test").await.expect("tx");
        let result = tx
            .store_edition(&edition, keikaku::storage::write::Replace::Seen(None))
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(_))),
            "{}: {result:?}",
            db.label
        );
        drop(tx);
        let editions = store.editions().await.expect("editions");
        assert_eq!((editions.len(), editions[0].id), (1, now), "{}", db.label);
        assert_eq!(store.check().await.expect("check").problems, []);
        store.close().await;
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_roll_and_an_import_of_the_same_edition_one_wins_the_other_is_told() {
    let bytes = seed();
    let r3 = keikaku_core::EditionSpan::parse("R3-R5").expect("span");
    let r2 = keikaku_core::EditionSpan::parse("R2-R4").expect("span");
    for db in databases().await {
        let store = db.store().await;
        import::import(&store, request("seed.txt", &bytes, shirakawa(), false))
            .await
            .expect("import");
        // The R3–R5 document: the roll of R2–R4, as canonical JSON from another database.
        let scratch = tempfile::tempdir().expect("tempdir");
        let other = keikaku::storage::Store::open(&keikaku::storage::DatabaseUrl::Sqlite(
            scratch.path().join("other.db"),
        ))
        .await
        .expect("open");
        import::import(&other, request("seed.txt", &bytes, shirakawa(), false))
            .await
            .expect("import");
        let info = keikaku::ops::editions::roll(&other, None, r2, r3, "test")
            .await
            .expect("roll")
            .info;
        let json = canonical::to_json(&[other.edition(info.id).await.expect("edition")]);
        other.close().await;

        let (rolled, imported) = tokio::join!(
            keikaku::ops::editions::roll(&store, None, r2, r3, "test"),
            import::import(
                &store,
                request("r3-r5.json", json.as_bytes(), Context::default(), false)
            ),
        );
        assert_eq!(
            u8::from(rolled.is_ok()) + u8::from(imported.is_ok()),
            1,
            "{}: roll {rolled:?}, import {:?}",
            db.label,
            imported.as_ref().map(|_| ())
        );
        let message = match (rolled, imported) {
            (Err(e), Ok(_)) => e.to_string(),
            (Ok(_), Err(e)) => e.to_string(),
            _ => unreachable!(),
        };
        assert!(
            message.contains("R3-R5")
                && (message.contains("already") || message.contains("another")),
            "{}: {message}",
            db.label
        );
        let editions = store.editions().await.expect("editions");
        assert_eq!(editions.len(), 2, "{}", db.label);
        assert!(editions.iter().all(|e| e.projects == 33), "{}", db.label);
        assert_eq!(store.check().await.expect("check").problems, []);
        store.close().await;
        db.cleanup().await;
    }
}
