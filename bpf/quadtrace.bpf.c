// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Uprobes on Go (>= 1.17, amd64 register ABI) HTTP and scheduler functions.
 *
 * Each program reads a few argument registers and struct fields, stamps time, pid, tid and goid,
 * and submits one fixed-size record. Nothing is paired or reconstructed here: that is analyze's
 * job, offline. Return sites are plain uprobes placed on each RET instruction by record, never
 * uretprobes (Go moves goroutine stacks, and a hijacked return address crashes the target). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Struct field offsets for the target binary, from its DWARF or the per-version table. Set by
 * record before load; one loaded object per distinct binary. */
const volatile __u64 off_g_goid = 0;
const volatile __u64 off_request_method = 0;
const volatile __u64 off_request_url = 0;
const volatile __u64 off_request_host = 0;
const volatile __u64 off_request_ctx = 0;
/* Request.RemoteAddr; 0 where unknown (a binary of a Go version whose table lacks it). */
const volatile __u64 off_request_remote_addr = 0;
/* Runtime internals read at `go` statements and channel sends (see spawn_site, chan_send). */
const volatile __u64 off_g_m = 0;
const volatile __u64 off_m_p = 0;
const volatile __u64 off_hchan_recvq = 0;
const volatile __u64 off_waitq_first = 0;
const volatile __u64 off_sudog_g = 0;
const volatile __u64 off_p_goidcache = 0;
const volatile __u64 off_url_host = 0;
const volatile __u64 off_url_path = 0;
const volatile __u64 off_server_addr = 0;
const volatile __u64 off_response_status = 0;
const volatile __u64 off_http_response_status_code = 0;
const volatile __u64 off_hchan_qcount = 0;
const volatile __u64 off_hchan_dataqsiz = 0;
const volatile __u64 off_hchan_sendx = 0;
const volatile __u64 off_hchan_recvx = 0;
const volatile __u64 off_hchan_elemsize = 0;
const volatile __u64 off_h2_rw_rws = 0;
const volatile __u64 off_h2_rws_status = 0;
/* Route templates: 0 where the binary has no such field (see read_route). */
const volatile __u64 off_request_pattern = 0;
const volatile __u64 off_request_pat = 0;
/* Which result register of gin's (*node).getValue holds the route's pointer (its length is
 * in the next): 5 (R8) for gin >= 1.7; 0: not probed. */
const volatile __u64 gin_route_register = 0;
/* golang.org/x/net/http2's server, from DWARF only (its layout follows x/net's version, not
 * Go's): serverConn.hs, responseWriter.rws, responseWriterState.status; 0 when unknown. */
const volatile __u64 off_xnet_sc_hs = 0;
const volatile __u64 off_xnet_rw_rws = 0;
const volatile __u64 off_xnet_rws_status = 0;

/* grpc-go's structs, from DWARF only (see record's gobin/grpc.rs); its probes are attached
 * only when all are known. */
const volatile __u64 off_grpc_stream_method = 0;
const volatile __u64 off_grpc_stream_ctx = 0;
const volatile __u64 off_grpc_cc_target = 0;
const volatile __u64 off_grpc_status_code = 0;
/* The client of a server request on grpc's HTTP/2 transport: the address of
 * (*http2Server).Close (the first method of a ServerTransport method table holding one; 0:
 * unknown), http2Server.remoteAddr, and net.TCPAddr's IP and Port. */
const volatile __u64 grpc_http2_server_close = 0;
const volatile __u64 off_grpc_remote_addr = 0;
const volatile __u64 off_tcpaddr_ip = 0;
const volatile __u64 off_tcpaddr_port = 0;

/* Ring-buffer reserve failures per kind, read by record at exit and on its live line. */
__u64 lost[QT_KIND_MAX] = {};

/* Set by record once every probe of every target is attached, cleared before the first is
 * detached: attaching and detaching take a while, and events from a half-attached set (a
 * request seen on one process but not its call on another) would look like real ones. */
__u32 recording = 0;

/* Forces the event type into BTF, so the Rust skeleton carries the one definition of it. */
struct qt_event qt_event_type_anchor = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

/* Go >= 1.17 amd64 keeps the current g in R14 and passes integer arguments in
 * RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11. */
