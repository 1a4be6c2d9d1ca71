"""Builds tests/data/pii_corpus.jsonl: `python -m tests.data.make_pii_corpus`.

Each line: {"id", "kind", "text", "labels": [{"type", "start", "end", "detail"}]}. Templates
are written the way notes, code, logs and configs read; «name» slots are filled from
tests/data/pii_values.py with a fixed seed, so the spans are exact by construction. Slots whose
generator returns no type are near misses (UUIDs, digests, versions, invalid cards, dates,
order numbers …): nothing in them may be reported.

Names and street addresses appear as context, unlabelled: the detector has no named-entity
model (none installs offline), so they are not among its types.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from tests.data import pii_values as V

OUT = Path(__file__).with_name("pii_corpus.jsonl")
SEED = 14

# (kind, template, how many instances)
T: list[tuple[str, str, int]] = [
    # ---- notes and prose
    ("note", "Met «email» at the conference; follow up next week about the pilot.", 3),
    ("note", "Customer callback: «phone_us» (after 5pm ET). Ticket was escalated.", 3),
    (
        "note",
        "Frau Müller aus der Hauptstraße 12, 10115 Berlin, erreichbar unter Tel. «phone_national».",
        3,
    ),
    ("note", "Numéro de téléphone de M. Dubois : «phone_intl», e-mail «email».", 3),
    ("note", "Reminder: send the contract to «email» and cc «email».", 2),
    ("note", "Her SSN is «ssn» — do not paste it into the shared doc again.", 3),
    ("note", "Paid the deposit with card «card», expires 09/27.", 3),
    ("note", "Refund goes to IBAN «iban» (account holder: José García).", 3),
    ("note", "Überweisung bitte auf «iban», Verwendungszweck Rechnung 2024-117.", 2),
    ("note", "New hire paperwork: «keyed_id», start date «date».", 4),
    ("note", "Pasaporte no, pero el DNI/NIE/código es «national_id» según el formulario.", 4),
    ("note", "ID on file: «national_id». Verified in person on «date».", 3),
    ("note", "Riya Sharma (Bengaluru) shared her «keyed_id» for the KYC form.", 2),
    ("note", "If I forget again: my password is «password_prose»", 2),
    ("note", "WhatsApp me on «phone_intl» when you land in Lisbon.", 2),
    ("note", "Li Wei — 北京市朝阳区 — mobile «phone_intl», mail «email».", 2),
    ("note", "The VPN gateway moved to «ipv4»; old one is decommissioned.", 2),
    ("note", "Learned today: git bisect found the regression in «git_sha» after 7 steps.", 2),
    (
        "note",
        "Upgraded Postgres to version «version4» and the planner stopped choosing the seq scan.",
        2,
    ),
    ("note", "Order «order_no» shipped on «date»; tracking page says in transit.", 3),
    ("note", "Invoice #«order_no» for «amount» EUR is overdue since «date».", 2),
    (
        "note",
        "The card ending in 4242 was declined; test with «bad_card» failed Luhn as expected.",
        2,
    ),
    ("note", "Meeting notes «date»: decided to shard by tenant id, rollout in «semver».", 2),
    ("note", "Call with Aoife Murphy (Dublin) went well. Next steps: pricing, SSO, audit logs.", 1),
    ("note", "Ahmed's flat: Rue de la Paix 5, 75002 Paris. Dinner at 19:30 on Friday.", 1),
    ("note", "Kwame Mensah moved to Accra; the team gift is on the way to his new office.", 1),
    ("note", "Dr. Tanaka Yuki, 東京都港区六本木 1-2-3, will review the paper by 12/15.", 1),
    ("note", "Quarterly numbers: revenue up 12.5%, churn 3.1%, NPS 41. Board deck v3 sent.", 1),
    (
        "note",
        "Reading list: DDIA ch. 5, the Raft paper, and the 2019 Jepsen report on etcd 3.4.3.",
        1,
    ),
    ("note", "Pick up dry cleaning, ticket 20931. Pharmacy closes at 18:00.", 1),
    ("note", "Flight LH 1234 departs 07:45 from gate B12, seat 14C, booking ref XK7P2Q.", 1),
    ("note", "Wifi at the cabin: network «uuid», ask the owner for the code.", 1),
    (
        "note",
        "Room 404, building 3, floor 2. The printer is HP-4050 on 10.0.0.0/8? no, on «ipv4».",
        2,
    ),
    # ---- code
    ("code", 'AWS_ACCESS_KEY_ID = "«aws_key»"\nAWS_SECRET_ACCESS_KEY = "«aws_secret»"', 3),
    (
        "code",
        "client = boto3.client('s3', aws_access_key_id='«aws_key»', region_name='eu-west-1')",
        2,
    ),
    ("code", 'const firebaseConfig = { apiKey: "«gcp_key»", projectId: "demo-app" };', 3),
    ("code", 'headers = {"Authorization": f"token «github_token»"}', 3),
    ("code", "git clone https://oauth2:«gitlab_token»@gitlab.com/team/infra.git", 2),
    ("code", "SLACK_BOT_TOKEN=«slack_token»", 2),
    ("code", 'stripe.api_key = "«stripe_key»"', 2),
    ("code", 'db_password = "«password»"\nconn = connect(host=HOST, password=db_password)', 3),
    ("code", 'DATABASE_URL = "«pg_url»"', 3),
    (
        "code",
        'token = "«jwt»"\nresp = requests.get(url, headers={"Authorization": f"Bearer {token}"})',
        3,
    ),
    ("code", 'def test_parse():\n    assert parse("«email»") == Address(local=..., domain=...)', 2),
    ("code", "# TODO(«email»): remove after the migration", 2),
    ("code", 'password = os.environ["DB_PASSWORD"]\nuser = getpass.getuser()', 1),
    ("code", 'password = getpass.getpass("Password: ")\nif not check(password): raise Denied', 1),
    ("code", "self.password = password\nself.token = token_factory()", 1),
    ("code", 'id = "«uuid»"\nrev = "«git_sha»"', 3),
    ("code", 'EXPECTED_SHA256 = "«sha256»"', 3),
    ("code", '__version__ = "«semver»"\nBUILD = «order_no»', 2),
    ("code", "for i in range(1024):\n    buf[i] = (i * 2654435761) % 4294967296", 1),
    ("code", 'assert luhn_ok("«bad_card»") is False', 2),
    ("code", "timeout_ms = 30000\nmax_tokens = 4096\ntoken_count = 12000", 1),
    ("code", 'api_key = "«api_token»"', 3),
    ("code", "const API_TOKEN = '«api_token»';", 2),
    ("code", 'ALLOWED_HOSTS = ["«ipv4»", "localhost", "127.0.0.1"]', 2),
    ("code", 'img.src = "data:image/png;base64,«b64_blob»";', 2),
    ("code", '"integrity": "sha512-«b64_blob»"', 2),
    ("code", "color: #ff8800; margin: 0 auto; transition: all 0.3s ease-in-out;", 1),
    ("code", 'std::vector<int> v; std::map<std::string, int> m; auto it = m.find("key");', 1),
    ("code", "let ts = «unix_ts»; // epoch millis from the API", 2),
    ("code", 'PRIVATE_KEY = """«private_key»"""', 2),
    ("code", 'SECRET_KEY = "«django_key»"', 2),
    ("code", 'ssh_key = open(os.path.expanduser("~/.ssh/id_ed25519")).read()', 1),
    ("code", 'user = User(email="«email»", phone="«phone_intl»")', 2),
    # ---- logs
    ("log", "«date» INFO auth: login ok user=«email» ip=«ipv4»", 4),
    ("log", "«date» WARN rate limit exceeded for «ipv4» (120 req/min)", 3),
    ("log", "«date» ERROR payment failed card=«card» code=51 insufficient_funds", 2),
    ("log", "«date» DEBUG request_id=«uuid» took 231ms status=200", 3),
    ("log", "[«date»] sshd[2211]: Accepted publickey for deploy from «ipv4» port 52144", 3),
    ("log", "«date» INFO connected to [«ipv6»]:443", 3),
    ("log", "«date» INFO build «git_sha» deployed to prod (version «version4»)", 3),
    ("log", "kernel: eth0: link up, MAC «mac», 1000 Mbps full duplex", 2),
    ("log", "«date» INFO order=«order_no» items=3 total=«amount»", 3),
    ("log", "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/«version4» Safari/537.36", 2),
    ("log", "«date» WARN retry 3/5 for job «uuid» after 2048 ms", 2),
    ("log", "«date» INFO sms sent to «phone_intl» (template otp_v2)", 2),
    ("log", "«date» ERROR invalid token «jwt» (expired)", 2),
    ("log", "«date» INFO listening on 0.0.0.0:8080 and [::]:8080, health on 127.0.0.1:9090", 1),
    ("log", "«date» INFO snmp walk oid 1.3.6.1.4.1.2021.10.1.3.1 ok", 1),
    ("log", "«date» INFO netmask 255.255.255.0 gateway «ipv4»", 2),
    ("log", "«date» INFO took 12.345.678 ns? no: 12,345,678 ns for batch «order_no»", 1),
    # ---- configs
    ("config", "[default]\naws_access_key_id = «aws_key»\naws_secret_access_key = «aws_secret»", 3),
    ("config", "database:\n  host: db.internal\n  user: app\n  password: «password»", 3),
    ("config", "database:\n  password: ${DB_PASSWORD}\n  pool: 10", 1),
    ("config", "SMTP_USER=«email»\nSMTP_PASSWORD=«password»\nSMTP_PORT=587", 3),
    ("config", "redis:\n  url: «pg_url»", 2),
    (
        "config",
        '{"type": "service_account", "private_key": "«private_key»", "client_email": "«email»"}',
        2,
    ),
    (
        "config",
        "server {\n  listen 443 ssl;\n  server_name example.com;\n  allow «ipv4»;\n  deny all;\n}",
        2,
    ),
    ("config", "interface eth0\n  address «ipv6»/64\n  gateway «ipv6»", 2),
    ("config", "GITHUB_TOKEN=«github_token»\nNPM_REGISTRY=https://registry.npmjs.org/", 2),
    ("config", 'password: "<your password here>"\napi_key: "REPLACE_ME"\ntoken: ""', 1),
    (
        "config",
        '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "==2.31.0"\nurllib3 = "1.26.18"',
        1,
    ),
    ("config", "image: registry.example.com/app@sha256:«sha256»", 2),
    (
        "config",
        'version: "3.9"\nservices:\n  web:\n    ports: ["8080:80"]\n    environment:\n      - RELEASE=«version4»',
        2,
    ),
    ("config", "[user]\n  name = Sven Johansson\n  email = «email»\n  signingkey = «git_sha»", 2),
    ("config", "x-api-key: «api_token»\naccept: application/json", 2),
    ("config", "bank:\n  iban: «iban»\n  bic: COBADEFFXXX", 2),
    ("config", "ntp_servers: [«ipv4», «ipv4»]", 2),
    ("config", "jwt_secret: «api_token»\njwt_ttl: 3600", 2),
    # ---- tables, csv, chat
    (
        "table",
        "name,email,phone\nAnna Schmidt,«email»,«phone_intl»\nJoão Silva,«email»,«phone_intl»",
        3,
    ),
    ("table", "| id | sku | qty | price |\n| «order_no» | «order_no» | 2 | 19.99 |", 2),
    ("table", "date,amount,reference\n«date»,«amount»,«order_no»\n«date»,«amount»,«order_no»", 2),
    ("table", "patient,nhs_or_id,dob\nM. Rossi,«national_id»,1984-02-11", 2),
    ("chat", "can you reset the password? the temp one is «password_prose» lol", 2),
    ("chat", "ping me at «email» or «phone_us», whichever", 3),
    ("chat", "the deploy key leaked in #general: «github_token» — rotating now", 2),
    ("chat", "card on file is «card», billing zip 94107", 2),
    ("chat", "my ssn «ssn_bare» — wait, wrong chat, please delete", 1),
    ("chat", "SSN: «ssn_bare»", 2),
    ("chat", "ok so uuid «uuid» and commit «git_sha» are the ones to compare", 2),
    ("chat", "sorry, the number was «bad_card», not a real card", 1),
    ("chat", "IBAN «bad_iban» bounces, the check digits are wrong", 2),
    ("chat", "ssn «bad_ssn» isn't valid, it was a placeholder", 2),
    ("chat", "call 1-800-FLOWERS or press 0 for the operator; ext. 4471", 1),
    ("chat", "room is 3.14, pi is 3.14159, e is 2.71828, golden 1.61803", 1),
    ("chat", "score was 3-1, then 2-2 on 12/03; attendance 45,102", 1),
    # ---- more shapes: signatures, headers, URIs, structured files
    (
        "note",
        "Best regards,\nIngrid Larsen\nHead of Platform\nT «phone_uk_zero»\nM «phone_intl»",
        2,
    ),
    ("note", "— \nMarta Nowak | Kraków office | tel. «phone_intl» | «email»", 2),
    ("note", 'From: "Aoife Byrne" <«email»>\nTo: «email»\nSubject: offsite', 3),
    (
        "note",
        'Click <a href="mailto:«email»">here</a> or dial <a href="tel:«phone_e164»">us</a>.',
        2,
    ),
    ("note", "Signed-off-by: Tomasz Kowalski <«email»>", 2),
    (
        "note",
        "Release notes for 4.2.0.1: fixed the importer; see ISBN «isbn» for the book we cite.",
        2,
    ),
    ("note", "Barcode «ean» scanned at the till, receipt 0042-1187.", 2),
    ("note", "We camped at «coords» for two nights; elevation 2,310 m.", 2),
    ("note", "Amazon order «amazon_order» arrived damaged; asked for a refund.", 2),
    (
        "note",
        "Standup: Priya on PTO until Thursday; Lukas pairing with Chloe on the flaky e2e test.",
        1,
    ),
    (
        "note",
        "Reminder to self: the meeting with Herr Dr. Fischer is at Lindenstraße 3, 3. OG, 14:00.",
        1,
    ),
    ("note", "Q3 targets: 99.95% uptime, p99 < 250 ms, error budget 21.6 min/month.", 1),
    ("note", "Kubernetes 1.29.3.2 hotfix went out; node pool resized from 12 to 18.", 1),
    ("note", "Mi contraseña nueva es «password» (no la compartas).", 2),
    ("note", "Das WLAN-Passwort lautet: «password»", 2),
    ("code", 'curl -H "Authorization: Bearer «api_token»" https://api.example.com/v2/users', 3),
    ("code", "curl -u admin:«password» https://ci.example.com/api/json", 1),
    ("code", "export AWS_SECRET_ACCESS_KEY=«aws_secret»\nexport AWS_DEFAULT_REGION=us-east-1", 2),
    ("code", "//registry.npmjs.org/:_authToken=«npm_token»", 2),
    ("code", "GOOGLE_CLIENT_SECRET=«gcp_oauth»", 2),
    ("code", "mysql -h «ipv4» -u root -p«password» app_db", 1),
    ("code", "ssh -i ~/.ssh/deploy ubuntu@«ipv4_public» 'sudo systemctl restart app'", 2),
    (
        "code",
        'if err := db.Ping(); err != nil {\n    log.Fatalf("ping %s: %v", cfg.Host, err)\n}',
        1,
    ),
    ("code", "const MAX = 9007199254740991; const EPS = 2.220446049250313e-16;", 1),
    ("code", "SELECT id, email FROM users WHERE created_at > '«date»' AND id = «order_no»;", 1),
    ("code", "INSERT INTO contacts VALUES ('Ana Costa', '«email»', '«phone_intl»');", 2),
    ("code", 'payload = {"card_number": "«card»", "cvc": "123", "exp": "12/28"}', 2),
    ("code", "authorized_keys:\n  - «ssh_pubkey»", 2),
    ("code", 'CA_BUNDLE = """«cert_block»"""', 2),
    ("code", "# go.sum\n«go_sum»\n«go_sum»", 2),
    ("code", 'user_id = "«uuid»"  # not a secret\ncommit_sha = "«git_sha»"', 2),
    ("code", "random.seed(1234567890)\nnp.random.seed(42)", 1),
    ("code", 'ALLOWED_CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]', 1),
    ("log", "«date» INFO X-Forwarded-For: «ipv4_public», «ipv4»", 3),
    ("log", "«date» INFO upstream [«ipv6»]:8443 healthy", 2),
    ("log", "GET /api/v1/users?email=«email»&page=2 200 12ms", 2),
    ("log", "«date» WARN card «bad_card» rejected: invalid number", 2),
    ("log", "«date» ERROR IBAN «bad_iban» failed validation", 2),
    ("log", "«date» INFO pid=4312 rss=1843200 kB threads=64 uptime=1209600s", 1),
    ("log", "«date» INFO trace_id=«sha256» span_id=«git_sha»", 2),
    ("log", "«date» DEBUG Set-Cookie: session=«api_token»; HttpOnly; Secure", 2),
    ("config", "apiVersion: v1\nkind: Secret\ndata:\n  password: «k8s_b64_secret»", 2),
    ("config", "[client]\nuser=backup\npassword=«password»\nhost=«ipv4»", 2),
    ("config", '[sendgrid]\napi_key = "«api_token»"\nfrom = «email»', 2),
    ("config", '"dependencies": {"react": "^18.2.0", "lodash": "4.17.21"}', 1),
    ("config", "proxy_pass http://«ipv4»:8080;\nproxy_set_header X-Real-IP $remote_addr;", 2),
    ("config", "dns:\n  - «ipv4_public»\n  - «ipv6»", 2),
    ("config", "password_min_length: 12\npassword_policy: strict\ntoken_ttl: 3600", 1),
    ("table", "Name;IBAN;Betrag\nJonas Weber;«iban»;120,00\nLea Braun;«iban»;75,50", 2),
    ("table", "employee,ssn,start\nK. Mensah,«ssn»,«date»", 2),
    ("table", "host,ip,role\nweb-1,«ipv4»,frontend\ndb-1,«ipv4»,primary", 2),
    ("chat", "my new number is «phone_intl», old one is dead", 2),
    ("chat", "use card «card» for the team lunch, exp 04/27 cvv on the back", 1),
    ("chat", "lol the build number was 20240315.1842, not a phone number", 1),
    ("chat", "the api key is «api_token» but only for staging", 2),
    # ---- memory-note style: debugging logs, incidents, customer notes
    (
        "note",
        "Debugged the OOM in the ingest worker: heap grew to 3.2 GB because the cache key included the request id «uuid».",
        1,
    ),
    ("note", "Fixed flaky test test_retry_backoff (seed 1337) by freezing time at «date».", 1),
    (
        "note",
        "Customer Jane Roe («email», «phone_us») asked for a data export under GDPR art. 15.",
        2,
    ),
    (
        "note",
        "Le client Pierre Martin, «phone_national», souhaite être rappelé avant le «date».",
        2,
    ),
    ("note", "Sra. López — móvil «phone_intl» — DNI «es_dni»", 2),
    ("note", "Postgres at «ipv4»:5432 was refusing connections after the failover.", 2),
    (
        "note",
        "Load balancer health checks from 35.191.0.0/16 and 130.211.0.0/22 must be allowed.",
        1,
    ),
    ("note", "Rotated the leaked key «aws_key» and audited CloudTrail for «date».", 2),
    ("note", "We pinned urllib3 to «semver» and requests to «semver» until the proxy is fixed.", 1),
    ("note", "PR #5521 merged; release «version4» tagged from commit «git_sha».", 2),
    ("note", "Invoice INV-2024-00042 total €1.249,00, due «date»; Kundennummer «order_no».", 1),
    ("note", "Reset my VPN password to «password» for now.", 2),
    ("note", "Ping latency to «ipv4_public» was 12 ms; traceroute via «ipv4».", 1),
    ("code", "OPENAI_API_KEY=«openai_key»", 2),
    ("code", "kubectl create secret generic db --from-literal=password=«password»", 2),
    ("code", 'SHA1 = "«git_sha»"  # of the artefact', 1),
    ("config", "X-Api-Key: «api_token»", 1),
]

SLOT = re.compile(r"«(\w+)»")


def _prose_password(r: random.Random) -> list[V.Piece]:
    return V.password(r)


GEN = dict(V.GEN)
GEN["password_prose"] = _prose_password
GEN["django_key"] = lambda r: [
    ("django-insecure-" + V.rtoken(r, V.ALNUM + "!@#%^&*(-_=+)", 50), "secret", "password")
]


def build() -> list[dict]:
    r = random.Random(SEED)
    out: list[dict] = []
    for kind, template, n in T:
        for _ in range(n):
            text = ""
            labels = []
            pos = 0
            for m in SLOT.finditer(template):
                text += template[pos : m.start()]
                for piece, typ, detail in GEN[m.group(1)](r):
                    if typ:
                        labels.append(
                            {
                                "type": "secret" if typ == "secret" else typ,
                                "start": len(text),
                                "end": len(text) + len(piece),
                                "detail": detail,
                            }
                        )
                    text += piece
                pos = m.end()
            text += template[pos:]
            out.append({"id": f"c{len(out) + 1:04d}", "kind": kind, "text": text, "labels": labels})
    return out


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    n_pii = sum(1 for x in rows if x["labels"])
    print(f"{len(rows)} snippets ({n_pii} with PII, {len(rows) - n_pii} without) -> {OUT}")


if __name__ == "__main__":
    main()
