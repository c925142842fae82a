/* log.c - see log.h. */
#include "util/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/memory.h"

static enum log_level configured_level = LOG_INFO;
static enum log_format configured_format = LOG_FORMAT_TEXT;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void log_configure(enum log_level level, enum log_format format)
{
    configured_level = level;
    configured_format = format;
}

bool log_enabled(enum log_level level)
{
    return level <= configured_level;
}

bool log_is_json(void)
{
    return configured_format == LOG_FORMAT_JSON;
}

/* Writes object as one line and frees it; a line that cannot be made is
 * replaced by one that says so rather than lost silently. */
static void write_json(json_t *object)
{
    char *text = json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(object);
    flockfile(stderr);
    fputs(text != NULL ? text : "{\"level\":\"error\",\"msg\":\"a log line could not be written\"}", stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
    free(text);
}

/* Not UTF-8 (a Lua error may hold any bytes): kept, its other bytes
 * written as \xNN. */
static json_t *escaped_string(const char *bytes, size_t length)
{
    char *escaped = xmalloc(length * 4 + 1);
    size_t out = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c >= 0x80 || c == '\\')
            out += (size_t)snprintf(escaped + out, 5, "\\x%02x", c);
        else
            escaped[out++] = (char)c;
    }
    json_t *text = json_stringn(escaped, out);
    free(escaped);
    return text;
}

static json_t *new_record(enum log_level level, const char *logger, const char *message, size_t length)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char stamp[40];
    size_t used = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(stamp + used, sizeof stamp - used, ".%03ldZ", now.tv_nsec / 1000000);
    json_t *object = json_object();
    json_object_set_new(object, "level", json_string(level_names[level]));
    json_object_set_new(object, "ts", json_string(stamp));
    json_t *name = json_string(logger);
    json_object_set_new(object, "logger", name != NULL ? name : escaped_string(logger, strlen(logger)));
    json_t *text = json_stringn(message, length);
    if (text == NULL)
        text = escaped_string(message, length);
    json_object_set_new(object, "msg", text);
    return object;
}

/* A message as one record whatever it holds (a Lua error, a request
 * path): its further lines are indented, so none reads as a line of its
 * own ("wippy: ..."), and other control bytes are written as \xNN. */
static void write_text(const char *message, size_t length)
{
    size_t start = 0;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)message[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        if (c == '\t')
            continue;
        fwrite(message + start, 1, i - start, stderr);
        if (c == '\n')
            fputs("\n    ", stderr);
        else
            fprintf(stderr, "\\x%02x", c);
        start = i + 1;
    }
    fwrite(message + start, 1, length - start, stderr);
}

void log_bytes(enum log_level level, const char *message, size_t length, bool bare)
{
    if (!log_enabled(level))
        return;
    if (configured_format == LOG_FORMAT_JSON) {
        write_json(new_record(level, "wippy", message, length));
        return;
    }
    flockfile(stderr); /* one line whole, whatever the other threads write */
    if (!bare)
        fputs("wippy: ", stderr);
    write_text(message, length);
    fputc('\n', stderr);
    funlockfile(stderr);
}

void log_vmessage(enum log_level level, const char *format, va_list args)
{
    if (!log_enabled(level))
        return;
    char *text = NULL;
    int length = vasprintf(&text, format, args);
    if (length < 0) {
        log_bytes(level, format, strlen(format), false);
        return;
    }
    log_bytes(level, text, (size_t)length, false);
    free(text);
}

void log_message(enum log_level level, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    log_vmessage(level, format, args);
    va_end(args);
}

void log_json_record(enum log_level level, const char *logger, const char *message, size_t length,
                     const char *fields_json)
{
    json_t *object = new_record(level, logger, message, length);
    if (fields_json != NULL) {
        json_t *fields = json_loads(fields_json, JSON_ALLOW_NUL, NULL);
        if (fields != NULL)
            json_object_set_new(object, "fields", fields);
    }
    write_json(object);
}
