"""Curated word and phrase lists for the templated part of the evaluation corpus.

They cover the same codebases and tools as the hand-written anchors (so lexical and semantic
search both meet plausible near-misses), but never an anchor's specific facts.
"""

from __future__ import annotations

PROJECTS: dict[str, dict] = {
    "harbor": dict(
        ticket="HAR",
        what="billing backend",
        components=["invoice service", "tax engine", "payments API", "usage metering",
                    "dunning worker", "ledger export", "refund flow", "subscription scheduler",
                    "customer portal backend", "pricing rules module", "credit notes",
                    "currency conversion"],
        tech=["Django", "Postgres", "Redis", "Celery", "Stripe", "Kubernetes", "Python"],
    ),
    "falcon": dict(
        ticket="FAL",
        what="mobile API gateway",
        components=["push service", "auth middleware", "session cache", "feature-flag endpoint",
                    "image proxy", "checkout API", "device registry", "GraphQL facade",
                    "analytics beacon", "config service", "deep-link resolver"],
        tech=["Go", "gRPC", "Redis", "nginx", "Envoy", "Kafka", "protobuf"],
    ),
    "juniper": dict(
        ticket="JUN",
        what="analytics pipeline",
        components=["events DAG", "sessionization job", "revenue model", "dbt staging layer",
                    "Metabase dashboards", "partner export", "attribution model",
                    "user dimension table", "data quality checks", "ingestion connectors",
                    "churn report"],
        tech=["Airflow", "Spark", "dbt", "Athena", "S3", "Kafka", "Parquet"],
    ),
    "quill": dict(
        ticket="QUI",
        what="documentation site",
        components=["API reference generator", "search page", "navigation sidebar",
                    "versioned docs", "changelog page", "code sample runner", "i18n pipeline",
                    "theme", "markdown plugins", "preview deployments"],
        tech=["Next.js", "TypeScript", "React", "MDX", "Cloudflare", "Node"],
    ),
    "ember": dict(
        ticket="EMB",
        what="ML inference service",
        components=["ranking model", "embedding service", "feature pipeline",
                    "candidate generator", "batch scoring job", "A/B evaluation harness",
                    "model registry", "GPU node pool", "tokenizer service", "summarizer"],
        tech=["PyTorch", "ONNX", "Triton", "CUDA", "MLflow", "Redis", "Flink"],
    ),
    "atlas": dict(
        ticket="ATL",
        what="identity service",
        components=["token endpoint", "SAML bridge", "session store", "admin console",
                    "SCIM provisioning", "MFA enrolment", "audit log", "password reset flow",
                    "OIDC discovery", "login page"],
        tech=["Rust", "axum", "sqlx", "Postgres", "tokio", "OIDC"],
    ),
    "kestrel": dict(
        ticket="KES",
        what="internal developer tooling",
        components=["release tool", "changelog bot", "dependency updater", "repo templates",
                    "CI runners", "artifact cache", "monorepo build", "lint presets"],
        tech=["GitHub Actions", "Bazel", "Python", "Docker", "Renovate"],
    ),
    "meridian": dict(
        ticket="MER",
        what="customer web app",
        components=["dashboard", "onboarding wizard", "settings page", "billing page",
                    "notifications center", "team invites", "charts", "CSV import"],
        tech=["React", "TypeScript", "Vite", "Tailwind", "Playwright"],
    ),
}

SYMPTOMS = [
    "intermittent 502s from the ingress", "p99 latency doubled after the deploy",
    "memory climbing steadily over a few hours", "requests timing out under moderate load",
    "duplicate rows after retries", "a deadlock between two workers",
    "stale values served from the cache", "CPU pinned at 100% on one core",
    "a startup time of several minutes", "jobs silently skipped at midnight",
    "wrong currency symbols in exports", "truncated payloads over 1 MB",
    "a race between cache fill and invalidation", "a crash loop after a config change",
    "connection resets from the load balancer", "missing rows in the nightly export",
    "flaky end-to-end tests in CI", "disks filling up on the workers",
    "out-of-order events downstream", "401s right after login",
    "accented names mangled in CSV downloads", "schedules shifting by an hour in spring",
    "a queue backlog growing overnight", "a thundering herd when the cache expired",
    "sporadic segfaults in a native extension", "health checks failing during GC pauses",
    "webhook deliveries arriving twice", "N+1 queries on the list endpoint",
    "a hot partition in Kafka", "timeouts talking to S3", "slow page loads on mobile",
    "404s for assets after a deploy", "the search page returning nothing for short words",
    "emails sent in the wrong language", "a spike of 429s from a partner API",
    "build times creeping past 20 minutes", "CI runners running out of disk",
    "charts rendering blank for new accounts", "pagination skipping items",
    "the admin console freezing on large tenants", "logs without request IDs",
]

