/* typed_lua.c - a tokenizer of Lua 5.4 (names, numbers, strings, long
 * brackets, comments, symbols) and a walk over its tokens that finds the
 * places types can be written and blanks them. Types are read by a small
 * grammar (names with dots and generic arguments, table and function
 * types, unions, optionals, literals, varargs); what it cannot read is an
 * error at its line and column, never a guess. */
#include "vm/typed_lua.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/memory.h"

enum kind { K_NAME, K_NUMBER, K_STRING, K_SYMBOL, K_END };

/* How far past the end the walk may look (three tokens at most). */
#define LOOKAHEAD 4

struct token {
    enum kind kind;
    size_t start;
    size_t end;
};

struct walk {
    char *source;
    size_t length;
    struct token *tokens;
    size_t count;
    struct wippy_error *error;
    bool failed;
    int depth; /* of types inside types: bounded, the C stack is */
};

#define MAX_TYPE_DEPTH 200

/* ---- tokens ---- */

/* The level of a long bracket opening at i ("[==[" is 2), or -1. */
static int long_bracket(const char *s, size_t length, size_t i)
{
    if (i >= length || s[i] != '[')
        return -1;
    size_t j = i + 1;
    while (j < length && s[j] == '=')
        j++;
    return j < length && s[j] == '[' ? (int)(j - i - 1) : -1;
}

/* Where a long bracket of level opened at i ends (past its close). */
static size_t skip_long(const char *s, size_t length, size_t i, int level)
{
    size_t j = i + (size_t)level + 2;
    while (j < length) {
        if (s[j] == ']') {
            size_t k = j + 1;
            while (k < length && s[k] == '=')
                k++;
            if (k < length && s[k] == ']' && (int)(k - j - 1) == level)
                return k + 1;
        }
        j++;
    }
    return length;
}

/* Past the quoted string opening at i, as Lua's lexer reads it: a
 * backslash escapes the next byte, a backslash and a line break (\r\n and
 * \n\r are one) continue the string, \z skips the white space after it
 * (line breaks included), and a line break without a backslash ends it
 * (unfinished: Lua says so). */
static size_t skip_quoted(const char *s, size_t length, size_t i)
{
    char quote = s[i++];
    while (i < length && s[i] != quote && s[i] != '\n' && s[i] != '\r') {
        if (s[i] != '\\' || i + 1 >= length) {
            i++;
        } else if (s[i + 1] == 'z') {
            i += 2;
            while (i < length && isspace((unsigned char)s[i]))
                i++;
        } else if ((s[i + 1] == '\r' || s[i + 1] == '\n') && i + 2 < length &&
                   (s[i + 2] == '\r' || s[i + 2] == '\n') && s[i + 2] != s[i + 1]) {
            i += 3;
        } else {
            i += 2;
        }
    }
    return i < length && s[i] == quote ? i + 1 : i;
}

static const char *const symbols[] = {"...", "..", "::", "->", "==", "~=", "<=", ">=", "//", "<<", ">>", NULL};

