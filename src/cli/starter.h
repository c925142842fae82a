/* starter.h - the starter project `wippy init --starter` writes: the
 * netdemo (examples/netdemo/src), built into the binary. */
#ifndef WIPPY_CLI_STARTER_H
#define WIPPY_CLI_STARTER_H

#include <stddef.h>

struct starter_file {
    const char *path; /* below the source directory */
    const unsigned char *bytes;
    size_t length;
};

extern const struct starter_file starter_files[];
extern const size_t starter_file_count;

#endif
