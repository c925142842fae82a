/* descriptors.c - see descriptors.h.
 *
 * The kernel grows a process's descriptor table by doubling (64, 128,
 * 256, ...). Once the process has a second thread, each growth waits for
 * an RCU grace period before it frees the old table, and the thread that
 * opened the descriptor sleeps meanwhile: about 10 ms on the machines
 * measured, three times over on the way to the first 300 connections, with
 * the event loop stopped in socket() or accept(). Grown once while the
 * process is single-threaded, the table never needs to grow again for the
 * descriptors most runs use; it costs the kernel 8 bytes a slot. */
#include "util/descriptors.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

void descriptors_prepare(void)
{
    /* Every overlay connection through a bridge holds three descriptors
     * (curl's end, the bridge's, the peer's): allow as many as the system
     * lets us. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) != 0)
        return;
    if (files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &files) != 0)
            getrlimit(RLIMIT_NOFILE, &files);
    }
    rlim_t slots = files.rlim_cur < DESCRIPTORS_RESERVED ? files.rlim_cur : DESCRIPTORS_RESERVED;
    if (slots == 0)
        return;
    int probe = eventfd(0, EFD_CLOEXEC);
    if (probe < 0)
        return;
    /* The lowest free descriptor at or above the last slot: the table grows
     * to hold it, and keeps its size once it is closed. */
    int highest = fcntl(probe, F_DUPFD_CLOEXEC, (int)slots - 1);
    if (highest >= 0)
        close(highest);
    close(probe);
}
