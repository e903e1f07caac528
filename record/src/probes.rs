//! Loads the BPF object for one Go binary and attaches its uprobes.
//!
//! One object is loaded per distinct binary because struct offsets (set as read-only globals
//! before load) depend on the binary's Go version.

use std::collections::BTreeMap;
use std::mem::MaybeUninit;

use anyhow::{bail, Context, Result};
use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, OpenObject, ProgramAttachType, ProgramMut, UprobeMultiOpts};

use crate::bss;
use crate::gobin::{
    GoBinary, Offsets, GIN_GET_VALUE, GRPC_HANDLE_STREAM, GRPC_HTTP2_SERVER_CLOSE, GRPC_INVOKE,
    GRPC_NEW_STREAM, GRPC_STREAM_FINISH, GRPC_WRITE_STATUS, HTTP_ENTRY_POINTS, XNET_HANDLER_DONE,
    XNET_ROUND_TRIP_OPT, XNET_RUN_HANDLER, XNET_SERVE_CONN,
};
use crate::raw_event::KIND_SLOTS;
use crate::skel::{QuadtraceSkel, QuadtraceSkelBuilder};
use crate::targets::Target;

/// Picks one program out of the loaded skeleton.
type ProgPick = for<'a> fn(&'a QuadtraceSkel<'static>) -> &'a ProgramMut<'static>;

/// A Go function and the programs run at its entry and at each of its `RET`s.
struct Hook {
    func: &'static str,
    /// `None`: only the returns are of interest.
    entry: Option<ProgPick>,
    ret: Option<ProgPick>,
}

const SERVE_HTTP: &str = HTTP_ENTRY_POINTS[0];
const ROUND_TRIP: &str = HTTP_ENTRY_POINTS[1];
const FINISH_REQUEST: &str = "net/http.(*response).finishRequest";
/// Every Go program has it; a binary without it is not one.
const NEWPROC1: &str = "runtime.newproc1";

/// A runtime function probed where the program calls it, in code that can carry a request
/// (see `gobin::callsites`): one program at the CALL (arguments in registers), one at the
/// instruction after it (results).
struct SiteHook {
    callee: &'static str,
    at_call: Option<ProgPick>,
    after: Option<ProgPick>,
}

/// `go` statements (two hits each: the CALL, and after it, where the new goroutine is known) and
/// timer callbacks armed with `time.AfterFunc` (one hit at the CALL; net/http's own timers are
/// not the program's).
fn spawn_sites() -> Vec<SiteHook> {
    vec![
        SiteHook {
            callee: "runtime.newproc",
            at_call: Some(|s| &s.progs.spawn_call),
            after: Some(|s| &s.progs.spawn_done),
        },
        SiteHook {
            callee: "time.AfterFunc",
            at_call: Some(|s| &s.progs.timer_arm),
            after: None,
        },
    ]
}

/// grpc-go's server and unary client, where the binary's DWARF gives their structs.
fn grpc_hooks(bin: &GoBinary) -> Vec<Hook> {
    if bin.grpc.is_err() {
        return Vec::new();
    }
    let mut hooks = vec![
        hook(GRPC_HANDLE_STREAM, |s| &s.progs.grpc_server_start, None),
        hook(GRPC_INVOKE, |s| &s.progs.grpc_client_start, None),
        hook(GRPC_NEW_STREAM, |s| &s.progs.grpc_stream_start, None),
        hook(GRPC_STREAM_FINISH, |s| &s.progs.grpc_call_end, None),
    ];
    hooks.extend(
        GRPC_WRITE_STATUS
            .iter()
            .map(|f| hook(f, |s| &s.progs.grpc_server_end, None)),
    );
    hooks
}

/// Channel operations (`--no-channels` leaves them out): a send is one hit, a receive or a
/// select two (the call and its result).
fn channel_sites() -> Vec<SiteHook> {
    vec![
        SiteHook {
            callee: "runtime.chansend1",
            at_call: Some(|s| &s.progs.chan_send),
            after: None,
        },
        SiteHook {
            callee: "runtime.chanrecv1",
            at_call: Some(|s| &s.progs.chan_recv_enter),
            after: Some(|s| &s.progs.chan_recv1_return),
        },
        SiteHook {
            callee: "runtime.chanrecv2",
            at_call: Some(|s| &s.progs.chan_recv_enter),
            after: Some(|s| &s.progs.chan_recv2_return),
        },
        SiteHook {
            callee: "runtime.selectgo",
            at_call: Some(|s| &s.progs.select_enter),
            after: Some(|s| &s.progs.select_return),
        },
    ]
}

