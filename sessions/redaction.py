"""Find secrets (and, when the account asks, internal addresses) in text that leaves the app.

Pure functions: `find(text)` answers where the findings are and of which kind; `redact` replaces
them with ``[REDACTED:<kind>]``. The exports call this on every piece of engineer text (notes,
custom steps, intake answers, outcome notes, next steps, commands as filled in); the stored
session is never changed.

What comes from where:
- **detect-secrets** (Yelp, Apache-2.0), in-process, no baseline files: the token formats of its
  regex plugins (AWS key ids and quoted secrets, Azure storage ``AccountKey=``, URL credentials,
  GitHub, GitLab, JWT with its validity check, Slack, Stripe, SendGrid, npm, PyPI, OpenAI,
  Square, Telegram, Mailchimp), its private-key headers, its keyword list for password-like
  names, its Shannon-entropy measure, and its heuristic filters (templated values,
  ``$variables``, UUIDs, sequential strings). We read the plugins' compiled ``denylist``
  patterns because the plugins only yield values and a redaction needs positions.
- **Our own rules** for what MSP engineers paste: ``-Password '…'`` and other credential
  parameters, ``ConvertTo-SecureString '…' -AsPlainText``, ``net user``/``net use``/``cmdkey``,
  ``psexec``/``sqlcmd``/``mysql -p``, ``chpasswd``, ``curl -u``, ``openssl pass:``, prose such as
  "temp password is …", connection strings, PEM and PuTTY key blocks, bearer/basic headers,
  Azure SAS signatures and shared access keys, Google API keys, BitLocker recovery keys, long
  high-entropy values after key-like words; and, as an account option, internal IPv4/IPv6,
  MAC and e-mail addresses.

Low noise matters as much as recall: a value is only a password when it looks like one (not
"reset", "expired", a date, a placeholder or a variable)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from detect_secrets.filters import heuristic
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import DENYLIST as KEYWORD_DENYLIST
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector

KINDS: dict[str, str] = {
    "password": "Password",
    "connection-string": "Connection string password",
    "private-key": "Private key",
    "jwt": "JSON web token",
    "bearer-token": "Bearer token",
    "basic-auth": "Basic credentials",
    "url-password": "Password in a URL",
    "aws-access-key": "AWS access key",
    "aws-secret-key": "AWS secret key",
    "azure-key": "Azure storage or shared access key",
    "azure-sas": "Azure SAS signature",
    "google-api-key": "Google API key",
    "github-token": "GitHub token",
    "gitlab-token": "GitLab token",
    "slack-token": "Slack token",
    "stripe-key": "Stripe key",
    "api-token": "API token",
    "secret": "Secret value",
    "recovery-key": "BitLocker recovery key",
    "ipv4": "Internal IPv4 address",
    "ipv6": "Internal IPv6 address",
    "mac": "MAC address",
    "email": "E-mail address",
}
INTERNAL_KINDS = frozenset({"ipv4", "ipv6", "mac", "email"})
# Found by context (a name, a URL); a token format found in the same place names it better.
GENERIC_KINDS = frozenset({"password", "url-password", "secret", "connection-string"})


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    kind: str

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def replacement(self) -> str:
        return f"[REDACTED:{self.kind}]"


# --- is this value a credential? ------------------------------------------------------------

# Words that follow "password:" / "password is" in ordinary notes.
_NOT_SECRETS = frozenset(
    """
    a an the this that it its my your their our his her new old same current temporary temp one
    reset resets expired expires expiring expiry changed change changes set unset never required
    requirement requirements policy policies complexity history length age hidden redacted none
    null nil n/a na unknown empty blank missing correct incorrect wrong invalid valid ok okay
    true false yes no on off enabled disabled sent emailed texted shared given provided prompt
    prompted read-host get-credential securestring asked entered typed manager vault keeper
    bitwarden 1password lastpass passbolt itglue hudu not now still also to be for from with via
    by in on at of and or is was are were has have had will should must can cannot could user
    users account accounts login logon sign-in signin
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
_PLACEHOLDER = re.compile(
    r"^(?:\*+|x{3,}|\.{3,}|•+|#+|-+|_+|\?+|<[^>]*>|\{[^}]*\}|\[[^\]]*\]|%\w+%|\$\S*|@\w+|"
    r"\(.*|<.*|-[a-z]+|redacted|hidden|secret|password|changeme-?later)$",
    re.IGNORECASE,
)
_DATE_OR_NUMBER = re.compile(r"^[\d./:\- ]+(?:[ap]m)?$", re.IGNORECASE)
_TRAILING = ".,;)]}>"