#define GO_G(ctx) ((ctx)->r14)
#define GO_ARG1(ctx) ((ctx)->ax)
#define GO_ARG2(ctx) ((ctx)->bx)
#define GO_ARG3(ctx) ((ctx)->cx)
#define GO_ARG4(ctx) ((ctx)->di)

/* A goroutine of one process. Go binaries are usually not position-independent, so two
 * processes of one binary can have goroutines at the same address: the pid tells them apart. */
struct g_key {
	__u64 g;
	__u32 tgid;
	__u32 pad;
};

static __always_inline struct g_key g_key_of(struct pt_regs *ctx)
{
	struct g_key k = {.g = GO_G(ctx), .tgid = bpf_get_current_pid_tgid() >> 32, .pad = 0};
	return k;
}

/* A request being served, from server_start to its end on the same goroutine: what the end
 * needs to name the route that served it. */
struct open_request {
	__u64 req;       /* the *net/http.Request the handler got (ServeMux sets its Pattern) */
	__u64 route_ptr; /* gin's route, as a Go string header */
	__u64 route_len;
};

/* LRU: a request whose end is never seen (a hijacked connection) must not fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct g_key);
	__type(value, struct open_request);
} open_requests SEC(".maps");

/* Arguments of a blocking channel receive or select, from entry to return. */
struct chan_args {
	__u64 ptr;    /* chanrecv: the *hchan; selectgo: cas0, the *scase array */
	__u64 elem;   /* chanrecv: where the value is received to */
	__u64 nsends; /* selectgo: cases [0, nsends) are sends */
};

/* Keyed by the goroutine: a receive may block and resume on another thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct g_key);
	__type(value, struct chan_args);
} chan_pending SEC(".maps");

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;
	if (addr)
		bpf_probe_read_user(&v, sizeof(v), (const void *)addr);
	return v;
}

static __always_inline __u64 goid_of(__u64 g)
{
	return g ? read_u64(g + off_g_goid) : 0;
}

/* Copies the Go string (ptr, len) into dst, at most cap bytes. Returns the bytes copied and
 * sets QT_F_TRUNCATED when the string was longer. */
static __always_inline __u16 copy_go_string(char *dst, __u32 cap, __u64 ptr, __u64 len, __u8 *flags)
{
	__u64 n = len;
	if (n > cap) {
		n = cap;
		*flags |= QT_F_TRUNCATED;
	}
	if (!ptr || bpf_probe_read_user(dst, n & 0xffff, (const void *)ptr))
		return 0;
	return (__u16)n;
}

/* Copies the Go string whose header (ptr, len) is at `hdr` in user memory, as copy_go_string. */
static __always_inline __u16 read_go_string(char *dst, __u32 cap, __u64 hdr, __u8 *flags)
{
	struct {
		__u64 ptr;
		__u64 len;
	} s = {};
	if (!hdr || bpf_probe_read_user(&s, sizeof(s), (const void *)hdr))
		return 0;
	return copy_go_string(dst, cap, s.ptr, s.len, flags);
}

static __always_inline struct qt_event *reserve(struct pt_regs *ctx, __u8 kind)
{
	if (!recording)
		return NULL;
	struct qt_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		if (kind < QT_KIND_MAX)
			__sync_fetch_and_add(&lost[kind], 1);
		return NULL;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->goid = goid_of(GO_G(ctx));
	e->parent_goid = 0;
	e->ctx = e->ctx1 = e->ctx2 = e->ctx3 = 0;
	e->chan = e->value = e->netns = 0;
	e->qcount = e->dataqsiz = e->sendx = e->recvx = 0;
	e->status = 0;
	e->method_len = e->host_len = e->path_len = e->addr_len = e->peer_len = 0;
	e->lport = e->rport = e->family = 0;
	e->kind = kind;
	e->flags = 0;
	e->pad[0] = e->pad[1] = 0;
	return e;
}

/* Wake record only once the ring buffer is a quarter full: record drains it on a short timer
 * anyway, and a wakeup per event would cost the target a context switch per event. */
#define WAKEUP_BYTES (4 * 1024 * 1024)

