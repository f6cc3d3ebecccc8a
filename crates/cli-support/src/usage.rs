//! Bad command lines: one stderr line naming the bad value and what is
//! expected, then exit code 2. Help and version print as usual and exit 0.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use std::process::ExitCode;

use clap::{ArgMatches, Command, Parser};

/// Exit code for bad user input.
pub const USAGE_EXIT: i32 = 2;

/// Parses the process arguments into `T`, or exits as described above.
pub fn parse_or_exit<T: Parser>() -> T {
    let command = T::command();
    let name = command.get_name().to_owned();
    let matches = matches_or_exit(command);
    T::from_arg_matches(&matches).unwrap_or_else(|e| exit(&name, &T::command(), &e))
}

/// Parses the process arguments against `command` (renamed for a binary that
/// shares its options with others), or exits as described above.
pub fn matches_or_exit(command: Command) -> ArgMatches {
    command
        .clone()
        .try_get_matches()
        .unwrap_or_else(|e| exit(command.get_name(), &command, &e))
}

/// Ends the program for `error`: help/version to stdout with exit 0, an
/// error as [`line`] on stderr with exit [`USAGE_EXIT`].
pub fn exit(name: &str, command: &Command, error: &clap::Error) -> ! {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    eprintln!("{}", line(name, command, error));
    std::process::exit(USAGE_EXIT);
}

/// Bad input found after parsing (a file an option names, options that do
/// not go together): `NAME: error: WHAT` on stderr, and the exit code 2 to
/// return. Like the lines above it is the program's answer, not a log line:
/// `RUST_LOG` cannot hide it.
pub fn bad_input(name: &str, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{name}: error: {message}");
    ExitCode::from(2)
}

/// The one line for a usage error: `NAME: error: WHAT (see --help)`, where
/// WHAT is clap's first line plus the accepted values of an enum, or names the
/// environment variable whose value is not UTF-8.
pub fn line(name: &str, command: &Command, error: &clap::Error) -> String {
    if error.kind() == ErrorKind::InvalidUtf8
        && let Some((var, flag)) = non_utf8_env(command)
    {
        return format!("{name}: error: {var} (sets --{flag}) is not valid UTF-8 (see --help)");
    }
    let text = error.to_string();
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // clap lists the accepted values of an enum on a later line; keep them.
    let expected = match error.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(valid)) if !valid.is_empty() => {
            format!(": expected one of {}", valid.join(", "))
        }
        _ => String::new(),
    };
    format!("{name}: error: {first}{expected} (see --help)")
}

/// The first option's environment variable whose value is not UTF-8, with its flag.
fn non_utf8_env(command: &Command) -> Option<(String, String)> {
    command.get_arguments().find_map(|arg| {
        let var = arg.get_env()?;
        let flag = arg.get_long()?;
        let bad = std::env::var_os(var).is_some_and(|v| v.to_str().is_none());
        bad.then(|| (var.to_string_lossy().into_owned(), flag.to_owned()))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::{Arg, ValueEnum};

    #[derive(Debug, Clone, Copy, ValueEnum)]
    enum Kind {
        A,
        B,
    }

    fn command() -> Command {
        Command::new("tool")
            .arg(
                Arg::new("interval")
                    .long("interval")
                    .value_parser(crate::args::duration),
            )
            .arg(
                Arg::new("kind")
                    .long("kind")
                    .value_parser(clap::value_parser!(Kind)),
            )
    }

    fn error_line(args: &[&str]) -> String {
        let err = command().try_get_matches_from(args).unwrap_err();
        line("tool", &command(), &err)
    }

    #[test]
    fn one_line_naming_the_value_and_what_is_expected() {
        assert_eq!(
            error_line(&["tool", "--interval", "3x"]),
            "tool: error: invalid value '3x' for '--interval <interval>': expected a duration like 500ms, 3s or 1m (see --help)"
        );
        assert_eq!(
            error_line(&["tool", "--kind", "c"]),
            "tool: error: invalid value 'c' for '--kind <kind>': expected one of a, b (see --help)"
        );
        let unknown = error_line(&["tool", "--nope"]);
        assert!(
            unknown.starts_with("tool: error: unexpected argument '--nope' found"),
            "{unknown}"
        );
        assert!(!unknown.contains('\n'), "{unknown}");
    }
}