static void tokenize(struct walk *walk)
{
    const char *s = walk->source;
    size_t length = walk->length, capacity = 0, i = 0;
    while (true) {
        while (i < length && isspace((unsigned char)s[i]))
            i++;
        if (i + 1 < length && s[i] == '-' && s[i + 1] == '-') {
            int level = long_bracket(s, length, i + 2);
            if (level >= 0) {
                i = skip_long(s, length, i + 2, level);
            } else {
                while (i < length && s[i] != '\n' && s[i] != '\r')
                    i++;
            }
            continue;
        }
        if (walk->count + LOOKAHEAD >= capacity) {
            capacity = capacity > 0 ? capacity * 2 : 256;
            walk->tokens = xrealloc(walk->tokens, capacity * sizeof *walk->tokens);
        }
        struct token *token = &walk->tokens[walk->count++];
        token->start = i;
        if (i >= length) {
            token->kind = K_END;
            token->end = i;
            /* end tokens to look ahead into; walk->count stays at the first */
            for (size_t extra = 1; extra <= LOOKAHEAD; extra++)
                walk->tokens[walk->count - 1 + extra] = *token;
            return;
        }
        unsigned char c = (unsigned char)s[i];
        if (isalpha(c) || c == '_') {
            while (i < length && (isalnum((unsigned char)s[i]) || s[i] == '_'))
                i++;
            token->kind = K_NAME;
        } else if (isdigit(c) || (c == '.' && i + 1 < length && isdigit((unsigned char)s[i + 1]))) {
            while (i < length && (isalnum((unsigned char)s[i]) || s[i] == '.' ||
                                  ((s[i] == '+' || s[i] == '-') && strchr("eEpP", s[i - 1]) != NULL)))
                i++;
            token->kind = K_NUMBER;
        } else if (c == '"' || c == '\'') {
            i = skip_quoted(s, length, i);
            token->kind = K_STRING;
        } else if (long_bracket(s, length, i) >= 0) {
            i = skip_long(s, length, i, long_bracket(s, length, i));
            token->kind = K_STRING;
        } else {
            token->kind = K_SYMBOL;
            size_t width = 1;
            for (const char *const *symbol = symbols; *symbol != NULL; symbol++) {
                size_t n = strlen(*symbol);
                if (i + n <= length && memcmp(s + i, *symbol, n) == 0) {
                    width = n;
                    break;
                }
            }
            i += width;
        }
        token->end = i;
    }
}

static bool is(const struct walk *walk, size_t at, const char *text)
{
    const struct token *token = &walk->tokens[at];
    size_t n = strlen(text);
    return token->kind != K_END && token->end - token->start == n &&
           memcmp(walk->source + token->start, text, n) == 0;
}

static bool is_name(const struct walk *walk, size_t at)
{
    return walk->tokens[at].kind == K_NAME;
}

static const char *const keywords[] = {"and", "break", "do", "else", "elseif", "end", "false", "for",
                                       "function", "goto", "if", "in", "local", "nil", "not", "or",
                                       "repeat", "return", "then", "true", "until", "while", NULL};

static bool is_keyword(const struct walk *walk, size_t at)
{
    for (const char *const *keyword = keywords; *keyword != NULL; keyword++)
        if (is(walk, at, *keyword))
            return true;
    return false;
}

/* True when only white space comes before the token on its line. */
static bool first_on_line(const struct walk *walk, size_t at)
{
    for (size_t i = walk->tokens[at].start; i > 0; i--) {
        char c = walk->source[i - 1];
        if (c == '\n' || c == '\r')
            return true;
        if (c != ' ' && c != '\t')
            return false;
    }
    return true;
}

/* ---- errors and erasing ---- */

