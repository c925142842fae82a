/* policy.c - matching a request against security.policy entries, including
 * Wippy's declarative conditions (field, operator, value or value_from). */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "security/security.h"
#include "util/glob.h"

struct request {
    const struct actor *actor;
    const char *action;
    const char *resource;
    const struct value *meta;
    struct value action_value;
    struct value resource_value;
    struct value actor_id_value;
};

static bool any_pattern_matches(char *const *patterns, size_t count, const char *text)
{
    for (size_t i = 0; i < count; i++)
        if (glob_match(patterns[i], text))
            return true;
    return false;
}

/* Resolves "actor.id", "actor.meta.x", "action", "resource", "meta.x". */
static const struct value *resolve_field(const struct request *request, const char *path)
{
    if (strcmp(path, "action") == 0)
        return &request->action_value;
    if (strcmp(path, "resource") == 0)
        return &request->resource_value;
    if (strcmp(path, "actor.id") == 0)
        return request->actor != NULL ? &request->actor_id_value : NULL;
    if (strncmp(path, "actor.meta.", 11) == 0)
        return request->actor != NULL ? value_map_get_path(request->actor->meta, path + 11) : NULL;
    if (strncmp(path, "meta.", 5) == 0)
        return value_map_get_path(request->meta, path + 5);
    return NULL;
}

static bool as_number(const struct value *value, double *number)
{
    if (value->type == VALUE_INTEGER)
        *number = (double)value->as.integer;
    else if (value->type == VALUE_NUMBER)
        *number = value->as.number;
    else
        return false;
    return true;
}

/* Three-way comparison; returns false when the two cannot be ordered. */
static bool compare_values(const struct value *left, const struct value *right, int *order)
{
    double a, b;
    if (as_number(left, &a) && as_number(right, &b)) {
        *order = a < b ? -1 : a > b ? 1 : 0;
        return !isnan(a) && !isnan(b);
    }
    if (left->type == VALUE_STRING && right->type == VALUE_STRING) {
        *order = strcmp(left->as.string.bytes, right->as.string.bytes);
        return true;
    }
    if (left->type == VALUE_BOOLEAN && right->type == VALUE_BOOLEAN) {
        *order = (int)left->as.boolean - (int)right->as.boolean;
        return true;
    }
    return false;
}

static bool values_equal(const struct value *left, const struct value *right)
{
    int order;
    if (left == NULL || right == NULL)
        return left == right;
    if (left->type == VALUE_NULL || right->type == VALUE_NULL)
        return left->type == right->type;
    return compare_values(left, right, &order) && order == 0;
}

static bool value_in_list(const struct value *item, const struct value *list)
{
    if (list == NULL || list->type != VALUE_SEQUENCE)
        return values_equal(item, list);
    for (size_t i = 0; i < list->as.sequence.count; i++)
        if (values_equal(item, list->as.sequence.items[i]))
            return true;
    return false;
}

