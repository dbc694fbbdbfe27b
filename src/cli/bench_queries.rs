//! `keikaku bench --queries`: how long the aggregations behind reports and the comparison
//! page take on the database given by `--db` (for instance a synthetic national set), with
//! the stored per-year totals and, for reference, computed from every project's costs.
//! Prints p50/p99/max per query (and JSON with `--json`, which `bench/national.sh` reads).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use keikaku::config::Config;
use keikaku::ops::compare::{Selection, compare, national};
use keikaku_core::aggregate::{GroupBy, aggregate};

use super::bench::BenchArgs;
use super::open_store;
use super::output::table;

/// One query's timings.
struct Timing {
    name: String,
    samples: Vec<Duration>,
}

impl Timing {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.samples.clone();
        sorted.sort();
        let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(rank).copied().unwrap_or_default()
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}

/// Runs `bench --queries`.
pub async fn run(config: &Config, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let runs = args.runs.max(1);
    let infos = store.editions().await?;
    anyhow::ensure!(!infos.is_empty(), "the database holds no plan to query");
    let first = national(&store, None, GroupBy::Field, None).await?;
    let year = first.year;
    let codes: Vec<String> = store
        .municipalities()
        .await?
        .iter()
        .take(10)
        .map(|m| m.code.to_string())
        .collect();
    let largest = infos
        .iter()
        .max_by_key(|e| e.projects)
        .map(|e| e.id)
        .unwrap_or_default();
    let mut timings: Vec<Timing> = Vec::new();
    macro_rules! measure {
        ($name:expr, $body:expr) => {{
            let mut samples = Vec::with_capacity(runs);
            for _ in 0..runs {
                let start = Instant::now();
                let value = $body;
                samples.push(start.elapsed());
                std::hint::black_box(value);
            }
            timings.push(Timing {
                name: $name.to_string(),
                samples,
            });
        }};
    }
    for by in [GroupBy::Field, GroupBy::Strategy, GroupBy::Status] {
        measure!(
            format!("national totals by {} (stored totals)", by.as_str()),
            national(&store, None, by, Some(year)).await?
        );
    }
    measure!(
        "prefecture comparison, 北海道 by field",
        compare(
            &store,
            &Selection {
                municipalities: Vec::new(),
                prefecture: Some("1".into()),
            },
            GroupBy::Field,
            Some(year),
        )
        .await?
    );
    measure!(
        "10 municipalities by status",
        compare(
            &store,
            &Selection {
                municipalities: codes.clone(),
                prefecture: None,
            },
            GroupBy::Status,
            Some(year),
        )
        .await?
    );
    measure!(
        "largest edition: load + report by policy",
        aggregate(&store.edition(largest).await?, GroupBy::Policy, None)
    );
    measure!(
        "largest edition: load + report by department",
        aggregate(&store.edition(largest).await?, GroupBy::Department, None)
    );
    let mut status_rows = Vec::new();
    for by in [GroupBy::Field, GroupBy::Status] {
        measure!(
            format!(
                "national totals by {} from every project (no stored totals)",
                by.as_str()
            ),
            {
                let rows = store.national_totals_from_projects(year, by).await?;
                if by == GroupBy::Status {
                    status_rows = rows.clone();
                }
                rows
            }
        );
    }
    store.close().await;

    if args.json {
        let queries: Vec<serde_json::Value> = timings
            .iter()
            .map(|t| {
                serde_json::json!({
                    "name": t.name,
                    "p50_ms": ms(t.percentile(0.5)),
                    "p99_ms": ms(t.percentile(0.99)),
                    "max_ms": ms(t.percentile(1.0)),
                })
            })
            .collect();
        let status: Vec<serde_json::Value> = status_rows
            .iter()
            .map(|r| serde_json::json!({"status": r.key, "projects": r.projects, "total": r.total}))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "year": year.year(),
                "runs": runs,
                "editions": infos.len(),
                "queries": queries,
                "national_by_status": status,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows = timings
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                format!("{:.2} ms", ms(t.percentile(0.5))),
                format!("{:.2} ms", ms(t.percentile(0.99))),
                format!("{:.2} ms", ms(t.percentile(1.0))),
            ]
        })
        .collect();
    println!(
        "{}",
        table(&["query", "p50", "p99", "max"], &[1, 2, 3], rows)
    );
    println!(
        "FY{} over {} editions; {runs} runs per query",
        year.year(),
        infos.len()
    );
    Ok(ExitCode::SUCCESS)
}