static __always_inline void submit(struct qt_event *e)
{
	__u64 pending = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(e, pending >= WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Method, URL host (or Host header), URL path and ctx of a *net/http.Request. */
static __always_inline void read_request(struct qt_event *e, __u64 req, int url_host)
{
	if (!req)
		return;
	e->method_len = read_go_string(e->method, QT_METHOD_LEN, req + off_request_method, &e->flags);
	__u64 url = read_u64(req + off_request_url);
	if (url_host && url)
		e->host_len = read_go_string(e->host, QT_HOST_LEN, url + off_url_host, &e->flags);
	else
		e->host_len = read_go_string(e->host, QT_HOST_LEN, req + off_request_host, &e->flags);
	if (url)
		e->path_len = read_go_string(e->path, QT_PATH_LEN, url + off_url_path, &e->flags);
	/* ctx is an interface (itab, data): the data word identifies the context. */
	e->ctx = read_u64(req + off_request_ctx + 8);
}

/* A server request starts: req is its *net/http.Request, srv its *net/http.Server (0: unknown).
 * An h2c connection's preface arrives as a request "PRI *" that never ends (the connection is
 * taken over by the HTTP/2 server, whose streams are the real requests): it is dropped. */
static __always_inline int start_request(struct pt_regs *ctx, __u64 req, __u64 srv)
{
	struct qt_event *e = reserve(ctx, QT_SERVER_START);
	if (!e)
		return 0;
	read_request(e, req, 0);
	if (e->method_len == 3 && e->method[0] == 'P' && e->method[1] == 'R' && e->method[2] == 'I' &&
	    e->path_len <= 1) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		return 0;
	}
	if (srv)
		e->addr_len = read_go_string(e->addr, QT_ADDR_LEN, srv + off_server_addr, &e->flags);
	/* The client's ip:port on this connection: what links the request to the call that caused
	 * it (that call's process owns a connection with this local address). */
	if (req && off_request_remote_addr)
		e->peer_len = read_go_string(e->peer, QT_PEER_LEN, req + off_request_remote_addr, &e->flags);
	submit(e);
	struct g_key k = g_key_of(ctx);
	struct open_request open = {.req = req};
	bpf_map_update_elem(&open_requests, &k, &open, BPF_ANY);
	return 0;
}

/* func (sh serverHandler) ServeHTTP(rw ResponseWriter, req *Request)
 * sh is a one-pointer struct {srv *Server} (RAX); rw an interface (RBX, RCX); req in RDI. */
SEC("uprobe")
int server_start(struct pt_regs *ctx)
{
	return start_request(ctx, GO_ARG4(ctx), GO_ARG1(ctx));
}

/* golang.org/x/net/http2's func (sc *serverConn) runHandler(rw *responseWriter, req *Request,
 * handler func(ResponseWriter, *Request)): an HTTP/2 server built on x/net (h2c) calls the
 * handler from here, not through serverHandler.ServeHTTP. The *http.Server is sc.hs. */
SEC("uprobe")
int server_start_xnet(struct pt_regs *ctx)
{
	__u64 srv = off_xnet_sc_hs ? read_u64(GO_ARG1(ctx) + off_xnet_sc_hs) : 0;
	return start_request(ctx, GO_ARG3(ctx), srv);
}

/* At a RET of gin's (n *node) getValue(...) (value nodeValue): when it found handlers (the
 * slice's pointer, RAX, is not nil), the route it matched is in two result registers. The
 * last match on the request's goroutine is the one gin serves. Only the string header is
 * kept: the bytes live in gin's route tree for the program's life. */
SEC("uprobe")
int gin_route_found(struct pt_regs *ctx)
{
	if (!GO_ARG1(ctx))
		return 0;
	/* All four are loaded before choosing: the verifier refuses a ctx access at a computed
	 * offset, which is what the compiler makes of a choice between two fields. */
	__u64 r8 = ctx->r8, r9 = ctx->r9, r10 = ctx->r10, r11 = ctx->r11;
	asm volatile("" : "+r"(r8), "+r"(r9), "+r"(r10), "+r"(r11));
	int older = gin_route_register == 7;
	struct g_key k = g_key_of(ctx);
	struct open_request *open = bpf_map_lookup_elem(&open_requests, &k);
	if (!open)
		return 0;
	open->route_ptr = older ? r10 : r8;
	open->route_len = older ? r11 : r9;
	return 0;
}

/* Ends the request open on this goroutine, putting the route that served it, when known, in
 * e->path: gin's route, else the ServeMux pattern (Request.Pattern since Go 1.23; in Go 1.22
 * Request.pat, a *pattern whose first field is its string). */
static __always_inline void read_route(struct pt_regs *ctx, struct qt_event *e)
{
	struct g_key k = g_key_of(ctx);
	struct open_request *found = bpf_map_lookup_elem(&open_requests, &k);
	if (!found)
		return;
	struct open_request open = *found;
	bpf_map_delete_elem(&open_requests, &k);
	if (open.route_ptr && open.route_len) {
		e->path_len = copy_go_string(e->path, QT_PATH_LEN, open.route_ptr, open.route_len, &e->flags);
		return;
	}
	if (!open.req)
		return;
	if (off_request_pattern)
		e->path_len = read_go_string(e->path, QT_PATH_LEN, open.req + off_request_pattern, &e->flags);
	else if (off_request_pat)
		e->path_len = read_go_string(e->path, QT_PATH_LEN, read_u64(open.req + off_request_pat), &e->flags);
}

/* func (w *response) finishRequest() */
SEC("uprobe")
int server_end(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_SERVER_END);
	if (!e)
		return 0;
	__u64 w = GO_ARG1(ctx);
	if (w) {
		e->status = (__s32)read_u64(w + off_response_status);
		e->flags |= QT_F_HAS_STATUS;
	}
	read_route(ctx, e);
	submit(e);
	return 0;
}

