"""Reading a workspace archive into a new, empty workspace.

The caller holds one transaction around ``load_archive``: any error (a bad
checksum, a row that refers to nothing, a value a column refuses) rolls the
whole import back. Rows are read a line at a time and inserted in batches,
so memory holds the id maps, not the archive."""

import hashlib
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError

from . import format
from .parts import RETIRED, USER_MODEL, WORKSPACE_MODEL, registered

BATCH = 1000


def open_archive(fileobj) -> tuple[zipfile.ZipFile, dict]:
    """Open the zip and check its manifest: the format, its version, and that
    it lists exactly the parts this server knows, with their files."""
    try:
        zf = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise format.ArchiveError(
            "This file is not a PMHub archive (it is not a zip file)."
        ) from None
    try:
        manifest = json.loads(zf.read(format.MANIFEST))
    except KeyError:
        raise format.ArchiveError(
            "This zip has no manifest.json: it is not a PMHub archive."
        ) from None
    except (ValueError, zipfile.BadZipFile):
        raise format.ArchiveError(
            "The archive's manifest.json is damaged (not valid JSON)."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != format.FORMAT:
        raise format.ArchiveError(f"The manifest does not name the format {format.FORMAT!r}.")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise format.ArchiveError("The manifest has no schema version.")
    if version > format.SCHEMA_VERSION:
        raise format.ArchiveError(
            f"This archive was written by a newer PMHub ({manifest.get('pmhub_version', '?')}, "
            f"archive format version {version}); this server reads versions up to "
            f"{format.SCHEMA_VERSION}. Upgrade PMHub here first, then import it."
        )
    entries = manifest.get("parts")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise format.ArchiveError("The manifest's list of parts is damaged.")
    known = [format.USERS] + [p.name for p in registered()]
    names = [e.get("name") for e in entries]
    unknown = [n for n in names if n not in known and version >= RETIRED.get(n, 0)]
    if unknown:
        raise format.ArchiveError(
            f"The archive has parts this server does not know: {', '.join(map(str, unknown))}."
        )
    missing = [n for n in known if n not in names]
    if missing and version == format.SCHEMA_VERSION:  # an older version lacks newer parts
        raise format.ArchiveError(f"The archive lacks parts: {', '.join(missing)}.")
    files = set(zf.namelist())
    for e in entries:
        if e.get("file") not in files or not isinstance(e.get("rows"), int):
            raise format.ArchiveError(f"The archive's part {e['name']} is missing or damaged.")
    return zf, manifest


def verify(zf: zipfile.ZipFile, manifest: dict) -> int:
    """Check every file against its checksum and row count; return the row total."""
    total = 0
    for e in manifest["parts"]:
        digest, count = hashlib.sha256(), 0
        try:
            with zf.open(e["file"]) as f:
                for line in f:
                    digest.update(line)
                    count += 1
        except (zipfile.BadZipFile, OSError, EOFError):
            raise format.ArchiveError(f"The archive's file {e['file']} is damaged.") from None
        if digest.hexdigest() != e.get("sha256") or count != e["rows"]:
            raise format.ArchiveError(
                f"The archive's file {e['file']} does not match its checksum in the manifest: "
                "it was changed or damaged after the export."
            )
        total += count
    return total


class ImportIds:
    """Archive id → new id, per model."""

    def __init__(self):
        self.ids: dict[str, dict[int, int]] = defaultdict(dict)

    def new_id(self, label: str, archive_id, *, missing_ok=False):
        if archive_id is None or not label:
            return None
        found = self.ids.get(label, {}).get(archive_id)
        if found is None and not missing_ok:
            raise format.ArchiveError(f"a reference to {label} {archive_id}, which is not in it")
        return found


def _rows(zf, entry):
    with zf.open(entry["file"]) as raw:
        for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), start=1):
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("id"), int):
                raise format.ArchiveError(f"row {number} has no id")
            yield number, row


