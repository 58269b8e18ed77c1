# lacuna-fs default policy: what may flow where. The daemon evaluates
# data.lacuna.decision for every write-class operation; the input and output
# documents are specified in docs/POLICIES.md. Settings live in data.lacuna.config
# (policies/data.json) so a site can tune them without editing rules.
package lacuna

import rego.v1

# Defaults for every setting; data.lacuna.config (policies/data.json, or the
# daemon's policy data) overrides them key by key.
default_config := {
	"governed_workspace": "/governed/workspace",
	"business_hours": {"start": 8, "end": 18, "days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]},
	"bulk_min_files": 20,
	"aggregation_downgradable_tags": ["PII"],
	"purposes": {},
	"purpose_required_tags": [],
}

cfg := object.union(default_config, data.lacuna.config) if {
	is_object(data.lacuna.config)
} else := default_config

# ---------------------------------------------------------------- facts

tier := input.source.tier

dest := input.destination

dest_label := sprintf("%s (zone %s, %s)", [dest.path, dest.zone, dest.zone_kind])

# Where the data comes from, for messages: the copied file, else the first file read.
source_label := input.source.lineage.copy_of if {
	is_string(input.source.lineage.copy_of)
} else := concat(", ", source_paths) if {
	count(source_paths) > 0
} else := "the data being written"

source_paths := [f.path | some f in object.get(input.source, ["lineage", "files"], [])]

source_path := input.source.lineage.copy_of if {
	is_string(input.source.lineage.copy_of)
} else := source_paths[0] if {
	count(source_paths) > 0
} else := "<source>"

file_name := name if {
	parts := split(dest.path, "/")
	name := parts[count(parts) - 1]
	name != ""
} else := "output"

external if dest.zone_kind == "external"

external if dest.external == true

governed if {
	dest.zone_kind == "governed"
	not dest.external == true
}

write_actions := {"create", "open_write", "write", "truncate", "rename", "link", "symlink", "export", "copy"}

content_findings := object.get(input.source, ["content", "findings"], [])

# Personal data counts only when the classifier found it decisive. Layer 1 reports weak,
# uncorroborated signals (one email address in a README) as findings too, yet leaves the
# content PUBLIC; the content tier is its verdict (docs/CLASSIFICATION.md, "Tier mapping").
# A content document without a tier counts its findings: unknown is not PUBLIC.
pii_decisive if not input.source.content.tier == "PUBLIC"

# "column": a table header naming personal-data columns over data rows (a CSV "ssn" column
# of masked values has no "pii" finding, only this one).
pii_categories := {"pii", "column"}

# Cheap guards first: most writes carry no findings, so the sorted type lists are rarely built.
has_pii if {
	some f in content_findings
	f.category in pii_categories
	f.count > 0
	pii_decisive
}

# Secrets count whatever the content tier: every secret finding is validated and strong.
has_secret if {
	some f in content_findings
	f.category == "secret"
	f.count > 0
}

pii_types := sort({f.type | some f in content_findings; f.category in pii_categories; f.count > 0; pii_decisive})

secret_types := sort({f.type | some f in content_findings; f.category == "secret"; f.count > 0})

# ---------------------------------------------------------------- aggregation downgrade
# An aggregate (no individual-level rows left, so no PII found in its content)
# drawn only from downgradable tags is treated as INTERNAL; the provenance tag
# DERIVED_FROM_<TAG> is kept through an obligation.

aggregate_downgrade if {
	input.source.lineage.aggregate == true
	tier != "PUBLIC"
	input.source.content != null
	not has_pii
	not has_secret
	count(input.source.tags) > 0
	every t in input.source.tags {
		downgradable(t)
	}
}

downgradable(t) if t in cfg.aggregation_downgradable_tags

downgradable(t) if startswith(t, "DERIVED_FROM_")

effective_tier := "INTERNAL" if aggregate_downgrade else := tier

downgrade_obligations := array.concat(["set-tier:INTERNAL"], provenance_tags) if aggregate_downgrade else := []

provenance_tags := [sprintf("add-tag:DERIVED_FROM_%s", [t]) | some t in sort(input.source.tags); not startswith(t, "DERIVED_FROM_")]

# ---------------------------------------------------------------- alternatives

# `lacuna-fs anonymize IN OUT` refuses IN = OUT, so a source already at the suggested
# output gets a distinct name.
alt_anonymise := sprintf("anonymise it first: lacuna-fs anonymize %s %s", [source_path, anonymised_path])

anonymised_path := p if {
	p := sprintf("%s/%s", [cfg.governed_workspace, file_name])
	p != source_path
} else := sprintf("%s/anonymised-%s", [cfg.governed_workspace, file_name])

alt_aggregate := "aggregate it first (group counts or sums, no individual rows); an aggregate of PII is downgraded to INTERNAL and may then leave governed storage"

alt_workspace := sprintf("work in the governed workspace instead: cp %s %s/", [source_path, cfg.governed_workspace])

alt_exception := sprintf("request an exception: lacuna-fs exception request --path %s --dest %s --justification \"<why>\"", [source_path, dest.path])

alt_remove_sensitive := sprintf("remove the %s from the content, or write it under %s", [concat(", ", array.concat(pii_types, secret_types)), cfg.governed_workspace])

alt_purpose := sprintf("run it under a declared purpose this data allows (%s)", [concat(", ", allowed_purposes_text)])

alt_after_hours := sprintf("run the export during business hours (%02d:00-%02d:00, %s)", [cfg.business_hours.start, cfg.business_hours.end, concat(", ", cfg.business_hours.days)])

# ---------------------------------------------------------------- violations
# Each violation is just an id: the conditions are cheap to test, and the
# reason and alternatives are built only for the one that is reported.

violations contains "unknown-action" if {
	input.action != "read"
	not input.action in write_actions
}

violations contains "proprietary-outside-governed" if {
	effective_tier == "PROPRIETARY"
	not governed
}

violations contains "internal-to-external" if {
	effective_tier == "INTERNAL"
	external
}

violations contains "pii-in-content" if {
	has_pii
	not governed
}

violations contains "secret-in-content" if {
	has_secret
	not governed
}

violations contains "proprietary-bulk-after-hours" if {
	effective_tier == "PROPRIETARY"
	bulk
	not business_hours
}

# Only tags that declare purposes restrict them: a tag with no list (e.g. PCI by default)
# does not make every purpose a violation.
violations contains "purpose-not-allowed" if {
	is_string(input.purpose)
	some tag in input.source.tags
	is_array(cfg.purposes[tag])
	not input.purpose in cfg.purposes[tag]
}

violations contains "purpose-required" if {
	not is_string(input.purpose)
	some tag in input.source.tags
	tag in cfg.purpose_required_tags
	not governed
}

# Violations no exception can lift.
unexceptable_ids := {"unknown-action", "secret-in-content"}

# The tag whose declared purposes exclude input.purpose (for the message).
purpose_tag := [tag | some tag in input.source.tags; is_array(cfg.purposes[tag]); not input.purpose in cfg.purposes[tag]][0]

reason("unknown-action") := sprintf("%s: action %q on %s is unknown to this policy; denied", [actor, input.action, dest_label])

reason("proprietary-outside-governed") := sprintf("%s may not write %s: it holds PROPRIETARY data derived from %s, and PROPRIETARY data may only be stored in governed zones", [actor, dest_label, source_label])

reason("internal-to-external") := sprintf("%s may not write %s: it holds INTERNAL data derived from %s, and INTERNAL data may not leave for external destinations", [actor, dest_label, source_label])

reason("pii-in-content") := sprintf("%s may not write %s: the content contains personal data (%s), which may only be written into governed zones", [actor, dest_label, concat(", ", pii_types)])

reason("secret-in-content") := sprintf("%s may not write %s: the content contains credentials or secrets (%s); secrets never leave governed zones, not even by exception", [actor, dest_label, concat(", ", secret_types)])

reason("proprietary-bulk-after-hours") := sprintf("%s may not bulk-export PROPRIETARY data from %s to %s outside business hours (%s %02d:00)", [actor, source_label, dest_label, input.time.weekday, input.time.hour])

reason("purpose-not-allowed") := sprintf("%s may not use %s data from %s for purpose %q (allowed: %s); writing %s", [actor, purpose_tag, source_label, input.purpose, concat(", ", cfg.purposes[purpose_tag]), dest_label])

reason("purpose-required") := sprintf("%s may not write %s data from %s to %s without a declared purpose", [actor, concat(", ", [t | some t in input.source.tags; t in cfg.purpose_required_tags]), source_label, dest_label])

alternatives("unknown-action") := []

alternatives("proprietary-outside-governed") := [alt_anonymise, alt_aggregate, alt_workspace, alt_exception]

alternatives("internal-to-external") := [alt_anonymise, alt_workspace, alt_exception]

alternatives("pii-in-content") := [alt_anonymise, alt_remove_sensitive, alt_workspace, alt_exception]

alternatives("secret-in-content") := [alt_remove_sensitive, "store secrets in the secret manager, not in files"]

alternatives("proprietary-bulk-after-hours") := [alt_after_hours, alt_exception]

alternatives("purpose-not-allowed") := [alt_purpose, alt_exception]

alternatives("purpose-required") := [alt_purpose, alt_workspace, alt_exception]

allowed_purposes_text := sort({p | some tag in input.source.tags; some p in object.get(cfg.purposes, tag, [])}) if {
	some tag in input.source.tags
	cfg.purposes[tag]
} else := ["none declared"]

actor := sprintf("%s (user %s)", [input.process.comm, input.user.name]) if {
	input.process.comm
	input.user.name
} else := "this process"

bulk if input.action == "export"

bulk if count(source_paths) >= cfg.bulk_min_files

business_hours if {
	input.time.weekday in cfg.business_hours.days
	input.time.hour >= cfg.business_hours.start
	input.time.hour < cfg.business_hours.end
}

# ---------------------------------------------------------------- exceptions

# Exceptions come with the input and/or as policy data (data.lacuna.exceptions).
all_exceptions := array.concat(input_exceptions, data_exceptions)

input_exceptions := input.exceptions if is_array(input.exceptions) else := []

data_exceptions := data.lacuna.exceptions if is_array(data.lacuna.exceptions) else := []

# An exception applies when approved by someone other than the requester, not
# expired at input.time.ns, requested by this user, and matching source and destination.
applicable_exceptions contains ex if {
	some ex in all_exceptions
	is_string(ex.approved_by)
	ex.approved_by != ""
	ex.approved_by != ex.requested_by
	ex.expires_ns > input.time.ns
	ex.requested_by == input.user.name
	exception_covers_source(ex)
	path_matches(ex.dest, dest.path)
}

exception_covers_source(ex) if {
	some p in array.concat(source_paths, [source_path])
	path_matches(ex.path, p)
}

# A pattern ending in "/" covers everything below it; otherwise it must match exactly.
path_matches(pattern, path) if pattern == path

path_matches(pattern, path) if {
	endswith(pattern, "/")
	startswith(path, pattern)
}

# ---------------------------------------------------------------- decision

priority := ["unknown-action", "secret-in-content", "proprietary-outside-governed", "internal-to-external", "pii-in-content", "purpose-not-allowed", "purpose-required", "proprietary-bulk-after-hours"]

ordered := [id | some id in priority; id in violations]

unexceptable := [id | some id in ordered; id in unexceptable_ids]

chosen_exception := sort([ex.id | some ex in applicable_exceptions])[0]

decision := {
	"allow": true,
	"policy_id": "read-audited",
	"reasoning": sprintf("reading %s is allowed and audited", [dest.path]),
	"alternatives": [],
	"obligations": [],
} if {
	input.action == "read"
} else := {
	"allow": true,
	"policy_id": allow_id,
	"reasoning": allow_reason,
	"alternatives": [],
	"obligations": downgrade_obligations,
} if {
	count(violations) == 0
} else := {
	"allow": true,
	"policy_id": "exception",
	"reasoning": sprintf("allowed by exception %s (approved by %s for %s): otherwise denied because %s", [ex.id, ex.approved_by, ex.requested_by, reason(ordered[0])]),
	"alternatives": [],
	"obligations": array.concat([sprintf("audit-exception:%s", [ex.id])], downgrade_obligations),
} if {
	count(unexceptable) == 0
	some ex in applicable_exceptions
	ex.id == chosen_exception
} else := {
	"allow": false,
	"policy_id": ordered[0],
	"reasoning": reason(ordered[0]),
	"alternatives": alternatives(ordered[0]),
	"obligations": [],
}

allow_id := "governed-zone" if governed else := "tier-permits"

allow_reason := sprintf("writing %s (zone %s, governed) is allowed: governed zones may hold any tier", [dest.path, dest.zone]) if {
	governed
} else := sprintf("writing %s (zone %s, %s) is allowed: %s data may be stored there (aggregate, downgraded from %s)", [dest.path, dest.zone, dest.zone_kind, effective_tier, tier]) if {
	aggregate_downgrade
} else := sprintf("writing %s (zone %s, %s) is allowed: %s data may be stored there", [dest.path, dest.zone, dest.zone_kind, effective_tier])
