//! The fast lane: visitors' links (`GET`/`HEAD /redirect` and `/l/<code>`) answered straight from
//! the connection loop, without going through the router and its middleware stack.
//!
//! Why: these are the requests that arrive by the tens of thousands a second, and a profile of
//! them (issue 18) showed as much time in the router's matching and the two `from_fn` layers
//! (each boxes the rest of the stack and clones it per request) as in the handler itself. The
//! lane applies exactly what those layers apply to these routes, in the same order, so a
//! visitor cannot tell which way a request went:
//! - the request id (`http::request_id`): kept or made, in scope for logs and error envelopes,
//!   echoed in `X-Request-Id`, and the request counted in `/metrics` under its route template;
//! - the edge (`http::edge`): head limits and the declared body size; no path or query check,
//!   as for every visitor link; a request that declares a body says `Connection: close` (the
//!   handlers never read it);
//! - a panic becomes a 500 in the error envelope, as `CatchPanicLayer` does.
//!
//! Every other request (other paths, other methods, so their 405s) goes through the router.
//! `tests/it/tracking*.rs` and `tests/it/edge*.rs` check the lane's answers, which the router
//! used to give, so the two cannot drift apart unnoticed.

use std::{
    future::Future,
    net::SocketAddr,
    panic::AssertUnwindSafe,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    http::{Method, Request},
    response::{IntoResponse, Response},
};

use super::{edge, request_id};
use crate::{error::ApiError, state::AppState, tracking::redirect};

/// Which visitor link a request is for, if the lane takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// `/redirect?tc=…&aff=…`
    HostedLink,
    /// `/l/<code>`
    ShortLink,
}

impl Lane {
    /// The route template the router would have matched (the `/metrics` label).
    fn route(self) -> &'static str {
        match self {
            Lane::HostedLink => "/redirect",
            Lane::ShortLink => "/l/{code}",
        }
    }

    /// The lane for a request, exactly where the router's `/redirect` and `/l/{code}` routes
    /// would match it with `GET` (which also answers `HEAD`).
    pub fn of<B>(request: &Request<B>) -> Option<Lane> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return None;
        }
        let path = request.uri().path();
        if path == "/redirect" {
            return Some(Lane::HostedLink);
        }
        let code = path.strip_prefix("/l/")?;
        (!code.is_empty() && !code.contains('/')).then_some(Lane::ShortLink)
    }
}

/// What the lane answers with: the server's state and its edge limits.
#[derive(Clone)]
pub struct FastLane {
    state: AppState,
    limits: Arc<edge::EdgeLimits>,
}

impl FastLane {
    /// The lane over the state the router was built from.
    pub fn new(state: AppState) -> FastLane {
        let limits = Arc::new(edge::EdgeLimits::of(&state.config));
        FastLane { state, limits }
    }

    /// Answers a request the lane took (see [`Lane::of`]).
    /// `peer` is the connection's remote address (what `ConnectInfo` carries on the router's
    /// way; the lane passes it along instead of allocating the request's extension map).
    pub async fn answer<B>(&self, lane: Lane, request: Request<B>, peer: SocketAddr) -> Response {
        let started = Instant::now();
        let id = request_id::incoming(request.headers()).unwrap_or_else(request_id::new_id);
        let method = request.method().clone();
        let answered = request_id::scope(id, async {
            let has_body = edge::declares_body(request.headers());
            if let Some(refusal) = edge::check_head(&self.limits, &request, true) {
                return edge::close_if(has_body, refusal.into_response());
            }
            let state = &self.state;
            let handled = match lane {
                Lane::HostedLink => {
                    caught(|| redirect::answer_hosted_link(state, &request, Some(peer))).await
                }
                Lane::ShortLink => caught(|| redirect::answer_short_link(state, &request, Some(peer))).await,
            };
            edge::close_if(has_body, handled)
        });
        let (id, mut response) = answered.await;
        request_id::echo_and_count(&mut response, id, &method, Some(lane.route()), started);
        response
    }
}

/// Makes and runs a handler's future; a panic in either becomes the 500 `CatchPanicLayer`
/// would have answered. (A few lines rather than a dependency on `futures-util` for its
/// `catch_unwind`.)
async fn caught<F: Future<Output = Response>>(make: impl FnOnce() -> F) -> Response {
    match std::panic::catch_unwind(AssertUnwindSafe(make)) {
        Ok(future) => CatchPanic(Box::pin(future)).await,
        Err(_) => ApiError::handler_panicked(),
    }
}

/// A future whose panic becomes [`ApiError::handler_panicked`].
struct CatchPanic<F>(std::pin::Pin<Box<F>>);

impl<F: Future<Output = Response>> Future for CatchPanic<F> {
    type Output = Response;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(polled) => polled,
            Err(_) => Poll::Ready(ApiError::handler_panicked()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(method: Method, target: &str) -> Option<Lane> {
        Lane::of(&Request::builder().method(method).uri(target).body(()).expect("request"))
    }

    #[test]
    fn takes_exactly_what_the_routes_match() {
        assert_eq!(lane(Method::GET, "/redirect?tc=a&aff=b"), Some(Lane::HostedLink));
        assert_eq!(lane(Method::HEAD, "/redirect"), Some(Lane::HostedLink));
        assert_eq!(lane(Method::GET, "/l/abc"), Some(Lane::ShortLink));
        assert_eq!(lane(Method::GET, "/l/a%2Fb?x=1"), Some(Lane::ShortLink));
        for (method, target) in [
            (Method::POST, "/redirect"),
            (Method::DELETE, "/l/abc"),
            (Method::GET, "/redirect/"),
            (Method::GET, "/redirects"),
            (Method::GET, "/l/"),
            (Method::GET, "/l/a/b"),
            (Method::GET, "/l"),
            (Method::GET, "/api/v1/links"),
        ] {
            assert_eq!(lane(method.clone(), target), None, "{method} {target}");
        }
    }
}
