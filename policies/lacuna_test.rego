# Tests of the default policy (run with `lacuna-fs policy test`; also run by
# test/policy/default-policy.test.ts). Each test starts from a PUBLIC write into
# an unmanaged zone and changes only what it is about.
package lacuna_test

import data.lacuna
import rego.v1

monday_2pm := 1795010523000000000 # 2026-11-19T14:02:03Z; the hour/weekday fields below are what count

base := {
	"action": "create",
	"mode": "enforce",
	"source": {
		"tier": "PUBLIC",
		"tags": [],
		"content": {"tier": "PUBLIC", "tags": [], "findings": []},
		"lineage": {
			"tier": "PUBLIC", "tags": [],
			"files": [{"path": "/governed/crm/customers.csv", "mount": "data", "zone": "governed", "tier": "PUBLIC", "tags": []}],
			"copy_of": "/governed/crm/customers.csv",
			"aggregate": false,
		},
	},
	"destination": {"path": "/export/customers.csv", "mount": "export", "zone": "export", "zone_kind": "unmanaged", "encrypted": false, "external": false, "exists": false},
	"user": {"uid": 1000, "gid": 1000, "name": "alice", "groups": ["analysts"]},
	"process": {"pid": 4242, "ppid": 4200, "exe": "/usr/bin/cp", "comm": "cp"},
	"time": {"ns": monday_2pm, "rfc3339": "2026-11-19T14:02:03Z", "hour": 14, "weekday": "Monday"},
	"purpose": null,
	"exceptions": [],
}

proprietary := object.union(base, {"source": {"tier": "PROPRIETARY", "tags": ["FINANCE"]}})

# Inputs shaped as the daemon builds them: source.tier = max(content.tier, lineage.tier).

# Three validated SSNs: strong PII, so layer 1 makes the content (and the source) PROPRIETARY.
pii_content := object.union(base, {"source": {
	"tier": "PROPRIETARY", "tags": ["PII"],
	"content": {"tier": "PROPRIETARY", "tags": ["PII"], "findings": [{"type": "ssn", "category": "pii", "count": 3}]},
}})

# One email address and nothing corroborating it (a README's contact line): layer 1
# reports the finding but leaves the content PUBLIC ("Weak personal-data signal only").
weak_email := object.union(base, {"source": {"content": {"findings": [{"type": "email", "category": "pii", "count": 1}]}}})

# A CSV whose header names an "ssn" column over data rows of masked values: no "pii"
# finding, only a "column" one, and the content is PROPRIETARY.
ssn_column := object.union(base, {"source": {
	"tier": "PROPRIETARY", "tags": ["PII"],
	"content": {"tier": "PROPRIETARY", "tags": ["PII"], "findings": [{"type": "ssn", "category": "column", "count": 1}]},
}})

# A validated secret: layer 1 makes the content PROPRIETARY with tag SECRET.
secret_content := object.union(base, {"source": {
	"tier": "PROPRIETARY", "tags": ["SECRET"],
	"content": {"tier": "PROPRIETARY", "tags": ["SECRET"], "findings": [{"type": "aws_access_key", "category": "secret", "count": 1}]},
}})

to_zone(inp, kind) := object.union(inp, {"destination": {"zone": kind, "zone_kind": kind}})

exception(overrides) := object.union(
	{"id": "ex-7f3a", "path": "/governed/crm/customers.csv", "dest": "/export/", "expires_ns": monday_2pm + 3600000000000, "requested_by": "alice", "approved_by": "bob", "justification": "quarterly audit"},
	overrides,
)

with_exception(inp, ex) := object.union(inp, {"exceptions": [ex]})

test_public_write_to_unmanaged_allowed if {
	d := lacuna.decision with input as base
	d.allow
	d.policy_id == "tier-permits"
}

test_reads_allowed_even_for_proprietary if {
	d := lacuna.decision with input as object.union(proprietary, {"action": "read"})
	d.allow
	d.policy_id == "read-audited"
}