const fn hook(func: &'static str, entry: ProgPick, ret: Option<ProgPick>) -> Hook {
    Hook {
        func,
        entry: Some(entry),
        ret,
    }
}

/// Hooks always attached: HTTP.
fn core_hooks() -> Vec<Hook> {
    vec![
        hook(SERVE_HTTP, |s| &s.progs.server_start, None),
        hook(FINISH_REQUEST, |s| &s.progs.server_end, None),
        hook(
            ROUND_TRIP,
            |s| &s.progs.client_start,
            Some(|s| &s.progs.client_end),
        ),
    ]
}

/// Hooks on functions that only some binaries have: HTTP/2 server request ends (the bundled
/// copy of Go ≤ 1.26 or the internal package of Go ≥ 1.27, whichever is linked), and the
/// HTTP/2 server and client of golang.org/x/net (h2c).
fn optional_hooks() -> Vec<Hook> {
    vec![
        hook(XNET_RUN_HANDLER, |s| &s.progs.server_start_xnet, None),
        hook(XNET_HANDLER_DONE, |s| &s.progs.server_end_xnet, None),
        hook(XNET_SERVE_CONN, |s| &s.progs.h2c_takeover, None),
        hook(
            XNET_ROUND_TRIP_OPT,
            |s| &s.progs.client_start,
            Some(|s| &s.progs.client_end),
        ),
        hook(
            "net/http.(*http2responseWriter).handlerDone",
            |s| &s.progs.server_end_h2,
            None,
        ),
        hook(
            "net/http/internal/http2.(*responseWriter).handlerDone",
            |s| &s.progs.server_end_h2,
            None,
        ),
    ]
}

/// gin's router lookup, whose results hold the route; only where its registers are known.
fn gin_hooks(bin: &GoBinary) -> Vec<Hook> {
    if bin.gin_route_register.is_none() {
        return Vec::new();
    }
    vec![Hook {
        func: GIN_GET_VALUE,
        entry: None,
        ret: Some(|s| &s.progs.gin_route_found),
    }]
}

/// The loaded BPF object of one binary and its attached links.
pub struct ProbeSet {
    pub skel: QuadtraceSkel<'static>,
    links: Vec<Link>,
    /// What was attached, e.g. `net/http.(*Transport).roundTrip+ret(7)`.
    pub probes: Vec<String>,
    /// Hooks that could not be placed, as messages (warned about, not fatal). Channel
    /// functions are not reported missing: the linker drops the ones a program never uses.
    pub warnings: Vec<String>,
}

impl ProbeSet {
    /// Hands over the attached links; dropping them detaches the uprobes while the maps stay
    /// readable, so the ring buffer can still be drained.
    pub fn take_links(&mut self) -> Vec<Link> {
        std::mem::take(&mut self.links)
    }

    /// Turns event submission on or off for every program of this set (see `recording` in
    /// the BPF code): on once all targets are attached, off before any is detached.
    pub fn set_recording(&mut self, on: bool) {
        if let Some(bss) = self.skel.maps.bss_data.as_deref_mut() {
            bss::set_flag(&mut bss.recording, on);
        }
    }

    /// Ring-buffer reserve failures counted in BPF, indexed by raw event kind.
    pub fn lost(&self) -> [u64; KIND_SLOTS] {
        self.skel
            .maps
            .bss_data
            .as_deref()
            .map_or([0; KIND_SLOTS], |bss| bss::read_counters(&bss.lost))
    }
}

/// Whether the running kernel is 6.6 or later, where uprobe_multi links exist.
fn kernel_has_uprobe_multi() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (6, 6)
}