def load_archive(zf, manifest, *, workspace, progress: Callable[[int], None] | None = None):
    """Insert every part's rows into ``workspace`` (new and empty); returns
    the ids of the events it inserted (first, last)."""
    entries = {e["name"]: e for e in manifest["parts"]}
    ids = ImportIds()
    ids.ids[USER_MODEL] = map_users(_rows(zf, entries[format.USERS]))
    done = 0
    events = (None, None)
    for part in registered():
        where = f"In the part {part.name}"
        if part.name not in entries:
            continue  # an archive of an older version, from before this part
        try:
            first, last, count = _load_part(zf, entries[part.name], part, workspace, ids)
        except format.ArchiveError as e:
            raise format.ArchiveError(f"{where}: {e}.") from None
        except ValidationError as e:
            raise format.ArchiveError(f"{where}: {'; '.join(e.messages)}") from None
        except (IntegrityError, DatabaseError, ValueError, TypeError, KeyError) as e:
            raise format.ArchiveError(f"{where}: a row was refused ({e}).") from None
        if part.model_label == "activity.event":
            events = (first, last)
        if part.finish:
            part.finish(workspace)
        done += count
        if progress:
            progress(done)
    return events


def _load_part(zf, entry, part, workspace, ids: ImportIds):
    model = part.model
    label = model._meta.label_lower
    columns = part.columns()
    refs = part.references()
    ws_fields = [
        f.attname
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model._meta.label_lower == WORKSPACE_MODEL
    ]
    table = ids.ids[label]
    batch, archive_ids, deferred = [], [], []
    first = last = None
    count = 0

    def flush():
        nonlocal first, last
        created = model._default_manager.bulk_create(batch)
        for obj, archive_id in zip(created, archive_ids, strict=True):
            table[archive_id] = obj.pk
        if created:
            first = created[0].pk if first is None else first
            last = created[-1].pk
        batch.clear()
        archive_ids.clear()

    for number, row in _rows(zf, entry):
        if part.load:
            row = part.load(row, ids)
            if row is None:
                continue
        values = dict.fromkeys(ws_fields, workspace.pk)
        for f in columns:
            value = row.get(f.name)
            if f.attname in refs:
                target = refs[f.attname]
                if target == label and value is not None and value not in table:
                    deferred.append((row["id"], f.attname, value))  # a row later in this part
                    value = None
                else:
                    try:
                        value = ids.new_id(target, value, missing_ok=part.load is not None)
                    except format.ArchiveError as e:
                        raise format.ArchiveError(f"row {number}: {e}") from None
            elif value is not None or not f.null:
                try:
                    value = f.to_python(value) if value is not None else f.get_default()
                except ValidationError as e:
                    raise format.ArchiveError(
                        f"row {number}, {f.name}: {'; '.join(e.messages)}"
                    ) from None
            values[f.attname] = value
        for name, make in part.fresh.items():
            values[model._meta.get_field(name).attname] = make()
        batch.append(model(**values))
        archive_ids.append(row["id"])
        count += 1
        if len(batch) >= BATCH:
            flush()
    flush()
    for archive_id, attname, target_archive_id in deferred:
        new_target = table.get(target_archive_id)
        if new_target is None:
            raise format.ArchiveError(f"a reference to {label} {target_archive_id}, not in it")
        model._default_manager.filter(pk=table[archive_id]).update(**{attname: new_target})
    return first, last, count


def map_users(rows) -> dict[int, int]:
    """Each archived person → a user of this server: the one with the same
    email address (or, with no address, the same username and no address);
    else a new inactive placeholder account with no password, which keeps
    their name on what they did and that an admin can activate."""
    User = get_user_model()
    mapping = {}
    for _number, row in rows:
        email = (row.get("email") or "").strip()
        username = str(row.get("username") or "user")[:150]
        if email:
            user = User.objects.filter(email__iexact=email).order_by("pk").first()
        else:
            user = User.objects.filter(username=username, email="").first()
        if user is None:
            user = User(
                username=_free_username(User, username),
                email=email,
                first_name=str(row.get("first_name") or "")[:150],
                last_name=str(row.get("last_name") or "")[:150],
                is_active=False,
            )
            user.set_unusable_password()
            user.save()
        mapping[row["id"]] = user.pk
    return mapping


def _free_username(User, wanted: str) -> str:
    name, n = wanted, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{wanted[:140]}-{n}"
    return name


def imported_event_ids(events) -> set[int]:
    """The ids among ``events`` that an import copied in (for the consumers' skip)."""
    from .models import ImportedEvents

    if not events:
        return set()
    low, high = min(e.id for e in events), max(e.id for e in events)
    ranges = list(
        ImportedEvents.objects.filter(first_id__lte=high, last_id__gte=low).values_list(
            "workspace_id", "first_id", "last_id"
        )
    )
    return {
        e.id for e in events if any(w == e.workspace_id and a <= e.id <= b for w, a, b in ranges)
    }
