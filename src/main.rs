//! The `coldstart` binary.

use std::process::ExitCode;

/// `println!` that ends the program quietly (exit 0) when stdout was closed
/// (`coldstart render ... | head`), instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, $($arg)*).and_then(|_| stdout.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
    }};
}

mod cli;

fn main() -> ExitCode {
    // V8 starts before anything else when the command line leaves no doubt about its settings.
    let early_engine = cli::start_engine_early();
    let exit = run(early_engine);
    // Never exit while V8 is still initialising on the other thread.
    if let Some(engine) = early_engine {
        engine.ready();
    }
    exit
}

fn run(early_engine: Option<coldstart::Engine>) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COLDSTART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,coldstart::js=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
    let parsed = match cli::parse() {
        Ok(parsed) => parsed,
        Err(error) => {
            if let Some(engine) = early_engine {
                engine.ready();
            }
            error.exit()
        }
    };
    match std::panic::catch_unwind(|| cli::run(parsed)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
        Err(_) => {
            eprintln!("error: internal error (panic); please report it");
            ExitCode::from(1)
        }
    }
}
