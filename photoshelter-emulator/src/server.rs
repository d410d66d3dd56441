//! The accept loop. Each connection is served by hyper directly (not `axum::serve`) so that
//! a fault can close one connection without a response: the connection task races the
//! connection future against a per-connection [`ConnCtx::kill`] token and, when a handler
//! fires it, takes the socket back from hyper and resets it.

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

/// Closes a connection the way a crashed server or a load balancer does: with a reset
/// (RST), not an orderly close (FIN), and without a response.
fn reset(stream: tokio::net::TcpStream) {
    // A zero linger time makes closing send RST at once. (Tokio deprecates `set_linger`
    // because a *non-zero* linger blocks the thread on drop; a zero one never does.)
    #[allow(deprecated)]
    if let Err(e) = stream.set_linger(Some(Duration::ZERO)) {
        tracing::debug!(error = %e, "could not set SO_LINGER; closing without a reset");
    }
    drop(stream);
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
            let mut conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                res = &mut conn => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                _ = kill.cancelled() => reset(conn.into_parts().io.into_inner()),
                _ = stop.cancelled() => {
                    std::pin::Pin::new(&mut conn).graceful_shutdown();
                    let _ = tokio::time::timeout(GRACE, conn).await;
                }
            }
        });
    }
    tracker.close();
    let _ = tokio::time::timeout(GRACE, tracker.wait()).await;
}
