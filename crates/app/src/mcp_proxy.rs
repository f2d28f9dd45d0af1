//! `refline mcp`: the MCP tools over stdio for desktop clients (Claude Desktop, Cursor, VS Code),
//! relayed to a Refline server's `/mcp` over HTTP — local or remote, the same tools, keys, rights
//! and audit log as the hosted endpoint. Each JSON-RPC line read from stdin is POSTed as is; each
//! message of the answer (JSON, or the events of an SSE stream) is written to stdout as one line.
//! Nothing but protocol messages is written to stdout; diagnostics go to stderr.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    sync::mpsc,
};

/// `refline mcp` arguments.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// The API key the tools act with (`lj_pk_…`, or `lj_pk_test_…` for test data). Without
    /// one, only the three no-account tools work (plans, program advice, switching tools).
    #[arg(long, env = "REFLINE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// The Refline server: its public URL (https://refline.example.com) or its `/mcp` URL.
    #[arg(long, env = "REFLINE_MCP_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
}

/// The `/mcp` endpoint of `url`.
pub fn endpoint(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    if trimmed.ends_with("/mcp") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/mcp")
    }
}

/// What the relay learned from the server: the negotiated revision and any session id.
#[derive(Debug, Default)]
struct Negotiated {
    version: Option<String>,
    session: Option<String>,
}

/// Relays stdin to the server until stdin closes.
pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    let endpoint = endpoint(&args.url);
    let client = reqwest::Client::builder()
        .user_agent(concat!("refline-mcp/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let (out_tx, mut out_rx) = mpsc::channel::<String>(64);
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = out_rx.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err()
                || stdout.write_all(b"\n").await.is_err()
                || stdout.flush().await.is_err()
            {
                break;
            }
        }
    });
    let negotiated = Arc::new(Mutex::new(Negotiated::default()));
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(line) = lines.next_line().await.context("reading stdin")? {
        if line.trim().is_empty() {
            continue;
        }
        let relay = Relay {
            client: client.clone(),
            endpoint: endpoint.clone(),
            key: args.api_key.clone(),
            out: out_tx.clone(),
            negotiated: negotiated.clone(),
        };
        // `initialize` is answered before anything else is sent: clients wait for it anyway,
        // and later requests need the revision it settles.
        if line.contains("\"initialize\"") {
            relay.forward(line).await;
        } else {
            tasks.spawn(relay.forward(line));
        }
    }
    while tasks.join_next().await.is_some() {}
    drop(out_tx);
    let _ = writer.await;
    Ok(())
}

struct Relay {
    client: reqwest::Client,
    endpoint: String,
    key: Option<String>,
    out: mpsc::Sender<String>,
    negotiated: Arc<Mutex<Negotiated>>,
}

impl Relay {
    async fn forward(self, line: String) {
        let message: Option<Value> = serde_json::from_str(&line).ok();
        let id = message.as_ref().and_then(|m| m.get("id")).cloned();
        let method =
            message.as_ref().and_then(|m| m.get("method")).and_then(Value::as_str).map(str::to_string);
        let meta_version = message
            .as_ref()
            .and_then(|m| m.pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let (version, session) = {
            let n = self.negotiated.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            (meta_version.or_else(|| n.version.clone()), n.session.clone())
        };
        let mut request = self
            .client
            .post(&self.endpoint)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(line);
        if method.as_deref() != Some("initialize") {
            if let Some(version) = &version {
                request = request.header("mcp-protocol-version", version);
                if version.as_str() >= "2026-07-28" {
                    if let Some(method) = &method {
                        request = request.header("mcp-method", method);
                    }
                    let name =
                        message.as_ref().and_then(|m| m.pointer("/params/name")).and_then(Value::as_str);
                    if let Some(name) = name {
                        request = request.header("mcp-name", name);
                    }
                }
            }
        }
        if let Some(session) = &session {
            request = request.header("mcp-session-id", session);
        }
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(err) => {
                self.fail(id, &format!("Refline at {} is unreachable: {}", self.endpoint, err.without_url()))
                    .await;
                return;
            }
        };
        let status = response.status();
        if let Some(session) = response.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()) {
            self.negotiated.lock().unwrap_or_else(std::sync::PoisonError::into_inner).session =
                Some(session.to_string());
        }
        let is_sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        let body = response.text().await.unwrap_or_default();
        let messages: Vec<String> = if is_sse { sse_data(&body) } else { vec![body.clone()] };
        let mut answered = false;
        for text in messages {
            let Ok(value) = serde_json::from_str::<Value>(&text) else { continue };
            if value.get("jsonrpc").is_none() && !value.is_array() {
                continue;
            }
            if method.as_deref() == Some("initialize") {
                if let Some(v) = value.pointer("/result/protocolVersion").and_then(Value::as_str) {
                    self.negotiated.lock().unwrap_or_else(std::sync::PoisonError::into_inner).version =
                        Some(v.to_string());
                }
            }
            answered = true;
            let _ = self.out.send(value.to_string()).await;
        }
        if !answered && !status.is_success() {
            let detail = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v.pointer("/error/message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| body.chars().take(200).collect());
            self.fail(id, &format!("Refline answered {status}: {detail}")).await;
        }
    }

    /// Answers a request the server did not answer with a JSON-RPC error (notifications get none).
    async fn fail(&self, id: Option<Value>, message: &str) {
        eprintln!("refline mcp: {message}");
        if let Some(id) = id {
            let error =
                json!({ "jsonrpc": "2.0", "id": id, "error": { "code": -32603, "message": message } });
            let _ = self.out.send(error.to_string()).await;
        }
    }
}

/// The `data` of each event of an SSE stream (multi-line data joined with newlines).
fn sse_data(body: &str) -> Vec<String> {
    let mut events = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines() {
        if line.is_empty() {
            if !current.is_empty() {
                events.push(current.join("\n"));
                current.clear();
            }
        } else if let Some(data) = line.strip_prefix("data:") {
            current.push(data.strip_prefix(' ').unwrap_or(data));
        }
    }
    if !current.is_empty() {
        events.push(current.join("\n"));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_accepts_base_or_mcp_urls() {
        assert_eq!(endpoint("https://r.example.com"), "https://r.example.com/mcp");
        assert_eq!(endpoint("https://r.example.com/"), "https://r.example.com/mcp");
        assert_eq!(endpoint("https://r.example.com/mcp"), "https://r.example.com/mcp");
    }

    #[test]
    fn sse_events_are_split_and_joined() {
        let body = "event: message\ndata: {\"a\":1}\n\nid: 2\ndata: {\"b\":\ndata: 2}\n\n";
        assert_eq!(sse_data(body), vec!["{\"a\":1}".to_string(), "{\"b\":\n2}".to_string()]);
    }
}
