//! Cheap sanity of the deploy recipes (issue 17) that runs everywhere, Docker or not (with a
//! daemon, `.ci/run`'s `scripts/docker-check.sh` builds and starts them, and this checks that
//! it is wired): every `REFLINE_*` variable they set is one the binary reads, the Dockerfile
//! builds and starts the binary the tests run, ports agree across Dockerfile, compose file and
//! proxy, the compose file parses (through Python's YAML reader when present) with PostgreSQL,
//! two nodes sharing one secret key and a reverse proxy, and the example config file passes
//! `refline config check`.

use std::{collections::BTreeSet, path::PathBuf, process::Command};

fn repo_file(path: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `REFLINE_…` name in `text`.
fn variables(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("REFLINE_") {
        let name: String = text[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        names.insert(name);
    }
    names
}

#[test]
fn deploy_files_name_only_real_settings() {
    let help = Command::new(env!("CARGO_BIN_EXE_refline")).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let known = variables(&help);
    assert!(known.contains("REFLINE_TRUSTED_PROXIES") && known.contains("REFLINE_CONFIG"), "{help}");
    for file in ["deploy/Dockerfile", "deploy/compose.yaml", "deploy/refline.service", "deploy/env.example"] {
        // REFLINE_DOMAIN is the compose file's own variable (the proxy's site name).
        let unknown: Vec<String> = variables(&repo_file(file))
            .into_iter()
            .filter(|v| !known.contains(v) && v != "REFLINE_DOMAIN")
            .collect();
        assert!(unknown.is_empty(), "{file} sets variables refline does not read: {unknown:?}");
    }
}

#[test]
fn dockerfile_builds_and_runs_the_tested_binary_on_the_documented_port() {
    let docker = repo_file("deploy/Dockerfile");
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_refline"));
    let name = binary.file_name().unwrap().to_str().unwrap();
    assert!(docker.contains(&format!("cargo build --release --locked -p refline --bin {name}")), "{docker}");
    assert!(docker.contains(&format!("ENTRYPOINT [\"/usr/local/bin/{name}\"]")));
    assert!(docker.contains("CMD [\"serve\"]"));
    assert!(docker.contains("USER nonroot"), "runs unprivileged");
    assert!(docker.matches("\nFROM ").count() >= 2, "multi-stage");
    assert!(docker.contains("REFLINE_LISTEN=0.0.0.0:8080") && docker.contains("EXPOSE 8080"));
    let caddy = repo_file("deploy/Caddyfile");
    assert!(caddy.contains("refline-1:8080 refline-2:8080") && caddy.contains("health_uri /readyz"));
    // CI builds and starts the recipes wherever a Docker daemon runs.
    let ci = repo_file(".ci/run");
    let check = repo_file("scripts/docker-check.sh");
    assert!(ci.contains("scripts/docker-check.sh"), ".ci/run does not run the Docker check");
    for needle in ["docker build -f deploy/Dockerfile", "deploy/compose.yaml", "/readyz", "nonroot"] {
        assert!(check.contains(needle), "scripts/docker-check.sh does not {needle}");
    }
    let deploy_doc = repo_file("docs/DEPLOY.md");
    for needle in [
        "deploy/Dockerfile",
        "deploy/compose.yaml",
        "deploy/refline.service",
        "8080",
        "scripts/docker-check.sh",
    ] {
        assert!(deploy_doc.contains(needle), "docs/DEPLOY.md does not mention {needle}");
    }
}

#[test]
fn compose_file_has_postgres_two_nodes_and_a_proxy() {
    let compose = repo_file("deploy/compose.yaml");
    let script = "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))";
    let parsed = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(compose.as_bytes())?;
            child.wait_with_output()
        });
    let Ok(output) =
        parsed.as_ref().map_err(|_| ()).and_then(|o| if o.status.success() { Ok(o) } else { Err(()) })
    else {
        eprintln!("NOTICE: python3 with PyYAML not found; compose.yaml is checked as text only");
        for needle in ["postgres:", "refline-1:", "refline-2:", "caddy:", "REFLINE_SECRET_KEY"] {
            assert!(compose.contains(needle), "{needle}");
        }
        return;
    };
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let services = doc["services"].as_object().expect("services");
    assert!(services["postgres"]["image"].as_str().unwrap().starts_with("postgres:"));
    assert!(services["caddy"]["image"].as_str().unwrap().starts_with("caddy:"));
    let nodes: Vec<&serde_json::Value> =
        services.iter().filter(|(name, _)| name.starts_with("refline-")).map(|(_, s)| s).collect();
    assert_eq!(nodes.len(), 2, "two Refline nodes");
    for node in &nodes {
        let env = &node["environment"];
        assert!(env["REFLINE_DATABASE_URL"].as_str().unwrap().starts_with("postgres://"));
        assert_eq!(
            env["REFLINE_SECRET_KEY"], nodes[0]["environment"]["REFLINE_SECRET_KEY"],
            "one key for all"
        );
        assert_eq!(env["REFLINE_LISTEN"], "0.0.0.0:8080");
        let trusted = env["REFLINE_TRUSTED_PROXIES"].as_str().unwrap();
        let subnet = doc["networks"]["backend"]["ipam"]["config"][0]["subnet"].as_str().unwrap();
        assert_eq!(trusted, subnet, "the proxy's network is the trusted one");
        assert_eq!(node["build"]["dockerfile"], "deploy/Dockerfile");
    }
    assert!(services["caddy"]["volumes"].to_string().contains("Caddyfile"));
}

#[test]
fn example_config_file_passes_config_check() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = root.join("deploy/refline.toml.example");
    let out = Command::new(env!("CARGO_BIN_EXE_refline"))
        .args(["config", "check", "--config", file.to_str().unwrap()])
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
