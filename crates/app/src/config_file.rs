//! `--config <file.toml>`: settings from a file, beneath flags and environment variables.
//!
//! Precedence, highest first: a flag on the command line, then its `REFLINE_*` variable, then
//! the file, then the built-in default. The file's keys are the options' names in snake case
//! (`public_url`, `trusted_proxies`, `database_url`, `metrics_token`, …; `refline config check`
//! prints every one); a list option takes a TOML array, a switch `true` or `false`. A key that
//! is not an option is an error, so a misspelt setting never silently falls back to its default.
//!
//! How: clap parses the command line once and reports where each value came from; every key of
//! the file whose option was neither given as a flag nor by its variable is appended as
//! `--option=value`, and the result is parsed again. One parser, one set of validations, so a
//! value from the file is checked exactly like the same flag.

use std::{collections::BTreeSet, ffi::OsString, path::Path};

use anyhow::{bail, Context};
use clap::{parser::ValueSource, ArgAction, ArgMatches, Command};

/// Options that may not come from the file (they choose the file, or are not settings).
const NOT_FROM_FILE: [&str; 3] = ["config", "help", "version"];

/// Settings whose value is never printed.
pub const SECRET_KEYS: [&str; 2] = ["secret_key", "metrics_token"];

/// Settings that are URLs whose password is hidden when printed.
pub const URL_KEYS: [&str; 2] = ["database_url", "smtp_url"];

/// Reads and parses `path` as a TOML table.
pub fn read(path: &Path) -> anyhow::Result<toml::Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
    text.parse::<toml::Table>().with_context(|| format!("config file {} is not valid TOML", path.display()))
}

/// `argv` with the file's settings appended for every option of the subcommand `matches`
/// leads to that the command line and the environment left unset, and the names of those
/// options. `serve` is the command that knows every setting: a key that is not one of its
/// options is an error, whichever command runs; a command without that option ignores it.
pub fn layer(
    root: &Command,
    matches: &ArgMatches,
    mut argv: Vec<OsString>,
    file: &toml::Table,
) -> anyhow::Result<(Vec<OsString>, BTreeSet<String>)> {
    let serve = root.find_subcommand("serve").context("serve subcommand")?;
    let known: BTreeSet<&str> =
        serve.get_arguments().map(|a| a.get_id().as_str()).filter(|id| !NOT_FROM_FILE.contains(id)).collect();
    let unknown: Vec<&String> = file.keys().filter(|k| !known.contains(k.as_str())).collect();
    if !unknown.is_empty() {
        bail!(
            "unknown setting{} in the config file: {}; known settings: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
            known.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
    let (leaf, leaf_matches) = leaf(root, matches);
    let mut layered = BTreeSet::new();
    for (key, value) in file {
        let Some(arg) = leaf.get_arguments().find(|a| a.get_id().as_str() == key) else { continue };
        let given = matches!(
            leaf_matches.value_source(key),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if given {
            continue;
        }
        let long = arg.get_long().with_context(|| format!("{key} has no --flag"))?;
        let switch = matches!(arg.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
        let values = toml_values(key, value)?;
        if switch {
            match value {
                toml::Value::Boolean(true) => argv.push(format!("--{long}").into()),
                toml::Value::Boolean(false) => {}
                _ => bail!("config file: {key} must be true or false"),
            }
        } else {
            let many = matches!(arg.get_action(), ArgAction::Append);
            if values.len() != 1 && !many {
                bail!("config file: {key} takes one value, not a list");
            }
            for v in values {
                argv.push(format!("--{long}={v}").into());
            }
        }
        layered.insert(key.clone());
    }
    Ok((argv, layered))
}

/// The deepest subcommand `matches` names, with its matches.
fn leaf<'a>(root: &'a Command, matches: &'a ArgMatches) -> (&'a Command, &'a ArgMatches) {
    let (mut command, mut matches) = (root, matches);
    while let Some((name, sub)) = matches.subcommand() {
        match command.find_subcommand(name) {
            Some(next) => {
                command = next;
                matches = sub;
            }
            None => break,
        }
    }
    (command, matches)
}

/// A TOML value as the texts a flag would take.
fn toml_values(key: &str, value: &toml::Value) -> anyhow::Result<Vec<String>> {
    Ok(match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Integer(n) => vec![n.to_string()],
        toml::Value::Float(f) => vec![f.to_string()],
        toml::Value::Boolean(b) => vec![b.to_string()],
        toml::Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    toml::Value::Array(_) | toml::Value::Table(_) => {
                        bail!("config file: {key} must be a list of plain values")
                    }
                    other => out.extend(toml_values(key, other)?),
                }
            }
            out
        }
        toml::Value::Datetime(_) | toml::Value::Table(_) => {
            bail!("config file: {key} must be a string, number, boolean or list")
        }
    })
}

/// A value as `config check` shows it: secrets hidden, URL passwords hidden.
pub fn shown_value(key: &str, value: &str) -> String {
    if SECRET_KEYS.contains(&key) {
        return "<redacted>".into();
    }
    if URL_KEYS.contains(&key) {
        return redact_url_password(value);
    }
    value.to_string()
}

/// `scheme://user:secret@host` → `scheme://user:<redacted>@host`.
fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return url.to_string() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:<redacted>@{host}{tail}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_hidden() {
        assert_eq!(
            redact_url_password("postgres://refline:s3cret@db:5432/refline"),
            "postgres://refline:<redacted>@db:5432/refline"
        );
        assert_eq!(redact_url_password("smtp://u:p@mail/x?tls=1"), "smtp://u:<redacted>@mail/x?tls=1");
        assert_eq!(redact_url_password("sqlite://refline.db"), "sqlite://refline.db");
        assert_eq!(shown_value("secret_key", "00ff"), "<redacted>");
    }
}