fn set_offsets(rodata: &mut crate::skel::types::rodata, o: &Offsets) {
    rodata.off_g_goid = o.g_goid;
    rodata.off_request_method = o.request_method;
    rodata.off_request_url = o.request_url;
    rodata.off_request_host = o.request_host;
    rodata.off_request_ctx = o.request_ctx;
    rodata.off_url_host = o.url_host;
    rodata.off_url_path = o.url_path;
    rodata.off_server_addr = o.server_addr;
    rodata.off_response_status = o.response_status;
    rodata.off_http_response_status_code = o.http_response_status_code;
    rodata.off_hchan_qcount = o.hchan_qcount;
    rodata.off_hchan_dataqsiz = o.hchan_dataqsiz;
    rodata.off_hchan_sendx = o.hchan_sendx;
    rodata.off_hchan_recvx = o.hchan_recvx;
    rodata.off_hchan_elemsize = o.hchan_elemsize;
    rodata.off_h2_rw_rws = o.h2_rw_rws;
    rodata.off_h2_rws_status = o.h2_rws_status;
    rodata.off_request_pattern = o.request_pattern;
    rodata.off_request_pat = o.request_pat;
    rodata.off_request_remote_addr = o.request_remote_addr;
    rodata.off_g_m = o.g_m;
    rodata.off_m_p = o.m_p;
    rodata.off_hchan_recvq = o.hchan_recvq;
    rodata.off_waitq_first = o.waitq_first;
    rodata.off_sudog_g = o.sudog_g;
    rodata.off_p_goidcache = o.p_goidcache;
}

