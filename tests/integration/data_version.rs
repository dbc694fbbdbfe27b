//! The data version a running server polls: it must be taken in commit order, so that a
//! reader that saw a version never misses a write committed before it.

use keikaku::ops::import;
use keikaku::storage::write::Replace;
use keikaku_core::import::Context;
use keikaku_core::{Edition, Municipality, MunicipalityCode};

use super::support::{databases, seed_path};

/// The sample plan as the edition of `code`.
fn edition(code: &str, name: &str) -> Edition {
    let bytes = std::fs::read(seed_path()).expect("seed");
    let context = Context {
        municipality: Some(Municipality {
            code: MunicipalityCode::parse(code).expect("code"),
            name: name.into(),
        }),
        ..Context::default()
    };
    let mut parsed = import::validate("seed.txt", &bytes, None, &context);
    parsed.editions.remove(0).edition
}

/// Two writers that commit out of the order in which they wrote their audit rows: the first
/// writes first (the lower audit id) and commits last. A reader between the two commits
/// sees the second writer's edition; the first writer's commit must still change the
/// version, or the server would never reload its edition. With the newest audit id as the
/// version it did not: the id was already the second writer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_between_commits_out_of_id_order_does_not_miss_the_first_writer() {
    let Some(db) = databases()
        .await
        .into_iter()
        .find(|d| d.label == "postgres")
    else {
        eprintln!("KEIKAKU_TEST_PG_URL is not set: concurrent writers need PostgreSQL");
        return;
    };
    let store = db.store().await;
    let first = edition("072052", "白河市");
    let second = edition("072010", "福島市");

    let mut early = store.begin_write("first").await.expect("begin");
    early
        .store_edition(&first, Replace::Refuse)
        .await
        .expect("first writer stores");
    let mut late = store.begin_write("second").await.expect("begin");
    late.store_edition(&second, Replace::Refuse)
        .await
        .expect("second writer stores");
    late.commit().await.expect("second writer commits first");

    // The reader between the commits: a server loading what is published.
    let state = keikaku::web::AppState::load(store.clone())
        .await
        .expect("load");
    let between = state.snapshot();
    let codes = |s: &keikaku::web::snapshot::Snapshot| -> Vec<String> {
        s.municipalities
            .iter()
            .map(|m| m.municipality.code.to_string())
            .collect()
    };
    assert_eq!(codes(&between), ["072010"], "only the committed edition");

    early.commit().await.expect("first writer commits last");
    assert!(
        store.data_version().await.expect("version") > between.version,
        "the first writer's commit changed the version"
    );
    assert!(
        state.refresh().await.expect("refresh"),
        "the server notices the first writer's edition"
    );
    assert_eq!(codes(&state.snapshot()), ["072010", "072052"]);
    store.close().await;
    db.cleanup().await;
}

/// Every write bumps the version once, whatever it writes; a read-only moment does not.
#[tokio::test]
async fn every_write_transaction_bumps_the_version() {
    for db in databases().await {
        let store = db.store().await;
        let start = store.data_version().await.expect("version");
        let mut tx = store.begin_write("test").await.expect("begin");
        tx.store_edition(&edition("072052", "白河市"), Replace::Refuse)
            .await
            .expect("store");
        tx.commit().await.expect("commit");
        let after_one = store.data_version().await.expect("version");
        assert_eq!(after_one, start + 1, "{}", db.label);
        // A transaction abandoned changes nothing.
        let mut tx = store.begin_write("test").await.expect("begin");
        tx.store_edition(&edition("072010", "福島市"), Replace::Refuse)
            .await
            .expect("store");
        tx.rollback().await.expect("rollback");
        assert_eq!(
            store.data_version().await.expect("version"),
            after_one,
            "{}",
            db.label
        );
        store.close().await;
        db.cleanup().await;
    }
}
