//! A webhook receiver for tests: records every request and answers as told (a status, a hang,
//! or not at all once stopped); and a resolver that maps names to chosen addresses.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
use refline_server::outbound::target::HostResolver;
use tokio::net::TcpListener;

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    /// Request headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: String,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// Answer with this status.
    Status(u16),
    /// Never answer in time.
    Hang,
}

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

/// A running receiver.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`
    pub url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver answering 200.
    pub async fn start() -> Receiver {
        let shared =
            Shared { received: Arc::default(), behaviour: Arc::new(Mutex::new(Behaviour::Status(200))) };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let app = Router::new().route("/hook", post(receive)).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, shared, task }
    }

    /// Changes how it answers from now on.
    pub fn behave(&self, behaviour: Behaviour) {
        *self.shared.behaviour.lock().unwrap() = behaviour;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `n` requests arrived, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..1000 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {n} requests, got {}", self.received().len());
    }

    /// Stops listening: later connections are refused.
    pub fn stop(&self) {
        self.task.abort();
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let behaviour = *shared.behaviour.lock().unwrap();
    shared
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    match behaviour {
        Behaviour::Status(code) => StatusCode::from_u16(code).unwrap(),
        Behaviour::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK
        }
    }
}

/// Resolves names from a table the test controls (to simulate DNS answers, incl. rebinding).
#[derive(Debug, Default)]
pub struct MapResolver(Mutex<HashMap<String, Vec<SocketAddr>>>);

impl MapResolver {
    /// Makes `name` resolve to `ip`.
    pub fn set(&self, name: &str, ip: &str) {
        let addr: std::net::IpAddr = ip.parse().unwrap();
        self.0.lock().unwrap().insert(name.to_string(), vec![SocketAddr::new(addr, 443)]);
    }
}

impl HostResolver for MapResolver {
    fn resolve(
        &self,
        host: String,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send>> {
        let found = self.0.lock().unwrap().get(&host).cloned();
        Box::pin(async move {
            found
                .map(|addrs| addrs.into_iter().map(|a| SocketAddr::new(a.ip(), port)).collect())
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "unknown host"))
        })
    }
}
