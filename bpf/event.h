/* The one definition of the raw event that the BPF programs submit and `record` decodes.
 *
 * Fixed-width types only. Fields are ordered largest first so there is no hidden padding, the
 * size is asserted here and in Rust, and kind values start at 1 so zeroed memory is never an
 * event. Kind values are shared with quadtrace-schema's EventKind: never renumber them. */
#ifndef QUADTRACE_EVENT_H
#define QUADTRACE_EVENT_H

#define QT_METHOD_LEN 16
#define QT_HOST_LEN 64
#define QT_PATH_LEN 128
#define QT_ADDR_LEN 32
#define QT_PEER_LEN 48 /* "[v6 address]:port" */

enum qt_kind {
	QT_SERVER_START = 1,
	QT_SERVER_END = 2,
	QT_CLIENT_START = 3,
	QT_CLIENT_END = 4,
	QT_SPAWN = 5,
	QT_CHAN_SEND = 6,
	QT_CHAN_RECV = 7,
	QT_TIMER_ARM = 8,
	/* Socket kinds, from the kernel's inet_sock_set_state tracepoint (bpf/host.bpf.c). */
	QT_CONNECT = 9,
	QT_LISTEN = 10,
	QT_LISTEN_END = 11,
	QT_KIND_MAX = 12, /* array bound, not a kind */
	/* A notice to record, never written to a recording: a program was exec'd (pid is the new
	 * process), so record can decide whether it is one to probe. */
	QT_NOTICE_EXEC = 100,
};

enum qt_flags {
	QT_F_TRUNCATED = 1,  /* a string was longer than its buffer */
	QT_F_ERROR = 2,      /* client_end: roundTrip returned a non-nil error */
	QT_F_HAS_STATUS = 4, /* status holds a value */
	QT_F_IN_SELECT = 8,  /* channel op: a chosen case of a select */
	QT_F_COMPLETED = 16, /* chan_recv: a value was received (not a closed channel) */
	QT_F_HAS_VALUE = 32, /* value holds the element's first bytes */
	QT_F_HAS_RECEIVER = 64, /* chan_send: parent_goid holds the receiver waiting on the channel */
};

struct qt_event {
	__u64 ts_ns;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 goid;        /* current goroutine; for QT_SPAWN the new one */
	__u64 parent_goid; /* QT_SPAWN: the goroutine that called `go`; QT_CHAN_SEND: the waiting receiver */
	__u64 ctx;         /* data word of the request's context.Context */
	__u64 ctx1;        /* client_start: ctx's parent, grandparent, great-grandparent */
	__u64 ctx2;
	__u64 ctx3;
	__u64 chan;        /* channel ops: the *hchan */
	__u64 value;       /* channel ops: element's first bytes; timer_arm: callback; spawn: the funcval run */
	__u64 netns;       /* socket kinds: inode of the socket's network namespace */
	__u32 pid;
	__u32 tid;
	__s32 status;
	__u32 qcount;      /* channel ops: queue state (before a send, after a receive) */
	__u32 dataqsiz;
	__u32 sendx;
	__u32 recvx;
	__u16 method_len; /* bytes valid in method[], and so on */
	__u16 host_len;
	__u16 path_len;
	__u16 addr_len;
	__u16 peer_len;
	__u16 lport;       /* socket kinds: local and remote port */
	__u16 rport;
	__u16 family;      /* socket kinds: AF_INET or AF_INET6 */
	__u8 kind;
	__u8 flags;
	__u8 pad[2];
	__u8 laddr[16];    /* socket kinds: local and remote address (4 bytes used for AF_INET) */
	__u8 raddr[16];
	char method[QT_METHOD_LEN];
	char host[QT_HOST_LEN];
	char path[QT_PATH_LEN];
	char addr[QT_ADDR_LEN];
	char peer[QT_PEER_LEN]; /* server_start: Request.RemoteAddr, the client as the server sees it */
};

_Static_assert(sizeof(struct qt_event) == 448, "qt_event layout changed: update record/src/raw_event.rs");

#endif
