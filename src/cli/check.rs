//! `keikaku check`: verifies the database (integrity, foreign keys, money rules, stored
//! totals). Exit 0 when everything holds, 1 with the list of problems otherwise.

use std::process::ExitCode;

use keikaku::config::Config;
use keikaku_core::Lang;

use super::open_store;

/// Runs `check`.
pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    let report = store.check().await?;
    store.close().await;
    let [municipalities, editions, projects, costs] = report.counts;
    for problem in &report.problems {
        println!("{}: {}", problem.rule, problem.detail);
    }
    let scope = match config.lang {
        Lang::Ja => format!(
            "団体 {municipalities}・計画期間 {editions}・事業 {projects}・年度別事業費 {costs} 行"
        ),
        Lang::En => format!(
            "{municipalities} municipalities, {editions} editions, {projects} projects, {costs} cost rows"
        ),
    };
    if report.problems.is_empty() {
        match config.lang {
            Lang::Ja => println!("check: 問題はありません（{scope}）"),
            Lang::En => println!("check: ok ({scope})"),
        }
        Ok(ExitCode::SUCCESS)
    } else {
        match config.lang {
            Lang::Ja => eprintln!(
                "check: {} 件の問題があります（{scope}）",
                report.problems.len()
            ),
            Lang::En => eprintln!(
                "check: {} problem(s) found ({scope})",
                report.problems.len()
            ),
        }
        Ok(ExitCode::FAILURE)
    }
}