def strip_value(value: str) -> tuple[str, int, int, bool]:
    """The value without its quotes (and trailing sentence punctuation when unquoted):
    (text, offset of its start, offset of its end, quoted)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
        return value[1:-1], 1, len(value) - 1, True
    end = len(value)
    while end > 0 and value[end - 1] in _TRAILING:
        end -= 1
    return value[:end], 0, end, False


def looks_like_credential(value: str, *, quoted: bool) -> bool:
    """A literal someone could log in with: not a word of prose, a placeholder, a variable,
    a date or a number too short to be one."""
    if len(value) < 3 or len(value) > 200 or value.lower() in _NOT_SECRETS:
        return False
    if _PLACEHOLDER.match(value) or heuristic.is_templated_secret(value):
        return False
    if heuristic.is_prefixed_with_dollar_sign(value) or "[VAR:" in value:
        return False
    if quoted:
        return True
    if _DATE_OR_NUMBER.match(value):
        return value.isdigit() and len(value) >= 6
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    inner_upper = any(c.isupper() for c in value[1:])
    return len(value) >= 12 or (len(value) >= 4 and (has_digit or has_symbol or inner_upper))


_ENTROPY = Base64HighEntropyString()


def high_entropy(value: str) -> bool:
    """Random-looking, by detect-secrets' Shannon entropy; GUIDs (tenant and client ids) and
    sequences are ids, not secrets."""
    if len(value) < 20 or heuristic.is_potential_uuid(value):
        return False
    if heuristic.is_sequential_string(value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    return _ENTROPY.calculate_shannon_entropy(value) >= 3.5


# --- rules -----------------------------------------------------------------------------------

Check = Callable[[str], bool]


@dataclass(frozen=True)
class Rule:
    """A pattern whose group `group` (0: the whole match) is the secret, when `check` agrees.
    `hint` (lower case) must occur in the text for the rule to run: most texts skip most rules."""

    kind: str
    pattern: re.Pattern[str]
    group: int | str = 0
    check: Check | None = None
    hint: tuple[str, ...] = ()
    credential: bool = False  # the group is a value: strip quotes, judge it a credential


def _jwt_valid(token: str) -> bool:
    return JwtTokenDetector.is_formally_valid(token)


def _basic_credentials(value: str) -> bool:
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and len(decoded) >= 3


# Password-like names: detect-secrets' keyword list plus what Windows and network gear call
# them. A name may have a prefix (db_password, AdminPassword) and a digit or plural, no more:
# "PasswordLastSet : 01/02/2026" is a date, not a password.
_KEYWORDS = "|".join(
    [
        *(k for k in KEYWORD_DENYLIST if k.isascii()),
        "pass",
        "passphrase",
        "psk",
        "pre-shared[ _-]?key",
        "preshared[ _-]?key",
        "shared[ _-]?secret",
        "wpa2?[ _-]?key",
        "wi-?fi[ _-]?key",
        "client[ _-]?secret",
        "access[ _-]?key",
        "secret[ _-]?key",
        "access[ _-]?token",
        "refresh[ _-]?token",
        "auth[ _-]?token",
        "api[ _-]?token",
        "token",
        "recovery[ _-]?password",
        "enable secret",
        "community",
    ]
)
_VALUE = r"""(?P<value>"[^"\n]*"|'[^'\n]*'|`[^`\n]*`|[^\s;,'"`]+)"""

# No prefix in the pattern (db_password, $AdminPassword): matching one at every position was
# most of the detector's time; the suffix rule is what keeps "PasswordLastSet" out.
ASSIGNMENT = re.compile(
    rf"(?P<key>(?:{_KEYWORDS})(?:s|\d)?)(?!\w)['\"\]]{{0,2}}"
    rf"[ \t]*(?:=>|:=|==|[:=])[ \t]*{_VALUE}",
    re.IGNORECASE,
)
PROSE = re.compile(
    r"\b(?:password|passphrase|passwd|pwd|pw|pin|passcode|psk|wi-?fi key)"
    r"(?:\s+for\s+[\w .\\-]{1,40}?)?"
    r"\s+(?:is|was|=|set to|reset to|changed to|to|of)\s*:?\s+(?:now\s+|still\s+)?" + _VALUE,
    re.IGNORECASE,
)
PROSE_QUOTED = re.compile(
    r"\b(?:password|passphrase|passwd|pwd|pw|passcode)\s+(?P<value>\"[^\"\n]+\"|'[^'\n]+')",
    re.IGNORECASE,
)
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<value>[^\s@/]+)@", re.IGNORECASE)
CREDENTIAL_PARAMETER = re.compile(
    r"(?<![\w-])--?(?P<key>\w*(?:password|passwd|pwd|secret|token|apikey|accesskey|"
    r"sharedkey|accountkey|secretkey|psk|passphrase))(?:[ \t]*[:=][ \t]*|[ \t]+)" + _VALUE,
    re.IGNORECASE,
)
CONVERT_TO_SECURE_STRING = re.compile(r"ConvertTo-SecureString\b(?P<args>[^\n|;)]*)", re.IGNORECASE)
_ARG = re.compile(r"""(?P<value>'[^'\n]*'|"[^"\n]*"|[^\s'"]+)""")
NET_USER = re.compile(
    r"\bnet\s+user\s+(?:\"[^\"\n]+\"|[^\s/\"]+)[ \t]+(?![/*])" + _VALUE, re.IGNORECASE
)
NET_USE = re.compile(r"\bnet\s+use\b[^\n]*?\\\\\S+[ \t]+(?![/*])" + _VALUE, re.IGNORECASE)
SLASH_PASS = re.compile(r"(?<=\s)/(?:pass|password|pwd|p):" + _VALUE, re.IGNORECASE)
DASH_P = re.compile(
    r"\b(?:psexec|paexec|sqlcmd|osql|bcp|sshpass|mysql|mysqldump|mysqladmin|mariadb|winrs|"
    r"plink|pscp|putty|wmic)\b[^\n]*?\s[-/][pP](?:[ \t]+|(?=[^\s-]))" + _VALUE,
    re.IGNORECASE,
)
LDAP_BIND = re.compile(
    r"\bldap(?:search|modify|add|delete|passwd|whoami|compare)\b[^\n]*?\s-w[ \t]+" + _VALUE
)
OPENSSL_PASS = re.compile(r"\bpass:" + _VALUE, re.IGNORECASE)
CURL_USER = re.compile(r"(?:\s-u|--user)\s+['\"]?[^:\s'\"]+:(?P<value>[^\s'\"@]+)", re.IGNORECASE)
CHPASSWD = re.compile(
    r"\becho\s+['\"]?[\w.@$-]+:(?P<value>[^\s'\"|]+)['\"]?\s*\|\s*(?:sudo\s+)?chpasswd",
    re.IGNORECASE,
)
SMB_USER = re.compile(r"\s-U\s+['\"]?[\w.\\@-]+%(?P<value>[^\s'\"]+)")
HTPASSWD = re.compile(r"\bhtpasswd\s+-\w*b\w*\s+\S+\s+\S+\s+" + _VALUE)
PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?"
    r"(?:-----END (?P=label)-----|\Z)",
    re.DOTALL,
)
PUTTY_KEY = re.compile(r"PuTTY-User-Key-File-\d.*?(?:Private-MAC:[ \t]*\S+|\Z)", re.DOTALL)
BEARER = re.compile(r"\bBearer\s+(?P<value>[A-Za-z0-9\-._~+/]{12,}=*)", re.IGNORECASE)
BASIC = re.compile(r"\bBasic\s+(?P<value>[A-Za-z0-9+/]{8,}={0,2})(?![\w+/=])")
AWS_SECRET = re.compile(
    r"(?:aws[ _]?secret[ _]?access[ _]?key|SecretAccessKey|aws_secret)['\"]?"
    r"(?:\s*\[[^\]\n]*\])?\s*[:=]\s*['\"]?"
    r"(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
    re.IGNORECASE,
)
AZURE_SHARED_KEY = re.compile(
    r"(?:AccountKey|SharedAccessKey|SharedKey|PrimaryKey|SecondaryKey)\s*[=:]\s*['\"]?"
    r"(?P<value>[A-Za-z0-9+/]{20,}={0,2})",
    re.IGNORECASE,
)
AZURE_SAS = re.compile(r"[?&;]sig=(?P<value>[A-Za-z0-9%+/=]{16,})", re.IGNORECASE)
GOOGLE_API_KEY = re.compile(r"\bAIza[0-9A-Za-z\-_]{35}(?![\w-])")
GITHUB_FINE_GRAINED = re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}")
STRIPE_MORE = re.compile(r"\b(?:sk|rk)_(?:test|live)_[0-9a-zA-Z]{16,}|\bwhsec_[0-9a-zA-Z]{24,}")
KEYED_ENTROPY = re.compile(
    r"(?:key|token|secret|signature|sig|sas|credential|apikey|auth|hash|cookie|session)"
    r"[\w-]*(?:[ \t]+(?:for|of|to|from)[ \t]+[\w .-]{1,30}?)?['\"]?\s*[:=]\s*['\"]?"
    r"(?P<value>[A-Za-z0-9+/=_\-.~%]{20,})",
    re.IGNORECASE,
)
BITLOCKER = re.compile(r"(?<![\d-])\d{6}(?:-\d{6}){7}(?![\d-])")


# Every keyword above contains one of these; a text with none of them skips the rule.
_ASSIGNMENT_HINTS = ("pass", "pwd", "secret", "key", "token", "psk", "community", "contrase")
_KEYED_HINTS = ("key", "token", "secret", "sig", "sas", "credential", "auth", "hash", "cookie")
_KEYED_HINTS += ("session",)
_GITHUB_HINTS = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
_GITLAB_HINTS = ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-")
_GITLAB_HINTS += ("glptt-", "glagent-", "gloas-")
_PROSE_HINTS = ("pass", "pw", "pin", "psk", "wi-fi", "wifi")


def _plugin_rules() -> list[Rule]:
    aws_key, aws_quoted_secret = AWSKeyDetector.denylist
    return [
        Rule("aws-access-key", aws_key, hint=("akia", "asia", "abia", "acca", "a3t")),
        Rule("aws-secret-key", aws_quoted_secret, group=1, hint=("aws",)),
        Rule("url-password", BasicAuthDetector.denylist[0], group=1, hint=("://",)),
        *(Rule("github-token", p, hint=_GITHUB_HINTS) for p in GitHubTokenDetector.denylist),
        *(Rule("gitlab-token", p, hint=_GITLAB_HINTS) for p in GitLabTokenDetector.denylist),
        *(Rule("jwt", p, check=_jwt_valid, hint=("eyj",)) for p in JwtTokenDetector.denylist),
        *(Rule("slack-token", p, hint=("xox", "hooks.slack")) for p in SlackDetector.denylist),
        *(Rule("stripe-key", p, hint=("k_live",)) for p in StripeDetector.denylist),
        *(
            Rule("api-token", p, hint=hint)
            for detector, hint in (
                (SendGridDetector, ("sg.",)),
                (NpmDetector, ("_authtoken",)),
                (PypiTokenDetector, ("pypi-",)),
                (OpenAIDetector, ("sk-",)),
                (SquareOAuthDetector, ("sq0csp-",)),
                (TelegramBotTokenDetector, (":",)),
                (MailchimpDetector, ("-us",)),
            )
            for p in detector.denylist
        ),
    ]


def _our_rules() -> list[Rule]:
    return [
        Rule("private-key", PEM_BLOCK, hint=("private key",)),
        Rule("private-key", PUTTY_KEY, hint=("putty-user-key-file",)),
        Rule("azure-key", AZURE_SHARED_KEY, "value", hint=("key",)),
        Rule("azure-sas", AZURE_SAS, "value", hint=("sig=",)),
        Rule("aws-secret-key", AWS_SECRET, "value", hint=("secret",)),
        Rule("google-api-key", GOOGLE_API_KEY, hint=("aiza",)),
        Rule("github-token", GITHUB_FINE_GRAINED, hint=("github_pat_",)),
        Rule("stripe-key", STRIPE_MORE, hint=("k_test_", "k_live_", "whsec_")),
        Rule(
            "bearer-token",
            BEARER,
            "value",
            check=lambda v: high_entropy(v) or len(v) >= 24,
            hint=("bearer",),
        ),
        Rule("basic-auth", BASIC, "value", check=_basic_credentials, hint=("basic",)),
        Rule("password", CONVERT_TO_SECURE_STRING, "args", hint=("convertto-securestring",)),
        Rule("password", NET_USER, "value", hint=("net user",), credential=True),
        Rule("password", NET_USE, "value", hint=("net use",), credential=True),
        Rule("password", SLASH_PASS, "value", hint=("/p",), credential=True),
        Rule("password", DASH_P, "value", hint=("-p", "/p"), credential=True),
        Rule("password", OPENSSL_PASS, "value", hint=("pass:",), credential=True),
        Rule("password", LDAP_BIND, "value", hint=("ldap",), credential=True),
        Rule("password", CURL_USER, "value", hint=("-u", "--user"), credential=True),
        Rule("password", CHPASSWD, "value", hint=("chpasswd",), credential=True),
        Rule("password", SMB_USER, "value", hint=("%",), credential=True),
        Rule("password", HTPASSWD, "value", hint=("htpasswd",), credential=True),
        Rule("password", CREDENTIAL_PARAMETER, "value", hint=_ASSIGNMENT_HINTS, credential=True),
        Rule("password", ASSIGNMENT, "value", hint=_ASSIGNMENT_HINTS, credential=True),
        Rule("password", PROSE, "value", hint=_PROSE_HINTS, credential=True),
        Rule("password", PROSE_QUOTED, "value", hint=("pass", "pw"), credential=True),
        Rule("url-password", URL_CREDENTIALS, "value", hint=("://",), credential=True),
        Rule("secret", KEYED_ENTROPY, "value", check=high_entropy, hint=_KEYED_HINTS),
        Rule("recovery-key", BITLOCKER, hint=("-",)),
    ]


RULES: list[Rule] = [*_plugin_rules(), *_our_rules()]
# detect-secrets' own private-key markers decide whether a PEM label is a private key.
PRIVATE_KEY_MARKERS = PrivateKeyDetector.denylist


# --- internal addresses (account option) ----------------------------------------------------

IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\w]|\.\d)")
IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|::)[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:%\w+)?(?:/\d{1,3})?"
    r"(?![\w:])"
)
MAC = re.compile(
    r"(?<![\w:-])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:-])"
    r"|(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])"
)
EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)


def _internal_ip(text: str) -> bool:
    address = text.split("/")[0].split("%")[0]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.is_unspecified or ip.is_multicast:
        return False
    shared = isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10")
    return ip.is_private or ip.is_link_local or ip.is_loopback or shared


def _mac(text: str) -> bool:
    hexdigits = re.sub(r"[^0-9A-Fa-f]", "", text)
    # 00:00:00:00:00:00 and ff:ff:... are not anybody's address; a version like 1111.2222.3333
    # has no letters and is left alone in the dotted form.
    if len(set(hexdigits.lower())) <= 1:
        return False
    return "." not in text or any(c.isalpha() for c in hexdigits)


INTERNAL_RULES: list[Rule] = [
    Rule("ipv4", IPV4, check=_internal_ip, hint=(".",)),
    Rule("ipv6", IPV6, check=_internal_ip, hint=(":",)),
    Rule("mac", MAC, check=_mac),
    Rule("email", EMAIL, hint=("@",)),
]


# --- finding and redacting ----------------------------------------------------------------

ALL_RULES: list[Rule] = [*RULES, *INTERNAL_RULES]


def _rules_by_hint(count: int) -> dict[str, tuple[int, ...]]:
    """Hint → numbers of the first `count` rules it wakes; "" → the rules without hints."""
    table: dict[str, list[int]] = {"": []}
    for number, rule in enumerate(ALL_RULES[:count]):
        for hint in rule.hint or ("",):
            table.setdefault(hint, []).append(number)
    return {hint: tuple(numbers) for hint, numbers in table.items()}


_BY_HINT = _rules_by_hint(len(RULES))
_BY_HINT_INTERNAL = _rules_by_hint(len(ALL_RULES))


def _spans(rule: Rule, text: str) -> Iterator[tuple[int, int]]:
    for match in rule.pattern.finditer(text):
        if rule.pattern is CONVERT_TO_SECURE_STRING:
            yield from _secure_string_literals(match)
            continue
        start, end = match.span(rule.group)
        if start < 0 or start == end:
            continue
        value = text[start:end]
        if rule.credential:
            if _PLACEHOLDER.match(value):
                continue
            value, head, tail, quoted = strip_value(value)
            if not looks_like_credential(value, quoted=quoted):
                continue
            start, end = start + head, start + tail
        if rule.pattern is PEM_BLOCK and not any(m.search(value) for m in PRIVATE_KEY_MARKERS):
            continue
        if rule.check is None or rule.check(value):
            yield start, end


def _secure_string_literals(match: re.Match[str]) -> Iterator[tuple[int, int]]:
    """ConvertTo-SecureString 'literal' -AsPlainText: the literal (not a $variable, not a
    parameter name) is a password in plain text."""
    args = match.group("args")
    if "-asplaintext" not in args.lower():
        return
    offset = match.start("args")
    after_key = False  # -Key and -SecureKey take a key (bytes), not the password
    for arg in _ARG.finditer(args):
        token = arg.group("value")
        if token.startswith("-"):
            after_key = token.lower() in ("-key", "-securekey")
            continue
        value, head, tail, _ = strip_value(token)
        literal = value and value[0] not in "($@" and not after_key
        if literal and not heuristic.is_prefixed_with_dollar_sign(value):
            yield offset + arg.start() + head, offset + arg.start() + tail
        after_key = False


def find(text: str, *, internal: bool = False) -> list[Finding]:
    """Findings in `text`, in order, not overlapping (overlaps merge into the first one)."""
    if not text or len(text) < 3:
        return []
    lowered = text.lower()
    # Which hints occur, checked once per text (plain substring tests are cheap); a rule runs
    # when it has no hint or one of its hints occurs.
    table = _BY_HINT_INTERNAL if internal else _BY_HINT
    chosen = set(table[""])
    for hint, numbers in table.items():
        if hint and hint in lowered:
            chosen.update(numbers)
    raw = [
        Finding(start, end, ALL_RULES[number].kind)
        for number in sorted(chosen)
        for start, end in _spans(ALL_RULES[number], text)
    ]
    raw.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for finding in raw:
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            # A token's own format names it better than the assignment it sits in.
            kind = finding.kind if last.kind in GENERIC_KINDS else last.kind
            merged[-1] = Finding(last.start, max(last.end, finding.end), kind)
            continue
        merged.append(finding)
    return [_classified(text, f) for f in merged]


_CONNECTION_STRING = re.compile(
    r"(?:server|data source|host|initial catalog|database|user id|uid|provider)\s*=",
    re.IGNORECASE,
)


def _classified(text: str, finding: Finding) -> Finding:
    """A password inside `Server=…;User Id=…;Password=…` is a connection string's."""
    if finding.kind != "password":
        return finding
    line_start = text.rfind("\n", 0, finding.start) + 1
    line_end = text.find("\n", finding.end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    if ";" in line and _CONNECTION_STRING.search(line):
        return Finding(finding.start, finding.end, "connection-string")
    return finding


def redact(text: str, findings: Iterable[Finding] | None = None, *, internal: bool = False) -> str:
    """`text` with each finding replaced by ``[REDACTED:<kind>]``."""
    chosen = find(text, internal=internal) if findings is None else findings
    out, position = [], 0
    for finding in sorted(chosen, key=lambda f: f.start):
        out += [text[position : finding.start], finding.replacement]
        position = finding.end
    out.append(text[position:])
    return "".join(out)
