from django.apps import AppConfig


class FlowSessionsConfig(AppConfig):
    # "sessions" is django.contrib.sessions' label; ours must differ before any migration exists.
    name = "sessions"
    label = "flow_sessions"
    verbose_name = "Flow sessions"
    default_auto_field = "django.db.models.BigAutoField"
