//! The key that seals payment-processor secrets at rest (`refline_server::secrets`): given as
//! `--secret-key` / `REFLINE_SECRET_KEY` (64 hex characters), or kept in a key file that is
//! created on first use so `refline serve` works on a fresh machine.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::Args;
use refline_server::secrets::{parse_key, random_key};

/// Where the secret key comes from; shared by `serve` and the commands that seal secrets.
#[derive(Debug, Clone, Args)]
pub struct SecretKeyArgs {
    /// Key sealing payment-processor secrets: 64 hex characters (default: the key file).
    #[arg(long, global = true, env = "REFLINE_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Key file read when --secret-key is not given; created (mode 0600) when missing.
    #[arg(long, global = true, env = "REFLINE_SECRET_KEY_FILE", default_value = "refline.key")]
    secret_key_file: PathBuf,
}

impl SecretKeyArgs {
    /// The key text given by flag or variable, if any (not the file's).
    pub fn given(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }

    /// The key: the one given, or the key file's (created with a new random key if missing).
    pub fn resolve(&self) -> anyhow::Result<[u8; 32]> {
        match &self.secret_key {
            Some(text) => {
                parse_key(text).context("--secret-key must be 64 hexadecimal characters (32 bytes)")
            }
            None => read_or_create(&self.secret_key_file),
        }
    }
}

/// Reads the key file, or creates it with a fresh key.
pub fn read_or_create(path: &Path) -> anyhow::Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_shared(path);
            return parse_key(&text).with_context(|| key_file_broken(path));
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err).with_context(|| format!("reading secret key file {}", path.display())),
    }
    let key = random_key();
    match create_private(path, &format!("{}\n", hex_key(&key))) {
        Ok(()) => {
            tracing::warn!(
                file = %path.display(),
                "created a new secret key file; back it up: payment-processor secrets stored in the \
                 database cannot be read without it"
            );
            Ok(key)
        }
        // Another process (a second node, the CLI) created it first: use theirs.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading secret key file {}", path.display()))?;
            parse_key(&text).with_context(|| key_file_broken(path))
        }
        Err(err) => Err(err).with_context(|| format!("creating secret key file {}", path.display())),
    }
}

fn key_file_broken(path: &Path) -> String {
    format!("secret key file {} must hold 64 hexadecimal characters", path.display())
}

fn hex_key(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a new file only its owner can read; fails if it exists.
fn create_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// Warns when other users can read the key file (on Unix): it unlocks every stored secret.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
            tracing::warn!(file = %path.display(), "the secret key file is readable by other users; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_key_file_is_created_once_and_read_back() {
        let dir = tempfile_dir();
        let path = dir.join("refline.key");
        let first = read_or_create(&path).unwrap();
        assert_eq!(read_or_create(&path).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "nonsense").unwrap();
        assert!(read_or_create(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("refline-key-test-{}", hex_key(&random_key())));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
