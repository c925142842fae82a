/* test_registry.c - loading entries and every load-error category. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "registry/config.h"
#include "registry/registry.h"
#include "test.h"

static char directory[64];

/* Writes text as <tmp>/_index.yaml next to an empty main.lua and loads it. */
static int load_text(const char *text, struct registry **out, struct wippy_error *error)
{
    snprintf(directory, sizeof directory, "/tmp/wippy-unit-XXXXXX");
    if (mkdtemp(directory) == NULL)
        return -100;
    char path[128];
    snprintf(path, sizeof path, "%s/_index.yaml", directory);
    FILE *file = fopen(path, "w");
    fputs(text, file);
    fclose(file);
    snprintf(path, sizeof path, "%s/main.lua", directory);
    file = fopen(path, "w");
    fputs("return {main = function() end}\n", file);
    fclose(file);
    int rc = registry_load(directory, out, error);
    char command[160];
    snprintf(command, sizeof command, "rm -rf %s", directory);
    if (system(command) != 0)
        return -101;
    return rc;
}

static const char *load_error(const char *text)
{
    static struct wippy_error error;
    struct registry *registry = NULL;
    if (load_text(text, &registry, &error) == 0) {
        registry_free(registry);
        return "(loaded without error)";
    }
    return error.message;
}

TEST(test_registry_loads_entries_and_resolves_bare_names)
{
    struct registry *registry = NULL;
    struct wippy_error error;
    int rc = load_text("namespace: app\n"
                       "entries:\n"
                       "  - name: tor\n"
                       "    kind: network.socks5\n"
                       "    host: 127.0.0.1\n"
                       "    port: 9050\n"
                       "  - name: worker\n"
                       "    kind: process.lua\n"
                       "    source: file://main.lua\n"
                       "    method: main\n"
                       "    modules: [json, time]\n"
                       "  - name: processes\n"
                       "    kind: process.host\n"
                       "  - name: service\n"
                       "    kind: process.service\n"
                       "    process: worker\n"
                       "    host: app:processes\n"
                       "    lifecycle: {auto_start: true}\n",
                       &registry, &error);
    CHECK_EQUAL(rc, 0);
    const struct entry *tor = registry_find(registry, "app:tor");
    CHECK(tor != NULL && tor->kind == ENTRY_NETWORK_SOCKS5 && tor->as.socks5.port == 9050);
    CHECK(!tor->as.socks5.isolate_streams);
    const struct entry *service = registry_find(registry, "app:service");
    CHECK_STRING(service->as.process_service.process_id, "app:worker");
    CHECK(service->as.process_service.lifecycle.auto_start);
    CHECK(registry_find(registry, "app:worker")->as.lua.module_count == 2);
    registry_free(registry);
}

TEST(test_registry_rejects_unknown_kind_with_file_line_and_id)
{
    const char *message = load_error("namespace: app\nentries:\n  - name: x\n    kind: nope.kind\n");
    CHECK_CONTAINS(message, "_index.yaml:4: entry app:x: field \"kind\": unknown kind \"nope.kind\"");
}

TEST(test_registry_rejects_missing_required_field)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: tor\n    kind: network.socks5\n    port: 9050\n");
    CHECK_CONTAINS(message, ":3: entry app:tor: field \"host\": is required");
}

TEST(test_registry_rejects_bad_field_types)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: tor\n    kind: network.socks5\n    host: h\n"
                                     "    port: 70000\n");
    CHECK_CONTAINS(message, ":6: entry app:tor: field \"port\": expected a port number from 1 to 65535");
    message = load_error("namespace: app\nentries:\n"
                         "  - name: tor\n    kind: network.socks5\n    host: h\n    port: 1\n"
                         "    isolate_streams: \"yes\"\n");
    CHECK_CONTAINS(message, ":7: entry app:tor: field \"isolate_streams\": expected true or false");
    message = load_error("namespace: app\nentries:\n"
                         "  - name: h\n    kind: process.host\n    lifecycle:\n      auto_start: 3\n");
    CHECK_CONTAINS(message, ":6: entry app:h: field \"lifecycle.auto_start\"");
}

TEST(test_registry_rejects_bad_durations)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: web\n    kind: http.service\n    addr: \":8080\"\n"
                                     "    timeouts:\n      read: 10 parsecs\n");
    CHECK_CONTAINS(message, ":7: entry app:web: field \"timeouts.read\": invalid duration \"10 parsecs\"");
}

TEST(test_registry_rejects_duplicate_ids)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: h\n    kind: process.host\n"
                                     "  - name: h\n    kind: terminal.host\n");
    CHECK_CONTAINS(message, ":5: entry app:h: duplicate id (first defined at ");
}

TEST(test_registry_rejects_dangling_references)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: s\n    kind: process.service\n"
                                     "    process: ghost\n    host: app:nohost\n");
    CHECK_CONTAINS(message, ":5: entry app:s: field \"process\": no entry named app:ghost");
}

TEST(test_registry_rejects_references_of_the_wrong_kind)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: h\n    kind: process.host\n"
                                     "  - name: s\n    kind: process.service\n"
                                     "    process: h\n    host: h\n");
    CHECK_CONTAINS(message, "field \"process\": app:h is a process.host, expected a process.lua entry");
}

