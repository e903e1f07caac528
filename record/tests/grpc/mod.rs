//! gRPC (issue 11): `testdata/grpc_demo` as two services, `web` (HTTP) calling `cart` (gRPC,
//! grpc-go 1.33 from Debian, built in GOPATH mode): unary calls with OK and error statuses,
//! server-, client- and bidi-streaming calls of many messages, each one request and one call,
//! linked to the request it caused, with DWARF and stripped (layouts from the type
//! descriptors); calls past their deadline; and a binary whose gRPC layout cannot be found,
//! warned about with its HTTP still recorded. Traffic goes to loopback only; every loop is bounded.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::support::{
    analyze_cmd, demo_port, go_versions, http_get_at, outcome, outcome::quad, outcome::Checks,
    record_cmd, repo, require_root_or_skip, Guard,
};

const CART: &str = "127.0.0.1:19960";
const WEB: &str = "127.0.0.1:19961";

/// The demo built by `go` (`go1.19`, …) in `variant`, copied as `cart` and `web` into `dir`
/// (service names are the file names).
fn binaries(dir: &Path, go: &str, variant: &str) -> Result<(PathBuf, PathBuf)> {
    let src = repo().join(format!("testdata/bin/{go}/{variant}/grpc_demo"));
    let (cart, web) = (dir.join("cart"), dir.join("web"));
    std::fs::copy(&src, &cart)
        .with_context(|| format!("{} (scripts/build-demos.sh)", src.display()))?;
    std::fs::copy(&src, &web)?;
    Ok((cart, web))
}

