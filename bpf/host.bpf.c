// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Kernel-side facts about the recorded processes, loaded once per recording (not per binary):
 *
 * - which process owns which end of a TCP connection, and where each listens, from the
 *   inet_sock_set_state tracepoint: a connection changes state a few times in its life while
 *   it carries many requests, so this costs nothing per request, yet it is what links a client
 *   call to the server request it caused (the client's local ip:port is the server's peer,
 *   whatever virtual IP was dialled);
 * - which programs start (sched_process_exec), so record can probe them before they serve.
 *
 * Both are BTF-typed raw tracepoints (tp_btf): they attach without tracefs. Only processes in
 * `target_tgids` are reported; record fills it, and the exec program adds the processes of a
 * binary already being probed at once, before the new program has run a line. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "event.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* Set by record before load: send an exec notice for every program started on the host
 * (record -a, or --exe matched by build id), not only for binaries already probed. */
const volatile __u32 notice_every_exec = 0;

/* Ring-buffer reserve failures per kind. */
__u64 lost[QT_KIND_MAX] = {};

/* Cleared by record before it stops, as for the uprobes. */
__u32 recording = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} host_events SEC(".maps");

/* Processes being recorded (tgid → 1). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} target_tgids SEC(".maps");

/* A binary on disk, as the kernel names its inode. */
struct file_key {
	__u64 ino;
	__u32 dev; /* the kernel's encoding: major << 20 | minor */
	__u32 pad;
};

/* Binaries being probed for every process that runs them (record --exe, -a). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct file_key);
	__type(value, __u8);
} target_binaries SEC(".maps");

/* Sockets a recorded process is connecting (SYN_SENT), to the process: the connection is
 * established later in softirq context, where the current task is anybody's. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} connecting SEC(".maps");

/* Listening sockets of recorded processes, to their process: a listener may be closed by a
 * task that is not its owner (the last reference dropped elsewhere). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} listening SEC(".maps");

static __always_inline struct qt_event *reserve(__u8 kind, __u32 tgid)
{
	if (!recording)
		return NULL;
	struct qt_event *e = bpf_ringbuf_reserve(&host_events, sizeof(*e), 0);
	if (!e) {
		if (kind < QT_KIND_MAX)
			__sync_fetch_and_add(&lost[kind], 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = tgid;
	e->kind = kind;
	return e;
}

/* Fills the socket kinds' fields from the socket itself. */
static __always_inline void read_sock(struct qt_event *e, const struct sock *sk)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	}
}

static __always_inline void report(__u8 kind, __u32 tgid, const struct sock *sk)
{
	struct qt_event *e = reserve(kind, tgid);
	if (!e)
		return;
	read_sock(e, sk);
	/* Rare events: wake record at once, so a short-lived listener is named before it goes. */
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state, const struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	__u64 key = (__u64)sk;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		/* connect(): in the connecting process's context. */
		if (bpf_map_lookup_elem(&target_tgids, &tgid))
			bpf_map_update_elem(&connecting, &key, &tgid, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT) {
		__u32 *owner = bpf_map_lookup_elem(&connecting, &key);
		if (!owner)
			return 0;
		__u32 pid = *owner;
		bpf_map_delete_elem(&connecting, &key);
		if (newstate == TCP_ESTABLISHED)
			report(QT_CONNECT, pid, sk);
		return 0;
	}
	if (newstate == TCP_LISTEN) {
		/* listen(): in the listening process's context. */
		if (!bpf_map_lookup_elem(&target_tgids, &tgid))
			return 0;
		bpf_map_update_elem(&listening, &key, &tgid, BPF_ANY);
		report(QT_LISTEN, tgid, sk);
		return 0;
	}
	if (oldstate == TCP_LISTEN) {
		__u32 *owner = bpf_map_lookup_elem(&listening, &key);
		if (!owner)
			return 0;
		__u32 pid = *owner;
		bpf_map_delete_elem(&listening, &key);
		report(QT_LISTEN_END, pid, sk);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);
	struct file_key file = {
		.ino = BPF_CORE_READ(inode, i_ino),
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
		.pad = 0,
	};
	int known = bpf_map_lookup_elem(&target_binaries, &file) != NULL;
	if (known) {
		__u8 one = 1;
		bpf_map_update_elem(&target_tgids, &tgid, &one, BPF_ANY);
	} else if (!notice_every_exec) {
		return 0;
	}
	struct qt_event *e = reserve(QT_NOTICE_EXEC, tgid);
	if (!e)
		return 0;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	bpf_ringbuf_submit(e, 0);
	return 0;
}