/* golang.org/x/net/http2's func (s *Server) ServeConn(c net.Conn, opts *ServeConnOpts): an h2c
 * handler takes the connection over for HTTP/2. When it does so for an HTTP/1 request that
 * asked to upgrade (Upgrade: h2c), that request never finishes as HTTP/1 (its stream 1 is served
 * again as HTTP/2): it ends here, with the status the upgrade answered, 101 Switching Protocols. */
SEC("uprobe")
int h2c_takeover(struct pt_regs *ctx)
{
	struct g_key k = g_key_of(ctx);
	if (!bpf_map_lookup_elem(&open_requests, &k))
		return 0;
	bpf_map_delete_elem(&open_requests, &k);
	struct qt_event *e = reserve(ctx, QT_SERVER_END);
	if (!e)
		return 0;
	e->status = 101;
	e->flags |= QT_F_HAS_STATUS;
	submit(e);
	return 0;
}

/* An HTTP/2 request ends on its stream's goroutine: the status is in w.rws.status. */
static __always_inline int end_h2_request(struct pt_regs *ctx, __u64 rw_rws, __u64 rws_status)
{
	struct qt_event *e = reserve(ctx, QT_SERVER_END);
	if (!e)
		return 0;
	__u64 rws = rws_status ? read_u64(GO_ARG1(ctx) + rw_rws) : 0;
	if (rws) {
		e->status = (__s32)read_u64(rws + rws_status);
		e->flags |= QT_F_HAS_STATUS;
	}
	read_route(ctx, e);
	submit(e);
	return 0;
}

/* func (w *http2responseWriter) handlerDone(): HTTP/2 requests of net/http's own server end
 * here instead of in finishRequest. */
SEC("uprobe")
int server_end_h2(struct pt_regs *ctx)
{
	return end_h2_request(ctx, off_h2_rw_rws, off_h2_rws_status);
}

/* The same function of golang.org/x/net/http2 (h2c servers). */
SEC("uprobe")
int server_end_xnet(struct pt_regs *ctx)
{
	return end_h2_request(ctx, off_xnet_rw_rws, off_xnet_rws_status);
}

/* A client call's context's parent, grandparent and great-grandparent: cancelCtx, timerCtx,
 * valueCtx and withoutCancelCtx embed their parent Context first, its data word at +8. Other
 * context types give unrelated words, which match nothing. */
