/* main.c - runs every unit test, each in its own process with a timeout,
 * prints one line per test and the closing line "N passed, N failed, N skipped". The list is kept in step with the TEST()s of
 * the test_*.c files by tests/unit/list.sh (make checks it). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

char test_failure[4096];

TEST(test_direct_dials_what_it_accepts_on_loopback);
TEST(test_direct_tries_each_address_of_a_name_in_turn);
TEST(test_direct_reports_a_refused_connection_in_one_line);
TEST(test_direct_refuses_a_listen_address_it_cannot_read);
TEST(test_root_uses_default_then_direct);
TEST(test_depth_four_chain_inherits_the_selection);
TEST(test_child_override_leaves_parent_and_siblings_alone);
TEST(test_default_never_overrides_an_inherited_choice);
TEST(test_explicit_call_selection_wins_over_everything);
TEST(test_context_and_security_are_inherited_and_copied);
TEST(test_go_time_dates_count_days_from_1970_in_any_year);
TEST(test_go_time_formats_the_reference_layouts_as_go);
TEST(test_go_time_parses_with_layouts_as_go);
TEST(test_go_time_parse_failures_read_as_go);
TEST(test_json_pointer_writes_and_resolves_escaped_names);
TEST(test_json_numbers_compare_and_divide_by_their_decimal_value);
TEST(test_json_equality_ignores_member_order_and_number_form);
TEST(test_json_regex_searches_anywhere_with_ecma_anchors_and_escapes);
TEST(test_json_regex_gives_up_on_catastrophic_backtracking_at_once);
TEST(test_json_schema_says_where_which_keyword_and_why);
TEST(test_json_schema_keywords_decide_as_draft_2020_12);
TEST(test_json_schema_resolves_references_inside_the_document);
TEST(test_json_schema_refuses_what_it_does_not_implement_naming_it);
TEST(test_json_schema_reads_empty_arrays_as_objects_only_when_asked);
TEST(test_json_schema_stops_a_reference_loop_that_never_reaches_into_the_data);
TEST(test_json_schema_bounds_exponential_evaluation);
TEST(test_json_schema_bounds_the_size_of_a_schema);
TEST(test_json_schema_bounds_large_data_and_unique_items);
TEST(test_json_text_writes_numbers_as_go_does);
TEST(test_json_text_shortest_reads_back_the_same_double);
TEST(test_json_text_writes_strings_and_numbers_as_go_does);
TEST(test_json_text_accepts_only_well_formed_utf8);
TEST(test_message_carries_scalars_and_strings_with_zero_bytes);
TEST(test_message_keeps_cycles_and_shared_subtables_as_one_table);
TEST(test_message_drops_metatables_and_copies_deeply);
TEST(test_message_refuses_functions_coroutines_and_deep_nesting);
TEST(test_message_keeps_references_after_a_stand_in_for_a_userdata);
TEST(test_message_refuses_a_value_larger_than_its_bound);
TEST(test_message_carries_shared_values_through_their_transport);
TEST(test_message_that_cannot_be_rebuilt_gives_back_what_it_did_not_rebuild);
TEST(test_message_cut_short_by_its_bound_gives_back_its_shared_values_safely);
TEST(test_message_makes_room_only_for_the_entries_it_carries);
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
TEST(test_config_reads_the_runtime_limits_with_their_defaults);
TEST(test_config_refuses_what_it_cannot_read_in_its_own_sections);
TEST(test_route_prefers_explicit_then_inherited_then_default_then_direct);
TEST(test_route_checks_an_explicit_choice_as_network_select);
TEST(test_route_without_actor_or_scope_follows_strict_mode);
TEST(test_route_refuses_an_id_that_is_not_a_network);
TEST(test_route_a_private_literal_through_an_overlay_needs_its_permission);
TEST(test_route_a_listener_uses_its_network_or_direct);
TEST(test_sam_dial_of_a_b32_address_needs_no_lookup);
TEST(test_sam_dial_of_a_name_looks_it_up_first);
TEST(test_sam_dial_refuses_clearnet_names_without_a_conversation);
TEST(test_sam_failures_name_the_step_and_keep_the_result);
TEST(test_sam_session_creates_then_learns_its_destination);
TEST(test_sam_session_with_kept_keys_reuses_them);
TEST(test_sam_accept_reports_the_callers_b32_and_keeps_the_stream_bytes);
TEST(test_sam_unexpected_and_malformed_input_fails);
TEST(test_sam_describes_where_it_waits);
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
TEST(test_time_zone_utc_is_static_with_offset_zero_everywhere);
TEST(test_time_zone_fixed_zone_is_its_name_and_offset_at_every_instant);
TEST(test_time_zone_reference_counts_keep_a_zone_until_the_last_release);
TEST(test_time_zone_reference_counts_are_atomic_across_threads);
TEST(test_time_zone_new_york_follows_its_history_and_its_footer);
TEST(test_time_zone_london_follows_its_history_and_its_footer);
TEST(test_time_zone_kolkata_has_odd_offsets_and_no_dst_today);
TEST(test_time_zone_lord_howe_moves_its_clocks_by_thirty_minutes);
TEST(test_time_zone_utc_file_is_utc_at_every_instant);
TEST(test_time_zone_lookup_and_local_times_survive_the_ends_of_int64);
TEST(test_time_zone_unix_from_local_resolves_gaps_and_overlaps_as_go_does);
TEST(test_time_zone_posix_month_week_day_rule_matches_new_york);
TEST(test_time_zone_posix_without_dates_uses_the_us_dates);
TEST(test_time_zone_posix_julian_and_zero_based_days_differ_in_leap_years);
TEST(test_time_zone_posix_transition_times_may_pass_24_hours_or_be_negative);
TEST(test_time_zone_posix_quoted_names_and_signed_offsets);
TEST(test_time_zone_posix_southern_rule_matches_the_lord_howe_file);
TEST(test_time_zone_posix_refuses_malformed_rules_with_the_reason);
TEST(test_time_zone_path_maps_names_under_the_zone_directory);
TEST(test_time_zone_path_refuses_names_that_could_escape_the_directory);
TEST(test_time_zone_tzif_reads_versions_1_2_and_3);
TEST(test_time_zone_tzif_picks_go_type_before_the_first_transition);
TEST(test_time_zone_tzif_refuses_corrupt_data_with_the_reason);
TEST(test_time_zone_tzif_refuses_bad_headers_and_sizes);
TEST(test_time_zone_tzif_refuses_every_truncation_of_a_real_file);
TEST(test_time_zone_tzif_survives_every_single_bit_flip);
TEST(test_transports_carry_durations_and_times_that_compare_and_format_the_same);
TEST(test_transports_carry_an_actor_with_its_id_and_meta);
TEST(test_transports_carry_a_scope_with_its_policies);
TEST(test_transports_carry_an_error_that_behaves_the_same);
TEST(test_transports_keep_the_imported_error_details_a_copy);
TEST(test_transports_message_never_pushed_gives_back_actor_and_scope_references);
TEST(test_transports_import_under_a_memory_limit_fails_without_leaking);
TEST(test_transports_refuse_an_error_whose_details_are_too_large);
TEST(test_actor_and_scope_references_count_right_from_several_threads);
TEST(test_transports_refuse_errors_nested_too_deeply);
TEST(test_typed_lua_erases_annotations_in_place);
TEST(test_typed_lua_keeps_plain_lua_as_it_is);
TEST(test_typed_lua_runs_typed_code);
TEST(test_typed_lua_keeps_lines_so_errors_point_at_the_right_place);
TEST(test_typed_lua_reports_an_unreadable_type_at_its_place);
TEST(test_typed_lua_reads_the_rest_of_the_dialect);
TEST(test_typed_lua_bounds_how_deeply_types_nest);
TEST(test_typed_lua_reads_strings_and_comments_as_lua_does);
TEST(test_typed_lua_refuses_what_could_mean_two_things);
TEST(test_duration_parses_go_syntax_and_seconds);
TEST(test_duration_rejects_garbage_with_the_text);
TEST(test_glob_matches_stars_anywhere);
TEST(test_yaml_resolves_plain_scalars_like_yaml_1_2);
TEST(test_yaml_reports_syntax_errors_and_duplicate_keys_with_lines);
TEST(test_yaml_aliases_cannot_expand_without_bound);
TEST(test_yaml_aliases_of_long_values_are_bounded_in_bytes);
TEST(test_yaml_finds_a_duplicate_key_among_many_quickly);
TEST(test_value_merge_overlays_maps_per_key);

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
    {"test_direct_dials_what_it_accepts_on_loopback", test_direct_dials_what_it_accepts_on_loopback},
    {"test_direct_tries_each_address_of_a_name_in_turn", test_direct_tries_each_address_of_a_name_in_turn},
    {"test_direct_reports_a_refused_connection_in_one_line", test_direct_reports_a_refused_connection_in_one_line},
    {"test_direct_refuses_a_listen_address_it_cannot_read", test_direct_refuses_a_listen_address_it_cannot_read},
    {"test_root_uses_default_then_direct", test_root_uses_default_then_direct},
    {"test_depth_four_chain_inherits_the_selection", test_depth_four_chain_inherits_the_selection},
    {"test_child_override_leaves_parent_and_siblings_alone", test_child_override_leaves_parent_and_siblings_alone},
    {"test_default_never_overrides_an_inherited_choice", test_default_never_overrides_an_inherited_choice},
    {"test_explicit_call_selection_wins_over_everything", test_explicit_call_selection_wins_over_everything},
    {"test_context_and_security_are_inherited_and_copied", test_context_and_security_are_inherited_and_copied},
    {"test_go_time_dates_count_days_from_1970_in_any_year", test_go_time_dates_count_days_from_1970_in_any_year},
    {"test_go_time_formats_the_reference_layouts_as_go", test_go_time_formats_the_reference_layouts_as_go},
    {"test_go_time_parses_with_layouts_as_go", test_go_time_parses_with_layouts_as_go},
    {"test_go_time_parse_failures_read_as_go", test_go_time_parse_failures_read_as_go},
    {"test_json_pointer_writes_and_resolves_escaped_names", test_json_pointer_writes_and_resolves_escaped_names},
    {"test_json_numbers_compare_and_divide_by_their_decimal_value", test_json_numbers_compare_and_divide_by_their_decimal_value},
    {"test_json_equality_ignores_member_order_and_number_form", test_json_equality_ignores_member_order_and_number_form},
    {"test_json_regex_searches_anywhere_with_ecma_anchors_and_escapes", test_json_regex_searches_anywhere_with_ecma_anchors_and_escapes},
    {"test_json_regex_gives_up_on_catastrophic_backtracking_at_once", test_json_regex_gives_up_on_catastrophic_backtracking_at_once},
    {"test_json_schema_says_where_which_keyword_and_why", test_json_schema_says_where_which_keyword_and_why},
    {"test_json_schema_keywords_decide_as_draft_2020_12", test_json_schema_keywords_decide_as_draft_2020_12},
    {"test_json_schema_resolves_references_inside_the_document", test_json_schema_resolves_references_inside_the_document},
    {"test_json_schema_refuses_what_it_does_not_implement_naming_it", test_json_schema_refuses_what_it_does_not_implement_naming_it},
    {"test_json_schema_reads_empty_arrays_as_objects_only_when_asked", test_json_schema_reads_empty_arrays_as_objects_only_when_asked},
    {"test_json_schema_stops_a_reference_loop_that_never_reaches_into_the_data", test_json_schema_stops_a_reference_loop_that_never_reaches_into_the_data},
    {"test_json_schema_bounds_exponential_evaluation", test_json_schema_bounds_exponential_evaluation},
    {"test_json_schema_bounds_the_size_of_a_schema", test_json_schema_bounds_the_size_of_a_schema},
    {"test_json_schema_bounds_large_data_and_unique_items", test_json_schema_bounds_large_data_and_unique_items},
    {"test_json_text_writes_numbers_as_go_does", test_json_text_writes_numbers_as_go_does},
    {"test_json_text_shortest_reads_back_the_same_double", test_json_text_shortest_reads_back_the_same_double},
    {"test_json_text_writes_strings_and_numbers_as_go_does", test_json_text_writes_strings_and_numbers_as_go_does},
    {"test_json_text_accepts_only_well_formed_utf8", test_json_text_accepts_only_well_formed_utf8},
    {"test_message_carries_scalars_and_strings_with_zero_bytes", test_message_carries_scalars_and_strings_with_zero_bytes},
    {"test_message_keeps_cycles_and_shared_subtables_as_one_table", test_message_keeps_cycles_and_shared_subtables_as_one_table},
    {"test_message_drops_metatables_and_copies_deeply", test_message_drops_metatables_and_copies_deeply},
    {"test_message_refuses_functions_coroutines_and_deep_nesting", test_message_refuses_functions_coroutines_and_deep_nesting},
    {"test_message_keeps_references_after_a_stand_in_for_a_userdata", test_message_keeps_references_after_a_stand_in_for_a_userdata},
    {"test_message_refuses_a_value_larger_than_its_bound", test_message_refuses_a_value_larger_than_its_bound},
    {"test_message_carries_shared_values_through_their_transport", test_message_carries_shared_values_through_their_transport},
    {"test_message_that_cannot_be_rebuilt_gives_back_what_it_did_not_rebuild", test_message_that_cannot_be_rebuilt_gives_back_what_it_did_not_rebuild},
    {"test_message_cut_short_by_its_bound_gives_back_its_shared_values_safely", test_message_cut_short_by_its_bound_gives_back_its_shared_values_safely},
    {"test_message_makes_room_only_for_the_entries_it_carries", test_message_makes_room_only_for_the_entries_it_carries},
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
    {"test_config_reads_the_runtime_limits_with_their_defaults", test_config_reads_the_runtime_limits_with_their_defaults},
    {"test_config_refuses_what_it_cannot_read_in_its_own_sections", test_config_refuses_what_it_cannot_read_in_its_own_sections},
    {"test_route_prefers_explicit_then_inherited_then_default_then_direct", test_route_prefers_explicit_then_inherited_then_default_then_direct},
    {"test_route_checks_an_explicit_choice_as_network_select", test_route_checks_an_explicit_choice_as_network_select},
    {"test_route_without_actor_or_scope_follows_strict_mode", test_route_without_actor_or_scope_follows_strict_mode},
    {"test_route_refuses_an_id_that_is_not_a_network", test_route_refuses_an_id_that_is_not_a_network},
    {"test_route_a_private_literal_through_an_overlay_needs_its_permission", test_route_a_private_literal_through_an_overlay_needs_its_permission},
    {"test_route_a_listener_uses_its_network_or_direct", test_route_a_listener_uses_its_network_or_direct},
    {"test_sam_dial_of_a_b32_address_needs_no_lookup", test_sam_dial_of_a_b32_address_needs_no_lookup},
    {"test_sam_dial_of_a_name_looks_it_up_first", test_sam_dial_of_a_name_looks_it_up_first},
    {"test_sam_dial_refuses_clearnet_names_without_a_conversation", test_sam_dial_refuses_clearnet_names_without_a_conversation},
    {"test_sam_failures_name_the_step_and_keep_the_result", test_sam_failures_name_the_step_and_keep_the_result},
    {"test_sam_session_creates_then_learns_its_destination", test_sam_session_creates_then_learns_its_destination},
    {"test_sam_session_with_kept_keys_reuses_them", test_sam_session_with_kept_keys_reuses_them},
    {"test_sam_accept_reports_the_callers_b32_and_keeps_the_stream_bytes", test_sam_accept_reports_the_callers_b32_and_keeps_the_stream_bytes},
    {"test_sam_unexpected_and_malformed_input_fails", test_sam_unexpected_and_malformed_input_fails},
    {"test_sam_describes_where_it_waits", test_sam_describes_where_it_waits},
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
    {"test_time_zone_utc_is_static_with_offset_zero_everywhere", test_time_zone_utc_is_static_with_offset_zero_everywhere},
    {"test_time_zone_fixed_zone_is_its_name_and_offset_at_every_instant", test_time_zone_fixed_zone_is_its_name_and_offset_at_every_instant},
    {"test_time_zone_reference_counts_keep_a_zone_until_the_last_release", test_time_zone_reference_counts_keep_a_zone_until_the_last_release},
    {"test_time_zone_reference_counts_are_atomic_across_threads", test_time_zone_reference_counts_are_atomic_across_threads},
    {"test_time_zone_new_york_follows_its_history_and_its_footer", test_time_zone_new_york_follows_its_history_and_its_footer},
    {"test_time_zone_london_follows_its_history_and_its_footer", test_time_zone_london_follows_its_history_and_its_footer},
    {"test_time_zone_kolkata_has_odd_offsets_and_no_dst_today", test_time_zone_kolkata_has_odd_offsets_and_no_dst_today},
    {"test_time_zone_lord_howe_moves_its_clocks_by_thirty_minutes", test_time_zone_lord_howe_moves_its_clocks_by_thirty_minutes},
    {"test_time_zone_utc_file_is_utc_at_every_instant", test_time_zone_utc_file_is_utc_at_every_instant},
    {"test_time_zone_lookup_and_local_times_survive_the_ends_of_int64", test_time_zone_lookup_and_local_times_survive_the_ends_of_int64},
    {"test_time_zone_unix_from_local_resolves_gaps_and_overlaps_as_go_does", test_time_zone_unix_from_local_resolves_gaps_and_overlaps_as_go_does},
    {"test_time_zone_posix_month_week_day_rule_matches_new_york", test_time_zone_posix_month_week_day_rule_matches_new_york},
    {"test_time_zone_posix_without_dates_uses_the_us_dates", test_time_zone_posix_without_dates_uses_the_us_dates},
    {"test_time_zone_posix_julian_and_zero_based_days_differ_in_leap_years", test_time_zone_posix_julian_and_zero_based_days_differ_in_leap_years},
    {"test_time_zone_posix_transition_times_may_pass_24_hours_or_be_negative", test_time_zone_posix_transition_times_may_pass_24_hours_or_be_negative},
    {"test_time_zone_posix_quoted_names_and_signed_offsets", test_time_zone_posix_quoted_names_and_signed_offsets},
    {"test_time_zone_posix_southern_rule_matches_the_lord_howe_file", test_time_zone_posix_southern_rule_matches_the_lord_howe_file},
    {"test_time_zone_posix_refuses_malformed_rules_with_the_reason", test_time_zone_posix_refuses_malformed_rules_with_the_reason},
    {"test_time_zone_path_maps_names_under_the_zone_directory", test_time_zone_path_maps_names_under_the_zone_directory},
    {"test_time_zone_path_refuses_names_that_could_escape_the_directory", test_time_zone_path_refuses_names_that_could_escape_the_directory},
    {"test_time_zone_tzif_reads_versions_1_2_and_3", test_time_zone_tzif_reads_versions_1_2_and_3},
    {"test_time_zone_tzif_picks_go_type_before_the_first_transition", test_time_zone_tzif_picks_go_type_before_the_first_transition},
    {"test_time_zone_tzif_refuses_corrupt_data_with_the_reason", test_time_zone_tzif_refuses_corrupt_data_with_the_reason},
    {"test_time_zone_tzif_refuses_bad_headers_and_sizes", test_time_zone_tzif_refuses_bad_headers_and_sizes},
    {"test_time_zone_tzif_refuses_every_truncation_of_a_real_file", test_time_zone_tzif_refuses_every_truncation_of_a_real_file},
    {"test_time_zone_tzif_survives_every_single_bit_flip", test_time_zone_tzif_survives_every_single_bit_flip},
    {"test_transports_carry_durations_and_times_that_compare_and_format_the_same", test_transports_carry_durations_and_times_that_compare_and_format_the_same},
    {"test_transports_carry_an_actor_with_its_id_and_meta", test_transports_carry_an_actor_with_its_id_and_meta},
    {"test_transports_carry_a_scope_with_its_policies", test_transports_carry_a_scope_with_its_policies},
    {"test_transports_carry_an_error_that_behaves_the_same", test_transports_carry_an_error_that_behaves_the_same},
    {"test_transports_keep_the_imported_error_details_a_copy", test_transports_keep_the_imported_error_details_a_copy},
    {"test_transports_message_never_pushed_gives_back_actor_and_scope_references", test_transports_message_never_pushed_gives_back_actor_and_scope_references},
    {"test_transports_import_under_a_memory_limit_fails_without_leaking", test_transports_import_under_a_memory_limit_fails_without_leaking},
    {"test_transports_refuse_an_error_whose_details_are_too_large", test_transports_refuse_an_error_whose_details_are_too_large},
    {"test_actor_and_scope_references_count_right_from_several_threads", test_actor_and_scope_references_count_right_from_several_threads},
    {"test_transports_refuse_errors_nested_too_deeply", test_transports_refuse_errors_nested_too_deeply},
    {"test_typed_lua_erases_annotations_in_place", test_typed_lua_erases_annotations_in_place},
    {"test_typed_lua_keeps_plain_lua_as_it_is", test_typed_lua_keeps_plain_lua_as_it_is},
    {"test_typed_lua_runs_typed_code", test_typed_lua_runs_typed_code},
    {"test_typed_lua_keeps_lines_so_errors_point_at_the_right_place", test_typed_lua_keeps_lines_so_errors_point_at_the_right_place},
    {"test_typed_lua_reports_an_unreadable_type_at_its_place", test_typed_lua_reports_an_unreadable_type_at_its_place},
    {"test_typed_lua_reads_the_rest_of_the_dialect", test_typed_lua_reads_the_rest_of_the_dialect},
    {"test_typed_lua_bounds_how_deeply_types_nest", test_typed_lua_bounds_how_deeply_types_nest},
    {"test_typed_lua_reads_strings_and_comments_as_lua_does", test_typed_lua_reads_strings_and_comments_as_lua_does},
    {"test_typed_lua_refuses_what_could_mean_two_things", test_typed_lua_refuses_what_could_mean_two_things},
    {"test_duration_parses_go_syntax_and_seconds", test_duration_parses_go_syntax_and_seconds},
    {"test_duration_rejects_garbage_with_the_text", test_duration_rejects_garbage_with_the_text},
    {"test_glob_matches_stars_anywhere", test_glob_matches_stars_anywhere},
    {"test_yaml_resolves_plain_scalars_like_yaml_1_2", test_yaml_resolves_plain_scalars_like_yaml_1_2},
    {"test_yaml_reports_syntax_errors_and_duplicate_keys_with_lines", test_yaml_reports_syntax_errors_and_duplicate_keys_with_lines},
    {"test_yaml_aliases_cannot_expand_without_bound", test_yaml_aliases_cannot_expand_without_bound},
    {"test_yaml_aliases_of_long_values_are_bounded_in_bytes", test_yaml_aliases_of_long_values_are_bounded_in_bytes},
    {"test_yaml_finds_a_duplicate_key_among_many_quickly", test_yaml_finds_a_duplicate_key_among_many_quickly},
    {"test_value_merge_overlays_maps_per_key", test_value_merge_overlays_maps_per_key},
};

/* Each test runs in its own process, so a crash or a hang is that test's
 * failure alone (as in libuv's runner): the child writes its failure text,
 * if any, to a pipe; the parent reads it and the child's exit status. The
 * child is this program started afresh (fork, then exec) and not a bare
 * fork: a process that has started threads (a Go runtime, the thread pool)
 * can be forked holding an allocator lock one of them held (a hang under
 * AddressSanitizer). */
