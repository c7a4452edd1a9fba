"""The MaCo trigger's fast path answers exactly as the connexion stack does: the same sequence of requests against two
mocks, seeded alike, one with the fast path and one without, gives the same answers byte for byte, the same stored
processes and the same journal; every refusal still comes from the normal path."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from pruefstand.mock_server.app import create_app
from pruefstand.mock_server.commands.api_specs import request_example
from pruefstand.mock_server.store.group_commit import GroupCommit
from tests.conftest import ADMIN_TOKEN, make_settings, token_form
from tests.fixtures.fast_path_spy import fast_answers

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def session(fast: bool) -> list[tuple[int, bytes, dict[str, str]]]:
    settings = make_settings(fast_path=fast, id_seed="fast-path", clock_start="2026-01-01T08:00:00Z")
    answers: list[tuple[int, bytes, dict[str, str]]] = []
    z33 = request_example("maco", "inbound", "Z33_Marktlokation_Addition")
    z34 = request_example("maco", "inbound", "Z34_Marktlokation")
    broken = copy.deepcopy(z34)
    del broken["transaktionsdaten"]["absender"]["ansprechpartner"]
    with TestClient(create_app(settings)) as client:
        form = token_form(settings)
        token = client.post("/maco/oauth/token", data=form).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        requests: list[tuple[dict[str, Any], Any]] = [
            (auth, z33),  # accepted
            (auth, z33),  # the same again: the first answer
            (auth, z34),  # the same prozessId, another payload: 409
            (auth, broken),  # a PI 25001 rule: 400
            ({}, z33),  # no token: 401
            ({"Authorization": "Bearer nope"}, z33),  # an unknown token: 401
            ({**auth, "X-Pruefstand-Sandbox": "bad name!"}, z33),  # a malformed sandbox: 400
            ({**auth, "Content-Type": "text/plain"}, "x"),  # 415
            ({**auth, "Content-Type": "application/json"}, "{"),  # malformed JSON: 400
        ]
        for headers, body in requests:
            if isinstance(body, str):
                response = client.post("/maco/inbound", content=body, headers=headers)
            else:
                response = client.post("/maco/inbound", json=body, headers=headers)
            kept = {k: v for k, v in response.headers.items() if k in ("content-type", "content-length",
                                                                        "www-authenticate")}  # fmt: skip
            answers.append((response.status_code, response.content, kept))
        processes = client.get("/_admin/sandboxes/default/maco/processes", headers=ADMIN).json()
        journal = client.get("/_admin/sandboxes/default/requests", headers=ADMIN, params={"limit": 50}).json()
    answers.append((0, repr(processes).encode(), {}))
    shown = [  # the token is random, not from the id seed: the token endpoint's answer body is left out
        (e["method"], e["path"], e["query"], e["status"], e.get("problem"), e["request"], e["response"])
        if not e["path"].endswith("/oauth/token")
        else (e["method"], e["path"], e["status"])
        for e in journal
    ]
    answers.append((0, repr(shown).encode(), {}))  # the whole entry but its time and duration
    return answers


def test_the_fast_path_answers_byte_for_byte_as_the_normal_path(monkeypatch: pytest.MonkeyPatch) -> None:
    answered = fast_answers(monkeypatch)
    fast = session(True)
    assert answered.count(True) == 2  # the two 201s came from the fast path, the refusals did not
    assert len(answered) == 6  # the 415, the token-less request and the malformed sandbox never reached its checks
    normal = session(False)
    assert len(answered) == 6  # without it, nothing passes through it
    assert [a[0] for a in fast[:9]] == [201, 201, 409, 400, 401, 401, 400, 415, 400]
    assert fast == normal


def test_triggers_arriving_together_share_a_commit_and_keep_their_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Group commit on the fast path: 12 triggers sent at once are answered as one by one; two of them reuse one
    prozessId with different payloads (one 201, one 409), one repeats another exactly (its first answer)."""
    sizes: list[int] = []
    settle = GroupCommit._settle

    def counted(self: GroupCommit, group: list[Any], outcomes: Any) -> None:
        sizes.append(len(group))
        settle(self, group, outcomes)

    monkeypatch.setattr(GroupCommit, "_settle", counted)
    settings = make_settings(id_seed="group", clock_start="2026-01-01T08:00:00Z")
    app = create_app(settings)
    z33 = request_example("maco", "inbound", "Z33_Marktlokation_Addition")
    z34 = request_example("maco", "inbound", "Z34_Marktlokation")
    bodies = []
    for number in range(10):
        body = copy.deepcopy(z33)
        body["zusatzdaten"]["prozessId"] = f"group-{number}"
        bodies.append(body)
    reused = copy.deepcopy(z34)
    reused["zusatzdaten"]["prozessId"] = "group-3"  # another payload under a prozessId of the group
    bodies += [reused, copy.deepcopy(bodies[5])]

    async def send_all() -> list[httpx.Response]:
        with TestClient(app):  # the app's lifespan (store, workers) around the concurrent requests
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                form = token_form(settings)
                token = (await client.post("/maco/oauth/token", data=form)).json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
                answers = await asyncio.gather(*(client.post("/maco/inbound", json=b, headers=auth) for b in bodies))
                processes = await client.get("/_admin/sandboxes/default/maco/processes", headers=ADMIN)
                return [*answers, processes]

    *answers, processes = asyncio.run(send_all())
    statuses = [a.status_code for a in answers]
    assert statuses[:10] == [201] * 10
    assert statuses[11] == 201
    assert answers[11].json() == answers[5].json()  # the same trigger again: its first answer
    assert statuses[10] == 409
    assert "group-3" in answers[10].text, answers[10].text
    assert max(sizes) > 1, sizes  # they did share transactions
    stored = processes.json()
    assert sorted(p["prozessId"] for p in stored) == sorted(f"group-{n}" for n in range(10))


def test_where_a_fault_may_meet_the_trigger_the_normal_path_answers() -> None:
    """The fast path stands in front of the fault layer: with a fault rule in the sandbox, or one asked for in a
    Prefer header, it steps aside and the fault is injected as before; an oversized body meets the size limit."""
    settings = make_settings(id_seed="faults", clock_start="2026-01-01T08:00:00Z", max_body_bytes=20_000)
    z33 = request_example("maco", "inbound", "Z33_Marktlokation_Addition")
    with TestClient(create_app(settings)) as client:
        form = token_form(settings)
        token = client.post("/maco/oauth/token", data=form).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        asked = client.post("/maco/inbound", json=z33, headers={**auth, "Prefer": "pruefstand-status=503"})
        assert asked.status_code == 503
        rule = {"rules": [{"method": "POST", "path": "/maco/inbound", "status": 502}]}
        assert client.put("/_admin/sandboxes/default/faults", json=rule, headers=ADMIN).status_code == 200
        ruled = client.post("/maco/inbound", json=z33, headers=auth)
        assert ruled.status_code == 502
        assert client.put("/_admin/sandboxes/default/faults", json={"rules": []}, headers=ADMIN).status_code == 200
        big = copy.deepcopy(z33)
        big["zusatzdaten"]["prozessId"] = "x" * 30_000
        assert client.post("/maco/inbound", json=big, headers=auth).status_code == 413
        journal = client.get("/_admin/sandboxes/default/requests", headers=ADMIN, params={"limit": 10}).json()
        faults = [e.get("fault") for e in journal if e["path"] == "/maco/inbound"]
        assert sum(1 for f in faults if f) == 2, faults  # both injected faults are in the journal