static __always_inline void read_ctx_ancestors(struct qt_event *e)
{
	e->ctx1 = e->ctx ? read_u64(e->ctx + 8) : 0;
	e->ctx2 = e->ctx1 ? read_u64(e->ctx1 + 8) : 0;
	e->ctx3 = e->ctx2 ? read_u64(e->ctx2 + 8) : 0;
}

/* func (t *Transport) roundTrip(req *Request) (*Response, error) */
SEC("uprobe")
int client_start(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_CLIENT_START);
	if (!e)
		return 0;
	read_request(e, GO_ARG2(ctx), 1);
	read_ctx_ancestors(e);
	submit(e);
	return 0;
}

/* At a RET of roundTrip: results are in RAX (*Response) and RBX:RCX (error interface). */
SEC("uprobe")
int client_end(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_CLIENT_END);
	if (!e)
		return 0;
	__u64 resp = GO_ARG1(ctx);
	if (resp) {
		e->status = (__s32)read_u64(resp + off_http_response_status_code);
		e->flags |= QT_F_HAS_STATUS;
	}
	if (GO_ARG2(ctx))
		e->flags |= QT_F_ERROR;
	submit(e);
	return 0;
}

/* A `go` statement in code that can carry a request, from its `CALL runtime.newproc` to the
 * instruction after it: two hits. At the CALL the funcval is in RAX and the child does not
 * exist yet, so the time read there comes before anything the child does (once created, a
 * child another processor steals may run before the instruction after the CALL is reached). */
struct spawn_call {
	__u64 ts_ns;
	__u64 fn;
};

/* Keyed by the goroutine: a stack check in newproc's prologue may move it to another thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct g_key);
	__type(value, struct spawn_call);
} spawn_calls SEC(".maps");

SEC("uprobe")
int spawn_call(struct pt_regs *ctx)
{
	struct g_key k = g_key_of(ctx);
	struct spawn_call call = {.ts_ns = bpf_ktime_get_ns(), .fn = GO_ARG1(ctx)};
	bpf_map_update_elem(&spawn_calls, &k, &call, BPF_ANY);
	return 0;
}

/* After the CALL: newproc1 took the child's id from this processor's goidcache, which now holds
 * the next one, so the child is goidcache - 1. The event carries the CALL's time. */
SEC("uprobe")
int spawn_done(struct pt_regs *ctx)
{
	struct g_key k = g_key_of(ctx);
	struct spawn_call *found = bpf_map_lookup_elem(&spawn_calls, &k);
	if (!found)
		return 0;
	struct spawn_call call = *found;
	bpf_map_delete_elem(&spawn_calls, &k);
	__u64 g = GO_G(ctx);
	__u64 m = g ? read_u64(g + off_g_m) : 0;
	__u64 p = m ? read_u64(m + off_m_p) : 0;
	if (!p)
		return 0;
	struct qt_event *e = reserve(ctx, QT_SPAWN);
	if (!e)
		return 0;
	e->ts_ns = call.ts_ns;
	e->parent_goid = e->goid;
	e->goid = read_u64(p + off_p_goidcache) - 1;
	e->value = call.fn;
	e->flags |= QT_F_HAS_VALUE;
	submit(e);
	return 0;
}

/* Queue state of a channel, and up to 8 bytes of the element at elem (fewer for smaller
 * element types, so that neighbouring bytes never make equal values look different). */
static __always_inline void read_chan(struct qt_event *e, __u64 c, __u64 elem)
{
	e->chan = c;
	if (!c)
		return;
	e->qcount = (__u32)read_u64(c + off_hchan_qcount);
	e->dataqsiz = (__u32)read_u64(c + off_hchan_dataqsiz);
	e->sendx = (__u32)read_u64(c + off_hchan_sendx);
	e->recvx = (__u32)read_u64(c + off_hchan_recvx);
	__u16 elemsize = 0;
	bpf_probe_read_user(&elemsize, sizeof(elemsize), (const void *)(c + off_hchan_elemsize));
	if (!elem || !elemsize)
		return;
	__u64 v = 0;
	__u32 n = elemsize < 8 ? elemsize : 8;
	if (bpf_probe_read_user(&v, n & 15, (const void *)elem))
		return;
	e->value = v;
	e->flags |= QT_F_HAS_VALUE;
}