CAUSES = [
    "a missing index on a foreign key", "an unbounded in-process cache",
    "a retry loop without jitter", "the default pool size of 10",
    "a mutable default argument", "an off-by-one in the pagination cursor",
    "a health check that queried the database", "a lock held across a network call",
    "a regex with catastrophic backtracking", "a feature flag nobody had removed",
    "the readiness probe passing too early", "a library upgrade that changed a default",
    "the log level left at DEBUG", "an ORM lazy load inside a loop",
    "a cron expression written for the wrong zone", "stale planner statistics",
    "a keep-alive mismatch between the proxy and the app",
    "a shared mutable singleton across threads", "a leaked file handle per request",
    "CORS preflight responses that were never cached", "a schema change without a backfill",
    "a batch larger than the broker's message limit",
    "the autoscaler watching the wrong metric", "serializing huge JSON blobs on the hot path",
    "a cache key that ignored the tenant", "a fixed sleep in the test instead of a wait",
    "an asset hash that changed on every build", "clock drift on a single worker",
    "a tokenizer that split on whitespace only", "an unpinned base image",
    "a sidecar that started after the main container",
    "a cursor that sorted on a non-unique column",
]

FIXES = [
    "added the index concurrently", "bounded it with an LRU and a metric",
    "moved the work to a background queue", "made the handler idempotent",
    "pinned the dependency and added a regression test", "switched to keyset pagination",
    "cached the result for 60 seconds", "split the batch into chunks of 500",
    "added a circuit breaker around the call", "moved the lock outside the network call",
    "rewrote the expression without nested quantifiers", "set explicit timeouts",
    "turned the log level back to INFO", "added a unique constraint",
    "used server-side cursors", "prefetched the relation in one query",
    "sorted on (created_at, id) so the cursor is unique", "keyed the cache by tenant",
    "replaced the sleep with a polling wait", "pinned the base image by digest",
    "ran ANALYZE and scheduled it nightly", "aligned the keep-alive timeouts",
    "made the singleton per-thread", "closed the handle in a finally block",
    "added a startup probe", "scaled on queue depth instead of CPU",
    "streamed the response instead of building it in memory",
]

LESSONS = [
    "measure before optimising: the profiler disagreed with our guess",
    "feature flags need an owner and an expiry date",
    "a runbook nobody has rehearsed is not a runbook",
    "alerts must point to an action, otherwise they get muted",
    "write the migration and its rollback together",
    "load tests must use production-shaped data",
    "read the changelog before a major upgrade",
    "canary deploys caught what staging missed",
    "keep retries in one layer only, or they multiply",
    "dashboards should show saturation, not only averages",
    "never share one database user between services",
    "write the decision down while the context is fresh",
    "a two-line fix still deserves a regression test",
    "every network call needs a timeout",
    "default configuration is rarely production configuration",
    "idempotent jobs make incidents boring",
    "small batches recover faster than big ones",
    "a flaky test is a bug report nobody has read yet",
    "the cheapest outage is the one a staging soak finds",
    "ownership gaps show up first in on-call",
]

ADVICE = [
    "add it to the checklist", "pair on it with someone from the owning team",
    "write a short design note first", "start with a dry run in staging",
    "put a dashboard next to the change", "schedule it outside peak hours",
    "ask in the team channel before starting", "timebox the investigation to a day",
]

PURPOSES = [
    "background jobs", "feature flags", "the internal event bus", "schema migrations",
    "end-to-end tests", "metrics", "tracing", "API documentation", "configuration",
    "secrets in CI", "load testing", "caching hot reads", "error tracking",
    "frontend state", "package management", "container builds",
    "service-to-service auth", "dashboards", "log search", "scheduled reports",
]

