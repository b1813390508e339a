"""Writing a workspace archive: one JSON Lines file per part in a zip, and a
manifest with the counts and checksums. Rows are read with server-side
cursors and written as they come, so memory holds only the id maps."""

import hashlib
import json
import zipfile
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils import timezone

from . import format
from .parts import USER_MODEL, registered

CHUNK = 2000
USER_COLUMNS = ("username", "email", "first_name", "last_name")


class ExportIds:
    """Archive ids: 1, 2, 3… per part in export order, so two exports of the
    same content are the same bytes whatever the database ids."""

    def __init__(self):
        self.ids: dict[str, dict[int, int]] = defaultdict(dict)
        self.users: dict[int, int] = {}

    def assign(self, label: str, pk: int) -> int:
        table = self.ids[label]
        table[pk] = len(table) + 1
        return table[pk]

    def archive_id(self, label: str, pk):
        """The archive id of a row, or None for no row or a row not in the archive."""
        if pk is None or not label:
            return None
        if label == USER_MODEL:
            if pk not in self.users:
                self.users[pk] = len(self.users) + 1
            return self.users[pk]
        return self.ids.get(label, {}).get(pk)


def count_rows(workspace) -> int:
    return sum(part.queryset(workspace).count() for part in registered())


def write_archive(workspace, fileobj, *, progress: Callable[[int], None] | None = None) -> dict:
    """Write ``workspace`` to ``fileobj`` (binary, writable) and return the manifest."""
    ids = ExportIds()
    entries = []
    done = 0
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for part in registered():
            label = part.model._meta.label_lower
            columns = part.columns()
            refs = part.references()
            attnames = [c.attname for c in columns]
            names = [c.name for c in columns]
            digest, count = hashlib.sha256(), 0
            with zf.open(f"{part.name}.jsonl", "w", force_zip64=True) as out:
                rows = part.queryset(workspace).values_list("pk", *attnames)
                for pk, *values in rows.iterator(chunk_size=CHUNK):
                    row = {"id": ids.assign(label, pk)}
                    for attname, name, value in zip(attnames, names, values, strict=True):
                        if attname in refs:
                            value = ids.archive_id(refs[attname], value)
                        row[name] = value
                    if part.dump:
                        row = part.dump(row, ids)
                    line = format.dumps(row)
                    digest.update(line)
                    out.write(line)
                    count += 1
                    if progress and count % CHUNK == 0:
                        progress(done + count)
            done += count
            entries.append(_entry(part.name, label, count, digest))
        entries.insert(0, _write_users(zf, ids))
        manifest = {
            "format": format.FORMAT,
            "schema_version": format.SCHEMA_VERSION,
            "pmhub_version": format.pmhub_version(),
            "exported_at": timezone.now().isoformat(),
            "workspace": {"name": workspace.name},
            "parts": entries,
        }
        zf.writestr(format.MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    if progress:
        progress(done)
    return manifest


def _entry(name, label, count, digest) -> dict:
    return {
        "name": name,
        "file": f"{name}.jsonl",
        "model": label,
        "rows": count,
        "sha256": digest.hexdigest(),
    }


def _write_users(zf, ids: ExportIds) -> dict:
    """Everyone a row refers to, by username and email (not their ids)."""
    users = get_user_model().objects.in_bulk(list(ids.users))
    digest = hashlib.sha256()
    with zf.open(f"{format.USERS}.jsonl", "w") as out:
        for pk, archive_id in sorted(ids.users.items(), key=lambda kv: kv[1]):
            user = users[pk]
            line = format.dumps({"id": archive_id, **{c: getattr(user, c) for c in USER_COLUMNS}})
            digest.update(line)
            out.write(line)
    return _entry(format.USERS, USER_MODEL, len(ids.users), digest)
