# ruff: noqa: E501  (corpus lines stay verbatim, one per row, whatever their length)
"""Redaction over a corpus: secrets in every format we meet, and look-alikes left alone.

Each secret line must lose its secret (and show the marker); each look-alike must come out
byte-for-byte the same: a redaction that eats ordinary code makes suggestions worse for nothing.
"""

from __future__ import annotations

import pytest

from spark_lsp.shared.privacy import REDACTED, redact_secrets

#: (format, line, the secret it holds)
SECRETS: list[tuple[str, str, str]] = [
    # dotenv / shell
    ("dotenv", "DB_PASSWORD=hunter2secret", "hunter2secret"),
    ("dotenv", "API_TOKEN=abcdefghij", "abcdefghij"),
    ("dotenv", "SECRET=correcthorse", "correcthorse"),
    ("dotenv", "PGPASSWORD=letmein99", "letmein99"),
    ("dotenv", 'STRIPE_WEBHOOK_SECRET="whsec_5f2b1c9e7a"', "whsec_5f2b1c9e7a"),
    ("dotenv", "DATABASE_URL=postgresql://app:Sup3rS3cret@db/app", "Sup3rS3cret"),
    ("shell", "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE", "wJalrXUtnFEMI"),
    ("shell", "export GITHUB_TOKEN=mytokenvalue", "mytokenvalue"),
    ("shell", 'curl -H "Authorization: Bearer abcdefghijklmnop1234" https://x', "abcdefghijklmnop1234"),
    ("shell", "curl -H 'Authorization: Basic dXNlcjpwYXNzd29yZA==' https://x", "dXNlcjpwYXNzd29yZA"),
    # INI / properties
    ("ini", "password = s3cr3t!pw", "s3cr3t!pw"),
    ("ini", "password = correcthorse", "correcthorse"),
    ("conf", "db_password = batterystaple", "batterystaple"),
    ("ini", "db_password=tigerlily", "tigerlily"),
    ("ini", "passwd=opensesame", "opensesame"),
    ("properties", "spring.datasource.password=hunter2", "hunter2"),
    ("properties", "app.jwt.secret=Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
    # YAML / docker-compose / Kubernetes
    ("yaml", "password: hunter", "hunter"),
    ("yaml", '  db_password: "a quoted pass phrase"', "a quoted pass phrase"),
    ("yaml", "api_key: 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ("yaml", "client_secret: Zm9vYmFyYmF6", "Zm9vYmFyYmF6"),
    ("yaml", "      - POSTGRES_PASSWORD=example99", "example99"),
    ("yaml", "  auth_token: 'tok-77aa-bb'", "tok-77aa-bb"),
    # TOML
    ("toml", 'password = "s3cret-pw"', "s3cret-pw"),
    ("toml", "api_key = 'abcd-efgh-ijkl'", "abcd-efgh-ijkl"),
    ("toml", 'token = "pypi-AgEIcHlwaS5vcmcCJGE"', "pypi-AgEIcHlwaS5vcmcCJGE"),
    # JSON
    ("json", '"password": "hunter2"', "hunter2"),
    ("json", '{"apiKey": "AbCdEf123456"}', "AbCdEf123456"),
    ("json", '"client_secret":"xyz987abc"', "xyz987abc"),
    ("json", '  "refresh_token": "1//0gLq-zz9"', "1//0gLq-zz9"),
    # code
    ("python", 'DB_PASSWORD = "hunter2hunter2"', "hunter2hunter2"),
    ("python", "SECRET_KEY = 'django-insecure-abc123'", "django-insecure-abc123"),
    ("python", 'client = Client(api_key="abcd1234efgh")', "abcd1234efgh"),
    ("python", 'password: str = "typed-secret"', "typed-secret"),
    ("javascript", 'const apiKey = "AbCdEf123456";', "AbCdEf123456"),
    ("javascript", "login({ user: 'me', password: 'pa55word' })", "pa55word"),
    ("go", 'token := "go-token-value"', "go-token-value"),
    ("ruby", "config.secret = 'rubysecret'", "rubysecret"),
    ("php", "'password' => 'phpsecret',", "phpsecret"),
    ("xml", "<password>xmlsecret</password>", "xmlsecret"),
    # connection strings
    ("url", "mysql://root:hunter2@localhost:3306/db", "hunter2"),
    ("url", "mongodb+srv://admin:p4ssw0rd@cluster0.example.net/test", "p4ssw0rd"),
    ("url", "redis://:authpass@redis:6379/0", "authpass"),
    ("url", "amqp://guest:guest123@rabbit:5672/", "guest123"),
    ("azure", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc123XYZ==;", "abc123XYZ"),
    # well-known key shapes, anywhere
    ("key", "x = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345'", "sk-proj-abcdefghijklmnopqrstuvwxyz012345"),
    ("key", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("key", "github_pat_11ABCDEFG0abcdefghijklmnopqrstuvwxyz", "github_pat_11ABCDEFG0abcdefghijklmnop"),
    ("key", "glpat-abcdefghijklmnopqrst", "glpat-abcdefghijklmnopqrst"),
    ("key", "npm_abcdefghijklmnopqrstuvwxyz0123456789", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("key", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"),
    ("key", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("key", "xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
    ("key", "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX", "XXXXXXXXXXXXXXXX"),
    ("key", "AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
    ("key", "sk_live_abcdefghijklmnop1234", "sk_live_abcdefghijklmnop1234"),
    ("key", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "dozjgNryP4J3jVmNHl0w5N"),
    ("pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXk"),
    ("pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA", "MIIEpAIBAAKCAQEA"),
    # a window or a piece that starts inside a key: its BEGIN line is in another message
    ("pem", "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----", "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u"),
    ("pem", 'KEY = (\n    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"\n    "-----END OPENSSH PRIVATE KEY-----"\n)', "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9u"),
]  # fmt: skip

#: Lines that look like secrets to a careless pattern and are not.
LOOK_ALIKES: list[tuple[str, str]] = [
    ("python", "password = get_password()"),
    ("python", "token = self.token"),
    ("python", 'api_key = os.environ["OPENAI_API_KEY"]'),
    ("python", "def login(user: str, password: str) -> bool:"),
    ("python", "MAX_TOKENS = 4096"),
    ("python", "secret = None"),
    ("python", "    password = hunter"),  # indented: a variable (at the margin it reads as INI)
    ("python", "connect(host=host, password=password)"),
    ("python", 'PASSWORD_PROMPT = "Enter your password: "'),
    ("python", 'tokenizer = "o200k_base"'),
    ("python", "if token is None:"),
    ("python", 'headers = {"Authorization": f"Bearer {token}"}'),
    ("typescript", "password: string;"),
    ("typescript", "const token: Token = await auth.token();"),
    ("yaml", "max_tokens: 128000"),
    ("yaml", "DB_PASSWORD: ${DB_PASSWORD}"),
    ("yaml", "secret_name: my-app-secrets"),
    ("yaml", "token_type: bearer"),
    ("yaml", "request_id: 123e4567-e89b-12d3-a456-426614174000"),
    ("yaml", "git_sha: 3f786850e387550fdab836ed7e6dc881de23001b"),
    ("json", '"password": null'),
    ("json", '"id": "550e8400-e29b-41d4-a716-446655440000"'),
    ("json", '"version": "1.2.3"'),
    ("package-lock", '"integrity": "sha512-9b3Ht0pSpdtBpAK0NDgFM6NjePt0Qmv3fYQmaNDQpW9Jv5Qh6Y+RMvh7Q=="'),
    ("package-lock", '"resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz"'),
    ("Cargo.lock", 'checksum = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"'),
    ("poetry.lock", 'hash = "sha256:2ef7d1e7ab2b1ed2c9a2a2d8d95c1ed7c1e0ed9a5c0a7c8a1b4c2d9e8f7a6b5c"'),
    ("url", 'url = "http://localhost:8080/api"'),
    ("url", "git clone https://user@github.com/org/repo.git"),
    ("dotenv", "PASSWORD_MIN_LENGTH=12"),
    ("dotenv", "API_KEY=$OPENAI_API_KEY"),
    ("toml", 'sort_key = "name"'),
    ("ini", "auth_url = https://auth.example.com/oauth/token"),
]  # fmt: skip


def test_the_corpus_is_large_enough() -> None:
    assert len(SECRETS) >= 40 and len({fmt for fmt, _, _ in SECRETS}) >= 10
    assert len(LOOK_ALIKES) >= 20


@pytest.mark.parametrize(("fmt", "line", "secret"), SECRETS, ids=[s[1][:40] for s in SECRETS])
def test_secrets_are_redacted(fmt: str, line: str, secret: str) -> None:
    out = redact_secrets(line + "\n")
    assert secret not in out and REDACTED in out, out


@pytest.mark.parametrize(("fmt", "line"), LOOK_ALIKES, ids=[s[1][:40] for s in LOOK_ALIKES])
def test_look_alikes_are_left_alone(fmt: str, line: str) -> None:
    assert redact_secrets(line + "\n") == line + "\n"


def test_a_whole_file_keeps_its_shape() -> None:
    """Redaction replaces values only: lines, keys and the text around them stay."""
    text = "".join(line + "\n" for _, line, _ in SECRETS if "\n" not in line)
    out = redact_secrets(text)
    assert out.count("\n") == text.count("\n")
    assert "DB_PASSWORD=" in out and '"client_secret":"' in out