/* func chansend1(c *hchan, elem unsafe.Pointer), at its CALL: recorded as it starts, with the
 * state before. When a goroutine is blocked receiving on the channel (in a receive or a select),
 * the first of them takes the value directly: it is named here, so a worker that blocked before
 * recording began (whose receive was never seen to start) still gets its first job. */
SEC("uprobe")
int chan_send(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_CHAN_SEND);
	if (!e)
		return 0;
	__u64 c = GO_ARG1(ctx);
	read_chan(e, c, GO_ARG2(ctx));
	__u64 waiter = c ? read_u64(c + off_hchan_recvq + off_waitq_first) : 0;
	__u64 receiver = waiter ? read_u64(waiter + off_sudog_g) : 0;
	if (receiver) {
		e->parent_goid = goid_of(receiver);
		e->flags |= QT_F_HAS_RECEIVER;
	}
	submit(e);
	return 0;
}

/* func chanrecv1(c *hchan, elem unsafe.Pointer) / chanrecv2(...) (received bool): entry. */
SEC("uprobe")
int chan_recv_enter(struct pt_regs *ctx)
{
	struct g_key k = g_key_of(ctx);
	struct chan_args args = {.ptr = GO_ARG1(ctx), .elem = GO_ARG2(ctx), .nsends = 0};
	bpf_map_update_elem(&chan_pending, &k, &args, BPF_ANY);
	return 0;
}

/* Moves what the entry of a channel operation stashed for this goroutine into out; 0 if none. */
static __always_inline int take_chan_args(struct pt_regs *ctx, struct chan_args *out)
{
	struct g_key k = g_key_of(ctx);
	struct chan_args *stashed = bpf_map_lookup_elem(&chan_pending, &k);
	if (!stashed)
		return 0;
	*out = *stashed;
	bpf_map_delete_elem(&chan_pending, &k);
	return 1;
}

static __always_inline int chan_recv_return(struct pt_regs *ctx, int completed)
{
	struct chan_args args;
	if (!take_chan_args(ctx, &args))
		return 0;
	struct qt_event *e = reserve(ctx, QT_CHAN_RECV);
	if (!e)
		return 0;
	read_chan(e, args.ptr, args.elem);
	if (completed)
		e->flags |= QT_F_COMPLETED;
	submit(e);
	return 0;
}

/* At a RET of chanrecv1, which returns nothing: the value has been received. */
SEC("uprobe")
int chan_recv1_return(struct pt_regs *ctx)
{
	return chan_recv_return(ctx, 1);
}

/* At a RET of chanrecv2: AL says whether a value was received (false: closed channel). */
SEC("uprobe")
int chan_recv2_return(struct pt_regs *ctx)
{
	return chan_recv_return(ctx, GO_ARG1(ctx) & 0xff);
}

/* func selectgo(cas0 *scase, order0 *uint16, pc0 *uintptr, nsends, nrecvs int, block bool)
 * (int, bool): entry. */
SEC("uprobe")
int select_enter(struct pt_regs *ctx)
{
	struct g_key k = g_key_of(ctx);
	struct chan_args args = {.ptr = GO_ARG1(ctx), .elem = 0, .nsends = GO_ARG4(ctx)};
	bpf_map_update_elem(&chan_pending, &k, &args, BPF_ANY);
	return 0;
}

/* At a RET of selectgo: RAX is the chosen case (-1: none), BL whether a receive got a value.
 * scase is {c *hchan; elem unsafe.Pointer}, sends first. */
SEC("uprobe")
int select_return(struct pt_regs *ctx)
{
	struct chan_args args;
	if (!take_chan_args(ctx, &args))
		return 0;
	__s64 chosen = (__s64)GO_ARG1(ctx);
	if (chosen < 0 || chosen > 65535)
		return 0;
	int is_send = (__u64)chosen < args.nsends;
	struct qt_event *e = reserve(ctx, is_send ? QT_CHAN_SEND : QT_CHAN_RECV);
	if (!e)
		return 0;
	__u64 scase = args.ptr + (__u64)chosen * 16;
	read_chan(e, read_u64(scase), read_u64(scase + 8));
	e->flags |= QT_F_IN_SELECT;
	if (!is_send && (GO_ARG2(ctx) & 0xff))
		e->flags |= QT_F_COMPLETED;
	submit(e);
	return 0;
}

