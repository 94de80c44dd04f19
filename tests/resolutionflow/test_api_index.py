"""/api/ lists the API; /api/schema/ opens in a browser (JSON) and still serves YAML on request."""

import json

import yaml

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_api_index_lists_every_resource_and_the_docs(client):
    response = client.get("/api/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    links = response.json()
    for name in ("flows", "sessions", "batches", "target-lists", "steps"):
        assert links[name] == f"http://testserver/api/{name}/"
    assert links["docs"].endswith("/api/docs/") and links["schema"].endswith("/api/schema/")


def test_api_index_in_a_browser_is_a_page_with_links(client, engineer):
    client.force_login(engineer)
    page = client.get("/api/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "http://testserver/api/flows/" in page.content.decode()


def test_schema_opens_in_a_browser_as_json(client):
    response = client.get("/api/schema/", HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" not in response.get("Content-Disposition", "")
    assert "/api/flows/" in json.loads(response.content)["paths"]


def test_schema_format_json_and_yaml_on_request(client):
    forced = client.get("/api/schema/?format=json", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert json.loads(forced.content)["openapi"].startswith("3.")
    as_yaml = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "/api/steps/" in yaml.safe_load(as_yaml.content)["paths"]
    assert yaml.safe_load(client.get("/api/schema/?format=yaml").content)["info"]["title"]


def test_schema_does_not_list_the_index(client):
    paths = json.loads(client.get("/api/schema/?format=json").content)["paths"]
    assert "/api/" not in paths
