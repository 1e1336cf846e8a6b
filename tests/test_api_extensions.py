"""Conditional extensions and advancing with `until` over HTTP: the service layer checks who and what (one problem
line), the workflow applies the act to the applications it selects, and `deadline explain` names it."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import closes
from tests.test_api import Api, api  # noqa: F401  (the fixture)


async def test_a_conditional_extension_over_http_selects_by_category_and_is_explained(api: Api) -> None:  # noqa: F811
    call, original = api.call, closes(api.prepared, "application")
    later = (original + timedelta(days=2)).isoformat()
    created = {}
    for who, category in (("pi-1", "key"), ("pi-2", "general")):
        r = await api.http.post(f"/calls/{call}/applications", headers=api.auth(who),
                                json={"category": category, "title": f"{who} 项目"})
        assert r.status_code == 201, r.text
        created[category] = r.json()["id"]
    url = f"/calls/{call}/deadlines/conditional"
    body = {"closes": {"application": later}, "reason": "系统故障", "category": ["key"]}
    assert (await api.http.post(url, headers=api.auth("pi-1"), json=body)).status_code == 403
    for bad, fragment in (({**body, "closes": {"nope": later}}, "nope: unknown phase"),
                          ({**body, "created_before": "2025-04-07T17:00:00"}, "naive datetime"),
                          ({**body, "category": []}, "name whom the extension is for")):
        r = await api.http.post(url, headers=api.auth("pm-1"), json=bad)
        assert r.status_code == 422 and fragment in r.json()["detail"] and "\n" not in r.json()["detail"], r.text
    r = await api.http.post(url, headers=api.auth("pm-1"), json=body)
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "extended_for" and "category key" in r.json()["detail"]
    key = (await api.http.get(f"/applications/{created['key']}", headers=api.auth("pi-1"))).json()
    general = (await api.http.get(f"/applications/{created['general']}", headers=api.auth("pi-2"))).json()
    assert key["deadlines"]["application"] == later and general["deadlines"]["application"] == original.isoformat()
    explained = (await api.http.get(f"/applications/{created['key']}/deadlines", headers=api.auth("pi-1"))).json()
    application = next(e for e in explained if e["window"] == "application")
    assert application["facts"][-1].startswith("binds: extension #1 by manager pm-1")


async def test_the_service_layer_refuses_an_advance_until_before_now_in_one_line(api: Api) -> None:  # noqa: F811
    r = await api.http.post(f"/calls/{api.call}/phase/advance", headers=api.auth("pm-1"),
                            json={"reason": "提前开始", "until": "2020-01-01T00:00:00+08:00"})
    assert r.status_code == 409, r.text
    assert r.json()["detail"].startswith("--until 2020-01-01T00:00:00+08:00 is not later than now (")