/* At a CALL of func AfterFunc(d Duration, f func()) *Timer in code that can carry a request
 * (the registers are the callee's arguments there): RBX is f's funcval. */
SEC("uprobe")
int timer_arm(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_TIMER_ARM);
	if (!e)
		return 0;
	e->value = GO_ARG2(ctx);
	e->flags |= QT_F_HAS_VALUE;
	submit(e);
	return 0;
}

/* gRPC requests and calls are recorded as HTTP ones with the method "GRPC" and the full
 * method (/pkg.Service/Method) as the path; their status is the gRPC code, and a code other
 * than OK sets QT_F_ERROR. */
static __always_inline void set_grpc_method(struct qt_event *e)
{
	e->method[0] = 'G';
	e->method[1] = 'R';
	e->method[2] = 'P';
	e->method[3] = 'C';
	e->method_len = 4;
}

/* The code of a *status.Status or a *status.Error: both hold the protobuf message first. A
 * value outside gRPC's codes is Unknown (2): an error of another type than a status one. */
static __always_inline __s32 grpc_code(__u64 status_holder)
{
	__u64 proto = read_u64(status_holder);
	if (!proto)
		return 0;
	__u32 code = 0;
	bpf_probe_read_user(&code, sizeof(code), (const void *)(proto + off_grpc_status_code));
	return code > 16 ? 2 : (__s32)code;
}

/* The client's ip:port of a request on grpc's HTTP/2 transport (t's method table starts with
 * (*http2Server).Close), as the socket kinds carry addresses: what links the request to the
 * call that caused it. A net.IP is 4 or 16 bytes (v4 often in its v6-mapped form). */
static __always_inline void read_grpc_peer(struct qt_event *e, __u64 itab, __u64 t)
{
	if (!grpc_http2_server_close || !itab || !t || read_u64(itab + 24) != grpc_http2_server_close)
		return;
	__u64 addr = read_u64(t + off_grpc_remote_addr + 8); /* the interface's data word */
	if (!addr)
		return;
	struct {
		__u64 ptr;
		__u64 len;
	} ip = {};
	if (bpf_probe_read_user(&ip, sizeof(ip), (const void *)(addr + off_tcpaddr_ip)))
		return;
	__u64 port = read_u64(addr + off_tcpaddr_port);
	if (ip.len == 4 && !bpf_probe_read_user(e->raddr, 4, (const void *)ip.ptr))
		e->family = 2; /* AF_INET */
	else if (ip.len == 16 && !bpf_probe_read_user(e->raddr, 16, (const void *)ip.ptr))
		e->family = 10; /* AF_INET6 */
	else
		return;
	e->rport = (__u16)port;
}

/* The gRPC code of a request's or call's end: anything but OK is an error. */
static __always_inline void set_grpc_status(struct qt_event *e, __s32 code)
{
	e->status = code;
	e->flags |= QT_F_HAS_STATUS;
	if (code)
		e->flags |= QT_F_ERROR;
}

/* func (s *Server) handleStream(t ServerTransport, stream *Stream, trInfo *traceInfo): t is an
 * interface (RBX, RCX), the stream in RDI. The RPC runs on this goroutine. */
SEC("uprobe")
int grpc_server_start(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_SERVER_START);
	if (!e)
		return 0;
	__u64 stream = GO_ARG4(ctx);
	set_grpc_method(e);
	read_grpc_peer(e, GO_ARG2(ctx), GO_ARG3(ctx));
	if (stream) {
		e->path_len = read_go_string(e->path, QT_PATH_LEN, stream + off_grpc_stream_method, &e->flags);
		e->ctx = read_u64(stream + off_grpc_stream_ctx + 8);
	}
	submit(e);
	return 0;
}

/* func (t *http2Server) WriteStatus(s *Stream, st *status.Status) error (and the ServeHTTP
 * transport's): the RPC ends with this status, on its handler's goroutine. */
SEC("uprobe")
int grpc_server_end(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_SERVER_END);
	if (!e)
		return 0;
	__u64 st = GO_ARG3(ctx);
	set_grpc_status(e, st ? grpc_code(st) : 0);
	submit(e);
	return 0;
}

