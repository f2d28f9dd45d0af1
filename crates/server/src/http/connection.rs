//! Accepting connections: limits that keep slow or idle clients from holding the server.
//!
//! axum's own `serve` sets no timeouts, so a client that sends half a request head, or keeps a
//! connection open doing nothing, holds a task and a socket for as long as it likes; enough of
//! them and nothing else is answered. This loop serves each connection with hyper directly:
//! - a **header read timeout**: the head of each request must arrive within it, counted from
//!   when the server starts waiting for it — right after the previous answer on a kept-alive
//!   connection, so it is also the **idle timeout** of kept-alive connections;
//! - a **body read timeout** and the up-front `Content-Length` check live in `http::edge`;
//! - a **cap on open connections**: past it the server stops accepting until one closes (new
//!   clients wait in the kernel's backlog rather than take the process's file descriptors);
//! - hyper's read buffer sits well above Refline's head limits (`edge` answers 414/431 in the
//!   error envelope for anything between the two); hyper's header-count limit is left at its
//!   default (100, the same as Refline's), so a request with more than 100 header fields gets
//!   hyper's own bare 431 before Refline sees it.

use std::{convert::Infallible, future::Future, io, sync::Arc, time::Duration};

use axum::{body::Body, extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1, Request};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt;

use super::fast_lane::{FastLane, Lane};

/// Limits on connections and requests; every one configurable (`refline serve --help`).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Time allowed for a request head to arrive (and for an idle kept-alive connection).
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request body to arrive once the handler starts reading it.
    pub body_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Longest request target (path and query), bytes; longer is 414.
    pub max_uri_bytes: usize,
    /// Most header bytes (names and values) in a request; more is 431.
    pub max_header_bytes: usize,
    /// Most header fields in a request; more is 431. hyper refuses more than 100 first, with a
    /// bare 431 (its default limit, kept because it parses without allocating), so a value
    /// above 100 has no effect.
    pub max_headers: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(15),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
        }
    }
}

/// hyper refuses (with a bare answer, before Refline sees the request) heads larger than its
/// read buffer; this sits far above Refline's own byte limits so that every refusal by size is
/// Refline's, in the error envelope.
///
/// hyper's `max_headers` is deliberately not set: with it, hyper allocates a header array of
/// that size for every request, while its default (100) parses into a fixed array on the
/// stack. That cost showed on the redirect path (issue 18). The price is that a request with
/// more than 100 header fields gets hyper's bare 431 without the error envelope.
const HYPER_MAX_BUF: usize = 1024 * 1024;

/// Serves `router` on `listener` until `shutdown` resolves; then stops accepting, lets requests
/// in flight finish (idle connections are closed at once) and returns. Visitors' links go to
/// `lane` when one is given, bypassing the router (see `http::fast_lane`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    lane: Option<FastLane>,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(HYPER_MAX_BUF);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let lane = lane.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let router = router.clone();
            let lane = lane.clone();
            async move {
                if let (Some(lane), Some(which)) = (lane.as_ref(), Lane::of(&request)) {
                    return Ok(lane.answer(which, request, peer).await);
                }
                request.extensions_mut().insert(ConnectInfo(peer));
                router.oneshot(request.map(Body::new)).await.map_err(|e: Infallible| e)
            }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // Errors here are the client's (timeouts, resets, malformed heads): nothing to do.
            if let Err(err) = connection.await {
                tracing::debug!(%err, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
