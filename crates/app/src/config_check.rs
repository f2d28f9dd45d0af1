//! What `refline config check` prints: every setting of `refline serve` with the value it
//! would run with and where that value came from, as a TOML config file (so it can be saved and
//! edited), secrets redacted (and commented out, so the printed file stays valid).

use std::{collections::BTreeSet, fmt::Write};

use clap::{parser::ValueSource, ArgAction, ArgMatches, Command};

use crate::config_file::{shown_value, SECRET_KEYS};

/// The effective settings of `serve` as TOML with a comment naming each one's source.
pub fn render(serve: &Command, matches: &ArgMatches, from_file: &BTreeSet<String>) -> String {
    let mut out = String::from(
        "# refline config check: the settings are valid.\n\
         # Precedence: flag > REFLINE_* variable > --config file > default. Secrets are redacted.\n",
    );
    let mut args: Vec<_> = serve
        .get_arguments()
        .filter(|a| !["help", "version", "config"].contains(&a.get_id().as_str()))
        .collect();
    args.sort_by_key(|a| a.get_id().as_str().to_string());
    for arg in args {
        let key = arg.get_id().as_str();
        let source = if from_file.contains(key) {
            "file"
        } else {
            match matches.value_source(key) {
                Some(ValueSource::CommandLine) => "flag",
                Some(ValueSource::EnvVariable) => "env",
                Some(ValueSource::DefaultValue) => "default",
                _ => "unset",
            }
        };
        let values: Vec<String> = matches
            .get_raw(key)
            .map(|raw| raw.map(|v| shown_value(key, &v.to_string_lossy())).collect())
            .unwrap_or_default();
        let switch = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        let line = if switch {
            format!("{key} = {}", values.first().map_or("false", String::as_str))
        } else if matches!(arg.get_action(), ArgAction::Append) {
            let items: Vec<String> = values.iter().map(|v| quoted(v)).collect();
            format!("{key} = [{}]", items.join(", "))
        } else if SECRET_KEYS.contains(&key) && !values.is_empty() {
            // Commented out, so the printed file stays valid (and keeps taking the secret
            // from wherever it came from).
            format!("# {key} = \"<redacted>\"")
        } else if let Some(value) = values.first() {
            format!("{key} = {}", quoted(value))
        } else {
            format!("# {key} =")
        };
        let _ = writeln!(out, "{line:<60} # {source}");
    }
    out
}

/// A TOML string literal.
fn quoted(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}