TEST(test_registry_rejects_http_service_on_socks5_overlay)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: tor\n    kind: network.socks5\n    host: h\n    port: 9050\n"
                                     "  - name: web\n    kind: http.service\n    addr: \":8080\"\n"
                                     "    network: tor\n");
    CHECK_CONTAINS(message, ":10: entry app:web: field \"network\": app:tor is a SOCKS5 overlay");
}

TEST(test_registry_rejects_missing_source_file)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: p\n    kind: process.lua\n"
                                     "    source: file://missing.lua\n    method: main\n");
    CHECK_CONTAINS(message, ":5: entry app:p: field \"source\": cannot read ");
}

TEST(test_registry_rejects_bad_yaml_with_line)
{
    const char *message = load_error("namespace: app\nentries:\n  - name: [x\n");
    CHECK_CONTAINS(message, "_index.yaml:");
    CHECK_CONTAINS(message, "invalid YAML");
}

TEST(test_registry_checks_socks5_credentials)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: tor\n    kind: network.socks5\n    host: h\n    port: 1\n"
                                     "    username: u\n");
    CHECK_CONTAINS(message, "field \"password\": is required when username is set");
}

TEST(test_registry_requires_a_tailscale_auth_key)
{
    const char *message = load_error("namespace: app\nentries:\n"
                                     "  - name: tn\n    kind: network.tailscale\n");
    CHECK_CONTAINS(message, "entry app:tn: field \"auth_key\": auth_key or auth_key_env is required");
}

TEST(test_config_composes_files_and_set_overrides)
{
    struct config *config = NULL;
    struct wippy_error error;
    const char *sets[] = {"network_service.default_network=app:tor", "security.strict_mode=true"};
    CHECK(config_load(NULL, 0, false, sets, 2, &config, &error) == 0);
    CHECK_STRING(config->default_network, "app:tor");
    CHECK(config->strict_mode);
    CHECK_STRING(config->state_dir, "./.wippy/net");
    config_free(config);
    const char *bad[] = {"security.strict_mode=maybe"};
    CHECK(config_load(NULL, 0, false, bad, 1, &config, &error) == WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "security.strict_mode: expected true or false");
}

TEST(test_config_default_network_must_name_a_network_entry)
{
    struct config *config = NULL;
    struct wippy_error error;
    const char *sets[] = {"network_service.default_network=app:nope"};
    CHECK(config_load(NULL, 0, false, sets, 1, &config, &error) == 0);
    struct registry *registry = registry_new();
    CHECK_EQUAL(registry_finish(registry, &error), 0);
    CHECK_EQUAL(config_check_against(config, registry, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "overlay network \"app:nope\": not found");
    registry_free(registry);
    config_free(config);
}

TEST(test_config_reads_the_runtime_limits_with_their_defaults)
{
    struct config *config = NULL;
    struct wippy_error error;
    CHECK_EQUAL(config_load(NULL, 0, false, NULL, 0, &config, &error), WIPPY_OK);
    CHECK_EQUAL(config->time_slice_ns, 10000000);
    CHECK_EQUAL(config->unyieldable_limit_ns, INT64_C(5000000000));
    CHECK_EQUAL(config->max_call_depth, 1000);
    CHECK_EQUAL(config->max_inbox, 1000000);
    CHECK_EQUAL(config->memory_limit, 0);
    config_free(config);
    const char *sets[] = {"scheduler.time_slice=20ms", "scheduler.unyieldable_limit=0",
                          "funcs.max_depth=50", "process.max_inbox=10", "vm.memory_limit=512M"};
    CHECK_EQUAL(config_load(NULL, 0, false, sets, 5, &config, &error), WIPPY_OK);
    CHECK_EQUAL(config->time_slice_ns, 20000000);
    CHECK_EQUAL(config->unyieldable_limit_ns, 0);
    CHECK_EQUAL(config->max_call_depth, 50);
    CHECK_EQUAL(config->max_inbox, 10);
    CHECK_EQUAL(config->memory_limit, INT64_C(512) << 20);
    config_free(config);
}

TEST(test_config_refuses_what_it_cannot_read_in_its_own_sections)
{
    struct config *config = NULL;
    struct wippy_error error;
    const char *misspelt[] = {"scheduler.time_slise=1"};
    CHECK_EQUAL(config_load(NULL, 0, false, misspelt, 1, &config, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "scheduler.time_slise: unknown setting");
    const char *not_a_map[] = {"vm=1"};
    CHECK_EQUAL(config_load(NULL, 0, false, not_a_map, 1, &config, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "vm: expected a map of settings");
    const char *bad_size[] = {"vm.memory_limit=lots"};
    CHECK_EQUAL(config_load(NULL, 0, false, bad_size, 1, &config, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "vm.memory_limit: expected a size such as 512M or 1G");
    const char *short_slice[] = {"scheduler.time_slice=100us"};
    CHECK_EQUAL(config_load(NULL, 0, false, short_slice, 1, &config, &error), WIPPY_EINVAL);
    CHECK_CONTAINS(error.message, "scheduler.time_slice: expected a duration");
    const char *zero_depth[] = {"funcs.max_depth=0"};
    CHECK_EQUAL(config_load(NULL, 0, false, zero_depth, 1, &config, &error), WIPPY_EINVAL);
}