test_proprietary_to_unmanaged_denied_with_alternatives if {
	d := lacuna.decision with input as proprietary
	not d.allow
	d.policy_id == "proprietary-outside-governed"
	contains(d.reasoning, "/export/customers.csv")
	contains(d.reasoning, "unmanaged")
	d.alternatives == [
		"anonymise it first: lacuna-fs anonymize /governed/crm/customers.csv /governed/workspace/customers.csv",
		"aggregate it first (group counts or sums, no individual rows); an aggregate of PII is downgraded to INTERNAL and may then leave governed storage",
		"work in the governed workspace instead: cp /governed/crm/customers.csv /governed/workspace/",
		"request an exception: lacuna-fs exception request --path /governed/crm/customers.csv --dest /export/customers.csv --justification \"<why>\"",
	]
}

# `lacuna-fs anonymize IN OUT` takes IN and OUT as positional arguments (there is no --out).
test_anonymise_alternative_names_in_and_out_positionally if {
	d := lacuna.decision with input as proprietary
	alt := d.alternatives[0]
	alt == "anonymise it first: lacuna-fs anonymize /governed/crm/customers.csv /governed/workspace/customers.csv"
	not contains(alt, "--out")
}

test_anonymise_alternative_writes_into_the_configured_workspace if {
	d := lacuna.decision with input as proprietary with data.lacuna.config.governed_workspace as "/srv/governed/ws"
	"anonymise it first: lacuna-fs anonymize /governed/crm/customers.csv /srv/governed/ws/customers.csv" in d.alternatives
}

test_anonymise_alternative_never_suggests_out_equal_to_in if {
	inp := object.union(proprietary, {"source": {"lineage": {"copy_of": "/governed/workspace/customers.csv"}}})
	d := lacuna.decision with input as inp
	"anonymise it first: lacuna-fs anonymize /governed/workspace/customers.csv /governed/workspace/anonymised-customers.csv" in d.alternatives
}

test_anonymise_alternative_offered_for_pii_in_content if {
	inp := to_zone(object.union(weak_email, {"source": {"tier": "INTERNAL", "content": {"tier": "INTERNAL"}}}), "internal")
	d := lacuna.decision with input as inp
	d.policy_id == "pii-in-content"
	d.alternatives[0] == "anonymise it first: lacuna-fs anonymize /governed/crm/customers.csv /governed/workspace/customers.csv"
}

test_proprietary_to_internal_denied if {
	d := lacuna.decision with input as to_zone(proprietary, "internal")
	not d.allow
	d.policy_id == "proprietary-outside-governed"
}

test_proprietary_to_external_flag_denied_even_in_governed_zone if {
	inp := object.union(to_zone(proprietary, "governed"), {"destination": {"external": true}})
	d := lacuna.decision with input as inp
	not d.allow
}

test_proprietary_within_governed_allowed if {
	d := lacuna.decision with input as to_zone(proprietary, "governed")
	d.allow
	d.policy_id == "governed-zone"
}

test_internal_to_external_denied if {
	inp := to_zone(object.union(base, {"source": {"tier": "INTERNAL"}}), "external")
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "internal-to-external"
}

test_internal_to_unmanaged_allowed if {
	d := lacuna.decision with input as object.union(base, {"source": {"tier": "INTERNAL"}})
	d.allow
}

test_validated_ssns_deny_a_copy_to_unmanaged if {
	d := lacuna.decision with input as pii_content
	not d.allow
	d.policy_id == "proprietary-outside-governed"
	"pii-in-content" in lacuna.violations with input as pii_content
}

test_pii_in_content_reason_names_types_never_values if {
	r := lacuna.reason("pii-in-content") with input as pii_content
	contains(r, "personal data (ssn)")
	not contains(r, "123-45")
}

# Regression: copying a README with one contact email address to an unmanaged zone was
# denied as pii-in-content although the classifier had left the content PUBLIC.
test_weak_pii_in_public_content_allowed_to_unmanaged if {
	d := lacuna.decision with input as weak_email
	d.allow
	d.policy_id == "tier-permits"
	not "pii-in-content" in lacuna.violations with input as weak_email
}

