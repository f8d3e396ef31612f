//! The `mta` command: one binary, subcommands mirroring Postfix's tools.

use clap::{Parser, Subcommand};
use mta::cli;

#[derive(Parser)]
#[command(
    name = "mta",
    version,
    about = "A secure SMTP gateway with sandboxed filters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon in the foreground (postfix start-fg).
    Run(cli::run::Args),
    /// Check configuration and plugins; warn about open relays (postfix check).
    Check(cli::check::Args),
    /// Show parameters (postconf).
    Postconf(cli::postconf::Args),
    /// Build or query a lookup table (postmap).
    Postmap(cli::postmap::Args),
    /// Build or query an alias database from an aliases(5) file (postalias).
    Postalias(cli::postalias::Args),
    /// Build the alias databases named in alias_database (newaliases).
    Newaliases(cli::postalias::NewaliasesArgs),
    /// Manage plugins: list, test.
    #[command(subcommand)]
    Plugin(cli::plugin::Command),
    /// Manage the queue: list, delete, hold, release, requeue (postqueue/postsuper).
    #[command(subcommand)]
    Queue(cli::queue::Command),
    /// Attempt delivery of all queued mail now (postqueue -f).
    Flush(cli::control::Args),
    /// Re-read configuration and plugins without dropping sessions (postfix reload).
    Reload(cli::control::Args),
    /// Stop the running daemon, draining sessions (postfix stop).
    Stop(cli::control::Args),
    /// Submit a message like sendmail(1).
    Sendmail(cli::sendmail::Args),
}

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    let result = match args.command {
        Command::Run(a) => cli::run::main(a),
        Command::Check(a) => cli::check::main(a),
        Command::Postconf(a) => cli::postconf::main(a),
        Command::Postmap(a) => cli::postmap::main(a),
        Command::Postalias(a) => cli::postalias::main(a),
        Command::Newaliases(a) => cli::postalias::newaliases(a),
        Command::Plugin(c) => cli::plugin::main(c),
        Command::Queue(c) => cli::queue::main(c),
        Command::Flush(a) => cli::control::main("flush", a),
        Command::Reload(a) => cli::control::main("reload", a),
        Command::Stop(a) => cli::control::main("stop", a),
        Command::Sendmail(a) => cli::sendmail::main(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mta: fatal: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}