#define TEST_TIMEOUT_SECONDS 10
#define RUN_ONE "--run-one"

static int run_one(const char *name, const char *report_text)
{
    int report = atoi(report_text);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (strcmp(tests[i].name, name) != 0)
            continue;
        alarm(TEST_TIMEOUT_SECONDS);
        test_failure[0] = '\0';
        tests[i].run();
        size_t length = strlen(test_failure);
        if (length > 0 && write(report, test_failure, length) < 0)
            return 3;
        return length > 0 ? 1 : 0;
    }
    return 2;
}

/* Runs one test; fills failure (empty when it passed). */
static void run_isolated(const char *name, char *failure, size_t size)
{
    int pipe_ends[2];
    failure[0] = '\0';
    if (pipe(pipe_ends) < 0) {
        snprintf(failure, size, "pipe: %s", strerror(errno));
        return;
    }
    char report[16];
    snprintf(report, sizeof report, "%d", pipe_ends[1]);
    char *const arguments[] = {"unit-tests", RUN_ONE, (char *)name, report, NULL};
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) {
        snprintf(failure, size, "fork: %s", strerror(errno));
        close(pipe_ends[0]);
        close(pipe_ends[1]);
        return;
    }
    if (child == 0) {
        close(pipe_ends[0]);
        execv("/proc/self/exe", arguments);
        _exit(4);
    }
    close(pipe_ends[1]);
    size_t used = 0;
    ssize_t got;
    while (used + 1 < size && (got = read(pipe_ends[0], failure + used, size - 1 - used)) > 0)
        used += (size_t)got;
    failure[used] = '\0';
    close(pipe_ends[0]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        continue;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        snprintf(failure, size, "timed out after %d s", TEST_TIMEOUT_SECONDS);
    else if (WIFSIGNALED(status))
        snprintf(failure, size, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WEXITSTATUS(status) == 4 && failure[0] == '\0')
        snprintf(failure, size, "cannot start the test process");
    else if (WEXITSTATUS(status) != 0 && failure[0] == '\0')
        snprintf(failure, size, "exited with status %d", WEXITSTATUS(status));
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], RUN_ONE) == 0)
        return run_one(argv[2], argv[3]);
    int passed = 0, failed = 0, skipped = 0;
    static char failure[sizeof test_failure];
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL)
            continue;
        run_isolated(tests[i].name, failure, sizeof failure);
        if (failure[0] == '\0') {
            printf("ok   %s\n", tests[i].name);
            passed++;
        } else if (strncmp(failure, TEST_SKIPPED, strlen(TEST_SKIPPED)) == 0) {
            printf("skip %s\n     %s\n", tests[i].name, failure + strlen(TEST_SKIPPED));
            skipped++;
        } else {
            printf("FAIL %s\n     %s\n", tests[i].name, failure);
            failed++;
        }
    }
    printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed == 0 ? 0 : 1;
}
