"""Who is on which page, and which row or card each is editing.

Each open page sends a heartbeat every few seconds (``static/js/live.js``);
an entry lives ``TTL`` seconds past its last beat, and a page that closes says
goodbye, so a person is gone within seconds of leaving. Redis (a hash per
page) when ``LIVE_REDIS_URL`` is set, so every web process sees everyone;
else a dictionary in this process (the embedded mode has one)."""

import json
import re
import threading
import time
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError

from . import publish

TTL = 15.0
_PAGE = re.compile(r"^[A-Za-z0-9:_./-]{1,120}$")
_CLIENT = re.compile(r"^[A-Za-z0-9-]{8,40}$")
_EDITING = re.compile(r"^[A-Za-z0-9:_.-]{0,80}$")


@dataclass(frozen=True)
class Beat:
    page: str
    client: str
    editing: str = ""
    leave: bool = False

    @classmethod
    def from_post(cls, data) -> "Beat":
        errors = {}
        unknown = set(data) - {"page", "client", "editing", "leave", "csrfmiddlewaretoken"}
        for name in sorted(unknown):
            errors[name] = ["Unknown field."]
        page, client = data.get("page", ""), data.get("client", "")
        editing, leave = data.get("editing", ""), data.get("leave", "")
        if not _PAGE.match(page):
            errors["page"] = ["A page name: letters, digits and : _ . / - (at most 120)."]
        if not _CLIENT.match(client):
            errors["client"] = ["A client id: 8 to 40 letters, digits or dashes."]
        if not _EDITING.match(editing):
            errors["editing"] = ["What is being edited: letters, digits and : _ . - (at most 80)."]
        if leave not in ("", "0", "1"):
            errors["leave"] = ["0 or 1."]
        if errors:
            raise ValidationError(errors)
        return cls(page=page, client=client, editing=editing, leave=leave == "1")


@dataclass(frozen=True)
class Person:
    user: int
    name: str
    initials: str
    client: str = ""
    editing: str = ""

    @classmethod
    def of(cls, user) -> "Person":
        name = user.get_full_name().strip() or user.get_username()
        words = [w for w in re.split(r"[\s._@-]+", name) if w]
        initials = "".join(w[0] for w in words[:2]).upper() or "?"
        return cls(user=user.pk, name=name, initials=initials)

    def as_json(self) -> dict:
        return asdict(self)


class LocalStore:
    def __init__(self):
        self._lock = threading.Lock()
        self._pages: dict[tuple[int, str], dict[str, tuple[float, Person]]] = {}

    def beat(self, workspace_id: int, beat: Beat, person: Person) -> None:
        entry = Person(**{**asdict(person), "client": beat.client, "editing": beat.editing})
        with self._lock:
            self._pages.setdefault((workspace_id, beat.page), {})[beat.client] = (
                time.monotonic() + TTL,
                entry,
            )

    def leave(self, workspace_id: int, beat: Beat) -> None:
        with self._lock:
            self._pages.get((workspace_id, beat.page), {}).pop(beat.client, None)

    def on_page(self, workspace_id: int, page: str) -> list[Person]:
        now = time.monotonic()
        with self._lock:
            entries = self._pages.get((workspace_id, page), {})
            for client in [c for c, (until, _) in entries.items() if until < now]:
                del entries[client]
            return sorted((p for _, p in entries.values()), key=lambda p: (p.name, p.client))


class RedisStore:
    def key(self, workspace_id: int, page: str) -> str:
        return f"pmhub:live:presence:{workspace_id}:{page}"

    def beat(self, workspace_id: int, beat: Beat, person: Person) -> None:
        entry = {**asdict(person), "client": beat.client, "editing": beat.editing}
        entry["until"] = time.time() + TTL
        key = self.key(workspace_id, beat.page)
        pipe = publish._redis().pipeline(transaction=False)
        pipe.hset(key, beat.client, json.dumps(entry))
        pipe.expire(key, int(TTL * 4))
        pipe.execute()

    def leave(self, workspace_id: int, beat: Beat) -> None:
        publish._redis().hdel(self.key(workspace_id, beat.page), beat.client)

    def on_page(self, workspace_id: int, page: str) -> list[Person]:
        key = self.key(workspace_id, page)
        now, people, gone = time.time(), [], []
        for client, raw in publish._redis().hgetall(key).items():
            entry = json.loads(raw)
            if entry.pop("until", 0) < now:
                gone.append(client)
            else:
                people.append(Person(**entry))
        if gone:
            publish._redis().hdel(key, *gone)
        return sorted(people, key=lambda p: (p.name, p.client))


_local = LocalStore()
_redis_store = RedisStore()


def store():
    return _redis_store if publish.redis_url() else _local
