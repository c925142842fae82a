/* time_zone.h - time zones as Go's time package knows them: UTC, fixed
 * offsets, TZif files (RFC 8536) and POSIX TZ rules, without the process's TZ. */
#ifndef WIPPY_UTIL_TIME_ZONE_H
#define WIPPY_UTIL_TIME_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* The largest TZif input time_zone_from_tzif accepts; a reader needs to read
 * at most one byte more than this to know a file is too large. */
#define TIME_ZONE_TZIF_MAX_BYTES (128 * 1024)
/* The longest zone name time_zone_path accepts ("America/Argentina/ComodRivadavia"
 * is 32 bytes). */
#define TIME_ZONE_NAME_MAX 255

/* A zone: immutable once made, so any thread may look times up in it at
 * once; reference counted with atomic counts. Each maker returns one
 * reference, which its caller gives back with time_zone_release. */
struct time_zone;

/* The zone "UTC" (offset 0, abbreviation "UTC"). It is static: retaining and
 * releasing it do nothing, so it may be treated like any other zone. */
struct time_zone *time_zone_utc(void);

/* A zone that is always offset_seconds east of UTC, named and abbreviated
 * name (Go's time.FixedZone). NULL is taken as "". Never fails. */
struct time_zone *time_zone_fixed(const char *name, int offset_seconds);

/* Parses the length bytes of a TZif file (version 1, or 2 and later: 2, 3,
 * 4 and any digit above are read as version 2+ data, whose 64-bit block and
 * footer are used; the footer's POSIX TZ rule covers every instant from the
 * last transition on) into *out, named name (NULL is taken as "").
 * Leap-second records are read past and ignored, as Go does. Refuses
 * data that is truncated, inconsistent, larger than TIME_ZONE_TZIF_MAX_BYTES
 * or with absurd counts: WIPPY_EINVAL, *out untouched and a one-line message
 * naming name and what is wrong with the data. data is not kept. */
int time_zone_from_tzif(const char *name, const unsigned char *data, size_t length,
                        struct time_zone **out, struct wippy_error *error);

/* Parses a POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0", "<+0330>-3:30",
 * "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0") into a zone named name (NULL: the
 * rule itself). Accepts RFC 8536's extension (transition times from -167 to
 * 167 hours); a daylight name without dates gets the US dates, as in tzcode
 * and Go. Returns WIPPY_EINVAL with a message naming name, the rule and the
 * fault when the text is not such a rule. */
int time_zone_from_posix(const char *name, const char *rule, struct time_zone **out,
                         struct wippy_error *error);

/* Adds a reference to zone and returns it (NULL stays NULL). */
struct time_zone *time_zone_retain(struct time_zone *zone);

/* Gives back one reference; the last one frees the zone. NULL is ignored. */
void time_zone_release(struct time_zone *zone);

/* The name the zone was made with ("America/New_York", "EST", "UTC"). */
const char *time_zone_name(const struct time_zone *zone);

/* Stores (where the pointers are not NULL) the offset east of UTC in seconds
 * and the abbreviation in effect at unix_seconds. The abbreviation lives as
 * long as the zone. Instants before the first transition get the type Go
 * would pick (usually local mean time, "LMT"). A POSIX rule reads each UTC
 * calendar year on its own, as Go and glibc do (so a rule whose dates wrap
 * past New Year behaves as theirs does). From 1970 on the results are Go's;
 * before 1970 a rule here keeps to the calendar where Go's misplaces days. */
void time_zone_lookup(const struct time_zone *zone, int64_t unix_seconds, int *offset,
                      const char **abbreviation);

/* The Unix seconds of a wall-clock time in zone, given as local_seconds (the
 * seconds of that wall-clock time read as if it were UTC). A time that occurs
 * twice or never is resolved as Go's time.Date resolves it: the offset in
 * effect at local_seconds read as UTC is kept if local_seconds minus it lies
 * in that offset's period, otherwise the offset in effect at that instant is
 * used. In America/New_York this gives 2021-11-07 01:30 as 01:30 EDT (the
 * first), 2021-03-14 02:30 (skipped) as 01:30 EST, and in Europe/London
 * 2021-10-31 01:30 as 01:30 GMT (the second). Saturates rather than wraps at
 * the ends of int64_t. */
int64_t time_zone_unix_from_local(const struct time_zone *zone, int64_t local_seconds);

/* Writes to path the file that holds the zone named name (name_length bytes,
 * which may come from hostile code): the directory named by the ZONEINFO
 * environment variable when it is set and not empty, else
 * /usr/share/zoneinfo, then "/" and name. Refuses, with WIPPY_EINVAL and a
 * message saying why, a name that is empty, longer than TIME_ZONE_NAME_MAX,
 * absolute, or holds a NUL, a backslash, a control character, an empty
 * component or a "." or ".." component; and a path that does not fit size.
 * Reading the file is the caller's business. */
int time_zone_path(const char *name, size_t name_length, char *path, size_t size,
                   struct wippy_error *error);

#endif
