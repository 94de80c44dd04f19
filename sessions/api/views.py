from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flows.models import Tree
from resolutionflow.schema import CONFLICT
from sessions import analytics, batch_report, exports, selectors, services
from sessions.api import serializers as s
from sessions.filters import SessionFilterSet
from sessions.models import Batch, FlowSession, FlowSessionQuerySet, TargetList
from sessions.services import batches, handover, targets

# A session's actions answer with the session, or 409 once it is completed (or not started).
RUN = {200: s.FlowSessionDetailSerializer, 409: CONFLICT}


class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions the caller may see; start one with POST, then drive it with the actions."""

    filterset_class = SessionFilterSet
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> FlowSessionQuerySet:
        return FlowSession.objects.for_user(self.request.user).with_list_data()

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        return s.FlowSessionSerializer if self.action == "list" else s.FlowSessionDetailSerializer

    def respond(self, session: FlowSession, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=session.pk)
        return Response(s.FlowSessionDetailSerializer(fresh).data, status=code)

    def valid(self, serializer_class, data=None):  # type: ignore[no-untyped-def]
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=s.SessionStartSerializer, responses={201: s.FlowSessionDetailSerializer})
    def create(self, request: Request) -> Response:
        """Start a session on a published flow (intake answers in `variables`)."""
        data = self.valid(s.SessionStartSerializer)
        tree = get_object_or_404(Tree.objects.for_user(request.user), pk=data["tree"])
        session = services.session_start(
            tree=tree,
            user=request.user,
            ticket_number=data.get("ticket_number", ""),
            client_name=data.get("client_name", ""),
            variables=data.get("variables"),
        )
        return self.respond(session, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.FlowSessionDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Start a not-started batch target for the caller (the Start button's twin).
        409 names who has it when someone else started it first."""
        session = batches.batch_session_start(session=self.get_object(), user=request.user)
        return self.respond(session)

    @extend_schema(
        request=s.MarkSerializer,
        responses={200: s.FlowSessionDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def mark(self, request: Request, pk: str | None = None) -> Response:
        """Mark a batch target skipped (with a reason), blocked or unreachable (with a note).
        409 once it is completed or already marked."""
        data = self.valid(s.MarkSerializer)
        session = batches.target_mark(session=self.get_object(), user=request.user, **data)
        return self.respond(session)

    @extend_schema(
        request=None,
        responses={201: s.FlowSessionDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str | None = None) -> Response:
        """A new attempt of an unresolved, escalated, blocked or unreachable batch target
        (not started; the earlier attempt stays readable). 409 for any other state."""
        new = batches.target_retry(session=self.get_object(), user=request.user)
        return self.respond(new, status.HTTP_201_CREATED)

    @extend_schema(request=s.AssignSerializer, responses={200: s.FlowSessionDetailSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Assign a batch target to an engineer of the team (or unassign it with null)."""
        data = self.valid(s.AssignSerializer)
        session = batches.target_assign_email(
            session=self.get_object(), user=request.user, to=data["to"]
        )
        return self.respond(session)

    @extend_schema(
        request=s.HandoverSerializer,
        responses={200: s.FlowSessionDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def handover(self, request: Request, pk: str | None = None) -> Response:
        """The runner (or an admin) hands a running session to another engineer of the team."""
        data = self.valid(s.HandoverSerializer)
        session = handover.session_handover(session=self.get_object(), user=request.user, **data)
        return self.respond(session)

    @extend_schema(
        request=s.TakeoverSerializer,
        responses={200: s.FlowSessionDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def takeover(self, request: Request, pk: str | None = None) -> Response:
        """An engineer or admin of the team takes a running session over from its runner."""
        data = self.valid(s.TakeoverSerializer)
        session = handover.session_takeover(session=self.get_object(), user=request.user, **data)
        return self.respond(session)

    @extend_schema(request=s.AnswerSerializer, responses=RUN)
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str | None = None) -> Response:
        """Troubleshooting: answer the current decision (an option label) or confirm an action."""
        data = self.valid(s.AnswerSerializer)
        return self.respond(
            services.session_answer(session=self.get_object(), user=request.user, **data)
        )

    @extend_schema(request=None, responses=RUN)
    @action(detail=True, methods=["post"])
    def back(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(services.session_back(session=self.get_object(), user=request.user))

    @extend_schema(request=s.StepUpdateSerializer, responses=RUN)
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<step_id>[^/]+)")
    def steps(self, request: Request, pk: str | None = None, step_id: str = "") -> Response:
        """Tick/untick (`done`), annotate (`note`) or record a `value` on one step."""
        data = self.valid(s.StepUpdateSerializer)
        session = services.session_step_update(
            session=self.get_object(), user=request.user, step_id=step_id, **data
        )
        return self.respond(session)

    @extend_schema(
        request=s.CustomStepSerializer,
        responses={201: s.FlowSessionDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="custom-steps")
    def custom_steps(self, request: Request, pk: str | None = None) -> Response:
        data = self.valid(s.CustomStepSerializer)
        session, _ = services.session_custom_step_add(
            session=self.get_object(), user=request.user, **data
        )
        return self.respond(session, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RUN)
    @action(detail=True, methods=["delete"], url_path=r"custom-steps/(?P<custom_id>[^/]+)")
    def remove_custom_step(self, request: Request, pk: str | None = None, custom_id: str = ""):
        session = services.session_custom_step_remove(
            session=self.get_object(), user=request.user, custom_id=custom_id
        )
        return self.respond(session)

    @extend_schema(
        request=s.FeedbackSerializer, responses={200: s.FeedbackSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], url_path=r"feedback/(?P<node_id>[^/]+)")
    def feedback(self, request: Request, pk: str | None = None, node_id: str = "") -> Response:
        data = self.valid(s.FeedbackSerializer)
        vote = services.session_feedback_set(
            session=self.get_object(), user=request.user, node_id=node_id, helpful=data["helpful"]
        )
        return Response({"helpful": vote})

    @extend_schema(request=s.CompleteSerializer, responses=RUN)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        data = self.valid(s.CompleteSerializer)
        return self.respond(
            services.session_complete(session=self.get_object(), user=request.user, **data)
        )

    @extend_schema(request=s.RateSerializer, responses=s.FlowSessionDetailSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk: str | None = None) -> Response:
        data = self.valid(s.RateSerializer)
        session = services.session_rate(
            session=self.get_object(),
            user=request.user,
            rating=data["rating"],
            comment=data.get("comment", ""),
        )
        return self.respond(session)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(exports.FORMATS), default="psa"),
            OpenApiParameter("timestamps", bool, default=True),
            OpenApiParameter("cut_off", int, description="Stop after step N."),
            OpenApiParameter(
                "include_commands",
                bool,
                description="Print the flow's commands under the steps that were ticked (or "
                "the actions confirmed). Default: on for procedural and maintenance sessions, "
                "off for troubleshooting.",
            ),
            OpenApiParameter(
                "redact",
                bool,
                default=False,
                description="Replace each secret found (passwords, keys, tokens, connection "
                "strings; internal addresses when the team asks) with `[REDACTED:<kind>]`. "
                "Always on when the team's “always redact” setting is. The stored session "
                "is not changed.",
            ),
            OpenApiParameter(
                exports.FINDINGS_HEADER,
                int,
                location=OpenApiParameter.HEADER,
                response=[200],
                description="How many findings this answer redacted (0 when not redacting).",
            ),
        ],
        responses={
            (200, media_type): OpenApiTypes.STR
            for media_type in sorted({media for media, _ in exports.FORMATS.values()})
        },
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The session as text for a ticket (`text/plain` for psa and text, `text/markdown`,
        `text/html`), redacted with `redact=1`; marks it exported when the caller ran it (or
        is an admin of its account)."""
        session = self.get_object()
        options = self.valid(s.ExportQuerySerializer, data=request.query_params)
        document = exports.export_document(
            session,
            fmt=options["format"],
            timestamps=options["timestamps"],
            cut_off=options.get("cut_off"),
            include_commands=options.get("include_commands"),
        )
        redact = options["redact"] or bool(session.account and session.account.always_redact)
        if session.can_mark_exported(request.user):  # a teammate's download does not count
            services.session_mark_exported(session=session, user=request.user)
        content_type, _ = exports.FORMATS[options["format"]]
        response = HttpResponse(
            document.text(redact=redact), content_type=f"{content_type}; charset=utf-8"
        )
        response[exports.FINDINGS_HEADER] = str(len(document.found) if redact else 0)
        return response


class TargetListViewSet(viewsets.ModelViewSet):
    """The account's target lists; engineers and above write."""

    serializer_class = s.TargetListSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return TargetList.objects.for_user(self.request.user).select_related("created_by")

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        target_list = self.get_object()
        serializer = self.get_serializer(
            target_list, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        # Answer with the whole list: a partial serializer would skip fields that are empty.
        return Response(self.get_serializer(serializer.save()).data)

    def perform_destroy(self, instance: TargetList) -> None:
        targets.target_list_delete(user=self.request.user, target_list=instance)


class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Launch a maintenance flow over targets; read per-target state and step progress."""

    serializer_class = s.BatchSerializer
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Batch.objects.for_user(self.request.user).select_related(
            "created_by", "paused_by", "tree"
        )

    def render_batch(self, batch: Batch, code: int = status.HTTP_200_OK) -> Response:
        batch = self.get_queryset().get(pk=batch.pk)
        context = {"status": selectors.batch_status(batch)}
        return Response(s.BatchSerializer(batch, context=context).data, status=code)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self.render_batch(self.get_object())

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.with_history_dots(self.get_queryset()))
        rows = [
            s.BatchSerializer(b, context={"status": selectors.batch_dots(b)}).data for b in page
        ]
        return self.get_paginated_response(rows)

    @extend_schema(request=s.BatchLaunchSerializer, responses={201: s.BatchSerializer})
    def create(self, request: Request) -> Response:
        data = self.valid(s.BatchLaunchSerializer)
        tree = get_object_or_404(Tree.objects.for_user(request.user), pk=data["tree"])
        target_list = None
        if data.get("target_list") is not None:
            target_list = get_object_or_404(
                TargetList.objects.for_user(request.user), pk=data["target_list"]
            )
        batch = batches.batch_launch(
            tree=tree,
            user=request.user,
            targets=data.get("targets") or None,
            target_list=target_list,
            ticket_number=data.get("ticket_number", ""),
            variables=data.get("variables"),
            canary=data.get("canary", 0),
            assign=data.get("assign"),
        )
        return self.render_batch(batch, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.PauseSerializer,
        responses={200: s.BatchSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """No new targets start until resumed (launcher or admin); running ones continue."""
        data = self.valid(s.PauseSerializer)
        batch = batches.batch_pause(batch=self.get_object(), user=request.user, **data)
        return self.render_batch(batch)

    @extend_schema(request=None, responses={200: s.BatchSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        batch = batches.batch_resume(batch=self.get_object(), user=request.user)
        return self.render_batch(batch)

    @extend_schema(request=None, responses={200: s.CancelledSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Every not-started target becomes skipped with reason "cancelled"."""
        count = batches.batch_cancel(batch=self.get_object(), user=request.user)
        return Response({"cancelled": count})

    @extend_schema(request=None, responses={200: s.BatchSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request: Request, pk: str | None = None) -> Response:
        """A new attempt of every unresolved, escalated, blocked and unreachable target."""
        batch = self.get_object()
        batches.batch_retry_failed(batch=batch, user=request.user)
        return self.render_batch(batch)

    @extend_schema(request=None, responses={201: s.BatchSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], url_path="relaunch-failed")
    def relaunch_failed(self, request: Request, pk: str | None = None) -> Response:
        """A new batch of the failed targets with the same flow, ticket and intake values."""
        new = batches.batch_relaunch_failed(batch=self.get_object(), user=request.user)
        return self.render_batch(new, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=[*batch_report.FORMATS], default="psa"),
            OpenApiParameter("redact", bool, default=False),
        ],
        responses={
            (200, media_type): OpenApiTypes.STR
            for media_type in sorted({media for media, _ in batch_report.FORMATS.values()})
        },
    )
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The batch's report for the change ticket: header, then one line per target."""
        batch = self.get_object()
        serializer = s.BatchReportQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        options = serializer.validated_data
        redact = options["redact"] or bool(batch.account.always_redact)
        text = batch_report.batch_report(batch, fmt=options["format"], redact=redact)
        content_type, _ = batch_report.FORMATS[options["format"]]
        return HttpResponse(text, content_type=f"{content_type}; charset=utf-8")

    def valid(self, serializer_class):  # type: ignore[no-untyped-def]
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class FlowAnalyticsView(APIView):
    """A flow's analytics (engineers and above of its account; staff for default flows)."""

    @extend_schema(
        operation_id="flows_analytics_retrieve",
        parameters=[
            OpenApiParameter(
                "period", str, enum=list(analytics.PERIODS), default=analytics.DEFAULT_PERIOD
            )
        ],
        responses={200: s.FlowAnalyticsSerializer},
    )
    def get(self, request: Request, pk: str) -> Response:
        """Runs, outcomes, durations, per-node or per-step figures, ratings and health flags."""
        tree = analytics.analytics_tree(request.user, pk)
        query = s.AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = analytics.flow_analytics(tree, query.validated_data["period"])
        return Response(figures.as_json())