/* A client call starts: cc is the *ClientConn, the context's data word and the method are in
 * registers that depend on the function (see its callers). */
static __always_inline int grpc_call_start(struct pt_regs *ctx, __u64 cc, __u64 method,
					   __u64 method_len)
{
	struct qt_event *e = reserve(ctx, QT_CLIENT_START);
	if (!e)
		return 0;
	set_grpc_method(e);
	if (cc)
		e->host_len = read_go_string(e->host, QT_HOST_LEN, cc + off_grpc_cc_target, &e->flags);
	e->path_len = copy_go_string(e->path, QT_PATH_LEN, method, method_len, &e->flags);
	e->ctx = GO_ARG3(ctx);
	read_ctx_ancestors(e);
	submit(e);
	return 0;
}

/* Client calls open on a goroutine, by goroutine: a unary call (Invoke) runs on a stream of
 * its own, and every call, unary or streaming, ends at its stream's (*clientStream).finish,
 * recorded only on a goroutine that opened one (a context watcher's finish on its own
 * goroutine is left out; finish may also run twice for one stream). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct g_key);
	__type(value, __u32);
} grpc_calls SEC(".maps");

static __always_inline int grpc_call_opened(struct pt_regs *ctx, __u64 method, __u64 method_len)
{
	struct g_key k = g_key_of(ctx);
	__u32 one = 1;
	__u32 *open = bpf_map_lookup_elem(&grpc_calls, &k);
	if (open)
		__sync_fetch_and_add(open, 1);
	else
		bpf_map_update_elem(&grpc_calls, &k, &one, BPF_ANY);
	return grpc_call_start(ctx, GO_ARG1(ctx), method, method_len);
}

/* func (cc *ClientConn) Invoke(ctx context.Context, method string, args, reply interface{},
 * opts ...CallOption) error: cc in RAX, ctx in RBX:RCX, method in RDI:RSI. */
SEC("uprobe")
int grpc_client_start(struct pt_regs *ctx)
{
	return grpc_call_opened(ctx, GO_ARG4(ctx), ctx->si);
}

/* func (cc *ClientConn) NewStream(ctx context.Context, desc *StreamDesc, method string,
 * opts ...CallOption) (ClientStream, error): cc in RAX, ctx in RBX:RCX, desc in RDI, method in
 * RSI:R8. A streaming call lasts until the stream finishes; its messages cost nothing. */
SEC("uprobe")
int grpc_stream_start(struct pt_regs *ctx)
{
	return grpc_call_opened(ctx, ctx->si, ctx->r8);
}

/* Whether the error interface's data word is io.EOF's *errors.errorString ("EOF"), with which
 * a stream ends well. */
static __always_inline int is_eof(__u64 data)
{
	struct {
		__u64 ptr;
		__u64 len;
	} s = {};
	char text[3] = {};
	if (bpf_probe_read_user(&s, sizeof(s), (const void *)data) || s.len != 3 ||
	    bpf_probe_read_user(text, sizeof(text), (const void *)s.ptr))
		return 0;
	return text[0] == 'E' && text[1] == 'O' && text[2] == 'F';
}

/* func (cs *clientStream) finish(err error): the error in RBX:RCX (nil or io.EOF: OK). */
SEC("uprobe")
int grpc_call_end(struct pt_regs *ctx)
{
	struct g_key k = g_key_of(ctx);
	__u32 *open = bpf_map_lookup_elem(&grpc_calls, &k);
	if (!open || !*open)
		return 0;
	if (*open == 1)
		bpf_map_delete_elem(&grpc_calls, &k);
	else
		__sync_fetch_and_add(open, -1);
	struct qt_event *e = reserve(ctx, QT_CLIENT_END);
	if (!e)
		return 0;
	__u64 itab = GO_ARG2(ctx), data = GO_ARG3(ctx);
	__s32 code = 0;
	if (itab && data && !is_eof(data)) {
		code = grpc_code(data);
		if (!code)
			code = 2; /* a non-nil error other than io.EOF is never OK: Unknown */
	}
	set_grpc_status(e, code);
	submit(e);
	return 0;
}