test_weak_pii_in_public_content_allowed_to_external if {
	d := lacuna.decision with input as to_zone(weak_email, "external")
	d.allow
}

# The same email counts once the content is not PUBLIC (a path rule floor, or layer 2/3):
# INTERNAL data may sit in an internal zone, its personal data may not.
test_weak_pii_counts_when_content_tier_is_not_public if {
	inp := to_zone(object.union(weak_email, {"source": {"tier": "INTERNAL", "content": {"tier": "INTERNAL"}}}), "internal")
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "pii-in-content"
	contains(d.reasoning, "personal data (email)")
}

test_pii_counts_when_content_tier_is_missing if {
	untiered := object.remove(weak_email.source.content, ["tier"])
	inp := object.union(object.union(weak_email, {"source": {"content": null}}), {"source": {"content": untiered}})
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "pii-in-content"
}

test_pii_column_counts_when_content_tier_says_so if {
	"pii-in-content" in lacuna.violations with input as ssn_column
	r := lacuna.reason("pii-in-content") with input as ssn_column
	contains(r, "personal data (ssn)")
}

test_pii_column_in_public_content_not_counted if {
	# One weak column ("name") over data rows: reported, content left PUBLIC.
	inp := object.union(base, {"source": {"content": {"findings": [{"type": "name", "category": "column", "count": 1}]}}})
	d := lacuna.decision with input as inp
	d.allow
}

test_aggregate_with_pii_column_not_downgraded if {
	inp := object.union(ssn_column, {"source": {"lineage": {"aggregate": true}}})
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "proprietary-outside-governed"
	not "set-tier:INTERNAL" in d.obligations
}

test_secret_in_content_denied if {
	d := lacuna.decision with input as secret_content
	not d.allow
	d.policy_id == "secret-in-content"
	contains(d.reasoning, "(aws_access_key)")
}

test_secret_counts_whatever_the_content_tier if {
	inp := object.union(weak_email, {"source": {"content": {"findings": [{"type": "github_token", "category": "secret", "count": 1}]}}})
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "secret-in-content"
}

test_validated_ssns_denied_in_internal_zone if {
	d := lacuna.decision with input as to_zone(pii_content, "internal")
	not d.allow
}

test_pii_in_content_allowed_in_governed_zone if {
	d := lacuna.decision with input as to_zone(pii_content, "governed")
	d.allow
}

test_secret_never_excepted if {
	d := lacuna.decision with input as with_exception(secret_content, exception({}))
	not d.allow
	d.policy_id == "secret-in-content"
}

test_approved_exception_allows_and_says_so if {
	d := lacuna.decision with input as with_exception(proprietary, exception({}))
	d.allow
	d.policy_id == "exception"
	contains(d.reasoning, "ex-7f3a")
	contains(d.reasoning, "bob")
	"audit-exception:ex-7f3a" in d.obligations
}

test_exception_from_policy_data_allows if {
	d := lacuna.decision with input as proprietary with data.lacuna.exceptions as [exception({"id": "ex-data"})]
	d.allow
	d.policy_id == "exception"
}

test_expired_exception_denies if {
	d := lacuna.decision with input as with_exception(proprietary, exception({"expires_ns": monday_2pm}))
	not d.allow
}

test_exception_expiry_is_exact_beyond_2_53 if {
	# One nanosecond after the decision time: still valid. (Both numbers exceed 2^53.)
	d := lacuna.decision with input as with_exception(proprietary, exception({"expires_ns": monday_2pm + 1}))
	d.allow
}

test_self_approved_exception_denies if {
	d := lacuna.decision with input as with_exception(proprietary, exception({"approved_by": "alice"}))
	not d.allow
}

test_unapproved_exception_denies if {
	d := lacuna.decision with input as with_exception(proprietary, exception({"approved_by": null}))
	not d.allow
}

test_exception_of_another_user_denies if {
	d := lacuna.decision with input as with_exception(proprietary, exception({"requested_by": "carol"}))
	not d.allow
}

