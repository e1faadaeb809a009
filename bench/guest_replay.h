/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_replay's replay of a guest trace against dmar and the peers (guest_replay.c). */
#ifndef DMAR_BENCH_GUEST_REPLAY_H
#define DMAR_BENCH_GUEST_REPLAY_H

/* Whether @path is a trace recorded inside an emulator (its scenario starts "qemu-guest"). */
int guest_replay_is_guest_trace(const char *path);

/* Load the guest trace @path, build its tables and caches (untimed) and register
 * replay/guest/{dmar_single,dmar_batch,qemu,rculfhash}: 0, or -1 with a message on stderr. */
int guest_replay_register(const char *path);

#endif
