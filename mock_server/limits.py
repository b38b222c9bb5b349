"""Every bound the mock puts on what it is given, in one place (README: "Limits").

A testing tool people fuzz and load-test must answer everything past these with a clear 4xx
(or, at start-up, a one-line message) instead of a 500, a stall or an out-of-memory kill.
"""

from __future__ import annotations

DAY = 86_400

# Request bodies, API and admin alike (413 past it).
MAX_BODY_BYTES = 1024 * 1024
# JSON nesting: Sohar's bodies are three levels deep; past this a body is refused (400
# `param: body`) before it reaches the schema validator or anything recursive.
MAX_JSON_DEPTH = 32

# Scenario YAML (files and `POST /__admin/scenarios`), refused with `file:line: problem`.
# Nesting: a valid scenario is six levels deep at most.
MAX_YAML_DEPTH = 32
# Nodes that aliases may add once expanded, in all: a billion-laughs file of a few hundred
# bytes would otherwise expand to billions of nodes in the schema check and model building.
# A file's own nodes are bounded by its size (the request body limit, for uploads).
MAX_YAML_ALIAS_NODES = 100_000

# A cursor (`since=`) or a count (`limit=`) in an admin query string: no revision or sequence
# number the mock hands out gets near it, and past it a number is no longer cheap to read.
MAX_QUERY_NUMBER_DIGITS = 18

# A duration anywhere (a scenario's delay/recoverAfter, --latency, tokenTtl, one clock advance).
MAX_DURATION_SECONDS = 366 * DAY
# How far the mock clock may run ahead of real time in all: a century keeps every date the
# mock renders (MM/DD/YYYY, ISO 8601) far inside what calendars and datetime can hold.
MAX_CLOCK_OFFSET_SECONDS = 100 * 365 * DAY + 25 * DAY

# A webhook signing secret is `whsec_` + base64 of a key this many bytes long: Svix's own bounds
# (it generates 24-byte keys and refuses keys outside 24..75 bytes).
MIN_WEBHOOK_KEY_BYTES = 24
MAX_WEBHOOK_KEY_BYTES = 75

# Coverages one discovery answers with: a roster search stops at this many matches, and a
# scenario's `complete` outcome may list at most this many (Sohar's discovery returns its first
# match; a payer roster with thousands of namesakes must not make a body of thousands).
MAX_DISCOVERY_COVERAGES = 10

# The years a scenario date may fall in when the file loads: Sohar's MM/DD/YYYY fields only
# carry 19xx and 20xx (openapi/sohar.yaml's date pattern). A relative date (`today+N`) thus
# moves less than two centuries, and with the clock at most a century off it stays a date
# `datetime` holds: resolving a verification can never fail on it.
MIN_SCENARIO_YEAR = 1900
MAX_SCENARIO_YEAR = 2099

# Providers created through Create Provider (or the admin API), per environment; those a
# scenario file declares are bounded by the file. Past it Create Provider is a 409.
MAX_PROVIDERS_PER_ENVIRONMENT = 10_000
# A `providerGroupId` is an id (Sohar's example is a UUID), not a document.
MAX_PROVIDER_GROUP_ID_LENGTH = 64

# Partner eligibility rosters (the `partner:` section of scenario files, README "Partner eligibility").
# A family's entries all come back in one answer, so its size bounds an answer's.
MAX_PARTNER_FAMILY_MEMBERS = 100
# Coverages one person may hold (their ranks run from 1 to this).
MAX_PARTNER_COVERAGES_PER_PERSON = 10
# `--partner-api-key`: printable ASCII without spaces, as an HTTP header value carries it intact.
MAX_PARTNER_API_KEY_CHARS = 256