static bool regex_matches(const struct value *subject, const struct value *pattern)
{
    if (subject == NULL || subject->type != VALUE_STRING || pattern == NULL ||
        pattern->type != VALUE_STRING)
        return false;
    regex_t compiled;
    if (regcomp(&compiled, pattern->as.string.bytes, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool matched = regexec(&compiled, subject->as.string.bytes, 0, NULL, 0) == 0;
    regfree(&compiled);
    return matched;
}

static bool string_contains(const struct value *subject, const struct value *needle)
{
    return subject != NULL && subject->type == VALUE_STRING && needle != NULL &&
           needle->type == VALUE_STRING &&
           strstr(subject->as.string.bytes, needle->as.string.bytes) != NULL;
}

static bool condition_holds(const struct request *request, const struct value *condition)
{
    const char *field = value_map_get(condition, "field")->as.string.bytes;
    const char *operator_name = value_map_get(condition, "operator")->as.string.bytes;
    const struct value *subject = resolve_field(request, field);
    const struct value *expected = value_map_get(condition, "value");
    const struct value *value_from = value_map_get(condition, "value_from");
    if (value_from != NULL && value_from->type == VALUE_STRING)
        expected = resolve_field(request, value_from->as.string.bytes);

    int order = 0;
    bool ordered = subject != NULL && expected != NULL && compare_values(subject, expected, &order);
    if (strcmp(operator_name, "eq") == 0)
        return subject != NULL && values_equal(subject, expected);
    if (strcmp(operator_name, "ne") == 0)
        return !values_equal(subject, expected);
    if (strcmp(operator_name, "lt") == 0)
        return ordered && order < 0;
    if (strcmp(operator_name, "gt") == 0)
        return ordered && order > 0;
    if (strcmp(operator_name, "lte") == 0)
        return ordered && order <= 0;
    if (strcmp(operator_name, "gte") == 0)
        return ordered && order >= 0;
    if (strcmp(operator_name, "in") == 0)
        return subject != NULL && value_in_list(subject, expected);
    if (strcmp(operator_name, "nin") == 0)
        return subject == NULL || !value_in_list(subject, expected);
    if (strcmp(operator_name, "exists") == 0)
        return subject != NULL && subject->type != VALUE_NULL;
    if (strcmp(operator_name, "nexists") == 0)
        return subject == NULL || subject->type == VALUE_NULL;
    if (strcmp(operator_name, "contains") == 0)
        return string_contains(subject, expected);
    if (strcmp(operator_name, "ncontains") == 0)
        return !string_contains(subject, expected);
    if (strcmp(operator_name, "matches") == 0)
        return regex_matches(subject, expected);
    if (strcmp(operator_name, "nmatches") == 0)
        return !regex_matches(subject, expected);
    return false; /* an unknown operator never grants or denies anything */
}

static struct value string_view(const char *text)
{
    struct value view = {.type = VALUE_STRING};
    view.as.string.bytes = (char *)text;
    view.as.string.length = strlen(text);
    return view;
}

enum policy_result policy_evaluate(const struct entry *policy, const struct actor *actor,
                                   const char *action, const char *resource,
                                   const struct value *meta)
{
    const struct entry_policy *rules = &policy->as.policy;
    if (!any_pattern_matches(rules->actions, rules->action_count, action) ||
        !any_pattern_matches(rules->resources, rules->resource_count, resource))
        return POLICY_UNDEFINED;
    if (rules->conditions != NULL) {
        struct request request = {
            .actor = actor,
            .action = action,
            .resource = resource,
            .meta = meta,
            .action_value = string_view(action),
            .resource_value = string_view(resource),
            .actor_id_value = string_view(actor != NULL ? actor->id : ""),
        };
        for (size_t i = 0; i < rules->conditions->as.sequence.count; i++)
            if (!condition_holds(&request, rules->conditions->as.sequence.items[i]))
                return POLICY_UNDEFINED;
    }
    return rules->allow ? POLICY_ALLOW : POLICY_DENY;
}

enum policy_result scope_evaluate(const struct scope *scope, const struct actor *actor,
                                  const char *action, const char *resource,
                                  const struct value *meta)
{
    bool allowed = false;
    for (size_t i = 0; i < scope->count; i++) {
        enum policy_result result = policy_evaluate(scope->policies[i], actor, action, resource, meta);
        if (result == POLICY_DENY)
            return POLICY_DENY;
        allowed = allowed || result == POLICY_ALLOW;
    }
    return allowed ? POLICY_ALLOW : POLICY_UNDEFINED;
}

bool security_allows(const struct actor *actor, const struct scope *scope, bool strict_mode,
                     const char *action, const char *resource, const struct value *meta)
{
    if (actor == NULL || scope == NULL)
        return !strict_mode;
    return scope_evaluate(scope, actor, action, resource, meta) == POLICY_ALLOW;
}

const char *policy_result_name(enum policy_result result)
{
    switch (result) {
    case POLICY_ALLOW: return "allow";
    case POLICY_DENY: return "deny";
    case POLICY_UNDEFINED: break;
    }
    return "undefined";
}
