"""The checklist runner's focus mode: the page carries the side rail, the mode switch, the
Next/Previous buttons and the shortcuts help; the place comes from the URL."""

from django.urls import reverse


def test_focus_mode_renders_the_rail_and_the_shortcuts(client, engineer, proc_session):
    client.force_login(engineer)
    url = reverse("sessions:run", args=[proc_session.pk])
    body = client.get(url, {"view": "focus", "step": "patch"}).content.decode()
    assert '<div id="runner" class="focus-mode" data-focus="patch">' in body
    assert 'aria-pressed="true"><i class="bi bi-bullseye"' in body
    # One rail link per step (not for section headers), each keeping the place in the URL.
    assert body.count('class="rail-step') == body.count('class="card mb-2 step-row')
    assert 'href="?view=focus&amp;step=patch" data-rail-for="patch"' in body
    assert "Next <kbd>j</kbd>" in body and "Previous <kbd>k</kbd>" in body
    assert "Tick (or untick) the current step" in body
    assert "js/runner.js" in body


def test_the_full_list_is_the_default_view(client, engineer, proc_session):
    client.force_login(engineer)
    body = client.get(reverse("sessions:run", args=[proc_session.pk])).content.decode()
    assert '<div id="runner" class="" data-focus="">' in body


def test_focus_mode_page_queries_stay_bounded(
    client, engineer, proc_session, django_assert_max_num_queries
):
    client.force_login(engineer)
    url = reverse("sessions:run", args=[proc_session.pk])
    with django_assert_max_num_queries(20):
        response = client.get(url, {"view": "focus"})
    assert response.status_code == 200


def test_outsider_gets_404_for_focus_mode(client, outsider, proc_session):
    client.force_login(outsider)
    url = reverse("sessions:run", args=[proc_session.pk])
    assert client.get(url, {"view": "focus"}).status_code == 404