static size_t fail(struct walk *walk, size_t at, const char *what)
{
    if (!walk->failed) {
        size_t offset = walk->tokens[at].start, line = 1, column = 1;
        for (size_t i = 0; i < offset; i++) {
            if (walk->source[i] == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        error_set(walk->error, WIPPY_EINVAL, "%zu:%zu: %s", line, column, what);
        walk->failed = true;
    }
    return walk->count - 1; /* the end token: every walk stops there */
}

/* Blanks tokens [from, to) and what lies between them, line breaks kept. */
static void erase(struct walk *walk, size_t from, size_t to)
{
    if (to <= from)
        return;
    for (size_t i = walk->tokens[from].start; i < walk->tokens[to - 1].end; i++)
        if (walk->source[i] != '\n' && walk->source[i] != '\r')
            walk->source[i] = ' ';
}

/* ---- types ---- */

static size_t skip_type(struct walk *walk, size_t at);
static size_t skip_single_type(struct walk *walk, size_t at, bool cast);

/* Past the bracket group opening at `at` ((, {, [ or <). */
static size_t skip_group(struct walk *walk, size_t at)
{
    bool angle = is(walk, at, "<");
    int depth = 0;
    for (size_t i = at; walk->tokens[i].kind != K_END; i++) {
        if (is(walk, i, "(") || is(walk, i, "{") || is(walk, i, "[") || (angle && is(walk, i, "<")))
            depth++;
        else if (is(walk, i, ")") || is(walk, i, "}") || is(walk, i, "]") || (angle && is(walk, i, ">")))
            depth--;
        else if (angle && is(walk, i, ">>"))
            depth -= 2;
        else if (angle && is(walk, i, ">="))
            return fail(walk, i, "write a space between > and = after generic arguments");
        if (depth <= 0)
            return i + 1;
    }
    return fail(walk, at, "this bracket is never closed");
}

static bool starts_type(const struct walk *walk, size_t at)
{
    return (is_name(walk, at) && (!is_keyword(walk, at) || is(walk, at, "nil") || is(walk, at, "true") ||
                                  is(walk, at, "false") || is(walk, at, "function"))) ||
           walk->tokens[at].kind == K_STRING || walk->tokens[at].kind == K_NUMBER || is(walk, at, "(") ||
           is(walk, at, "{") || is(walk, at, "<") || is(walk, at, "...");
}

/* A Lua 5.4 attribute (<const>, <close>) at `at`, not generic arguments. */
static bool is_attribute(const struct walk *walk, size_t at)
{
    return is(walk, at, "<") && (is(walk, at + 1, "const") || is(walk, at + 1, "close")) && is(walk, at + 2, ">");
}

/* One type. In a cast (`value as T`) generic arguments must touch their
 * name (`Box<T>`), so `x as number < 5` stays a comparison. */
static size_t skip_single_type(struct walk *walk, size_t at, bool cast)
{
    if (!starts_type(walk, at))
        return fail(walk, at, "expected a type");
    if (is(walk, at, "readonly") && starts_type(walk, at + 1))
        at++;
    if (is(walk, at, "...")) {
        at++;
        if (starts_type(walk, at) && !is(walk, at, "..."))
            at = skip_single_type(walk, at, cast);
    } else if (is(walk, at, "<") || is(walk, at, "(")) {
        if (is(walk, at, "<"))
            at = skip_group(walk, at); /* a generic function type: <T>(T) -> T */
        if (!is(walk, at, "("))
            return fail(walk, at, "expected ( after a generic type's parameters");
        at = skip_group(walk, at);
        if (is(walk, at, "->"))
            at = skip_type(walk, at + 1);
    } else if (is(walk, at, "{")) {
        at = skip_group(walk, at);
    } else if (walk->tokens[at].kind == K_STRING || walk->tokens[at].kind == K_NUMBER) {
        at++;
    } else if (is(walk, at, "typeof") && is(walk, at + 1, "(")) {
        at = skip_group(walk, at + 1);
    } else {
        at++;
        while (is(walk, at, ".") && is_name(walk, at + 1))
            at += 2;
        bool touching = walk->tokens[at].start == walk->tokens[at - 1].end;
        if (is(walk, at, "<") && !is_attribute(walk, at) && (!cast || touching))
            at = skip_group(walk, at);
    }
    /* T?, T[], and validation annotations: string @min_len(2) */
    while (!walk->failed) {
        if (is(walk, at, "?")) {
            at++;
        } else if (is(walk, at, "[") && is(walk, at + 1, "]")) {
            at += 2;
        } else if (is(walk, at, "@") && is_name(walk, at + 1)) {
            at += 2;
            if (is(walk, at, "("))
                at = skip_group(walk, at);
        } else {
            break;
        }
    }
    return at;
}

/* Past the type starting at `at`: unions and intersections of single types. */
static size_t skip_type(struct walk *walk, size_t at)
{
    if (++walk->depth > MAX_TYPE_DEPTH)
        return fail(walk, at, "types nested too deeply");
    at = skip_single_type(walk, at, false);
    while (!walk->failed && (is(walk, at, "|") || is(walk, at, "&")))
        at = skip_single_type(walk, at + 1, false);
    walk->depth--;
    return at;
}

/* The type of a cast: one type, so `x as integer | FLAG` is not read as a
 * union (Lua's bitwise or); a union must be in parentheses. */
static size_t skip_cast_type(struct walk *walk, size_t at)
{
    if (++walk->depth > MAX_TYPE_DEPTH)
        return fail(walk, at, "types nested too deeply");
    at = skip_single_type(walk, at, true);
    walk->depth--;
    if (!walk->failed && (is(walk, at, "|") || is(walk, at, "&")))
        return fail(walk, at, "after a cast, | and & are ambiguous: write a union type in parentheses "
                              "(value as (A | B)), or the operation in parentheses ((value as T) | x)");
    return at;
}

/* `: Type` at `at` (the colon), if there: erased; returns what follows. */
static size_t erase_annotation(struct walk *walk, size_t at)
{
    if (!is(walk, at, ":"))
        return at;
    size_t end = skip_type(walk, at + 1);
    erase(walk, at, end);
    return end;
}

/* ---- where types are written ---- */

/* True when a statement can start after the token before `at` (the
 * previous token kept), so a `type` there is not a use of the name. */
static bool at_statement_start(const struct walk *walk, size_t previous, bool none)
{
    if (none)
        return true;
    static const char *const continuing[] = {"local", "function", "return", "and", "or", "not", "if",
                                             "elseif", "while", "until", "for", "in", "goto", NULL};
    if (is_name(walk, previous)) {
        for (const char *const *word = continuing; *word != NULL; word++)
            if (is(walk, previous, *word))
                return false;
        return true;
    }
    return walk->tokens[previous].kind != K_SYMBOL || is(walk, previous, ")") || is(walk, previous, "]") ||
           is(walk, previous, "}") || is(walk, previous, ";") || is(walk, previous, "...");
}

/* True when the token can end an expression, so `as` after it is a cast. */
static bool ends_expression(const struct walk *walk, size_t at)
{
    const struct token *token = &walk->tokens[at];
    if (token->kind == K_NUMBER || token->kind == K_STRING)
        return true;
    if (token->kind == K_NAME)
        return !is_keyword(walk, at) || is(walk, at, "nil") || is(walk, at, "true") || is(walk, at, "false");
    return is(walk, at, ")") || is(walk, at, "]") || is(walk, at, "}") || is(walk, at, "...");
}

/* type Name[<...>] = Type, with `export` before it or not. */
static size_t erase_alias(struct walk *walk, size_t from, size_t name)
{
    size_t at = name + 1;
    if (is(walk, at, "<"))
        at = skip_group(walk, at);
    if (!is(walk, at, "="))
        return fail(walk, at, "expected = in a type alias");
    at = skip_type(walk, at + 1);
    erase(walk, from, at);
    return at;
}

/* Names of `local` or `for`, each with its annotation; Lua 5.4 attributes
 * (<const>, <close>) stay. */
static size_t erase_name_list(struct walk *walk, size_t at)
{
    while (is_name(walk, at) && !is_keyword(walk, at)) {
        at = erase_annotation(walk, at + 1);
        if (is(walk, at, "<") && is_name(walk, at + 1) && is(walk, at + 2, ">"))
            at += 3;
        if (!is(walk, at, ","))
            break;
        at++;
    }
    return at;
}

/* After `function`: name, generic parameters, parameters, return type. */
static size_t erase_signature(struct walk *walk, size_t at)
{
    if (is_name(walk, at)) {
        at++;
        while ((is(walk, at, ".") || is(walk, at, ":")) && is_name(walk, at + 1))
            at += 2;
    }
    if (is(walk, at, "<")) {
        size_t end = skip_group(walk, at);
        erase(walk, at, end);
        at = end;
    }
    if (!is(walk, at, "("))
        return at; /* not a function we can read: Lua will say why */
    at++;
    while (!walk->failed && !is(walk, at, ")") && walk->tokens[at].kind != K_END) {
        if (is_name(walk, at) || is(walk, at, "..."))
            at = erase_annotation(walk, at + 1);
        if (is(walk, at, ","))
            at++;
        else if (!is(walk, at, ")"))
            return at; /* Lua will say why */
    }
    return erase_annotation(walk, at + 1);
}

int typed_lua_erase(char *source, size_t length, struct wippy_error *error)
{
    if (length > TYPED_LUA_MAX_SOURCE)
        return error_set(error, WIPPY_EINVAL, "1:1: the file is larger than %d MiB", TYPED_LUA_MAX_SOURCE >> 20);
    struct walk walk = {.source = source, .length = length, .error = error};
    tokenize(&walk);
    size_t previous = 0;
    bool none = true;
    size_t at = 0;
    while (!walk.failed && walk.tokens[at].kind != K_END) {
        size_t next = at + 1;
        if (is(&walk, at, "type") && is_name(&walk, at + 1) && !is_keyword(&walk, at + 1) &&
            (is(&walk, at + 2, "=") || is(&walk, at + 2, "<")) && at_statement_start(&walk, previous, none)) {
            at = erase_alias(&walk, at, at + 1);
            continue;
        }
        if (is(&walk, at, "export") && is(&walk, at + 1, "type") && is_name(&walk, at + 2) &&
            at_statement_start(&walk, previous, none)) {
            at = erase_alias(&walk, at, at + 2);
            continue;
        }
        if (is(&walk, at, "as") && !none && ends_expression(&walk, previous) && starts_type(&walk, at + 1)) {
            if (first_on_line(&walk, at) &&
                (is(&walk, at + 1, "(") || is(&walk, at + 1, "{") || walk.tokens[at + 1].kind == K_STRING)) {
                fail(&walk, at, "`as` first on its line and followed by (, { or a string could be a call of a "
                                "function named as or a cast: keep a cast on the line of its value");
                break;
            }
            size_t end = skip_cast_type(&walk, at + 1);
            erase(&walk, at, end);
            at = end;
            continue;
        }
        if (is(&walk, at, "!") && !is(&walk, at + 1, "=") && !none && ends_expression(&walk, previous)) {
            erase(&walk, at, at + 1); /* the non-nil assertion: value! */
            at++;
            continue;
        }
        if (is(&walk, at, "local") && !is(&walk, at + 1, "function"))
            next = erase_name_list(&walk, at + 1);
        else if (is(&walk, at, "for"))
            next = erase_name_list(&walk, at + 1);
        else if (is(&walk, at, "function"))
            next = erase_signature(&walk, at + 1);
        else if (is(&walk, at, "::")) {
            /* a label starts its line or follows what cannot end a value;
             * after a value, `:: T` is a cast */
            bool after_value = !none && ends_expression(&walk, previous) && !first_on_line(&walk, at) &&
                               !(previous > 0 && is(&walk, previous - 1, "goto"));
            if (is_name(&walk, at + 1) && is(&walk, at + 2, "::") && !after_value) {
                next = at + 3;
            } else {
                size_t end = skip_cast_type(&walk, at + 1);
                erase(&walk, at, end);
                at = end;
                continue;
            }
        }
        /* the last token kept before `next`: what a statement start is judged by */
        for (size_t i = next; i > at; i--) {
            bool blank = true;
            for (size_t b = walk.tokens[i - 1].start; b < walk.tokens[i - 1].end; b++)
                blank = blank && source[b] == ' ';
            if (!blank) {
                previous = i - 1;
                none = false;
                break;
            }
        }
        at = next;
    }
    free(walk.tokens);
    return walk.failed ? error->code : WIPPY_OK;
}
