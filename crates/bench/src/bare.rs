//! The yardstick: a bare hyper server that answers every request with a fixed 302, the fastest
//! a redirect can be on this machine with this HTTP stack.

use std::convert::Infallible;

use http_body_util::Empty;
use hyper::{body::Bytes, server::conn::http1, service::service_fn, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, runtime::Handle, task::JoinHandle};

/// A running bare server.
pub struct BareServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    task: JoinHandle<()>,
}

impl BareServer {
    /// Serves on a free port of `runtime`.
    pub async fn start(runtime: &Handle) -> anyhow::Result<BareServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(listener) else { return };
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|_| async {
                        Ok::<_, Infallible>(
                            Response::builder()
                                .status(StatusCode::FOUND)
                                .header("location", "https://shop.example/?tc=BENCH&aff=aff_1&cid=click_1")
                                .body(Empty::<Bytes>::new())
                                .unwrap_or_default(),
                        )
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(BareServer { base, task })
    }

    /// Stops accepting.
    pub fn stop(self) {
        self.task.abort();
    }
}
