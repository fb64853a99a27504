//! `GET /metrics` (Prometheus's text format, no key: scrapers reach it on the node's
//! network) and the middleware that counts and times every answered request by its
//! matched route template, so the label has one value per endpoint, never a raw path.
//! The handles of every route the app serves, for the statuses its handlers answer, are
//! taken when the app is built; anything else is looked up when it happens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Counter, Histogram, counter, histogram};
use payrail_engine::metrics as names;
use tokio::time::Instant;

/// Prometheus's text exposition format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// The statuses the API answers with, whose counters are taken up front.
const STATUSES: [u16; 17] = [
    200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429, 500, 503,
];

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, TEXT_FORMAT)],
        payrail_engine::metrics::render(),
    )
}

/// Every route's handles, by route template.
#[derive(Clone, Debug)]
pub struct HttpMetrics(Arc<HashMap<String, RouteHandles>>);

#[derive(Debug)]
struct RouteHandles {
    duration: Histogram,
    answered: HashMap<u16, Counter>,
}

impl HttpMetrics {
    /// Handles for these route templates (and for requests no route matched).
    pub fn for_routes<'a>(routes: impl IntoIterator<Item = &'a str>) -> HttpMetrics {
        let handles = routes
            .into_iter()
            .chain([UNMATCHED])
            .map(|route| {
                let handles = RouteHandles {
                    duration: histogram!(names::HTTP_REQUEST_DURATION, "route" => route.to_owned()),
                    answered: STATUSES
                        .iter()
                        .map(|status| (*status, answered(route, *status)))
                        .collect(),
                };
                (route.to_owned(), handles)
            })
            .collect();
        HttpMetrics(Arc::new(handles))
    }

    fn record(&self, route: &str, status: u16, took: Duration) {
        match self.0.get(route) {
            Some(handles) => {
                handles.duration.record(took);
                match handles.answered.get(&status) {
                    Some(counter) => counter.increment(1),
                    None => answered(route, status).increment(1),
                }
            }
            None => {
                histogram!(names::HTTP_REQUEST_DURATION, "route" => route.to_owned()).record(took);
                answered(route, status).increment(1);
            }
        }
    }
}

fn answered(route: &str, status: u16) -> Counter {
    counter!(names::HTTP_REQUESTS, "route" => route.to_owned(), "status" => status.to_string())
}

/// Counts and times the request under its route template.
pub async fn record(State(metrics): State<HttpMetrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record(
        route.as_deref().unwrap_or(UNMATCHED),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
