"""Hand-written target memories and the labelled queries that must find them.

The anchors are ordinary agent memories about six fictional codebases (harbor: billing,
falcon: mobile API gateway, juniper: analytics pipeline, quill: docs site, ember: ML
inference, atlas: identity) plus team preferences and people. `generate.py` hides them among
templated memories about the same codebases and tools. Each query names the anchors a person
would want in its top 10.

Query types: "keyword" (terse, the target's own words), "paraphrase" (the same meaning with no
content word in common with any target, checked by tests/data/test_eval_set.py) and
"question" (how a person would ask).
"""

from __future__ import annotations

A = dict  # one anchor: key, kind, project, category, tags, title, body

ANCHORS: list[dict] = [
    # -- harbor: billing and invoicing backend -------------------------------------------------
    A(
        key="harbor-pgbouncer",
        kind="facts",
        project="harbor",
        category="bug-fix",
        tags=["postgres", "pgbouncer"],
        title="pgbouncer transaction mode breaks server-side prepared statements",
        body="Harbor's API threw 'prepared statement \"_pg3_0\" does not exist' right after pgbouncer"
        " went into transaction pooling mode. psycopg 3 prepares a statement automatically once it"
        " has run five times, and with transaction pooling the next execution can land on another"
        " backend. Fix: prepare_threshold=None in the Django DATABASES OPTIONS.",
    ),
    A(
        key="harbor-dramatiq",
        kind="decisions",
        project="harbor",
        category="architecture",
        tags=["celery", "dramatiq", "invoices"],
        title="Invoice PDF rendering moves from Celery to Dramatiq",
        body="Decided in March: invoice PDF generation leaves Celery for Dramatiq with its own Redis"
        " broker. Celery prefetch kept long WeasyPrint jobs stuck behind quick webhook tasks, and"
        " acks_late plus the visibility timeout produced duplicate invoices. Dramatiq gives us"
        " per-queue worker pools and simpler retries.",
    ),
    A(
        key="harbor-rounding",
        kind="facts",
        project="harbor",
        category="bug-fix",
        tags=["invoices", "money"],
        title="Invoice totals off by one cent",
        body="Totals on some invoices were off by 0.01 because line amounts were summed as floats."
        " Use Decimal everywhere, quantize each line to two places with ROUND_HALF_EVEN, then add"
        " tax per line before summing.",
    ),
    A(
        key="harbor-stripe",
        kind="facts",
        project="harbor",
        category="project-context",
        tags=["stripe", "webhooks", "vault"],
        title="Stripe webhook verification",
        body="Stripe webhooks are verified with the signing secret kept in Vault at"
        " secret/harbor/stripe (rotated quarterly). The endpoint must answer 2xx within 10 seconds"
        " or Stripe retries for up to three days.",
    ),
    A(
        key="harbor-not-null",
        kind="facts",
        project="harbor",
        category="learning",
        tags=["postgres", "migrations", "django"],
        title="Never add a NOT NULL column with a default to invoices in business hours",
        body="A Django migration adding a NOT NULL column with a default to the invoices table made"
        " Postgres 10 rewrite all 40 GB and hold an exclusive lock for 25 minutes. Add it nullable,"
        " backfill in batches, then set NOT NULL.",
    ),
    A(
        key="harbor-context",
        kind="projects",
        project="harbor",
        category="project-context",
        tags=["harbor", "kubernetes"],
        title="Harbor overview",
        body="Harbor is the billing and invoicing backend: Django 4.2, Postgres 15 and Redis, deployed"
        " on Kubernetes by Argo CD from the harbor-deploy repo. Staging is harbor-stg; production"
        " runs in eu-west-1 (primary) and us-east-1 (replica).",
    ),
    A(
        key="harbor-timezone",
        kind="facts",
        project="harbor",
        category="debugging",
        tags=["timezones", "reports"],
        title="Usage reports missed the last day for Australian customers",
        body="Monthly usage reports for Australian customers were missing the last day. The cutoff"
        " was a naive UTC datetime; it must be computed in the customer's billing timezone with"
        " zoneinfo.",
    ),
    A(
        key="harbor-idempotency",
        kind="decisions",
        project="harbor",
        category="architecture",
        tags=["payments", "api"],
        title="Idempotency keys on the payments API",
        body="Clients send an Idempotency-Key header with every payments request. We store the request"
        " hash and the response for 24h in the idempotency_records Postgres table; a repeat with a"
        " different body gets 422.",
    ),
    A(
        key="harbor-priya",
        kind="people",
        project="harbor",
        category="project-context",
        tags=["tax", "people"],
        title="Priya Raman (harbor tax engine)",
        body="Priya Raman owns the harbor tax engine: ask her before touching VAT rules. She is in"
        " Lisbon and prefers async review on the PR over calls.",
    ),
    A(
        key="harbor-backoff",
        kind="facts",
        project="harbor",
        category="code-solution",
        tags=["retries", "tax"],
        title="Retry policy for the tax provider",
        body="Calls to the tax provider retry with exponential backoff and full jitter: base 200 ms,"
        " cap 10 s, at most 6 attempts. Only 429 and 5xx are retried, never 4xx validation errors.",
    ),
    # -- falcon: mobile API gateway (Go) -------------------------------------------------------
    A(
        key="falcon-goroutines",
        kind="facts",
        project="falcon",
        category="bug-fix",
        tags=["go", "leak", "pprof"],
        title="Goroutine leak in push fan-out",
        body="Goroutine leak in falcon's push notification fan-out: each request started a goroutine"
        " that blocked forever writing to an unbuffered channel after the client context was"
        " cancelled. Fixed by selecting on ctx.Done(). Found with the pprof goroutine profile"
        " (180k goroutines).",
    ),
    A(
        key="falcon-ratelimit",
        kind="decisions",
        project="falcon",
        category="architecture",
        tags=["redis", "rate-limiting"],
        title="Per-key rate limiting with GCRA in Redis",
        body="falcon limits each API key with a token bucket (GCRA) implemented as a Lua script in"
        " Redis: 100 requests per minute, burst 20. Chosen over nginx limit_req because limits"
        " differ per customer plan.",
    ),
    A(
        key="falcon-apns",
        kind="facts",
        project="falcon",
        category="project-context",
        tags=["ios", "push"],
        title="APNs certificate expires every September",
        body="falcon's APNs certificate expires every 14 September; the renewal runbook is"
        " docs/runbooks/apns.md. An expired certificate silently drops iOS pushes with no error from"
        " the gateway.",
    ),
    A(
        key="falcon-http-timeouts",
        kind="facts",
        project="falcon",
        category="learning",
        tags=["go", "http"],
        title="Go HTTP clients need explicit timeouts",
        body="http.DefaultClient has no timeout: a hung upstream once exhausted falcon's file"
        " descriptors. Always build clients with Timeout set and a Transport with"
        " MaxIdleConnsPerHost.",
    ),
    A(
        key="falcon-grpc",
        kind="decisions",
        project="falcon",
        category="architecture",
        tags=["grpc", "protobuf"],
        title="gRPC inside, REST outside",
        body="falcon speaks gRPC internally and exposes REST/JSON to the mobile apps through"
        " grpc-gateway. Protobuf definitions live in the falcon-proto repo and CI runs buf"
        " breaking-change checks.",
    ),
    A(
        key="falcon-timestamps",
        kind="facts",
        project="falcon",
        category="bug-fix",
        tags=["android", "ios"],
        title="Millisecond timestamps from Android clients",
        body="Android clients on old app versions send timestamps in milliseconds while iOS sends"
        " seconds. Middleware normalises them: values above 1e12 are treated as ms.",
    ),
    A(
        key="falcon-marco",
        kind="people",
        project="falcon",
        category="project-context",
        tags=["oncall", "people"],
        title="Marco Bianchi (falcon tech lead)",
        body="Marco Bianchi is falcon's tech lead. The on-call rotation is weekly from Monday 10:00"
        " CET; escalate a Sev1 to him directly by phone.",
    ),
    A(
        key="falcon-flaky",
        kind="facts",
        project="falcon",
        category="debugging",
        tags=["tests", "flaky"],
        title="TestCheckoutFlow flakiness",
        body="TestCheckoutFlow failed about 1 in 30 runs: it compared JSON that depended on map"
        " iteration order. Sort the keys, or decode into structs and compare with cmp.Diff.",
    ),
    A(
        key="falcon-shutdown",
        kind="facts",
        project="falcon",
        category="code-solution",
        tags=["kubernetes", "go"],
        title="Graceful shutdown on SIGTERM",
        body="On SIGTERM falcon stops accepting, waits up to 25 s for in-flight requests"
        " (terminationGracePeriodSeconds is 30), then closes the Redis pool.",
    ),
    # -- juniper: analytics pipeline -----------------------------------------------------------
    A(
        key="juniper-cdc",
        kind="decisions",
        project="juniper",
        category="architecture",
        tags=["debezium", "kafka", "parquet"],
        title="Incremental loads with CDC instead of daily snapshots",
        body="Juniper switched from daily full snapshots to incremental loads using change data"
        " capture: Debezium to Kafka to S3 as Parquet. The full snapshot took 6 hours and about"
        " $900 a month of Spark compute.",
    ),
    A(
        key="juniper-skew",
        kind="facts",
        project="juniper",
        category="bug-fix",
        tags=["spark", "skew"],
        title="Spark OOM from a skewed join key",
        body="The events job ran out of memory on a skewed join key: user_id = 0 (anonymous events)"
        " holds 40% of rows. We salted the key and filtered anonymous events into a separate"
        " branch.",
    ),
    A(
        key="juniper-idempotent-dags",
        kind="facts",
        project="juniper",
        category="learning",
        tags=["airflow", "backfill"],
        title="Airflow DAGs must be idempotent",
        body="Backfills re-run tasks with the same logical date, so every juniper DAG writes its"
        " partitions in overwrite mode keyed by ds and never appends.",
    ),
    A(
        key="juniper-small-files",
        kind="facts",
        project="juniper",
        category="learning",
        tags=["parquet", "athena"],
        title="Parquet small-files problem",
        body="The streaming writer produced 200k Parquet files of ~50 KB a day and Athena queries"
        " became slow. A compaction job now merges them into ~256 MB files nightly.",
    ),
    A(
        key="juniper-context",
        kind="projects",
        project="juniper",
        category="project-context",
        tags=["juniper", "airflow", "spark"],
        title="Juniper overview",
        body="Juniper is the analytics pipeline: Airflow 2.8 on MWAA, Spark on EMR, the data lake in"
        " s3://juniper-lake, dbt models in juniper-dbt and dashboards in Metabase.",
    ),
    A(
        key="juniper-dau",
        kind="facts",
        project="juniper",
        category="debugging",
        tags=["metrics", "sdk"],
        title="DAU dropped 30% after an SDK release",
        body="Daily active users dropped 30% on 2 June. Cause: the mobile SDK release renamed the"
        " event app_open to session_start. The mapping table was updated and three days"
        " backfilled.",
    ),
    A(
        key="juniper-sql-style",
        kind="preferences",
        project="juniper",
        category="project-context",
        tags=["sql", "review"],
        title="SQL review conventions for juniper",
        body="In juniper SQL reviews: CTEs over nested subqueries, snake_case column names, explicit"
        " column lists instead of SELECT *, and a comment on every join explaining the grain.",
    ),
    A(
        key="juniper-pii",
        kind="decisions",
        project="juniper",
        category="architecture",
        tags=["pii", "kms"],
        title="PII columns hashed at ingestion",
        body="Email, phone and IP columns are hashed with a keyed HMAC-SHA256 at ingestion. The key is"
        " per environment in AWS KMS; analysts join on the hashes, never on raw values.",
    ),
    A(
        key="juniper-scheduler",
        kind="facts",
        project="juniper",
        category="bug-fix",
        tags=["airflow", "redis"],
        title="Airflow scheduler stuck with tasks queued",
        body="Tasks sat in queued and never ran because the Celery executor's result backend (Redis)"
        " hit maxmemory with noeviction. Raised the memory limit and set result_expires to one"
        " day.",
    ),
    # -- quill: documentation site -------------------------------------------------------------
    A(
        key="quill-node20",
        kind="facts",
        project="quill",
        category="bug-fix",
        tags=["node", "build"],
        title="quill build broke on Node 20",
        body="The quill build failed on Node 20 because a markdown plugin still called fs.rmdir with"
        " the recursive option. Upgraded the plugin and switched our own script to fs.rm.",
    ),
    A(
        key="quill-pagefind",
        kind="decisions",
        project="quill",
        category="architecture",
        tags=["search", "docs"],
        title="Docs search: Algolia replaced by Pagefind",
        body="quill moved search from Algolia to a static Pagefind index built at deploy time. The"
        " reasons were the Algolia crawler's cost and stale results after deploys.",
    ),
    A(
        key="quill-deploy",
        kind="facts",
        project="quill",
        category="project-context",
        tags=["cloudflare", "terraform"],
        title="How quill is deployed",
        body="quill deploys to Cloudflare Pages on merge to main, with a preview deployment per PR."
        " The custom domain docs.example.dev is managed in the infra repo with Terraform.",
    ),
    A(
        key="quill-links",
        kind="facts",
        project="quill",
        category="learning",
        tags=["ci", "links"],
        title="Link checking in CI",
        body="Run the lychee link checker in CI: it caught 140 dead anchors after the API reference"
        " was regenerated with new slugs.",
    ),
    A(
        key="quill-style",
        kind="preferences",
        project="quill",
        category="project-context",
        tags=["docs", "style"],
        title="Documentation style guide",
        body="Docs are written in the second person and present tense with sentence-case headings."
        " Code samples must run and are tested in CI; no screenshots of terminals.",
    ),
    A(
        key="quill-hydration",
        kind="facts",
        project="quill",
        category="debugging",
        tags=["react", "nextjs"],
        title="Hydration mismatch in the version switcher",
        body="Hydration mismatch warnings in quill's version switcher: the component read"
        " localStorage during render. Moved to useEffect, with a neutral placeholder rendered on"
        " the server.",
    ),
    # -- ember: ML inference -------------------------------------------------------------------
    A(
        key="ember-triton",
        kind="decisions",
        project="ember",
        category="architecture",
        tags=["triton", "onnx", "latency"],
        title="Ranking model served by Triton with dynamic batching",
        body="ember serves the ranking model with Triton Inference Server on the ONNX Runtime backend."
        " Dynamic batching with a 5 ms max queue delay cut p99 from 80 ms to 35 ms.",
    ),
    A(
        key="ember-gpu-leak",
        kind="facts",
        project="ember",
        category="bug-fix",
        tags=["gpu", "memory", "leak"],
        title="GPU memory grew until OOM",
        body="GPU memory slowly grew until OOM after about two days: a Python-side cache of"
        " tokenizer outputs keyed by the raw text never evicted. Replaced by an LRU of 10k"
        " entries.",
    ),
    A(
        key="ember-int8",
        kind="facts",
        project="ember",
        category="learning",
        tags=["quantization", "ranking"],
        title="INT8 quantization hurt the ranker",
        body="Quantization to INT8 dropped ranking NDCG by 1.8 points on long-tail queries. We keep"
        " FP16 for the ranker and INT8 only for the candidate generator.",
    ),
    A(
        key="ember-registry",
        kind="facts",
        project="ember",
        category="project-context",
        tags=["mlflow", "deploy"],
        title="Model artifacts and promotion",
        body="ember model artifacts are stored in MLflow and promoted with the tag 'production'. The"
        " deploy job pulls the version pinned in ember/models.yaml, never 'latest'.",
    ),
    A(
        key="ember-parity",
        kind="facts",
        project="ember",
        category="debugging",
        tags=["gpu", "tokenizer"],
        title="CPU and GPU results differed",
        body="Inference results differed between CPU and GPU builds: the tokenizer lowercased on one"
        " path only. Both share one pre-processing function now, and a parity test compares logits"
        " within 1e-4.",
    ),
    A(
        key="ember-lena",
        kind="people",
        project="ember",
        category="project-context",
        tags=["ml", "people"],
        title="Dr. Lena Vogt (ember ML lead)",
        body="Lena Vogt is the ML lead for ember and reviews any change to the feature pipeline. She"
        " is based in Berlin and keeps her mornings free of meetings.",
    ),
    A(
        key="ember-feature-store",
        kind="decisions",
        project="ember",
        category="architecture",
        tags=["features", "redis", "flink"],
        title="One Flink job writes online and offline features",
        body="Online features live in Redis (TTL 24 h) and offline ones in the juniper lake; the same"
        " Flink job writes both, so training and serving never skew.",
    ),
    A(
        key="ember-vllm",
        kind="decisions",
        project="ember",
        category="architecture",
        tags=["llm", "vllm"],
        title="vLLM for the summarizer model",
        body="We evaluated vLLM against Triton for the summarizer model and chose vLLM for paged"
        " attention and continuous batching: 3.1x the throughput at the same latency.",
    ),
    # -- atlas: identity service (Rust) --------------------------------------------------------
    A(
        key="atlas-tokens",
        kind="decisions",
        project="atlas",
        category="architecture",
        tags=["jwt", "oauth"],
        title="Short access tokens, rotating refresh tokens",
        body="atlas issues 15-minute EdDSA-signed JWT access tokens and opaque refresh tokens stored"
        " hashed in Postgres, rotated on every use. Reusing an old refresh token revokes its whole"
        " family.",
    ),
    A(
        key="atlas-skew",
        kind="facts",
        project="atlas",
        category="bug-fix",
        tags=["ntp", "jwt"],
        title="Tokens rejected as not yet valid",
        body="Clock skew: tokens were rejected as 'not yet valid' by pods whose clocks ran 40 s fast"
        " after a node's chrony failed. Allow 60 s leeway on nbf/iat and alert on NTP offset.",
    ),
    A(
        key="atlas-keys",
        kind="facts",
        project="atlas",
        category="project-context",
        tags=["kms", "jwks"],
        title="Signing key rotation",
        body="atlas signing keys rotate every 90 days. The JWKS endpoint publishes the current and the"
        " previous key; key material lives in AWS KMS and never leaves it.",
    ),
    A(
        key="atlas-argon2",
        kind="facts",
        project="atlas",
        category="learning",
        tags=["argon2", "tokio"],
        title="argon2id parameters caused login timeouts",
        body="Password hashing with argon2id at m=64 MiB, t=3 took 450 ms on the small pods and caused"
        " login timeouts under load. Tuned to m=19 MiB, t=2 per OWASP, and hashing moved to"
        " tokio's spawn_blocking pool.",
    ),
    A(
        key="atlas-saml",
        kind="facts",
        project="atlas",
        category="debugging",
        tags=["saml", "okta"],
        title="SAML login loop with Okta",
        body="SAML login loop with Okta for one customer: their IdP sent a NameID format we did not"
        " accept, and the error page redirected back to login. Now we show the error and log the"
        " issuer.",
    ),
    A(
        key="atlas-context",
        kind="projects",
        project="atlas",
        category="project-context",
        tags=["atlas", "rust"],
        title="atlas overview",
        body="atlas is the SSO and identity service, written in Rust (axum, sqlx, tokio). It supports"
        " OIDC and SAML; other services validate atlas JWTs with the shared atlas-verify"
        " middleware crate.",
    ),
    A(
        key="atlas-rust-style",
        kind="preferences",
        project="atlas",
        category="code-solution",
        tags=["rust", "style"],
        title="Rust conventions in atlas",
        body="clippy pedantic is on, no unwrap() outside tests, errors via thiserror in libraries and"
        " anyhow only in binaries.",
    ),
    # -- infrastructure shared by every codebase -----------------------------------------------
    A(
        key="infra-logging",
        kind="facts",
        project="infra",
        category="project-context",
        tags=["logging", "loki"],
        title="Logging pipeline",
        body="All services log JSON to stdout; Fluent Bit ships it to Loki with 14 days of retention."
        " Request IDs propagate in the X-Request-ID header.",
    ),
    A(
        key="infra-clusters",
        kind="facts",
        project="infra",
        category="project-context",
        tags=["kubernetes", "eks"],
        title="Kubernetes clusters",
        body="prod-eu and prod-us run EKS 1.29. Node groups autoscale with Karpenter; spot instances"
        " are used only for stateless workloads.",
    ),
    A(
        key="infra-ndots",
        kind="facts",
        project="infra",
        category="learning",
        tags=["dns", "kubernetes"],
        title="CoreDNS ndots lesson",
        body="A DNS outage taught us that the ndots:5 default caused five lookups per external"
        " hostname. Pods now set ndots:2 in dnsConfig and NodeLocal DNSCache is enabled.",
    ),
    A(
        key="infra-vault",
        kind="decisions",
        project="infra",
        category="architecture",
        tags=["vault", "secrets"],
        title="Secrets come from Vault, not env vars",
        body="HashiCorp Vault with Kubernetes auth. No secrets in the environment variables of Helm"
        " charts; the sidecar injector writes them to tmpfs files.",
    ),
    A(
        key="infra-android-tls",
        kind="facts",
        project="infra",
        category="bug-fix",
        tags=["tls", "android"],
        title="TLS failures on Android 7",
        body="TLS handshake failures from Android 7 devices after switching certificates to Let's"
        " Encrypt's ISRG Root X1-only chain. Serve the cross-signed chain on falcon's mobile"
        " domain.",
    ),
    A(
        key="infra-paging",
        kind="facts",
        project="infra",
        category="project-context",
        tags=["oncall", "pagerduty"],
        title="Paging and severity levels",
        body="Paging uses PagerDuty. Sev1 is a customer-facing outage and pages immediately; Sev2 is"
        " degraded service and pages in business hours. Sev1 needs a postmortem within 5 working"
        " days.",
    ),
    A(
        key="infra-loadtest",
        kind="facts",
        project="infra",
        category="learning",
        tags=["postgres", "load-test"],
        title="Load test: Postgres connections were the bottleneck",
        body="At 3k rps the bottleneck was the number of Postgres connections, not CPU. Adding"
        " pgbouncer and lowering Django CONN_MAX_AGE fixed it.",
    ),
    # -- preferences and people --------------------------------------------------------------
    A(
        key="pref-small-prs",
        kind="preferences",
        project="",
        category="code-solution",
        tags=["review"],
        title="Small pull requests",
        body="I prefer small pull requests (under 400 lines of diff) with one logical change; stack"
        " them rather than batching unrelated fixes.",
    ),
    A(
        key="pref-commits",
        kind="preferences",
        project="",
        category="code-solution",
        tags=["git"],
        title="Commit message format",
        body="Commit messages: imperative subject under 50 characters, a blank line, then a body that"
        " explains why. Reference the ticket as 'Refs: HAR-123' at the end.",
    ),
    A(
        key="pref-testing",
        kind="preferences",
        project="",
        category="code-solution",
        tags=["pytest", "testing"],
        title="Testing preferences",
        body="Prefer pytest fixtures over setUp methods. No mocking of the database in integration"
        " tests: use a throwaway Postgres container through testcontainers.",
    ),
    A(
        key="pref-reporting",
        kind="preferences",
        project="",
        category="project-context",
        tags=["communication"],
        title="How to report results to me",
        body="Put the answer first, then the evidence. Keep status updates to three bullet points.",
    ),
    A(
        key="pref-fridays",
        kind="preferences",
        project="",
        category="project-context",
        tags=["deploys"],
        title="No Friday afternoon deploys",
        body="Don't schedule deploys on Fridays after 14:00 local time; hotfixes are the exception and"
        " need a second reviewer.",
    ),
    A(
        key="people-sam",
        kind="people",
        project="",
        category="project-context",
        tags=["security", "people"],
        title="Sam Okafor (security lead)",
        body="Sam Okafor is the security lead and must approve anything touching authentication,"
        " secrets or cryptography. Prefers threat models written as short bullet lists.",
    ),
    A(
        key="people-yuki",
        kind="people",
        project="",
        category="project-context",
        tags=["design", "people"],
        title="Yuki Tanaka (mobile designer)",
        body="Yuki Tanaka designs the mobile app and owns the Figma component library; wants"
        " before-and-after screenshots in any PR that changes the UI.",
    ),
    A(
        key="people-diego",
        kind="people",
        project="juniper",
        category="project-context",
        tags=["debezium", "people"],
        title="Diego Alvarez (juniper data engineer)",
        body="Diego Alvarez is a data engineer on juniper and knows the Debezium connectors best."
        " Works Tuesday to Thursday.",
    ),
]