test_exception_for_another_destination_denies if {
	d := lacuna.decision with input as with_exception(proprietary, exception({"dest": "/tmp/"}))
	not d.allow
}

test_bulk_export_after_hours_needs_exception if {
	inp := object.union(to_zone(proprietary, "governed"), {"action": "export", "time": {"hour": 22}})
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "proprietary-bulk-after-hours"
	some alt in d.alternatives
	contains(alt, "business hours")
}

test_bulk_export_on_weekend_needs_exception if {
	inp := object.union(to_zone(proprietary, "governed"), {"action": "export", "time": {"weekday": "Saturday"}})
	d := lacuna.decision with input as inp
	not d.allow
}

test_bulk_export_in_business_hours_allowed if {
	inp := object.union(to_zone(proprietary, "governed"), {"action": "export"})
	d := lacuna.decision with input as inp
	d.allow
}

test_bulk_export_after_hours_with_exception_allowed if {
	inp := object.union(to_zone(proprietary, "governed"), {"action": "export", "time": {"hour": 22}, "destination": {"path": "/export/q3.csv"}})
	d := lacuna.decision with input as with_exception(inp, exception({}))
	d.allow
	d.policy_id == "exception"
}

test_purpose_not_declared_for_tag_denied if {
	inp := object.union(base, {"source": {"tags": ["PII"]}, "purpose": "marketing"})
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "purpose-not-allowed"
	contains(d.reasoning, "marketing")
}

test_declared_purpose_allowed if {
	inp := object.union(base, {"source": {"tags": ["PII"]}, "purpose": "billing"})
	d := lacuna.decision with input as inp
	d.allow
}

test_tag_without_declared_purposes_does_not_restrict if {
	# PCI declares no purposes: billing is judged by PII's list only.
	inp := object.union(base, {"source": {"tags": ["PCI", "PII"]}, "purpose": "billing"})
	d := lacuna.decision with input as inp
	d.allow
}

test_purpose_required_tag_without_purpose_denied if {
	d := lacuna.decision with input as object.union(base, {"source": {"tags": ["HEALTH"]}})
	not d.allow
	d.policy_id == "purpose-required"
}

test_purposes_come_from_policy_data if {
	inp := object.union(base, {"source": {"tags": ["PII"]}, "purpose": "marketing"})
	d := lacuna.decision with input as inp with data.lacuna.config.purposes as {"PII": ["marketing"]}
	d.allow
}

test_pii_aggregate_downgraded_to_internal_with_provenance if {
	inp := object.union(proprietary, {"source": {"tags": ["PII"], "lineage": {"aggregate": true}}})
	d := lacuna.decision with input as inp
	d.allow
	"set-tier:INTERNAL" in d.obligations
	"add-tag:DERIVED_FROM_PII" in d.obligations
}

test_aggregate_still_holding_pii_not_downgraded if {
	inp := object.union(proprietary, {"source": {"tags": ["PII"], "lineage": {"aggregate": true}, "content": {"tier": "PROPRIETARY", "tags": ["PII"], "findings": [{"type": "email", "category": "pii", "count": 40}]}}})
	d := lacuna.decision with input as inp
	not d.allow
}

test_aggregate_of_non_downgradable_tag_not_downgraded if {
	inp := object.union(proprietary, {"source": {"tags": ["PII", "FINANCE"], "lineage": {"aggregate": true}}})
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "proprietary-outside-governed"
}

test_downgraded_aggregate_still_not_external if {
	inp := to_zone(object.union(proprietary, {"source": {"tags": ["PII"], "lineage": {"aggregate": true}}}), "external")
	d := lacuna.decision with input as inp
	not d.allow
	d.policy_id == "internal-to-external"
}

test_unknown_action_denied if {
	d := lacuna.decision with input as object.union(base, {"action": "teleport"})
	not d.allow
	d.policy_id == "unknown-action"
}

test_reasoning_names_process_and_user if {
	d := lacuna.decision with input as proprietary
	contains(d.reasoning, "cp (user alice)")
}