PAIRS = [
    ("OpenTelemetry", "the Jaeger client"), ("Sentry", "Rollbar"), ("k6", "Locust"),
    ("Unleash", "a homegrown flag table"), ("Alembic", "hand-written SQL scripts"),
    ("Playwright", "Cypress"), ("Prometheus", "StatsD"), ("uv", "Poetry"),
    ("NATS", "RabbitMQ"), ("Zustand", "Redux"), ("BuildKit", "Kaniko"),
    ("OpenSearch", "Elasticsearch"), ("SOPS", "sealed secrets"), ("Grafana", "Kibana"),
    ("SPIFFE identities", "static API keys"), ("Temporal", "cron plus a state table"),
    ("Redis", "Memcached"), ("ClickHouse", "Postgres materialized views"),
    ("Renovate", "Dependabot"), ("Tempo", "Zipkin"), ("pydantic-settings", "env parsing by hand"),
    ("Vite", "webpack"), ("esbuild", "Babel"), ("Loki", "CloudWatch Logs"),
]

REASONS = [
    "the team already knows it", "it roughly halves the monthly bill",
    "it works across both regions", "the other option is in maintenance mode",
    "its TypeScript types are first-class", "it removes a moving part from the deploy",
    "the alternative changed its licence", "a benchmark on our workload showed 2x throughput",
    "it plugs into our SSO", "self-hosting the alternative cost too much on-call time",
    "the client libraries are better maintained", "it lets us drop a bespoke script",
]

INFRA = [
    "three c6i.xlarge nodes", "the shared prod-eu cluster", "a dedicated db.r6g.large instance",
    "Fargate", "a single VM managed by Ansible", "Cloudflare Workers", "GKE Autopilot",
    "two spot node groups", "the on-prem rack in Frankfurt", "Lambda behind API Gateway",
]

DETAILS = [
    "owners are listed in CODEOWNERS", "deploys are manual through the release tool",
    "its Grafana dashboard sits in the team folder", "config lives in config/<env>.yaml",
    "it is due to be retired next quarter", "its SLO is 99.9% monthly availability",
    "the staging copy is reset every Sunday", "it talks to the others through a generated client",
    "the README diagram is outdated; trust the code", "secrets come from the platform vault",
    "it has no autoscaling yet", "it emits metrics with the service label set",
]

NAMES = [
    "Ana Costa", "Ben Carter", "Chloe Martin", "Dev Patel", "Elif Yilmaz", "Farah Haddad",
    "Gabriel Silva", "Hana Kim", "Ivan Petrov", "Jonas Berg", "Kavya Iyer", "Liam Murphy",
    "Mei Chen", "Nora Lind", "Omar Farouk", "Paula Nowak", "Quentin Roux", "Rosa Delgado",
    "Sven Olsen", "Tara Singh", "Uma Reddy", "Victor Hugo Lima", "Wen Li", "Ximena Ruiz",
    "Yara Nasser", "Zoe Adams", "Arjun Mehta", "Bea Fischer", "Carlos Mendes", "Dana Levi",
]

ROLES = [
    "backend engineer", "frontend engineer", "SRE", "data engineer", "product manager",
    "engineering manager", "QA engineer", "staff engineer", "platform engineer",
    "ML engineer", "designer", "support lead",
]

PERSON_NOTES = [
    "prefers Slack threads over direct messages", "is on leave until the end of the month",
    "knows the history of the {component}", "works from Singapore (UTC+8)",
    "likes a design doc before any code", "reviews quickly in the mornings",
    "is the best contact for the {tech} setup", "joined from the platform team this year",
    "runs the weekly architecture review", "is the release captain this quarter",
    "wants dashboards linked in every incident channel", "mentors the new joiners",
]

PREFERENCES = [
    "squash merges on main", "type hints on every public function",
    "branches named after the ticket", "no force pushes to shared branches",
    "ADRs for decisions that are hard to reverse", "structured logs with snake_case keys",
    "a CHANGELOG entry for every user-facing change", "early work shared as draft PRs",
    "async standups in the team channel", "Conventional Commits", "storybook stories for every component",
    "one approval for docs-only changes, two for everything else",
    "feature toggles instead of long-lived branches", "integration tests next to the code they cover",
    "error messages that say what to do next", "metrics names prefixed with the service",
    "no new dependencies without a short justification in the PR",
    "British spelling in user-facing copy", "ISO 8601 dates everywhere",
    "explicit return types in TypeScript",
]

CONTEXTS = [
    "is owned by the {team} team", "is being migrated from {b} to {a}",
    "has a known issue with {symptom}, tracked in {ticket}",
    "is the most frequently changed part of the codebase",
    "has 78% test coverage; the gaps are in the error paths",
    "was rewritten last year; the old version is in the legacy/ folder",
    "is frozen for changes during the quarterly release",
    "depends on {tech} and nothing else external",
]

TEAMS = ["platform", "payments", "growth", "data", "mobile", "identity", "docs", "ml"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