K, P, Q = "keyword", "paraphrase", "question"

QUERIES: list[tuple[str, str, list[str]]] = [
    # -- keyword: terse, in the target's own words ----------------------------------------------
    (K, "pgbouncer prepared statement does not exist", ["harbor-pgbouncer"]),
    (K, "invoice PDF worker Redis broker", ["harbor-dramatiq"]),
    (K, "invoice totals off by one cent", ["harbor-rounding"]),
    (K, "goroutine leak pprof", ["falcon-goroutines"]),
    (K, "rate limiting Redis API key plan", ["falcon-ratelimit"]),
    (K, "APNs certificate expires", ["falcon-apns"]),
    (K, "gRPC REST mobile apps", ["falcon-grpc"]),
    (K, "Kafka S3 Parquet snapshots", ["juniper-cdc"]),
    (K, "Spark out of memory join", ["juniper-skew"]),
    (K, "Pagefind Algolia", ["quill-pagefind"]),
    (K, "link checker CI", ["quill-links"]),
    (K, "p99 batching ranking model", ["ember-triton"]),
    (K, "INT8 NDCG", ["ember-int8"]),
    (K, "refresh token family revoked", ["atlas-tokens"]),
    (K, "password hashing login timeouts", ["atlas-argon2"]),
    (K, "SAML Okta NameID", ["atlas-saml"]),
    (K, "DNS lookups pods", ["infra-ndots"]),
    (K, "ISRG Root X1 Android", ["infra-android-tls"]),
    (K, "secrets Helm environment variables", ["infra-vault"]),
    (K, "integration tests Postgres container", ["pref-testing"]),
    (K, "Karpenter spot instances", ["infra-clusters"]),
    (K, "hashed email phone columns", ["juniper-pii"]),
    (K, "vLLM paged attention", ["ember-vllm"]),
    (K, "thiserror anyhow unwrap", ["atlas-rust-style"]),
    # -- paraphrase: same meaning, no content word shared with the target ------------------------
    (P, "the DB multiplexer in per-txn setting forgets precompiled SQL", ["harbor-pgbouncer"]),
    (
        P,
        "introducing a mandatory attribute with a fallback value on a huge relation froze writes"
        " for ages",
        ["harbor-not-null"],
    ),
    (
        P,
        "Aussie clients' consumption statements dropped the final calendar date of each period",
        ["harbor-timezone"],
    ),
    (
        P,
        "lightweight threads accumulate without end when a caller disconnects mid-flight",
        ["falcon-goroutines"],
    ),
    (P, "Apple phone alerts quietly stop once the annual credential lapses", ["falcon-apns"]),
    (
        P,
        "outbound web callers lacking a deadline ran us out of socket handles when a dependency"
        " froze",
        ["falcon-http-timeouts"],
    ),
    (P, "legacy phone builds report epoch numbers a thousandfold too big", ["falcon-timestamps"]),
    (
        P,
        "replicate row-level edits from the operational DB rather than copying everything each"
        " night",
        ["juniper-cdc"],
    ),
    (
        P,
        "one giant bucket of logged-out visitors blew the executor heap during a merge",
        ["juniper-skew"],
    ),
    (
        P,
        "combining thousands of tiny columnar outputs so ad-hoc analytics stop crawling",
        ["juniper-small-files"],
    ),
    (P, "a telemetry signal got a new identifier, so engagement figures plunged", ["juniper-dau"]),
    (
        P,
        "swap the hosted documentation finder for one precomputed during publishing",
        ["quill-pagefind"],
    ),
    (
        P,
        "SSR markup disagrees with what the browser builds because a widget peeks at persisted"
        " settings too early",
        ["quill-hydration"],
    ),
    (
        P,
        "accelerator RAM crept upward over the weekend since a memo of word-piece results was"
        " unbounded",
        ["ember-gpu-leak"],
    ),
    (
        P,
        "eight-bit weights harmed relevance on rare searches, so the scorer stays at half precision",
        ["ember-int8"],
    ),
    (
        P,
        "predictions diverged between central and graphics chips because one variant folded"
        " letter case",
        ["ember-parity"],
    ),
    (P, "credentials refused as premature because a machine's time drifted ahead", ["atlas-skew"]),
    (P, "the costly credential digest made sign-ins stall on tiny containers", ["atlas-argon2"]),
    (P, "enterprise federated sign-on kept bouncing a tenant around endlessly", ["atlas-saml"]),
    (
        P,
        "name resolution amplification inside the cluster from the search-domain option",
        ["infra-ndots"],
    ),
    (
        P,
        "legacy phones could not negotiate secure sessions once our CA trust anchor moved",
        ["infra-android-tls"],
    ),
    (P, "keep each patch proposal tiny and focused on a single concern", ["pref-small-prs"]),
    (P, "no releases at the end of the work week after lunch", ["pref-fridays"]),
    (
        P,
        "duplicate checkout submissions must not bill twice: remember the first answer for a day",
        ["harbor-idempotency"],
    ),
    # -- question: how a person would ask -------------------------------------------------------
    (Q, "why did we stop using Celery for invoice PDFs?", ["harbor-dramatiq"]),
    (Q, "how do we verify Stripe webhooks and where is the secret?", ["harbor-stripe"]),
    (Q, "what stack is the billing backend built on?", ["harbor-context"]),
    (Q, "who should I ask before changing VAT rules?", ["harbor-priya"]),
    (Q, "how does falcon rate limit each customer plan?", ["falcon-ratelimit"]),
    (Q, "what do I do when the iOS push certificate needs renewing?", ["falcon-apns"]),
    (Q, "why was the checkout test flaky?", ["falcon-flaky"]),
    (Q, "who do I escalate a falcon Sev1 to?", ["falcon-marco", "infra-paging"]),
    (
        Q,
        "how should Airflow tasks write partitions so backfills are safe?",
        ["juniper-idempotent-dags"],
    ),
    (
        Q,
        "where do the analytics dashboards live and what orchestrates the pipeline?",
        ["juniper-context"],
    ),
    (Q, "how are emails and phone numbers protected in the data lake?", ["juniper-pii"]),
    (Q, "what are the conventions for SQL code review?", ["juniper-sql-style"]),
    (Q, "how does the docs site get deployed?", ["quill-deploy"]),
    (Q, "what writing style should the documentation follow?", ["quill-style"]),
    (Q, "how do we promote a model to production in ember?", ["ember-registry"]),
    (Q, "why did GPU memory keep growing in ember?", ["ember-gpu-leak"]),
    (Q, "how do we keep training and serving features consistent?", ["ember-feature-store"]),
    (Q, "how long do atlas access tokens live?", ["atlas-tokens"]),
    (Q, "how often are the signing keys rotated?", ["atlas-keys"]),
    (Q, "how do other services check atlas logins?", ["atlas-context"]),
    (Q, "where do logs go and how long are they kept?", ["infra-logging"]),
    (Q, "how should commit messages be formatted?", ["pref-commits"]),
    (Q, "who has to approve changes to authentication code?", ["people-sam"]),
    (Q, "how should failed calls to the tax provider be retried?", ["harbor-backoff"]),
]