/// Loads the BPF object configured for `bin` and attaches every hook to `target`'s processes.
pub fn load_and_attach(target: &Target, bin: &GoBinary, channels: bool) -> Result<ProbeSet> {
    let exe = target.exe.display();
    if bin.function(NEWPROC1).is_none() {
        bail!("{exe}: no {NEWPROC1}; is this a Go binary?");
    }
    // The skeleton borrows its object storage for as long as it lives; record keeps every probe
    // set until it exits, so leaking one small allocation per binary is the simple, sound choice.
    let storage: &'static mut MaybeUninit<OpenObject> = Box::leak(Box::new(MaybeUninit::uninit()));
    let mut open = QuadtraceSkelBuilder::default()
        .open(storage)
        .context("opening the BPF object")?;
    let rodata = open
        .maps
        .rodata_data
        .as_deref_mut()
        .context("BPF object has no .rodata")?;
    set_offsets(rodata, &bin.offsets);
    rodata.gin_route_register = bin.gin_route_register.unwrap_or(0);
    rodata.off_xnet_sc_hs = bin.xnet.sc_hs;
    rodata.off_xnet_rw_rws = bin.xnet.rw_rws;
    rodata.off_xnet_rws_status = bin.xnet.rws_status;
    if let Ok(g) = bin.grpc {
        rodata.off_grpc_stream_method = g.stream_method;
        rodata.off_grpc_stream_ctx = g.stream_ctx;
        rodata.off_grpc_cc_target = g.cc_target;
        rodata.off_grpc_status_code = g.status_code;
        if let (Some(p), Some(close)) = (g.peer, bin.function(GRPC_HTTP2_SERVER_CLOSE)) {
            rodata.grpc_http2_server_close = close.addr;
            rodata.off_grpc_remote_addr = p.remote_addr;
            rodata.off_tcpaddr_ip = p.ip;
            rodata.off_tcpaddr_port = p.port;
        }
    }
    // uprobe_multi (Linux ≥ 6.6) attaches all of a program's places in one link, and detaches
    // them with one RCU grace period instead of one per place: stopping takes milliseconds
    // instead of seconds.
    let multi = kernel_has_uprobe_multi();
    if multi {
        for mut prog in open.open_object_mut().progs_mut() {
            prog.set_attach_type(ProgramAttachType::TraceUprobeMulti);
        }
    }
    let skel = open
        .load()
        .context("loading the BPF programs into the kernel")?;

    let pids: Vec<i32> = match &target.pids {
        Some(p) => p.iter().map(|&p| p as i32).collect(),
        None => vec![-1],
    };
    let mut set = ProbeSet {
        skel,
        links: Vec::new(),
        probes: Vec::new(),
        warnings: Vec::new(),
    };
    // A program that only calls (a CLI such as etcdctl) has no server functions, and one that
    // only serves may have no client: a side is incomplete only when part of it is linked.
    let core_side_present = |func: &str| {
        let side = match func {
            ROUND_TRIP => &[ROUND_TRIP][..],
            _ => &[SERVE_HTTP, FINISH_REQUEST][..],
        };
        side.iter().any(|f| bin.function(f).is_some())
    };
    let core = core_hooks()
        .into_iter()
        .map(|h| (core_side_present(h.func), h))
        .map(|(present, h)| (h, present));
    let optional = optional_hooks()
        .into_iter()
        .chain(gin_hooks(bin))
        .chain(grpc_hooks(bin))
        .map(|h| (h, false));
    // Program name → (program, file offsets): one uprobe_multi link per program and process.
    let mut sites: BTreeMap<String, (ProgPick, Vec<usize>)> = BTreeMap::new();
    if let (Some(_), Err(missing)) = (bin.function(GRPC_HANDLE_STREAM), &bin.grpc) {
        set.warnings.push(format!(
            "{exe} uses grpc-go, but {missing}; its gRPC requests and calls are not recorded, \
             its HTTP is"
        ));
    }
    if bin.function(GIN_GET_VALUE).is_some() && bin.gin_route_register.is_none() {
        set.warnings.push(format!(
            "{exe} uses a gin whose router returns routes in memory, not registers; \
             its requests are named by raw path"
        ));
    }
    for (hook, report_missing) in core.chain(optional) {
        let Some(func) = bin.function(hook.func) else {
            if report_missing {
                set.warnings.push(format!(
                    "{exe} has no {}; its events will be missing",
                    hook.func
                ));
            }
            continue;
        };
        let mut hook_sites = Vec::new();
        if let Some(pick) = hook.entry {
            let entry = bin
                .entry_offset(func)
                .with_context(|| format!("{exe}: finding the entry of {}", hook.func))?;
            hook_sites.push((pick, entry));
        }
        if let Some(ret) = hook.ret {
            // Without its RETs a function's returns cannot be seen: skip it, keep the rest.
            match bin.ret_offsets(func) {
                Ok(rets) => hook_sites.extend(rets.into_iter().map(|off| (ret, off))),
                Err(e) => {
                    set.warnings.push(format!("{e}; not probing it"));
                    continue;
                }
            }
        }
        let rets = hook_sites.len() - usize::from(hook.entry.is_some());
        set.probes.push(match (hook.entry.is_some(), rets) {
            (true, 0) => hook.func.to_string(),
            (true, n) => format!("{}+ret({n})", hook.func),
            (false, n) => format!("{}:ret({n})", hook.func),
        });
        for (pick, offset) in hook_sites {
            let name = pick(&set.skel).name().to_string_lossy().into_owned();
            sites
                .entry(name)
                .or_insert_with(|| (pick, Vec::new()))
                .1
                .push(offset as usize);
        }
    }
    let site_hooks: Vec<SiteHook> = spawn_sites()
        .into_iter()
        .chain(channel_sites().into_iter().filter(|_| channels))
        .collect();
    let callees: Vec<&'static str> = site_hooks.iter().map(|h| h.callee).collect();
    let found = bin
        .call_sites(&callees)
        .with_context(|| format!("{exe}: finding the call sites of {}", callees.join(", ")))?;
    for hook in &site_hooks {
        let mut n = 0;
        for site in found.iter().filter(|s| s.callee == hook.callee) {
            n += 1;
            for (pick, offset) in [(hook.at_call, site.call), (hook.after, site.after)] {
                let Some(pick) = pick else { continue };
                let name = pick(&set.skel).name().to_string_lossy().into_owned();
                sites
                    .entry(name)
                    .or_insert_with(|| (pick, Vec::new()))
                    .1
                    .push(offset as usize);
            }
        }
        if n > 0 {
            set.probes.push(format!("{}@sites({n})", hook.callee));
        }
    }
    for (name, (pick, offsets)) in sites {
        for &pid in &pids {
            let prog = pick(&set.skel);
            if multi {
                let opts = UprobeMultiOpts {
                    offsets: offsets.clone(),
                    ..Default::default()
                };
                let link = prog
                    .attach_uprobe_multi_with_opts(pid, &target.open_path, "", opts)
                    .with_context(|| {
                        format!("{exe}: attaching {name} at {} places", offsets.len())
                    })?;
                set.links.push(link);
                continue;
            }
            for &offset in &offsets {
                let link = prog
                    .attach_uprobe(false, pid, &target.open_path, offset)
                    .with_context(|| {
                        format!("{exe}: attaching {name} at file offset {offset:#x}")
                    })?;
                set.links.push(link);
            }
        }
    }
    Ok(set)
}
