/* main.c - runs every unit test, prints one line per test and the closing
 * line "N passed, N failed". The list is kept in step with the TEST()s of
 * the test_*.c files by tests/unit/list.sh (make checks it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

char test_failure[4096];

TEST(test_root_uses_default_then_direct);
TEST(test_depth_four_chain_inherits_the_selection);
TEST(test_child_override_leaves_parent_and_siblings_alone);
TEST(test_default_never_overrides_an_inherited_choice);
TEST(test_explicit_call_selection_wins_over_everything);
TEST(test_context_and_security_are_inherited_and_copied);
TEST(test_private_address_knows_local_ranges);
TEST(test_private_address_passes_names_and_public_addresses);
TEST(test_registry_loads_entries_and_resolves_bare_names);
TEST(test_registry_rejects_unknown_kind_with_file_line_and_id);
TEST(test_registry_rejects_missing_required_field);
TEST(test_registry_rejects_bad_field_types);
TEST(test_registry_rejects_bad_durations);
TEST(test_registry_rejects_duplicate_ids);
TEST(test_registry_rejects_dangling_references);
TEST(test_registry_rejects_references_of_the_wrong_kind);
TEST(test_registry_rejects_http_service_on_socks5_overlay);
TEST(test_registry_rejects_missing_source_file);
TEST(test_registry_rejects_bad_yaml_with_line);
TEST(test_registry_checks_socks5_credentials);
TEST(test_registry_requires_a_tailscale_auth_key);
TEST(test_config_composes_files_and_set_overrides);
TEST(test_config_default_network_must_name_a_network_entry);
TEST(test_sam_lines_are_split_and_bytes_after_them_kept);
TEST(test_sam_replies_parse_with_quoted_values);
TEST(test_sam_every_result_is_named);
TEST(test_sam_malformed_replies_are_errors);
TEST(test_sam_commands_quote_what_needs_it);
TEST(test_i2p_addresses);
TEST(test_policy_evaluation_table);
TEST(test_deny_wins_over_allow);
TEST(test_without_actor_or_scope_strict_mode_decides);
TEST(test_policy_conditions_on_actor_metadata);
TEST(test_scope_with_and_without_return_new_scopes);
TEST(test_socks5_greeting_offers_no_auth_only_without_credentials);
TEST(test_socks5_greeting_offers_both_methods_with_credentials);
TEST(test_socks5_sends_hostnames_as_domain_names_never_resolved);
TEST(test_socks5_sends_ip_literals_as_addresses);
TEST(test_socks5_refuses_hostnames_longer_than_255_bytes);
TEST(test_socks5_connect_succeeds_and_keeps_bytes_after_the_reply);
TEST(test_socks5_reply_codes_become_readable_errors);
TEST(test_socks5_refusal_is_reported_without_waiting_for_the_address);
TEST(test_socks5_malformed_replies_are_errors);
TEST(test_socks5_wrong_password_is_an_authentication_error);
TEST(test_socks5_truncated_reply_waits_for_more);
TEST(test_duration_parses_go_syntax_and_seconds);
TEST(test_duration_rejects_garbage_with_the_text);
TEST(test_glob_matches_stars_anywhere);
TEST(test_yaml_resolves_plain_scalars_like_yaml_1_2);
TEST(test_yaml_reports_syntax_errors_and_duplicate_keys_with_lines);
TEST(test_value_merge_overlays_maps_per_key);

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
    {"test_root_uses_default_then_direct", test_root_uses_default_then_direct},
    {"test_depth_four_chain_inherits_the_selection", test_depth_four_chain_inherits_the_selection},
    {"test_child_override_leaves_parent_and_siblings_alone", test_child_override_leaves_parent_and_siblings_alone},
    {"test_default_never_overrides_an_inherited_choice", test_default_never_overrides_an_inherited_choice},
    {"test_explicit_call_selection_wins_over_everything", test_explicit_call_selection_wins_over_everything},
    {"test_context_and_security_are_inherited_and_copied", test_context_and_security_are_inherited_and_copied},
    {"test_private_address_knows_local_ranges", test_private_address_knows_local_ranges},
    {"test_private_address_passes_names_and_public_addresses", test_private_address_passes_names_and_public_addresses},
    {"test_registry_loads_entries_and_resolves_bare_names", test_registry_loads_entries_and_resolves_bare_names},
    {"test_registry_rejects_unknown_kind_with_file_line_and_id", test_registry_rejects_unknown_kind_with_file_line_and_id},
    {"test_registry_rejects_missing_required_field", test_registry_rejects_missing_required_field},
    {"test_registry_rejects_bad_field_types", test_registry_rejects_bad_field_types},
    {"test_registry_rejects_bad_durations", test_registry_rejects_bad_durations},
    {"test_registry_rejects_duplicate_ids", test_registry_rejects_duplicate_ids},
    {"test_registry_rejects_dangling_references", test_registry_rejects_dangling_references},
    {"test_registry_rejects_references_of_the_wrong_kind", test_registry_rejects_references_of_the_wrong_kind},
    {"test_registry_rejects_http_service_on_socks5_overlay", test_registry_rejects_http_service_on_socks5_overlay},
    {"test_registry_rejects_missing_source_file", test_registry_rejects_missing_source_file},
    {"test_registry_rejects_bad_yaml_with_line", test_registry_rejects_bad_yaml_with_line},
    {"test_registry_checks_socks5_credentials", test_registry_checks_socks5_credentials},
    {"test_registry_requires_a_tailscale_auth_key", test_registry_requires_a_tailscale_auth_key},
    {"test_config_composes_files_and_set_overrides", test_config_composes_files_and_set_overrides},
    {"test_config_default_network_must_name_a_network_entry", test_config_default_network_must_name_a_network_entry},
    {"test_sam_lines_are_split_and_bytes_after_them_kept", test_sam_lines_are_split_and_bytes_after_them_kept},
    {"test_sam_replies_parse_with_quoted_values", test_sam_replies_parse_with_quoted_values},
    {"test_sam_every_result_is_named", test_sam_every_result_is_named},
    {"test_sam_malformed_replies_are_errors", test_sam_malformed_replies_are_errors},
    {"test_sam_commands_quote_what_needs_it", test_sam_commands_quote_what_needs_it},
    {"test_i2p_addresses", test_i2p_addresses},
    {"test_policy_evaluation_table", test_policy_evaluation_table},
    {"test_deny_wins_over_allow", test_deny_wins_over_allow},
    {"test_without_actor_or_scope_strict_mode_decides", test_without_actor_or_scope_strict_mode_decides},
    {"test_policy_conditions_on_actor_metadata", test_policy_conditions_on_actor_metadata},
    {"test_scope_with_and_without_return_new_scopes", test_scope_with_and_without_return_new_scopes},
    {"test_socks5_greeting_offers_no_auth_only_without_credentials", test_socks5_greeting_offers_no_auth_only_without_credentials},
    {"test_socks5_greeting_offers_both_methods_with_credentials", test_socks5_greeting_offers_both_methods_with_credentials},
    {"test_socks5_sends_hostnames_as_domain_names_never_resolved", test_socks5_sends_hostnames_as_domain_names_never_resolved},
    {"test_socks5_sends_ip_literals_as_addresses", test_socks5_sends_ip_literals_as_addresses},
    {"test_socks5_refuses_hostnames_longer_than_255_bytes", test_socks5_refuses_hostnames_longer_than_255_bytes},
    {"test_socks5_connect_succeeds_and_keeps_bytes_after_the_reply", test_socks5_connect_succeeds_and_keeps_bytes_after_the_reply},
    {"test_socks5_reply_codes_become_readable_errors", test_socks5_reply_codes_become_readable_errors},
    {"test_socks5_refusal_is_reported_without_waiting_for_the_address", test_socks5_refusal_is_reported_without_waiting_for_the_address},
    {"test_socks5_malformed_replies_are_errors", test_socks5_malformed_replies_are_errors},
    {"test_socks5_wrong_password_is_an_authentication_error", test_socks5_wrong_password_is_an_authentication_error},
    {"test_socks5_truncated_reply_waits_for_more", test_socks5_truncated_reply_waits_for_more},
    {"test_duration_parses_go_syntax_and_seconds", test_duration_parses_go_syntax_and_seconds},
    {"test_duration_rejects_garbage_with_the_text", test_duration_rejects_garbage_with_the_text},
    {"test_glob_matches_stars_anywhere", test_glob_matches_stars_anywhere},
    {"test_yaml_resolves_plain_scalars_like_yaml_1_2", test_yaml_resolves_plain_scalars_like_yaml_1_2},
    {"test_yaml_reports_syntax_errors_and_duplicate_keys_with_lines", test_yaml_reports_syntax_errors_and_duplicate_keys_with_lines},
    {"test_value_merge_overlays_maps_per_key", test_value_merge_overlays_maps_per_key},
};

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL)
            continue;
        test_failure[0] = '\0';
        tests[i].run();
        if (test_failure[0] == '\0') {
            printf("ok   %s\n", tests[i].name);
            passed++;
        } else {
            printf("FAIL %s\n     %s\n", tests[i].name, test_failure);
            failed++;
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
