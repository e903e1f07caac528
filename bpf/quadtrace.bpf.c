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
const volatile __u64 off_url_host = 0;
const volatile __u64 off_url_path = 0;
const volatile __u64 off_server_addr = 0;
const volatile __u64 off_response_status = 0;
const volatile __u64 off_http_response_status_code = 0;

/* Ring-buffer reserve failures per kind, read by record at exit and on its live line. */
__u64 lost[QT_KIND_MAX] = {};

/* Forces the event type into BTF, so the Rust skeleton carries the one definition of it. */
struct qt_event qt_event_type_anchor = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

/* runtime.newproc1 runs on the system stack (g0), so at its RETs R14 no longer holds the parent
 * goroutine: its goid is kept here, per thread, from entry to return. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} spawn_parent SEC(".maps");

/* Go >= 1.17 amd64 keeps the current g in R14 and passes integer arguments in
 * RAX, RBX, RCX, RDI, RSI, R8, R9, R10, R11. */
#define GO_G(ctx) ((ctx)->r14)
#define GO_ARG1(ctx) ((ctx)->ax)
#define GO_ARG2(ctx) ((ctx)->bx)
#define GO_ARG3(ctx) ((ctx)->cx)
#define GO_ARG4(ctx) ((ctx)->di)

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

/* Copies the Go string whose header (ptr, len) is at `hdr` into dst, at most cap bytes.
 * Returns the bytes copied and sets QT_F_TRUNCATED when the string was longer. */
static __always_inline __u16 read_go_string(char *dst, __u32 cap, __u64 hdr, __u8 *flags)
{
	struct {
		__u64 ptr;
		__u64 len;
	} s = {};
	if (!hdr || bpf_probe_read_user(&s, sizeof(s), (const void *)hdr))
		return 0;
	__u64 n = s.len;
	if (n > cap) {
		n = cap;
		*flags |= QT_F_TRUNCATED;
	}
	if (!s.ptr || bpf_probe_read_user(dst, n & 0xffff, (const void *)s.ptr))
		return 0;
	return (__u16)n;
}

static __always_inline struct qt_event *reserve(struct pt_regs *ctx, __u8 kind)
{
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
	e->ctx = 0;
	e->status = 0;
	e->method_len = e->host_len = e->path_len = e->addr_len = 0;
	e->kind = kind;
	e->flags = 0;
	e->pad[0] = e->pad[1] = 0;
	return e;
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

/* func (sh serverHandler) ServeHTTP(rw ResponseWriter, req *Request)
 * sh is a one-pointer struct {srv *Server} (RAX); rw an interface (RBX, RCX); req in RDI. */
SEC("uprobe")
int server_start(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_SERVER_START);
	if (!e)
		return 0;
	read_request(e, GO_ARG4(ctx), 0);
	__u64 srv = GO_ARG1(ctx);
	if (srv)
		e->addr_len = read_go_string(e->addr, QT_ADDR_LEN, srv + off_server_addr, &e->flags);
	bpf_ringbuf_submit(e, 0);
	return 0;
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
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* func (t *Transport) roundTrip(req *Request) (*Response, error) */
SEC("uprobe")
int client_start(struct pt_regs *ctx)
{
	struct qt_event *e = reserve(ctx, QT_CLIENT_START);
	if (!e)
		return 0;
	read_request(e, GO_ARG2(ctx), 1);
	bpf_ringbuf_submit(e, 0);
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
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* func newproc1(fn *funcval, callergp *g, callerpc uintptr, ...) *g — entry. */
SEC("uprobe")
int spawn_enter(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 parent = goid_of(GO_ARG2(ctx));
	bpf_map_update_elem(&spawn_parent, &tid, &parent, BPF_ANY);
	return 0;
}

/* At a RET of newproc1: RAX is the new g, whose goid newproc1 has just assigned. */
SEC("uprobe")
int spawn_return(struct pt_regs *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *parent = bpf_map_lookup_elem(&spawn_parent, &tid);
	if (!parent)
		return 0;
	__u64 parent_goid = *parent;
	bpf_map_delete_elem(&spawn_parent, &tid);
	struct qt_event *e = reserve(ctx, QT_SPAWN);
	if (!e)
		return 0;
	e->goid = goid_of(GO_ARG1(ctx));
	e->parent_goid = parent_goid;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
