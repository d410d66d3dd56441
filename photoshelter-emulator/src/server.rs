//! The accept loop. Each connection is served by hyper directly (not `axum::serve`) so that
//! a fault can close one connection without a response: the connection task races the
//! connection future against a per-connection [`ConnCtx::kill`] token and drops the
//! connection (closing the socket) when a handler fires it.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Per-connection context, put into every request's extensions.
#[derive(Debug, Clone)]
pub(crate) struct ConnCtx {
    /// Fired by the fault layer to close this connection without a response.
    pub kill: CancellationToken,
}

/// How long open connections get to finish their current request at shutdown.
const GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `stop` fires, then lets in-flight requests finish
/// (bounded by [`GRACE`]).
pub(crate) async fn serve(listener: TcpListener, app: Router, stop: CancellationToken) {
    // Tracks connection tasks so that shutdown can wait for them.
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly, keep serving.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let kill = CancellationToken::new();
        let ctx = ConnCtx { kill: kill.clone() };
        let app = app.clone();
        let stop = stop.clone();
        tracker.spawn(async move {
            let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(ctx.clone());
                let inner = TowerToHyperService::new(app.clone());
                async move { hyper::service::Service::call(&inner, req).await }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                _ = kill.cancelled() => {
                    // Dropping the connection closes the socket: the client gets no response.
                }
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(GRACE, conn.as_mut()).await;
                }
            }
        });
    }
    tracker.close();
    let _ = tokio::time::timeout(GRACE, tracker.wait()).await;
}
