//! The `keikaku` command: parses the command line, loads the configuration, runs one
//! command and turns its result into an exit status (0 success, 1 failure or invalid
//! input, 2 wrong usage).

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if !matches!(args.command, cli::Command::Serve(_)) {
        quit_quietly_on_closed_pipe();
    }
    cli::init_logging(args.global.verbose, args.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// `keikaku export … | head` should stop quietly when `head` has read enough, as other
/// command-line tools do, instead of failing on the closed pipe. (Not for `serve`, whose
/// sockets report closed connections as errors.)
fn quit_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
