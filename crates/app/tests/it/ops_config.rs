//! `--config <file.toml>` and `refline config check` (issue 17): flag > variable > file >
//! default, unknown keys refused, secrets never printed, and `serve` really runs on the file.

use std::process::{Command, Output, Stdio};

use reqwest::StatusCode;

/// Runs the binary with exactly `env` as its environment.
fn refline(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_refline"));
    command.args(args).env_clear();
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("run refline")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The line `config check` printed for `key` (value and source comment).
fn line<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(&format!("{key} =")) || l.starts_with(&format!("# {key} =")))
        .unwrap_or_else(|| panic!("no {key} in:\n{out}"))
}

#[test]
fn config_check_shows_the_precedence_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refline.toml");
    std::fs::write(
        &file,
        r#"
database_url = "postgres://refline:pg-pass-123@db:5432/refline"
public_url = "https://file.example"
trusted_proxies = ["10.0.0.0/8", "192.168.1.7"]
rate_limit_pro = 77
rate_limit_scale = 500
allow_private_webhook_targets = true
metrics_token = "metrics-secret-456"
secret_key = "0000000000000000000000000000000000000000000000000000000000000001"
log_format = "json"
"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = refline(
        &["config", "check", "--config", path, "--rate-limit-pro", "88"],
        &[("REFLINE_PUBLIC_URL", "https://env.example"), ("REFLINE_RATE_LIMIT_PRO", "99")],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    assert!(
        line(&stdout, "rate_limit_pro").contains("\"88\"")
            && line(&stdout, "rate_limit_pro").ends_with("# flag")
    );
    assert!(
        line(&stdout, "public_url").contains("https://env.example")
            && line(&stdout, "public_url").ends_with("# env")
    );
    assert!(
        line(&stdout, "rate_limit_scale").contains("\"500\"")
            && line(&stdout, "rate_limit_scale").ends_with("# file")
    );
    assert!(line(&stdout, "trusted_proxies").contains(r#"["10.0.0.0/8", "192.168.1.7"]"#), "{stdout}");
    assert!(
        line(&stdout, "allow_private_webhook_targets").starts_with("allow_private_webhook_targets = true")
    );
    assert!(
        line(&stdout, "listen").contains("127.0.0.1:8080") && line(&stdout, "listen").ends_with("# default")
    );
    assert!(line(&stdout, "log_format").contains("json"), "{stdout}");
    assert!(line(&stdout, "metrics_token").contains("<redacted>"));
    assert!(
        line(&stdout, "database_url").contains("postgres://refline:<redacted>@db:5432/refline"),
        "{stdout}"
    );
    for secret in [
        "pg-pass-123",
        "metrics-secret-456",
        "0000000000000000000000000000000000000000000000000000000000000001",
    ] {
        assert!(!stdout.contains(secret) && !text(&out.stderr).contains(secret), "{secret} shown:\n{stdout}");
    }

    // What it prints is itself a valid config file.
    let again = dir.path().join("printed.toml");
    std::fs::write(&again, &stdout).unwrap();
    let out = refline(&["config", "check", "--config", again.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn config_files_with_unknown_keys_or_bad_values_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("public_ulr = \"https://typo.example\"\n", "public_ulr"),
        ("trusted_proxies = [\"not-a-range\"]\n", "not-a-range"),
        ("rate_limit_pro = \"many\"\n", "many"),
        ("allow_private_webhook_targets = \"yes\"\n", "allow_private_webhook_targets"),
        ("listen = [\"a\", \"b\"]\n", "listen"),
        ("signup = \"sometimes\"\n", "signup"),
        ("not toml at all = = =\n", "TOML"),
    ];
    for (i, (body, named)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, body).unwrap();
        let out = refline(&["config", "check", "--config", file.to_str().unwrap()], &[]);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{body} accepted:\n{}", text(&out.stdout));
        assert!(stderr.contains(named), "{body}: {stderr}");
    }
    let missing = refline(&["config", "check", "--config", "/nonexistent/refline.toml"], &[]);
    assert!(!missing.status.success());
    // Without a file, the defaults are valid.
    let plain = refline(&["config", "check"], &[]);
    assert!(plain.status.success(), "{}", text(&plain.stderr));
}

/// `serve` runs on what the file says (via REFLINE_CONFIG), beneath an explicit variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_on_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let file = dir.path().join("refline.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:{port}\"\nmetrics_token = \"from-file\"\ndatabase_url = \"sqlite://{}\"\n\
             secret_key_file = \"{}\"\nmail_dir = \"{}\"\n",
            dir.path().join("cfg.db").display(),
            dir.path().join("refline.key").display(),
            dir.path().join("mail").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_refline"))
        .arg("serve")
        .env_clear()
        .env("REFLINE_CONFIG", &file)
        .env("REFLINE_METRICS_TOKEN", "from-env")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/metrics");
    let mut status = None;
    for _ in 0..200 {
        if let Ok(r) = client.get(&url).bearer_auth("from-env").send().await {
            status = Some(r.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let file_token = client.get(&url).bearer_auth("from-file").send().await.map(|r| r.status());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, Some(StatusCode::OK), "listening where the file said, token from the variable");
    assert_eq!(file_token.ok(), Some(StatusCode::UNAUTHORIZED), "the variable outranks the file");
    assert!(dir.path().join("cfg.db").exists(), "database from the file");
}
