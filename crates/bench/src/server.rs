//! The real Refline server, run in-process on its own runtime for a benchmark.

use std::sync::Arc;

use refline::storage::{open_store, EngineOptions};
use refline_server::config::ServerConfig;
use refline_store::Store;
use tokio::{net::TcpListener, runtime::Handle, sync::oneshot, task::JoinHandle};

/// A running server.
pub struct BenchServer {
    /// Its store (shared with the benchmark for set-up and checks).
    pub store: Arc<dyn Store>,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl BenchServer {
    /// Opens the database at `url` and serves it on a free port of `runtime`, with the per-key
    /// rate limit of Scale keys lifted (benchmarks measure the work, not the limiter) and
    /// `configure` applied.
    pub async fn start(
        runtime: &Handle,
        url: &str,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> anyhow::Result<BenchServer> {
        let store: Arc<dyn Store> = {
            let url = url.to_string();
            runtime.spawn(async move { open_store(&url, EngineOptions::default()).await }).await??
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let mut config = ServerConfig { public_url: base.clone(), ..ServerConfig::default() };
        config.limits.set_rate(refline_domain::Plan::Scale, u32::MAX);
        configure(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = runtime.spawn({
            let store = store.clone();
            async move {
                let listener = TcpListener::from_std(listener)?;
                refline_server::serve(listener, store, config, async {
                    let _ = stopped.await;
                })
                .await
            }
        });
        Ok(BenchServer { store, base, stop, task })
    }

    /// Stops gracefully (in-flight work finishes) and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}
