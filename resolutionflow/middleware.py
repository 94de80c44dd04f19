"""Request middleware shared by every app."""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.datastructures import MultiValueDict
from django_htmx.http import reswap, trigger_client_event

from flows.structure import MAX_JSON_BYTES, StructureInvalid, parse_json
from resolutionflow.text import (
    TextProblem,
    may_hold_unstorable_json,
    printable,
    problems_in_json,
    unstorable_text,
)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class PermissionsPolicy:
    """Send settings.PERMISSIONS_POLICY as the Permissions-Policy header on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = permissions_policy_header(getattr(settings, "PERMISSIONS_POLICY", {}))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Permissions-Policy", self.header)
        return response


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """{"camera": [], "clipboard-write": ["self"]} -> 'camera=(), clipboard-write=(self)'.

    "self" and "*" are tokens; anything else is an origin and is quoted.
    """

    def allow(item: str) -> str:
        return item if item in ("self", "*") else f'"{item}"'

    return ", ".join(
        f"{feature}=({' '.join(allow(item) for item in allowed)})"
        for feature, allowed in policy.items()
    )


class RejectUnstorableText:
    """Refuse, before any view runs, a request carrying text the database cannot store.

    Checked: the URL path, query string, form fields (keys and values), JSON bodies (parsed, every
    key and string) and uploaded files (this app only accepts JSON uploads: their text, and the
    strings of the JSON inside; a file that is not UTF-8 or not JSON is left to the importer,
    which says so next to the field). API requests get a 400 JSON body with field errors, htmx
    requests a 422 with a toast and nothing swapped, pages a 400 page naming the field.
    Nothing is written.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        problems = request_text_problems(request)
        return refusal_response(request, problems) if problems else None


def request_text_problems(request: HttpRequest) -> list[TextProblem]:
    problems = []
    message = unstorable_text(request.path_info)
    if message:
        problems.append(TextProblem(field="URL", message=message))
    problems += query_problems(request.GET)
    problems += body_problems(request)
    return problems


def query_problems(values: QueryDict | MultiValueDict) -> list[TextProblem]:
    """Keys and values of a query string or form; files are checked apart.

    A value holding JSON (the JSON page's structure and intake form) is also parsed when it
    has an escape that could hide unstorable text, and its strings are checked.
    """
    problems = []
    for key, items in values.lists():
        field = printable(key)
        for text in [key, *items]:
            message = unstorable_text(text) if isinstance(text, str) else None
            if message:
                problems.append(TextProblem(field=field, message=message))
                break
        else:
            problems += json_field_problems(items, field)
    return problems


def json_field_problems(items: list[str], field: str) -> list[TextProblem]:
    problems = []
    for text in items:
        if not isinstance(text, str) or not text.lstrip().startswith(("{", "[")):
            continue
        raw = text.encode()
        if len(raw) > MAX_JSON_BYTES or not may_hold_unstorable_json(raw):
            continue
        try:
            document = parse_json(raw)
        except StructureInvalid:
            continue  # not JSON: the form says so
        problems += problems_in_json(document, field)
    return problems


def body_problems(request: HttpRequest) -> list[TextProblem]:
    content_type = request.content_type or ""
    if content_type in FORM_TYPES:
        return form_problems(request)
    if content_type == "application/json" or content_type.endswith("+json"):
        return json_body_problems(request)
    return []


def form_problems(request: HttpRequest) -> list[TextProblem]:
    if request.method != "POST":
        # Django parses form bodies of POSTs only; the API's PUT/PATCH forms are read here.
        if request.content_type != FORM_TYPES[0] or not fits(request):
            return []
        return query_problems(QueryDict(request.body, encoding=request.encoding))
    if request.path_info.startswith("/api/") and fits(request):
        # Keep the raw body, so the API's own parsers still read it (a form where JSON is
        # expected is a 415, not an empty body).
        _ = request.body
    try:
        fields, files = request.POST, request.FILES
    except (MultiPartParserError, OSError):
        return []  # a broken upload: the view answers it as it always did
    return query_problems(fields) + file_problems(files)


def json_body_problems(request: HttpRequest) -> list[TextProblem]:
    """Parse only a body that fits the API's bound and holds a suspicious escape."""
    if not fits(request):
        return []  # too large: the API's bounded parser refuses it
    raw = request.body
    if not may_hold_unstorable_json(raw):
        return []
    try:
        document = parse_json(raw)
    except StructureInvalid:
        return []  # not JSON: the API's parser reports it
    return problems_in_json(document)


def file_problems(files: MultiValueDict) -> list[TextProblem]:
    problems = []
    for field, uploads in files.lists():
        for upload in uploads:
            if upload.size > MAX_JSON_BYTES:
                continue  # the view refuses files over the limit
            raw = upload.read()
            upload.seek(0)
            problems += uploaded_text_problems(raw, printable(field))
    return problems


def uploaded_text_problems(raw: bytes, field: str) -> list[TextProblem]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return []  # not UTF-8: the importer says so next to the field
    message = unstorable_text(text)
    if message:
        return [TextProblem(field=field, message=f"The file's text: {message}")]
    if not may_hold_unstorable_json(raw):
        return []
    try:
        document = parse_json(raw)
    except StructureInvalid:
        return []  # not JSON: the importer reports it
    return problems_in_json(document, field)


def fits(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return 0 < length <= MAX_JSON_BYTES


# --- the refusal -------------------------------------------------------------------------


def refusal_summary(problems: Iterable[TextProblem]) -> str:
    problems = list(problems)
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"“{first.field}”{more}: {first.message} Nothing was saved."


def refusal_response(request: HttpRequest, problems: list[TextProblem]) -> HttpResponse:
    summary = refusal_summary(problems)
    if request.path_info.startswith("/api/"):
        errors = [{"field": problem.field, "message": problem.message} for problem in problems]
        return JsonResponse(
            {"detail": f"Some text cannot be stored. {summary}", "errors": errors}, status=400
        )
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(summary, status=422, content_type="text/plain; charset=utf-8")
        response = trigger_client_event(
            response, "rf:toast", {"message": summary, "level": "danger"}
        )
        return reswap(response, "none")
    return render(request, "400.html", {"problems": problems}, status=400)
