//! `photoshelter-emulator`: run a local PhotoShelter API from the command line.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use photoshelter_emulator::{Emulator, FaultRule};

/// A local HTTP server that behaves like the PhotoShelter API (v3, and the v4 writes).
///
/// On start it prints the base URL, API key, e-mail and password to use. These are the
/// credentials of a local, throw-away test account: printing them is this tool's purpose.
/// Never reuse a real PhotoShelter password here.
///
/// Fault flags apply to every API call (paths under /psapi/); use --fault for finer rules,
/// or change them at run time with the admin API:
///   curl -X POST http://127.0.0.1:8080/_emulator/faults \
///        -d '{"kind":"status","status":503,"count":3,"path_prefix":"/psapi/v3/mem/image/upload"}'
/// Other admin calls: GET /_emulator (credentials), GET|DELETE /_emulator/faults,
/// GET|DELETE /_emulator/requests, POST /_emulator/sessions/expire, POST /_emulator/reset.
#[derive(Debug, Parser)]
#[command(name = "photoshelter-emulator", version, verbatim_doc_comment)]
struct Args {
    /// TCP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Folder for originals (and emulator-snapshot.json unless --snapshot is given).
    /// Default: a temporary folder removed at exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// JSON snapshot of the account and library: loaded at start, written on change and at exit.
    #[arg(long)]
    snapshot: Option<PathBuf>,
    /// Make the user a member of an organisation (its library needs organization authenticate).
    #[arg(long)]
    organization: bool,
    /// Fixed API key (11 characters of [A-Za-z0-9._]) instead of a generated one.
    #[arg(long)]
    api_key: Option<String>,
    /// The user's e-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Fixed password instead of a generated one.
    #[arg(long)]
    password: Option<String>,
    /// Every N-th API call gets 429 with Retry-After.
    #[arg(long, value_name = "N")]
    rate_limit_every: Option<u64>,
    /// Seconds announced in Retry-After by --rate-limit-every.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    retry_after: u64,
    /// Every N-th API call fails with --error-status.
    #[arg(long, value_name = "N")]
    error_every: Option<u64>,
    /// Status used by --error-every.
    #[arg(long, value_name = "CODE", default_value_t = 503)]
    error_status: u16,
    /// Added latency per API call, in milliseconds.
    #[arg(long, value_name = "MS")]
    latency_ms: Option<u64>,
    /// Every N-th upload is stored, then its connection is reset without a response.
    #[arg(long, value_name = "N")]
    drop_upload_every: Option<u64>,
    /// Login tokens expire after N authenticated calls.
    #[arg(long, value_name = "N")]
    session_lifetime: Option<u64>,
    /// A fault rule as JSON (repeatable), e.g. '{"kind":"latency","ms":200,"path_prefix":"/psapi/v3/mem/image/download"}'.
    #[arg(long, value_name = "JSON")]
    fault: Vec<String>,
}

fn rules(args: &Args) -> Result<Vec<FaultRule>, Box<dyn Error>> {
    let mut out = Vec::new();
    if let Some(n) = args.rate_limit_every {
        out.push(FaultRule::rate_limit(args.retry_after).every(n));
    }
    if let Some(n) = args.error_every {
        out.push(FaultRule::status(args.error_status).every(n));
    }
    if let Some(ms) = args.latency_ms {
        out.push(FaultRule::latency(ms));
    }
    if let Some(n) = args.drop_upload_every {
        out.push(
            FaultRule::drop_connection()
                .path_prefix("/psapi/v3/mem/image/upload")
                .every(n),
        );
    }
    if let Some(n) = args.session_lifetime {
        out.push(FaultRule::session_lifetime(n));
    }
    for f in &args.fault {
        out.push(serde_json::from_str(f).map_err(|e| format!("--fault {f}: {e}"))?);
    }
    Ok(out)
}

/// Prints a line; a closed stdout (the reader went away) is not an error worth dying for.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

async fn run() -> Result<(), Box<dyn Error>> {
    let args = Args::parse();
    let rules = rules(&args)?;
    let mut b = Emulator::builder()
        .port(args.port)
        .host(args.host)
        .organization(args.organization);
    if let Some(d) = &args.data_dir {
        b = b.data_dir(d);
    }
    if let Some(s) = &args.snapshot {
        b = b.snapshot(s);
    }
    if let Some(k) = &args.api_key {
        b = b.api_key(k);
    }
    if let Some(e) = &args.email {
        b = b.email(e);
    }
    if let Some(p) = &args.password {
        b = b.password(p);
    }
    let emu = b.start().await?;
    for r in rules {
        emu.faults().add(r)?;
    }
    say!("PhotoShelter emulator listening on {}", emu.base_url());
    say!("  base URL : {}", emu.base_url());
    say!("  API key  : {}", emu.api_key());
    say!("  email    : {}", emu.email());
    say!("  password : {}", emu.password());
    say!("  bearer   : {}", emu.oauth_token());
    if let Some(org) = emu.org_id() {
        say!("  org id   : {org}");
    }
    say!("  data dir : {}", emu.data_dir().display());
    for f in emu.faults().list() {
        say!("  fault    : {}", serde_json::to_string(&f.rule)?);
    }
    say!("Press Ctrl-C to stop.");
    wait_for_signal().await;
    say!("Stopping…");
    emu.shutdown().await?;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("photoshelter_emulator=info")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