/// Starts `bin -mode MODE` with `env`, and waits until `addr` accepts connections.
fn start(bin: &Path, mode: &str, env: &[(&str, &str)], addr: &str) -> Result<Guard> {
    let child = Command::new(bin)
        .args(["-mode", mode])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let guard = Guard(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(guard);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{} -mode {mode} did not listen on {addr}", bin.display())
}

/// `cart` and `web` running the demo built by `go` in `variant`, and the `record` arguments
/// that record both into `out`. Dropping it stops them and removes the directory.
struct Pair {
    dir: tempfile::TempDir,
    _cart: Guard,
    web: Guard,
    args: Vec<String>,
    out: PathBuf,
}

impl Pair {
    fn start(go: &str, variant: &str) -> Result<Pair> {
        Pair::start_with(go, variant, |_| Ok(()))
    }

    /// As [`Pair::start`], with `change` made to each copy of the binary first.
    fn start_with(go: &str, variant: &str, change: fn(&Path) -> Result<()>) -> Result<Pair> {
        let dir = tempfile::tempdir()?;
        let (cart_bin, web_bin) = binaries(dir.path(), go, variant)?;
        change(&cart_bin)?;
        change(&web_bin)?;
        let cart = start(&cart_bin, "cart", &[("GRPC_ADDR", CART)], CART)?;
        let web = start(
            &web_bin,
            "web",
            &[("WEB_ADDR", WEB), ("CART_TARGET", CART)],
            WEB,
        )?;
        let out = dir.path().join("rec.parquet");
        let args = vec![
            "-p".into(),
            cart.0.id().to_string(),
            "-p".into(),
            web.0.id().to_string(),
            "-o".into(),
            out.display().to_string(),
        ];
        Ok(Pair {
            dir,
            _cart: cart,
            web,
            args,
            out,
        })
    }
}

/// The traffic: web's handlers each make one gRPC call of their kind: 7 unary (2 failing), 2
/// server-streaming of 100 messages, 1 client-streaming of 50, 1 bidi of 20.
fn drive() -> Result<()> {
    let expect = |path: &str, want: u16| -> Result<()> {
        let got = http_get_at(WEB, path)?;
        if got != want {
            bail!("GET {path} answered {got}, expected {want}");
        }
        Ok(())
    };
    for _ in 0..5 {
        expect("/checkout?item=book", 200)?;
    }
    expect("/checkout?item=missing", 502)?; // NotFound
    expect("/checkout?item=boom", 502)?; // Internal
    for _ in 0..2 {
        expect("/watch?n=100", 200)?;
    }
    expect("/upload?n=50", 200)?;
    expect("/chat?n=20", 200)?;
    Ok(())
}

/// `analyze quads --format json`, every field.
fn full_quads(file: &Path) -> Result<Value> {
    let o = analyze_cmd()
        .args(["quads", "--format", "json"])
        .arg(file)
        .output()?;
    serde_json::from_slice(&o.stdout).context("analyze's JSON")
}

/// The errors of the quadruple of `caller` and `func` ("none": made for no request).
fn errors_of(quads: &Value, caller: &str, func: &str) -> Option<u64> {
    quads.as_array()?.iter().find_map(|q| {
        let f = q["caller_func"].as_str().unwrap_or("none");
        (q["caller"] == caller && f == func).then(|| q["errors"].as_u64())?
    })
}

#[test]
fn root_grpc_unary_and_streaming_calls_are_quadruples() {
    const TEST: &str = "root_grpc_unary_and_streaming_calls_are_quadruples";
    if !require_root_or_skip(TEST) {
        return;
    }
    let _port = demo_port();
    let versions = go_versions();
    // The oldest and the newest toolchain of the matrix.
    let picked: Vec<&String> = versions
        .first()
        .into_iter()
        .chain(versions.last())
        .collect();
    assert!(
        !picked.is_empty(),
        "no Go version built (scripts/build-demos.sh)"
    );
    let variants = ["dwarf", "stripped"];
    for (go, variant) in picked.iter().flat_map(|go| variants.map(|v| (go, v))) {
        let pair = Pair::start(go, variant).expect("cart and web (grpc_demo) start");
        let outcome = outcome::record_while(&pair.args, &pair.out, drive).expect("recorded");
        let svc = |s: &'static str| Some(s);
        let mut checks = Checks::new();
        checks.quads(
            &outcome.quads,
            &[
                quad(
                    svc("web"),
                    svc("/checkout"),
                    svc("cart"),
                    svc("/cart.v1.Cart/AddItem"),
                    7,
                ),
                quad(svc("cart"), svc("/cart.v1.Cart/AddItem"), None, None, 7),
                quad(
                    svc("web"),
                    svc("/watch"),
                    svc("cart"),
                    svc("/cart.v1.Cart/Watch"),
                    2,
                ),
                quad(svc("cart"), svc("/cart.v1.Cart/Watch"), None, None, 2),
                quad(
                    svc("web"),
                    svc("/upload"),
                    svc("cart"),
                    svc("/cart.v1.Cart/Upload"),
                    1,
                ),
                quad(svc("cart"), svc("/cart.v1.Cart/Upload"), None, None, 1),
                quad(
                    svc("web"),
                    svc("/chat"),
                    svc("cart"),
                    svc("/cart.v1.Cart/Chat"),
                    1,
                ),
                quad(svc("cart"), svc("/cart.v1.Cart/Chat"), None, None, 1),
            ],
        );
        let full = full_quads(&pair.out).expect("analyze");
        for (caller, func) in [("web", "/checkout"), ("cart", "/cart.v1.Cart/AddItem")] {
            let errors = errors_of(&full, caller, func);
            checks.that(errors == Some(2), || {
                format!("{caller} {func}: {errors:?} errors, expected 2 (NotFound and Internal)")
            });
        }
        let codes: Vec<i64> = outcome
            .calls()
            .iter()
            .filter(|c| c["callee_path"] == "/cart.v1.Cart/AddItem")
            .filter_map(|c| c["status"].as_i64())
            .collect();
        checks.that(codes.contains(&5) && codes.contains(&13), || {
            format!("the calls' gRPC codes {codes:?} lack NotFound (5) and Internal (13)")
        });
        // Both ends recorded: each call is linked to the request it caused, over its
        // connection (the client's address is the HTTP/2 transport's remoteAddr).
        let unlinked: Vec<&Value> = outcome
            .calls()
            .iter()
            .filter(|c| c["link"] != "connection" || c["linked_path"] != c["callee_path"])
            .collect();
        checks.that(unlinked.is_empty(), || {
            format!(
                "{} calls not linked to their request: {unlinked:?}",
                unlinked.len()
            )
        });
        checks.finish(&format!("{TEST} ({go} {variant})"), &outcome, "");
    }
}

/// A stripped binary whose `transport.Stream` descriptor is renamed, as a grpc-go that renamed
/// the struct would be: no layout for it anywhere.
fn hide_stream_layout(bin: &Path) -> Result<()> {
    let mut data = std::fs::read(bin)?;
    // A type name: its length (17, one varint byte), then the string.
    let name = b"\x11*transport.Stream";
    let at = data
        .windows(name.len())
        .position(|w| w == name)
        .context("no *transport.Stream type name")?;
    data[at + name.len() - 1] = b'n';
    std::fs::write(bin, data)?;
    Ok(())
}

#[test]
fn root_grpc_layout_unknown_is_warned_about_and_its_http_recorded() {
    const TEST: &str = "root_grpc_layout_unknown_is_warned_about_and_its_http_recorded";
    if !require_root_or_skip(TEST) {
        return;
    }
    let _port = demo_port();
    let go = go_versions().pop().expect("a Go version built");
    let pair = Pair::start_with(&go, "stripped", hide_stream_layout)
        .expect("cart and web (grpc_demo) start");
    let outcome = outcome::record_while(&pair.args, &pair.out, || {
        for _ in 0..3 {
            http_get_at(WEB, "/checkout?item=book")?;
        }
        Ok(())
    })
    .expect("recorded");
    // The warning is said while attaching, before what record_while keeps of stderr.
    let brief = record_cmd()
        .args([
            "-p",
            &pair.web.0.id().to_string(),
            "--duration",
            "0.5",
            "-o",
        ])
        .arg(pair.dir.path().join("brief.parquet"))
        .output()
        .expect("record runs");
    let said = String::from_utf8_lossy(&brief.stderr).into_owned();
    let mut checks = Checks::new();
    checks.that(
        said.contains(
            "uses grpc-go, but neither its DWARF nor its type descriptors give \
             transport.Stream.method, transport.Stream.ctx;",
        ),
        || format!("record did not warn that the gRPC layout is unknown; it said:\n{said}"),
    );
    checks.quads(
        &outcome.quads,
        &[quad(Some("web"), Some("/checkout"), None, None, 3)],
    );
    checks.finish(&format!("{TEST} ({go})"), &outcome, "");
}

/// gRPC served through net/http (`grpcServer.ServeHTTP` over TLS, HTTP/2): `gateway`'s AddItem
/// calls web's /checkout over HTTP, which calls cart over gRPC. The HTTP/2 request that carries
/// each RPC is not a request of its own: three quadruples, errors passed along the chain.
#[test]
fn root_grpc_through_serve_http_calling_http_is_one_chain() {
    const TEST: &str = "root_grpc_through_serve_http_calling_http_is_one_chain";
    if !require_root_or_skip(TEST) {
        return;
    }
    const GATEWAY: &str = "127.0.0.1:19962";
    let _port = demo_port();
    let go = go_versions().pop().expect("a Go version built");
    let pair = Pair::start(&go, "dwarf").expect("cart and web (grpc_demo) start");
    let gateway_bin = pair.dir.path().join("gateway");
    std::fs::copy(pair.dir.path().join("cart"), &gateway_bin).expect("copy");
    let downstream = format!("http://{WEB}/checkout");
    let gateway = start(
        &gateway_bin,
        "gateway",
        &[("GATEWAY_ADDR", GATEWAY), ("HTTP_DOWNSTREAM", &downstream)],
        GATEWAY,
    )
    .expect("gateway");
    let mut args = pair.args.clone();
    let out = pair.dir.path().join("chain.parquet");
    args.splice(args.len() - 2.., ["-p".into(), gateway.0.id().to_string()]);
    args.extend(["-o".into(), out.display().to_string()]);
    let outcome = outcome::record_while(&args, &out, || {
        let o = Command::new(&gateway_bin)
            .args(["-mode", "client", "-target", GATEWAY, "-tls", "-n", "6"])
            .args(["-items", "book,missing", "-duration", "20s"])
            .output()?;
        let said =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        if !said.contains("calls=6") {
            bail!("the client said {said}");
        }
        Ok(())
    })
    .expect("recorded");
    let svc = |s: &'static str| Some(s);
    let mut checks = Checks::new();
    checks.quads(
        &outcome.quads,
        &[
            quad(
                svc("gateway"),
                svc("/cart.v1.Cart/AddItem"),
                svc("web"),
                svc("/checkout"),
                6,
            ),
            quad(
                svc("web"),
                svc("/checkout"),
                svc("cart"),
                svc("/cart.v1.Cart/AddItem"),
                6,
            ),
            quad(svc("cart"), svc("/cart.v1.Cart/AddItem"), None, None, 6),
        ],
    );
    let full = full_quads(&out).expect("analyze");
    let errors = errors_of(&full, "gateway", "/cart.v1.Cart/AddItem");
    checks.that(errors == Some(3), || {
        format!("gateway's AddItem: {errors:?} errors, expected 3 (the missing items)")
    });
    checks.finish(&format!("{TEST} ({go})"), &outcome, "");
}

/// Calls whose deadline passes before the server answers (AddItem("slow") replies only after
/// it): DeadlineExceeded (4) on the client's side, errors on both; a client program that
/// serves nothing is recorded by its executable (`--exe`), stripped, and started after record.
#[test]
fn root_grpc_deadline_exceeded_is_an_error_on_both_sides() {
    const TEST: &str = "root_grpc_deadline_exceeded_is_an_error_on_both_sides";
    if !require_root_or_skip(TEST) {
        return;
    }
    let _port = demo_port();
    let go = go_versions().pop().expect("a Go version built");
    let pair = Pair::start(&go, "stripped").expect("cart and web (grpc_demo) start");
    let client = pair.dir.path().join("client");
    std::fs::copy(pair.dir.path().join("cart"), &client).expect("copy");
    let mut args = pair.args.clone();
    args.extend(["--exe".into(), client.display().to_string()]);
    let outcome = outcome::record_while(&args, &pair.out, || {
        let o = Command::new(&client)
            .args(["-mode", "client", "-target", CART, "-n", "6", "-c", "1"])
            .args([
                "-items",
                "slow,book",
                "-timeout",
                "300ms",
                "-duration",
                "20s",
            ])
            .output()?;
        let said = String::from_utf8_lossy(&o.stdout).into_owned();
        if !said.contains("calls=6 ok=3 errors=3 DeadlineExceeded=3") {
            bail!("the client said {said}");
        }
        // The server's handlers of the slow calls end after the client gave up.
        std::thread::sleep(Duration::from_millis(500));
        Ok(())
    })
    .expect("recorded");
    let mut checks = Checks::new();
    let add = Some("/cart.v1.Cart/AddItem");
    checks.quads(
        &outcome.quads,
        &[
            quad(Some("client"), None, Some("cart"), add, 6),
            quad(Some("cart"), add, None, None, 6),
        ],
    );
    let full = full_quads(&pair.out).expect("analyze");
    for (caller, func) in [("client", "none"), ("cart", "/cart.v1.Cart/AddItem")] {
        let errors = errors_of(&full, caller, func);
        checks.that(errors == Some(3), || {
            format!("{caller} {func}: {errors:?} errors, expected 3 (DeadlineExceeded)")
        });
    }
    let codes: Vec<i64> = outcome
        .calls()
        .iter()
        .filter_map(|c| c["status"].as_i64())
        .collect();
    checks.that(codes.iter().filter(|&&c| c == 4).count() == 3, || {
        format!("the calls' gRPC codes {codes:?}: expected three DeadlineExceeded (4)")
    });
    checks.finish(&format!("{TEST} ({go})"), &outcome, "");
}
