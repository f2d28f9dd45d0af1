//! The yardstick for receivers: a bare hyper server that reads each request's body and answers
//! `200` with a small JSON body, as a receiver does, but verifies and stores nothing. The
//! fastest a delivery can be accepted on this machine with this HTTP stack and client.

use std::convert::Infallible;

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, server::conn::http1, service::service_fn, Response};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, runtime::Handle, task::JoinHandle};

/// A running bare server.
pub struct BarePostServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    task: JoinHandle<()>,
}

impl BarePostServer {
    /// Serves on a free port of `runtime`.
    pub async fn start(runtime: &Handle) -> anyhow::Result<BarePostServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(listener) else { return };
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                        let _ = request.into_body().collect().await;
                        let body = Bytes::from_static(br#"{"received":true,"duplicate":false}"#);
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .unwrap_or_default(),
                        )
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(BarePostServer { base, task })
    }

    /// Stops accepting.
    pub fn stop(self) {
        self.task.abort();
    }
}
