//! The yardsticks: bare hyper servers that answer every request at once, the fastest a redirect
//! or a receiver can be on this machine with this HTTP stack.

use std::convert::Infallible;

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, server::conn::http1, service::service_fn, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::{net::TcpListener, runtime::Handle, task::JoinHandle};

/// What a bare server answers.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// A fixed 302, as a redirect does.
    Found,
    /// Reads the request's body and answers `200` with a small JSON body, as a processor
    /// receiver does, but verifies and stores nothing.
    Received,
}

/// A running bare server.
pub struct BareServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    task: JoinHandle<()>,
}

impl BareServer {
    /// Serves `answer` on a free port of `runtime`.
    pub async fn start(runtime: &Handle, answer: Answer) -> anyhow::Result<BareServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(listener) else { return };
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| async move {
                            Ok::<_, Infallible>(respond(answer, request).await)
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

async fn respond(answer: Answer, request: hyper::Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    match answer {
        Answer::Found => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", "https://shop.example/?tc=BENCH&aff=aff_1&cid=click_1")
            .body(Full::new(Bytes::new()))
            .unwrap_or_default(),
        Answer::Received => {
            let _ = request.into_body().collect().await;
            let body = Bytes::from_static(br#"{"received":true,"duplicate":false}"#);
            Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(body))
                .unwrap_or_default()
        }
    }
}
