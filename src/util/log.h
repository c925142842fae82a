/* log.h - the runtime's own lines on stderr: "wippy: message" as people
 * read them, or one JSON object per line for machines (--log-format json).
 * The level (-q, default, -v, -vv) and the format are set once at start,
 * before any thread, and only read afterwards. */
#ifndef WIPPY_UTIL_LOG_H
#define WIPPY_UTIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
    LOG_ERROR, /* something failed: always shown */
    LOG_WARN,  /* something went wrong and was handled: shown unless... never hidden by -q */
    LOG_INFO,  /* what an operator wants to see (listening on ...): hidden by -q */
    LOG_DEBUG, /* -v: what the runtime does, tracebacks of Lua errors */
    LOG_TRACE, /* -vv: every request served and made */
};

enum log_format {
    LOG_FORMAT_TEXT,
    LOG_FORMAT_JSON,
};

void log_configure(enum log_level level, enum log_format format);
bool log_enabled(enum log_level level);
bool log_is_json(void);

/* One line: "wippy: <message>" or {"level":..,"ts":..,"logger":"wippy","msg":..}. */
void log_message(enum log_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));
void log_vmessage(enum log_level level, const char *format, va_list args) __attribute__((format(printf, 2, 0)));

/* Same with a message given as bytes (it may hold anything: JSON escapes
 * it; text prints it as it is) and with no "wippy: " prefix in text when
 * bare (a command's own error output). */
void log_bytes(enum log_level level, const char *message, size_t length, bool bare);

/* A record of the Lua logger module in JSON: logger name, message and the
 * fields (a JSON object's text, or NULL). */
void log_json_record(enum log_level level, const char *logger, const char *message, size_t length,
                     const char *fields_json);

#endif
